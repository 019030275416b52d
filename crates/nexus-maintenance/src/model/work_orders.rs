//! Request and response types of work orders, with validation.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean, patch};
use nexus_core::{ApiError, ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const WORK_ORDER_TYPES: [&str; 7] = [
    "corrective",
    "preventive",
    "inspection",
    "emergency",
    "predictive",
    "safety",
    "other",
];
pub const WORK_ORDER_PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
pub const WORK_ORDER_STATUSES: [&str; 5] =
    ["open", "in_progress", "on_hold", "completed", "cancelled"];
/// Statuses in which a work order is still to be done (and holds its `dedupe_key`).
pub const OPEN_STATUSES: [&str; 3] = ["open", "in_progress", "on_hold"];
pub const CHECKLIST_KINDS: [&str; 4] = ["checkbox", "number", "text", "pass_fail"];

/// The allowed status changes. `completed` and `cancelled` are final, so a closed work
/// order's history (and the KPIs built on it) never changes; new work is a new order.
pub const TRANSITIONS: [(&str, &[&str]); 5] = [
    (
        "open",
        &["in_progress", "on_hold", "completed", "cancelled"],
    ),
    (
        "in_progress",
        &["open", "on_hold", "completed", "cancelled"],
    ),
    (
        "on_hold",
        &["open", "in_progress", "completed", "cancelled"],
    ),
    ("completed", &[]),
    ("cancelled", &[]),
];

/// Whether a work order may move from `from` to `to`.
pub fn transition_allowed(from: &str, to: &str) -> bool {
    TRANSITIONS
        .iter()
        .any(|(f, tos)| *f == from && tos.contains(&to))
}

fn one_of(v: &mut Validator, field: &str, value: &mut String, allowed: &[&str]) {
    *value = value.trim().to_lowercase();
    v.check(
        allowed.contains(&value.as_str()),
        field,
        format!("must be one of {}", allowed.join(", ")),
    );
}

// ---------------------------------------------------------------- checklist

/// A checklist step as written when a work order (or a PM template) is created.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemData {
    /// What to do, e.g. "Check belt tension".
    pub task: String,
    /// checkbox (default), number, text or pass_fail.
    pub kind: Option<String>,
    /// Completing the work order needs this step answered.
    #[serde(default)]
    pub required: bool,
    /// Limits of a `number` step (inclusive).
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub unit: Option<String>,
    /// A step that fails (a `pass_fail` step answered "fail", a `number` step read outside
    /// its limits) opens a corrective follow-up work order.
    #[serde(default)]
    pub create_follow_up: bool,
}

impl ChecklistItemData {
    /// Checks one step; errors name `checklist[i].field`.
    pub(crate) fn check(&mut self, v: &mut Validator, i: usize) {
        let f = |name: &str| format!("checklist[{i}].{name}");
        self.task = self.task.trim().to_string();
        v.text(&f("task"), &self.task, 1, 255);
        let kind = self.kind.get_or_insert_with(|| "checkbox".into());
        one_of(v, &f("kind"), kind, &CHECKLIST_KINDS);
        self.unit = clean(self.unit.take());
        v.opt_text(&f("unit"), self.unit.as_deref(), 20);
        let is_number = kind == "number";
        v.check(
            is_number || (self.min_value.is_none() && self.max_value.is_none()),
            &f("min_value"),
            "limits apply to number steps only",
        );
        v.check(
            self.min_value.is_none_or(f64::is_finite) && self.max_value.is_none_or(f64::is_finite),
            &f("min_value"),
            "limits must be finite numbers",
        );
        if let (Some(lo), Some(hi)) = (self.min_value, self.max_value) {
            v.check(lo <= hi, &f("max_value"), "must not be below min_value");
        }
        v.check(
            !self.create_follow_up || kind == "pass_fail" || is_number,
            &f("create_follow_up"),
            "only pass_fail and number steps can fail and open a follow-up",
        );
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistItemOut {
    pub id: i64,
    pub work_order_id: i64,
    /// 1, 2, 3 … in the order the steps are done.
    pub sequence: i32,
    pub kind: String,
    pub task: String,
    pub required: bool,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub unit: Option<String>,
    pub create_follow_up: bool,
    /// Answered.
    pub is_completed: bool,
    pub checked: Option<bool>,
    pub number_value: Option<f64>,
    pub text_value: Option<String>,
    pub passed: Option<bool>,
    pub notes: Option<String>,
    pub completed_by: Option<i64>,
    pub completed_at: Option<Timestamp>,
    /// The work order a failed step opened.
    pub follow_up_work_order_id: Option<i64>,
    pub updated_at: Timestamp,
    pub version: i32,
}

// ---------------------------------------------------------------- work orders

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkOrderOut {
    pub id: i64,
    /// `WO-000123`, gap-free.
    pub number: String,
    pub title: String,
    pub description: Option<String>,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    /// corrective, preventive, inspection, emergency, predictive, safety or other.
    #[serde(rename = "type")]
    pub work_order_type: String,
    /// low, medium, high or critical.
    pub priority: String,
    /// open, in_progress, on_hold, completed or cancelled.
    pub status: String,
    pub assigned_to_id: Option<i64>,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub estimated_minutes: Option<i32>,
    pub actual_minutes: Option<i32>,
    /// When it first went in progress.
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// The work order this one follows up (a failed checklist step).
    pub parent_work_order_id: Option<i64>,
    /// The preventive schedule that generated it.
    pub pm_schedule_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
    /// When it moved to the archive (it is read-only from then on); null while live.
    pub archived_at: Option<Timestamp>,
}

/// A work order with its checklist, as one work order is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkOrderDetail {
    #[serde(flatten)]
    pub work_order: WorkOrderOut,
    pub checklist: Vec<ChecklistItemOut>,
}

/// A new work order: the POST body, and what other services (PM schedules, work
/// requests, telemetry alerts) pass to `service::create_work_order`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkOrder {
    pub title: String,
    pub description: Option<String>,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    /// corrective (default), preventive, inspection, emergency, predictive, safety, other.
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
    /// low, medium (default), high or critical.
    pub priority: Option<String>,
    /// Assigning someone else needs `work_orders:manage`.
    pub assigned_to_id: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub due_date: Option<NaiveDate>,
    pub estimated_minutes: Option<i64>,
    pub parent_work_order_id: Option<i64>,
    /// Set by the preventive scheduler only, never from a request.
    #[serde(skip_deserializing)]
    #[schema(ignore)]
    pub pm_schedule_id: Option<i64>,
    /// While a work order with this key is open, another with the same key is refused
    /// (409): makes creation by schedules, alerts and retrying clients idempotent.
    pub dedupe_key: Option<String>,
    /// The steps, in order.
    #[serde(default)]
    pub checklist: Vec<ChecklistItemData>,
}

impl NewWorkOrder {
    /// Trims texts, fills defaults and checks every field; 422 with all errors.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.description = clean(self.description);
        v.opt_text("description", self.description.as_deref(), 20_000);
        let t = self
            .work_order_type
            .get_or_insert_with(|| "corrective".into());
        one_of(&mut v, "type", t, &WORK_ORDER_TYPES);
        let p = self.priority.get_or_insert_with(|| "medium".into());
        one_of(&mut v, "priority", p, &WORK_ORDER_PRIORITIES);
        check_minutes(&mut v, "estimated_minutes", self.estimated_minutes);
        self.dedupe_key = clean(self.dedupe_key);
        v.opt_text("dedupe_key", self.dedupe_key.as_deref(), 200);
        v.check(
            self.checklist.len() <= 200,
            "checklist",
            "at most 200 steps",
        );
        for (i, item) in self.checklist.iter_mut().enumerate() {
            item.check(&mut v, i);
        }
        v.finish()?;
        Ok(self)
    }
}

/// Up to ten years of work; keeps the value inside the INTEGER column.
fn check_minutes(v: &mut Validator, field: &str, minutes: Option<i64>) {
    v.check(
        minutes.is_none_or(|m| (0..=5_256_000).contains(&m)),
        field,
        "must be between 0 and 5256000 minutes",
    );
}

/// A status change. The allowed moves:
///
/// | from | to |
/// |---|---|
/// | open | in_progress, on_hold, completed, cancelled |
/// | in_progress | open, on_hold, completed, cancelled |
/// | on_hold | open, in_progress, cancelled |
/// | completed, cancelled | none (final) |
///
/// Cancelling needs `work_orders:manage`. Completing needs every required checklist step
/// answered; `actual_minutes` defaults to the sum of the recorded labor.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: String,
    /// On completion: overrides the labor total.
    pub actual_minutes: Option<i64>,
}

impl StatusChange {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        one_of(&mut v, "status", &mut self.status, &WORK_ORDER_STATUSES);
        check_minutes(&mut v, "actual_minutes", self.actual_minutes);
        v.check(
            self.actual_minutes.is_none() || self.status == "completed",
            "actual_minutes",
            "can only be given when completing",
        );
        v.finish()?;
        Ok(self)
    }
}

/// Filters of the work order list; every one may be combined with the others.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkOrderFilter {
    /// One status or several separated by commas: `status=open,in_progress`.
    pub status: Option<String>,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    pub assigned_to_id: Option<i64>,
    /// One priority or several separated by commas.
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub work_order_type: Option<String>,
    /// Due on or after this date.
    #[param(value_type = Option<String>)]
    pub due_from: Option<NaiveDate>,
    /// Due on or before this date.
    #[param(value_type = Option<String>)]
    pub due_to: Option<NaiveDate>,
    /// Matches title or number, ignoring case.
    pub q: Option<String>,
    /// `true`: the archived work orders (completed or cancelled long ago, read-only)
    /// instead of the live ones.
    pub archived: Option<bool>,
}

/// Splits a comma list and checks every value against `allowed`.
pub fn parse_multi(field: &str, raw: &str, allowed: &[&str]) -> ApiResult<Vec<String>> {
    let values: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if values.is_empty() || values.iter().any(|s| !allowed.contains(&s.as_str())) {
        return Err(ApiError::invalid(
            field,
            format!(
                "must be one or more of {}, separated by commas",
                allowed.join(", ")
            ),
        ));
    }
    Ok(values)
}

/// A change to a work order's fields (status has its own endpoint). Absent fields stay,
/// `null` clears. Giving the work order to someone else needs `work_orders:manage`;
/// anyone who may write work orders may take it themselves or hand it back.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkOrder {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub asset_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub location_id: Option<Option<i64>>,
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub assigned_to_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub estimated_minutes: Option<Option<i64>>,
}

impl UpdateWorkOrder {
    /// The stored fields with this change applied, as a `NewWorkOrder` to validate.
    pub fn apply(self, d: &mut NewWorkOrder) {
        patch(&mut d.title, self.title);
        patch(&mut d.description, self.description);
        patch(&mut d.asset_id, self.asset_id);
        patch(&mut d.location_id, self.location_id);
        if self.work_order_type.is_some() {
            d.work_order_type = self.work_order_type;
        }
        if self.priority.is_some() {
            d.priority = self.priority;
        }
        patch(&mut d.assigned_to_id, self.assigned_to_id);
        patch(&mut d.due_date, self.due_date);
        patch(&mut d.estimated_minutes, self.estimated_minutes);
    }
}

/// The answer to one checklist step; give the field of its kind: `checked` (checkbox),
/// `number_value` (number; a reading outside the step's limits is stored and fails the
/// step), `text_value` (text) or `passed` (pass_fail). Unticking a checkbox marks the step
/// not done again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistAnswer {
    pub checked: Option<bool>,
    pub number_value: Option<f64>,
    pub text_value: Option<String>,
    pub passed: Option<bool>,
    pub notes: Option<String>,
}

/// An answered step, and the follow-up work order a failed step opened, if any.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistAnswered {
    pub item: ChecklistItemOut,
    pub follow_up: Option<WorkOrderOut>,
}

// ---------------------------------------------------------------- labor

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LaborOut {
    pub id: i64,
    pub work_order_id: i64,
    pub user_id: i64,
    pub started_at: Timestamp,
    /// `null` while the timer runs.
    pub ended_at: Option<Timestamp>,
    /// Rounded to the nearest minute once ended.
    pub minutes: Option<i32>,
    pub hourly_rate_cents: Option<i64>,
    /// `minutes × rate`, in cents.
    pub cost_cents: Option<i64>,
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub version: i32,
}

/// Starts the caller's timer on a work order.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartLabor {
    pub hourly_rate_cents: Option<i64>,
    pub note: Option<String>,
}

/// Time worked, given from and to. `user_id` defaults to the caller; recording someone
/// else's time needs `work_orders:manage`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabor {
    pub user_id: Option<i64>,
    pub started_at: Timestamp,
    /// After `started_at`, not in the future.
    pub ended_at: Timestamp,
    pub hourly_rate_cents: Option<i64>,
    pub note: Option<String>,
}

/// A correction of a finished labor entry; absent fields stay, `null` clears the rate or
/// the note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLabor {
    #[schema(value_type = Option<String>)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub ended_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub hourly_rate_cents: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

/// 422 unless a rate is zero or more and below a sane ceiling (keeps cost in range).
pub(crate) fn check_rate(v: &mut Validator, rate: Option<i64>) {
    v.check(
        rate.is_none_or(|r| (0..=100_000_000).contains(&r)),
        "hourly_rate_cents",
        "must be between 0 and 100000000 cents",
    );
}

// ---------------------------------------------------------------- comments

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub work_order_id: i64,
    pub user_id: Option<i64>,
    pub content: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1 to 10,000 characters.
    pub content: String,
}

impl NewComment {
    /// The comment with its text trimmed: 1 to 10,000 characters.
    pub fn validate(self) -> ApiResult<Self> {
        let content = self.content.trim().to_string();
        let mut v = Validator::new();
        v.text("content", &content, 1, 10_000);
        v.finish()?;
        Ok(Self { content })
    }
}

// ---------------------------------------------------------------- downtime

/// A stop recorded after the fact: when it started and ended, why, and the work order
/// that dealt with it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDowntime {
    #[schema(value_type = String)]
    pub started_at: Timestamp,
    #[schema(value_type = String)]
    pub ended_at: Timestamp,
    pub reason: Option<String>,
    /// A work order on this asset.
    pub work_order_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DowntimeOut {
    pub id: i64,
    pub asset_id: i64,
    pub started_at: Timestamp,
    /// `null` while the asset is still down.
    pub ended_at: Option<Timestamp>,
    pub reason: Option<String>,
    pub work_order_id: Option<i64>,
    pub created_by: Option<i64>,
}
