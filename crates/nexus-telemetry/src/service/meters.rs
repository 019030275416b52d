//! Meter-based preventive maintenance: a schedule every N units of a counter opens a work
//! order when the counter passes its next mark, then moves the mark past the reading.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event};
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};

use super::ingest::Sample;
use super::{cache, find_metric, load_catalog};
use crate::model::{MeterScheduleData, MeterScheduleOut};

#[derive(FromQueryResult)]
struct Row {
    id: i64,
    series_id: i64,
    every_units: f64,
    next_at: f64,
    title: String,
    description: Option<String>,
    priority: String,
    created_at: i64,
}

const COLUMNS: &str =
    "id, series_id, every_units, next_at, title, description, priority, created_at";

fn out(r: Row) -> MeterScheduleOut {
    MeterScheduleOut {
        id: r.id,
        series_id: r.series_id,
        every_units: r.every_units,
        next_at: r.next_at,
        title: r.title,
        description: r.description,
        priority: r.priority,
        created_at: Timestamp(r.created_at),
    }
}

pub async fn list_meter_schedules(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    metric: &str,
) -> ApiResult<Vec<MeterScheduleOut>> {
    let m = find_metric(conn, asset_id, metric).await?;
    Ok(Row::find_by_statement(stmt(
        conn.get_database_backend(),
        &format!("SELECT {COLUMNS} FROM meter_schedules WHERE series_id = $1 ORDER BY id"),
        vec![m.id.into()],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(out)
    .collect())
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// Adds a meter schedule to a counter metric (422 on a gauge).
pub async fn create_meter_schedule(
    state: &AppState,
    asset_id: i64,
    metric: &str,
    req: MeterScheduleData,
) -> ApiResult<MeterScheduleOut> {
    let req = req.validate()?;
    let conn = state.db.write();
    let m = find_metric(conn, asset_id, metric).await?;
    if m.kind != "counter" {
        return Err(ApiError::invalid(
            "metric",
            format!(
                "'{metric}' is a {}; meter schedules run on counters",
                m.kind
            ),
        ));
    }
    let first = req
        .first_at
        .unwrap_or(m.metric_value.unwrap_or(0.0) + req.every_units);
    let id = IdRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "INSERT INTO meter_schedules (series_id, every_units, next_at, title, description, priority, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
        vec![
            m.id.into(),
            req.every_units.into(),
            first.into(),
            req.title.into(),
            req.description.into(),
            req.priority.into(),
            Timestamp::now().0.into(),
        ],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| ApiError::internal("schedule insert returned no id"))?
    .id;
    load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    state.events.publish(Event::new(
        "asset_metric",
        "meter_schedule_created",
        m.id,
        serde_json::json!({"asset_id": asset_id, "schedule": id}),
        Audience::Permission("telemetry:read".into()),
    ));
    list_meter_schedules(conn, asset_id, metric)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found("meter schedule"))
}

/// Opens the work orders of every schedule whose mark the newest reading of its counter
/// passed, and moves each mark past that reading.
pub(super) async fn evaluate(state: &AppState, new: &[Sample]) -> ApiResult<Vec<Event>> {
    let metered: HashMap<i64, (i64, f64)> = {
        let cache = cache(state);
        let catalog = cache.catalog.read().unwrap_or_else(|e| e.into_inner());
        let mut latest = HashMap::new();
        for run in new.chunk_by(|a, b| a.series == b.series) {
            if let Some(def) = catalog.by_series.get(&run[0].series)
                && def.metered
                && let Some(last) = run.iter().max_by_key(|s| s.ts)
            {
                latest.insert(def.id, (def.asset_id, last.value));
            }
        }
        latest
    };
    let mut events = Vec::new();
    if metered.is_empty() {
        return Ok(events);
    }
    let txn = state.db.write().begin().await?;
    let backend = txn.get_database_backend();
    for (series, (asset_id, value)) in metered {
        let due = Row::find_by_statement(stmt(
            backend,
            &format!(
                "SELECT {COLUMNS} FROM meter_schedules WHERE series_id = $1 AND next_at <= $2"
            ),
            vec![series.into(), value.into()],
        ))
        .all(&txn)
        .await?;
        for s in due {
            let new = nexus_maintenance::model::NewWorkOrder {
                title: s.title.clone(),
                description: Some(format!(
                    "{}\n\nMeter schedule {}: the counter reached {value} (mark {}).",
                    s.description.clone().unwrap_or_default(),
                    s.id,
                    s.next_at
                )),
                asset_id: Some(asset_id),
                work_order_type: Some("preventive".into()),
                priority: Some(s.priority.clone()),
                dedupe_key: Some(format!("meter:{}", s.id)),
                ..Default::default()
            };
            // An order of this schedule still open covers the new mark too (409: skip).
            let sp = txn.begin().await?;
            match nexus_maintenance::service::create_work_order(&sp, &AuditCtx::default(), new)
                .await
            {
                Ok(wo) => {
                    sp.commit().await?;
                    events.push(Event::new(
                        "work_order",
                        "created",
                        wo.id,
                        serde_json::to_value(&wo).unwrap_or_default(),
                        Audience::Permission("work_orders:read".into()),
                    ));
                }
                Err(ApiError::Conflict { .. }) => sp.rollback().await?,
                Err(e) => return Err(e),
            }
            let passed = ((value - s.next_at) / s.every_units).floor() + 1.0;
            txn.execute(stmt(
                backend,
                "UPDATE meter_schedules SET next_at = $2 WHERE id = $1",
                vec![s.id.into(), (s.next_at + passed * s.every_units).into()],
            ))
            .await?;
        }
    }
    txn.commit().await?;
    Ok(events)
}
