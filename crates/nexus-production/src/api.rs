//! HTTP handlers of production tracking: thin, each declaring its permission.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::tabular::{CsvBody, csv_download};
use nexus_core::{
    ApiError, ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse,
    PageParams, Versioned,
};

use crate::import;
use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Work centers, by code.
#[utoipa::path(get, path = "/api/v1/work-centers", tag = "production", security(("bearer" = ["work_centers:read"])),
    params(WorkCenterFilter), responses((status = 200, body = ListResponse<WorkCenterOut>)))]
pub async fn list_work_centers(
    State(state): State<AppState>,
    _: Require<WorkCentersRead>,
    ApiQuery(f): ApiQuery<WorkCenterFilter>,
) -> Json<ListResponse<WorkCenterOut>> {
    Json(ListResponse::all(service::list_work_centers(&state, &f)))
}

/// Create a work center.
#[utoipa::path(post, path = "/api/v1/work-centers", tag = "production", security(("bearer" = ["work_centers:write"])),
    request_body = CreateWorkCenter, responses((status = 201, body = WorkCenterOut), (status = 409), (status = 422)))]
pub async fn create_work_center(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkCentersWrite>,
    ApiJson(req): ApiJson<CreateWorkCenter>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_work_center(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One work center.
#[utoipa::path(get, path = "/api/v1/work-centers/{id}", tag = "production", security(("bearer" = ["work_centers:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = WorkCenterOut), (status = 404)))]
pub async fn get_work_center(
    State(state): State<AppState>,
    _: Require<WorkCentersRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_work_center(&state, id)?;
    Ok(Versioned(out.version, out))
}

/// Change a work center; an inactive one refuses new movements but keeps its history.
#[utoipa::path(patch, path = "/api/v1/work-centers/{id}", tag = "production", security(("bearer" = ["work_centers:write"])),
    params(("id" = i64, Path)), request_body = UpdateWorkCenter,
    responses((status = 200, body = WorkCenterOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_work_center(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkCentersWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateWorkCenter>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_work_center(&state, &client.audit(Some(user.id())), id, if_match, req)
            .await?;
    Ok(Versioned(out.version, out))
}

/// Record a production order moving IN to or OUT of a work center. An OUT larger than
/// the order's WIP there is refused with 409 (unless the settings allow it).
#[utoipa::path(post, path = "/api/v1/production-orders", tag = "production", security(("bearer" = ["production:record"])),
    request_body = RecordMovement, responses((status = 201, body = RecordedMovement), (status = 409), (status = 422)))]
pub async fn record(
    State(state): State<AppState>,
    Require(user, _): Require<ProductionRecord>,
    ApiJson(req): ApiJson<RecordMovement>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(service::record(&state, user.id(), req).await?),
    ))
}

/// Movements, newest first, filtered and paged by key (`after`).
#[utoipa::path(get, path = "/api/v1/production-orders", tag = "production", security(("bearer" = ["production:read"])),
    params(MovementFilter), responses((status = 200, body = MovementPage)))]
pub async fn list(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    ApiQuery(f): ApiQuery<MovementFilter>,
) -> ApiResult<Json<MovementPage>> {
    Ok(Json(service::list_movements(&state.db, &f).await?))
}

/// One movement.
#[utoipa::path(get, path = "/api/v1/production-orders/{id}", tag = "production", security(("bearer" = ["production:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = MovementOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<MovementOut>> {
    Ok(Json(service::get_movement(&state.db, id).await?))
}

/// Undo a movement with a reversal that references it. Movements are never edited or deleted.
#[utoipa::path(post, path = "/api/v1/production-orders/{id}/reverse", tag = "production", security(("bearer" = ["production:correct"])),
    params(("id" = i64, Path)), request_body = ReverseMovement,
    responses((status = 201, body = RecordedMovement), (status = 404), (status = 409)))]
pub async fn reverse(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProductionCorrect>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReverseMovement>,
) -> ApiResult<impl IntoResponse> {
    let out = service::reverse(&state, &client.audit(Some(user.id())), id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Units in progress now, across orders and work centers: every (order, work center)
/// with units moved in and not yet out, by order number then work center.
#[utoipa::path(get, path = "/api/v1/wip", tag = "production", security(("bearer" = ["production:read"])),
    params(WipFilter, PageParams), responses((status = 200, body = ListResponse<WipOut>)))]
pub async fn wip(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    ApiQuery(f): ApiQuery<WipFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<WipOut>>> {
    Ok(Json(service::list_wip(&state.db, &f, &page).await?))
}

/// One production order across work centers: WIP per work center and every movement.
#[utoipa::path(get, path = "/api/v1/production-orders/history/{production_order}", tag = "production", security(("bearer" = ["production:read"])),
    params(("production_order" = String, Path)), responses((status = 200, body = OrderHistory), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    Path(order): Path<String>,
) -> ApiResult<Json<OrderHistory>> {
    Ok(Json(service::order_history(&state.db, &order).await?))
}

/// Import movements from a CSV body (`text/csv`). Columns: production_order,
/// workcenter_code (or workcenter_id), quantity, order_type, and optionally
/// scrap_quantity, shift, note, created_at. Every row is checked first; any bad row
/// rejects the whole file (422 naming each line); a good file lands in one transaction.
#[utoipa::path(post, path = "/api/v1/production-orders/import", tag = "production", security(("bearer" = ["production:import"])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ImportResult), (status = 413), (status = 415), (status = 422)))]
pub async fn import_csv(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProductionImport>,
    CsvBody(body): CsvBody,
) -> ApiResult<impl IntoResponse> {
    let parse_state = state.clone();
    let rows = tokio::task::spawn_blocking(move || import::parse_csv(&parse_state, &body))
        .await
        .map_err(ApiError::internal)??;
    let out = import::import(
        &state,
        &client.audit(Some(user.id())),
        user.id(),
        rows,
        &|_, _| {},
    )
    .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

fn wants_csv(q: &ReportQuery, headers: &HeaderMap) -> bool {
    q.wants_csv()
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))
}

/// Per day, work center and direction: movements, quantity and scrap, for a range of
/// plant-local days. JSON, or CSV with `Accept: text/csv` or `format=csv`.
#[utoipa::path(get, path = "/api/v1/reports/production/daily", tag = "production", security(("bearer" = ["production:read"])),
    params(ReportQuery), responses((status = 200, body = DailySummary), (status = 422)))]
pub async fn daily(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let summary = service::daily_summary(&state, &q).await?;
    if wants_csv(&q, &headers) {
        let rows = summary
            .rows
            .into_iter()
            .map(|r| {
                vec![
                    r.day,
                    r.workcenter_code,
                    r.order_type,
                    r.movements.to_string(),
                    r.quantity.to_string(),
                    r.scrap.to_string(),
                ]
            })
            .collect();
        return csv_download(
            "daily-summary",
            &[
                "day",
                "workcenter_code",
                "order_type",
                "movements",
                "quantity",
                "scrap",
            ],
            rows,
        );
    }
    Ok(Json(summary).into_response())
}

/// Totals per work center over a range of days.
#[utoipa::path(get, path = "/api/v1/reports/production/work-centers", tag = "production", security(("bearer" = ["production:read"])),
    params(ReportQuery), responses((status = 200, body = Vec<WorkCenterTotal>), (status = 422)))]
pub async fn totals(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let totals = service::work_center_totals(&state, &q).await?;
    if wants_csv(&q, &headers) {
        let rows = totals
            .into_iter()
            .map(|t| {
                vec![
                    t.workcenter_code,
                    t.workcenter_name,
                    t.in_movements.to_string(),
                    t.in_quantity.to_string(),
                    t.out_movements.to_string(),
                    t.out_quantity.to_string(),
                    t.scrap.to_string(),
                ]
            })
            .collect();
        return csv_download(
            "work-center-totals",
            &[
                "workcenter_code",
                "workcenter_name",
                "in_movements",
                "in_quantity",
                "out_movements",
                "out_quantity",
                "scrap",
            ],
            rows,
        );
    }
    Ok(Json(totals).into_response())
}

/// The orders that moved the most units out in a range.
#[utoipa::path(get, path = "/api/v1/reports/production/top-orders", tag = "production", security(("bearer" = ["production:read"])),
    params(ReportQuery), responses((status = 200, body = Vec<TopOrder>), (status = 422)))]
pub async fn top_orders(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let top = service::top_orders(&state, &q).await?;
    if wants_csv(&q, &headers) {
        let rows = top
            .into_iter()
            .map(|t| {
                vec![
                    t.production_order,
                    t.movements.to_string(),
                    t.in_quantity.to_string(),
                    t.out_quantity.to_string(),
                ]
            })
            .collect();
        return csv_download(
            "top-orders",
            &[
                "production_order",
                "movements",
                "in_quantity",
                "out_quantity",
            ],
            rows,
        );
    }
    Ok(Json(top).into_response())
}

/// Production settings: the plant's time zone and whether WIP may go negative.
#[utoipa::path(get, path = "/api/v1/production/settings", tag = "production", security(("bearer" = ["production:read"])),
    responses((status = 200, body = ProductionSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Require<ProductionRead>,
) -> Json<ProductionSettings> {
    Json(service::get_settings(&state))
}

/// Change production settings; a new time zone re-counts the daily rollup.
#[utoipa::path(put, path = "/api/v1/production/settings", tag = "production", security(("bearer" = ["production:configure"])),
    request_body = ProductionSettings, responses((status = 200, body = ProductionSettings), (status = 422)))]
pub async fn put_settings(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProductionConfigure>,
    ApiJson(req): ApiJson<ProductionSettings>,
) -> ApiResult<Json<ProductionSettings>> {
    Ok(Json(
        service::set_settings(&state, &client.audit(Some(user.id())), req).await?,
    ))
}
