//! The `docuvault` binary's library: configuration, database setup and the wiring that
//! starts the API, relay, projection builders and workers, alone or all together.

pub mod admin;
pub mod config;
pub mod database;
pub mod master_key;
pub mod system;
