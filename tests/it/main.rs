//! End-to-end tests: the real system against the machine's Postgres and NATS. Each test
//! gets its own database and its own subject prefix (so its own stream), and drops both.
//! All tests are modules of this one binary (one link, not one per file).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod support;

mod admin;
mod api;
mod audit;
mod auth;
mod browser;
mod canary;
mod classification;
mod cli;
mod compose;
mod consistency;
mod contract;
mod documents;
mod email;
mod erasure;
mod event_store;
mod folders;
mod invites;
mod live;
mod projections;
mod relay;
mod replay;
mod resilience;
mod search;
mod second_factor;
mod sharing;
mod topics;
