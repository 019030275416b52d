//! `AppState`: what every handler can reach. Cheap to clone.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::auth::Auth;
use crate::config::Config;
use crate::db::Db;
use crate::domain::Domain;
use crate::events::EventBus;
use crate::plant::PlantCell;
use crate::ratelimit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<Auth>,
    pub events: EventBus,
    pub config: Arc<Config>,
    /// Sign-in attempts per client IP.
    pub login_limiter: Arc<RateLimiter>,
    /// Each domain's own in-memory state (caches), by type.
    pub domains: Arc<Domains>,
    /// Every domain the server runs, in navigation order.
    pub registry: &'static [&'static Domain],
    /// The plant's currency and time zone (`nexus_core::plant`), kept current on every node.
    pub plant: Arc<PlantCell>,
}

/// A map from type to one shared value of that type: where a domain keeps its caches
/// without the kernel knowing their types.
#[derive(Default)]
pub struct Domains {
    map: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Domains {
    pub fn insert<T: Any + Send + Sync>(&self, value: T) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`; panics when the domain was not set up (a wiring bug).
    pub fn get<T: Any + Send + Sync>(&self) -> Arc<T> {
        let any = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&TypeId::of::<T>())
            .cloned()
            .unwrap_or_else(|| panic!("domain state {} is not set up", std::any::type_name::<T>()));
        any.downcast()
            .unwrap_or_else(|_| unreachable!("keyed by its own type"))
    }
}
