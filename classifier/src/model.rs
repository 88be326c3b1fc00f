//! The statistics one person's naive Bayes model consists of, the partial view of them
//! that classifying one document needs, and an in-memory reference model.
//!
//! # One model per person
//!
//! A model is learnt from the documents **one person** has filed by hand (topics they
//! chose, or suggestions they corrected or confirmed), and is only ever used to
//! classify that person's documents. Nothing here mixes people: a [`Model`] or a
//! [`ModelView`] *is* one person's data, so training on person A's documents cannot
//! change the suggestions for person B, and one person's filing habits never leak
//! into another's suggestions. Whoever stores the statistics keys every row by the
//! person.
//!
//! # What a projection must store
//!
//! The counts are meant to live in a database projection, so that classifying a
//! document only reads the rows for the terms that document contains. "Term" means
//! every key of a document's [`Terms`]: its words *and* its prefix features
//! (`presc*`, see [`crate::terms()`]); both are stored, counted and looked up alike,
//! and nothing else is needed for the classifier's prefix back-off and term
//! weighting (both work from the per-topic counts below). To build a [`ModelView`]
//! equal to [`Model::view_for`], store:
//!
//! - **per person**
//!   - `documents`: how many of the person's documents are *labelled*, i.e. carry at
//!     least one topic the person set, confirmed or corrected by hand. Suggestions
//!     nobody confirmed are not labels. A labelled document counts once, whatever
//!     its number of topics.
//!   - per term: in how many labelled documents the term occurs (a
//!     `(person, term, documents)` row).
//!   - `vocabulary`: the number of those term rows with `documents > 0`. An
//!     approximate figure (say a counter that only grows) changes suggestions only
//!     marginally.
//! - **per person and topic** (system topics and the person's own alike)
//!   - `documents`: labelled documents that carry the topic;
//!   - `total_terms`: the sum of [`Terms::total`] over those documents;
//!   - per term: the sum of that term's counts over those documents (a
//!     `(person, topic, term, count)` row).
//!
//! **Updating.** When a document of the person becomes labelled with topic set `S`
//! and term counts `T` (from [`crate::terms()`] on its extracted text), add as
//! [`Model::train`] does; when its labels change from `S` to `S'`, subtract with `S`
//! as [`Model::forget`] does and add with `S'`; when it loses all its labels or is
//! deleted, subtract. Subtracting needs the *same* `T` that was added: store the
//! document's [`Terms`] (it serialises as a JSON object from term to count) instead
//! of recomputing it, since a later version of this crate may tokenise differently.
//! Rows whose count reaches zero may be deleted; a topic with `documents = 0` must
//! be left out of views.
//!
//! **Building a view** for a document with terms `T`:
//!
//! - `ModelView::documents` and `ModelView::vocabulary` from the person's row;
//! - one [`TopicStats`] for **every** topic of the person with `documents > 0`, not
//!   only the candidates: the classifier scores a topic against the counts of all the
//!   person's *other* topics (complement naive Bayes), and whether a term is known at
//!   all is decided over all of them; with its `documents` and `total_terms`;
//! - its `term_counts`: the `(topic, term, count)` rows for the terms of `T` whose
//!   count is above zero; terms without a row are simply absent.
//!
//! In SQL terms: one row for the person, their topic rows, and
//! `... where person_id = $1 and term = any($2) and count > 0` with the document's
//! distinct terms, prefix features included (at most
//! [`crate::MAX_TERMS_PER_DOCUMENT`] in all).
//!
//! **Older documents.** [`Terms`] stored by a version of this crate before prefix
//! features (and the OCR digit repair) lack them; their counts stay valid and are
//! subtracted exactly as they were added. Until the projection is rebuilt from the
//! events, prefix back-off simply finds fewer relatives.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::terms::Terms;

/// One topic's statistics in one person's model, restricted to the terms asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicStats {
    /// Labelled documents of the person that carry this topic.
    pub documents: u32,
    /// Sum of [`Terms::total`] over those documents.
    pub total_terms: u64,
    /// For the terms asked for only: the sum of each term's counts over those
    /// documents. Terms that never occur in them are absent (not zero).
    pub term_counts: HashMap<String, u32>,
}

/// The part of one person's model needed to classify one document.
///
/// Built by [`Model::view_for`] or, in production, from the projection described in
/// the [module documentation](self). The default value is a person without any
/// labelled document: classification then falls back to name matching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelView {
    /// The person's labelled documents.
    pub documents: u32,
    /// Distinct terms (words and prefix features) in the person's labelled
    /// documents (an approximation is fine).
    pub vocabulary: u64,
    /// Every topic of the person with at least one labelled document.
    pub topics: HashMap<Uuid, TopicStats>,
}

/// One person's naive Bayes model held in memory: the reference for what the
/// projection computes, and the model used by the tests and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    documents: u32,
    /// Per term: labelled documents it occurs in.
    term_documents: HashMap<String, u32>,
    topics: HashMap<Uuid, TopicTotals>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TopicTotals {
    documents: u32,
    total_terms: u64,
    term_counts: HashMap<String, u32>,
}

impl Model {
    /// A model without any labelled document.
    pub fn new() -> Self {
        Self::default()
    }

    /// A model trained on `(terms, topics)` examples, each one labelled document.
    pub fn from_examples<I>(examples: I) -> Self
    where
        I: IntoIterator<Item = (Terms, Vec<Uuid>)>,
    {
        let mut model = Self::new();
        for (terms, topics) in examples {
            model.train(&terms, &topics);
        }
        model
    }

    /// Adds one labelled document with term counts `terms`, filed under `topics`.
    ///
    /// Repeated topic ids count once. A document without topics is not labelled and
    /// changes nothing.
    pub fn train(&mut self, terms: &Terms, topics: &[Uuid]) {
        let topics = distinct(topics);
        if topics.is_empty() {
            return;
        }
        self.documents = self.documents.saturating_add(1);
        for term in terms.keys() {
            let seen = self.term_documents.entry(term.to_owned()).or_insert(0);
            *seen = seen.saturating_add(1);
        }
        for topic in topics {
            let totals = self.topics.entry(topic).or_default();
            totals.documents = totals.documents.saturating_add(1);
            totals.total_terms = totals.total_terms.saturating_add(terms.total());
            for (term, count) in terms.iter() {
                let sum = totals.term_counts.entry(term.to_owned()).or_insert(0);
                *sum = sum.saturating_add(count);
            }
        }
    }

    /// Removes a document added earlier by [`Model::train`] with the same `terms`
    /// and `topics` (a correction is `forget` with the old topics, then `train` with
    /// the new ones). Counts never go below zero; topics and terms left without
    /// documents disappear.
    pub fn forget(&mut self, terms: &Terms, topics: &[Uuid]) {
        let topics = distinct(topics);
        if topics.is_empty() {
            return;
        }
        self.documents = self.documents.saturating_sub(1);
        for term in terms.keys() {
            decrement(&mut self.term_documents, term, 1);
        }
        for topic in topics {
            let Some(totals) = self.topics.get_mut(&topic) else {
                continue;
            };
            totals.documents = totals.documents.saturating_sub(1);
            totals.total_terms = totals.total_terms.saturating_sub(terms.total());
            for (term, count) in terms.iter() {
                decrement(&mut totals.term_counts, term, count);
            }
            if totals.documents == 0 {
                self.topics.remove(&topic);
            }
        }
    }

    /// The person's labelled documents.
    pub fn documents(&self) -> u32 {
        self.documents
    }

    /// Distinct terms in the person's labelled documents.
    pub fn vocabulary(&self) -> u64 {
        self.term_documents.len() as u64
    }

    /// The statistics needed to classify a document with term counts `document`:
    /// every topic with its totals, and the counts of the document's terms only.
    pub fn view_for(&self, document: &Terms) -> ModelView {
        ModelView {
            documents: self.documents,
            vocabulary: self.vocabulary(),
            topics: self
                .topics
                .iter()
                .map(|(id, totals)| {
                    let term_counts = document
                        .keys()
                        .filter_map(|term| {
                            let count = totals.term_counts.get(term).copied()?;
                            (count > 0).then(|| (term.to_owned(), count))
                        })
                        .collect();
                    let stats = TopicStats {
                        documents: totals.documents,
                        total_terms: totals.total_terms,
                        term_counts,
                    };
                    (*id, stats)
                })
                .collect(),
        }
    }

    /// The whole model as a view, every term included: what a view would be if the
    /// projection returned all rows. Only for checking that partial views agree.
    #[cfg(test)]
    pub(crate) fn full_view(&self) -> ModelView {
        ModelView {
            documents: self.documents,
            vocabulary: self.vocabulary(),
            topics: self
                .topics
                .iter()
                .map(|(id, totals)| {
                    let stats = TopicStats {
                        documents: totals.documents,
                        total_terms: totals.total_terms,
                        term_counts: totals.term_counts.clone(),
                    };
                    (*id, stats)
                })
                .collect(),
        }
    }
}

fn distinct(topics: &[Uuid]) -> Vec<Uuid> {
    let mut topics = topics.to_vec();
    topics.sort_unstable();
    topics.dedup();
    topics
}

fn decrement(counts: &mut HashMap<String, u32>, term: &str, by: u32) {
    if let Some(count) = counts.get_mut(term) {
        *count = count.saturating_sub(by);
        if *count == 0 {
            counts.remove(term);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::terms;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn training_adds_up_documents_terms_and_vocabulary() {
        let mut model = Model::new();
        model.train(&terms("rent deposit rent"), &[id(1)]);
        model.train(&terms("rent boiler"), &[id(1), id(2), id(1)]);
        model.train(&terms("ignored"), &[]);

        assert_eq!(model.documents(), 2);
        // rent, deposit, boiler and the prefix features depos* and boile*.
        assert_eq!(model.vocabulary(), 5);
        let view = model.view_for(&terms("rent boiler unknown"));
        let housing = &view.topics[&id(1)];
        assert_eq!(housing.documents, 2);
        assert_eq!(housing.total_terms, 7, "3 + 2 words, 1 + 1 prefix features");
        assert_eq!(housing.term_counts.get("rent"), Some(&3));
        assert_eq!(housing.term_counts.get("boiler"), Some(&1));
        assert_eq!(housing.term_counts.get("boile*"), Some(&1));
        assert_eq!(housing.term_counts.get("unknown"), None);
        assert_eq!(housing.term_counts.get("unkno*"), None);
        let other = &view.topics[&id(2)];
        assert_eq!((other.documents, other.total_terms), (1, 3));
        assert_eq!(other.term_counts.get("rent"), Some(&1));
    }

    #[test]
    fn view_holds_only_the_documents_terms_but_every_topic() {
        let model = Model::from_examples([
            (terms("flight hotel passport"), vec![id(1)]),
            (terms("payslip salary"), vec![id(2)]),
        ]);
        let view = model.view_for(&terms("hotel"));
        assert_eq!(view.topics.len(), 2);
        assert_eq!(view.topics[&id(1)].term_counts.len(), 1);
        assert!(view.topics[&id(2)].term_counts.is_empty());
        // payslip, salari and their prefix features paysl*, salar*.
        assert_eq!(view.topics[&id(2)].total_terms, 4);
    }

    #[test]
    fn forget_undoes_train() {
        let base = Model::from_examples([(terms("flight hotel"), vec![id(1)])]);
        let mut model = base.clone();
        let doc = terms("payslip salary hotel");
        model.train(&doc, &[id(1), id(2)]);
        assert_ne!(model, base);
        model.forget(&doc, &[id(2), id(1)]);
        assert_eq!(model, base);
    }

    #[test]
    fn correcting_a_label_moves_the_counts() {
        let doc = terms("premium policy renewal");
        let mut corrected = Model::from_examples([(doc.clone(), vec![id(1)])]);
        corrected.forget(&doc, &[id(1)]);
        corrected.train(&doc, &[id(2)]);
        assert_eq!(corrected, Model::from_examples([(doc, vec![id(2)])]));
    }

    #[test]
    fn view_round_trips_through_json() {
        let model = Model::from_examples([(terms("flight hotel"), vec![id(1)])]);
        let view = model.view_for(&terms("hotel"));
        let json = serde_json::to_string(&view).unwrap();
        let back: ModelView = serde_json::from_str(&json).unwrap();
        assert_eq!(back, view);
    }
}
