//! Photos and files on the work order page: the work order's and its comments'
//! attachments, the phone form that adds a photo, and the comment form that may carry
//! one. Files are stored and attached by nexus-content, on the terms of its API.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::http::StatusCode;
use axum::routing::post;
use nexus_content::attachments_of;
use nexus_content::model::{AttachmentOut, Upload};
use nexus_content::service::{get_settings, human_size, read_field, read_text};
use nexus_core::extract::Path;
use nexus_core::pages::{Errors, Halt, OrPage, Page, PostedMultipart, Web, sentence};
use nexus_core::{ApiError, ApiResult, AppState, FieldError};

use super::work_orders::{back, refused, work_order_page};
use crate::model::*;
use crate::service;

/// The attachment record types of this page (see [`crate::ATTACHABLE`]).
const WORK_ORDER: &str = "work_order";
const COMMENT: &str = "work_order_comment";

pub fn router() -> Router<AppState> {
    // The size limit is a setting, checked while the file streams in.
    Router::new()
        .route(
            "/maintenance/work-orders/{id}/photos",
            post(add_photo).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/maintenance/work-orders/{id}/comments",
            post(comment).layer(DefaultBodyLimit::disable()),
        )
}

// ---------------------------------------------------------------- on the page

/// The files of the work order page: thumbnails for images, links for other files.
pub struct PhotosBlock {
    /// The work order's own files, oldest first.
    pub files: Vec<AttachmentOut>,
    comment_files: Vec<AttachmentOut>,
    /// The user may see files (`files:read`).
    pub visible: bool,
    /// The user may add files to the work order, and to a new comment.
    pub can_add: bool,
    pub can_add_to_comment: bool,
    /// The upload limit, as `20 MiB`.
    pub limit: String,
}

impl PhotosBlock {
    pub fn of_comment(&self, id: &i64) -> Vec<&AttachmentOut> {
        self.comment_files
            .iter()
            .filter(|a| a.entity_id == *id)
            .collect()
    }
}

pub(super) async fn photos_block(
    web: &Web,
    work_order_id: i64,
    comment_ids: &[i64],
) -> Result<PhotosBlock, Halt> {
    let db = web.state.db.read();
    let visible = web.user.can("files:read");
    let (files, comment_files) = if visible {
        (
            attachments_of(db, WORK_ORDER, &[work_order_id])
                .await
                .or_page(web)?,
            attachments_of(db, COMMENT, comment_ids)
                .await
                .or_page(web)?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(PhotosBlock {
        files,
        comment_files,
        visible,
        can_add: service::may_attach(&web.user, WORK_ORDER).is_ok(),
        can_add_to_comment: service::may_attach(&web.user, COMMENT).is_ok(),
        limit: human_size(get_settings(db).await.or_page(web)?.max_upload_bytes),
    })
}

// ---------------------------------------------------------------- the forms

/// A multipart form of this page as far as it was read.
#[derive(Default)]
struct Sent {
    content: String,
    /// The chosen file; browsers send an empty part when none was chosen.
    file: Option<Upload>,
}

/// Reads the parts after the CSRF token into `sent`, its file from the part `file_field`
/// (413 on that field past the upload limit). `sent` keeps what was read before a
/// failure, so a refused comment keeps its text.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
    file_field: &str,
    sent: &mut Sent,
) -> ApiResult<()> {
    let limit = get_settings(state.db.read()).await?.max_upload_bytes;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
    {
        match field.name().unwrap_or("") {
            "content" => sent.content = read_text(field, "content").await?,
            name if name == file_field => {
                let filename = field.file_name().unwrap_or("").to_string();
                let bytes = read_field(field, file_field, limit).await?;
                sent.file = (!bytes.is_empty()).then(|| Upload {
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
            other => {
                return Err(ApiError::BadRequest(format!(
                    "the form has an unexpected field `{other}`"
                )));
            }
        }
    }
    Ok(())
}

/// A refused upload or comment: the page again, the reason next to `field` (a missing
/// permission too, so the phone says why), `summary` on top, and the comment's `draft`
/// kept. Nothing was stored.
async fn refused_on(
    web: &Web,
    id: i64,
    field: &str,
    summary: &str,
    draft: &str,
    err: ApiError,
) -> Page {
    let (status, errors) = match err {
        ApiError::Forbidden(reason) => (
            StatusCode::FORBIDDEN,
            vec![FieldError::new(field, sentence(&reason))],
        ),
        err if !err.field_errors().is_empty() => (err.status(), err.field_errors()),
        err => return refused(web, id, None, err).await,
    };
    let shell = web.shell("Work order").with_error(summary);
    work_order_page(web, id, shell, status, None, Errors(errors), draft).await
}

/// Adds a photo (or another accepted file) to the work order.
async fn add_photo(web: Web, Path(id): Path<i64>, PostedMultipart(form): PostedMultipart) -> Page {
    let mut sent = Sent::default();
    let read = read_form(&web.state, form, "file", &mut sent).await;
    let added = match read {
        Ok(()) => {
            let file = sent.file.take();
            service::add_work_order_file(&web.state, &web.audit(), &web.user, id, file).await
        }
        Err(e) => Err(e),
    };
    match added {
        Ok(_) => back(id, "photo", "attachments"),
        Err(err) => {
            let summary = "The photo was not added. See the marked field.";
            refused_on(&web, id, "file", summary, "", err).await
        }
    }
}

/// Adds a comment, with a photo when one was chosen; both or neither are saved.
async fn comment(web: Web, Path(id): Path<i64>, PostedMultipart(form): PostedMultipart) -> Page {
    web.require("work_orders:write")?;
    let mut sent = Sent::default();
    let read = read_form(&web.state, form, "photo", &mut sent).await;
    let added = match read {
        Ok(()) => {
            let req = NewComment {
                content: sent.content.clone(),
            };
            let (ctx, photo) = (web.audit(), sent.file.take());
            service::add_comment(&web.state, &ctx, &web.user, id, req, photo).await
        }
        Err(e) => Err(e),
    };
    match added {
        Ok(_) => back(id, "commented", "comments"),
        Err(err) => {
            let summary = "The comment was not added. See the marked field.";
            refused_on(&web, id, "photo", summary, &sent.content, err).await
        }
    }
}
