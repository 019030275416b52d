//! Asset downtime: an asset whose status becomes `down` opens an interval; becoming
//! `operational` (or `retired`) again closes it. `maintenance` in between keeps it open,
//! since the asset is still not available for production. A closing interval is linked to
//! the work order on the asset that was worked during it; a past stop can be recorded
//! after the fact with its work order.

use nexus_core::audit::AuditCtx;
use nexus_core::events::Event;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, to_json};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp, Validator};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use super::readers;
use crate::entity::{asset, downtime, work_order};
use crate::model::{DowntimeOut, RecordDowntime};

fn downtime_out(d: downtime::Model) -> DowntimeOut {
    DowntimeOut {
        id: d.id,
        asset_id: d.asset_id,
        started_at: d.started_at,
        ended_at: d.ended_at,
        reason: d.reason,
        work_order_id: d.work_order_id,
        created_by: d.created_by,
    }
}

/// Opens or closes the asset's downtime interval for its new `status`: audited as
/// `asset_downtime`, announced as `downtime.started` / `downtime.ended` to whoever may
/// read work orders.
pub async fn track_downtime(
    work: &mut Work<'_>,
    asset_id: i64,
    status: &str,
    reason: Option<String>,
) -> ApiResult<()> {
    let open = downtime::Entity::find()
        .filter(downtime::Column::AssetId.eq(asset_id))
        .filter(downtime::Column::EndedAt.is_null())
        .one(&**work)
        .await?;
    let now = Timestamp::now();
    let (action, event, before, after) = match (status, open) {
        ("down", None) => {
            let row = downtime::ActiveModel {
                asset_id: Set(asset_id),
                started_at: Set(now),
                reason: Set(reason),
                created_by: Set(work.ctx().actor_id),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&**work)
            .await?;
            ("start", "started", None, downtime_out(row))
        }
        ("operational" | "retired", Some(open)) => {
            let before = downtime_out(open.clone());
            let worked = match open.work_order_id {
                Some(id) => Some(id),
                None => worked_during(&**work, asset_id, open.started_at).await?,
            };
            let mut am: downtime::ActiveModel = open.into();
            am.ended_at = Set(Some(now));
            am.work_order_id = Set(worked);
            (
                "end",
                "ended",
                Some(before),
                downtime_out(am.update(&**work).await?),
            )
        }
        _ => return Ok(()),
    };
    work.audit(
        action,
        "asset_downtime",
        after.id,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    work.emit(Event::new(
        "downtime",
        event,
        after.id,
        to_json(&after),
        readers("work_orders:read"),
    ));
    Ok(())
}

/// The work order on the asset started most recently since `since` (the one that dealt
/// with a stop that began then), if any.
async fn worked_during(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    since: Timestamp,
) -> ApiResult<Option<i64>> {
    Ok(work_order::Entity::find()
        .filter(work_order::Column::AssetId.eq(asset_id))
        .filter(work_order::Column::StartedAt.gte(since))
        .filter(work_order::Column::Status.ne("cancelled"))
        .order_by_desc(work_order::Column::StartedAt)
        .one(conn)
        .await?
        .map(|w| w.id))
}

/// Records a past stop of asset `asset_id`: it must have ended, not lie in the future,
/// and not overlap another interval of the asset (409 on `started_at`); its work order
/// must be one of the asset's (422 on `work_order_id`).
pub async fn record_downtime(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    mut req: RecordDowntime,
) -> ApiResult<DowntimeOut> {
    let now = Timestamp::now();
    req.reason = req
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let mut v = Validator::new();
    v.check(
        req.started_at < req.ended_at,
        "ended_at",
        "must be after started_at",
    );
    v.check(req.ended_at <= now, "ended_at", "must not be in the future");
    v.opt_text("reason", req.reason.as_deref(), 500);
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    asset::Entity::find_by_id(asset_id)
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("asset"))?;
    if let Some(id) = req.work_order_id {
        let on_asset = work_order::Entity::find_by_id(id)
            .one(&*work)
            .await?
            .is_some_and(|w| w.asset_id == Some(asset_id));
        if !on_asset {
            return Err(ApiError::invalid(
                "work_order_id",
                "choose a work order of this asset",
            ));
        }
    }
    let overlapping = downtime::Entity::find()
        .filter(downtime::Column::AssetId.eq(asset_id))
        .filter(downtime::Column::StartedAt.lt(req.ended_at))
        .filter(
            Condition::any()
                .add(downtime::Column::EndedAt.is_null())
                .add(downtime::Column::EndedAt.gt(req.started_at)),
        )
        .count(&*work)
        .await?;
    if overlapping > 0 {
        return Err(ApiError::conflict_on(
            "started_at",
            "the asset was already recorded down during part of that time",
        ));
    }
    let row = downtime::ActiveModel {
        asset_id: Set(asset_id),
        started_at: Set(req.started_at),
        ended_at: Set(Some(req.ended_at)),
        reason: Set(req.reason),
        work_order_id: Set(req.work_order_id),
        created_by: Set(ctx.actor_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = downtime_out(row);
    work.audit("record", "asset_downtime", out.id, None, Some(&out))
        .await?;
    work.emit(Event::new(
        "downtime",
        "recorded",
        out.id,
        to_json(&out),
        readers("work_orders:read"),
    ));
    work.commit().await?;
    Ok(out)
}

/// The downtime intervals of an asset, newest first by default.
pub async fn list_downtime(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<DowntimeOut>> {
    asset::Entity::find_by_id(asset_id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("asset"))?;
    let query = downtime::Entity::find().filter(downtime::Column::AssetId.eq(asset_id));
    let list = page_of(
        conn,
        query,
        page,
        &["started_at", "ended_at", "id"],
        ("started_at", true),
    )
    .await?;
    Ok(list.map(downtime_out))
}
