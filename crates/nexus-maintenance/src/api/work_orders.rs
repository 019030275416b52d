//! Handlers of work orders.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexus_core::archive::{ArchiveQuery, ArchiveReport, ArchiveRun};
use nexus_core::audit::AuditEntry;
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, PageParams,
    Versioned,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Work orders, filtered by any combination of status, asset, location, assignee,
/// priority, type, due range and text; sorted (`-id`, newest first, by default) and paged.
/// `sort=-criticality` puts work on the most critical assets (A, then B, C, none) first.
/// `total` is exact unless `total_exact` is false (more than 1,000 matches past the page).
/// `archived=true` lists the archived work orders instead (completed or cancelled long
/// ago; read-only, with `archived_at` set), under the same filters and sorts.
#[utoipa::path(get, path = "/api/v1/work-orders", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(WorkOrderFilter, PageParams), responses((status = 200, body = ListResponse<WorkOrderOut>), (status = 422)))]
pub async fn list_work_orders(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    ApiQuery(f): ApiQuery<WorkOrderFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<WorkOrderOut>>> {
    Ok(Json(
        service::list_work_orders(state.db.read(), &f, &page).await?,
    ))
}

/// Create a work order with its checklist; it gets the next number (`WO-000123`) and
/// starts `open`. A `dedupe_key` held by an open work order is refused with 409.
#[utoipa::path(post, path = "/api/v1/work-orders", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    request_body = NewWorkOrder,
    responses((status = 201, body = WorkOrderDetail), (status = 403), (status = 409), (status = 422)))]
pub async fn create_work_order(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    ApiJson(req): ApiJson<NewWorkOrder>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let detail = service::raise_work_order(&state, &ctx, &user, req).await?;
    Ok((
        StatusCode::CREATED,
        Versioned(detail.work_order.version, detail),
    ))
}

/// One work order with its checklist, live or archived (`archived_at` set; its labor,
/// comments, parts and history stay readable; any change to it is 409).
#[utoipa::path(get, path = "/api/v1/work-orders/{id}", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = WorkOrderDetail), (status = 404)))]
pub async fn get_work_order(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_work_order(state.db.read(), id).await?;
    Ok(Versioned(out.work_order.version, out))
}

/// Change the status. Allowed: open → in_progress, on_hold, completed, cancelled;
/// in_progress → open, on_hold, completed, cancelled; on_hold → open, in_progress,
/// cancelled; completed and cancelled are final (409 naming from and to). Cancelling
/// needs `work_orders:manage` (403). Completing needs every required checklist step
/// answered (409 naming them) and sets `completed_at` and `actual_minutes` (the labor
/// total unless given).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/status", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = WorkOrderOut), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn change_status(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StatusChange>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::change_work_order_status(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Change an open work order's fields; 409 once completed or cancelled. Giving it to
/// someone else needs `work_orders:manage` (403); taking it yourself or handing it back
/// only `work_orders:write`.
#[utoipa::path(patch, path = "/api/v1/work-orders/{id}", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = UpdateWorkOrder,
    responses((status = 200, body = WorkOrderOut), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_work_order(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateWorkOrder>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_work_order(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Answer one checklist step (If-Match: the step's version). The field must match the
/// step's kind; a number outside the step's limits is 422 on `number_value`. A failed
/// pass/fail step marked `create_follow_up` opens a corrective follow-up work order
/// (returned in `follow_up`); answering it again while that one is open opens no other.
#[utoipa::path(put, path = "/api/v1/work-orders/{id}/checklist/{item_id}", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path), ("item_id" = i64, Path)), request_body = ChecklistAnswer,
    responses((status = 200, body = ChecklistAnswered), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn answer_checklist_item(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    if_match: IfMatch,
    Path((id, item_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<ChecklistAnswer>,
) -> ApiResult<Json<ChecklistAnswered>> {
    let ctx = client.audit(Some(user.id()));
    let out = service::answer_checklist_item(&state, &ctx, id, item_id, if_match, req).await?;
    Ok(Json(out))
}

/// The labor recorded on a work order, paged; sorted by `started_at` unless `sort` is
/// `ended_at`, `minutes`, `user_id` or `id`.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/labor", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<LaborOut>), (status = 404), (status = 422)))]
pub async fn list_labor(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<LaborOut>>> {
    Ok(Json(service::list_labor(state.db.read(), id, &page).await?))
}

/// Record time worked from `started_at` to `ended_at` (not in the future). Another
/// person's time needs `work_orders:manage`. Overlapping that person's other time on the
/// work order is 409.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/labor", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = NewLabor,
    responses((status = 201, body = LaborOut), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn add_labor(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewLabor>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_labor(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Correct a finished labor entry of an open work order (times, rate, note); your own, or
/// anyone's with `work_orders:manage`. 409 while its timer runs or when it would overlap
/// the same person's other time. Send `If-Match` to avoid overwriting another correction.
#[utoipa::path(patch, path = "/api/v1/work-orders/{id}/labor/{entry}", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path), ("entry" = i64, Path)), request_body = UpdateLabor,
    responses((status = 200, body = LaborOut), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_labor(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    if_match: IfMatch,
    Path((id, entry)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<UpdateLabor>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_labor(&state, &ctx, &user, (id, entry), if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a finished labor entry of an open work order (time booked by mistake); your
/// own, or anyone's with `work_orders:manage`.
#[utoipa::path(delete, path = "/api/v1/work-orders/{id}/labor/{entry}", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path), ("entry" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_labor(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    if_match: IfMatch,
    Path((id, entry)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_labor(&state, &ctx, &user, (id, entry), if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start your labor timer on an open work order; 409 when it already runs.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/labor/start", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = StartLabor,
    responses((status = 201, body = LaborOut), (status = 404), (status = 409), (status = 422)))]
pub async fn start_labor(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StartLabor>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::start_labor(&state, &ctx, id, user.id(), req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Stop your running labor timer; minutes are rounded to the nearest minute. 409 when
/// none runs. Completing or cancelling the work order stops every running timer.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/labor/stop", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), responses((status = 200, body = LaborOut), (status = 404), (status = 409)))]
pub async fn stop_labor(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
) -> ApiResult<Json<LaborOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(
        service::stop_labor(&state, &ctx, id, user.id()).await?,
    ))
}

/// The comments on a work order, paged, oldest first (`sort=-created_at` for newest).
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/comments", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<CommentOut>), (status = 404), (status = 422)))]
pub async fn list_comments(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<CommentOut>>> {
    Ok(Json(
        service::list_comments(state.db.read(), id, &page).await?,
    ))
}

/// Comment on a work order (also once it is closed; not once it is archived: 409).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/comments", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = NewComment,
    responses((status = 201, body = CommentOut), (status = 404), (status = 409), (status = 422)))]
pub async fn add_comment(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewComment>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_comment(&state, &ctx, &user, id, req, None).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Every change of the work order, its checklist, labor and comments, from the audit
/// log, paged, oldest first (`sort=-id` for newest).
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/history", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<AuditEntry>), (status = 404), (status = 422)))]
pub async fn history(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<AuditEntry>>> {
    Ok(Json(
        service::work_order_history(state.db.read(), id, &page).await?,
    ))
}

/// Run the archiving of work orders now (it also runs daily): completed and cancelled
/// work orders closed longer ago than `NEXUS_ARCHIVE_WORK_ORDERS_AFTER_DAYS` (365) move to
/// the archive, archived ones past `NEXUS_RETENTION_DAYS` (seven years) are deleted, in
/// batches. The run goes on in the background: 202 names it, and `Location` is where to
/// follow it until it is done (audited as `archive.run` with its counts) or failed. One
/// run at a time: 409 names the run under way. `dry_run=true` only counts, and answers
/// the counts at once (200).
#[utoipa::path(post, path = "/api/v1/maintenance/archive", tag = "maintenance", security(("bearer" = ["work_orders:manage"])),
    params(ArchiveQuery), responses((status = 200, description = "dry run: what a run would move and delete", body = ArchiveReport),
        (status = 202, description = "the run, started", body = ArchiveRun,
            headers(("Location" = String, description = "where to follow the run"))),
        (status = 403), (status = 409, description = "a run is under way"), (status = 422)))]
pub async fn run_archive(
    State(state): State<AppState>,
    Require(user, _): Require<WorkOrdersManage>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> ApiResult<Response> {
    service::archive::ARCHIVER
        .answer(&state, user.id(), q)
        .await
}

/// An archiving run of work orders: running, done (with its counts) or failed (why).
#[utoipa::path(get, path = "/api/v1/maintenance/archive/runs/{id}", tag = "maintenance", security(("bearer" = ["work_orders:manage"])),
    params(("id" = i64, Path)), responses((status = 200, body = ArchiveRun), (status = 403), (status = 404)))]
pub async fn archive_run(
    State(state): State<AppState>,
    _: Require<WorkOrdersManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ArchiveRun>> {
    Ok(Json(
        service::archive::ARCHIVER.get(state.db.read(), id).await?,
    ))
}

/// The routes of work orders.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_work_orders, create_work_order))
        .routes(routes!(get_work_order, update_work_order))
        .routes(routes!(change_status))
        .routes(routes!(answer_checklist_item))
        .routes(routes!(list_labor, add_labor))
        .routes(routes!(update_labor, delete_labor))
        .routes(routes!(start_labor))
        .routes(routes!(stop_labor))
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(history))
        .routes(routes!(run_archive))
        .routes(routes!(archive_run))
}
