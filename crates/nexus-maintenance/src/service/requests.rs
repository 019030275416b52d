//! Public work requests: anyone holding an asset's QR code may report a problem (rate
//! limited per client address, with a photo); a manager approves it into a work order
//! or rejects it with a reason.

use nexus_content::model::Upload;
use nexus_core::audit::AuditCtx;
use nexus_core::extract::IfMatch;
use nexus_core::paging::page_of;
use nexus_core::ratelimit::RateLimiter;
use nexus_core::write::{Work, find_current, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::readers;
use crate::entity::work_request;
use crate::model::*;
use crate::service::{open_work_order, qr};

/// Requests are seen by whoever may read work orders.
const READ: &str = "work_orders:read";

/// Requests one client address may send per hour.
pub const REQUESTS_PER_HOUR: u32 = 10;

/// Public requests per client address.
pub struct RequestLimiter(pub RateLimiter);

impl Default for RequestLimiter {
    fn default() -> Self {
        Self(RateLimiter::new(
            REQUESTS_PER_HOUR,
            std::time::Duration::from_secs(3600),
        ))
    }
}

fn request_out(r: work_request::Model) -> WorkRequestOut {
    WorkRequestOut {
        id: r.id,
        asset_id: r.asset_id,
        location_id: r.location_id,
        title: r.title,
        description: r.description,
        requester_name: r.requester_name,
        requester_contact: r.requester_contact,
        photo_file_id: r.photo_file_id,
        status: r.status,
        work_order_id: r.work_order_id,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        rejection_reason: r.rejection_reason,
        client_ip: r.client_ip,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

/// 429 with the seconds to wait once this client address has sent its share.
pub fn check_rate(state: &AppState, ctx: &AuditCtx) -> ApiResult<()> {
    let key = ctx.ip.as_deref().unwrap_or("unknown");
    state
        .domains
        .get::<RequestLimiter>()
        .0
        .hit(key)
        .map_err(|retry_after| ApiError::TooManyRequests {
            message: "too many requests from this address; try again later".into(),
            retry_after,
        })
}

/// Records a request sent from an asset's code, with its optional photo (an image under
/// the upload limit, refused on `photo` otherwise). The caller has counted it against
/// the rate limit.
pub async fn submit_request(
    state: &AppState,
    ctx: &AuditCtx,
    req: NewWorkRequest,
    photo: Option<Upload>,
) -> ApiResult<WorkRequestReceipt> {
    let req = req.validate()?;
    let Some(asset) = qr::asset_by_qr(state.db.read(), &req.qr_code).await? else {
        return Err(ApiError::invalid(
            "qr_code",
            "no asset has this code; scan the label again",
        ));
    };
    let photo = match photo {
        None => None,
        Some(upload) => {
            let sniffed = nexus_content::service::sniff(&upload.bytes, &upload.filename);
            if !upload.bytes.is_empty() && !sniffed.is_some_and(|m| m.starts_with("image/")) {
                return Err(ApiError::invalid(
                    "photo",
                    "must be a photo (an image file)",
                ));
            }
            Some(nexus_content::store_upload(state, ctx, "photo", upload).await?)
        }
    };
    let now = Timestamp::now();
    let mut work = Work::begin(state, ctx).await?;
    let row = work_request::ActiveModel {
        asset_id: Set(Some(asset.id)),
        location_id: Set(asset.location_id),
        title: Set(req.title),
        description: Set(req.description),
        requester_name: Set(req.requester_name),
        requester_contact: Set(req.requester_contact),
        photo_file_id: Set(photo.as_ref().map(|p| p.id)),
        status: Set("pending".into()),
        client_ip: Set(ctx.ip.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = request_out(row);
    if let Some(p) = &photo {
        nexus_content::attach(&mut work, crate::attachable("work_request")?, out.id, p.id).await?;
    }
    work.created("work_request", out.id, &out, readers(READ))
        .await?;
    work.commit().await?;
    Ok(WorkRequestReceipt {
        id: out.id,
        status: out.status,
        created_at: out.created_at,
    })
}

async fn find_request(conn: &impl ConnectionTrait, id: i64) -> ApiResult<work_request::Model> {
    work_request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("work request"))
}

pub async fn get_request(conn: &impl ConnectionTrait, id: i64) -> ApiResult<WorkRequestOut> {
    find_request(conn, id).await.map(request_out)
}

/// Requests, newest first.
pub async fn list_requests(
    conn: &impl ConnectionTrait,
    f: &WorkRequestFilter,
) -> ApiResult<ListResponse<WorkRequestOut>> {
    f.validate()?;
    let mut q = work_request::Entity::find();
    if let Some(s) = &f.status {
        q = q.filter(work_request::Column::Status.eq(s.as_str()));
    }
    if let Some(a) = f.asset_id {
        q = q.filter(work_request::Column::AssetId.eq(a));
    }
    let page = nexus_core::PageParams {
        limit: f.limit,
        offset: f.offset,
        sort: None,
    };
    Ok(page_of(conn, q, &page, &["id"], ("id", true))
        .await?
        .map(request_out))
}

/// The pending request `id` in `txn`, at the version the client saw; 409 once decided.
async fn pending(
    txn: &impl ConnectionTrait,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<work_request::Model> {
    let current =
        find_current::<work_request::Entity, _>(txn, id, if_match, "work request").await?;
    if current.status != "pending" {
        return Err(ApiError::conflict(format!(
            "the request was {} already",
            current.status
        )));
    }
    Ok(current)
}

/// Writes a decision on a pending request, guarded by its version, announced as
/// `work_request.<event>`.
async fn decide(
    work: &mut Work<'_>,
    event: &str,
    current: work_request::Model,
    fill: impl FnOnce(&mut work_request::ActiveModel),
) -> ApiResult<WorkRequestOut> {
    let before = request_out(current.clone());
    let mut am: work_request::ActiveModel = current.clone().into();
    fill(&mut am);
    let now = Timestamp::now();
    am.decided_by = Set(work.ctx().actor_id);
    am.decided_at = Set(Some(now));
    am.updated_at = Set(now);
    let after = request_out(update_versioned(&**work, am, current.version).await?);
    let (id, audience) = (after.id, readers(READ));
    work.record(
        "update",
        event,
        "work_request",
        id,
        Some(&before),
        Some(&after),
        audience,
    )
    .await?;
    Ok(after)
}

/// Approves a pending request: creates its work order (with the request's photo
/// attached) in the same transaction. 409 when decided already.
pub async fn approve_request(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: ApproveWorkRequest,
) -> ApiResult<WorkRequestOut> {
    let mut work = Work::begin(state, ctx).await?;
    let current = pending(&*work, id, if_match).await?;
    let contact = current
        .requester_contact
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let requested = format!(
        "Requested by {}{contact} through work request #{id}.",
        current.requester_name
    );
    let description = match &current.description {
        Some(d) => format!("{d}\n\n{requested}"),
        None => requested,
    };
    let wo = open_work_order(
        &mut work,
        NewWorkOrder {
            title: current.title.clone(),
            description: Some(description),
            asset_id: current.asset_id,
            location_id: current.location_id,
            work_order_type: req.work_order_type,
            priority: req.priority,
            assigned_to_id: req.assigned_to_id,
            due_date: req.due_date,
            estimated_minutes: req.estimated_minutes,
            dedupe_key: Some(format!("work_request:{id}")),
            ..Default::default()
        },
    )
    .await?;
    if let Some(photo) = current.photo_file_id {
        nexus_content::attach(&mut work, crate::attachable("work_order")?, wo.id, photo).await?;
    }
    let out = decide(&mut work, "approved", current, |am| {
        am.status = Set("approved".into());
        am.work_order_id = Set(Some(wo.id));
    })
    .await?;
    work.commit().await?;
    Ok(out)
}

/// Rejects a pending request with a reason. 409 when decided already.
pub async fn reject_request(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: RejectWorkRequest,
) -> ApiResult<WorkRequestOut> {
    let req = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let current = pending(&*work, id, if_match).await?;
    let out = decide(&mut work, "rejected", current, |am| {
        am.status = Set("rejected".into());
        am.rejection_reason = Set(Some(req.reason));
    })
    .await?;
    work.commit().await?;
    Ok(out)
}
