//! Signing in and staying signed in: sessions, refresh-token rotation, throttling.

pub mod email_tokens;
pub mod second_factor;
pub mod sessions;
pub mod sign_in;
pub mod throttle;
