//! Handlers of preventive maintenance schedules.

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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Preventive schedules, by next due date (or `sort`), paged.
#[utoipa::path(get, path = "/api/v1/pm-schedules", tag = "maintenance", security(("bearer" = ["pm_schedules:read"])),
    params(PmScheduleFilter, PageParams), responses((status = 200, body = ListResponse<PmScheduleOut>), (status = 422)))]
pub async fn list_schedules(
    State(state): State<AppState>,
    _: Require<SchedulesRead>,
    ApiQuery(f): ApiQuery<PmScheduleFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<PmScheduleOut>>> {
    Ok(Json(
        service::list_schedules(state.db.read(), &f, &page).await?,
    ))
}

/// Create a schedule: every `interval_value` days, weeks or calendar months, counted from
/// the scheduled dates (`basis=scheduled`) or from each completion (`completion`); each
/// work order is generated `lead_days` before it is due, with the checklist template.
#[utoipa::path(post, path = "/api/v1/pm-schedules", tag = "maintenance", security(("bearer" = ["pm_schedules:write"])),
    request_body = PmScheduleData, responses((status = 201, body = PmScheduleOut), (status = 422)))]
pub async fn create_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SchedulesWrite>,
    ApiJson(req): ApiJson<PmScheduleData>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_schedule(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/pm-schedules/{id}", tag = "maintenance", security(("bearer" = ["pm_schedules:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = PmScheduleOut), (status = 404)))]
pub async fn get_schedule(
    State(state): State<AppState>,
    _: Require<SchedulesRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_schedule(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a schedule; a new `next_due` or interval restarts the count from `next_due`.
#[utoipa::path(patch, path = "/api/v1/pm-schedules/{id}", tag = "maintenance", security(("bearer" = ["pm_schedules:write"])),
    params(("id" = i64, Path)), request_body = UpdatePmSchedule,
    responses((status = 200, body = PmScheduleOut), (status = 404), (status = 412), (status = 422)))]
pub async fn update_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SchedulesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdatePmSchedule>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::update_schedule(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a schedule that never generated a work order (409 otherwise: deactivate it).
#[utoipa::path(delete, path = "/api/v1/pm-schedules/{id}", tag = "maintenance", security(("bearer" = ["pm_schedules:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_schedule(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SchedulesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_schedule(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Generate the schedule's next work order now, whatever its lead days; 409 when the
/// schedule is inactive or its previous work order is still open.
#[utoipa::path(post, path = "/api/v1/pm-schedules/{id}/generate", tag = "maintenance", security(("bearer" = ["pm_schedules:write"])),
    params(("id" = i64, Path)), responses((status = 201, body = WorkOrderOut), (status = 404), (status = 409)))]
pub async fn generate(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SchedulesWrite>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::generate_now(&state, &client.audit(Some(user.id())), id).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// The routes of preventive schedules.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, update_schedule, delete_schedule))
        .routes(routes!(generate))
}
