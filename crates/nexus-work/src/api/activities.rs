//! Handlers of activities and tags.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::tabular::csv_download;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, PageParams,
    Versioned,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// The activities you may see (yours, your projects', or all with `activities:read_all`),
/// filtered by status, type, priority (each one or several, comma-separated), assignee,
/// creator, tag, project, series, start range and title; `-start_time` first by default.
#[utoipa::path(get, path = "/api/v1/activities", tag = "work", security(("bearer" = ["activities:read"])),
    params(ActivityFilter, PageParams), responses((status = 200, body = ListResponse<ActivityOut>), (status = 422)))]
pub async fn list_activities(
    State(state): State<AppState>,
    Require(user, _): Require<ActivitiesRead>,
    ApiQuery(f): ApiQuery<ActivityFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<ActivityOut>>> {
    Ok(Json(
        service::list_activities(state.db.read(), &user, &f, &page).await?,
    ))
}

/// Plan an activity; with `recurrence`, a series whose occurrences 60 days ahead are
/// created at once (the first is answered). It starts `planned` unless told otherwise,
/// and is assigned to you unless `assigned_to_id` says who.
#[utoipa::path(post, path = "/api/v1/activities", tag = "work", security(("bearer" = ["activities:write"])),
    request_body = NewActivity, responses((status = 201, body = ActivityDetail), (status = 422)))]
pub async fn create_activity(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ActivitiesWrite>,
    ApiJson(req): ApiJson<NewActivity>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create_activity(&state, &ctx, &user, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.activity.version, out)))
}

/// An activity with its projects, recurrence and timeline of status and priority changes.
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "work", security(("bearer" = ["activities:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = ActivityDetail), (status = 404)))]
pub async fn get_activity(
    State(state): State<AppState>,
    Require(user, _): Require<ActivitiesRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_activity(state.db.read(), &user, id).await?;
    Ok(Versioned(out.activity.version, out))
}

/// Change an activity you created or are assigned to (anyone's with
/// `activities:manage`). `note` goes with a status change and `reason` with a priority
/// change into its timeline. `scope: following` carries the change to the later
/// occurrences of its series.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "work", security(("bearer" = ["activities:write"])),
    params(("id" = i64, Path)), request_body = UpdateActivity,
    responses((status = 200, body = ActivityDetail), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn update_activity(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ActivitiesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateActivity>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_activity(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.activity.version, out))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteScope {
    /// `this` (default) or `following`: also the later occurrences of its series.
    #[serde(default)]
    pub scope: Scope,
}

/// Delete an activity you created or are assigned to; with `scope=following`, also the
/// later occurrences of its series still to be done, and the series ends.
#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "work", security(("bearer" = ["activities:write"])),
    params(("id" = i64, Path), DeleteScope),
    responses((status = 204), (status = 403), (status = 404), (status = 412)))]
pub async fn delete_activity(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<ActivitiesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<DeleteScope>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete_activity(&state, &ctx, &user, id, if_match, q.scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The activities you may see that match the filter, as CSV, in start order.
#[utoipa::path(get, path = "/api/v1/activities/export", tag = "work", security(("bearer" = ["activities:read"])),
    params(ActivityFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 422)))]
pub async fn export_activities(
    State(state): State<AppState>,
    Require(user, _): Require<ActivitiesRead>,
    ApiQuery(f): ApiQuery<ActivityFilter>,
) -> ApiResult<Response> {
    let rows = service::export_activities(state.db.read(), &user, &f).await?;
    csv_download(
        "activities",
        &[
            "id",
            "title",
            "type",
            "status",
            "priority",
            "start_time",
            "end_time",
            "assigned_to",
            "created_by",
            "tags",
            "description",
        ],
        rows.into_iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    a.title,
                    a.activity_type,
                    a.status,
                    a.priority,
                    a.start_time.to_rfc3339(),
                    a.end_time.to_rfc3339(),
                    a.assigned_to,
                    a.created_by,
                    a.tags
                        .into_iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join("; "),
                    a.description,
                ]
            })
            .collect(),
    )
}

/// The ten activity types.
#[utoipa::path(get, path = "/api/v1/activities/types", tag = "work", security(("bearer" = ["activities:read"])),
    responses((status = 200, body = ListResponse<Choice>)))]
pub async fn activity_types(_: Require<ActivitiesRead>) -> Json<ListResponse<Choice>> {
    Json(ListResponse::all(
        ACTIVITY_TYPES
            .iter()
            .map(|t| Choice { value: t, label: t })
            .collect(),
    ))
}

/// The activity statuses; `overdue` is set by the system when the end passes.
#[utoipa::path(get, path = "/api/v1/activities/statuses", tag = "work", security(("bearer" = ["activities:read"])),
    responses((status = 200, body = ListResponse<Choice>)))]
pub async fn activity_statuses(_: Require<ActivitiesRead>) -> Json<ListResponse<Choice>> {
    Json(ListResponse::all(
        ACTIVITY_STATUSES
            .iter()
            .map(|s| Choice {
                value: s,
                label: status_label(s),
            })
            .collect(),
    ))
}

/// Every tag, by name; filtered by part of the name or by category.
#[utoipa::path(get, path = "/api/v1/tags", tag = "work", security(("bearer" = ["activities:read"])),
    params(TagFilter), responses((status = 200, body = ListResponse<TagOut>)))]
pub async fn list_tags(
    State(state): State<AppState>,
    _: Require<ActivitiesRead>,
    ApiQuery(f): ApiQuery<TagFilter>,
) -> ApiResult<Json<ListResponse<TagOut>>> {
    Ok(Json(service::list_tags(state.db.read(), &f).await?))
}

/// Create a tag; its name is unique regardless of case (409).
#[utoipa::path(post, path = "/api/v1/tags", tag = "work", security(("bearer" = ["tags:write"])),
    request_body = NewTag, responses((status = 201, body = TagOut), (status = 409), (status = 422)))]
pub async fn create_tag(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TagsWrite>,
    ApiJson(req): ApiJson<NewTag>,
) -> ApiResult<impl IntoResponse> {
    let out = service::create_tag(&state, &client.audit(Some(user.id())), req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

#[utoipa::path(get, path = "/api/v1/tags/{id}", tag = "work", security(("bearer" = ["activities:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = TagOut), (status = 404)))]
pub async fn get_tag(
    State(state): State<AppState>,
    _: Require<ActivitiesRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_tag(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a tag's name, colour, category or description.
#[utoipa::path(patch, path = "/api/v1/tags/{id}", tag = "work", security(("bearer" = ["tags:write"])),
    params(("id" = i64, Path)), request_body = UpdateTag,
    responses((status = 200, body = TagOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn update_tag(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TagsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateTag>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update_tag(&state, &ctx, id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Delete a tag; it leaves every activity and task it was on.
#[utoipa::path(delete, path = "/api/v1/tags/{id}", tag = "work", security(("bearer" = ["tags:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 412)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<TagsWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_tag(&state, &client.audit(Some(user.id())), id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What is assigned to you and still to do: overdue, today and the rest of the week,
/// activities and tasks (up to 50 of each part, with how many there are).
#[utoipa::path(get, path = "/api/v1/my-work", tag = "work", security(("bearer" = ["activities:read"])),
    responses((status = 200, body = MyWork)))]
pub async fn my_work(
    State(state): State<AppState>,
    Require(user, _): Require<ActivitiesRead>,
) -> ApiResult<Json<MyWork>> {
    Ok(Json(MyWork::clone(
        &*service::my_work(&state, &user).await?,
    )))
}

/// The routes of activities and tags.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_activities, create_activity))
        .routes(routes!(export_activities))
        .routes(routes!(activity_types))
        .routes(routes!(activity_statuses))
        .routes(routes!(get_activity, update_activity, delete_activity))
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(get_tag, update_tag, delete_tag))
        .routes(routes!(my_work))
}
