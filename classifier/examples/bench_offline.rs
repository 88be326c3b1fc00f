//! Times `terms` and `classify` on a 300-word document against 20 modelled topics.
//!
//! `cargo run --release -p classifier --example bench_offline`
//!
//! The model is trained on the whole corpus: each document under its topic, and
//! every other document also under one of 12 further topics, so that all 20
//! candidates have model data (the slowest case: every candidate is scored).

#![allow(clippy::print_stdout, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use classifier::{classify, terms, Candidate, Model, Settings};
use serde::Deserialize;
use uuid::Uuid;

const CORPUS: &str = include_str!("../corpus/documents.jsonl");
const EXTRA_TOPICS: [&str; 12] = [
    "Pets",
    "Education",
    "Pension",
    "Legal",
    "Utilities",
    "Receipts",
    "Warranty",
    "Family",
    "Charity",
    "Phone",
    "Subscriptions",
    "Gifts",
];

#[derive(Deserialize)]
struct Document {
    topic: String,
    text: String,
}

fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
}

fn main() {
    let docs: Vec<Document> = CORPUS
        .lines()
        .map(|line| serde_json::from_str(line).expect("corpus line"))
        .collect();
    let mut model = Model::new();
    for (n, d) in docs.iter().enumerate() {
        let mut topics = vec![id(&d.topic)];
        if n % 2 == 0 {
            topics.push(id(EXTRA_TOPICS[n / 2 % EXTRA_TOPICS.len()]));
        }
        model.train(&terms(&d.text), &topics);
    }
    let mut names: Vec<&str> = docs.iter().map(|d| d.topic.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.extend(EXTRA_TOPICS);
    let candidates: Vec<Candidate> = names
        .iter()
        .map(|name| Candidate {
            id: id(name),
            name: (*name).to_owned(),
        })
        .collect();

    // About 300 words of real text: consecutive documents joined.
    let mut text = String::new();
    for d in docs.iter().skip(7) {
        if text.split_whitespace().count() >= 300 {
            break;
        }
        text.push_str(&d.text);
        text.push('\n');
    }
    let words = text.split_whitespace().count();
    let settings = Settings::default();
    let document = terms(&text);
    let view = model.view_for(&document);

    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(terms(black_box(&text)));
    }
    let terms_micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);

    let started = Instant::now();
    for _ in 0..rounds {
        black_box(classify(
            black_box(&view),
            &candidates,
            &document,
            &settings,
        ));
    }
    let classify_micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);

    let plain = Settings {
        keyword_score: 0.0,
        ..Settings::default()
    };
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(classify(black_box(&view), &candidates, &document, &plain));
    }
    let plain_micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);

    println!(
        "{words} words, {} distinct terms, {} candidates with model data, {} labelled documents",
        document.len(),
        view.topics.len(),
        model.documents()
    );
    println!("terms():    {terms_micros:.0} µs per document");
    println!(
        "classify(): {classify_micros:.0} µs per document ({plain_micros:.0} µs without keywords)"
    );
    println!("{:?}", classify(&view, &candidates, &document, &settings));
}
