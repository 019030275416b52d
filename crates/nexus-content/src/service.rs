//! Business rules of files and attachments: size limit and type sniffing, storing each
//! content once by hash, download counting, attaching files to records of any domain.

use axum::extract::multipart::Field;
use bytes::{Bytes, BytesMut};
use nexus_core::audit::AuditCtx;
use nexus_core::auth::Permission;
use nexus_core::db::stmt;
use nexus_core::events::Audience;
use nexus_core::paging::page_of;
use nexus_core::write::Work;
use nexus_core::{
    ApiError, ApiResult, AppState, CurrentUser, FieldError, ListResponse, PageParams, Timestamp,
    settings,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::entity::{attachment, file};
use crate::model::perm::{FilesManage, FilesRead};
use crate::model::*;
use crate::{Content, content};
use nexus_core::domain::Attachable;

const MAX_UPLOAD_KEY: &str = "files.max_upload_bytes";

pub fn file_out(f: file::Model) -> FileOut {
    FileOut {
        content_url: format!("/api/v1/files/{}/content", f.id),
        id: f.id,
        filename: f.filename,
        mime_type: f.mime_type,
        file_size: f.file_size,
        file_hash: f.file_hash,
        is_public: f.is_public,
        download_count: f.download_count,
        description: f.description,
        uploaded_by: f.uploaded_by,
        created_at: f.created_at,
    }
}

// ---------------------------------------------------------------- settings

pub async fn get_settings(conn: &impl ConnectionTrait) -> ApiResult<FilesSettings> {
    let max = settings::get::<_, i64>(conn, MAX_UPLOAD_KEY).await?;
    Ok(FilesSettings {
        max_upload_bytes: max.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
    })
}

pub async fn set_settings(
    state: &AppState,
    ctx: &AuditCtx,
    req: FilesSettings,
) -> ApiResult<FilesSettings> {
    let new = req.validate()?;
    let work = Work::begin(state, ctx).await?;
    let old = get_settings(&*work).await?;
    settings::set(&*work, MAX_UPLOAD_KEY, &new.max_upload_bytes).await?;
    work.audit("update", "files_settings", 0, Some(&old), Some(&new))
        .await?;
    work.commit().await?;
    Ok(new)
}

// ---------------------------------------------------------------- uploads

/// Reads one multipart field whole, refusing it with 413 on `name` once it passes `limit`
/// bytes, so an oversized upload is never held in memory.
pub async fn read_field(mut field: Field<'_>, name: &str, limit: i64) -> ApiResult<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::BadRequest(format!("reading the upload: {}", e.body_text())))?
    {
        if (buf.len() + chunk.len()) as i64 > limit {
            return Err(ApiError::FieldTooLarge(FieldError::new(
                name,
                format!("is larger than the limit of {}", human_size(limit)),
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A short text field of a multipart form (at most 10 KiB), as UTF-8.
pub async fn read_text(field: Field<'_>, name: &str) -> ApiResult<String> {
    let bytes = read_field(field, name, 10 * 1024).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::invalid(name, "must be UTF-8 text"))
}

/// A size as people read it: `20 MiB`, or bytes when not whole mebibytes.
pub fn human_size(bytes: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The content types accepted, by what the leading bytes say they are.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/heif",
    "image/avif",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The content type of `bytes` from their leading bytes, whatever the client said; text
/// is UTF-8 without control characters, CSV when its name says so. `None` when the
/// type is not one we accept (executables, archives, HTML, ...).
pub fn sniff(bytes: &[u8], filename: &str) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return ALLOWED.iter().copied().find(|m| *m == kind.mime_type());
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
    {
        return None;
    }
    let lower = text
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with("<svg")
    {
        return None;
    }
    if filename.to_ascii_lowercase().ends_with(".csv") {
        Some("text/csv")
    } else {
        Some("text/plain")
    }
}

/// The name to keep: the last path segment, trimmed, at most 255 characters.
fn clean_filename(name: &str) -> ApiResult<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let base: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if base.is_empty() {
        return Err(ApiError::invalid("file", "the upload has no file name"));
    }
    Ok(base)
}

/// Checks an upload against the size limit and the accepted types, stores its bytes once
/// by content hash, and records the file. 413 or 422 on `field` when refused.
pub async fn store_upload(
    state: &AppState,
    ctx: &AuditCtx,
    field: &str,
    upload: Upload,
) -> ApiResult<FileOut> {
    let limit = get_settings(state.db.read()).await?.max_upload_bytes;
    if upload.bytes.len() as i64 > limit {
        return Err(ApiError::FieldTooLarge(FieldError::new(
            field,
            format!("is larger than the limit of {}", human_size(limit)),
        )));
    }
    if upload.bytes.is_empty() {
        return Err(ApiError::invalid(field, "the file is empty"));
    }
    let filename = clean_filename(&upload.filename)
        .map_err(|_| ApiError::invalid(field, "the upload has no file name"))?;
    let mime = sniff(&upload.bytes, &filename).ok_or_else(|| {
        ApiError::invalid(
            field,
            "this type of file is not accepted: send an image, a PDF, text, CSV or an office document",
        )
    })?;
    let description = nexus_core::validate::clean(upload.description);
    let mut v = nexus_core::Validator::new();
    v.opt_text("description", description.as_deref(), 2000);
    v.finish()?;

    let bytes = upload.bytes;
    let hashed = bytes.clone();
    let hash = tokio::task::spawn_blocking(move || format!("{:x}", Sha256::digest(&hashed)))
        .await
        .map_err(ApiError::internal)?;
    content(state).store.put(&hash, bytes.clone()).await?;

    let mut work = Work::begin(state, ctx).await?;
    let model = file::ActiveModel {
        filename: Set(filename),
        mime_type: Set(mime.to_string()),
        file_size: Set(bytes.len() as i64),
        file_hash: Set(hash),
        is_public: Set(upload.is_public),
        download_count: Set(0),
        description: Set(description),
        uploaded_by: Set(ctx.actor_id),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = file_out(model);
    // A private file is news to its uploader only, until it is attached to a record.
    let audience = if out.is_public {
        Audience::Permission(FilesRead::NAME.into())
    } else {
        Audience::Users(out.uploaded_by.into_iter().collect())
    };
    work.created("file", out.id, &out, audience).await?;
    work.commit().await?;
    Ok(out)
}

async fn find_file(conn: &impl ConnectionTrait, id: i64) -> ApiResult<file::Model> {
    file::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("file"))
}

/// File `id` if `user` may see it: a public file, or a private one to a holder of
/// `files:read` who uploaded it or may read a record it is attached to. `None` alike
/// when absent or hidden, so that ids reveal nothing.
pub async fn visible_file(
    state: &AppState,
    conn: &impl ConnectionTrait,
    user: Option<&CurrentUser>,
    id: i64,
) -> ApiResult<Option<file::Model>> {
    let Some(f) = file::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    if f.is_public {
        return Ok(Some(f));
    }
    let Some(user) = user.filter(|u| u.can(FilesRead::NAME)) else {
        return Ok(None);
    };
    if f.uploaded_by == Some(user.id()) {
        return Ok(Some(f));
    }
    let readable: Vec<&str> = content(state)
        .attachables
        .iter()
        .filter(|a| user.can(a.read))
        .map(|a| a.entity_type)
        .collect();
    if readable.is_empty() {
        return Ok(None);
    }
    let attached = attachment::Entity::find()
        .filter(attachment::Column::FileId.eq(id))
        .filter(attachment::Column::EntityType.is_in(readable))
        .one(conn)
        .await?;
    Ok(attached.map(|_| f))
}

/// A file's record if `user` may see it (see [`visible_file`]), 404 otherwise.
pub async fn get_file(state: &AppState, user: Option<&CurrentUser>, id: i64) -> ApiResult<FileOut> {
    visible_file(state, state.db.read(), user, id)
        .await?
        .map(file_out)
        .ok_or_else(|| ApiError::not_found("file"))
}

/// A file's record and bytes if `user` may see it (404 otherwise), counting the download.
pub async fn download(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: i64,
) -> ApiResult<(FileOut, Bytes)> {
    let f = get_file(state, user, id).await?;
    let bytes = content(state).store.get(&f.file_hash).await?;
    file::Entity::update_many()
        .col_expr(
            file::Column::DownloadCount,
            Expr::col(file::Column::DownloadCount).add(1),
        )
        .filter(file::Column::Id.eq(id))
        .exec(state.db.write())
        .await?;
    Ok((f, bytes))
}

/// Files `user` may manage, newest first unless sorted: every file with `files:manage`,
/// else the public ones and their own uploads. A private file they see only through a
/// record (an attachment) is listed with that record, not here.
pub async fn list_files(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    f: &FileFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<FileOut>> {
    let mut query = file::Entity::find();
    if !user.can(FilesManage::NAME) {
        query = query.filter(
            Condition::any()
                .add(file::Column::IsPublic.eq(true))
                .add(file::Column::UploadedBy.eq(user.id())),
        );
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(file::Column::Filename)))
                .like(nexus_core::contains_pattern(q)),
        );
    }
    if let Some(by) = f.uploaded_by {
        query = query.filter(file::Column::UploadedBy.eq(by));
    }
    let sorts = ["created_at", "id", "filename", "file_size"];
    let list = page_of(conn, query, page, &sorts, ("created_at", true)).await?;
    Ok(list.map(file_out))
}

/// Deletes file `id` with its attachments, by its uploader or a holder of `files:manage`
/// (404 for anyone else, as if absent); its blob goes once no other file shares it.
pub async fn delete_file(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let f = file::Entity::find_by_id(id)
        .one(&*work)
        .await?
        .filter(|f| user.can(FilesManage::NAME) || f.uploaded_by == Some(user.id()))
        .ok_or_else(|| ApiError::not_found("file"))?;
    attachment::Entity::delete_many()
        .filter(attachment::Column::FileId.eq(id))
        .exec(&*work)
        .await?;
    file::Entity::delete_by_id(id).exec(&*work).await?;
    let shared = file::Entity::find()
        .filter(file::Column::FileHash.eq(f.file_hash.as_str()))
        .count(&*work)
        .await?
        > 0;
    let out = file_out(f.clone());
    let audience = Audience::Permission(FilesRead::NAME.into());
    work.deleted("file", id, &out, audience).await?;
    work.commit().await?;
    if !shared {
        content(state).store.delete(&f.file_hash).await?;
    }
    Ok(())
}

/// The refusal of a `file_id` that names no file the caller may attach.
pub fn no_such_file(id: i64) -> ApiError {
    ApiError::invalid("file_id", format!("no file has id {id}"))
}

// ---------------------------------------------------------------- attachments

fn attachable<'a>(content: &'a Content, entity_type: &str) -> ApiResult<&'a Attachable> {
    content
        .attachables
        .iter()
        .find(|a| a.entity_type == entity_type)
        .ok_or_else(|| ApiError::not_found(format!("attachable record type `{entity_type}`")))
}

/// The attachable type `entity_type`, once the record `entity_id` is known to exist, live
/// or archived (404 otherwise). `to_change`: the record's attachments are to change, which
/// an archived record refuses with 409.
pub async fn attachable_record(
    state: &AppState,
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
    to_change: bool,
) -> ApiResult<Attachable> {
    let content = content(state);
    let kind = *attachable(&content, entity_type)?;
    let noun = entity_type.replace('_', " ");
    if exists(conn, kind.table, entity_id).await? {
        return Ok(kind);
    }
    match kind.archive {
        Some(archive) if exists(conn, archive, entity_id).await? => match to_change {
            false => Ok(kind),
            true => Err(ApiError::conflict(format!(
                "{noun} {entity_id} is archived: its files can be read, no longer changed"
            ))),
        },
        _ => Err(ApiError::not_found(noun)),
    }
}

/// Whether `table` (from a domain's constant list, never from the request) has row `id`.
async fn exists(conn: &impl ConnectionTrait, table: &str, id: i64) -> ApiResult<bool> {
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    let found = conn
        .query_one_raw(stmt(conn.get_database_backend(), &sql, vec![id.into()]))
        .await?;
    Ok(found.is_some())
}

/// Attaches file `file_id` to a record of `kind` (which the caller has checked exists):
/// 422 on `file_id` when there is no such file, 409 when it is attached already. Whoever
/// may read the record hears `attachment.created` once the work commits.
pub async fn attach(
    work: &mut Work<'_>,
    kind: &Attachable,
    entity_id: i64,
    file_id: i64,
) -> ApiResult<AttachmentOut> {
    let Some(f) = file::Entity::find_by_id(file_id).one(&**work).await? else {
        return Err(no_such_file(file_id));
    };
    if find_attachment(&**work, kind, entity_id, file_id)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict_on(
            "file_id",
            "this file is attached to the record already",
        ));
    }
    let a = attachment::ActiveModel {
        file_id: Set(file_id),
        entity_type: Set(kind.entity_type.to_string()),
        entity_id: Set(entity_id),
        created_by: Set(work.ctx().actor_id),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&**work)
    .await?;
    let out = attachment_out(a, file_out(f));
    work.created("attachment", out.id, &out, readers(kind))
        .await?;
    Ok(out)
}

/// Who hears of a record's attachments: whoever may read the record.
fn readers(kind: &Attachable) -> Audience {
    Audience::Permission(kind.read.into())
}

async fn find_attachment(
    conn: &impl ConnectionTrait,
    kind: &Attachable,
    entity_id: i64,
    file_id: i64,
) -> ApiResult<Option<attachment::Model>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::EntityType.eq(kind.entity_type))
        .filter(attachment::Column::EntityId.eq(entity_id))
        .filter(attachment::Column::FileId.eq(file_id))
        .one(conn)
        .await?)
}

fn attachment_out(a: attachment::Model, file: FileOut) -> AttachmentOut {
    AttachmentOut {
        id: a.id,
        entity_type: a.entity_type,
        entity_id: a.entity_id,
        file,
        created_by: a.created_by,
        created_at: a.created_at,
    }
}

/// Removes file `file_id` from a record (404 when it is not attached); the file stays.
pub async fn detach(
    work: &mut Work<'_>,
    kind: &Attachable,
    entity_id: i64,
    file_id: i64,
) -> ApiResult<AttachmentOut> {
    let Some(a) = find_attachment(&**work, kind, entity_id, file_id).await? else {
        return Err(ApiError::not_found("attachment"));
    };
    let f = find_file(&**work, file_id).await?;
    attachment::Entity::delete_by_id(a.id).exec(&**work).await?;
    let out = attachment_out(a, file_out(f));
    work.deleted("attachment", out.id, &out, readers(kind))
        .await?;
    Ok(out)
}

/// The files attached to a record, a page at a time (oldest first unless sorted).
pub async fn list_attachments(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<AttachmentOut>> {
    let query = attachment::Entity::find()
        .filter(attachment::Column::EntityType.eq(entity_type))
        .filter(attachment::Column::EntityId.eq(entity_id));
    let rows = page_of(conn, query, page, &["id", "created_at"], ("id", false)).await?;
    let files = files_of(conn, &rows.items).await?;
    rows.map_page(|items| async move { Ok(with_files(items, &files)) })
        .await
}

async fn files_of(
    conn: &impl ConnectionTrait,
    rows: &[attachment::Model],
) -> ApiResult<Vec<file::Model>> {
    Ok(file::Entity::find()
        .filter(file::Column::Id.is_in(rows.iter().map(|a| a.file_id)))
        .all(conn)
        .await?)
}

fn with_files(rows: Vec<attachment::Model>, files: &[file::Model]) -> Vec<AttachmentOut> {
    rows.into_iter()
        .filter_map(|a| {
            let f = files.iter().find(|f| f.id == a.file_id)?.clone();
            Some(attachment_out(a, file_out(f)))
        })
        .collect()
}

/// The files attached to any of the records `entity_ids` of one type, oldest first: two
/// queries for a page that shows the files of many records (a work order's comments).
pub async fn attachments_of(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_ids: &[i64],
) -> ApiResult<Vec<AttachmentOut>> {
    if entity_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = attachment::Entity::find()
        .filter(attachment::Column::EntityType.eq(entity_type))
        .filter(attachment::Column::EntityId.is_in(entity_ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(conn)
        .await?;
    let files = files_of(conn, &rows).await?;
    Ok(with_files(rows, &files))
}
