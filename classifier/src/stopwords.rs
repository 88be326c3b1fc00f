//! Small built-in stopword lists for English, German and French.
//!
//! Words are matched lower-cased and before stemming. The lists hold function words
//! only (articles, pronouns, prepositions, auxiliaries): letter boilerplate such as
//! "dear" or "sincerely" is left to the model, which learns that it says nothing
//! about a topic.

use std::collections::HashSet;
use std::sync::LazyLock;

const ENGLISH: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "didn",
    "do",
    "does",
    "doesn",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "etc",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "itself",
    "just",
    "ll",
    "may",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "re",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "ve",
    "very",
    "was",
    "wasn",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "won",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

const GERMAN: &[&str] = &[
    "aber", "alle", "allem", "allen", "aller", "alles", "als", "also", "am", "an", "ander",
    "andere", "anderem", "anderen", "anderer", "anderes", "auch", "auf", "aus", "bei", "beim",
    "bin", "bis", "bist", "bzw", "da", "damit", "dann", "das", "dass", "daß", "dein", "deine",
    "dem", "den", "denn", "der", "des", "dessen", "dich", "die", "dies", "diese", "diesem",
    "diesen", "dieser", "dieses", "dir", "doch", "dort", "du", "durch", "ein", "eine", "einem",
    "einen", "einer", "eines", "er", "es", "etwas", "euch", "euer", "für", "gegen", "hat", "hatte",
    "hier", "hin", "ich", "ihm", "ihn", "ihnen", "ihr", "ihre", "ihrem", "ihren", "ihrer", "ihres",
    "im", "in", "ins", "ist", "ja", "jede", "jedem", "jeden", "jeder", "jedes", "kann", "kein",
    "keine", "können", "man", "mein", "meine", "mich", "mir", "mit", "muss", "nach", "nicht",
    "nichts", "noch", "nun", "nur", "ob", "oder", "ohne", "sehr", "sein", "seine", "sich", "sie",
    "sind", "so", "sowie", "über", "um", "und", "uns", "unser", "unsere", "unter", "vom", "von",
    "vor", "war", "waren", "was", "weil", "wenn", "werden", "wie", "wir", "wird", "wurde",
    "wurden", "zu", "zum", "zur", "zwischen",
];

const FRENCH: &[&str] = &[
    "ainsi", "au", "aussi", "aux", "avec", "avoir", "ce", "ces", "cet", "cette", "chez", "comme",
    "dans", "de", "des", "donc", "du", "elle", "elles", "en", "entre", "est", "et", "été", "être",
    "eux", "il", "ils", "je", "la", "le", "les", "leur", "leurs", "lui", "ma", "mais", "me",
    "même", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ont", "ou", "où", "par",
    "pas", "pour", "qu", "que", "qui", "sa", "sans", "se", "ses", "si", "son", "sont", "sous",
    "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous",
];

static STOPWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    ENGLISH
        .iter()
        .chain(GERMAN)
        .chain(FRENCH)
        .copied()
        .collect()
});

/// Whether a lower-cased word is a stopword in English, German or French.
pub(crate) fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lower_case() {
        for word in ENGLISH.iter().chain(GERMAN).chain(FRENCH) {
            assert_eq!(*word, word.to_lowercase(), "{word}");
        }
    }
}
