//! Suggesting topics for one document from topic names, built-in keywords and the
//! person's own model.
//!
//! # How a score is made
//!
//! **Name and keyword cues.** A candidate's name is turned into terms exactly as
//! documents are ([`crate::terms()`]: "Taxes" becomes `tax`). The name occurs when every
//! one of its terms occurs in the document, `m` times (the rarest name term's count).
//! If the name refers to a well-known topic ([`crate::lexicon`]: "Taxes", "Steuern",
//! "Car insurance"), that topic's built-in keywords count too: `h` sums `1 + ln c`
//! over the keywords occurring `c` times. The cue strength is
//! `1 - (1 - q)^m · (1 - k)^h` with `q =` [`Settings::name_score`] and
//! `k =` [`Settings::keyword_score`]: one occurrence of the name gives `q`, each
//! keyword closes a smaller part of the remaining gap to 1.
//!
//! **Model evidence.** Naive Bayes over the candidates the person has labelled
//! documents for, in its *complement* form (Rennie et al., "Tackling the poor
//! assumptions of naive Bayes text classifiers", 2003): each topic's term
//! distribution is estimated from the person's documents of all *other* topics,
//! which hold many times more text than the topic itself, and a topic scores high
//! when the document's terms are unlikely under that complement:
//!
//! ```text
//! score_t = ln documents_t − τ · Σ_w a_w · ln((n_{¬t,w} + α) / (total_terms_{¬t} + α · V))
//! n_{¬t,w} = Σ_{t' ≠ t} n_{t',w}        total_terms_{¬t} = Σ_{t' ≠ t} total_terms_{t'}
//! ```
//!
//! with Lidstone smoothing `α` ([`Settings::smoothing`]) over the person's vocabulary
//! `V` and topic priors from document counts. With few documents per topic this
//! ranks better than the plain multinomial estimate (on the corpus in `corpus/`,
//! trained on half: 0.76 against 0.72 top-1 accuracy without keywords, averaged over
//! random halves).
//!
//! *Which terms.* The document's words that occur in at least one of the person's
//! labelled documents (the others say nothing about this person's topics), and,
//! with [`Settings::prefix_backoff`], for each word the model does not know its
//! prefix feature ([`crate::terms()`]) if the model knows that, counted as often as
//! the unknown words it stands for: "prescribed" finds the person's "prescription"
//! documents, "replacernent" their "replacement" ones. A known word never counts
//! through its prefix as well.
//!
//! *Weights.* `a_w = s · g(c_w) · κ_w^γ`. Each count enters sub-linearly,
//! `g(c) = 1 + ln c`. `κ_w` is how much the term concentrates on few of the person's
//! topics, `1 − H(p_w) / ln T` with `p_w` its Lidstone-smoothed distribution over all
//! `T` topics of the person (0 when every topic uses it alike, near 1 when one
//! does), and `γ =` [`Settings::concentration`]: a supervised counterpart of IDF
//! that discounts the words every kind of paperwork has without favouring rare
//! ones. `s` rescales the weights so that `Σ a = Σ g`: evidence moves from common to
//! telling terms, but a document carries as much of it as before. The sum is
//! tempered by `τ = min(1, E / Σ a)`, `E =` [`Settings::evidence_words`], so that a
//! long document is not taken as hundreds of independent pieces of evidence.
//!
//! A softmax over the modelled candidates turns the scores into a posterior; at
//! least two modelled candidates are needed for the model to have a say. (Rennie
//! et al.'s other transforms, IDF, document length and weight normalisation, did
//! not help on the corpus; weight normalisation would also need every term's
//! counts, not only the document's.)
//!
//! **Combination.** A cue multiplies the candidate's posterior odds by
//! `1 + (b − 1) · strength / q` with `b =` [`Settings::name_boost`] (renormalised):
//! a topic name or its keywords in the text are strong but not conclusive evidence,
//! as "tax" is on payslips and "bank" on every invoice. How much the model is trusted
//! grows with the person's labelled documents `N`: `w = N / (N + k)`,
//! `k =` [`Settings::confidence_documents`], and
//!
//! - a modelled candidate scores `w · posterior + (1 − w) · cue strength`;
//! - a candidate without model data can only be suggested by its cues and scores
//!   `(1 − w / 2) · cue strength` (the person has filed documents, none under it);
//! - without a model (a new person, or no document term or prefix known to it) the
//!   cue strength is the score.
//!
//! **Selection.** Candidates are ranked by score. The best is suggested if it reaches
//! [`Settings::min_score`]; others join it (multi-label) if they reach
//! [`Settings::also_min_score`] and at least [`Settings::also_ratio`] times the best
//! score; at most [`Settings::max_topics`] in all. A document that matches no name or
//! keyword and contains no term (or prefix of an unknown word) the person's model
//! knows gets no suggestion.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lexicon::keyword_hits;
use crate::model::{ModelView, TopicStats};
use crate::terms::{name_terms, write_prefix, Terms};

/// A topic that may be suggested: a system topic or one of the person's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: Uuid,
    pub name: String,
}

/// Which evidence a suggestion rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The topic's name or its built-in keywords occur in the document; the
    /// person's model has no say (a new person, or a topic they never used).
    Name,
    /// The person's model, learnt from their own filing; neither the name nor a
    /// keyword occurs.
    Model,
    /// Both: the model, and the name or keywords occurring in the document.
    Both,
}

/// One suggested topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub topic: Uuid,
    /// Confidence in `0..=1`; comparable between suggestions of one call.
    pub score: f64,
    pub reason: Reason,
}

/// Knobs of [`classify`]; the defaults are what the offline provider uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// At most this many suggestions.
    pub max_topics: usize,
    /// The best candidate is suggested only from this score on.
    pub min_score: f64,
    /// Further candidates need at least this score...
    pub also_min_score: f64,
    /// ... and at least this fraction of the best score.
    pub also_ratio: f64,
    /// Lidstone smoothing `α` added to every term count (1 would be Laplace).
    pub smoothing: f64,
    /// Evidence, in (sub-linearly counted) words, beyond which a longer document
    /// does not make the model more certain.
    pub evidence_words: f64,
    /// Strength of a name occurring once; each further occurrence closes the same
    /// fraction of the remaining gap to 1.
    pub name_score: f64,
    /// Strength of one occurrence of one of the topic's built-in keywords
    /// ([`crate::lexicon`]); 0 turns keywords off, leaving plain name matching.
    pub keyword_score: f64,
    /// Factor on the model's odds for a candidate whose cues have the strength of
    /// its name occurring once; stronger cues weigh more.
    pub name_boost: f64,
    /// Labelled documents at which the model and the cues alone weigh equally.
    pub confidence_documents: f64,
    /// Exponent `γ` on each term's topic concentration (how unevenly the person's
    /// topics use it, `0..=1`) in the term's weight; 0 weighs every term by its count
    /// alone. The default, a square root, shifts weight gently: at 1 a few
    /// concentrated terms decide nearly alone, which measured worse.
    pub concentration: f64,
    /// Whether a word the person's model does not know is represented by its prefix
    /// feature ([`crate::PREFIX_CHARS`] characters), when the model knows that.
    pub prefix_backoff: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_topics: 3,
            min_score: 0.3,
            also_min_score: 0.35,
            also_ratio: 0.5,
            smoothing: 0.5,
            evidence_words: 40.0,
            name_score: 0.5,
            keyword_score: 0.2,
            name_boost: 5.0,
            confidence_documents: 5.0,
            concentration: 0.5,
            prefix_backoff: true,
        }
    }
}

/// Suggests topics for one of a person's documents, best first.
///
/// `view` is **that person's** model restricted to the document's terms
/// ([`crate::Model::view_for`], or the projection described in [`crate::model`]);
/// `candidates` are the topics the person may use (system topics and their own);
/// `document` is [`crate::terms()`] of the document's text. Returns at most
/// `settings.max_topics` suggestions, only candidates, each at most once; empty when
/// nothing is convincing, in particular when no candidate's name occurs and no term
/// of the document (nor the prefix of an unknown word) is known to the person's
/// model. Pure and deterministic.
pub fn classify(
    view: &ModelView,
    candidates: &[Candidate],
    document: &Terms,
    settings: &Settings,
) -> Vec<Suggestion> {
    let mut seen = HashSet::new();
    let candidates: Vec<&Candidate> = candidates.iter().filter(|c| seen.insert(c.id)).collect();
    if candidates.is_empty() || document.is_empty() || settings.max_topics == 0 {
        return Vec::new();
    }

    let q = settings.name_score.clamp(0.0, 1.0);
    let k = settings.keyword_score.clamp(0.0, 1.0);
    let cues: Vec<f64> = candidates
        .iter()
        .map(|c| cue_strength(&c.name, document, q, k))
        .collect();
    let mut scored: Vec<Suggestion> = match posterior(view, &candidates, document, settings) {
        None => candidates
            .iter()
            .zip(&cues)
            .map(|(c, &cue)| suggestion(c.id, cue, Reason::Name))
            .collect(),
        Some(posterior) => {
            let documents = f64::from(view.documents);
            let trust = documents / (documents + settings.confidence_documents.max(0.0));
            let boost = settings.name_boost.max(1.0);
            let boosted: Vec<f64> = posterior
                .iter()
                .zip(&cues)
                .map(|(p, &cue)| match p {
                    Some(p) if cue > 0.0 && q > 0.0 => p * (1.0 + (boost - 1.0) * cue / q),
                    Some(p) => *p,
                    None => 0.0,
                })
                .collect();
            let total: f64 = boosted.iter().sum();
            candidates
                .iter()
                .zip(posterior.iter().zip(boosted.iter().zip(&cues)))
                .map(|(c, (p, (&b, &cue)))| match p {
                    Some(_) => {
                        let model = if total > 0.0 { b / total } else { 0.0 };
                        let reason = if cue > 0.0 {
                            Reason::Both
                        } else {
                            Reason::Model
                        };
                        suggestion(c.id, trust * model + (1.0 - trust) * cue, reason)
                    }
                    None => suggestion(c.id, (1.0 - trust / 2.0) * cue, Reason::Name),
                })
                .collect()
        }
    };

    scored.retain(|s| s.score > 0.0);
    // Stable: equal scores keep the candidates' order.
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    let Some(best) = scored.first().map(|s| s.score) else {
        return Vec::new();
    };
    if best < settings.min_score {
        return Vec::new();
    }
    scored
        .into_iter()
        .enumerate()
        .filter(|(rank, s)| {
            *rank == 0
                || (s.score >= settings.also_min_score && s.score >= best * settings.also_ratio)
        })
        .map(|(_, s)| s)
        .take(settings.max_topics)
        .collect()
}

fn suggestion(topic: Uuid, score: f64, reason: Reason) -> Suggestion {
    let score = if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Suggestion {
        topic,
        score,
        reason,
    }
}

/// How strongly a candidate's name and keywords occur in the document:
/// `1 - (1 - q)^m · (1 - k)^h` (see the module documentation); 0 when neither does.
fn cue_strength(name: &str, document: &Terms, q: f64, k: f64) -> f64 {
    let terms = name_terms(name);
    let occurrences = terms.iter().map(|t| document.get(t)).min().unwrap_or(0);
    let m = i32::try_from(occurrences).unwrap_or(i32::MAX);
    let h = if k > 0.0 {
        keyword_hits(&terms, document)
    } else {
        0.0
    };
    1.0 - (1.0 - q).powi(m) * (1.0 - k).powf(h)
}

/// The complement naive Bayes posterior per candidate (`None` for candidates without
/// model data), or `None` when the model has nothing to say: no labelled documents,
/// fewer than two modelled candidates, or no evidence term (see
/// [`CountTable::evidence`]).
fn posterior(
    view: &ModelView,
    candidates: &[&Candidate],
    document: &Terms,
    settings: &Settings,
) -> Option<Vec<Option<f64>>> {
    if view.documents == 0 {
        return None;
    }
    let known = |s: &&TopicStats| s.documents > 0;
    let modelled: Vec<Option<&TopicStats>> = candidates
        .iter()
        .map(|c| view.topics.get(&c.id).filter(known))
        .collect();
    let stats: Vec<&TopicStats> = modelled.iter().flatten().copied().collect();
    if stats.len() < 2 {
        return None;
    }
    // Every topic of the person: the modelled candidates first, then the topics that
    // are not candidates but part of every complement and of every term's spread.
    let ids: HashSet<Uuid> = candidates.iter().map(|c| c.id).collect();
    let mut others: Vec<(&Uuid, &TopicStats)> = view
        .topics
        .iter()
        .filter(|(id, s)| s.documents > 0 && !ids.contains(*id))
        .collect();
    // Sorted, so that sums over topics do not depend on hash order.
    others.sort_unstable_by_key(|(id, _)| **id);
    let topics: Vec<&TopicStats> = stats
        .iter()
        .copied()
        .chain(others.iter().map(|(_, s)| *s))
        .collect();

    let alpha = settings.smoothing.max(1e-9);
    let table = CountTable::gather(document, &topics);
    let evidence = table.evidence(document, settings.prefix_backoff);
    if evidence.is_empty() {
        return None;
    }
    let weights = weigh(&evidence, &table, alpha, settings.concentration);
    let scores = complement_scores(view, &stats, &topics, &table, &evidence, &weights, settings);
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    let mut posterior = exps.into_iter().map(|e| e / sum);
    Some(
        modelled
            .iter()
            .map(|m| m.and_then(|_| posterior.next()))
            .collect(),
    )
}

/// The person's counts of each of the document's terms (words and prefix features),
/// per topic: one row per term, one column per topic.
struct CountTable<'a> {
    /// The row of each of the document's terms.
    rows: HashMap<&'a str, usize>,
    /// Number of topics (columns).
    width: usize,
    /// Row-major counts, `rows.len() · width` of them.
    counts: Vec<u32>,
}

/// One term the model weighs: its row in the [`CountTable`] and how often it stands
/// in the document (for a prefix feature: the occurrences of the unknown words it
/// stands for).
#[derive(Debug, Clone, Copy)]
struct Evidence {
    row: usize,
    count: u32,
}

impl<'a> CountTable<'a> {
    /// Walks each topic's rows, which in a view built for this document hold only its
    /// terms.
    fn gather(document: &'a Terms, topics: &[&TopicStats]) -> Self {
        let rows: HashMap<&str, usize> = document
            .keys()
            .enumerate()
            .map(|(i, term)| (term, i))
            .collect();
        let width = topics.len();
        let mut counts = vec![0; rows.len() * width];
        for (j, topic) in topics.iter().enumerate() {
            for (term, n) in &topic.term_counts {
                if let Some(&i) = rows.get(term.as_str()) {
                    counts[i * width + j] = *n;
                }
            }
        }
        Self {
            rows,
            width,
            counts,
        }
    }

    /// The counts of row `row`, one per topic.
    fn row(&self, row: usize) -> &[u32] {
        &self.counts[row * self.width..(row + 1) * self.width]
    }

    /// Whether any of the person's documents contains the term of row `row`.
    fn known(&self, row: usize) -> bool {
        self.row(row).iter().any(|&n| n > 0)
    }

    /// The terms that carry evidence, in a fixed order: the document's known words,
    /// then (with `backoff`) the known prefix features of its unknown words, each
    /// counted as often as those words occur. A word the model knows never counts
    /// through its prefix too; terms unknown to the model say nothing about this
    /// person's topics and are left out.
    fn evidence(&self, document: &Terms, backoff: bool) -> Vec<Evidence> {
        let mut evidence = Vec::new();
        let mut standing_in: BTreeMap<usize, u32> = BTreeMap::new();
        let mut prefix = String::new();
        for (word, count) in document.words() {
            let Some(&row) = self.rows.get(word) else {
                continue;
            };
            if self.known(row) {
                evidence.push(Evidence { row, count });
            } else if backoff && write_prefix(word, &mut prefix) {
                let prefix_row = self.rows.get(prefix.as_str()).copied();
                if let Some(prefix_row) = prefix_row.filter(|&r| self.known(r)) {
                    let entry = standing_in.entry(prefix_row).or_insert(0);
                    *entry = entry.saturating_add(count);
                }
            }
        }
        evidence.extend(
            standing_in
                .into_iter()
                .map(|(row, count)| Evidence { row, count }),
        );
        evidence
    }
}

/// Each evidence term's weight: `g(c) = 1 + ln c` times its topic concentration
/// ([`concentration`]) to the power `gamma`, then all scaled so that they sum to
/// `Σ g` again. The scaling keeps the document's total evidence (and so how sure the
/// model is, see [`Settings::evidence_words`]) as it was, and moves it from terms
/// every topic uses to terms that tell topics apart.
fn weigh(evidence: &[Evidence], table: &CountTable<'_>, alpha: f64, gamma: f64) -> Vec<f64> {
    let plain: Vec<f64> = evidence
        .iter()
        .map(|e| 1.0 + f64::from(e.count).ln())
        .collect();
    if gamma <= 0.0 {
        return plain;
    }
    let weighted: Vec<f64> = evidence
        .iter()
        .zip(&plain)
        .map(|(e, g)| g * power(concentration(table.row(e.row), alpha), gamma))
        .collect();
    let total: f64 = weighted.iter().sum();
    if total <= 0.0 {
        return weighted;
    }
    let scale = plain.iter().sum::<f64>() / total;
    weighted.into_iter().map(|w| w * scale).collect()
}

/// `x^gamma`, with the default square root taken the fast way.
fn power(x: f64, gamma: f64) -> f64 {
    if (gamma - 0.5).abs() < f64::EPSILON {
        x.sqrt()
    } else {
        x.powf(gamma)
    }
}

/// How much a term's counts concentrate on few of the person's topics, in `0..=1`:
/// `1 − H / ln T`, with `H` the entropy of the term's (Lidstone-smoothed, `alpha`)
/// distribution over the `T` topics. 0 for a term spread evenly over all topics
/// ("dear", "payment" for a person who pays everything), towards 1 for a term seen
/// under one topic only; a term seen once stays low, since one occurrence against
/// `α` everywhere else is still nearly even. This is supervised term weighting:
/// like IDF it discounts common words, but it asks whether a word is common *across
/// topics*, which IDF cannot see (IDF also favours rare words, and lowered accuracy
/// on the corpus).
fn concentration(counts: &[u32], alpha: f64) -> f64 {
    if counts.len() < 2 {
        return 1.0;
    }
    // H = ln Z − Σ m ln m / Z over the smoothed counts m = n + α, Z = Σ m; the
    // topics without the term (most of them) share one `α ln α`.
    let mut absent = 0.0;
    let mut total = 0.0;
    let mut m_ln_m = 0.0;
    for &n in counts {
        if n == 0 {
            absent += 1.0;
        } else {
            let m = f64::from(n) + alpha;
            total += m;
            m_ln_m += m * m.ln();
        }
    }
    total += absent * alpha;
    m_ln_m += absent * alpha * alpha.ln();
    let entropy = total.ln() - m_ln_m / total;
    #[allow(clippy::cast_precision_loss)] // a handful of topics
    let most = (counts.len() as f64).ln();
    (1.0 - entropy / most).clamp(0.0, 1.0)
}

/// The complement naive Bayes score of each modelled candidate (`stats`, the first
/// columns of `table`), from the evidence terms and their weights.
fn complement_scores(
    view: &ModelView,
    stats: &[&TopicStats],
    topics: &[&TopicStats],
    table: &CountTable<'_>,
    evidence: &[Evidence],
    weights: &[f64],
    settings: &Settings,
) -> Vec<f64> {
    let alpha = settings.smoothing.max(1e-9);
    let width = stats.len();
    // Per evidence term and modelled candidate: `ln(n_{¬t,w} + α)`, its count outside
    // that topic.
    let mut complement_logs: Vec<f64> = Vec::with_capacity(evidence.len() * width);
    for e in evidence {
        let row = table.row(e.row);
        let everywhere: u64 = row.iter().map(|&n| u64::from(n)).sum();
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
        let everywhere = everywhere as f64;
        // Most topics lack most terms: one logarithm serves them all.
        let absent = (everywhere + alpha).ln();
        complement_logs.extend(row[..width].iter().map(|&n| {
            if n == 0 {
                absent
            } else {
                (everywhere - f64::from(n) + alpha).ln()
            }
        }));
    }

    let mass: f64 = weights.iter().sum();
    let temper = if mass > 0.0 {
        (settings.evidence_words.max(0.0) / mass).min(1.0)
    } else {
        1.0
    };
    // The view's vocabulary may be approximate; it cannot be below what we see.
    #[allow(clippy::cast_precision_loss)]
    let vocabulary = (view.vocabulary as f64).max(evidence.len() as f64);
    #[allow(clippy::cast_precision_loss)]
    let all_terms: f64 = topics.iter().map(|s| s.total_terms as f64).sum();

    stats
        .iter()
        .enumerate()
        .map(|(i, s)| {
            #[allow(clippy::cast_precision_loss)]
            let complement_total = (all_terms - s.total_terms as f64).max(0.0);
            let denominator = (complement_total + alpha * vocabulary).ln();
            // −Σ w · ln((n_{¬t,w} + α) / (total_{¬t} + α·V))
            let numerators: f64 = weights
                .iter()
                .zip(complement_logs.iter().skip(i).step_by(width))
                .map(|(w, log)| w * log)
                .sum();
            let surprise = mass * denominator - numerators;
            f64::from(s.documents).ln() + temper * surprise
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::terms::terms;

    const TAXES: Uuid = Uuid::from_u128(1);
    const HEALTH: Uuid = Uuid::from_u128(2);
    const TRAVEL: Uuid = Uuid::from_u128(3);
    const PETS: Uuid = Uuid::from_u128(4);

    fn candidates() -> Vec<Candidate> {
        [
            (TAXES, "Taxes"),
            (HEALTH, "Health"),
            (TRAVEL, "Travel"),
            (PETS, "Pets"),
        ]
        .into_iter()
        .map(|(id, name)| Candidate {
            id,
            name: name.to_owned(),
        })
        .collect()
    }

    /// Plain name matching: built-in keywords off, so the model's part is visible.
    fn no_keywords() -> Settings {
        Settings {
            keyword_score: 0.0,
            ..Settings::default()
        }
    }

    fn tiny_model() -> Model {
        Model::from_examples([
            (
                terms("self assessment return refund revenue allowance"),
                vec![TAXES],
            ),
            (terms("assessment penalty late return revenue"), vec![TAXES]),
            (terms("revenue refund allowance code payroll"), vec![TAXES]),
            (
                terms("prescription pharmacy doctor appointment"),
                vec![HEALTH],
            ),
            (terms("doctor blood test results clinic"), vec![HEALTH]),
            (terms("clinic appointment referral doctor"), vec![HEALTH]),
            (terms("flight hotel passport booking"), vec![TRAVEL]),
            (terms("boarding gate flight seat"), vec![TRAVEL]),
            (terms("hotel booking check-in passport"), vec![TRAVEL]),
        ])
    }

    fn run_with(model: &Model, text: &str, settings: &Settings) -> Vec<Suggestion> {
        let doc = terms(text);
        classify(&model.view_for(&doc), &candidates(), &doc, settings)
    }

    fn run(model: &Model, text: &str) -> Vec<Suggestion> {
        run_with(model, text, &Settings::default())
    }

    fn topics(suggestions: &[Suggestion]) -> Vec<Uuid> {
        suggestions.iter().map(|s| s.topic).collect()
    }

    #[test]
    fn the_right_topic_wins_on_the_model() {
        let model = tiny_model();
        let s = run_with(
            &model,
            "Your appointment: here are your results",
            &no_keywords(),
        );
        assert_eq!(topics(&s), vec![HEALTH], "{s:?}");
        assert_eq!(s[0].reason, Reason::Model);
        assert!(s[0].score > 0.5, "{s:?}");
        let s = run_with(
            &model,
            "Late return: penalty, the revenue office",
            &no_keywords(),
        );
        assert_eq!(topics(&s), vec![TAXES], "{s:?}");
    }

    #[test]
    fn keywords_and_the_model_agree() {
        let model = tiny_model();
        let with = run(&model, "the doctor at the clinic has your results");
        let without = run_with(
            &model,
            "the doctor at the clinic has your results",
            &no_keywords(),
        );
        assert_eq!(with[0].topic, HEALTH);
        assert_eq!(
            with[0].reason,
            Reason::Both,
            "doctor and clinic are keywords"
        );
        assert_eq!(without[0].reason, Reason::Model);
        assert!(with[0].score > without[0].score);
    }

    #[test]
    fn a_matching_name_strengthens_the_model() {
        let model = tiny_model();
        let plain = run_with(&model, "booking, seat and gate", &no_keywords());
        let named = run_with(&model, "travel booking, seat and gate", &no_keywords());
        assert_eq!(plain[0].topic, TRAVEL);
        assert_eq!(named[0].topic, TRAVEL);
        assert_eq!(named[0].reason, Reason::Both);
        assert!(named[0].score > plain[0].score);
    }

    #[test]
    fn a_new_person_falls_back_to_name_matching() {
        let doc = terms("Invoice for both pets: food for the pets");
        let s = classify(&ModelView::default(), &candidates(), &doc, &no_keywords());
        assert_eq!(topics(&s), vec![PETS]);
        assert_eq!(s[0].reason, Reason::Name);
        assert!((s[0].score - 0.75).abs() < 1e-9, "two occurrences: {s:?}");
    }

    #[test]
    fn a_new_person_gets_keyword_suggestions() {
        let doc = terms("Your prescription is ready at the pharmacy; the GP will call.");
        let s = classify(
            &ModelView::default(),
            &candidates(),
            &doc,
            &Settings::default(),
        );
        assert_eq!(topics(&s), vec![HEALTH], "{s:?}");
        assert_eq!(s[0].reason, Reason::Name);
        let plain = classify(&ModelView::default(), &candidates(), &doc, &no_keywords());
        assert!(plain.is_empty(), "the name itself does not occur");
    }

    #[test]
    fn candidates_without_model_data_are_suggested_by_name_only() {
        let model = tiny_model();
        let s = run(
            &model,
            "pet passport for the dog: pets and their vet, pet microchip",
        );
        assert!(
            s.iter()
                .any(|s| s.topic == PETS && s.reason == Reason::Name),
            "{s:?}"
        );
        let s = run(&model, "boarding gate seat, flight and hotel booking");
        assert!(s.iter().all(|s| s.topic != PETS), "{s:?}");
    }

    #[test]
    fn a_person_with_one_topic_gets_name_matching_only() {
        let model = Model::from_examples([
            (terms("revenue refund allowance"), vec![TAXES]),
            (terms("revenue assessment penalty"), vec![TAXES]),
        ]);
        assert!(run_with(&model, "revenue office", &no_keywords()).is_empty());
        let s = run_with(&model, "revenue office: your taxes", &no_keywords());
        assert_eq!(topics(&s), vec![TAXES]);
    }

    #[test]
    fn nothing_matching_gives_no_suggestion() {
        let model = tiny_model();
        assert!(run(&model, "lorem ipsum dolor sit amet consectetur").is_empty());
        assert!(run(&model, "").is_empty());
        let doc = terms("lorem ipsum dolor");
        let s = Settings::default();
        assert!(classify(&ModelView::default(), &candidates(), &doc, &s).is_empty());
        assert!(classify(&model.view_for(&doc), &[], &doc, &s).is_empty());
    }

    #[test]
    fn a_close_second_topic_is_suggested_too() {
        let mut model = tiny_model();
        for text in [
            "yellow fever certificate abroad",
            "certificate for abroad: yellow fever",
            "fever certificate yellow card",
        ] {
            model.train(&terms(text), &[HEALTH, TRAVEL]);
        }
        // Trust the model fully, so that only the posterior decides.
        let settings = Settings {
            confidence_documents: 0.0,
            ..no_keywords()
        };
        let s = run_with(&model, "yellow fever certificate", &settings);
        let found = topics(&s);
        assert_eq!(found.len(), 2, "{s:?}");
        assert!(found.contains(&HEALTH) && found.contains(&TRAVEL), "{s:?}");
        assert!(s[1].score >= settings.also_min_score);
        assert!(s[1].score >= s[0].score * settings.also_ratio);

        // A clear document gets one topic only.
        let s = run_with(&model, "boarding gate flight seat hotel", &settings);
        assert_eq!(topics(&s), vec![TRAVEL], "{s:?}");
    }

    #[test]
    fn respects_max_topics_and_ranks_best_first() {
        let doc = terms("taxes health travel pets");
        let settings = Settings {
            max_topics: 2,
            ..no_keywords()
        };
        let s = classify(&ModelView::default(), &candidates(), &doc, &settings);
        assert_eq!(s.len(), 2);
        assert!(s[0].score >= s[1].score);
        assert_eq!(s[0].topic, TAXES, "ties keep the candidates' order");
    }

    #[test]
    fn duplicate_candidates_are_suggested_once() {
        let mut c = candidates();
        c.push(c[0].clone());
        let doc = terms("taxes taxes");
        let s = classify(&ModelView::default(), &c, &doc, &Settings::default());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn an_unknown_word_backs_off_to_its_prefix() {
        let model = tiny_model();
        // "prescribed" is not in the model, "prescription" (same prefix) is.
        let text = "prescribed twice";
        let s = run_with(&model, text, &no_keywords());
        assert_eq!(topics(&s), vec![HEALTH], "{s:?}");
        assert_eq!(s[0].reason, Reason::Model);
        let without = Settings {
            prefix_backoff: false,
            ..no_keywords()
        };
        assert!(run_with(&model, text, &without).is_empty());
    }

    #[test]
    fn a_known_word_does_not_count_through_its_prefix_too() {
        let model = tiny_model();
        let doc = terms("prescription prescribed prescribed pharmacist");
        let view = model.view_for(&doc);
        let topics: Vec<&TopicStats> = view.topics.values().collect();
        let table = CountTable::gather(&doc, &topics);
        let evidence = table.evidence(&doc, true);
        let rows: Vec<(&str, u32)> = evidence
            .iter()
            .map(|e| {
                let term = doc.keys().nth(e.row).unwrap_or_default();
                (term, e.count)
            })
            .collect();
        // The known word once; its prefix only for the two unknown words that share
        // it ("prescrib" twice); "pharmacist" has no known prefix ("pharm*" is, but
        // through "pharmacy", so it backs off as well).
        assert_eq!(
            rows,
            vec![("prescript", 1), ("pharm*", 1), ("presc*", 2)],
            "{evidence:?}"
        );
        assert_eq!(
            table.evidence(&doc, false).len(),
            1,
            "without back-off only the known word"
        );
    }

    #[test]
    fn concentration_separates_spread_from_telling_terms() {
        let even = concentration(&[3, 3, 3, 3], 0.5);
        let once = concentration(&[1, 0, 0, 0], 0.5);
        let often = concentration(&[10, 0, 0, 0], 0.5);
        assert!(even.abs() < 1e-12, "{even}");
        assert!(once < 0.2, "one occurrence is weak evidence: {once}");
        assert!(often > 0.6, "{often}");
        assert!(concentration(&[10, 1, 0, 0], 0.5) < often);
        // The closed form equals the entropy computed term by term.
        let counts = [4, 0, 1, 0, 7, 0];
        let smoothed: Vec<f64> = counts.iter().map(|&n| f64::from(n) + 0.5).collect();
        let total: f64 = smoothed.iter().sum();
        let entropy: f64 = smoothed
            .iter()
            .map(|m| -(m / total) * (m / total).ln())
            .sum();
        let expected = 1.0 - entropy / 6f64.ln();
        assert!((concentration(&counts, 0.5) - expected).abs() < 1e-12);
    }

    #[test]
    fn weighting_moves_evidence_but_keeps_its_total() {
        let model = tiny_model();
        let doc = terms("doctor doctor appointment results booking revenue");
        let view = model.view_for(&doc);
        let topics: Vec<&TopicStats> = view.topics.values().collect();
        let table = CountTable::gather(&doc, &topics);
        let evidence = table.evidence(&doc, true);
        let plain = weigh(&evidence, &table, 0.5, 0.0);
        let weighted = weigh(&evidence, &table, 0.5, 0.5);
        let sum = |w: &[f64]| w.iter().sum::<f64>();
        assert!((sum(&plain) - sum(&weighted)).abs() < 1e-9);
        let doctor = evidence
            .iter()
            .position(|e| doc.keys().nth(e.row) == Some("doctor"));
        let twice = doctor.map(|i| plain[i]);
        assert_eq!(twice, Some(1.0 + 2f64.ln()), "{plain:?}");
        assert_ne!(plain, weighted);
    }

    #[test]
    fn a_partial_view_gives_the_same_answer_as_the_full_model() {
        let mut model = tiny_model();
        model.train(&terms("yellow fever certificate hotel"), &[HEALTH, TRAVEL]);
        let settings = Settings {
            min_score: 0.0,
            also_min_score: 0.0,
            also_ratio: 0.0,
            max_topics: 10,
            ..Settings::default()
        };
        for text in [
            "Your appointment at the clinic: the doctor has your results",
            "travel booking for the hotel, flight and passport",
            "revenue refund: your allowance and code",
            "yellow fever certificate for the hotel",
            "pet passport for the dog, pets travel rules",
            "prescribed by the doctors: referrals and appointments",
            "lorem ipsum",
        ] {
            let doc = terms(text);
            let partial = model.view_for(&doc);
            assert!(partial
                .topics
                .values()
                .all(|s| s.term_counts.len() <= doc.len()));
            assert_eq!(
                classify(&partial, &candidates(), &doc, &settings),
                classify(&model.full_view(), &candidates(), &doc, &settings),
                "{text}"
            );
        }
    }

    #[test]
    fn scores_stay_in_range() {
        let model = tiny_model();
        for text in [
            "taxes taxes taxes taxes revenue hmrc assessment",
            "doctor doctor doctor health clinic hospital",
            "",
        ] {
            for s in run(&model, text) {
                assert!((0.0..=1.0).contains(&s.score), "{s:?}");
            }
        }
    }

    #[test]
    fn settings_deserialise_with_defaults() {
        let s: Settings = serde_json::from_str(r#"{"max_topics": 1}"#).unwrap();
        assert_eq!(s.max_topics, 1);
        assert_eq!(s.smoothing, Settings::default().smoothing);
    }

    #[test]
    fn suggestions_serialise_with_snake_case_reasons() {
        let s = Suggestion {
            topic: TAXES,
            score: 0.5,
            reason: Reason::Both,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""reason":"both""#), "{json}");
    }
}
