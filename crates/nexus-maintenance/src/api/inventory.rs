//! Handlers of parts, stock and the stock ledger.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::tabular::{CsvBody, csv_download};
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, PageParams,
    Versioned,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

// ---------------------------------------------------------------- parts

/// Parts, filtered, sorted (`sku` by default) and paged.
#[utoipa::path(get, path = "/api/v1/parts", tag = "maintenance", security(("bearer" = ["parts:read"])),
    params(PartFilter, PageParams), responses((status = 200, body = ListResponse<PartOut>), (status = 422)))]
pub async fn list_parts(
    State(state): State<AppState>,
    _: Require<PartsRead>,
    ApiQuery(f): ApiQuery<PartFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<PartOut>>> {
    Ok(Json(service::list_parts(state.db.read(), &f, &page).await?))
}

/// Create a part; SKUs are unique regardless of case (409 naming `sku`).
#[utoipa::path(post, path = "/api/v1/parts", tag = "maintenance", security(("bearer" = ["parts:write"])),
    request_body = PartData, responses((status = 201, body = PartOut), (status = 409), (status = 422)))]
pub async fn create_part(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<PartsWrite>,
    ApiJson(req): ApiJson<PartData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_part(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One part, with its total stock.
#[utoipa::path(get, path = "/api/v1/parts/{id}", tag = "maintenance", security(("bearer" = ["parts:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = PartOut), (status = 404)))]
pub async fn get_part(
    State(state): State<AppState>,
    _: Require<PartsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_part(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a part's attributes (not its stock: that moves through the ledger).
#[utoipa::path(patch, path = "/api/v1/parts/{id}", tag = "maintenance", security(("bearer" = ["parts:write"])),
    params(("id" = i64, Path)), request_body = UpdatePart,
    responses((status = 200, body = PartOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_part(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<PartsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdatePart>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_part(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a part that never moved; one with ledger lines is refused with 409.
#[utoipa::path(delete, path = "/api/v1/parts/{id}", tag = "maintenance", security(("bearer" = ["parts:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_part(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<PartsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_part(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A part's stock per location.
#[utoipa::path(get, path = "/api/v1/parts/{id}/stock", tag = "maintenance", security(("bearer" = ["parts:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = PartStockOut), (status = 404)))]
pub async fn part_stock(
    State(state): State<AppState>,
    _: Require<PartsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<PartStockOut>> {
    Ok(Json(service::part_stock(state.db.read(), id).await?))
}

// ---------------------------------------------------------------- stock movements

/// Receive units at a location.
#[utoipa::path(post, path = "/api/v1/parts/{id}/receive", tag = "maintenance", security(("bearer" = ["stock:write"])),
    params(("id" = i64, Path)), request_body = ReceiveStock,
    responses((status = 201, body = MovementOut), (status = 404), (status = 422)))]
pub async fn receive(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<StockWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReceiveStock>,
) -> ApiResult<impl IntoResponse> {
    let change = req.validate()?;
    let ctx = client.audit(Some(user.id()));
    let out = service::change_stock(&state, &ctx, id, "receive", change).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Take units from a location (not for a work order: those go through the order's parts);
/// more than the location holds is refused with 409 naming `quantity`.
#[utoipa::path(post, path = "/api/v1/parts/{id}/consume", tag = "maintenance", security(("bearer" = ["stock:write"])),
    params(("id" = i64, Path)), request_body = ConsumeStock,
    responses((status = 201, body = MovementOut), (status = 404), (status = 409), (status = 422)))]
pub async fn consume(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<StockWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ConsumeStock>,
) -> ApiResult<impl IntoResponse> {
    let change = req.validate()?;
    let ctx = client.audit(Some(user.id()));
    let out = service::change_stock(&state, &ctx, id, "consume", change).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Correct a location's stock by a signed quantity, with a required reason; never below
/// zero (409 naming `quantity`).
#[utoipa::path(post, path = "/api/v1/parts/{id}/adjust", tag = "maintenance", security(("bearer" = ["stock:write"])),
    params(("id" = i64, Path)), request_body = AdjustStock,
    responses((status = 201, body = MovementOut), (status = 404), (status = 409), (status = 422)))]
pub async fn adjust(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<StockWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AdjustStock>,
) -> ApiResult<impl IntoResponse> {
    let change = req.validate()?;
    let ctx = client.audit(Some(user.id()));
    let out = service::change_stock(&state, &ctx, id, "adjust", change).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Move units between locations: both ledger lines (out, then in) or neither.
#[utoipa::path(post, path = "/api/v1/parts/{id}/transfer", tag = "maintenance", security(("bearer" = ["stock:write"])),
    params(("id" = i64, Path)), request_body = TransferStock,
    responses((status = 201, body = Vec<MovementOut>), (status = 404), (status = 409), (status = 422)))]
pub async fn transfer(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<StockWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<TransferStock>,
) -> ApiResult<impl IntoResponse> {
    let out = service::transfer_stock(&state, &client.audit(Some(user.id())), id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// The stock ledger, newest first, paged by key (`after` = the previous `next_after`).
#[utoipa::path(get, path = "/api/v1/stock-movements", tag = "maintenance", security(("bearer" = ["parts:read"])),
    params(MovementFilter), responses((status = 200, body = MovementPage), (status = 422)))]
pub async fn list_movements(
    State(state): State<AppState>,
    _: Require<PartsRead>,
    ApiQuery(f): ApiQuery<MovementFilter>,
) -> ApiResult<Json<MovementPage>> {
    Ok(Json(service::list_movements(state.db.read(), &f).await?))
}

/// Every part as CSV, by SKU. Columns: sku, name, description, category,
/// unit_cost_cents, supplier, image_url, reorder_point, reorder_quantity,
/// quantity_in_stock.
#[utoipa::path(get, path = "/api/v1/parts/export", tag = "maintenance", security(("bearer" = ["parts:read"])),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_parts(
    State(state): State<AppState>,
    _: Require<PartsRead>,
) -> ApiResult<Response> {
    let rows = service::export_parts(state.db.read()).await?;
    csv_download("parts", &service::PART_COLUMNS, rows)
}

/// Import parts from CSV (the export's columns; `sku` and `name` required;
/// `quantity_in_stock` is ignored: stock moves through the ledger). A known SKU (any
/// case) updates its part in the columns the file has; a new one creates a part. All
/// rows land or none: any bad row answers 422 naming `line N: field`.
#[utoipa::path(post, path = "/api/v1/parts/import", tag = "maintenance", security(("bearer" = ["parts:write"])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 415), (status = 422)))]
pub async fn import_parts(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<PartsWrite>,
    CsvBody(body): CsvBody,
) -> ApiResult<Json<ImportResult>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::import_parts(&state, &ctx, &body).await?))
}

/// Use a part on an open or in-progress work order: its units leave the location's
/// stock (409 naming `quantity` when short) at the part's current unit cost.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/parts", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = UsePart,
    responses((status = 201, body = WorkOrderPartOut), (status = 404), (status = 409), (status = 422)))]
pub async fn use_part(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UsePart>,
) -> ApiResult<impl IntoResponse> {
    let out = service::use_part(&state, &client.audit(Some(user.id())), id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// The parts used on a work order, oldest first, with quantities, costs and their total.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/parts", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = WorkOrderParts), (status = 404)))]
pub async fn work_order_parts(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<WorkOrderParts>> {
    Ok(Json(service::work_order_parts(state.db.read(), id).await?))
}

/// The routes of parts and stock.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_parts, create_part))
        .routes(routes!(get_part, update_part, delete_part))
        .routes(routes!(export_parts))
        .routes(routes!(import_parts))
        .routes(routes!(part_stock))
        .routes(routes!(receive))
        .routes(routes!(consume))
        .routes(routes!(adjust))
        .routes(routes!(transfer))
        .routes(routes!(list_movements))
        .routes(routes!(work_order_parts, use_part))
}
