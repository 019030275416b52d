//! Handlers of work orders.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_core::audit::AuditEntry;
use nexus_core::auth::{Permission, Require};
use nexus_core::extract::Path;
use nexus_core::{
    ApiError, ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, IfMatch, PageParams,
    Versioned,
};
use sea_orm::TransactionTrait;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Assigning a work order to someone else needs `work_orders:manage`; anyone who may
/// write work orders may take one themselves.
fn may_assign(user: &CurrentUser, assignee: Option<i64>) -> ApiResult<()> {
    match assignee {
        Some(id) if id != user.id() && !user.can(WorkOrdersManage::NAME) => {
            Err(ApiError::Forbidden(
                "assigning a work order to someone else needs work_orders:manage".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// Work orders, filtered by any combination of status, asset, location, assignee,
/// priority, type, due range and text; sorted (`-id`, newest first, by default) and paged.
/// `total` is exact unless `total_exact` is false (more than 10,000 matches past the page).
#[utoipa::path(get, path = "/api/v1/work-orders", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(WorkOrderFilter, PageParams), responses((status = 200, body = WorkOrderList), (status = 422)))]
pub async fn list_work_orders(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    ApiQuery(f): ApiQuery<WorkOrderFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<WorkOrderList>> {
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
    may_assign(&user, req.assigned_to_id)?;
    let txn = state.db.write().begin().await?;
    let out = service::create_work_order(&txn, &client.audit(Some(user.id())), req).await?;
    let detail = service::get_work_order(&txn, out.id).await?;
    txn.commit().await?;
    service::publish_work_order(&state, "created", &out);
    if out.assigned_to_id.is_some() {
        service::publish_work_order(&state, "assigned", &out);
    }
    Ok((StatusCode::CREATED, Versioned(out.version, detail)))
}

/// One work order with its checklist.
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
    if req.status.trim().eq_ignore_ascii_case("cancelled") && !user.can(WorkOrdersManage::NAME) {
        return Err(ApiError::Forbidden(
            "cancelling a work order needs work_orders:manage".into(),
        ));
    }
    let txn = state.db.write().begin().await?;
    let out =
        service::change_work_order_status(&txn, &client.audit(Some(user.id())), id, if_match, req)
            .await?;
    txn.commit().await?;
    service::publish_work_order(&state, "status_changed", &out);
    if out.status == "completed" {
        service::publish_work_order(&state, "completed", &out);
    }
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
    let txn = state.db.write().begin().await?;
    let change = service::update_work_order(
        &txn,
        &client.audit(Some(user.id())),
        id,
        if_match,
        req,
        user.can(WorkOrdersManage::NAME),
    )
    .await?;
    txn.commit().await?;
    let out = change.after;
    service::publish_work_order(&state, "updated", &out);
    if out.assigned_to_id != change.before.assigned_to_id {
        service::publish_work_order(&state, "assigned", &out);
    }
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
    let txn = state.db.write().begin().await?;
    let out = service::answer_checklist_item(
        &txn,
        &client.audit(Some(user.id())),
        id,
        item_id,
        if_match,
        req,
    )
    .await?;
    txn.commit().await?;
    service::publish_work_order_item(&state, "checklist_answered", id, &out.item);
    if let Some(f) = &out.follow_up {
        service::publish_work_order(&state, "created", f);
    }
    Ok(Json(out))
}

/// The labor recorded on a work order.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/labor", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<LaborOut>), (status = 404)))]
pub async fn list_labor(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<LaborOut>>> {
    Ok(Json(service::list_labor(state.db.read(), id).await?))
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
    let worker = req.user_id.unwrap_or(user.id());
    if worker != user.id() && !user.can(WorkOrdersManage::NAME) {
        return Err(ApiError::Forbidden(
            "recording someone else's time needs work_orders:manage".into(),
        ));
    }
    let txn = state.db.write().begin().await?;
    let out = service::add_labor(&txn, &client.audit(Some(user.id())), id, worker, req).await?;
    txn.commit().await?;
    service::publish_work_order_item(&state, "labor_added", id, &out);
    Ok((StatusCode::CREATED, Json(out)))
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
    let txn = state.db.write().begin().await?;
    let out =
        service::start_labor(&txn, &client.audit(Some(user.id())), id, user.id(), req).await?;
    txn.commit().await?;
    service::publish_work_order_item(&state, "labor_started", id, &out);
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
    let txn = state.db.write().begin().await?;
    let out = service::stop_labor(&txn, &client.audit(Some(user.id())), id, user.id()).await?;
    txn.commit().await?;
    service::publish_work_order_item(&state, "labor_stopped", id, &out);
    Ok(Json(out))
}

/// The comments on a work order, oldest first.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/comments", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<CommentOut>), (status = 404)))]
pub async fn list_comments(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<CommentOut>>> {
    Ok(Json(service::list_comments(state.db.read(), id).await?))
}

/// Comment on a work order (also once it is closed).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/comments", tag = "maintenance", security(("bearer" = ["work_orders:write"])),
    params(("id" = i64, Path)), request_body = NewComment,
    responses((status = 201, body = CommentOut), (status = 404), (status = 422)))]
pub async fn add_comment(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewComment>,
) -> ApiResult<impl IntoResponse> {
    let txn = state.db.write().begin().await?;
    let out = service::add_comment(&txn, &client.audit(Some(user.id())), id, req).await?;
    txn.commit().await?;
    service::publish_work_order_item(&state, "comment_added", id, &out);
    Ok((StatusCode::CREATED, Json(out)))
}

/// Every change of the work order, its checklist, labor and comments, oldest first,
/// from the audit log.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/history", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<AuditEntry>), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        service::work_order_history(state.db.read(), id).await?,
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
        .routes(routes!(start_labor))
        .routes(routes!(stop_labor))
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(history))
}
