//! `GET /api/events`: the signed-in person's live notices (EV-9) as Server-Sent Events.
//! Read it with `fetch` and the Authorization header (`EventSource` cannot send one, and
//! tokens never go in URLs). The stream starts with `event: ready`, carries one event per
//! notice (`event:` its type, `data:` its JSON), says `event: resync` when it fell behind
//! (read the lists again), and ends when the access token would have expired: reconnect
//! with a fresh one.

use crate::app::AppState;
use crate::auth::Authenticated;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// Your live events: a document's classification changing, a share given to you or taken
/// back.
#[utoipa::path(
    get, path = "/api/events", tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", description = "`ready`, then one event per notice: `{type, document_id?, folder_id?, share_id?, classification?, topics?, error?, token}`; `resync` after falling behind"),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    who: Authenticated,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let me = who.user_id;
    let receiver = state.live.subscribe();
    let ready = futures::stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let notices = futures::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(notice) if notice.audience.contains(&me) => {
                    let event = Event::default()
                        .event(notice.event_type.as_str())
                        .json_data(&*notice)
                        .unwrap_or_else(|_| Event::default().comment("unserialisable"));
                    return Some((Ok(event), receiver));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().event("resync").data("{}")), receiver));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let expiry = tokio::time::sleep(state.live.max_connection);
    let shutdown = state.live.shutdown.clone().cancelled_owned();
    let until = futures::future::select(Box::pin(expiry), Box::pin(shutdown));
    Sse::new(ready.chain(notices).take_until(until))
        .keep_alive(KeepAlive::new().interval(state.live.keep_alive))
}
