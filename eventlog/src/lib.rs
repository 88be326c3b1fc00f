//! The event log and its copy on the bus.
//!
//! - [`Token`]: a position in relay order, `(tx_id, position)`; commands return one and
//!   reads may wait for a projection to reach it (EV-6).
//! - [`StoredEvent`]: one row of the `events` table, upcast to the current version, and
//!   [`log`]: the SQL that reads committed events in relay order.
//! - [`bus`]: the JetStream stream, subjects and headers every publisher and consumer
//!   agree on (EV-3, EV-7).

pub mod bus;
pub mod lock;
pub mod log;
mod stored;
mod token;

pub use stored::{DecodeError, StoredEvent};
pub use token::{Token, TokenParseError};

/// The wall clock, for production.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl domain::Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the real time
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}
