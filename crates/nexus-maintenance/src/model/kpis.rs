//! Maintenance KPIs: the query and the report.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// One asset.
    pub asset_id: Option<i64>,
    /// The assets and work orders at this location or anywhere below it.
    pub location_id: Option<i64>,
    /// First day of the period (days are the plant's, in its time zone); 89 days before
    /// `to` by default.
    #[param(value_type = Option<String>)]
    pub from: Option<NaiveDate>,
    /// Last day of the period, included; today by default.
    #[param(value_type = Option<String>)]
    pub to: Option<NaiveDate>,
    /// `week` (Monday to Sunday) or `month`; weeks up to 92 days, months beyond.
    pub bucket: Option<String>,
}

/// Open work orders now, and how long they have waited.
#[derive(Debug, Serialize, ToSchema)]
pub struct Backlog {
    pub count: u64,
    pub average_age_days: Option<f64>,
    pub oldest_age_days: Option<f64>,
}

/// KPIs of one stretch of time: the whole period or one bucket of the series.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct KpiFigures {
    #[schema(value_type = String)]
    pub from: NaiveDate,
    /// Included.
    #[schema(value_type = String)]
    pub to: NaiveDate,
    /// Asset-hours down within the stretch (intervals clipped to it; an open one runs
    /// until now).
    pub downtime_hours: f64,
    /// Downtime intervals that started within the stretch.
    pub failures: u64,
    /// Mean repair time: the mean length of the downtime intervals that started and ended
    /// within the stretch; without any, of the corrective and emergency work orders
    /// completed in it (from start, or creation, to completion).
    pub mttr_hours: Option<f64>,
    /// Operating hours (asset-hours less downtime) per failure.
    pub mtbf_hours: Option<f64>,
    /// 1 − downtime / asset-hours, from 0 to 1.
    pub availability: Option<f64>,
    /// Preventive work orders due within the stretch (not cancelled).
    pub pm_due: u64,
    /// Of those, the ones completed on or before their due date.
    pub pm_on_time: u64,
    /// `pm_on_time / pm_due`.
    pub pm_compliance: Option<f64>,
    pub completed_work_orders: u64,
    /// Labor (minutes × hourly rate) of labor entries started within the stretch.
    pub labor_cost_cents: i64,
    /// Parts used on work orders within the stretch, at their cost then.
    pub parts_cost_cents: i64,
    pub total_cost_cents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReport {
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    /// Assets in scope.
    pub assets: u64,
    #[serde(flatten)]
    pub period: KpiFigures,
    pub backlog: Backlog,
    /// week or month.
    pub bucket: String,
    pub series: Vec<KpiFigures>,
}
