//! Asset downtime: an asset whose status becomes `down` opens an interval; becoming
//! `operational` (or `retired`) again closes it. `maintenance` in between keeps it open,
//! since the asset is still not available for production.

use nexus_core::audit::AuditCtx;
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{audit_change, publish};
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

/// A downtime interval that opened (`started`) or closed (`ended`), for the event sent
/// after commit with [`publish_downtime`].
pub struct DowntimeChange {
    pub action: &'static str,
    pub interval: DowntimeOut,
}

/// Opens or closes the asset's downtime interval for its new `status`, on `conn`, with the
/// audit row. Returns what changed, if anything.
pub async fn track_downtime(
    conn: &impl ConnectionTrait,
    ctx: &AuditCtx,
    asset_id: i64,
    status: &str,
    reason: Option<String>,
) -> ApiResult<Option<DowntimeChange>> {
    let open = downtime::Entity::find()
        .filter(downtime::Column::AssetId.eq(asset_id))
        .filter(downtime::Column::EndedAt.is_null())
        .one(conn)
        .await?;
    let now = Timestamp::now();
    match (status, open) {
        ("down", None) => {
            let out = downtime_out(
                downtime::ActiveModel {
                    asset_id: Set(asset_id),
                    started_at: Set(now),
                    reason: Set(reason),
                    created_by: Set(ctx.actor_id),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(conn)
                .await?,
            );
            audit_change(
                conn,
                ctx,
                "start",
                "asset_downtime",
                out.id,
                None,
                Some(&out),
            )
            .await?;
            Ok(Some(DowntimeChange {
                action: "started",
                interval: out,
            }))
        }
        ("operational" | "retired", Some(open)) => {
            let before = downtime_out(open.clone());
            let mut am: downtime::ActiveModel = open.into();
            am.ended_at = Set(Some(now));
            let after = downtime_out(am.update(conn).await?);
            audit_change(
                conn,
                ctx,
                "end",
                "asset_downtime",
                after.id,
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok(Some(DowntimeChange {
                action: "ended",
                interval: after,
            }))
        }
        _ => Ok(None),
    }
}

/// Sends `downtime.started` / `downtime.ended` to everyone who may read work orders.
pub fn publish_downtime(state: &AppState, change: &DowntimeChange) {
    publish(
        state,
        "downtime",
        change.action,
        change.interval.id,
        &change.interval,
        "work_orders:read",
    );
}

/// The downtime intervals of an asset, newest first.
pub async fn list_downtime(
    conn: &impl ConnectionTrait,
    asset_id: i64,
) -> ApiResult<Vec<DowntimeOut>> {
    asset::Entity::find_by_id(asset_id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("asset"))?;
    Ok(downtime::Entity::find()
        .filter(downtime::Column::AssetId.eq(asset_id))
        .order_by_desc(downtime::Column::StartedAt)
        .order_by_desc(downtime::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(downtime_out)
        .collect())
}
