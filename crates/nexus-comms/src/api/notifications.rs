//! Handlers of notifications and notification preferences: each user sees and changes
//! their own only.

use axum::Json;
use axum::extract::State;
use nexus_core::extract::Path;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, ListResponse, PageParams,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service::notifications as service;

/// Your notifications, newest first, without dismissed ones unless `include_dismissed`;
/// filtered by read or unread, kind and type.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "comms", security(("bearer" = [])),
    params(NotificationFilter, PageParams),
    responses((status = 200, body = ListResponse<NotificationOut>), (status = 401), (status = 422)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(f): ApiQuery<NotificationFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<NotificationOut>>> {
    Ok(Json(
        service::list(state.db.read(), user.id(), &f, &page).await?,
    ))
}

/// Your notifications, as the source API names the list (`/updates/notifications`).
#[utoipa::path(get, path = "/api/v1/updates/notifications", tag = "comms", security(("bearer" = [])),
    params(NotificationFilter, PageParams),
    responses((status = 200, body = ListResponse<NotificationOut>), (status = 401), (status = 422)))]
pub async fn list_update_notifications(
    state: State<AppState>,
    user: CurrentUser,
    f: ApiQuery<NotificationFilter>,
    page: ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<NotificationOut>>> {
    list_notifications(state, user, f, page).await
}

/// How many of your notifications are unread (the bell).
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "comms", security(("bearer" = [])),
    responses((status = 200, body = UnreadNotifications), (status = 401)))]
pub async fn unread_count(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<UnreadNotifications>> {
    let unread = service::unread_count(state.db.read(), user.id()).await?;
    Ok(Json(UnreadNotifications { unread }))
}

/// Mark one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "comms", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = NotificationOut), (status = 401), (status = 404)))]
pub async fn read_notification(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<NotificationOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(
        service::mark(&state, &ctx, user.id(), id, false).await?,
    ))
}

/// Dismiss one of your notifications: it leaves the list, and counts as read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/dismiss", tag = "comms", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = NotificationOut), (status = 401), (status = 404)))]
pub async fn dismiss_notification(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<NotificationOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(
        service::mark(&state, &ctx, user.id(), id, true).await?,
    ))
}

/// Mark every one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "comms", security(("bearer" = [])),
    responses((status = 200, body = Marked), (status = 401)))]
pub async fn read_all(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
) -> ApiResult<Json<Marked>> {
    let ctx = client.audit(Some(user.id()));
    let updated = service::read_all(&state, &ctx, user.id()).await?;
    Ok(Json(Marked { updated }))
}

/// Which kinds of notification you get: your choices, or your role's defaults.
#[utoipa::path(get, path = "/api/v1/notification-preferences", tag = "comms", security(("bearer" = [])),
    responses((status = 200, body = Vec<PreferenceOut>), (status = 401)))]
pub async fn get_preferences(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<PreferenceOut>>> {
    Ok(Json(
        service::preferences(state.db.read(), user.id()).await?,
    ))
}

/// Turn kinds of notification on or off; kinds left out keep their setting.
#[utoipa::path(put, path = "/api/v1/notification-preferences", tag = "comms", security(("bearer" = [])),
    request_body = PreferencesIn,
    responses((status = 200, body = Vec<PreferenceOut>), (status = 401), (status = 422)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    ApiJson(req): ApiJson<PreferencesIn>,
) -> ApiResult<Json<Vec<PreferenceOut>>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(
        service::set_preferences(&state, &ctx, user.id(), req).await?,
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(list_update_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(read_notification))
        .routes(routes!(dismiss_notification))
        .routes(routes!(read_all))
        .routes(routes!(get_preferences, set_preferences))
}
