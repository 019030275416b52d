//! The event bus: after a transaction commits, the change is published here; live
//! endpoints and interested domains subscribe. `/metrics` shows how long events wait
//! between publication on this node (or arrival from another) and delivery to each
//! subscriber, and how many a subscriber too slow to keep up missed.
//!
//! Two kinds of listener: live streams and caches hear every node's events through a
//! bounded broadcast ([`on`], [`EventBus::subscribe`]) and resynchronise when they fall
//! behind; reactions that write ([`on_local`]) hear this node's events through a queue of
//! their own that never drops one, in batches, so a burst of writes is answered by a few
//! transactions rather than lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgListener;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};

use crate::time::Timestamp;

/// Who may receive an event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Audience {
    /// Any signed-in user.
    All,
    /// Users holding this permission.
    Permission(String),
    /// These users only.
    Users(Vec<i64>),
    /// The users involved in a record, and whoever holds `permission` (to see them all).
    Involved { users: Vec<i64>, permission: String },
}

impl Audience {
    /// Whether `principal` is among the audience.
    pub fn includes(&self, principal: &crate::Principal) -> bool {
        match self {
            Audience::All => true,
            Audience::Permission(p) => principal.can(p),
            Audience::Users(ids) => ids.contains(&principal.user_id),
            Audience::Involved { users, permission } => {
                users.contains(&principal.user_id) || principal.can(permission)
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// `entity.action`, e.g. `user.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    pub entity: String,
    pub id: i64,
    pub data: serde_json::Value,
    pub at: Timestamp,
    pub audience: Audience,
    /// For an update made through the write path: the record's fields whose values
    /// changed, so that a listener can tell whether it concerns it without reading more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
    /// When it was put on this node's bus, for the fan-out lag.
    #[serde(skip)]
    queued: Option<Instant>,
}

impl Event {
    pub fn new(
        entity: &str,
        action: &str,
        id: i64,
        data: serde_json::Value,
        audience: Audience,
    ) -> Self {
        Self {
            kind: format!("{entity}.{action}"),
            entity: entity.to_string(),
            id,
            data,
            at: Timestamp::now(),
            audience,
            changed: None,
            queued: None,
        }
    }

    /// This event naming the top-level fields that differ between `before` and `after`.
    pub fn with_changes(mut self, before: &serde_json::Value, after: &serde_json::Value) -> Self {
        let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
            return self;
        };
        let mut changed: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .collect();
        changed.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
        self.changed = Some(changed);
        self
    }

    /// Whether this update changed none of `fields`; unknown (false) when the event does
    /// not say what changed.
    pub fn left_alone(&self, fields: &[&str]) -> bool {
        self.changed
            .as_ref()
            .is_some_and(|c| !c.iter().any(|f| fields.contains(&f.as_str())))
    }

    /// Records that a subscriber of kind `to` (`reaction`, `stream`) got this event now:
    /// the time since it was put on the bus.
    pub fn delivered(&self, to: &'static str) {
        if let Some(queued) = self.queued {
            metrics::histogram!("event_fanout_lag_seconds", "to" => to)
                .record(queued.elapsed().as_secs_f64());
        }
    }
}

/// Records that a subscriber of kind `to` fell behind and lost `missed` events.
pub fn missed(to: &'static str, missed: u64) {
    metrics::counter!("event_subscriber_lags_total", "to" => to).increment(1);
    metrics::counter!("events_missed_total", "to" => to).increment(missed);
}

/// The PostgreSQL channel that carries events between nodes.
const CHANNEL: &str = "nexus_events";
/// NOTIFY payloads must stay under 8000 bytes; a bigger envelope is kept in the
/// `event_payloads` table and the notice names its row ([`Notice::stored`]).
const MAX_PAYLOAD: usize = 7900;
/// How long a stored envelope is kept for the other nodes to read.
const STORED_FOR_MICROS: i64 = 10 * 60 * 1_000_000;

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: Event,
}

/// What crosses the channel: an envelope, or where to read one too big to cross.
#[derive(Deserialize)]
#[serde(untagged)]
enum Notice {
    Envelope(Envelope),
    Stored { node: String, stored: i64 },
}

/// How many users one envelope names at most, so that an event for thousands of users
/// crosses as several envelopes that each fit.
const USERS_PER_ENVELOPE: usize = 500;

/// The envelopes of an event: one, or for an audience of many users several, each
/// naming some of them (each user is in one).
fn envelopes(node: &str, event: &Event) -> Vec<String> {
    let parts: Vec<Audience> = match &event.audience {
        Audience::Users(users) if users.len() > USERS_PER_ENVELOPE => users
            .chunks(USERS_PER_ENVELOPE)
            .map(|c| Audience::Users(c.to_vec()))
            .collect(),
        Audience::Involved { users, permission } if users.len() > USERS_PER_ENVELOPE => {
            let mut parts = vec![Audience::Permission(permission.clone())];
            parts.extend(
                users
                    .chunks(USERS_PER_ENVELOPE)
                    .map(|c| Audience::Users(c.to_vec())),
            );
            parts
        }
        other => vec![other.clone()],
    };
    parts
        .into_iter()
        .map(|audience| {
            let env = Envelope {
                node: node.to_string(),
                event: Event {
                    audience,
                    ..event.clone()
                },
            };
            serde_json::to_string(&env).unwrap_or_default()
        })
        .collect()
}

/// `payloads` as NOTIFY can carry them: each too big is stored in `event_payloads` and
/// replaced by a notice naming its row; stored ones older than [`STORED_FOR_MICROS`] go.
async fn fit(pool: &PgPool, node: &str, payloads: Vec<String>) -> Vec<String> {
    let mut fitted = Vec::with_capacity(payloads.len());
    for payload in payloads {
        if payload.len() <= MAX_PAYLOAD {
            fitted.push(payload);
            continue;
        }
        let now = Timestamp::now().0;
        let stored: Result<i64, _> = sea_orm::sqlx::query_scalar(
            "WITH gone AS (DELETE FROM event_payloads WHERE created_at < $3) \
             INSERT INTO event_payloads (payload, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(&payload)
        .bind(now)
        .bind(now - STORED_FOR_MICROS)
        .fetch_one(pool)
        .await;
        match stored {
            Ok(id) => fitted.push(serde_json::json!({"node": node, "stored": id}).to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "an event too big for NOTIFY was not sent to other nodes")
            }
        }
    }
    fitted
}

/// The event a notice from another node carries or names; none for this node's own.
async fn heard(pool: &PgPool, own: &str, payload: &str) -> Result<Option<Event>, String> {
    let env = match serde_json::from_str::<Notice>(payload).map_err(|e| e.to_string())? {
        Notice::Envelope(env) => env,
        Notice::Stored { node, .. } if node == own => return Ok(None),
        Notice::Stored { node, stored } => {
            let body: Option<String> =
                sea_orm::sqlx::query_scalar("SELECT payload FROM event_payloads WHERE id = $1")
                    .bind(stored)
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| e.to_string())?;
            let body =
                body.ok_or_else(|| format!("stored event {stored} of node {node} is gone"))?;
            serde_json::from_str(&body).map_err(|e| e.to_string())?
        }
    };
    Ok((env.node != own).then_some(env.event))
}

/// In-process broadcast of committed changes; with PostgreSQL, also NOTIFY/LISTEN so that
/// every node sees every node's events.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
    node: Arc<str>,
    outbox: Option<mpsc::UnboundedSender<Arc<Event>>>,
    /// True once the server stops: live streams end so that shutdown can drain.
    closing: Arc<watch::Sender<bool>>,
    /// The queues of this node's reactions ([`on_local`]).
    reactions: Arc<Mutex<Vec<Reaction>>>,
    /// Events seen per entity: published here or heard from another node.
    seen: Arc<Mutex<HashMap<String, Seen>>>,
}

/// The events seen about one entity: all of them, those whose audience names nobody in
/// particular, and those naming each user.
#[derive(Default)]
struct Seen {
    all: u64,
    unnamed: u64,
    by_user: HashMap<i64, u64>,
}

/// A reaction's queue and the events it asked for.
struct Reaction {
    patterns: &'static [&'static str],
    queue: mpsc::UnboundedSender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            tx,
            node: crate::auth::random_token(9).into(),
            outbox: None,
            closing: Arc::new(watch::Sender::new(false)),
            reactions: Arc::default(),
            seen: Arc::default(),
        }
    }

    /// Tells every live stream that the server is stopping. Streams never end by
    /// themselves, and a graceful shutdown waits for every response to end.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`EventBus::close`] was called.
    pub async fn closed(&self) {
        let _ = self.closing.subscribe().wait_for(|closing| *closing).await;
    }

    /// Connects the bus to PostgreSQL: events published here are sent to other nodes, and
    /// theirs are received here.
    pub async fn connect_postgres(&mut self, pool: PgPool) -> Result<(), sea_orm::sqlx::Error> {
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Arc<Event>>();
        let node = self.node.clone();
        let notify_pool = pool.clone();
        tokio::spawn(async move {
            while let Some(first) = out_rx.recv().await {
                // Everything queued goes out in one statement, in order.
                let mut payloads = envelopes(&node, &first);
                while payloads.len() < 1000 {
                    match out_rx.try_recv() {
                        Ok(event) => payloads.extend(envelopes(&node, &event)),
                        Err(_) => break,
                    }
                }
                let payloads = fit(&notify_pool, &node, payloads).await;
                let sent = sea_orm::sqlx::query(
                    "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
                )
                .bind(CHANNEL)
                .bind(payloads)
                .execute(&notify_pool)
                .await;
                match sent {
                    Err(_) if notify_pool.is_closed() => break,
                    Err(e) => tracing::warn!(error = %e, "could not send events to other nodes"),
                    Ok(_) => {}
                }
            }
        });
        let tx = self.tx.clone();
        let seen = self.seen.clone();
        let node = self.node.clone();
        let listen_pool = pool.clone();
        tokio::spawn(async move {
            // Ends when the pool closes at shutdown.
            while !listen_pool.is_closed() {
                // `recv` reconnects by itself after a lost connection.
                match listener.recv().await {
                    Ok(n) => match heard(&listen_pool, &node, n.payload()).await {
                        Ok(Some(event)) => {
                            metrics::counter!("events_published_total", "origin" => "remote")
                                .increment(1);
                            count(&seen, &event);
                            let _ = tx.send(Arc::new(Event {
                                queued: Some(Instant::now()),
                                ..event
                            }));
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable event from another node"),
                    },
                    Err(_) if listen_pool.is_closed() => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost its connection");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        self.outbox = Some(out_tx);
        Ok(())
    }

    /// Publishes a committed change here and to the other nodes; having no subscriber is
    /// not an error.
    pub fn publish(&self, mut event: Event) {
        metrics::counter!("events_published_total", "origin" => "local").increment(1);
        event.queued = Some(Instant::now());
        count(&self.seen, &event);
        let event = Arc::new(event);
        if let Some(outbox) = &self.outbox {
            let _ = outbox.send(event.clone());
        }
        let reactions = self.reactions.lock().unwrap_or_else(|e| e.into_inner());
        for r in reactions.iter() {
            if r.patterns.iter().any(|p| event.matches(p)) {
                let _ = r.queue.send(event.clone());
            }
        }
        drop(reactions);
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// How many events about `entities` this node has seen, its own (counted as they are
    /// published, before the request that made them answers) and other nodes' (as they
    /// arrive). An answer built from those entities is current while this is unchanged:
    /// read it before reading the database, and keep the answer under it.
    pub fn seen(&self, entities: &[&str]) -> u64 {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        entities
            .iter()
            .filter_map(|e| seen.get(*e))
            .map(|s| s.all)
            .sum()
    }

    /// [`EventBus::seen`] of the events about `entities` that concern `user`: those whose
    /// audience names them (a record's people, [`Audience::Users`] or
    /// [`Audience::Involved`]), and those whose audience names nobody in particular. An
    /// answer about one user's own records stays current while the plant's other people
    /// change theirs.
    pub fn seen_by(&self, entities: &[&str], user: i64) -> u64 {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        entities
            .iter()
            .filter_map(|e| seen.get(*e))
            .map(|s| s.unnamed + s.by_user.get(&user).copied().unwrap_or(0))
            .sum()
    }
}

/// Counts `event` in `seen`: in all, and for each user its audience names (or as naming
/// nobody).
fn count(seen: &Mutex<HashMap<String, Seen>>, event: &Event) {
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    let s = match seen.get_mut(&event.entity) {
        Some(s) => s,
        None => seen.entry(event.entity.clone()).or_default(),
    };
    s.all += 1;
    match &event.audience {
        Audience::Users(users) | Audience::Involved { users, .. } => {
            for u in users {
                *s.by_user.entry(*u).or_default() += 1;
            }
        }
        Audience::All | Audience::Permission(_) => s.unnamed += 1,
    }
}

/// What a subscriber hears: an event it asked for, or that events were missed (the
/// subscriber fell behind), after which it should resynchronise from the database.
pub enum Heard {
    Event(Arc<Event>),
    Missed,
}

impl Event {
    /// True when `pattern` is this event's entity (`work_order`) or its type
    /// (`work_order.status_changed`).
    pub fn matches(&self, pattern: &str) -> bool {
        self.entity == pattern || self.kind == pattern
    }
}

/// How a cache listens: `handler` runs, in order, for each event matching one of
/// `patterns` (see [`Event::matches`]), from any node, and with [`Heard::Missed`] after
/// falling behind, until the bus closes. A reaction that writes uses [`on_local`].
pub fn on<F, Fut>(bus: &EventBus, patterns: &'static [&'static str], mut handler: F)
where
    F: FnMut(Heard) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) if patterns.iter().any(|p| event.matches(p)) => {
                    event.delivered("cache");
                    handler(Heard::Event(event)).await
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, ?patterns, "a subscriber fell behind");
                    missed("cache", n);
                    handler(Heard::Missed).await
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// The most events a reaction is handed at once.
pub const REACTION_BATCH: usize = 64;

/// How a reaction that writes (a notification, the next work order) listens: `handler`
/// gets this node's events matching one of `patterns`, in order, in batches of up to
/// [`REACTION_BATCH`] (whatever queued while it handled the last), and none is dropped:
/// the queue grows while the handler is behind (`/metrics`: `event_reaction_queue`). It
/// runs once, on the node where the change happened; other nodes' events are theirs.
pub fn on_local<F, Fut>(bus: &EventBus, patterns: &'static [&'static str], mut handler: F)
where
    F: FnMut(Vec<Arc<Event>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (queue, mut rx) = mpsc::unbounded_channel();
    bus.reactions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Reaction { patterns, queue });
    let name = patterns.join(",");
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(REACTION_BATCH);
        while rx.recv_many(&mut batch, REACTION_BATCH).await > 0 {
            metrics::gauge!("event_reaction_queue", "events" => name.clone()).set(rx.len() as f64);
            for event in &batch {
                event.delivered("reaction");
            }
            handler(std::mem::take(&mut batch)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_names_the_fields_it_changed() {
        let before = serde_json::json!({"status": "planned", "assigned_to_id": 4, "note": "x"});
        let after = serde_json::json!({"status": "overdue", "assigned_to_id": 4, "tags": []});
        let e = Event::new("activity", "updated", 1, after.clone(), Audience::All)
            .with_changes(&before, &after);
        let mut changed = e.changed.clone().unwrap();
        changed.sort();
        assert_eq!(changed, ["note", "status", "tags"]);
        assert!(e.left_alone(&["assigned_to_id"]));
        assert!(!e.left_alone(&["status"]));
        let told: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(told.changed, e.changed, "other nodes hear what changed");
        let unknown = Event::new("activity", "updated", 1, after, Audience::All);
        assert!(
            !unknown.left_alone(&["assigned_to_id"]),
            "unknown is not left alone"
        );
    }

    #[test]
    fn events_are_counted_for_the_users_they_name() {
        let bus = EventBus::new();
        let involved = |users: Vec<i64>| Audience::Involved {
            users,
            permission: "activities:read_all".into(),
        };
        let at = |bus: &EventBus| [1, 2, 3].map(|u| bus.seen_by(&["activity", "task"], u));
        let start = at(&bus);
        bus.publish(Event::new(
            "activity",
            "updated",
            1,
            serde_json::json!({}),
            involved(vec![1, 2]),
        ));
        let after = at(&bus);
        assert!(
            after[0] > start[0] && after[1] > start[1],
            "named: {after:?}"
        );
        assert_eq!(after[2], start[2], "not named");
        bus.publish(Event::new(
            "task",
            "updated",
            2,
            serde_json::json!({}),
            Audience::Users(vec![3]),
        ));
        assert_eq!(at(&bus)[..2], after[..2]);
        bus.publish(Event::new(
            "tag",
            "updated",
            3,
            serde_json::json!({}),
            Audience::All,
        ));
        assert_eq!(at(&bus)[..2], after[..2], "another entity");
        let before = at(&bus);
        bus.publish(Event::new(
            "activity",
            "deleted",
            4,
            serde_json::json!({}),
            Audience::Permission("x".into()),
        ));
        let now = at(&bus);
        assert!(
            (0..3).all(|u| now[u] > before[u]),
            "naming nobody concerns all"
        );
        assert_eq!(bus.seen(&["activity", "task", "tag"]), 4);
    }

    #[test]
    fn an_event_for_many_users_crosses_in_envelopes_each_naming_some() {
        let users: Vec<i64> = (1_000_000..1_010_000).collect();
        let data = serde_json::json!({"title": "x".repeat(9000)});
        let event = Event::new(
            "update",
            "published",
            7,
            data,
            Audience::Users(users.clone()),
        );
        let payloads = envelopes("node", &event);
        assert_eq!(payloads.len(), 20);
        let mut named = Vec::new();
        for p in &payloads {
            let env: Envelope = serde_json::from_str(p).unwrap();
            assert_eq!(env.event.kind, "update.published");
            assert_eq!(
                env.event.data["title"].as_str().map(str::len),
                Some(9000),
                "whole"
            );
            match env.event.audience {
                Audience::Users(ids) => named.extend(ids),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(named, users);
        let involved = Audience::Involved {
            users: users[..600].to_vec(),
            permission: "updates:manage".into(),
        };
        let payloads = envelopes(
            "node",
            &Event {
                audience: involved,
                ..event
            },
        );
        assert_eq!(payloads.len(), 3, "the permission once, the users in two");
    }
}
