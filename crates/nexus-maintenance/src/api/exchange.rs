//! CSV export and import of locations and assets.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use nexus_core::auth::Require;
use nexus_core::tabular::{CsvBody, csv_download};
use nexus_core::{ApiResult, AppState, ClientInfo};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_locations))
        .routes(routes!(import_locations))
        .routes(routes!(export_assets))
        .routes(routes!(import_assets))
}
