//! Handlers of system messages: administrators write them; every signed-in user reads
//! the ones for them and dismisses them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, IfMatch, ListResponse,
    PageParams, Versioned,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service::messages as service;

/// Every system message, newest first.
#[utoipa::path(get, path = "/api/v1/system-messages", tag = "comms", security(("bearer" = ["system_messages:write"])),
    params(PageParams), responses((status = 200, body = ListResponse<SystemMessageOut>), (status = 403), (status = 422)))]
pub async fn list_messages(
    State(state): State<AppState>,
    _admin: Require<SystemMessagesWrite>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<SystemMessageOut>>> {
    Ok(Json(service::list(state.db.read(), &page).await?))
}

/// Post a banner for everyone (`is_broadcast`) or for `target_users`, who are also
/// notified; it shows until `expires_at`.
#[utoipa::path(post, path = "/api/v1/system-messages", tag = "comms", security(("bearer" = ["system_messages:write"])),
    request_body = NewSystemMessage,
    responses((status = 201, body = SystemMessageOut), (status = 403), (status = 422)))]
pub async fn create_message(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SystemMessagesWrite>,
    ApiJson(req): ApiJson<NewSystemMessage>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create(&state, &ctx, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.version, out)))
}

/// The unexpired messages for you that you have not dismissed: the banners.
#[utoipa::path(get, path = "/api/v1/system-messages/active", tag = "comms", security(("bearer" = [])),
    responses((status = 200, body = Vec<SystemMessageOut>), (status = 401)))]
pub async fn active_messages(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<SystemMessageOut>>> {
    Ok(Json(service::active(state.db.read(), user.id()).await?))
}

/// One system message.
#[utoipa::path(get, path = "/api/v1/system-messages/{id}", tag = "comms", security(("bearer" = ["system_messages:write"])),
    params(("id" = i64, Path)), responses((status = 200, body = SystemMessageOut), (status = 403), (status = 404)))]
pub async fn get_message(
    State(state): State<AppState>,
    _admin: Require<SystemMessagesWrite>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Change a message; send its `version` as `If-Match`.
#[utoipa::path(patch, path = "/api/v1/system-messages/{id}", tag = "comms", security(("bearer" = ["system_messages:write"])),
    params(("id" = i64, Path)), request_body = UpdateSystemMessage,
    responses((status = 200, body = SystemMessageOut), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn update_message(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SystemMessagesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateSystemMessage>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::update(&state, &ctx, id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Withdraw a message.
#[utoipa::path(delete, path = "/api/v1/system-messages/{id}", tag = "comms", security(("bearer" = ["system_messages:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404), (status = 412)))]
pub async fn delete_message(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<SystemMessagesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete(&state, &ctx, id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Close a message's banner for yourself.
#[utoipa::path(post, path = "/api/v1/system-messages/{id}/dismiss", tag = "comms", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 401), (status = 404)))]
pub async fn dismiss_message(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::dismiss(&state, &ctx, user.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages, create_message))
        .routes(routes!(active_messages))
        .routes(routes!(get_message, update_message, delete_message))
        .routes(routes!(dismiss_message))
}
