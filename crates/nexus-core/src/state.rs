//! `AppState`: what every handler can reach. Cheap to clone.

use std::sync::Arc;

use crate::auth::Auth;
use crate::config::Config;
use crate::db::Db;
use crate::events::EventBus;
use crate::ratelimit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<Auth>,
    pub events: EventBus,
    pub config: Arc<Config>,
    /// Sign-in attempts per client IP.
    pub login_limiter: Arc<RateLimiter>,
}
