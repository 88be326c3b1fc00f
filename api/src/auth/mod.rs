//! Authentication at the HTTP edge: access tokens, the refresh cookie, CSRF checks on
//! cookie routes, the client's address, and the `Authenticated` extractor.

pub mod authenticated;
pub mod client;
pub mod cookie;
pub mod csrf;
pub mod reauth;
pub mod throttling;
pub mod tokens;

pub use authenticated::{Admin, Authenticated};
pub use client::Client;
pub use csrf::SameOrigin;
pub use tokens::AccessTokens;
