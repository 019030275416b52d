//! Assets and maintenance (`001_fc7d4f68e8fe081f.txt`), first slice: the location tree,
//! asset types and the asset registry as a tree of machines and components.

pub mod api;
pub mod entity;
pub mod model;
pub mod service;

use axum::Router;
use axum::routing::get;
use nexus_core::AppState;
use utoipa::OpenApi;

pub use model::{PERMISSIONS, perm};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/locations",
            get(api::list_locations).post(api::create_location),
        )
        .route(
            "/api/v1/locations/{id}",
            get(api::get_location)
                .patch(api::update_location)
                .delete(api::delete_location),
        )
        .route("/api/v1/locations/{id}/assets", get(api::location_assets))
        .route(
            "/api/v1/asset-types",
            get(api::list_asset_types).post(api::create_asset_type),
        )
        .route(
            "/api/v1/asset-types/{id}",
            get(api::get_asset_type)
                .patch(api::update_asset_type)
                .delete(api::delete_asset_type),
        )
        .route(
            "/api/v1/assets",
            get(api::list_assets).post(api::create_asset),
        )
        .route(
            "/api/v1/assets/{id}",
            get(api::get_asset).patch(api::update_asset),
        )
        .route("/api/v1/assets/{id}/subtree", get(api::asset_subtree))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_locations, api::create_location, api::get_location, api::update_location,
        api::delete_location, api::location_assets,
        api::list_asset_types, api::create_asset_type, api::get_asset_type,
        api::update_asset_type, api::delete_asset_type,
        api::list_assets, api::create_asset, api::get_asset, api::update_asset,
        api::asset_subtree,
    ),
    tags((name = "maintenance", description = "Locations, asset types and assets"))
)]
pub struct ApiDoc;
