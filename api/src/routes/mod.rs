//! One module per resource.

pub mod account;
pub mod admin;
pub mod ai_settings;
pub mod auth;
pub mod documents;
pub mod email_links;
pub mod events;
pub mod folders;
pub mod handles;
pub mod leaving;
pub mod ops;
pub mod search;
pub mod second_factor;
pub mod sessions;
pub mod shares;
pub mod topics;
pub mod uploads;
