//! Handlers of locations, asset types and assets.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, PageParams,
    Versioned,
};

use crate::model::perm::*;
use crate::model::*;
use crate::service;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

// ---------------------------------------------------------------- locations

/// Locations, paged, by name unless `sort` is `city`, `created_at`, `updated_at` or `id`;
/// `parent_id` links them into a tree.
#[utoipa::path(get, path = "/api/v1/locations", tag = "maintenance", security(("bearer" = ["locations:read"])),
    params(PageParams), responses((status = 200, body = ListResponse<LocationOut>), (status = 422)))]
pub async fn list_locations(
    State(state): State<AppState>,
    _: Require<LocationsRead>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<LocationOut>>> {
    Ok(Json(service::list_locations(state.db.read(), &page).await?))
}

/// Create a location.
#[utoipa::path(post, path = "/api/v1/locations", tag = "maintenance", security(("bearer" = ["locations:write"])),
    request_body = LocationData, responses((status = 201, body = LocationOut), (status = 422)))]
pub async fn create_location(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<LocationsWrite>,
    ApiJson(req): ApiJson<LocationData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_location(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One location.
#[utoipa::path(get, path = "/api/v1/locations/{id}", tag = "maintenance", security(("bearer" = ["locations:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = LocationOut), (status = 404)))]
pub async fn get_location(
    State(state): State<AppState>,
    _: Require<LocationsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_location(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change or move a location; it cannot move below itself (422).
#[utoipa::path(patch, path = "/api/v1/locations/{id}", tag = "maintenance", security(("bearer" = ["locations:write"])),
    params(("id" = i64, Path)), request_body = UpdateLocation,
    responses((status = 200, body = LocationOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_location(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<LocationsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateLocation>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_location(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete an empty location; one holding locations or assets is refused with 409.
#[utoipa::path(delete, path = "/api/v1/locations/{id}", tag = "maintenance", security(("bearer" = ["locations:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_location(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<LocationsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_location(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The assets at a location, or anywhere below it with `include_descendants=true`.
#[utoipa::path(get, path = "/api/v1/locations/{id}/assets", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path), LocationAssetsQuery),
    responses((status = 200, body = ListResponse<AssetOut>), (status = 404)))]
pub async fn location_assets(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<LocationAssetsQuery>,
) -> ApiResult<Json<ListResponse<AssetOut>>> {
    Ok(Json(
        service::location_assets(state.db.read(), id, &q).await?,
    ))
}

// ---------------------------------------------------------------- asset types

/// Every asset type, by name, in one page.
#[utoipa::path(get, path = "/api/v1/asset-types", tag = "maintenance", security(("bearer" = ["assets:read"])),
    responses((status = 200, body = ListResponse<AssetTypeOut>)))]
pub async fn list_asset_types(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
) -> ApiResult<Json<ListResponse<AssetTypeOut>>> {
    Ok(Json(service::list_asset_types(state.db.read()).await?))
}

/// Create an asset type; names are unique regardless of case (409).
#[utoipa::path(post, path = "/api/v1/asset-types", tag = "maintenance", security(("bearer" = ["assets:write"])),
    request_body = AssetTypeData, responses((status = 201, body = AssetTypeOut), (status = 409), (status = 422)))]
pub async fn create_asset_type(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    ApiJson(req): ApiJson<AssetTypeData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_asset_type(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One asset type.
#[utoipa::path(get, path = "/api/v1/asset-types/{id}", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = AssetTypeOut), (status = 404)))]
pub async fn get_asset_type(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_asset_type(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change an asset type.
#[utoipa::path(patch, path = "/api/v1/asset-types/{id}", tag = "maintenance", security(("bearer" = ["assets:write"])),
    params(("id" = i64, Path)), request_body = UpdateAssetType,
    responses((status = 200, body = AssetTypeOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_asset_type(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateAssetType>,
) -> ApiResult<impl IntoResponse> {
    let out = service::update_asset_type(&state, &client.audit(Some(user.id())), id, if_match, req)
        .await?;
    Ok(Versioned(out.version, out))
}

/// Delete an asset type no asset uses (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/asset-types/{id}", tag = "maintenance", security(("bearer" = ["assets:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_asset_type(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_asset_type(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- assets

/// Assets, filtered, sorted (`name` by default) and paged.
#[utoipa::path(get, path = "/api/v1/assets", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(AssetFilter, PageParams), responses((status = 200, body = ListResponse<AssetOut>), (status = 422)))]
pub async fn list_assets(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    ApiQuery(f): ApiQuery<AssetFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<AssetOut>>> {
    Ok(Json(
        service::list_assets(state.db.read(), &f, &page).await?,
    ))
}

/// Register an asset; it gets a unique QR token.
#[utoipa::path(post, path = "/api/v1/assets", tag = "maintenance", security(("bearer" = ["assets:write"])),
    request_body = AssetData, responses((status = 201, body = AssetOut), (status = 422)))]
pub async fn create_asset(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    ApiJson(req): ApiJson<AssetData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_asset(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = AssetOut), (status = 404)))]
pub async fn get_asset(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_asset(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change an asset; setting `parent_asset_id` moves it with its components, never
/// below itself (422).
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "maintenance", security(("bearer" = ["assets:write"])),
    params(("id" = i64, Path)), request_body = UpdateAsset,
    responses((status = 200, body = AssetOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_asset(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<AssetsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateAsset>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_asset(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// The asset and all its components, root first, each with its depth, in one page.
#[utoipa::path(get, path = "/api/v1/assets/{id}/subtree", tag = "maintenance", security(("bearer" = ["assets:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ListResponse<SubtreeItem>), (status = 404)))]
pub async fn asset_subtree(
    State(state): State<AppState>,
    _: Require<AssetsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ListResponse<SubtreeItem>>> {
    Ok(Json(service::asset_subtree(state.db.read(), id).await?))
}

/// The downtime intervals of an asset, paged, newest first (`sort`: `started_at`,
/// `ended_at`, `id`). An interval opens when the asset's status becomes `down` (PATCH
/// with an optional `downtime_reason`) and closes when it becomes `operational` or
/// `retired`.
#[utoipa::path(get, path = "/api/v1/assets/{id}/downtime", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<DowntimeOut>), (status = 404), (status = 422)))]
pub async fn asset_downtime(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<DowntimeOut>>> {
    Ok(Json(
        service::list_downtime(state.db.read(), id, &page).await?,
    ))
}

/// Record a past stop of the asset: start, end, reason and the work order that dealt with
/// it (one of the asset's). 409 when it overlaps a recorded interval.
#[utoipa::path(post, path = "/api/v1/assets/{id}/downtime", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = RecordDowntime,
    responses((status = 201, body = DowntimeOut), (status = 404), (status = 409), (status = 422)))]
pub async fn record_downtime(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RecordDowntime>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::record_downtime(&state, &ctx, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// The routes of locations, asset types and assets.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_locations, create_location))
        .routes(routes!(get_location, update_location, delete_location))
        .routes(routes!(location_assets))
        .routes(routes!(list_asset_types, create_asset_type))
        .routes(routes!(
            get_asset_type,
            update_asset_type,
            delete_asset_type
        ))
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(get_asset, update_asset))
        .routes(routes!(asset_subtree))
        .routes(routes!(asset_downtime, record_downtime))
}

#[derive(OpenApi)]
#[openapi(tags((name = "maintenance", description = "Locations, assets, work orders, parts and schedules")))]
pub struct ApiDoc;
