//! Request and response types of telemetry, their validation, and the domain's permissions.

use nexus_core::Timestamp;
use nexus_core::domain::PermissionDef;
use nexus_core::validate::{Validator, patch};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        TelemetryRead = "telemetry:read";
        TelemetryWrite = "telemetry:write";
        TelemetryManage = "telemetry:manage";
    }
}

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "telemetry:read",
        description: "View asset metrics, their history, alerts and predictions",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "telemetry:write",
        description: "Push metric readings and acknowledge alerts",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "telemetry:manage",
        description: "Define metrics and thresholds, alert rules and telemetry settings",
        granted_to: &["manager"],
    },
];

/// Longest metric name (the document's VARCHAR(50)).
pub const MAX_METRIC_NAME: usize = 50;

/// Gauges go up and down (temperature); counters only grow (run hours, cycles).
pub const METRIC_KINDS: [&str; 2] = ["gauge", "counter"];

/// Whether a threshold is crossed going up (`above`) or going down (`below`).
pub const DIRECTIONS: [&str; 2] = ["above", "below"];

/// One metric of an asset (a series): its definition, thresholds and current value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricOut {
    /// The series id.
    pub id: i64,
    pub asset_id: i64,
    pub metric_name: String,
    pub unit: String,
    /// `gauge` or `counter`.
    pub kind: String,
    /// Lowest acceptable value.
    pub min_threshold: Option<f64>,
    /// Highest acceptable value.
    pub max_threshold: Option<f64>,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    /// `above`: a value at or past a threshold going up raises it; `below`: going down.
    pub direction: String,
    /// How far back past a threshold a value must return before its level clears.
    pub hysteresis: f64,
    /// The newest reading, if any.
    pub metric_value: Option<f64>,
    /// When the newest reading was taken.
    pub value_at: Option<Timestamp>,
    /// Where the series stands now: `normal`, `warning` or `critical` (an unresolved
    /// alert's level; `critical` holds through the hysteresis band).
    pub state: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A metric definition as created.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricData {
    /// Letters, digits, `_`, `-` and `.`; unique per asset.
    pub metric_name: String,
    #[serde(default)]
    pub unit: String,
    /// `gauge` (default) or `counter`.
    #[serde(default = "gauge")]
    pub kind: String,
    pub min_threshold: Option<f64>,
    pub max_threshold: Option<f64>,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    /// `above` (default) or `below`.
    #[serde(default = "above")]
    pub direction: String,
    #[serde(default)]
    pub hysteresis: f64,
}

fn gauge() -> String {
    "gauge".into()
}

fn above() -> String {
    "above".into()
}

/// A change to a metric definition; absent fields stay, `null` clears a threshold.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMetric {
    pub unit: Option<String>,
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub min_threshold: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub max_threshold: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub warning_threshold: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub critical_threshold: Option<Option<f64>>,
    pub direction: Option<String>,
    pub hysteresis: Option<f64>,
}

impl MetricData {
    /// Applies `u` to this definition (the metric name never changes: it names the series).
    pub fn apply(mut self, u: UpdateMetric) -> Self {
        patch(&mut self.unit, u.unit);
        patch(&mut self.kind, u.kind);
        patch(&mut self.min_threshold, u.min_threshold);
        patch(&mut self.max_threshold, u.max_threshold);
        patch(&mut self.warning_threshold, u.warning_threshold);
        patch(&mut self.critical_threshold, u.critical_threshold);
        patch(&mut self.direction, u.direction);
        patch(&mut self.hysteresis, u.hysteresis);
        self
    }

    pub fn validate(&mut self) -> Result<(), nexus_core::ApiError> {
        let mut v = Validator::new();
        self.metric_name = self.metric_name.trim().to_string();
        self.unit = self.unit.trim().to_string();
        v.text("metric_name", &self.metric_name, 1, MAX_METRIC_NAME);
        v.check(
            valid_metric_name(&self.metric_name),
            "metric_name",
            "may hold only letters, digits, '_', '-' and '.'",
        );
        v.text("unit", &self.unit, 0, 20);
        v.check(
            METRIC_KINDS.contains(&self.kind.as_str()),
            "kind",
            "must be gauge or counter",
        );
        v.check(
            DIRECTIONS.contains(&self.direction.as_str()),
            "direction",
            "must be above or below",
        );
        for (field, value) in [
            ("min_threshold", self.min_threshold),
            ("max_threshold", self.max_threshold),
            ("warning_threshold", self.warning_threshold),
            ("critical_threshold", self.critical_threshold),
        ] {
            v.check(
                value.is_none_or(f64::is_finite),
                field,
                "must be a finite number",
            );
        }
        v.check(
            self.hysteresis.is_finite() && self.hysteresis >= 0.0,
            "hysteresis",
            "must be zero or more",
        );
        if let (Some(lo), Some(hi)) = (self.min_threshold, self.max_threshold) {
            v.check(lo <= hi, "max_threshold", "must not be below min_threshold");
        }
        if let (Some(w), Some(c)) = (self.warning_threshold, self.critical_threshold) {
            let ordered = if self.direction == "below" {
                w >= c
            } else {
                w <= c
            };
            v.check(
                ordered,
                "critical_threshold",
                "must lie past warning_threshold in the threshold's direction",
            );
        }
        v.finish()
    }
}

/// Metric names double as InfluxDB field and measurement names, so they stay plain.
pub fn valid_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// What an ingest request did.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct IngestOut {
    /// Points in the request.
    pub received: u64,
    /// Points stored now.
    pub stored: u64,
    /// Points already stored (same series and timestamp), left as they were.
    pub duplicates: u64,
}

/// A batch of readings. `ts` is RFC 3339 or a number of milliseconds since the epoch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    pub points: Vec<PointIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointIn {
    pub asset_id: i64,
    pub metric: String,
    /// RFC 3339, or milliseconds since the Unix epoch.
    #[schema(value_type = String, example = "2026-11-23T10:00:00Z")]
    pub ts: serde_json::Value,
    pub value: f64,
}

/// `?precision=` of line protocol timestamps.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LineQuery {
    /// `ns` (default, as InfluxDB), `us`, `ms` or `s`.
    pub precision: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Start of the range (RFC 3339); default 24 hours before `to`.
    pub from: Option<String>,
    /// End of the range, exclusive (RFC 3339); default now.
    pub to: Option<String>,
    /// Most buckets wanted, 1..=5000 (default 500).
    pub buckets: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SamplesQuery {
    /// Readings taken after this instant (RFC 3339), exclusive: the `next_after` of the
    /// page before; default from the first stored.
    pub after: Option<String>,
    /// Readings taken before this instant (RFC 3339), exclusive; default all.
    pub before: Option<String>,
    /// Most readings in the page, 1..=10000 (default 1000).
    pub limit: Option<u32>,
}

/// One stored raw reading.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct SampleOut {
    pub ts: Timestamp,
    pub value: f64,
}

/// A page of raw readings, oldest first, paged by time: the `{items, next_after}` shape
/// of every key-paged feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SamplesOut {
    pub items: Vec<SampleOut>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<Timestamp>,
}

/// One bucket of history. Its min, avg and max are null only when it holds a reading
/// beyond the accepted range (|value| ≤ 1e15), stored before that range was enforced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BucketOut {
    pub start: Timestamp,
    pub min: Option<f64>,
    pub avg: Option<f64>,
    pub max: Option<f64>,
    pub count: i64,
}

/// A metric's history over a range, in buckets (empty buckets are left out).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryOut {
    pub asset_id: i64,
    pub metric_name: String,
    pub unit: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Width of each bucket.
    pub bucket_seconds: f64,
    /// What the buckets were computed from: `raw`, `minute` or `hour` rollups.
    pub source: String,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    pub buckets: Vec<BucketOut>,
}

/// Settings of telemetry (the `telemetry` settings key).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Raw samples of the months wholly older than this many days move out of the
    /// database into Parquet files in the file store (history reads them back); rollups
    /// stay in the database.
    pub retention_days: u32,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self { retention_days: 90 }
    }
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), nexus_core::ApiError> {
        let mut v = Validator::new();
        v.check(
            (1..=36_500).contains(&self.retention_days),
            "retention_days",
            "must be between 1 and 36500",
        );
        v.finish()
    }
}

/// The MQTT subscriber as operators see it (`GET /api/v1/telemetry/mqtt`).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MqttStatusOut {
    /// A broker is configured (`NEXUS_MQTT_URL`).
    pub enabled: bool,
    /// Connected and subscribed now.
    pub connected: bool,
    /// The broker, without credentials (`mqtt://host:port`).
    pub broker: Option<String>,
    pub topic: Option<String>,
    /// `json` or `line`.
    pub format: Option<String>,
    pub client_id: Option<String>,
    /// Messages received since the server started.
    pub messages: u64,
    /// Points stored from them (repeats of stored points not counted).
    pub points: u64,
    /// Messages refused and dropped: malformed, or naming an unknown asset or metric.
    pub rejected_messages: u64,
    /// The latest problem: a refused message, a failed write or a lost connection.
    pub last_error: Option<MqttErrorOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MqttErrorOut {
    pub at: Timestamp,
    /// The topic of the message at fault; none for a connection problem.
    pub topic: Option<String>,
    pub message: String,
}

// ---------------------------------------------------------------- alerts

/// An alert of a series: opened on entering warning or critical, escalated, resolved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertOut {
    pub id: i64,
    pub series_id: i64,
    pub asset_id: i64,
    pub metric_name: String,
    /// The highest level reached: `warning` or `critical`.
    pub level: String,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// The reading that opened it.
    pub value: f64,
    /// The worst reading seen while it was open (as of its last change).
    pub peak_value: f64,
    pub opened_at: Timestamp,
    pub escalated_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<i64>,
    pub resolved_at: Option<Timestamp>,
    pub version: i32,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// `open`, `acknowledged`, `resolved`, or `active` (every unresolved one).
    pub status: Option<String>,
    pub asset_id: Option<i64>,
    /// `warning` or `critical` (the highest level reached).
    pub level: Option<String>,
    pub metric_name: Option<String>,
    /// Opened at or after this instant (RFC 3339).
    pub since: Option<String>,
}

/// A rule: once the metric has been critical for `critical_minutes`, open a work order
/// from this template (one open per rule and asset).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleData {
    pub critical_minutes: i64,
    pub title: String,
    pub description: Option<String>,
    /// low, medium, high (default) or critical.
    #[serde(default = "high")]
    pub priority: String,
    /// corrective (default), emergency, predictive, ...
    #[serde(default = "corrective", rename = "type")]
    pub work_order_type: String,
}

fn high() -> String {
    "high".into()
}

fn corrective() -> String {
    "corrective".into()
}

impl AlertRuleData {
    pub fn validate(mut self) -> Result<Self, nexus_core::ApiError> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        v.check(
            (0..=525_600).contains(&self.critical_minutes),
            "critical_minutes",
            "must be between 0 and 525600",
        );
        v.check(
            ["low", "medium", "high", "critical"].contains(&self.priority.as_str()),
            "priority",
            "must be low, medium, high or critical",
        );
        v.check(
            [
                "corrective",
                "preventive",
                "inspection",
                "emergency",
                "predictive",
                "safety",
                "other",
            ]
            .contains(&self.work_order_type.as_str()),
            "type",
            "must be a work order type",
        );
        v.finish()?;
        Ok(self)
    }
}

/// A change to an alert rule; absent fields stay, `null` clears the description.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlertRule {
    pub critical_minutes: Option<i64>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
}

impl AlertRuleData {
    /// Applies `u` to this rule.
    pub fn apply(mut self, u: UpdateAlertRule) -> Self {
        patch(&mut self.critical_minutes, u.critical_minutes);
        patch(&mut self.title, u.title);
        patch(&mut self.description, u.description);
        patch(&mut self.priority, u.priority);
        patch(&mut self.work_order_type, u.work_order_type);
        self
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRuleOut {
    pub id: i64,
    pub series_id: i64,
    pub critical_minutes: i64,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    #[serde(rename = "type")]
    pub work_order_type: String,
    pub created_at: Timestamp,
    pub version: i32,
}

// ---------------------------------------------------------------- meter-based maintenance

/// A preventive schedule on a counter: every `every_units` (run hours, cycles) a work
/// order opens when the counter passes the next mark.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterScheduleData {
    pub every_units: f64,
    /// The first mark; default the counter's current value plus `every_units`.
    pub first_at: Option<f64>,
    pub title: String,
    pub description: Option<String>,
    /// low, medium (default), high or critical.
    #[serde(default = "medium")]
    pub priority: String,
}

fn medium() -> String {
    "medium".into()
}

impl MeterScheduleData {
    pub fn validate(mut self) -> Result<Self, nexus_core::ApiError> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        v.check(
            self.every_units.is_finite() && self.every_units > 0.0,
            "every_units",
            "must be a number above zero",
        );
        v.check(
            self.first_at.is_none_or(f64::is_finite),
            "first_at",
            "must be a finite number",
        );
        v.check(
            ["low", "medium", "high", "critical"].contains(&self.priority.as_str()),
            "priority",
            "must be low, medium, high or critical",
        );
        v.finish()?;
        Ok(self)
    }
}

/// A change to a meter schedule; absent fields stay, `null` clears the description.
/// `next_at` moves the next mark (after a service done early, say).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeterSchedule {
    pub every_units: Option<f64>,
    pub next_at: Option<f64>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub priority: Option<String>,
}

impl MeterScheduleData {
    /// Applies `u` to this schedule, whose next mark is `first_at`.
    pub fn apply(mut self, u: UpdateMeterSchedule) -> Self {
        patch(&mut self.every_units, u.every_units);
        patch(&mut self.first_at, u.next_at.map(Some));
        patch(&mut self.title, u.title);
        patch(&mut self.description, u.description);
        patch(&mut self.priority, u.priority);
        self
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeterScheduleOut {
    pub id: i64,
    pub series_id: i64,
    pub every_units: f64,
    /// The counter value at which the next work order opens.
    pub next_at: f64,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub created_at: Timestamp,
    pub version: i32,
}

// ---------------------------------------------------------------- predictions

/// An asset in the risk ranking, by its riskiest metric: the likeliest to cross its
/// critical threshold within the horizon, then the soonest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetRisk {
    pub asset_id: i64,
    pub asset_name: String,
    pub health_score: Option<i32>,
    /// The asset's criticality (A, B or C), which breaks ties of risk.
    pub criticality: Option<String>,
    pub metric_name: String,
    /// Of crossing the critical threshold within `horizon_hours`.
    pub probability: f64,
    pub horizon_hours: f64,
    /// Remaining useful life in hours (`None`: the trend never gets there) and its
    /// confidence interval.
    pub rul_hours: Option<f64>,
    pub rul_low: Option<f64>,
    pub rul_high: Option<f64>,
    /// The highest anomaly score among the asset's metrics, 0–1 (0.5: three robust
    /// standard deviations off the trend).
    pub anomaly_score: f64,
    pub predicted_at: Timestamp,
}

/// A stored prediction (`PredictiveMaintenanceResults`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionOut {
    pub id: i64,
    pub asset_id: i64,
    pub series_id: i64,
    /// `REMAINING_USEFUL_LIFE`.
    pub prediction_type: String,
    /// `prediction` (hours from the latest reading to the critical threshold, 0 when past
    /// it, `null`: never on this trend), `past_threshold`, `probability` (of crossing within
    /// `horizon_hours`), `confidence_interval`, `anomaly_score` (0–1: `z / (z + 3)`, 0.5 at
    /// three robust standard deviations off the trend), `anomaly_z` (that robust z-score,
    /// at most 1000), `slope_per_hour`, `level` (where the series is now).
    #[schema(value_type = Object)]
    pub prediction_result: serde_json::Value,
    pub confidence_lower: Option<f64>,
    pub confidence_upper: Option<f64>,
    #[schema(value_type = Object)]
    pub input_features: serde_json::Value,
    pub model_version: String,
    pub created_at: Timestamp,
}
