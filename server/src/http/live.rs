//! Live updates and calendar feeds: the notification stream (Server-Sent Events) that
//! brings arrival alerts and assignments to open pages within a second, and escorts'
//! private calendar feeds.

use super::AppState;
use super::error::{Format, answer};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::Stream;
use haven_app::api::Actor;
use std::convert::Infallible;
use std::time::Duration;

/// `GET /calendar/{token}.ics`: the escort's assignments as iCalendar. The token is the
/// only credential; a renewed or revoked feed's old address answers 404.
pub async fn calendar(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    match state.services.calendar_feed(&token).await {
        Ok(ics) => ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], ics).into_response(),
        Err(e) => answer(&e, Format::asked(&headers, Format::Text)),
    }
}

/// `GET /live/notifications`: new notifications of the signed-in person as they happen.
/// Woken at once by this instance; other instances' notifications are found by looking
/// every second.
pub async fn notifications(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Response {
    let reader = match state.services.notification_reader(&actor).await {
        Ok(reader) => reader,
        Err(e) => return answer(&e, Format::asked(&headers, Format::Text)),
    };
    let me = reader.person;
    let services = state.services.clone();
    let mut wake = services.live.subscribe();
    // Everything from the moment of connecting; a notification is sent once (its id is
    // remembered) even when several share a timestamp or a wake-up comes before its commit.
    let since = services.clock.now() - chrono::Duration::seconds(1);
    let stream = async_stream(move |tx| async move {
        let mut sent = std::collections::HashSet::new();
        loop {
            match services.notifications_since(reader, Some(since)).await {
                Ok(mut fresh) => {
                    fresh.reverse();
                    for n in fresh {
                        if !sent.insert(n.id) {
                            continue;
                        }
                        let data = serde_json::to_string(&n).unwrap_or_default();
                        if tx.send(Event::default().event("notification").data(data)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(_) => return,
            }
            let woken = tokio::time::timeout(Duration::from_secs(1), async {
                loop {
                    match wake.recv().await {
                        Ok(person) if person == me => return,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Err(_) => std::future::pending::<()>().await,
                    }
                }
            });
            // A page that went away ends the loop, even when nothing is being sent to it.
            tokio::select! {
                _ = woken => {}
                () = tx.closed() => return,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

/// A stream fed by a task through a channel (so the loop above can be written plainly).
fn async_stream<F, Fut>(body: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(tx));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) })
}
