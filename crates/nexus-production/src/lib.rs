//! Production tracking (`004_cce711f8dcf04044.txt`): work centers, production orders
//! moving IN to and OUT of them, WIP, live events, daily reports and CSV import.

pub mod api;
pub mod entity;
pub mod import;
pub mod model;
pub mod pages;
pub mod service;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use nexus_core::{ApiResult, AppState};
use utoipa::OpenApi;

pub use model::{PERMISSIONS, perm};

/// Largest CSV import accepted, in bytes (about four million rows).
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// Sets up the domain on start: default work centers and caches.
pub async fn setup(state: &AppState) -> ApiResult<()> {
    service::setup(state).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/work-centers",
            get(api::list_work_centers).post(api::create_work_center),
        )
        .route(
            "/api/v1/work-centers/{id}",
            get(api::get_work_center).patch(api::update_work_center),
        )
        .route(
            "/api/v1/production-orders",
            get(api::list).post(api::record),
        )
        .route(
            "/api/v1/production-orders/import",
            post(api::import_csv).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/api/v1/production-orders/{id}", get(api::get))
        .route("/api/v1/production-orders/{id}/reverse", post(api::reverse))
        .route(
            "/api/v1/production-orders/history/{production_order}",
            get(api::history),
        )
        .route("/api/v1/reports/production/daily", get(api::daily))
        .route("/api/v1/reports/production/work-centers", get(api::totals))
        .route(
            "/api/v1/reports/production/top-orders",
            get(api::top_orders),
        )
        .route(
            "/api/v1/production/settings",
            get(api::get_settings).put(api::put_settings),
        )
        .merge(pages::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_work_centers, api::create_work_center, api::get_work_center, api::update_work_center,
        api::record, api::list, api::get, api::reverse, api::history, api::import_csv,
        api::daily, api::totals, api::top_orders, api::get_settings, api::put_settings,
    ),
    tags((name = "production", description = "Work centers, movements, WIP and reports"))
)]
pub struct ApiDoc;
