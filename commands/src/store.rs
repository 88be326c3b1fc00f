//! Executes commands against aggregates kept in the Postgres event store.

use crate::adapter::Framed;
use crate::snapshots::AggregateStore;
use crate::{CommandError, CommandMeta};
use cqrs_es::{AggregateContext, CqrsFramework};
use eventlog::Token;
use rand::Rng;
use sqlx::PgPool;

/// The event store, as the write side uses it.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn persisted<A>(&self) -> AggregateStore<A>
    where
        A: domain::Aggregate + 'static,
        A::Command: Send,
    {
        AggregateStore::new(self.pool.clone())
    }

    /// The current state of aggregate `aggregate_id` (the default state when it has no
    /// events), folded from its snapshot, if it has one, and
    /// its events, on the write side's own connection.
    pub async fn load<A>(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>>
    where
        A: domain::Aggregate + 'static,
        A::Command: Send,
    {
        let mut context =
            cqrs_es::EventStore::load_aggregate(&self.persisted::<A>(), aggregate_id).await?;
        Ok(std::mem::take(&mut context.aggregate().0))
    }

    /// The token of aggregate `aggregate_id`'s last event, if it has any.
    pub async fn last_token<A: domain::Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<Token>, CommandError<A::Error>> {
        eventlog::log::last_token_of(&self.pool, A::TYPE, aggregate_id)
            .await
            .map_err(|error| CommandError::Store(error.to_string()))
    }

    /// Runs `command` on aggregate `aggregate_id` and appends its events in one
    /// transaction. Returns the token of the aggregate's last event, for read-your-writes.
    #[tracing::instrument(skip_all, fields(aggregate_type = A::TYPE, aggregate_id, command_id = %meta.command_id))]
    pub async fn execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        services: A::Services,
        meta: &CommandMeta,
    ) -> Result<Token, CommandError<A::Error>>
    where
        A: domain::Aggregate + 'static,
        A::Command: Send,
    {
        let cqrs = CqrsFramework::<Framed<A>, _>::new(self.persisted::<A>(), Vec::new(), services);
        cqrs.execute_with_metadata(aggregate_id, command, meta.to_map())
            .await?;
        self.last_token::<A>(aggregate_id).await?.ok_or_else(|| {
            CommandError::Store(format!(
                "no events for {}/{aggregate_id} after a command",
                A::TYPE
            ))
        })
    }

    /// Runs a command, again after a lost race (same command id), up to `attempts` times,
    /// with jittered backoff. A command that changes nothing on a retry (the earlier
    /// attempt won after all) answers the aggregate's current token.
    pub async fn execute_retrying<A>(
        &self,
        aggregate_id: &str,
        command: impl Fn() -> A::Command,
        meta: &CommandMeta,
        attempts: u32,
    ) -> Result<Token, CommandError<A::Error>>
    where
        A: domain::Aggregate<Services = ()> + 'static,
        A::Command: Send,
    {
        let mut attempt = 1;
        loop {
            match self.execute::<A>(aggregate_id, command(), (), meta).await {
                Err(CommandError::Conflict) if attempt < attempts => {
                    let ceiling = 2u64.saturating_pow(attempt.min(6)) * 2;
                    let pause = rand::thread_rng().gen_range(1..=ceiling);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}
