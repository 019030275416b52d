//! Assets and maintenance (`001_fc7d4f68e8fe081f.txt`): the location tree, asset types,
//! the asset registry as a tree of machines and components, work orders, parts and
//! preventive schedules.

pub mod api;
pub mod entity;
pub mod model;
pub mod pages;
pub mod service;

use axum::Router;
use nexus_core::AppState;
use utoipa::OpenApi;

pub use model::{PERMISSIONS, perm};

/// The maintenance records files can be attached to.
pub const ATTACHABLE: &[nexus_content::Attachable] = &[
    nexus_content::Attachable {
        entity_type: "asset",
        table: "assets",
        read: "assets:read",
        write: "assets:write",
    },
    nexus_content::Attachable {
        entity_type: "work_order",
        table: "work_orders",
        read: "work_orders:read",
        write: "work_orders:write",
    },
    nexus_content::Attachable {
        entity_type: "work_order_comment",
        table: "work_order_comments",
        read: "work_orders:read",
        write: "work_orders:write",
    },
    nexus_content::Attachable {
        entity_type: "work_request",
        table: "work_requests",
        read: "work_orders:read",
        write: "work_orders:manage",
    },
];

/// Sets up maintenance: the public request rate limiter, and the background preventive
/// maintenance generator.
pub fn setup(state: &AppState) {
    state.domains.insert(service::RequestLimiter::default());
    service::spawn_pm_generator(state);
}

/// Every route of maintenance.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(api::assets::routes())
        .merge(api::exchange::routes())
        .merge(api::work_orders::routes())
        .merge(pages::router())
        .merge(api::inventory::routes())
        .merge(api::schedules::routes())
        .merge(api::kpis::routes())
        .merge(api::qr::routes())
        .merge(api::requests::routes())
}

/// The OpenAPI paths of maintenance.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api::assets::ApiDoc::openapi();
    doc.merge(api::exchange::ApiDoc::openapi());
    doc.merge(api::work_orders::ApiDoc::openapi());
    doc.merge(api::inventory::ApiDoc::openapi());
    doc.merge(api::schedules::ApiDoc::openapi());
    doc.merge(api::kpis::ApiDoc::openapi());
    doc.merge(api::qr::ApiDoc::openapi());
    doc.merge(api::requests::ApiDoc::openapi());
    doc
}
