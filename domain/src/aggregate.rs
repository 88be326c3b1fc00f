//! The shape every aggregate has, independent of any event-sourcing framework.
//!
//! `commands` adapts these traits to cqrs-es; keeping them here keeps the domain free of
//! the framework's async runtime.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// An event an aggregate emits: a past-tense fact with a stable type name and a version.
pub trait DomainEvent:
    Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync
{
    /// The stable name of this event's type, e.g. `UserRegistered`.
    fn event_type(&self) -> &'static str;
    /// The version of this event's shape; older versions are upcast on read.
    fn event_version(&self) -> &'static str;
}

/// A consistency boundary: decides on commands from its own past events.
pub trait Aggregate: Default + Serialize + DeserializeOwned + Send + Sync {
    /// The aggregate type as stored in the event log and used in bus subjects.
    const TYPE: &'static str;
    type Command;
    type Event: DomainEvent;
    type Error: std::error::Error + PartialEq;
    /// What the aggregate needs from outside to decide (checks, lookups), as traits.
    type Services: Send + Sync;
    /// Whether loading starts from a snapshot of the state; only for aggregates whose
    /// history grows without bound.
    const SNAPSHOTS: Option<SnapshotPolicy> = None;

    /// Decides which events a command produces, without changing state.
    fn handle(
        &self,
        command: Self::Command,
        services: &Self::Services,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state. Must never fail: events are facts.
    fn apply(&mut self, event: Self::Event);
}

/// How often an aggregate's state is snapshotted, and which serialised shape of the state
/// its snapshots have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// A snapshot is taken when a commit reaches a multiple of this many events, so a
    /// load folds fewer than this many.
    pub every: u32,
    /// The version of the state's serialised form. Change it whenever the state's fields
    /// or their meaning change: snapshots of another shape are ignored and replaced.
    pub shape: u32,
}
