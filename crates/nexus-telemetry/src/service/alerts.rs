//! Alerts: a state machine per series (ok → warning → critical and back, with
//! hysteresis), evaluated by the writer on what it stored. The states live in memory, so
//! a sample costs a comparison; only a change of state writes. One unresolved alert per
//! series: it opens, escalates, and resolves, never repeats. Alert rules turn a critical
//! spell of N minutes into one work order.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, Timestamp};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};

use super::ingest::Sample;
use super::{SeriesDef, cache};
use crate::model::{AlertFilter, AlertOut, AlertRuleData, AlertRuleOut};

/// Where a series stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// The next level of a series at `level` that reads `value`. A level is entered at its
/// threshold and left only `hysteresis` back past it, so a value hovering at a threshold
/// does not flap. `below` thresholds are the mirror image.
pub fn step(def: &SeriesDef, level: Level, value: f64) -> Level {
    let flip = |x: f64| if def.below { -x } else { x };
    let (v, h) = (flip(value), def.hysteresis);
    let crossed = |t: Option<f64>, held: bool| {
        t.map(flip)
            .is_some_and(|t| if held { v > t - h } else { v >= t })
    };
    if crossed(def.critical, level == Level::Critical) {
        Level::Critical
    } else if crossed(def.warning, level != Level::Ok) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// The in-memory state of one watched series.
#[derive(Debug, Clone, Default)]
pub(super) struct Watch {
    level: Level,
    alert_id: Option<i64>,
    /// Newest sample time evaluated: late samples do not move the state back in time.
    last_ts: i64,
    peak: f64,
    critical_since: Option<i64>,
    /// A rule already opened its work order during this critical spell.
    work_order_done: bool,
}

/// A change of state to write.
#[derive(Debug)]
enum Change {
    Open {
        level: Level,
        ts: i64,
        value: f64,
    },
    Escalate {
        ts: i64,
        value: f64,
    },
    Calm,
    Resolve {
        ts: i64,
        peak: f64,
    },
    /// Critical for long enough: the rules of the series may open work orders.
    Sustained,
}

#[derive(FromQueryResult)]
struct OpenAlert {
    id: i64,
    series_id: i64,
    level: String,
    peak_value: f64,
    critical_since: Option<i64>,
}

/// The unresolved alerts at start, as watch states.
pub(super) async fn load_watches(conn: &impl ConnectionTrait) -> ApiResult<HashMap<i64, Watch>> {
    let rows = OpenAlert::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT id, series_id, level, peak_value, critical_since FROM metric_alerts WHERE status <> 'resolved'",
        vec![],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.series_id,
                Watch {
                    level: if r.level == "critical" && r.critical_since.is_some() {
                        Level::Critical
                    } else {
                        Level::Warning
                    },
                    alert_id: Some(r.id),
                    last_ts: i64::MIN,
                    peak: r.peak_value,
                    critical_since: r.critical_since.map(|t| t / 1000),
                    work_order_done: false,
                },
            )
        })
        .collect())
}

/// Evaluates newly stored samples (sorted by series, then time) and writes what changed.
pub(super) async fn evaluate(state: &AppState, new: &[Sample]) {
    let cache = cache(state);
    let mut changes: Vec<(std::sync::Arc<SeriesDef>, Option<i64>, Change)> = Vec::new();
    {
        let catalog = cache.catalog.read().unwrap_or_else(|e| e.into_inner());
        let mut watches = cache.watches.lock().unwrap_or_else(|e| e.into_inner());
        for run in new.chunk_by(|a, b| a.series == b.series) {
            let Some(def) = catalog.by_series.get(&run[0].series) else {
                continue;
            };
            if !def.watched() && !watches.contains_key(&def.id) {
                continue;
            }
            let w = watches.entry(def.id).or_insert_with(|| Watch {
                last_ts: i64::MIN,
                ..Watch::default()
            });
            for s in run {
                if s.ts <= w.last_ts {
                    continue;
                }
                w.last_ts = s.ts;
                let next = step(def, w.level, s.value);
                if w.level != Level::Ok {
                    let worse = if def.below {
                        s.value < w.peak
                    } else {
                        s.value > w.peak
                    };
                    if worse {
                        w.peak = s.value;
                    }
                }
                if next != w.level {
                    let change = match (w.level, next) {
                        (Level::Ok, l) => {
                            w.peak = s.value;
                            Change::Open {
                                level: l,
                                ts: s.ts,
                                value: s.value,
                            }
                        }
                        (_, Level::Ok) => Change::Resolve {
                            ts: s.ts,
                            peak: w.peak,
                        },
                        (Level::Warning, Level::Critical) => Change::Escalate {
                            ts: s.ts,
                            value: s.value,
                        },
                        _ => Change::Calm,
                    };
                    w.critical_since = (next == Level::Critical).then_some(s.ts);
                    w.work_order_done = false;
                    w.level = next;
                    changes.push((def.clone(), w.alert_id, change));
                    if next == Level::Ok {
                        w.alert_id = None;
                    }
                }
                if let (Some(since), Some(minutes)) = (w.critical_since, def.rule_minutes)
                    && !w.work_order_done
                    && s.ts - since >= minutes * 60_000
                {
                    w.work_order_done = true;
                    changes.push((def.clone(), w.alert_id, Change::Sustained));
                }
            }
            if w.level == Level::Ok {
                watches.remove(&def.id);
            }
        }
    }
    if changes.is_empty() {
        return;
    }
    match write_changes(state, changes).await {
        Ok((events, opened)) => {
            let mut watches = cache.watches.lock().unwrap_or_else(|e| e.into_inner());
            for (series, id) in opened {
                if let Some(w) = watches.get_mut(&series)
                    && w.alert_id.is_none()
                {
                    w.alert_id = Some(id);
                }
            }
            drop(watches);
            for e in events {
                state.events.publish(e);
            }
        }
        Err(e) => tracing::warn!(error = %e, "writing alert changes failed"),
    }
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

fn alert_event(action: &str, out: &AlertOut) -> Event {
    Event::new(
        "alert",
        action,
        out.id,
        serde_json::to_value(out).unwrap_or_default(),
        Audience::Permission("telemetry:read".into()),
    )
}

/// Writes the changes in one transaction; the events to publish once committed, and the
/// alerts opened that are still open (series, alert id).
async fn write_changes(
    state: &AppState,
    changes: Vec<(std::sync::Arc<SeriesDef>, Option<i64>, Change)>,
) -> ApiResult<(Vec<Event>, HashMap<i64, i64>)> {
    let cache = cache(state);
    let txn = state.db.write().begin().await?;
    let backend = txn.get_database_backend();
    let mut events = Vec::new();
    let mut new_ids: HashMap<i64, i64> = HashMap::new();
    let mut work_orders = Vec::new();
    for (def, id, change) in changes {
        let id = id.or_else(|| new_ids.get(&def.id).copied());
        let (action, alert) = match change {
            Change::Open { level, ts, value } => {
                let sql = "INSERT INTO metric_alerts (series_id, asset_id, metric_name, level, status, value, \
                           peak_value, opened_at, critical_since, version) VALUES ($1,$2,$3,$4,'open',$5,$5,$6,$7,1) RETURNING id";
                let critical = (level == Level::Critical).then_some(ts * 1000);
                let row = IdRow::find_by_statement(stmt(
                    backend,
                    sql,
                    vec![
                        def.id.into(),
                        def.asset_id.into(),
                        def.name.clone().into(),
                        level.as_str().into(),
                        value.into(),
                        (ts * 1000).into(),
                        critical.into(),
                    ],
                ))
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::internal("alert insert returned no id"))?;
                new_ids.insert(def.id, row.id);
                ("opened", row.id)
            }
            Change::Escalate { ts, value } => {
                let Some(id) = id else { continue };
                txn.execute(stmt(
                    backend,
                    "UPDATE metric_alerts SET level = 'critical', status = 'open', escalated_at = $2, \
                     critical_since = $2, peak_value = $3, version = version + 1 WHERE id = $1",
                    vec![id.into(), (ts * 1000).into(), peak_of(&cache, def.id, value).into()],
                ))
                .await?;
                ("escalated", id)
            }
            Change::Calm => {
                let Some(id) = id else { continue };
                txn.execute(stmt(
                    backend,
                    "UPDATE metric_alerts SET critical_since = NULL, version = version + 1 WHERE id = $1",
                    vec![id.into()],
                ))
                .await?;
                continue;
            }
            Change::Resolve { ts, peak } => {
                let Some(id) = id else { continue };
                txn.execute(stmt(
                    backend,
                    "UPDATE metric_alerts SET status = 'resolved', resolved_at = $2, critical_since = NULL, \
                     peak_value = $3, version = version + 1 WHERE id = $1 AND status <> 'resolved'",
                    vec![id.into(), (ts * 1000).into(), peak.into()],
                ))
                .await?;
                new_ids.remove(&def.id);
                ("resolved", id)
            }
            Change::Sustained => {
                work_orders.push((def, id));
                continue;
            }
        };
        events.push(alert_event(action, &find_alert(&txn, alert).await?));
    }
    let rule_ctx = AuditCtx::default();
    for (def, alert) in work_orders {
        for rule in rules_of(&txn, def.id).await? {
            let new = nexus_maintenance::model::NewWorkOrder {
                title: rule.title.clone(),
                description: Some(format!(
                    "{}\n\nOpened by alert rule {} after {} minutes critical on {} (alert {}).",
                    rule.description.clone().unwrap_or_default(),
                    rule.id,
                    rule.critical_minutes,
                    def.name,
                    alert.map(|a| a.to_string()).unwrap_or_default()
                )),
                asset_id: Some(def.asset_id),
                work_order_type: Some(rule.work_order_type.clone()),
                priority: Some(rule.priority.clone()),
                dedupe_key: Some(format!("alert:{}:{}", rule.id, def.asset_id)),
                ..Default::default()
            };
            // A savepoint, so an open work order of the same key (409) changes nothing.
            let sp = txn.begin().await?;
            match nexus_maintenance::service::create_work_order(&sp, &rule_ctx, new).await {
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
        }
    }
    txn.commit().await?;
    Ok((events, new_ids))
}

fn peak_of(cache: &super::TelemetryState, series: i64, fallback: f64) -> f64 {
    cache
        .watches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&series)
        .map_or(fallback, |w| w.peak)
}

// ---------------------------------------------------------------- reading and acting on alerts

#[derive(FromQueryResult)]
struct AlertRow {
    id: i64,
    series_id: i64,
    asset_id: i64,
    metric_name: String,
    level: String,
    status: String,
    value: f64,
    peak_value: f64,
    opened_at: i64,
    escalated_at: Option<i64>,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<i64>,
    resolved_at: Option<i64>,
    version: i32,
}

const ALERT_COLUMNS: &str = "id, series_id, asset_id, metric_name, level, status, value, peak_value, opened_at, \
     escalated_at, acknowledged_at, acknowledged_by, resolved_at, version";

fn alert_out(r: AlertRow) -> AlertOut {
    AlertOut {
        id: r.id,
        series_id: r.series_id,
        asset_id: r.asset_id,
        metric_name: r.metric_name,
        level: r.level,
        status: r.status,
        value: r.value,
        peak_value: r.peak_value,
        opened_at: Timestamp(r.opened_at),
        escalated_at: r.escalated_at.map(Timestamp),
        acknowledged_at: r.acknowledged_at.map(Timestamp),
        acknowledged_by: r.acknowledged_by,
        resolved_at: r.resolved_at.map(Timestamp),
        version: r.version,
    }
}

pub async fn find_alert(conn: &impl ConnectionTrait, id: i64) -> ApiResult<AlertOut> {
    AlertRow::find_by_statement(stmt(
        conn.get_database_backend(),
        &format!("SELECT {ALERT_COLUMNS} FROM metric_alerts WHERE id = $1"),
        vec![id.into()],
    ))
    .one(conn)
    .await?
    .map(alert_out)
    .ok_or_else(|| ApiError::not_found(format!("alert {id}")))
}

#[derive(FromQueryResult)]
struct CountRow {
    n: i64,
}

/// Alerts, newest first; `status=active` is every unresolved one.
pub async fn list_alerts(
    conn: &impl ConnectionTrait,
    f: &AlertFilter,
) -> ApiResult<ListResponse<AlertOut>> {
    let mut wh = vec!["1 = 1".to_string()];
    let mut values: Vec<sea_orm::Value> = Vec::new();
    match f.status.as_deref() {
        None => {}
        Some("active") => wh.push("status <> 'resolved'".into()),
        Some(s @ ("open" | "acknowledged" | "resolved")) => {
            values.push(s.into());
            wh.push(format!("status = ${}", values.len()));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "must be open, acknowledged, resolved or active",
            ));
        }
    }
    if let Some(a) = f.asset_id {
        values.push(a.into());
        wh.push(format!("asset_id = ${}", values.len()));
    }
    match f.level.as_deref() {
        None => {}
        Some(l @ ("warning" | "critical")) => {
            values.push(l.into());
            wh.push(format!("level = ${}", values.len()));
        }
        Some(_) => return Err(ApiError::invalid("level", "must be warning or critical")),
    }
    if let Some(m) = &f.metric_name {
        values.push(m.clone().into());
        wh.push(format!("metric_name = ${}", values.len()));
    }
    if let Some(since) = &f.since {
        let since = Timestamp::parse(since)
            .ok_or_else(|| ApiError::invalid("since", "must be an RFC 3339 timestamp"))?;
        values.push(since.0.into());
        wh.push(format!("opened_at >= ${}", values.len()));
    }
    let backend = conn.get_database_backend();
    let wh = wh.join(" AND ");
    let total = CountRow::find_by_statement(stmt(
        backend,
        &format!("SELECT count(*) AS n FROM metric_alerts WHERE {wh}"),
        values.clone(),
    ))
    .one(conn)
    .await?
    .map_or(0, |c| c.n);
    let (limit, offset) = (f.limit.unwrap_or(50).clamp(1, 500), f.offset.unwrap_or(0));
    let items = AlertRow::find_by_statement(stmt(
        backend,
        &format!("SELECT {ALERT_COLUMNS} FROM metric_alerts WHERE {wh} ORDER BY opened_at DESC, id DESC LIMIT {limit} OFFSET {offset}"),
        values,
    ))
    .all(conn)
    .await?;
    Ok(ListResponse {
        items: items.into_iter().map(alert_out).collect(),
        total: total as u64,
        limit,
        offset,
    })
}

#[derive(FromQueryResult)]
struct ActiveRow {
    id: i64,
    series_id: i64,
    status: String,
    critical_since: Option<i64>,
}

/// Where a series with an unresolved alert stands now.
#[derive(Debug, Clone)]
pub struct SeriesAlert {
    pub alert_id: i64,
    /// `warning` or `critical` now: an escalated alert keeps `critical` as its level
    /// after the series calms down to warning.
    pub level: Level,
    /// `open` or `acknowledged`.
    pub status: String,
}

/// The unresolved alerts of an asset's series, by series id.
pub async fn series_alerts(
    conn: &impl ConnectionTrait,
    asset_id: i64,
) -> ApiResult<HashMap<i64, SeriesAlert>> {
    let rows = ActiveRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT id, series_id, status, critical_since FROM metric_alerts \
         WHERE asset_id = $1 AND status <> 'resolved'",
        vec![asset_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let level = if r.critical_since.is_some() {
                Level::Critical
            } else {
                Level::Warning
            };
            let alert = SeriesAlert {
                alert_id: r.id,
                level,
                status: r.status,
            };
            (r.series_id, alert)
        })
        .collect())
}

/// Someone is on it: an open alert becomes acknowledged (409 when resolved or already so).
pub async fn acknowledge(state: &AppState, user_id: i64, id: i64) -> ApiResult<AlertOut> {
    let conn = state.db.write();
    find_alert(conn, id).await?;
    let done = conn
        .execute(stmt(
            conn.get_database_backend(),
            "UPDATE metric_alerts SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, \
             version = version + 1 WHERE id = $1 AND status = 'open'",
            vec![id.into(), Timestamp::now().0.into(), user_id.into()],
        ))
        .await?
        .rows_affected();
    let out = find_alert(conn, id).await?;
    if done == 0 {
        return Err(ApiError::conflict(format!(
            "alert {id} is {} already",
            out.status
        )));
    }
    state.events.publish(alert_event("acknowledged", &out));
    Ok(out)
}

/// Closes an alert by hand (409 when resolved); the next reading past a threshold opens
/// a new one.
pub async fn resolve(state: &AppState, id: i64) -> ApiResult<AlertOut> {
    let conn = state.db.write();
    let current = find_alert(conn, id).await?;
    let done = conn
        .execute(stmt(
            conn.get_database_backend(),
            "UPDATE metric_alerts SET status = 'resolved', resolved_at = $2, critical_since = NULL, \
             version = version + 1 WHERE id = $1 AND status <> 'resolved'",
            vec![id.into(), Timestamp::now().0.into()],
        ))
        .await?
        .rows_affected();
    if done == 0 {
        return Err(ApiError::conflict(format!(
            "alert {id} is resolved already"
        )));
    }
    cache(state)
        .watches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&current.series_id);
    let out = find_alert(conn, id).await?;
    state.events.publish(alert_event("resolved", &out));
    Ok(out)
}

// ---------------------------------------------------------------- rules

#[derive(FromQueryResult)]
struct RuleRow {
    id: i64,
    series_id: i64,
    critical_minutes: i64,
    title: String,
    description: Option<String>,
    priority: String,
    work_order_type: String,
    created_at: i64,
}

fn rule_out(r: RuleRow) -> AlertRuleOut {
    AlertRuleOut {
        id: r.id,
        series_id: r.series_id,
        critical_minutes: r.critical_minutes,
        title: r.title,
        description: r.description,
        priority: r.priority,
        work_order_type: r.work_order_type,
        created_at: Timestamp(r.created_at),
    }
}

async fn rules_of(conn: &impl ConnectionTrait, series: i64) -> ApiResult<Vec<RuleRow>> {
    Ok(RuleRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT id, series_id, critical_minutes, title, description, priority, work_order_type, created_at \
         FROM alert_rules WHERE series_id = $1 ORDER BY id",
        vec![series.into()],
    ))
    .all(conn)
    .await?)
}

pub async fn list_rules(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    metric: &str,
) -> ApiResult<Vec<AlertRuleOut>> {
    let m = super::find_metric(conn, asset_id, metric).await?;
    Ok(rules_of(conn, m.id)
        .await?
        .into_iter()
        .map(rule_out)
        .collect())
}

/// Adds a rule: a work order from this template once the metric has been critical for
/// `critical_minutes`; at most one open per rule and asset.
pub async fn create_rule(
    state: &AppState,
    asset_id: i64,
    metric: &str,
    req: AlertRuleData,
) -> ApiResult<AlertRuleOut> {
    let req = req.validate()?;
    let conn = state.db.write();
    let m = super::find_metric(conn, asset_id, metric).await?;
    let row = IdRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "INSERT INTO alert_rules (series_id, critical_minutes, title, description, priority, work_order_type, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
        vec![
            m.id.into(),
            req.critical_minutes.into(),
            req.title.clone().into(),
            req.description.clone().into(),
            req.priority.clone().into(),
            req.work_order_type.clone().into(),
            Timestamp::now().0.into(),
        ],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| ApiError::internal("rule insert returned no id"))?;
    super::load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    let out = rules_of(conn, m.id)
        .await?
        .into_iter()
        .find(|r| r.id == row.id)
        .map(rule_out)
        .ok_or_else(|| ApiError::not_found("rule"))?;
    state.events.publish(Event::new(
        "asset_metric",
        "rule_created",
        m.id,
        serde_json::json!({"asset_id": asset_id, "rule": out}),
        Audience::Permission("telemetry:read".into()),
    ));
    Ok(out)
}

pub async fn delete_rule(
    state: &AppState,
    asset_id: i64,
    metric: &str,
    rule: i64,
) -> ApiResult<()> {
    let conn = state.db.write();
    let m = super::find_metric(conn, asset_id, metric).await?;
    let n = conn
        .execute(stmt(
            conn.get_database_backend(),
            "DELETE FROM alert_rules WHERE id = $1 AND series_id = $2",
            vec![rule.into(), m.id.into()],
        ))
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::not_found(format!("rule {rule}")));
    }
    super::load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    state.events.publish(Event::new(
        "asset_metric",
        "rule_deleted",
        m.id,
        serde_json::json!({"asset_id": asset_id, "rule": rule}),
        Audience::Permission("telemetry:read".into()),
    ));
    Ok(())
}
