//! Handlers of announcements (updates): the reader's feed, composing and publishing,
//! acknowledgements, comments, likes, files, and who read what.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::extract::Path;
use nexus_core::tabular::csv_download;
use nexus_core::{
    ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, IfMatch, ListResponse,
    PageParams, Versioned,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service::updates as service;

/// Your feed: the updates published for you, newest first (`unread=true`: only those not
/// read yet). With `mine=true`, the updates you wrote, drafts included; with `status`,
/// every update in that status (yours only without `updates:manage`).
#[utoipa::path(get, path = "/api/v1/updates", tag = "comms", security(("bearer" = ["updates:read"])),
    params(UpdateFilter, PageParams), responses((status = 200, body = ListResponse<UpdateOut>), (status = 422)))]
pub async fn list_updates(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    ApiQuery(f): ApiQuery<UpdateFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<UpdateOut>>> {
    Ok(Json(
        service::list(state.db.read(), &user, &f, &page).await?,
    ))
}

/// Compose an update: a draft (default), `status: published` to publish it now, or
/// `status: scheduled` with `publish_at` ahead. Its audience is `target_all` or
/// `targets` (users and departments by id, roles by name or id).
#[utoipa::path(post, path = "/api/v1/updates", tag = "comms", security(("bearer" = ["updates:write"])),
    request_body = NewUpdate, responses((status = 201, body = UpdateDetail), (status = 403), (status = 422)))]
pub async fn create_update(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    ApiJson(req): ApiJson<NewUpdate>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::create(&state, &ctx, &user, req).await?;
    Ok((StatusCode::CREATED, Versioned(out.update.version, out)))
}

/// How many updates published for you are unread, and wait for your acknowledgement.
#[utoipa::path(get, path = "/api/v1/updates/unread-count", tag = "comms", security(("bearer" = ["updates:read"])),
    responses((status = 200, body = UnreadCount)))]
pub async fn unread_count(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
) -> ApiResult<Json<UnreadCount>> {
    Ok(Json(service::unread_count(state.db.read(), &user).await?))
}

/// One update with its content as safe HTML, files, likes and audience; reading it marks
/// it read for you.
#[utoipa::path(get, path = "/api/v1/updates/{id}", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = UpdateDetail), (status = 404)))]
pub async fn get_update(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get(&state, &user, id).await?;
    Ok(Versioned(out.update.version, out))
}

/// Change an update you wrote (anyone's with `updates:manage`). `status` publishes,
/// schedules (with `publish_at`), returns to draft or unpublishes; a new audience of a
/// published update reaches its new members.
#[utoipa::path(patch, path = "/api/v1/updates/{id}", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path)), request_body = UpdateChange,
    responses((status = 200, body = UpdateDetail), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn change_update(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateChange>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::change(&state, &ctx, &user, id, if_match, req).await?;
    Ok(Versioned(out.update.version, out))
}

/// Delete a draft or scheduled update; a published one is unpublished instead (409).
#[utoipa::path(delete, path = "/api/v1/updates/{id}", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 412)))]
pub async fn delete_update(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    if_match: IfMatch,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::delete(&state, &ctx, &user, id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acknowledge an update published for you that asks for it, once (409 the second
/// time). Being among its recipients is all it takes, guests included.
#[utoipa::path(post, path = "/api/v1/updates/{id}/acknowledge", tag = "comms", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = UpdateDetail), (status = 404), (status = 409)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    client: ClientInfo,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::acknowledge(&state, &ctx, &user, id).await?;
    Ok(Versioned(out.update.version, out))
}

/// The comments on an update, oldest first.
#[utoipa::path(get, path = "/api/v1/updates/{id}/comments", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path), PageParams), responses((status = 200, body = ListResponse<UpdateCommentOut>), (status = 404)))]
pub async fn list_comments(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<UpdateCommentOut>>> {
    Ok(Json(
        service::comments(state.db.read(), &user, id, &page).await?,
    ))
}

/// Comment on an update you can read.
#[utoipa::path(post, path = "/api/v1/updates/{id}/comments", tag = "comms", security(("bearer" = ["updates:comment"])),
    params(("id" = i64, Path)), request_body = NewUpdateComment,
    responses((status = 201, body = UpdateCommentOut), (status = 403), (status = 404), (status = 422)))]
pub async fn add_comment(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesComment>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewUpdateComment>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::comment(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Like an update you can read; liking twice changes nothing.
#[utoipa::path(post, path = "/api/v1/updates/{id}/like", tag = "comms", security(("bearer" = ["updates:comment"])),
    params(("id" = i64, Path)), responses((status = 200, body = LikesOut), (status = 403), (status = 404)))]
pub async fn like(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesComment>,
    Path(id): Path<i64>,
) -> ApiResult<Json<LikesOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::like(&state, &ctx, &user, id, true).await?))
}

/// Stop liking an update.
#[utoipa::path(delete, path = "/api/v1/updates/{id}/like", tag = "comms", security(("bearer" = ["updates:comment"])),
    params(("id" = i64, Path)), responses((status = 200, body = LikesOut), (status = 403), (status = 404)))]
pub async fn unlike(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesComment>,
    Path(id): Path<i64>,
) -> ApiResult<Json<LikesOut>> {
    let ctx = client.audit(Some(user.id()));
    Ok(Json(service::like(&state, &ctx, &user, id, false).await?))
}

/// Attach a stored file (`/api/v1/files`) you may see to an update you manage.
#[utoipa::path(post, path = "/api/v1/updates/{id}/attachments", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path)), request_body = NewAttachment,
    responses((status = 201, body = UpdateAttachmentOut), (status = 403), (status = 404), (status = 422)))]
pub async fn attach(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewAttachment>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::attach(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Show a stored image, video or audio file in an update you manage, with a caption;
/// the file's type must be the `media_type` (422 on `file_id` otherwise).
#[utoipa::path(post, path = "/api/v1/updates/{id}/media", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path)), request_body = NewMedia,
    responses((status = 201, body = MediaOut), (status = 403), (status = 404), (status = 422)))]
pub async fn add_media(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewMedia>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let out = service::add_media(&state, &ctx, &user, id, req).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// A file of an update as a download, to whoever may read the update.
fn file_response(d: service::Download, inline: bool) -> Response {
    nexus_content::api::download_response(d.bytes, &d.filename, &d.mime_type, inline)
}

/// Download an attachment of an update you can read (no file permission needed).
#[utoipa::path(get, path = "/api/v1/updates/{id}/attachments/{attachment_id}", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file", content_type = "*/*"), (status = 404)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path((id, item)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let d = service::download(&state, &user, id, item, false).await?;
    Ok(file_response(d, false))
}

/// Remove an attachment from an update you manage.
#[utoipa::path(delete, path = "/api/v1/updates/{id}/attachments/{attachment_id}", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove_attachment(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    Path((id, item)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::remove_file(&state, &ctx, &user, id, item, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The image, video or audio of a media item of an update you can read.
#[utoipa::path(get, path = "/api/v1/updates/{id}/media/{media_id}", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path), ("media_id" = i64, Path)),
    responses((status = 200, description = "The media file", content_type = "*/*"), (status = 404)))]
pub async fn media_content(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path((id, item)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let d = service::download(&state, &user, id, item, true).await?;
    Ok(file_response(d, true))
}

/// Remove a media item from an update you manage.
#[utoipa::path(delete, path = "/api/v1/updates/{id}/media/{media_id}", tag = "comms", security(("bearer" = ["updates:write"])),
    params(("id" = i64, Path), ("media_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove_media(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<UpdatesWrite>,
    Path((id, item)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    service::remove_file(&state, &ctx, &user, id, item, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who received, read and acknowledged an update you wrote (any with `updates:manage`):
/// totals, per department, and a page of the people.
#[utoipa::path(get, path = "/api/v1/updates/{id}/receipts", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path), ReceiptFilter, PageParams),
    responses((status = 200, body = ReceiptReport), (status = 403), (status = 404), (status = 422)))]
pub async fn receipts(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path(id): Path<i64>,
    ApiQuery(f): ApiQuery<ReceiptFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ReceiptReport>> {
    Ok(Json(
        service::receipts(state.db.read(), &user, id, &f, &page).await?,
    ))
}

/// The receipts of an update as CSV, one row per recipient.
#[utoipa::path(get, path = "/api/v1/updates/{id}/receipts.csv", tag = "comms", security(("bearer" = ["updates:read"])),
    params(("id" = i64, Path), ReceiptFilter),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403), (status = 404), (status = 422)))]
pub async fn receipts_csv(
    State(state): State<AppState>,
    Require(user, _): Require<UpdatesRead>,
    Path(id): Path<i64>,
    ApiQuery(f): ApiQuery<ReceiptFilter>,
) -> ApiResult<Response> {
    let rows = service::all_receipts(state.db.read(), &user, id, &f).await?;
    let when = |t: Option<nexus_core::Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    csv_download(
        &format!("update-{id}-receipts"),
        &[
            "user_id",
            "username",
            "name",
            "department",
            "read_at",
            "acknowledged_at",
        ],
        rows.into_iter()
            .map(|r| {
                vec![
                    r.user_id.to_string(),
                    r.username,
                    r.name,
                    r.department.unwrap_or_default(),
                    when(r.read_at),
                    when(r.acknowledged_at),
                ]
            })
            .collect(),
    )
}

/// The routes of announcements.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_updates, create_update))
        .routes(routes!(unread_count))
        .routes(routes!(get_update, change_update, delete_update))
        .routes(routes!(acknowledge))
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(like, unlike))
        .routes(routes!(attach))
        .routes(routes!(add_media))
        .routes(routes!(download_attachment, remove_attachment))
        .routes(routes!(media_content, remove_media))
        .routes(routes!(receipts))
        .routes(routes!(receipts_csv))
}
