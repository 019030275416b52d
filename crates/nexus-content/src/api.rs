//! HTTP handlers of files and attachments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_core::auth::Require;
use nexus_core::domain::body_limit;
use nexus_core::extract::Path;
use nexus_core::write::Work;
use nexus_core::{
    ApiError, ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, CurrentUser, ListResponse,
    PageParams,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

fn multipart(m: Result<Multipart, MultipartRejection>) -> ApiResult<Multipart> {
    m.map_err(|_| ApiError::UnsupportedMediaType("send the file as multipart/form-data".into()))
}

fn flag(field: &str, text: &str) -> ApiResult<bool> {
    match text.trim() {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(ApiError::invalid(field, "must be true or false")),
    }
}

/// Upload a file (multipart field `file`, optional `is_public` and `description`). The
/// type is sniffed from the content; the same bytes uploaded twice are stored once.
#[utoipa::path(post, path = "/api/v1/files", tag = "files", security(("bearer" = ["files:write"])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileOut), (status = 413), (status = 415), (status = 422)))]
pub async fn upload(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<FilesWrite>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    let mut form = multipart(form)?;
    let limit = service::get_settings(state.db.read())
        .await?
        .max_upload_bytes;
    let mut file = None;
    let mut is_public = false;
    let mut description = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
    {
        match field.name().unwrap_or("") {
            "file" => {
                let filename = field.file_name().unwrap_or("").to_string();
                file = Some((filename, service::read_field(field, "file", limit).await?));
            }
            "is_public" => {
                is_public = flag("is_public", &service::read_text(field, "is_public").await?)?
            }
            "description" => description = Some(service::read_text(field, "description").await?),
            "" => return Err(ApiError::invalid("body", "a form field has no name")),
            other => return Err(ApiError::invalid(other, "unknown field")),
        }
    }
    let Some((filename, bytes)) = file else {
        return Err(ApiError::invalid("file", "choose a file to upload"));
    };
    let upload = Upload {
        filename,
        bytes,
        is_public,
        description,
    };
    let out = service::store_upload(&state, &client.audit(Some(user.id())), "file", upload).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Files you may manage, newest first unless sorted (`created_at`, `id`, `filename`,
/// `file_size`): every file with `files:manage`, else the public ones and your own uploads.
#[utoipa::path(get, path = "/api/v1/files", tag = "files", security(("bearer" = ["files:read"])),
    params(FileFilter, PageParams), responses((status = 200, body = ListResponse<FileOut>), (status = 422)))]
pub async fn list_files(
    State(state): State<AppState>,
    Require(user, _): Require<FilesRead>,
    ApiQuery(f): ApiQuery<FileFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<FileOut>>> {
    Ok(Json(
        service::list_files(state.db.read(), &user, &f, &page).await?,
    ))
}

/// Delete a file with its attachments: your own upload, or any file with `files:manage`
/// (404 otherwise, as if absent). Its stored bytes go once no other file shares them.
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files", security(("bearer" = ["files:write"])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_file(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<FilesWrite>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_file(&state, &client.audit(Some(user.id())), &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file's record. Public files are visible to anyone; a private one needs `files:read`
/// and either having uploaded it or the permission to read a record it is attached to
/// (404 otherwise, as if absent).
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", security((), ("bearer" = ["files:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = FileOut), (status = 404)))]
pub async fn get_file(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<Json<FileOut>> {
    Ok(Json(service::get_file(&state, user.as_ref(), id).await?))
}

/// Stored bytes as a download named `filename`: shown in the browser when `inline`, saved
/// otherwise; whatever they hold, they never run as a page of this site.
pub fn download_response(bytes: Bytes, filename: &str, mime_type: &str, inline: bool) -> Response {
    let mime = if mime_type.starts_with("text/") {
        format!("{mime_type}; charset=utf-8")
    } else {
        mime_type.to_string()
    };
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        nexus_core::pages::encode(filename)
    );
    let mut res = bytes.into_response();
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, mime),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "private, no-cache".to_string()),
        (
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'".to_string(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    res
}

/// Shown in the browser rather than saved: images and PDF.
fn inline(mime: &str) -> bool {
    mime.starts_with("image/") || mime == "application/pdf"
}

/// Download a file; counts the download. Public files need no sign-in; private ones are
/// seen as by `GET /api/v1/files/{id}`.
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files", security((), ("bearer" = ["files:read"])),
    params(("id" = i64, Path)), responses((status = 200, description = "The file, as the type it was sniffed as", content_type = "*/*"), (status = 404)))]
pub async fn file_content(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (f, bytes) = service::download(&state, user.as_ref(), id).await?;
    Ok(download_response(
        bytes,
        &f.filename,
        &f.mime_type,
        inline(&f.mime_type),
    ))
}

/// Upload limits.
#[utoipa::path(get, path = "/api/v1/files/settings", tag = "files", security(("bearer" = ["files:read"])),
    responses((status = 200, body = FilesSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Require<FilesRead>,
) -> ApiResult<Json<FilesSettings>> {
    Ok(Json(service::get_settings(state.db.read()).await?))
}

/// Change the upload limits.
#[utoipa::path(put, path = "/api/v1/files/settings", tag = "files", security(("bearer" = ["files:manage"])),
    request_body = FilesSettings, responses((status = 200, body = FilesSettings), (status = 422)))]
pub async fn put_settings(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<FilesManage>,
    ApiJson(req): ApiJson<FilesSettings>,
) -> ApiResult<Json<FilesSettings>> {
    Ok(Json(
        service::set_settings(&state, &client.audit(Some(user.id())), req).await?,
    ))
}

/// The files attached to a record (`entity_type` is `asset`, `work_order`, ...), live or
/// archived, oldest first, paged; needs `files:read` and the permission to see the record.
#[utoipa::path(get, path = "/api/v1/attachments/{entity_type}/{entity_id}", tag = "files", security(("bearer" = ["files:read"])),
    params(("entity_type" = String, Path), ("entity_id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<AttachmentOut>), (status = 403), (status = 404), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    Require(user, _): Require<FilesRead>,
    Path((entity_type, entity_id)): Path<(String, i64)>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResponse<AttachmentOut>>> {
    let conn = state.db.read();
    let kind = service::attachable_record(&state, conn, &entity_type, entity_id, false).await?;
    user.require(kind.read)?;
    Ok(Json(
        service::list_attachments(conn, &entity_type, entity_id, &page).await?,
    ))
}

/// Attach an uploaded file to a record; needs `files:write`, the permission to change the
/// record and to see the file (422 on `file_id` otherwise, as for no such file). 409 when
/// it is attached already, or the record is archived.
#[utoipa::path(post, path = "/api/v1/attachments/{entity_type}/{entity_id}", tag = "files", security(("bearer" = ["files:write"])),
    params(("entity_type" = String, Path), ("entity_id" = i64, Path)), request_body = AttachRequest,
    responses((status = 201, body = AttachmentOut), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn attach(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<FilesWrite>,
    Path((entity_type, entity_id)): Path<(String, i64)>,
    ApiJson(req): ApiJson<AttachRequest>,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(Some(user.id()));
    let mut work = Work::begin(&state, &ctx).await?;
    let kind = service::attachable_record(&state, &*work, &entity_type, entity_id, true).await?;
    user.require(kind.write)?;
    if service::visible_file(&state, &*work, Some(&user), req.file_id)
        .await?
        .is_none()
    {
        return Err(service::no_such_file(req.file_id));
    }
    let out = service::attach(&mut work, &kind, entity_id, req.file_id).await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Remove a file from a record; the file itself stays. 409 when the record is archived.
#[utoipa::path(delete, path = "/api/v1/attachments/{entity_type}/{entity_id}/{file_id}", tag = "files", security(("bearer" = ["files:write"])),
    params(("entity_type" = String, Path), ("entity_id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn detach(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<FilesWrite>,
    Path((entity_type, entity_id, file_id)): Path<(String, i64, i64)>,
) -> ApiResult<StatusCode> {
    let ctx = client.audit(Some(user.id()));
    let mut work = Work::begin(&state, &ctx).await?;
    let kind = service::attachable_record(&state, &*work, &entity_type, entity_id, true).await?;
    user.require(kind.write)?;
    service::detach(&mut work, &kind, entity_id, file_id).await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(body_limit(
            routes!(upload, list_files),
            DefaultBodyLimit::disable(),
        ))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(get_file, delete_file))
        .routes(routes!(file_content))
        .routes(routes!(list, attach))
        .routes(routes!(detach))
}

#[derive(OpenApi)]
#[openapi(tags((name = "files", description = "Files stored by content hash, and attachments")))]
pub struct ApiDoc;
