//! Live events: WebSocket `/api/v1/events` and SSE `/api/v1/events/stream`. Each client
//! gets the events it may see (by audience) and asked for (`topics`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use nexus_core::events::Event;
use nexus_core::{ApiQuery, AppState, CurrentUser, Principal};
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

/// How often a stream re-reads its session even when no event concerns it (to end with
/// a session that expired).
const RECHECK: Duration = Duration::from_secs(60);

/// What one client receives: the events its session may see now.
struct Filter {
    state: AppState,
    principal: Arc<Principal>,
    topics: Vec<String>,
}

impl Filter {
    fn new(state: AppState, user: CurrentUser, topics: Topics) -> Self {
        let topics = topics
            .topics
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        Self {
            state,
            principal: user.principal,
            topics,
        }
    }

    fn wants(&self, e: &Event) -> bool {
        e.audience.includes(&self.principal)
            && (self.topics.is_empty()
                || self.topics.iter().any(|t| *t == e.entity || *t == e.kind))
    }

    /// Whether `e` may change what this session sees: its session, its user, any role.
    fn concerns_me(&self, e: &Event) -> bool {
        (e.entity == "session" && e.id == self.principal.session_id)
            || (e.entity == "user" && e.id == self.principal.user_id)
            || e.entity == "role"
    }

    /// Re-reads the session: false once it has ended (signed out, revoked, expired, the
    /// user deactivated); otherwise later events are filtered by its current role.
    async fn still_signed_in(&mut self) -> bool {
        let (user, session) = (self.principal.user_id, self.principal.session_id);
        match self.state.auth.reload(&self.state.db, user, session).await {
            Ok(Some(p)) => {
                self.principal = p;
                true
            }
            Ok(None) => false,
            // The database is away: keep the stream and look again at the next check.
            Err(_) => true,
        }
    }
}

/// The next event this client wants; `None` when the bus closed or the session ended.
async fn next_event(rx: &mut Receiver<Arc<Event>>, filter: &mut Filter) -> Option<Arc<Event>> {
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    loop {
        let received = tokio::select! {
            received = rx.recv() => received,
            _ = filter.state.events.closed() => return None,
            _ = recheck.tick() => {
                if !filter.still_signed_in().await {
                    return None;
                }
                continue;
            }
        };
        match received {
            Ok(e) => {
                if filter.concerns_me(&e) && !filter.still_signed_in().await {
                    return None;
                }
                if filter.wants(&e) {
                    e.delivered("stream");
                    return Some(e);
                }
            }
            // A client too slow to keep up loses the oldest events, not its connection.
            Err(RecvError::Lagged(n)) => {
                tracing::debug!(missed = n, "live client lagged");
                nexus_core::events::missed("stream", n);
            }
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
    let filter = Filter::new(state.0.clone(), user, topics);
    let events = stream::unfold((rx, filter), |(mut rx, mut filter)| async move {
        let e = next_event(&mut rx, &mut filter).await?;
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
    let filter = Filter::new(state.0.clone(), user, topics);
    upgrade
        .on_upgrade(move |socket| pump(socket, rx, filter))
        .into_response()
}

async fn pump(mut socket: WebSocket, mut rx: Receiver<Arc<Event>>, mut filter: Filter) {
    loop {
        tokio::select! {
            e = next_event(&mut rx, &mut filter) => {
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
