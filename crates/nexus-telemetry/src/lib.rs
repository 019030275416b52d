//! Telemetry and predictive maintenance (issue 5, the asset metrics, metric history and
//! predictive-maintenance results of `001_fc7d4f68e8fe081f.txt`): metric definitions per
//! asset, high-rate ingestion (JSON and InfluxDB line protocol), rollups and history.

pub mod api;
pub mod entity;
pub mod lineproto;
pub mod model;
pub mod pages;
pub mod predict;
pub mod service;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;

pub use model::{PERMISSIONS, perm};

/// Largest ingest body, in bytes (room for `MAX_POINTS` readings as JSON).
pub const MAX_INGEST_BYTES: usize = 16 * 1024 * 1024;

/// Starts telemetry: the series catalog, the writer and the retention job.
pub async fn setup(state: &AppState) -> ApiResult<()> {
    service::setup(state).await
}

/// Every route of telemetry.
pub fn router() -> Router<AppState> {
    api::routes()
        .layer(DefaultBodyLimit::max(MAX_INGEST_BYTES))
        .merge(pages::router())
}

/// The OpenAPI paths of telemetry.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::ApiDoc::openapi()
}
