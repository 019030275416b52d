//! Handlers of public work requests: sent by anyone from an asset's code, decided by
//! managers.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_content::model::Upload;
use nexus_content::service::{get_settings as file_settings, read_field, read_text};
use nexus_core::auth::Require;
use nexus_core::domain::body_limit;
use nexus_core::extract::Path;
use nexus_core::extract::parse_json;
use nexus_core::{
    ApiError, ApiJson, ApiQuery, ApiResult, AppState, ClientInfo, IfMatch, ListResponse, Versioned,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::perm::*;
use crate::model::*;
use crate::service;

/// Largest JSON work request accepted.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Reads the multipart form of a work request: its text fields and the optional `photo`
/// (an empty file part, as browsers send when none is chosen, means none).
pub async fn read_request_form(
    state: &AppState,
    mut form: Multipart,
) -> ApiResult<(NewWorkRequest, Option<Upload>)> {
    let limit = file_settings(state.db.read()).await?.max_upload_bytes;
    let mut req = NewWorkRequest::default();
    let mut photo = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "photo" => {
                let filename = field.file_name().unwrap_or("").to_string();
                let bytes = read_field(field, "photo", limit).await?;
                if !bytes.is_empty() {
                    photo = Some(Upload {
                        filename: if filename.is_empty() {
                            "photo".into()
                        } else {
                            filename
                        },
                        bytes,
                        is_public: false,
                        description: None,
                    });
                }
            }
            "qr_code" => req.qr_code = read_text(field, &name).await?,
            "title" => req.title = read_text(field, &name).await?,
            "description" => req.description = Some(read_text(field, &name).await?),
            "requester_name" => req.requester_name = read_text(field, &name).await?,
            "requester_contact" => req.requester_contact = Some(read_text(field, &name).await?),
            "" => return Err(ApiError::invalid("body", "a form field has no name")),
            other => return Err(ApiError::invalid(other, "unknown field")),
        }
    }
    Ok((req, photo))
}

/// Report a problem with an asset, without an account: JSON, or multipart with a
/// `photo`. Rate limited per client address (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/work-requests", tag = "maintenance", security(()),
    request_body(content(
        (NewWorkRequest = "application/json"),
        (NewWorkRequestForm = "multipart/form-data"),
    )),
    responses((status = 201, body = WorkRequestReceipt), (status = 413), (status = 415), (status = 422), (status = 429)))]
pub async fn submit(
    State(state): State<AppState>,
    client: ClientInfo,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let ctx = client.audit(None);
    service::check_rate(&state, &ctx)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (req, photo) = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        read_request_form(&state, form).await?
    } else if content_type.starts_with("application/json") {
        // The route lifts the body limit for photos; a JSON request stays small.
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        (parse_json::<NewWorkRequest>(&bytes)?, None)
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send the request as application/json or multipart/form-data".into(),
        ));
    };
    let receipt = service::submit_request(&state, &ctx, req, photo).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Work requests, newest first.
#[utoipa::path(get, path = "/api/v1/work-requests", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(WorkRequestFilter), responses((status = 200, body = ListResponse<WorkRequestOut>), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    ApiQuery(f): ApiQuery<WorkRequestFilter>,
) -> ApiResult<Json<ListResponse<WorkRequestOut>>> {
    Ok(Json(service::list_requests(state.db.read(), &f).await?))
}

/// One work request.
#[utoipa::path(get, path = "/api/v1/work-requests/{id}", tag = "maintenance", security(("bearer" = ["work_orders:read"])),
    params(("id" = i64, Path)), responses((status = 200, body = WorkRequestOut), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: Require<WorkOrdersRead>,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let out = service::get_request(state.db.read(), id).await?;
    Ok(Versioned(out.version, out))
}

/// Approve a pending request: creates its work order. 409 once decided.
#[utoipa::path(post, path = "/api/v1/work-requests/{id}/approve", tag = "maintenance", security(("bearer" = ["work_orders:manage"])),
    params(("id" = i64, Path)), request_body = ApproveWorkRequest,
    responses((status = 200, body = WorkRequestOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn approve(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersManage>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ApproveWorkRequest>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::approve_request(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

/// Reject a pending request with a reason. 409 once decided.
#[utoipa::path(post, path = "/api/v1/work-requests/{id}/reject", tag = "maintenance", security(("bearer" = ["work_orders:manage"])),
    params(("id" = i64, Path)), request_body = RejectWorkRequest,
    responses((status = 200, body = WorkRequestOut), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn reject(
    State(state): State<AppState>,
    client: ClientInfo,
    Require(user, _): Require<WorkOrdersManage>,
    if_match: IfMatch,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RejectWorkRequest>,
) -> ApiResult<impl IntoResponse> {
    let out =
        service::reject_request(&state, &client.audit(Some(user.id())), id, if_match, req).await?;
    Ok(Versioned(out.version, out))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(body_limit(
            routes!(list, submit),
            DefaultBodyLimit::disable(),
        ))
        .routes(routes!(get_one))
        .routes(routes!(approve))
        .routes(routes!(reject))
}
