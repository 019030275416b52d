//! Notifications, the activity feed, announcements and system messages
//! (`000_c229cfaa0d2d7bf6.txt`, `001_fc7d4f68e8fe081f.txt`, `003_34ae763f25b632e1.txt`).
//! Other domains never call this one: it listens to their events and turns the ones
//! that concern a person into notifications, and remembers who follows what.

pub mod api;
pub mod entity;
pub mod home;
pub mod model;
pub mod pages;
pub mod service;

use nexus_core::auth::BoxFuture;
use nexus_core::domain::{Domain, NavLink, NavSection, RecordPage};
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use model::{PERMISSIONS, perm};

/// Notifications, the feed, announcements and system messages, as the server registers them.
pub static DOMAIN: Domain = Domain {
    name: "comms",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Inbox",
        links: &[
            NavLink {
                href: "/notifications",
                label: "Notifications",
                permission: None,
            },
            NavLink {
                href: "/updates",
                label: "Announcements",
                permission: Some("updates:read"),
            },
            NavLink {
                href: "/feed",
                label: "Activity feed",
                permission: None,
            },
            NavLink {
                href: "/system-messages",
                label: "System messages",
                permission: Some("system_messages:write"),
            },
        ],
    }],
    attachables: &[],
    records: &[RecordPage {
        entity_type: "update",
        noun: "announcement",
        href: "/updates/{id}",
    }],
    home: home::HOME,
    setup,
};

/// What listens to the other domains' events, and the background passes (scheduled
/// announcements, due reminders).
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    Box::pin(async move { service::start(state).await })
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::notifications::routes())
        .merge(api::messages::routes())
        .merge(api::updates::routes())
        .merge(api::feed::routes())
}

#[derive(OpenApi)]
#[openapi(tags((
    name = "comms",
    description = "Notifications, activity feed, announcements and system messages"
)))]
struct ApiDoc;
