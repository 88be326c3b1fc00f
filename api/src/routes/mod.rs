//! One module per resource.

pub mod auth;
pub mod handles;
pub mod ops;
