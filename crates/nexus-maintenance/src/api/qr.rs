//! Handlers of asset QR codes and of maintenance settings.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{ApiJson, ApiResult, AppState, ClientInfo};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service::{self, qr};

/// The public address an asset's code encodes.
async fn asset_url(state: &AppState, headers: &HeaderMap, id: i64) -> ApiResult<String> {
    let asset = service::get_asset(state.db.read(), id).await?;
    let base = qr::public_base(state, headers).await?;
    Ok(format!("{base}/a/{}", asset.qr_code))
}

/// The asset's QR code as SVG; it opens the asset's page (signed in) or the public
/// work-request form.
#[utoipa::path(get, path = "/api/v1/assets/{id}/qr.svg", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path)), responses((status = 200, content_type = "image/svg+xml"), (status = 404)))]
pub async fn qr_svg(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let svg = qr::qr_svg(&asset_url(&state, &headers, id).await?, 256)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}

/// The asset's QR code as PNG, 8 pixels per module.
#[utoipa::path(get, path = "/api/v1/assets/{id}/qr.png", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path)), responses((status = 200, content_type = "image/png"), (status = 404)))]
pub async fn qr_png(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let png = qr::qr_png(&asset_url(&state, &headers, id).await?, 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

/// Maintenance settings: the public address QR codes point at.
#[utoipa::path(get, path = "/api/v1/maintenance/settings", tag = "maintenance", security(("bearer" = ["assets:read"])),
    responses((status = 200, body = MaintenanceSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
) -> ApiResult<Json<MaintenanceSettings>> {
    Ok(Json(qr::get_settings(state.db.read()).await?))
}

/// Change maintenance settings.
#[utoipa::path(put, path = "/api/v1/maintenance/settings", tag = "maintenance", security(("bearer" = ["work_orders:manage"])),
    request_body = MaintenanceSettings, responses((status = 200, body = MaintenanceSettings), (status = 422)))]
pub async fn put_settings(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersManage>,
    ApiJson(req): ApiJson<MaintenanceSettings>,
) -> ApiResult<Json<MaintenanceSettings>> {
    Ok(Json(
        qr::set_settings(&state, &client.audit(Some(user.id())), req).await?,
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(qr_svg))
        .routes(routes!(qr_png))
        .routes(routes!(get_settings, put_settings))
}
