//! Live events: WebSocket `/api/v1/events` and SSE `/api/v1/events/stream`. Each client
//! gets the events it may see (by audience) and asked for (`topics`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use nexus_core::events::{Audience, Event};
use nexus_core::{ApiQuery, AppState, CurrentUser};
use serde::Deserialize;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Topics {
    /// Comma-separated entities (`production_order`) or event types
    /// (`production_order.created`); all when absent.
    pub topics: Option<String>,
}

/// What one client receives.
struct Filter {
    user: CurrentUser,
    topics: Vec<String>,
}

impl Filter {
    fn new(user: CurrentUser, topics: Topics) -> Self {
        let topics = topics
            .topics
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        Self { user, topics }
    }

    fn wants(&self, e: &Event) -> bool {
        let visible = match &e.audience {
            Audience::All => true,
            Audience::Permission(p) => self.user.can(p),
            Audience::Users(ids) => ids.contains(&self.user.id()),
        };
        visible
            && (self.topics.is_empty()
                || self.topics.iter().any(|t| *t == e.entity || *t == e.kind))
    }
}

/// The next event this client wants; `None` when the bus closed.
async fn next_event(rx: &mut Receiver<Arc<Event>>, filter: &Filter) -> Option<Arc<Event>> {
    loop {
        match rx.recv().await {
            Ok(e) if filter.wants(&e) => return Some(e),
            Ok(_) => {}
            // A client too slow to keep up loses the oldest events, not its connection.
            Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "live client lagged"),
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Server-sent events of committed changes.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", security(("bearer" = [])),
    params(Topics), responses((status = 200, content_type = "text/event-stream")))]
pub async fn sse(
    state: axum::extract::State<AppState>,
    user: CurrentUser,
    ApiQuery(topics): ApiQuery<Topics>,
) -> Sse<impl Stream<Item = Result<axum::response::sse::Event, Infallible>>> {
    let rx = state.events.subscribe();
    let filter = Filter::new(user, topics);
    let events = stream::unfold((rx, filter), |(mut rx, filter)| async move {
        let e = next_event(&mut rx, &filter).await?;
        let sse = axum::response::sse::Event::default()
            .event(e.kind.clone())
            .data(serde_json::to_string(&*e).unwrap_or_default());
        Some((Ok(sse), (rx, filter)))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A WebSocket of committed changes, one JSON event per text message.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(Topics), responses((status = 101, description = "Switching to WebSocket")))]
pub async fn websocket(
    state: axum::extract::State<AppState>,
    user: CurrentUser,
    ApiQuery(topics): ApiQuery<Topics>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let rx = state.events.subscribe();
    let filter = Filter::new(user, topics);
    upgrade
        .on_upgrade(move |socket| pump(socket, rx, filter))
        .into_response()
}

async fn pump(mut socket: WebSocket, mut rx: Receiver<Arc<Event>>, filter: Filter) {
    loop {
        tokio::select! {
            e = next_event(&mut rx, &filter) => {
                let Some(e) = e else { break };
                let text = serde_json::to_string(&*e).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            },
        }
    }
}
