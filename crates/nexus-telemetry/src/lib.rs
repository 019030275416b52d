//! Telemetry and predictive maintenance (issue 5, the asset metrics, metric history and
//! predictive-maintenance results of `001_fc7d4f68e8fe081f.txt`): metric definitions per
//! asset, high-rate ingestion (JSON and InfluxDB line protocol), rollups and history.

pub mod api;
pub mod archive;
pub mod entity;
pub mod home;
pub mod lineproto;
pub mod model;
pub mod pages;
pub mod predict;
pub mod service;

use axum::extract::DefaultBodyLimit;
use nexus_core::auth::BoxFuture;
use nexus_core::domain::{Domain, NavLink, NavSection};
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use model::{PERMISSIONS, perm};

/// Largest ingest body, in bytes (room for `MAX_POINTS` readings as JSON).
pub const MAX_INGEST_BYTES: usize = 16 * 1024 * 1024;

/// Telemetry, as the server registers it.
pub static DOMAIN: Domain = Domain {
    name: "telemetry",
    permissions: PERMISSIONS,
    api,
    pages: pages::router,
    nav: &[NavSection {
        title: "Telemetry",
        links: &[
            NavLink {
                href: "/alerts",
                label: "Alerts",
                permission: Some("telemetry:read"),
            },
            NavLink {
                href: "/telemetry/risk",
                label: "Risk",
                permission: Some("telemetry:read"),
            },
        ],
    }],
    attachables: &[],
    records: &[],
    home: home::HOME,
    setup,
};

/// The series catalog, the writer, the MQTT subscriber and the retention job.
fn setup(state: &AppState) -> BoxFuture<'_, ApiResult<()>> {
    Box::pin(service::setup(state))
}

/// The JSON API; ingestion takes bodies up to `MAX_INGEST_BYTES`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::ApiDoc::openapi())
        .merge(api::routes())
        .layer(DefaultBodyLimit::max(MAX_INGEST_BYTES))
}
