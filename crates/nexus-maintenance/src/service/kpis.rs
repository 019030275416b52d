//! Maintenance KPIs of a scope (one asset, a location with everything below it, or all)
//! over a period, with a weekly or monthly series: MTTR, MTBF, availability, PM
//! compliance, backlog, and cost (labor + parts). Each source is read once for the whole
//! period (one query each, the location subtree as a recursive CTE), then folded per
//! bucket in memory.

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use nexus_core::db::stmt;
use nexus_core::{ApiError, ApiResult, Timestamp};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::must_exist;
use crate::entity::{asset, location};
use crate::model::*;

const HOUR: f64 = 3_600_000_000.0;
const DAY: f64 = 24.0 * HOUR;

/// The longest period one request may cover.
const MAX_DAYS: i64 = 3660;

/// Where the report looks: SQL conditions on assets (`a`) and work orders (`w`), with
/// their values as `$1..$k`.
struct Scope {
    prefix: String,
    assets: String,
    work_orders: String,
    values: Vec<Value>,
}

impl Scope {
    fn new(asset_id: Option<i64>, location_id: Option<i64>) -> Self {
        let mut s = Scope {
            prefix: String::new(),
            assets: "1 = 1".into(),
            work_orders: "1 = 1".into(),
            values: Vec::new(),
        };
        if let Some(l) = location_id {
            s.values.push(l.into());
            s.prefix = "WITH RECURSIVE locs(id) AS (SELECT id FROM locations WHERE id = $1 \
                        UNION ALL SELECT c.id FROM locations c JOIN locs ON c.parent_id = locs.id) "
                .into();
            s.assets
                .push_str(" AND a.location_id IN (SELECT id FROM locs)");
            s.work_orders
                .push_str(" AND w.location_id IN (SELECT id FROM locs)");
        }
        if let Some(a) = asset_id {
            s.values.push(a.into());
            let n = s.values.len();
            s.assets.push_str(&format!(" AND a.id = ${n}"));
            s.work_orders.push_str(&format!(" AND w.asset_id = ${n}"));
        }
        s
    }

    /// `sql` (which may name the period as `$s` and `$e`) with the scope's values and
    /// then `extra`.
    fn statement(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        extra: &[Value],
    ) -> sea_orm::Statement {
        let k = self.values.len();
        let mut sql = format!("{}{sql}", self.prefix);
        for (i, name) in ["$s", "$e", "$f", "$t"].iter().enumerate() {
            sql = sql.replace(name, &format!("${}", k + i + 1));
        }
        let mut values = self.values.clone();
        values.extend_from_slice(extra);
        stmt(conn.get_database_backend(), &sql, values)
    }
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct Interval {
    started_at: i64,
    ended_at: Option<i64>,
}

#[derive(FromQueryResult)]
struct Done {
    work_order_type: String,
    created_at: i64,
    started_at: Option<i64>,
    completed_at: i64,
}

#[derive(FromQueryResult)]
struct Pm {
    due_date: String,
    completed_at: Option<i64>,
}

#[derive(FromQueryResult)]
struct Cost {
    at: i64,
    cents: i64,
}

#[derive(FromQueryResult)]
struct Open {
    n: i64,
    oldest: Option<i64>,
    average: Option<f64>,
}

/// Every work order, live and archived, with what the KPIs read of it: a period long
/// past counts the orders archived since as it counted them before.
const ALL_WORK_ORDERS: &str = "(SELECT id, type, asset_id, location_id, status, due_date, \
     created_at, started_at, completed_at FROM work_orders UNION ALL SELECT id, type, \
     asset_id, location_id, status, due_date, created_at, started_at, completed_at \
     FROM work_orders_archive)";

/// Every labor entry, live and archived.
const ALL_LABOR: &str = "(SELECT work_order_id, started_at, minutes, hourly_rate_cents \
     FROM work_order_labor UNION ALL SELECT work_order_id, started_at, minutes, \
     hourly_rate_cents FROM work_order_labor_archive)";

/// The start of a day at the plant (in its time zone), in microseconds.
fn micros(d: NaiveDate) -> i64 {
    nexus_core::plant::current().day_start(d).0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| round3(part / whole))
}

/// Everything read for the period, folded per stretch by `figures`.
struct Facts {
    assets: u64,
    downtime: Vec<Interval>,
    done: Vec<Done>,
    pm: Vec<Pm>,
    labor: Vec<Cost>,
    parts: Vec<Cost>,
}

/// The KPIs of the days `from..=to`, as of `now`.
fn figures(f: &Facts, from: NaiveDate, to: NaiveDate, now: i64) -> KpiFigures {
    let a = micros(from);
    let b = micros(to + TimeDelta::days(1));
    let live_end = b.min(now);
    let mut down = 0i64;
    let mut failures = 0u64;
    let mut repairs = Vec::new();
    for i in &f.downtime {
        let end = i.ended_at.unwrap_or(now);
        down += (end.min(b) - i.started_at.max(a)).max(0);
        if (a..b).contains(&i.started_at) {
            failures += 1;
            if let Some(e) = i.ended_at.filter(|e| *e < b) {
                repairs.push(e - i.started_at);
            }
        }
    }
    if repairs.is_empty() {
        repairs = f
            .done
            .iter()
            .filter(|d| {
                (a..b).contains(&d.completed_at)
                    && matches!(d.work_order_type.as_str(), "corrective" | "emergency")
            })
            .map(|d| d.completed_at - d.started_at.unwrap_or(d.created_at))
            .collect();
    }
    let asset_hours = f.assets as f64 * (live_end - a).max(0) as f64 / HOUR;
    let down_hours = down as f64 / HOUR;
    let (from_s, to_s) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    let due: Vec<&Pm> =
        f.pm.iter()
            .filter(|p| p.due_date >= from_s && p.due_date <= to_s)
            .collect();
    let on_time = due
        .iter()
        .filter(|p| {
            p.completed_at.is_some_and(|c| {
                Timestamp(c).local_day().format("%Y-%m-%d").to_string() <= p.due_date
            })
        })
        .count() as u64;
    let sum = |costs: &[Cost]| -> i64 {
        costs
            .iter()
            .filter(|c| (a..b).contains(&c.at))
            .map(|c| c.cents)
            .sum()
    };
    let (labor, parts) = (sum(&f.labor), sum(&f.parts));
    KpiFigures {
        from,
        to,
        downtime_hours: round3(down_hours),
        failures,
        mttr_hours: (!repairs.is_empty())
            .then(|| round3(repairs.iter().sum::<i64>() as f64 / repairs.len() as f64 / HOUR)),
        mtbf_hours: (failures > 0 && asset_hours > 0.0)
            .then(|| round3((asset_hours - down_hours).max(0.0) / failures as f64)),
        availability: ratio(asset_hours - down_hours, asset_hours),
        pm_due: due.len() as u64,
        pm_on_time: on_time,
        pm_compliance: ratio(on_time as f64, due.len() as f64),
        completed_work_orders: f
            .done
            .iter()
            .filter(|d| (a..b).contains(&d.completed_at))
            .count() as u64,
        labor_cost_cents: labor,
        parts_cost_cents: parts,
        total_cost_cents: labor.saturating_add(parts),
    }
}

/// The buckets of `from..=to`: Monday-to-Sunday weeks or calendar months, clipped.
fn buckets(from: NaiveDate, to: NaiveDate, monthly: bool) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = if monthly {
        from.with_day(1).unwrap_or(from)
    } else {
        from - TimeDelta::days(i64::from(from.weekday().num_days_from_monday()))
    };
    while start <= to {
        let next = if monthly {
            start.checked_add_months(Months::new(1))
        } else {
            start.checked_add_signed(TimeDelta::days(7))
        };
        let Some(next) = next else { break };
        out.push((start.max(from), (next - TimeDelta::days(1)).min(to)));
        start = next;
    }
    out
}

/// The assets in `scope` and their downtime intervals overlapping `period` (start, end).
async fn assets_and_downtime(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    period: &[Value; 2],
) -> ApiResult<(u64, Vec<Interval>)> {
    let assets = Count::find_by_statement(scope.statement(
        conn,
        &format!("SELECT COUNT(*) AS n FROM assets a WHERE {}", scope.assets),
        &[],
    ))
    .one(conn)
    .await?
    .map_or(0, |c| c.n.max(0) as u64);
    let downtime = Interval::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT d.started_at, d.ended_at FROM asset_downtime d JOIN assets a ON a.id = d.asset_id \
             WHERE d.started_at < $e AND (d.ended_at IS NULL OR d.ended_at > $s) AND {}",
            scope.assets
        ),
        period,
    ))
    .all(conn)
    .await?;
    Ok((assets, downtime))
}

/// Downtime, failures and availability of every asset over `from..=to` as of `now`, and
/// nothing else: the two queries of the report a home panel needs (the other figures of
/// the result are zero).
pub async fn downtime_figures(
    conn: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    now: Timestamp,
) -> ApiResult<KpiFigures> {
    let period = [
        Value::from(micros(from)),
        Value::from(micros(to + TimeDelta::days(1))),
    ];
    let (assets, downtime) = assets_and_downtime(conn, &Scope::new(None, None), &period).await?;
    let facts = Facts {
        assets,
        downtime,
        done: Vec::new(),
        pm: Vec::new(),
        labor: Vec::new(),
        parts: Vec::new(),
    };
    Ok(figures(&facts, from, to, now.0))
}

/// The KPI report of `q` as of `now`.
pub async fn kpis(
    conn: &impl ConnectionTrait,
    q: &KpiQuery,
    now: Timestamp,
) -> ApiResult<KpiReport> {
    let to = q.to.unwrap_or_else(|| now.local_day());
    let from = q.from.unwrap_or(to - TimeDelta::days(89));
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("the period is at most {MAX_DAYS} days"),
        ));
    }
    let monthly = match q.bucket.as_deref().map(str::trim) {
        None | Some("") => (to - from).num_days() >= 92,
        Some("week") => false,
        Some("month") => true,
        Some(_) => return Err(ApiError::invalid("bucket", "must be week or month")),
    };
    must_exist::<asset::Entity>(conn, q.asset_id, "asset_id", "asset").await?;
    must_exist::<location::Entity>(conn, q.location_id, "location_id", "location").await?;

    let scope = Scope::new(q.asset_id, q.location_id);
    let (s, e) = (micros(from), micros(to + TimeDelta::days(1)));
    let period = [Value::from(s), Value::from(e)];
    let (assets, downtime) = assets_and_downtime(conn, &scope, &period).await?;
    let done = Done::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT w.type AS work_order_type, w.created_at, w.started_at, w.completed_at \
             FROM {ALL_WORK_ORDERS} w WHERE w.completed_at >= $s AND w.completed_at < $e AND {}",
            scope.work_orders
        ),
        &period,
    ))
    .all(conn)
    .await?;
    let day_text = |d: NaiveDate| Value::from(d.format("%Y-%m-%d").to_string());
    let pm = Pm::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT w.due_date, w.completed_at FROM {ALL_WORK_ORDERS} w \
             WHERE w.type = 'preventive' AND w.status <> 'cancelled' \
             AND w.due_date >= $s AND w.due_date <= $e AND {}",
            scope.work_orders
        ),
        &[day_text(from), day_text(to)],
    ))
    .all(conn)
    .await?;
    let labor = Cost::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT l.started_at AS at, \
             CAST(ROUND(l.minutes * COALESCE(l.hourly_rate_cents, 0) / 60.0) AS BIGINT) AS cents \
             FROM {ALL_LABOR} l JOIN {ALL_WORK_ORDERS} w ON w.id = l.work_order_id \
             WHERE l.started_at >= $s AND l.started_at < $e AND l.minutes IS NOT NULL AND {}",
            scope.work_orders
        ),
        &period,
    ))
    .all(conn)
    .await?;
    let parts = Cost::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT m.created_at AS at, -m.quantity * m.unit_cost_cents AS cents \
             FROM stock_movements m JOIN {ALL_WORK_ORDERS} w ON w.id = m.work_order_id \
             WHERE m.kind = 'consume' AND m.created_at >= $s AND m.created_at < $e AND {}",
            scope.work_orders
        ),
        &period,
    ))
    .all(conn)
    .await?;
    let open = Open::find_by_statement(scope.statement(
        conn,
        &format!(
            "SELECT COUNT(*) AS n, MIN(w.created_at) AS oldest, \
             CAST(AVG(w.created_at) AS DOUBLE PRECISION) AS average FROM work_orders w \
             WHERE w.status IN ('open', 'in_progress', 'on_hold') AND {}",
            scope.work_orders
        ),
        &[],
    ))
    .one(conn)
    .await?;

    let facts = Facts {
        assets,
        downtime,
        done,
        pm,
        labor,
        parts,
    };
    let backlog = match open {
        Some(o) if o.n > 0 => Backlog {
            count: o.n as u64,
            average_age_days: o.average.map(|avg| round3((now.0 as f64 - avg) / DAY)),
            oldest_age_days: o.oldest.map(|t| round3((now.0 - t) as f64 / DAY)),
        },
        _ => Backlog {
            count: 0,
            average_age_days: None,
            oldest_age_days: None,
        },
    };
    Ok(KpiReport {
        asset_id: q.asset_id,
        location_id: q.location_id,
        assets,
        period: figures(&facts, from, to, now.0),
        backlog,
        bucket: if monthly { "month" } else { "week" }.into(),
        series: buckets(from, to, monthly)
            .into_iter()
            .map(|(a, b)| figures(&facts, a, b, now.0))
            .collect(),
    })
}
