//! Alerts: a state machine per series (ok → warning → critical and back, with
//! hysteresis), evaluated by the writer on what it stored. The states live in memory, so
//! a sample costs a comparison; only a change of state writes. One unresolved alert per
//! series: it opens, escalates, and resolves, never repeats. Alert rules turn a critical
//! spell of N minutes into one work order.
//!
//! Acknowledging covers the episode at the worst level it has reached: an alert
//! acknowledged at critical stays acknowledged while the series dips below critical and
//! comes back, until it resolves past the hysteresis. Only the first escalation of an
//! alert acknowledged as a warning asks for attention again (status back to open).

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event};
use nexus_core::extract::IfMatch;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, Set,
};

use super::ingest::Sample;
use super::{SeriesDef, cache};
use crate::entity::{alert_rule, metric_alert};
use crate::model::{AlertFilter, AlertOut, AlertRuleData, AlertRuleOut, UpdateAlertRule};

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

/// The unresolved alerts of `cond`.
async fn unresolved(
    conn: &impl ConnectionTrait,
    cond: Condition,
) -> ApiResult<Vec<metric_alert::Model>> {
    Ok(metric_alert::Entity::find()
        .filter(cond.add(metric_alert::Column::Status.ne("resolved")))
        .all(conn)
        .await?)
}

/// The unresolved alerts at start, as watch states.
pub(super) async fn load_watches(conn: &impl ConnectionTrait) -> ApiResult<HashMap<i64, Watch>> {
    let rows = unresolved(conn, Condition::all()).await?;
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
        Ok(opened) => {
            let mut watches = cache.watches.lock().unwrap_or_else(|e| e.into_inner());
            for (series, id) in opened {
                if let Some(w) = watches.get_mut(&series)
                    && w.alert_id.is_none()
                {
                    w.alert_id = Some(id);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "writing alert changes failed"),
    }
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

fn audience() -> Audience {
    Audience::Permission("telemetry:read".into())
}

/// Writes the changes in one unit of work, unaudited (the system's own readings); returns
/// the alerts opened that are still open (series, alert id).
async fn write_changes(
    state: &AppState,
    changes: Vec<(std::sync::Arc<SeriesDef>, Option<i64>, Change)>,
) -> ApiResult<HashMap<i64, i64>> {
    let cache = cache(state);
    let system = AuditCtx::default();
    let mut work = Work::begin(state, &system).await?;
    let txn = &*work;
    let backend = txn.get_database_backend();
    let mut changed = Vec::new();
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
                .one(txn)
                .await?
                .ok_or_else(|| ApiError::internal("alert insert returned no id"))?;
                new_ids.insert(def.id, row.id);
                ("opened", row.id)
            }
            Change::Escalate { ts, value } => {
                let Some(id) = id else { continue };
                txn.execute_raw(stmt(
                    backend,
                    "UPDATE metric_alerts SET status = CASE WHEN level = 'critical' THEN status ELSE 'open' END, \
                     level = 'critical', escalated_at = $2, \
                     critical_since = $2, peak_value = $3, version = version + 1 WHERE id = $1",
                    vec![id.into(), (ts * 1000).into(), peak_of(&cache, def.id, value).into()],
                ))
                .await?;
                ("escalated", id)
            }
            Change::Calm => {
                let Some(id) = id else { continue };
                txn.execute_raw(stmt(
                    backend,
                    "UPDATE metric_alerts SET critical_since = NULL, version = version + 1 WHERE id = $1",
                    vec![id.into()],
                ))
                .await?;
                continue;
            }
            Change::Resolve { ts, peak } => {
                let Some(id) = id else { continue };
                txn.execute_raw(stmt(
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
        changed.push((action, find_alert(txn, alert).await?));
    }
    for (action, out) in changed {
        work.emit(Event::new(
            "alert",
            action,
            out.id,
            to_json(&out),
            audience(),
        ));
    }
    for (def, alert) in work_orders {
        for rule in rules_of(&*work, def.id).await? {
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
            // An open work order of the same key (409) is refused before anything is written.
            match nexus_maintenance::service::open_work_order(&mut work, new).await {
                Ok(_) | Err(ApiError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    work.commit().await?;
    Ok(new_ids)
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

fn alert_out(r: metric_alert::Model) -> AlertOut {
    AlertOut {
        id: r.id,
        series_id: r.series_id,
        asset_id: r.asset_id,
        metric_name: r.metric_name,
        level: r.level,
        status: r.status,
        value: r.value,
        peak_value: r.peak_value,
        opened_at: r.opened_at,
        escalated_at: r.escalated_at,
        acknowledged_at: r.acknowledged_at,
        acknowledged_by: r.acknowledged_by,
        resolved_at: r.resolved_at,
        version: r.version,
    }
}

pub async fn find_alert(conn: &impl ConnectionTrait, id: i64) -> ApiResult<AlertOut> {
    metric_alert::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(alert_out)
        .ok_or_else(|| ApiError::not_found(format!("alert {id}")))
}

/// Alerts, newest first unless sorted otherwise; `status=active` is every unresolved one.
pub async fn list_alerts(
    conn: &impl ConnectionTrait,
    f: &AlertFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<AlertOut>> {
    use metric_alert::Column as C;
    let mut cond = Condition::all();
    match f.status.as_deref() {
        None => {}
        Some("active") => cond = cond.add(C::Status.ne("resolved")),
        Some(s @ ("open" | "acknowledged" | "resolved")) => cond = cond.add(C::Status.eq(s)),
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "must be open, acknowledged, resolved or active",
            ));
        }
    }
    if let Some(a) = f.asset_id {
        cond = cond.add(C::AssetId.eq(a));
    }
    match f.level.as_deref() {
        None => {}
        Some(l @ ("warning" | "critical")) => cond = cond.add(C::Level.eq(l)),
        Some(_) => return Err(ApiError::invalid("level", "must be warning or critical")),
    }
    if let Some(m) = &f.metric_name {
        cond = cond.add(C::MetricName.eq(m.as_str()));
    }
    if let Some(since) = &f.since {
        let since = Timestamp::parse(since)
            .ok_or_else(|| ApiError::invalid("since", "must be an RFC 3339 timestamp"))?;
        cond = cond.add(C::OpenedAt.gte(since.0));
    }
    let query = metric_alert::Entity::find().filter(cond);
    let sorts = ["opened_at", "id", "level", "status", "peak_value"];
    let list = page_of(conn, query, page, &sorts, ("opened_at", true)).await?;
    Ok(list.map(alert_out))
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
    let of_asset = Condition::all().add(metric_alert::Column::AssetId.eq(asset_id));
    let rows = unresolved(conn, of_asset).await?;
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

/// Moves alert `id` on by `update`, an UPDATE guarded by the status it moves from (no
/// row changed: 409, the alert is past that step); audited as `action`, announced as
/// `alert.<event>`.
async fn transition(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    (action, event): (&str, &str),
    update: &str,
    values: Vec<sea_orm::Value>,
) -> ApiResult<AlertOut> {
    let mut work = Work::begin(state, ctx).await?;
    let before = find_alert(&*work, id).await?;
    let changed = work
        .execute_raw(stmt(work.get_database_backend(), update, values))
        .await?
        .rows_affected();
    if changed == 0 {
        let status = &before.status;
        return Err(ApiError::conflict(format!(
            "alert {id} is {status} already"
        )));
    }
    let after = find_alert(&*work, id).await?;
    let (b, a) = (Some(&before), Some(&after));
    work.record(action, event, "alert", id, b, a, audience())
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Someone is on it: an open alert becomes acknowledged (409 when resolved or already so).
pub async fn acknowledge(state: &AppState, ctx: &AuditCtx, id: i64) -> ApiResult<AlertOut> {
    let update = "UPDATE metric_alerts SET status = 'acknowledged', acknowledged_at = $2, \
                  acknowledged_by = $3, version = version + 1 WHERE id = $1 AND status = 'open'";
    let values = vec![id.into(), Timestamp::now().0.into(), ctx.actor_id.into()];
    let step = ("acknowledge", "acknowledged");
    transition(state, ctx, id, step, update, values).await
}

/// Closes an alert by hand (409 when resolved); the next reading past a threshold opens
/// a new one.
pub async fn resolve(state: &AppState, ctx: &AuditCtx, id: i64) -> ApiResult<AlertOut> {
    let update = "UPDATE metric_alerts SET status = 'resolved', resolved_at = $2, \
                  critical_since = NULL, version = version + 1 WHERE id = $1 AND status <> 'resolved'";
    let values = vec![id.into(), Timestamp::now().0.into()];
    let out = transition(state, ctx, id, ("resolve", "resolved"), update, values).await?;
    cache(state)
        .watches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&out.series_id);
    Ok(out)
}

// ---------------------------------------------------------------- rules

fn rule_out(r: alert_rule::Model) -> AlertRuleOut {
    AlertRuleOut {
        id: r.id,
        series_id: r.series_id,
        critical_minutes: r.critical_minutes,
        title: r.title,
        description: r.description,
        priority: r.priority,
        work_order_type: r.work_order_type,
        created_at: r.created_at,
        version: r.version,
    }
}

async fn rules_of(conn: &impl ConnectionTrait, series: i64) -> ApiResult<Vec<alert_rule::Model>> {
    Ok(alert_rule::Entity::find()
        .filter(alert_rule::Column::SeriesId.eq(series))
        .order_by_asc(alert_rule::Column::Id)
        .all(conn)
        .await?)
}

/// Every rule of a metric, oldest first: a short list, complete.
pub async fn list_rules(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    metric: &str,
) -> ApiResult<Vec<AlertRuleOut>> {
    let m = super::find_metric(conn, asset_id, metric).await?;
    let rules = rules_of(conn, m.id).await?;
    Ok(rules.into_iter().map(rule_out).collect())
}

/// Adds a rule: a work order from this template once the metric has been critical for
/// `critical_minutes`; at most one open per rule and asset.
pub async fn create_rule(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    metric: &str,
    req: AlertRuleData,
) -> ApiResult<AlertRuleOut> {
    let req = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let m = super::find_metric(&*work, asset_id, metric).await?;
    let rule = alert_rule::ActiveModel {
        series_id: Set(m.id),
        critical_minutes: Set(req.critical_minutes),
        title: Set(req.title),
        description: Set(req.description),
        priority: Set(req.priority),
        work_order_type: Set(req.work_order_type),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = rule_out(rule);
    work.audit("create", "alert_rule", out.id, None, Some(&out))
        .await?;
    let data = serde_json::json!({"asset_id": asset_id, "rule": out});
    work.emit(Event::new(
        "asset_metric",
        "rule_created",
        m.id,
        data,
        audience(),
    ));
    work.commit().await?;
    super::load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(out)
}

/// The rule `rule` of the metric `metric` of asset `asset_id`, at the version `if_match`
/// names (412 otherwise), with the metric's series id.
async fn find_rule(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    metric: &str,
    rule: i64,
    if_match: IfMatch,
) -> ApiResult<(i64, alert_rule::Model)> {
    let m = super::find_metric(conn, asset_id, metric).await?;
    let found = alert_rule::Entity::find_by_id(rule)
        .filter(alert_rule::Column::SeriesId.eq(m.id))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("rule {rule}")))?;
    if_match.check(found.version)?;
    Ok((m.id, found))
}

/// Changes an alert rule; 412 when `if_match` names an older version.
pub async fn update_rule(
    state: &AppState,
    ctx: &AuditCtx,
    (asset_id, metric, rule): (i64, &str, i64),
    if_match: IfMatch,
    req: UpdateAlertRule,
) -> ApiResult<AlertRuleOut> {
    let mut work = Work::begin(state, ctx).await?;
    let (series, current) = find_rule(&*work, asset_id, metric, rule, if_match).await?;
    let before = rule_out(current.clone());
    let data = AlertRuleData {
        critical_minutes: current.critical_minutes,
        title: current.title.clone(),
        description: current.description.clone(),
        priority: current.priority.clone(),
        work_order_type: current.work_order_type.clone(),
    }
    .apply(req)
    .validate()?;
    let mut am: alert_rule::ActiveModel = current.clone().into();
    am.critical_minutes = Set(data.critical_minutes);
    am.title = Set(data.title);
    am.description = Set(data.description);
    am.priority = Set(data.priority);
    am.work_order_type = Set(data.work_order_type);
    let after = rule_out(update_versioned(&*work, am, current.version).await?);
    work.audit("update", "alert_rule", rule, Some(&before), Some(&after))
        .await?;
    let data = serde_json::json!({"asset_id": asset_id, "rule": after});
    work.emit(Event::new(
        "asset_metric",
        "rule_updated",
        series,
        data,
        audience(),
    ));
    work.commit().await?;
    super::load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(after)
}

pub async fn delete_rule(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    metric: &str,
    rule: i64,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let m = super::find_metric(&*work, asset_id, metric).await?;
    let Some(found) = alert_rule::Entity::find_by_id(rule)
        .filter(alert_rule::Column::SeriesId.eq(m.id))
        .one(&*work)
        .await?
    else {
        return Err(ApiError::not_found(format!("rule {rule}")));
    };
    alert_rule::Entity::delete_by_id(rule).exec(&*work).await?;
    work.audit("delete", "alert_rule", rule, Some(&rule_out(found)), None)
        .await?;
    let data = serde_json::json!({"asset_id": asset_id, "rule": rule});
    work.emit(Event::new(
        "asset_metric",
        "rule_deleted",
        m.id,
        data,
        audience(),
    ));
    work.commit().await?;
    super::load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(())
}
