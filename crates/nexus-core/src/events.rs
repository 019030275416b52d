//! The event bus: after a transaction commits, the change is published here; live
//! endpoints and interested domains subscribe.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::time::Timestamp;

/// Who may receive an event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Audience {
    /// Any signed-in user.
    All,
    /// Users holding this permission.
    Permission(String),
    /// These users only.
    Users(Vec<i64>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `entity.action`, e.g. `user.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    pub entity: String,
    pub id: i64,
    pub data: serde_json::Value,
    pub at: Timestamp,
    pub audience: Audience,
}

impl Event {
    pub fn new(entity: &str, action: &str, id: i64, data: serde_json::Value, audience: Audience) -> Self {
        Self {
            kind: format!("{entity}.{action}"),
            entity: entity.to_string(),
            id,
            data,
            at: Timestamp::now(),
            audience,
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { tx }
    }

    /// Publishes a committed change; having no subscriber is not an error.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
