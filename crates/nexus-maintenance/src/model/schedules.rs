//! Request and response types of preventive maintenance schedules, with validation.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ChecklistItemData, NewWorkOrder};
use nexus_core::validate::patch;

pub use nexus_core::recurrence::INTERVAL_UNITS;
/// `scheduled`: every interval from the start date, whenever the work gets done;
/// `completion`: the next one is due an interval after the previous one was closed.
pub const PM_BASES: [&str; 2] = ["scheduled", "completion"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PmScheduleOut {
    pub id: i64,
    pub asset_id: i64,
    /// Of the work orders it generates.
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub work_order_type: String,
    pub priority: String,
    pub assigned_to_id: Option<i64>,
    pub interval_value: i32,
    /// days, weeks or months (calendar months: Jan 31 + 1 month is the end of February).
    pub interval_unit: String,
    /// scheduled or completion.
    pub basis: String,
    /// The date occurrences of a `scheduled` schedule are counted from.
    pub start_date: String,
    /// The due date of the next work order to generate.
    pub next_due: String,
    /// The next work order is generated this many days before it is due.
    pub lead_days: i32,
    pub estimated_minutes: Option<i32>,
    /// The steps every generated work order gets.
    pub checklist: Vec<ChecklistItemData>,
    pub active: bool,
    pub last_work_order_id: Option<i64>,
    pub last_generated_at: Option<Timestamp>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A schedule as written: what create sends, and what an update yields once applied.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PmScheduleData {
    pub asset_id: i64,
    pub title: String,
    pub description: Option<String>,
    /// Of the generated work orders: preventive (default), inspection, ...
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
    /// low, medium (default), high or critical.
    pub priority: Option<String>,
    pub assigned_to_id: Option<i64>,
    /// 1-1000.
    pub interval_value: i64,
    /// days, weeks or months.
    pub interval_unit: String,
    /// scheduled (default) or completion.
    pub basis: Option<String>,
    /// The due date of the first work order.
    #[schema(value_type = String)]
    pub next_due: NaiveDate,
    /// 0 (default) - 3650.
    pub lead_days: Option<i64>,
    pub estimated_minutes: Option<i64>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItemData>,
    /// true by default.
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePmSchedule {
    pub asset_id: Option<i64>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(rename = "type")]
    pub work_order_type: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub assigned_to_id: Option<Option<i64>>,
    pub interval_value: Option<i64>,
    pub interval_unit: Option<String>,
    pub basis: Option<String>,
    /// Setting it also restarts the count of `scheduled` occurrences from this date.
    #[schema(value_type = Option<String>)]
    pub next_due: Option<NaiveDate>,
    pub lead_days: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub estimated_minutes: Option<Option<i64>>,
    pub checklist: Option<Vec<ChecklistItemData>>,
    pub active: Option<bool>,
}

impl UpdatePmSchedule {
    pub fn apply(self, d: &mut PmScheduleData) {
        patch(&mut d.asset_id, self.asset_id);
        patch(&mut d.title, self.title);
        patch(&mut d.description, self.description);
        if self.work_order_type.is_some() {
            d.work_order_type = self.work_order_type;
        }
        if self.priority.is_some() {
            d.priority = self.priority;
        }
        patch(&mut d.assigned_to_id, self.assigned_to_id);
        patch(&mut d.interval_value, self.interval_value);
        patch(&mut d.interval_unit, self.interval_unit);
        if self.basis.is_some() {
            d.basis = self.basis;
        }
        patch(&mut d.next_due, self.next_due);
        if self.lead_days.is_some() {
            d.lead_days = self.lead_days;
        }
        patch(&mut d.estimated_minutes, self.estimated_minutes);
        patch(&mut d.checklist, self.checklist);
        if self.active.is_some() {
            d.active = self.active;
        }
    }
}

impl PmScheduleData {
    /// The work order this schedule generates, due on `due`.
    pub fn work_order(&self, id: i64, due: NaiveDate) -> NewWorkOrder {
        NewWorkOrder {
            title: self.title.clone(),
            description: self.description.clone(),
            asset_id: Some(self.asset_id),
            work_order_type: self.work_order_type.clone(),
            priority: self.priority.clone(),
            assigned_to_id: self.assigned_to_id,
            due_date: Some(due),
            estimated_minutes: self.estimated_minutes,
            pm_schedule_id: Some(id),
            dedupe_key: Some(pm_dedupe_key(id)),
            checklist: self.checklist.clone(),
            ..Default::default()
        }
    }

    /// Checks every field, the work order template as a work order would be checked
    /// (same field names); 422 with all errors.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.work_order_type
            .get_or_insert_with(|| "preventive".into());
        match self.work_order(0, self.next_due).validate() {
            Ok(w) => {
                self.title = w.title;
                self.description = w.description;
                self.work_order_type = w.work_order_type;
                self.priority = w.priority;
                self.checklist = w.checklist;
            }
            Err(e) => {
                for f in e.field_errors() {
                    v.add(&f.field, f.message);
                }
            }
        }
        self.description = clean(self.description);
        v.check(
            (1..=1000).contains(&self.interval_value),
            "interval_value",
            "must be between 1 and 1000",
        );
        self.interval_unit = self.interval_unit.trim().to_lowercase();
        v.check(
            INTERVAL_UNITS.contains(&self.interval_unit.as_str()),
            "interval_unit",
            "must be days, weeks or months",
        );
        let basis = self.basis.get_or_insert_with(|| "scheduled".into());
        *basis = basis.trim().to_lowercase();
        v.check(
            PM_BASES.contains(&basis.as_str()),
            "basis",
            "must be scheduled or completion",
        );
        let lead = *self.lead_days.get_or_insert(0);
        v.check(
            (0..=3650).contains(&lead),
            "lead_days",
            "must be between 0 and 3650",
        );
        v.check(
            (2000..=2200).contains(&chrono::Datelike::year(&self.next_due)),
            "next_due",
            "must be between the years 2000 and 2200",
        );
        self.active.get_or_insert(true);
        v.finish()?;
        Ok(self)
    }
}

/// The `dedupe_key` of a schedule's work orders: while one is open, no other is made.
pub fn pm_dedupe_key(schedule_id: i64) -> String {
    format!("pm:{schedule_id}")
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PmScheduleFilter {
    pub asset_id: Option<i64>,
    pub active: Option<bool>,
}
