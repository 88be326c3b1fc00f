//! Loads and commits aggregates, starting from a snapshot for those with a
//! [`domain::SnapshotPolicy`].
//!
//! A snapshot is a cache of the folded state at a sequence, never a source of truth: it is
//! written after the events committed (so a failed write costs only speed), replaced only
//! by a later one, and ignored when its shape is not the aggregate's current one or it no
//! longer deserialises. Loading then folds just the events after it. Aggregates without a
//! policy are folded from all their events, as cqrs-es does.
//!
//! postgres-es has snapshots of its own, but it writes them in the events' transaction and
//! reports a failed snapshot update as a conflict *after* the events committed, and
//! cqrs-es 0.5 folds a command's events into the snapshot a second time (the event sink
//! has applied them already), so DocuVault keeps its own.

use crate::adapter::{DomainUpcaster, Framed, FramedEvent};
use cqrs_es::persist::{
    EventStoreAggregateContext, EventUpcaster, PersistedEventRepository, PersistedEventStore,
    SerializedEvent,
};
use cqrs_es::{AggregateError, EventEnvelope};
use domain::SnapshotPolicy;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;

type Context<A> = EventStoreAggregateContext<Framed<A>>;
type Failure<A> = AggregateError<<A as domain::Aggregate>::Error>;

/// The event store for one aggregate type.
pub(crate) struct AggregateStore<A: domain::Aggregate + 'static>
where
    A::Command: Send,
{
    events: PersistedEventStore<PostgresEventRepository, Framed<A>>,
    repository: PostgresEventRepository,
    pool: PgPool,
}

impl<A> AggregateStore<A>
where
    A: domain::Aggregate + 'static,
    A::Command: Send,
{
    pub(crate) fn new(pool: PgPool) -> Self {
        let events =
            PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                .with_upcasters(vec![Box::new(upcaster::<A>())]);
        Self {
            events,
            repository: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }

    /// The snapshot's state and sequence, if there is one of the current shape.
    async fn snapshot(
        &self,
        policy: SnapshotPolicy,
        aggregate_id: &str,
    ) -> Result<Option<(Framed<A>, usize)>, Failure<A>> {
        let row: Option<(i64, i32, Value)> = sqlx::query_as(
            "select last_sequence, shape, payload from snapshots
              where aggregate_type = $1 and aggregate_id = $2",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| AggregateError::DatabaseConnectionError(Box::new(error)))?;
        let Some((sequence, shape, payload)) = row else {
            return Ok(None);
        };
        let Ok(sequence) = usize::try_from(sequence) else {
            return Ok(None);
        };
        if u32::try_from(shape).ok() != Some(policy.shape) {
            return Ok(None);
        }
        match serde_json::from_value::<Framed<A>>(payload) {
            Ok(state) => Ok(Some((state, sequence))),
            Err(error) => {
                tracing::warn!(aggregate_type = A::TYPE, aggregate_id, %error, "snapshot ignored: it does not deserialise");
                Ok(None)
            }
        }
    }

    /// Folds the events after `context`'s sequence into it.
    async fn fold_tail(&self, context: &mut Context<A>) -> Result<(), Failure<A>> {
        let upcaster = upcaster::<A>();
        let tail = self
            .repository
            .get_last_events::<Framed<A>>(&context.aggregate_id, context.current_sequence)
            .await?;
        for event in tail {
            let event = upcast(&upcaster, event);
            let envelope = EventEnvelope::<Framed<A>>::try_from(event)?;
            context.current_sequence = envelope.sequence;
            cqrs_es::Aggregate::apply(&mut context.aggregate, envelope.payload);
        }
        Ok(())
    }

    async fn save_snapshot(
        &self,
        policy: SnapshotPolicy,
        aggregate_id: &str,
        sequence: usize,
        payload: Value,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into snapshots (aggregate_type, aggregate_id, last_sequence, shape, payload)
             values ($1, $2, $3, $4, $5)
             on conflict (aggregate_type, aggregate_id) do update
               set last_sequence = excluded.last_sequence, shape = excluded.shape,
                   payload = excluded.payload, taken_at = now()
             where snapshots.last_sequence < excluded.last_sequence
                or snapshots.shape <> excluded.shape",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(i64::try_from(sequence).unwrap_or(i64::MAX))
        .bind(i32::try_from(policy.shape).unwrap_or(i32::MAX))
        .bind(payload)
        .execute(&self.pool)
        .await
        .map(drop)
    }
}

impl<A> cqrs_es::EventStore<Framed<A>> for AggregateStore<A>
where
    A: domain::Aggregate + 'static,
    A::Command: Send,
{
    type AC = Context<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<Framed<A>>>, Failure<A>> {
        self.events.load_events(aggregate_id).await
    }

    async fn load_aggregate(&self, aggregate_id: &str) -> Result<Context<A>, Failure<A>> {
        let Some(policy) = A::SNAPSHOTS else {
            return self.events.load_aggregate(aggregate_id).await;
        };
        let (aggregate, current_sequence) = self
            .snapshot(policy, aggregate_id)
            .await?
            .unwrap_or_default();
        let mut context = Context::<A> {
            aggregate_id: aggregate_id.to_owned(),
            aggregate,
            current_sequence,
            current_snapshot: None,
        };
        self.fold_tail(&mut context).await?;
        Ok(context)
    }

    async fn commit(
        &self,
        events: Vec<FramedEvent<A::Event>>,
        context: Context<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<Framed<A>>>, Failure<A>> {
        // The command's events are in `context.aggregate` already: the event sink applies
        // each one as the aggregate writes it. So the state after the commit is at hand.
        let before = context.current_sequence;
        let after = before + events.len();
        let snapshot = A::SNAPSHOTS
            .filter(|policy| crosses_multiple(before, after, policy.every))
            .and_then(|policy| {
                let payload = serde_json::to_value(&context.aggregate).ok()?;
                Some((policy, payload))
            });
        let aggregate_id = context.aggregate_id.clone();
        let committed = self.events.commit(events, context, metadata).await?;
        if let Some((policy, payload)) = snapshot {
            if let Err(error) = self
                .save_snapshot(policy, &aggregate_id, after, payload)
                .await
            {
                tracing::warn!(aggregate_type = A::TYPE, aggregate_id, %error, "snapshot not saved");
            }
        }
        Ok(committed)
    }
}

fn upcaster<A: domain::Aggregate>() -> DomainUpcaster {
    DomainUpcaster {
        aggregate_type: A::TYPE,
    }
}

fn upcast(upcaster: &DomainUpcaster, event: SerializedEvent) -> SerializedEvent {
    if upcaster.can_upcast(&event.event_type, &event.event_version) {
        upcaster.upcast(event)
    } else {
        event
    }
}

/// Whether going from sequence `before` to `after` reaches a multiple of `every`.
fn crosses_multiple(before: usize, after: usize, every: u32) -> bool {
    let every = usize::try_from(every).unwrap_or(usize::MAX).max(1);
    after / every > before / every
}

#[cfg(test)]
mod tests {
    use super::crosses_multiple;

    #[test]
    fn a_snapshot_is_due_when_a_commit_reaches_a_multiple() {
        assert!(!crosses_multiple(0, 1, 100));
        assert!(!crosses_multiple(98, 99, 100));
        assert!(crosses_multiple(99, 100, 100));
        assert!(crosses_multiple(99, 101, 100));
        assert!(!crosses_multiple(100, 101, 100));
        assert!(crosses_multiple(150, 250, 100));
        assert!(!crosses_multiple(5, 5, 100));
        assert!(
            crosses_multiple(3, 4, 0),
            "a zero policy snapshots every commit"
        );
    }
}
