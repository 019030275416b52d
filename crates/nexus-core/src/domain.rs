//! What a domain gives the server. Each domain crate exports one [`Domain`] value; the
//! server keeps one list of them and takes everything from there: permissions, API routes
//! with their OpenAPI documentation (declared once, by `utoipa_axum::routes!`), pages,
//! navigation, attachable records, home-page panels and what runs on start.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::auth::BoxFuture;
use crate::error::ApiResult;
use crate::home::Home;
use crate::state::AppState;

/// A permission a role can hold, and which built-in roles (besides admin) get it.
pub struct PermissionDef {
    pub name: &'static str,
    pub description: &'static str,
    pub granted_to: &'static [&'static str],
}

/// One entry of the navigation, shown to whoever holds `permission` (everyone if none).
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub permission: Option<&'static str>,
}

/// A domain's part of the navigation: a titled group of links.
pub struct NavSection {
    pub title: &'static str,
    pub links: &'static [NavLink],
}

/// A kind of record files can be attached to: its name in `attachments.entity_type`, the
/// table holding it, and the permissions to see it and to change it.
#[derive(Debug, Clone, Copy)]
pub struct Attachable {
    pub entity_type: &'static str,
    pub table: &'static str,
    /// The table its archived records move to (same ids), where their attachments stay
    /// readable and no longer change.
    pub archive: Option<&'static str>,
    pub read: &'static str,
    pub write: &'static str,
}

/// A kind of record with a page of its own: its type as events and the audit trail name
/// it, a noun for sentences ("work order") and the page's address, `{id}` standing for the id.
pub struct RecordPage {
    pub entity_type: &'static str,
    pub noun: &'static str,
    pub href: &'static str,
}

/// The noun and the page address of record `id` of `entity_type`, from whichever domain
/// shows it.
pub fn record_page(
    registry: &[&Domain],
    entity_type: &str,
    id: i64,
) -> Option<(&'static str, String)> {
    registry
        .iter()
        .flat_map(|d| d.records)
        .find(|r| r.entity_type == entity_type)
        .map(|r| (r.noun, r.href.replace("{id}", &id.to_string())))
}

/// What a domain does once on start (caches, background tasks), after migrations and
/// first-start defaults.
pub type Setup = fn(&AppState) -> BoxFuture<'_, ApiResult<()>>;

/// Everything a domain plugs into the server.
pub struct Domain {
    pub name: &'static str,
    pub permissions: &'static [PermissionDef],
    /// The JSON API: every route registered with its documentation.
    pub api: fn() -> OpenApiRouter<AppState>,
    /// Server-rendered pages.
    pub pages: fn() -> Router<AppState>,
    pub nav: &'static [NavSection],
    pub attachables: &'static [Attachable],
    /// The records this domain shows on pages of their own.
    pub records: &'static [RecordPage],
    /// The domain's panels on the home page, with the counts shown on the navigation.
    pub home: Home,
    pub setup: Setup,
}

/// A [`Setup`] that does nothing.
pub fn no_setup(_: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    Box::pin(async { Ok(()) })
}

/// Pages of a domain that has none.
pub fn no_pages() -> Router<AppState> {
    Router::new()
}

/// Routes whose body limit differs from the server's default (uploads, imports).
pub fn body_limit(
    routes: UtoipaMethodRouter<AppState>,
    limit: DefaultBodyLimit,
) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, router) = routes;
    (schemas, paths, router.layer(limit))
}
