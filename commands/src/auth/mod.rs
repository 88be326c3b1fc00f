//! Signing in and staying signed in: sessions, refresh-token rotation, throttling.

pub mod second_factor;
pub mod sessions;
pub mod sign_in;
pub mod throttle;
