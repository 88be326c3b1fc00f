//! The HTTP API (axum) and the SPA it serves.
//!
//! - [`error`]: the one place an error becomes a status and a JSON body.
//! - [`extract`]: request extractors (JSON that fails as JSON, consistency tokens).
//! - [`content`]: byte ranges and download links for document content.
//! - [`routes`]: one module per resource; handlers are thin.
//! - [`app`]: the router, middleware (request ids, tracing, security headers) and state.

pub mod app;
pub mod auth;
pub mod content;
pub mod error;
pub mod extract;
pub mod live;
pub mod notify;
pub mod openapi;
pub mod routes;

pub use app::{router, ApiConfig, AppState};
pub use error::ApiError;
