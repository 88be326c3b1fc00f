//! A read model for testing the machinery itself: it records every application of a
//! `probe` event, so a double or out-of-order application shows up as data.

use eventlog::StoredEvent;
use futures::future::BoxFuture;
use projections::{ApplyError, ReadModel};
use sqlx::{PgConnection, PgPool};

pub struct ProbeModel;

impl ReadModel for ProbeModel {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["probe"]
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables_sql(&self, schema: &str) -> String {
        format!("create table {schema}.applied (n bigserial primary key, aggregate_id text not null, sequence bigint not null);")
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        schema: &'a str,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            for event in events {
                if event.event_type != "Probed" {
                    return Err(ApplyError::Poison {
                        position: event.position,
                        reason: format!("unknown event {}", event.event_type),
                    });
                }
                sqlx::query(&format!(
                    "insert into {schema}.applied (aggregate_id, sequence) values ($1, $2)"
                ))
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .execute(&mut *connection)
                .await?;
            }
            Ok(())
        })
    }
}

/// Every application in order: (aggregate_id, sequence).
pub async fn applied(pool: &PgPool, schema: &str) -> Vec<(String, i64)> {
    sqlx::query_as(&format!(
        "select aggregate_id, sequence from {schema}.applied order by n"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}
