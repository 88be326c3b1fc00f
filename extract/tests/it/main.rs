//! Integration tests of `extract`, one binary (STYLE: each `tests/*.rs` is a slow link):
//! real documents built in the test, hostile ones, and the sandboxed child process.
//! Helpers outside `#[test]` functions fail loudly too (clippy.toml only exempts the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod formats;
mod hostile;
mod sandbox;
