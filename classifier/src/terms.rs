//! Turning text into the term counts that both the model and name matching work on.
//!
//! A document's [`Terms`] hold two kinds of term:
//!
//! - **words**: stemmed, lower-cased words (`invoic`, `polici`), what names and
//!   keywords are matched against and what the model mostly learns from;
//! - **prefix features**: for every word longer than [`PREFIX_CHARS`] characters,
//!   its first [`PREFIX_CHARS`] characters and [`PREFIX_MARK`] (`presc*` for both
//!   `prescript` and `prescrib`). A person's model counts them like words, but the
//!   classifier only consults one when the word itself is unknown to that model
//!   (see [`mod@crate::classify`]): then a misspelt, OCR-damaged or differently
//!   inflected word ("prescription" against "prescribed", "Versicherungen" against
//!   "Versicherung", "replacernent") still finds its relatives. A word the model
//!   knows never also counts through its prefix, so the same evidence is not
//!   counted twice.
//!
//! Before stemming, the commonest OCR confusions inside words are undone (`1` read
//! for `l`, `0` for `o`: "tota1" is "total"), so scanned and typed copies of a word
//! meet.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Deserializer, Serialize};

use crate::stopwords::is_stopword;

/// At most this many distinct terms (words and prefix features together) are kept
/// per document: the most frequent words first, then prefix features while room is
/// left.
///
/// Bounds what one document adds to a person's statistics and how many rows a
/// projection must look up to classify it.
pub const MAX_TERMS_PER_DOCUMENT: usize = 2_000;

/// Length, in characters, of a word's prefix feature; only words longer than this
/// get one. Five characters keep a word's root (`presc`, `insur`, `versi`) while
/// dropping the endings that stemming, inflection and OCR damage vary.
pub const PREFIX_CHARS: usize = 5;

/// Ends every prefix feature. Words are made of letters and digits only, so a
/// prefix feature can never be mistaken for a word.
pub const PREFIX_MARK: char = '*';

/// Shortest and longest word (in characters, before stemming) that is kept.
const MIN_WORD_CHARS: usize = 2;
const MAX_WORD_CHARS: usize = 40;

/// The term counts of one text: stemmed, lower-cased words and their prefix features
/// (see [`terms()`]), and how often each occurs.
///
/// Made by [`terms`]. Serialised as a JSON object from term to count, so it can be
/// stored beside a document and subtracted again when the document's topics are
/// corrected. Entries with a count of zero carry no meaning and are never produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Terms(BTreeMap<String, u32>);

impl<'de> Deserialize<'de> for Terms {
    /// Reads the JSON object written by `Serialize`; zero counts are dropped.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, u32>::deserialize(deserializer)
            .map(|counts| counts.into_iter().collect())
    }
}

impl Terms {
    /// How often `term` occurs (0 when it does not).
    pub fn get(&self, term: &str) -> u32 {
        self.0.get(term).copied().unwrap_or(0)
    }

    /// Whether `term` occurs at least once.
    pub fn contains(&self, term: &str) -> bool {
        self.get(term) > 0
    }

    /// The terms and their counts, in term order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.0.iter().map(|(term, count)| (term.as_str(), *count))
    }

    /// The distinct terms, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.keys().map(String::as_str)
    }

    /// Number of distinct terms.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no term was kept (an empty or all-stopword text).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sum of all counts, prefix features included: what a labelled document adds to
    /// its topics' `total_terms`.
    pub fn total(&self) -> u64 {
        self.0.values().map(|count| u64::from(*count)).sum()
    }

    /// The words (not prefix features) and their counts, in term order.
    pub fn words(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.iter().filter(|(term, _)| !is_prefix(term))
    }
}

impl FromIterator<(String, u32)> for Terms {
    /// Collects counts, adding up repeated terms and dropping zero counts.
    fn from_iter<I: IntoIterator<Item = (String, u32)>>(iter: I) -> Self {
        let mut counts = BTreeMap::new();
        for (term, count) in iter {
            if count > 0 {
                let entry: &mut u32 = counts.entry(term).or_insert(0);
                *entry = entry.saturating_add(count);
            }
        }
        Terms(counts)
    }
}

/// The term counts of `text`.
///
/// - Words are maximal runs of Unicode letters and digits, lower-cased; everything
///   else (punctuation, symbols, apostrophes, hyphens) separates words.
/// - Dropped: words made only of digits, words shorter than 2 or longer than 40
///   characters, and English, German and French stopwords.
/// - In a word of at least three letters and at most two digits, a `1` or `0` with
///   only letters beside it becomes `l` or `o` (OCR confusions: "tota1", "c0ver");
///   codes such as "P60", "1257L" or "COVID19" are left alone.
/// - Each remaining word is reduced by the Snowball English (Porter2) stemmer, so
///   "taxes", "taxed" and "tax" are one term; other languages' words keep their
///   letters (umlauts and accents included) and lose at most an English-looking
///   suffix.
/// - Each word longer than [`PREFIX_CHARS`] characters also counts towards its
///   prefix feature ([`PREFIX_MARK`]-terminated), as often as the word occurs.
/// - At most [`MAX_TERMS_PER_DOCUMENT`] distinct terms are kept: the most frequent
///   words, then the most frequent prefix features while room is left; ties broken
///   by term order, so the result is deterministic.
pub fn terms(text: &str) -> Terms {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut words: BTreeMap<String, u32> = BTreeMap::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if let Some(term) = term_of(&stemmer, word) {
            let entry = words.entry(term).or_insert(0);
            *entry = entry.saturating_add(1);
        }
    }
    let words = most_frequent(words, MAX_TERMS_PER_DOCUMENT);
    let mut prefixes: BTreeMap<String, u32> = BTreeMap::new();
    for (word, count) in &words {
        if let Some(prefix) = prefix_of(word) {
            let entry = prefixes.entry(prefix).or_insert(0);
            *entry = entry.saturating_add(*count);
        }
    }
    let mut counts = most_frequent(prefixes, MAX_TERMS_PER_DOCUMENT - words.len());
    counts.extend(words);
    Terms(counts)
}

/// At most `limit` entries of `counts`: the highest counts, ties kept in term order.
fn most_frequent(counts: BTreeMap<String, u32>, limit: usize) -> BTreeMap<String, u32> {
    if counts.len() <= limit {
        return counts;
    }
    let mut ranked: Vec<(String, u32)> = counts.into_iter().collect();
    // Stable sort on count alone keeps term order among equal counts.
    ranked.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    ranked.truncate(limit);
    ranked.into_iter().collect()
}

/// The prefix feature of a word term: its first [`PREFIX_CHARS`] characters and
/// [`PREFIX_MARK`]; `None` for words that short (the prefix would be the word) and
/// for prefix features themselves.
pub(crate) fn prefix_of(term: &str) -> Option<String> {
    let mut prefix = String::new();
    write_prefix(term, &mut prefix).then_some(prefix)
}

/// Writes the prefix feature of `term` (see [`prefix_of`]) into `out`, replacing its
/// contents, and returns whether there is one; for callers that look up many
/// prefixes with one buffer.
pub(crate) fn write_prefix(term: &str, out: &mut String) -> bool {
    out.clear();
    if is_prefix(term) {
        return false;
    }
    let Some((end, _)) = term.char_indices().nth(PREFIX_CHARS) else {
        return false;
    };
    out.push_str(&term[..end]);
    out.push(PREFIX_MARK);
    true
}

/// Whether `term` is a prefix feature rather than a word.
pub(crate) fn is_prefix(term: &str) -> bool {
    term.ends_with(PREFIX_MARK)
}

/// The distinct terms of a topic name, made exactly as document terms are (no cap).
pub(crate) fn name_terms(name: &str) -> Vec<String> {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut out: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(|word| term_of(&stemmer, word))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn term_of(stemmer: &Stemmer, word: &str) -> Option<String> {
    if word.is_empty() || word.chars().all(char::is_numeric) {
        return None;
    }
    let chars = word.chars().count();
    if !(MIN_WORD_CHARS..=MAX_WORD_CHARS).contains(&chars) {
        return None;
    }
    let lower = word.to_lowercase();
    let lower = repair_ocr(&lower);
    if is_stopword(&lower) {
        return None;
    }
    let stem = stemmer.stem(&lower).into_owned();
    // The stemmer can shorten a word below the minimum ("ies" forms); such a stem
    // is too short to mean anything on its own.
    (stem.chars().count() >= MIN_WORD_CHARS).then_some(stem)
}

/// `word` (lower-cased) with the digits an OCR engine reads for letters put back:
/// a `1` or `0` whose neighbours are all letters becomes `l` or `o`, in words of at
/// least three letters and at most two digits. Codes (`p60`, `1257l`, `covid19`,
/// reference numbers) have fewer letters, more digits or digits side by side, and
/// stay as they are.
fn repair_ocr(word: &str) -> Cow<'_, str> {
    let chars: Vec<char> = word.chars().collect();
    let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
    let digits = chars.iter().filter(|c| c.is_numeric()).count();
    if digits == 0 || digits > 2 || letters < 3 {
        return Cow::Borrowed(word);
    }
    // A missing neighbour (the word's start or end) counts as a letter.
    let letter_at = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_none_or(|c| c.is_alphabetic())
    };
    let repaired: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            '1' | '0' if letter_at(i.checked_sub(1)) && letter_at(Some(i + 1)) => {
                if c == '1' {
                    'l'
                } else {
                    'o'
                }
            }
            c => c,
        })
        .collect();
    Cow::Owned(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word terms only, in order.
    fn keys(t: &Terms) -> Vec<&str> {
        t.words().map(|(term, _)| term).collect()
    }

    #[test]
    fn lower_cases_and_counts() {
        let t = terms("Invoice INVOICE invoice receipt");
        assert_eq!(t.get("invoic"), 3);
        assert_eq!(t.get("receipt"), 1);
        assert_eq!(keys(&t).len(), 2);
        // Each occurrence also counts towards its prefix feature.
        assert_eq!(t.get("invoi*"), 3);
        assert_eq!(t.get("recei*"), 1);
        assert_eq!(t.total(), 8);
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn drops_english_stopwords() {
        let t = terms("The policy and the premium are due for you");
        assert_eq!(keys(&t), vec!["due", "polici", "premium"]);
    }

    #[test]
    fn drops_german_and_french_stopwords() {
        let de = terms("Die Kosten für das Zimmer und der Garten");
        assert_eq!(keys(&de), vec!["garten", "kosten", "zimmer"]);
        let fr = terms("Les frais de garde pour les enfants avec une attestation");
        assert_eq!(keys(&fr), vec!["attest", "enfant", "frai", "gard"]);
    }

    #[test]
    fn drops_numbers_and_keeps_codes() {
        let t = terms("Total 1,482.60 due 31/01/2024, form P60 and 1099 code 1257L");
        assert!(!t.keys().any(|k| k.chars().all(char::is_numeric)));
        assert!(t.contains("p60"));
        assert!(t.contains("1257l"));
        assert!(t.contains("total"));
    }

    #[test]
    fn drops_too_short_and_too_long_words() {
        let long = "a".repeat(41);
        let t = terms(&format!("x y ok {long} {}", "b".repeat(40)));
        assert!(t.contains("ok"));
        assert!(!t.contains(&long));
        assert!(t.contains(&"b".repeat(40)));
        assert_eq!(keys(&t).len(), 2);
    }

    #[test]
    fn stems_plurals_and_verb_forms() {
        let t = terms("taxes tax taxed policies policy payments payment claiming claimed claims");
        assert_eq!(t.get("tax"), 3);
        assert_eq!(t.get("polici"), 2);
        assert_eq!(t.get("payment"), 2);
        assert_eq!(t.get("claim"), 3);
        assert_eq!(keys(&t).len(), 4);
    }

    #[test]
    fn keeps_umlauts_and_accents() {
        let t = terms("Prüfbericht Gebühr Straße fête Élodie");
        assert!(t.contains("prüfbericht"));
        assert!(t.contains("gebühr"));
        assert!(t.contains("straße"));
        assert!(t.contains("fête"));
        assert!(t.contains("élodi"));
    }

    #[test]
    fn punctuation_and_symbols_separate_words() {
        let t = terms("e-mail: claims@insurer.example — «policy»|renewal");
        assert!(t.contains("mail"));
        assert!(t.contains("claim"));
        assert!(t.contains("insur"));
        assert!(t.contains("polici"));
        assert!(t.contains("renew"));
    }

    #[test]
    fn empty_and_stopword_only_texts_have_no_terms() {
        assert!(terms("").is_empty());
        assert!(terms("and the of — 12 34 , .").is_empty());
    }

    #[test]
    fn caps_distinct_terms_keeping_the_most_frequent() {
        let mut text = String::from("frequent frequent frequent ");
        for i in 0..2_500 {
            // Letters only, so no word is dropped as a number.
            let word: String = format!("{i:04}")
                .chars()
                .map(|d| char::from(b'a' + (d as u8 - b'0')))
                .collect();
            text.push_str(&format!("w{word} "));
        }
        let t = terms(&text);
        assert_eq!(t.len(), MAX_TERMS_PER_DOCUMENT);
        assert_eq!(t.get("frequent"), 3);
        // Ties are kept in term order: the smallest terms survive.
        assert!(t.contains("waaaa"));
        assert!(!t.contains("wcjjj"));
    }

    #[test]
    fn long_words_also_count_towards_their_prefix() {
        let t = terms("prescription prescribed Prüfbericht tax insurance");
        assert_eq!(t.get("prescript"), 1);
        assert_eq!(t.get("prescrib"), 1);
        assert_eq!(t.get("presc*"), 2, "both share one prefix feature");
        assert_eq!(t.get("prüfb*"), 1, "characters, not bytes");
        // Words of at most five characters (after stemming) have none.
        assert_eq!(t.get("insur"), 1);
        assert!(!t.keys().any(|k| k.starts_with("tax") && k != "tax"));
        assert!(!t.keys().any(|k| k.starts_with("insur") && k != "insur"));
        assert_eq!(prefix_of("presc*"), None);
        assert_eq!(prefix_of("insur"), None);
        assert_eq!(prefix_of("insura").as_deref(), Some("insur*"));
    }

    #[test]
    fn prefix_features_never_look_like_words() {
        let t = terms("Versicherungsnummer, policy renewal — reimbursement");
        for (term, _) in t.iter() {
            assert_eq!(is_prefix(term), !term.chars().all(char::is_alphanumeric));
        }
        assert_eq!(t.words().count(), 4);
        assert_eq!(t.len(), 7, "polici has no prefix feature; the rest do");
    }

    #[test]
    fn repairs_ocr_digits_inside_words() {
        let t = terms("Tota1 due; c0ver; Early Conci1iation; De1gado");
        assert!(t.contains("total"));
        assert!(t.contains("cover"));
        assert!(t.contains("concili"));
        assert!(t.contains("delgado"));
        // Codes keep their digits: too few letters, too many digits, or digits
        // side by side.
        let codes = terms("P60 1257L COVID19 W1A ab1c0d2 IP66 2O24");
        for code in ["p60", "1257l", "covid19", "w1a", "ab1c0d2", "ip66", "2o24"] {
            assert!(codes.contains(code), "{code}: {codes:?}");
        }
    }

    #[test]
    fn the_cap_keeps_words_before_prefix_features() {
        // 1,990 distinct five-letter words (no prefix feature) and 8 long ones, of
        // which two occur three times: 1,998 words, room for 2 prefix features.
        // Consonants only, so that stemming leaves the codes alone.
        const CONSONANTS: &[u8; 10] = b"bcdfghjklm";
        let mut text = String::new();
        for i in 0..1_998 {
            let code: String = format!("{i:04}")
                .chars()
                .map(|d| char::from(CONSONANTS[usize::from(d as u8 - b'0')]))
                .collect();
            if i < 1_990 {
                text.push_str(&format!("w{code} "));
            } else {
                let repeat = if i >= 1_996 { 3 } else { 1 };
                for _ in 0..repeat {
                    text.push_str(&format!("q{code}extended "));
                }
            }
        }
        let t = terms(&text);
        assert_eq!(t.words().count(), 1_998);
        assert_eq!(t.len(), MAX_TERMS_PER_DOCUMENT);
        let prefixes: Vec<(&str, u32)> = t.iter().filter(|(k, _)| is_prefix(k)).collect();
        assert_eq!(prefixes, vec![("qcmmj*", 3), ("qcmmk*", 3)]);
    }

    #[test]
    fn names_are_stemmed_like_documents() {
        assert_eq!(name_terms("Taxes"), vec!["tax"]);
        assert_eq!(
            name_terms("Car & Home insurance"),
            vec!["car", "home", "insur"]
        );
        assert!(name_terms("The Other").is_empty(), "stopwords only");
    }

    #[test]
    fn serde_round_trip_is_a_plain_map() {
        let t = terms("rent rent deposit");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"depos*":1,"deposit":1,"rent":2}"#);
        let back: Terms = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let zero: Terms = serde_json::from_str(r#"{"deposit":0,"rent":2}"#).unwrap();
        assert_eq!(zero.len(), 1);
    }
}
