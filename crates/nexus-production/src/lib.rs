//! Production tracking (`004_cce711f8dcf04044.txt`): work centers, production orders
//! moving IN to and OUT of them, WIP, live events, daily reports and CSV import.

pub mod api;
pub mod entity;
pub mod home;
pub mod import;
pub mod model;
pub mod pages;
pub mod service;

use axum::extract::DefaultBodyLimit;
use nexus_core::domain::{Domain, NavLink, NavSection, body_limit};
use nexus_core::{ApiResult, AppState, auth::BoxFuture};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use model::{PERMISSIONS, perm};

/// Largest CSV import accepted, in bytes (about four million rows).
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// Production tracking, as the server registers it.
pub static DOMAIN: Domain = Domain {
    name: "production",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Production",
        links: &[
            NavLink {
                href: "/production/entry",
                label: "Record",
                permission: Some("production:record"),
            },
            NavLink {
                href: "/production/board",
                label: "Board",
                permission: Some("production:read"),
            },
            NavLink {
                href: "/production/wip",
                label: "WIP",
                permission: Some("production:read"),
            },
            NavLink {
                href: "/production/reports",
                label: "Reports",
                permission: Some("production:read"),
            },
            NavLink {
                href: "/admin/work-centers",
                label: "Work centers",
                permission: Some("work_centers:read"),
            },
        ],
    }],
    attachables: &[],
    records: &[],
    home: home::HOME,
    setup,
};

/// Default work centers and caches.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    Box::pin(service::setup(state))
}

/// The JSON API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::list_work_centers, api::create_work_center))
        .routes(routes!(api::get_work_center, api::update_work_center))
        .routes(routes!(api::list, api::record))
        .routes(body_limit(
            routes!(api::import_csv),
            DefaultBodyLimit::max(MAX_IMPORT_BYTES),
        ))
        .routes(routes!(api::get))
        .routes(routes!(api::reverse))
        .routes(routes!(api::history))
        .routes(routes!(api::wip))
        .routes(routes!(api::daily))
        .routes(routes!(api::totals))
        .routes(routes!(api::top_orders))
        .routes(routes!(api::get_settings, api::put_settings))
}

#[derive(OpenApi)]
#[openapi(tags((name = "production", description = "Work centers, movements, WIP and reports")))]
struct ApiDoc;
