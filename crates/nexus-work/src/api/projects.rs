//! Handlers of projects, teams, costs, tasks, worklogs, dependencies and the schedule.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
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

// ---------------------------------------------------------------- projects

/// The projects you manage or are on (every one with `projects:read_all`), filtered by
/// status and priority (one or several, comma-separated), manager, member and name;
/// by name by default.
#[utoipa::path(get, path = "/api/v1/projects", tag = "work", security(("bearer" = ["projects:read"])),
    params(ProjectFilter, PageParams), responses((status = 200, body = ListResponse<ProjectOut>), (status = 422)))]
pub async fn list_projects(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    ApiQuery(f): ApiQuery<ProjectFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<ProjectOut>>> {
    Ok(Json(
        service::list_projects(state.db.read(), &user, &f, &page).await?,
    ))
}

/// Create a project; you manage it unless `manager_id` names another active user.
#[utoipa::path(post, path = "/api/v1/projects", tag = "work", security(("bearer" = ["projects:write"])),
    request_body = NewProject, responses((status = 201, body = ProjectOut), (status = 422)))]
pub async fn create_project(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    ApiJson(req): ApiJson<NewProject>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create_project(&state, &ctx, &user, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// A project with its team, costs, hours and completion.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ProjectOut), (status = 404)))]
pub async fn get_project(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_project(state.db.read(), &user, id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a project you manage (any with `projects:manage`).
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = UpdateProject,
    responses((status = 200, body = ProjectOut), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn update_project(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateProject>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_project(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a project you manage, with its team, costs, tasks and their worklogs.
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404), (status = 412)))]
pub async fn delete_project(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_project(&state, &ctx, &user, id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- team

/// The project's team.
#[utoipa::path(get, path = "/api/v1/projects/{id}/team", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ListResponse<TeamMember>), (status = 404)))]
pub async fn project_team(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ListResponse<TeamMember>>> {
    Ok(Json(
        service::project_team(state.db.read(), &user, id).await?,
    ))
}

/// Put an active user on the team of a project you manage; answers the team.
#[utoipa::path(post, path = "/api/v1/projects/{id}/team", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = NewMember,
    responses((status = 201, body = ListResponse<TeamMember>), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn add_member(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewMember>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_member(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Take someone off the team; refused (409, naming them) while open tasks of the project
/// are assigned to them.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/team/{user_id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn remove_member(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path((id, user_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::remove_member(&state, &ctx, &user, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The activities linked to the project that you may see.
#[utoipa::path(get, path = "/api/v1/projects/{id}/activities", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<ActivityOut>), (status = 404)))]
pub async fn project_activities(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<ActivityOut>>> {
    let conn = state.db.read();
    service::find_visible_project(conn, &user, id).await?;
    let f = ActivityFilter {
        project_id: Some(id),
        ..Default::default()
    };
    Ok(Json(
        service::list_activities(conn, &user, &f, &page).await?,
    ))
}

// ---------------------------------------------------------------- costs

/// The costs booked on the project, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/costs", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<CostOut>), (status = 404)))]
pub async fn list_costs(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<CostOut>>> {
    Ok(Json(
        service::list_costs(state.db.read(), &user, id, &page).await?,
    ))
}

/// Book a cost against the budget of a project you manage.
#[utoipa::path(post, path = "/api/v1/projects/{id}/costs", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = NewCost,
    responses((status = 201, body = CostOut), (status = 403), (status = 404), (status = 422)))]
pub async fn add_cost(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewCost>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_cost(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Estimated against logged hours per task, per person and for the project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/hours", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = HoursReport), (status = 404)))]
pub async fn project_hours(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<HoursReport>> {
    Ok(Json(
        service::project_hours(state.db.read(), &user, id).await?,
    ))
}

// ---------------------------------------------------------------- tasks

/// The project's tasks, filtered by status and priority (one or several), assignee, tag
/// and due range; by start by default.
#[utoipa::path(get, path = "/api/v1/projects/{id}/tasks", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path), TaskFilter, PageParams),
    responses((status = 200, body = ListResponse<TaskOut>), (status = 404), (status = 422)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
    ApiQuery(f): ApiQuery<TaskFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<TaskOut>>> {
    Ok(Json(
        service::list_tasks(state.db.read(), &user, id, &f, &page).await?,
    ))
}

/// Add a task to a project you manage or are on; its assignee must be on the team.
#[utoipa::path(post, path = "/api/v1/projects/{id}/tasks", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = NewTask,
    responses((status = 201, body = TaskOut), (status = 403), (status = 404), (status = 422)))]
pub async fn create_task(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewTask>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create_task(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = TaskOut), (status = 404)))]
pub async fn get_task(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_task(state.db.read(), &user, id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a task. Moving its dates pushes the tasks following it that no longer fit
/// later, keeping their durations; they are listed in `moved`.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = UpdateTask,
    responses((status = 200, body = TaskChanged), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn update_task(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateTask>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_task(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.task.version, out))
}

/// Delete a task with its worklog and dependencies.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404), (status = 412)))]
pub async fn delete_task(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_task(&state, &ctx, &user, id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- worklogs

/// The task's worklog, newest day first.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/worklogs", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<WorklogOut>), (status = 404)))]
pub async fn list_worklogs(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<WorklogOut>>> {
    Ok(Json(
        service::list_worklogs(state.db.read(), &user, id, &page).await?,
    ))
}

/// Log time on a task (yours; someone else's only as the project's manager). The task's
/// actual hours follow.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/worklogs", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = NewWorklog,
    responses((status = 201, body = WorklogOut), (status = 403), (status = 404), (status = 422)))]
pub async fn add_worklog(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewWorklog>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_worklog(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Delete a worklog entry: yours, or any as the project's manager.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/worklogs/{worklog_id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path), ("worklog_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_worklog(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path((id, worklog_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_worklog(&state, &ctx, &user, id, worklog_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- dependencies

/// Every dependency between the project's tasks.
#[utoipa::path(get, path = "/api/v1/projects/{id}/dependencies", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ListResponse<DependencyOut>), (status = 404)))]
pub async fn list_dependencies(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ListResponse<DependencyOut>>> {
    Ok(Json(
        service::list_dependencies(state.db.read(), &user, id).await?,
    ))
}

/// Make one task follow another. Refused when the pair is related already (409) or the
/// dependency would close a cycle (422, naming it). The followers that no longer fit are
/// pushed later and listed in `moved`.
#[utoipa::path(post, path = "/api/v1/projects/{id}/dependencies", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path)), request_body = NewDependency,
    responses((status = 201, body = DependencyCreated), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn add_dependency(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewDependency>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_dependency(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Remove a dependency; no task moves.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/dependencies/{dependency_id}", tag = "work", security(("bearer" = ["projects:write"])),
    params(("id" = i64, Path), ("dependency_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_dependency(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ProjectsWrite>,
    Path((id, dependency_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_dependency(&state, &ctx, &user, id, dependency_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- schedule

/// The critical path schedule: each task's early and late start and finish, its total
/// float in days, whether it is critical, and the critical path in order.
#[utoipa::path(get, path = "/api/v1/projects/{id}/schedule", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ScheduleOut), (status = 404)))]
pub async fn project_schedule(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ScheduleOut>> {
    Ok(Json(
        service::project_schedule(state.db.read(), &user, id).await?,
    ))
}

/// The Gantt chart as SVG: a bar per task (critical ones red, class `critical`),
/// dependency arrows, a date axis and a line for today.
#[utoipa::path(get, path = "/api/v1/projects/{id}/gantt", tag = "work", security(("bearer" = ["projects:read"])),
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404)))]
pub async fn project_gantt(
    State(state): State<AppState>,
    Require(user, _): Require<ProjectsRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let svg = service::project_gantt(state.db.read(), &user, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    ))
}

/// The routes of projects and tasks.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(project_team, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(project_activities))
        .routes(routes!(list_costs, add_cost))
        .routes(routes!(project_hours))
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(list_worklogs, add_worklog))
        .routes(routes!(delete_worklog))
        .routes(routes!(list_dependencies, add_dependency))
        .routes(routes!(delete_dependency))
        .routes(routes!(project_schedule))
        .routes(routes!(project_gantt))
}
