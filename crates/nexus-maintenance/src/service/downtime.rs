//! Asset downtime: an asset whose status becomes `down` opens an interval; becoming
//! `operational` (or `retired`) again closes it. `maintenance` in between keeps it open,
//! since the asset is still not available for production.

use nexus_core::events::Event;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, to_json};
use nexus_core::{ApiError, ApiResult, ListResponse, PageParams, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::readers;
use crate::entity::{asset, downtime};
use crate::model::DowntimeOut;

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
            let mut am: downtime::ActiveModel = open.into();
            am.ended_at = Set(Some(now));
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
