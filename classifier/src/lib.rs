//! The offline classifier (SPEC AI-2): suggests topics for an uploaded document
//! without any network service.
//!
//! It combines two kinds of evidence:
//!
//! - **topic names and keywords**: a candidate topic whose name (stemmed like the
//!   text) occurs in the document, or, for well-known topics such as "Taxes" or
//!   "Gesundheit", whose built-in keywords do ([`lexicon`]);
//! - **a per-person naive Bayes model**, learnt only from the documents that same
//!   person filed or corrected by hand. Models are never shared between people:
//!   each person's statistics are their own, and a person without any is served by
//!   names and keywords alone.
//!
//! The crate is pure: no IO, no clock, no randomness. Text goes in through
//! [`terms()`] (stemmed words, plus prefix features that let an unknown, misspelt or
//! OCR-damaged word fall back on its known relatives); the model's statistics
//! arrive as a [`ModelView`], which a database projection can build from the rows
//! for the document's terms alone (see [`model`] for exactly what to store);
//! [`classify()`] returns the suggestions. [`Model`] is the in-memory reference for
//! those statistics.

pub mod classify;
pub mod lexicon;
pub mod model;
mod stopwords;
mod terms;

pub use classify::{classify, Candidate, Reason, Settings, Suggestion};
pub use model::{Model, ModelView, TopicStats};
pub use terms::{terms, Terms, MAX_TERMS_PER_DOCUMENT, PREFIX_CHARS, PREFIX_MARK};
