//! The web pages of notifications, the activity feed, announcements and system messages.
//! Handlers parse the form, call the same services as the JSON API and render a template.

mod feed;
mod messages;
mod notifications;
mod updates;

use axum::Router;
use nexus_core::AppState;

/// Every page of this domain.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(feed::router())
        .merge(messages::router())
        .merge(notifications::router())
        .merge(updates::router())
}
