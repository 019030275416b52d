//! Meter-based preventive maintenance: a schedule every N units of a counter opens a work
//! order when the counter passes its next mark, then moves the mark past the reading.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event};
use nexus_core::extract::IfMatch;
use nexus_core::write::{Work, delete_versioned, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::ingest::Sample;
use super::{cache, find_metric, load_catalog};
use crate::entity::meter_schedule;
use crate::model::{MeterScheduleData, MeterScheduleOut, UpdateMeterSchedule};

fn out(r: meter_schedule::Model) -> MeterScheduleOut {
    MeterScheduleOut {
        id: r.id,
        series_id: r.series_id,
        every_units: r.every_units,
        next_at: r.next_at,
        title: r.title,
        description: r.description,
        priority: r.priority,
        created_at: r.created_at,
        version: r.version,
    }
}

/// The schedule `id` of the counter `metric` of asset `asset_id`, at the version
/// `if_match` names (412 otherwise), with the counter's series id.
async fn find_schedule(
    conn: &impl ConnectionTrait,
    (asset_id, metric, id): (i64, &str, i64),
    if_match: IfMatch,
) -> ApiResult<(i64, meter_schedule::Model)> {
    let m = find_metric(conn, asset_id, metric).await?;
    let found = meter_schedule::Entity::find_by_id(id)
        .filter(meter_schedule::Column::SeriesId.eq(m.id))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("meter schedule {id}")))?;
    if_match.check(found.version)?;
    Ok((m.id, found))
}

/// Announces a change of the meter schedule `id` of series `series`.
fn announce(work: &mut Work<'_>, what: &str, series: i64, asset_id: i64, id: i64) {
    let data = serde_json::json!({"asset_id": asset_id, "schedule": id});
    let audience = Audience::Permission("telemetry:read".into());
    work.emit(Event::new("asset_metric", what, series, data, audience));
}

/// Changes a meter schedule (interval, next mark, work order template); 412 when
/// `if_match` names an older version.
pub async fn update_meter_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    at: (i64, &str, i64),
    if_match: IfMatch,
    req: UpdateMeterSchedule,
) -> ApiResult<MeterScheduleOut> {
    let mut work = Work::begin(state, ctx).await?;
    let (series, current) = find_schedule(&*work, at, if_match).await?;
    let before = out(current.clone());
    let data = MeterScheduleData {
        every_units: current.every_units,
        first_at: Some(current.next_at),
        title: current.title.clone(),
        description: current.description.clone(),
        priority: current.priority.clone(),
    }
    .apply(req)
    .validate()
    .map_err(|e| e.renamed("first_at", "next_at"))?;
    let mut am: meter_schedule::ActiveModel = current.clone().into();
    am.every_units = Set(data.every_units);
    am.next_at = Set(data.first_at.unwrap_or(current.next_at));
    am.title = Set(data.title);
    am.description = Set(data.description);
    am.priority = Set(data.priority);
    let after = out(update_versioned(&*work, am, current.version).await?);
    work.audit(
        "update",
        "meter_schedule",
        after.id,
        Some(&before),
        Some(&after),
    )
    .await?;
    announce(&mut work, "meter_schedule_updated", series, at.0, after.id);
    work.commit().await?;
    load_catalog(&state.db, &cache(state), Some(at.0)).await?;
    Ok(after)
}

/// Deletes a meter schedule; the work orders it opened stay.
pub async fn delete_meter_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    at: (i64, &str, i64),
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let (series, current) = find_schedule(&*work, at, if_match).await?;
    delete_versioned::<meter_schedule::Entity, _>(&*work, current.id, current.version).await?;
    work.audit(
        "delete",
        "meter_schedule",
        current.id,
        Some(&out(current.clone())),
        None,
    )
    .await?;
    announce(
        &mut work,
        "meter_schedule_deleted",
        series,
        at.0,
        current.id,
    );
    work.commit().await?;
    load_catalog(&state.db, &cache(state), Some(at.0)).await?;
    Ok(())
}

/// Every meter schedule of a counter, oldest first: a short list, complete.
pub async fn list_meter_schedules(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    metric: &str,
) -> ApiResult<Vec<MeterScheduleOut>> {
    let m = find_metric(conn, asset_id, metric).await?;
    Ok(meter_schedule::Entity::find()
        .filter(meter_schedule::Column::SeriesId.eq(m.id))
        .order_by_asc(meter_schedule::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(out)
        .collect())
}

/// Adds a meter schedule to a counter metric (422 on a gauge).
pub async fn create_meter_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    metric: &str,
    req: MeterScheduleData,
) -> ApiResult<MeterScheduleOut> {
    let req = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let m = find_metric(&*work, asset_id, metric).await?;
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
    let schedule = meter_schedule::ActiveModel {
        series_id: Set(m.id),
        every_units: Set(req.every_units),
        next_at: Set(first),
        title: Set(req.title),
        description: Set(req.description),
        priority: Set(req.priority),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let created = out(schedule);
    work.audit("create", "meter_schedule", created.id, None, Some(&created))
        .await?;
    announce(
        &mut work,
        "meter_schedule_created",
        m.id,
        asset_id,
        created.id,
    );
    work.commit().await?;
    load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(created)
}

/// Opens the work orders of every schedule whose mark the newest reading of its counter
/// passed, and moves each mark past that reading; the work orders are announced once
/// the marks are stored.
pub(super) async fn evaluate(state: &AppState, new: &[Sample]) -> ApiResult<()> {
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
    if metered.is_empty() {
        return Ok(());
    }
    let system = AuditCtx::default();
    let mut work = Work::begin(state, &system).await?;
    let backend = work.get_database_backend();
    for (series, (asset_id, value)) in metered {
        let due = meter_schedule::Entity::find()
            .filter(meter_schedule::Column::SeriesId.eq(series))
            .filter(meter_schedule::Column::NextAt.lte(value))
            .all(&*work)
            .await?;
        for s in due {
            // Every mark the reading passed: a counter may jump past several at once.
            let passed = ((value - s.next_at) / s.every_units).floor() + 1.0;
            let marks: Vec<String> = (0..passed as u64)
                .map(|k| (s.next_at + k as f64 * s.every_units).to_string())
                .collect();
            let marks = marks.join(", ");
            let key = format!("meter:{}", s.id);
            let new = nexus_maintenance::model::NewWorkOrder {
                title: s.title.clone(),
                description: Some(format!(
                    "{}\n\nMeter schedule {}: the counter reached {value}; due at {marks}.",
                    s.description.clone().unwrap_or_default(),
                    s.id,
                )),
                asset_id: Some(asset_id),
                work_order_type: Some("preventive".into()),
                priority: Some(s.priority.clone()),
                dedupe_key: Some(key.clone()),
                ..Default::default()
            };
            // An order of this schedule still open (409, refused before anything is
            // written) covers the new marks too: said on that order, so no service due
            // goes unrecorded.
            match nexus_maintenance::service::open_work_order(&mut work, new).await {
                Ok(_) => {}
                Err(ApiError::Conflict { .. }) => {
                    let note = format!(
                        "The service due at {marks} (meter schedule {}, counter {value}) fell due \
                         while this order was open: this order covers it too.",
                        s.id
                    );
                    nexus_maintenance::service::note_on_open(&mut work, &key, note).await?;
                }
                Err(e) => return Err(e),
            }
            work.execute_raw(stmt(
                backend,
                "UPDATE meter_schedules SET next_at = $2 WHERE id = $1",
                vec![s.id.into(), (s.next_at + passed * s.every_units).into()],
            ))
            .await?;
        }
    }
    work.commit().await?;
    Ok(())
}
