//! CSV export and import of locations and assets.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use nexus_core::auth::Require;
use nexus_core::tabular::{CsvBody, csv_download};
use nexus_core::{ApiResult, AppState, ClientInfo};
use utoipa::OpenApi;

use crate::model::ImportResult;
use crate::model::perm::*;
use crate::service;

/// Every location as CSV, parents before children. Columns: path (names from the root,
/// separated by " / "), description, address, city, state, country, postal_code,
/// latitude, longitude.
#[utoipa::path(get, path = "/api/v1/locations/export", tag = "maintenance", security(("bearer" = ["locations:read"])),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_locations(
    State(state): State<AppState>,
    _: Require<LocationsRead>,
) -> ApiResult<Response> {
    let rows = service::export_locations(state.db.read()).await?;
    csv_download("locations", &service::LOCATION_COLUMNS, rows)
}

/// Import locations from CSV (the export's columns; `path` required). A row whose path
/// exists updates that location, others are created under the path's parent, which must
/// exist or be in the file. All rows land or none: any bad row answers 422 naming
/// `line N: field`.
#[utoipa::path(post, path = "/api/v1/locations/import", tag = "maintenance", security(("bearer" = ["locations:write"])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 415), (status = 422)))]
pub async fn import_locations(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<LocationsWrite>,
    CsvBody(body): CsvBody,
) -> ApiResult<Json<ImportResult>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::import_locations(&state, &ctx, &body).await?))
}

/// Every asset as CSV, by id. Columns: qr_code, name, description, asset_type (name),
/// status, health_score, location (path), parent_qr_code, manufacturer, model,
/// serial_number, installation_date, purchase_cost_cents, expected_lifetime,
/// warranty_expiry_date, last_maintenance_date, next_maintenance_date, image_url.
#[utoipa::path(get, path = "/api/v1/assets/export", tag = "maintenance", security(("bearer" = ["assets:read"])),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_assets(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
) -> ApiResult<Response> {
    let rows = service::export_assets(state.db.read()).await?;
    csv_download("assets", &service::ASSET_COLUMNS, rows)
}

/// Import assets from CSV (the export's columns; `name` required). A row whose qr_code
/// names an asset updates it; others are created (with that QR token, or a new one).
/// Types and locations must exist; parents are named by QR token, of an asset or of a row
/// in the file, and no asset may end up below itself. All rows land or none: any bad row
/// answers 422 naming `line N: field`.
#[utoipa::path(post, path = "/api/v1/assets/import", tag = "maintenance", security(("bearer" = ["assets:write"])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 415), (status = 422)))]
pub async fn import_assets(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    CsvBody(body): CsvBody,
) -> ApiResult<Json<ImportResult>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::import_assets(&state, &ctx, &body).await?))
}

/// The routes of CSV export and import.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/locations/export", get(export_locations))
        .route("/api/v1/locations/import", post(import_locations))
        .route("/api/v1/assets/export", get(export_assets))
        .route("/api/v1/assets/import", post(import_assets))
}

#[derive(OpenApi)]
#[openapi(paths(export_locations, import_locations, export_assets, import_assets))]
pub struct ApiDoc;
