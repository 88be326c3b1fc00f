//! Adapts the framework-free domain traits to cqrs-es's.
//!
//! The domain stays free of cqrs-es (and of its tokio dependency); the orphan rule makes
//! the adapter a pair of transparent wrappers.

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde::{Deserialize, Serialize};

/// A domain aggregate as cqrs-es sees it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Framed<A>(pub A);

/// A domain event as cqrs-es sees it. Serialises exactly like the domain event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FramedEvent<E>(pub E);

impl<E: domain::DomainEvent> cqrs_es::DomainEvent for FramedEvent<E> {
    fn event_type(&self) -> String {
        self.0.event_type().to_owned()
    }

    fn event_version(&self) -> String {
        self.0.event_version().to_owned()
    }
}

impl<A> cqrs_es::Aggregate for Framed<A>
where
    A: domain::Aggregate,
    A::Command: Send,
    A::Event: 'static,
{
    const TYPE: &'static str = A::TYPE;
    type Command = A::Command;
    type Event = FramedEvent<A::Event>;
    type Error = A::Error;
    type Services = A::Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.0.handle(command, services)?;
        for event in events {
            sink.write(FramedEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.0.apply(event.0);
    }
}

/// Runs the domain's upcasters when cqrs-es loads an aggregate of one type.
pub struct DomainUpcaster {
    pub aggregate_type: &'static str,
}

impl EventUpcaster for DomainUpcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        domain::upcast::current_version(self.aggregate_type, event_type)
            .is_some_and(|current| current != event_version)
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        let (event_type, version) = (event.event_type.clone(), event.event_version.clone());
        if let Some(inner) = event.payload.get_mut(&event_type) {
            // An unknown version stays as it is; deserialising it then fails loudly.
            if let Ok(current) =
                domain::upcast::upcast(self.aggregate_type, &event_type, &version, inner)
            {
                event.event_version = current;
            }
        }
        event
    }
}
