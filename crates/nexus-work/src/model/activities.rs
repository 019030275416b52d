//! Activities, their history, recurring series and tags.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean, patch};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The ten activity types of the document, spelled as it spells them.
pub const ACTIVITY_TYPES: [&str; 10] = [
    "Production",
    "Maintenance",
    "Inspection & Audit",
    "Engineering",
    "Logistics",
    "Quality",
    "Meetings",
    "Projects",
    "Training",
    "Admin & Systems",
];
pub const ACTIVITY_STATUSES: [&str; 5] = [
    "planned",
    "in-progress",
    "completed",
    "cancelled",
    "overdue",
];
pub const ACTIVITY_PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];
/// Statuses an activity can be late in: its end passing makes it overdue.
pub const LATE_WHILE: [&str; 2] = ["planned", "in-progress"];
/// The longest an activity may last (a year), so a typo of a year is caught.
pub const MAX_ACTIVITY_SECONDS: i64 = 366 * 24 * 3600;
/// Tags on one activity or task.
pub const MAX_TAGS: usize = 20;

/// What a status is called in words.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "planned" => "Planned",
        "in-progress" => "In progress",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "overdue" => "Overdue",
        _ => "Unknown",
    }
}

/// A choice of a served list: its value and what it is called.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

// ---------------------------------------------------------------- tags

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `#RRGGBB`.
    pub color: String,
    pub category: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A tag as shown on a record: enough to draw its chip.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagRef {
    pub id: i64,
    pub name: String,
    pub color: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTag {
    /// Unique regardless of case, at most 50 characters.
    pub name: String,
    pub description: Option<String>,
    /// `#RRGGBB`; `#3B82F6` when absent.
    pub color: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTag {
    pub name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub category: Option<Option<String>>,
}

/// Whether `c` is a colour as `#RRGGBB`.
pub fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|c| c.is_ascii_hexdigit())
}

impl NewTag {
    /// Trims and checks every field; 422 naming each one at fault.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 50);
        self.description = clean(self.description.take());
        v.opt_text("description", self.description.as_deref(), 2000);
        let color = self.color.get_or_insert_with(|| "#3B82F6".into());
        *color = color.trim().to_uppercase();
        v.check(is_hex_colour(color), "color", "must be a colour as #RRGGBB");
        self.category = clean(self.category.take());
        v.opt_text("category", self.category.as_deref(), 50);
        v.finish()?;
        Ok(self)
    }
}

impl UpdateTag {
    /// Applies the fields the request carried to `t`.
    pub fn apply(self, t: &mut NewTag) {
        patch(&mut t.name, self.name);
        patch(&mut t.description, self.description.map(Some));
        patch(&mut t.color, self.color.map(Some));
        patch(&mut t.category, self.category);
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagFilter {
    /// Part of the name, any case.
    pub q: Option<String>,
    pub category: Option<String>,
}

// ---------------------------------------------------------------- activities

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// One of the ten types (`/api/v1/activities/types`).
    #[serde(rename = "type")]
    pub activity_type: String,
    pub status: String,
    pub priority: String,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    pub assigned_to_id: i64,
    /// The assignee's username.
    pub assigned_to: String,
    pub created_by_id: i64,
    pub created_by: String,
    pub tags: Vec<TagRef>,
    /// The recurring series this is an occurrence of.
    pub series_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// One entry of an activity's timeline: a status or a priority it took.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `status` or `priority`.
    pub kind: &'static str,
    /// The status or priority taken.
    pub value: String,
    /// Who changed it; none when the system did (an overdue activity).
    pub changed_by_id: Option<i64>,
    pub changed_by: Option<String>,
    pub changed_at: Timestamp,
    /// The note of a status change or the reason of a priority change.
    pub note: String,
}

/// A project an activity belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityDetail {
    #[serde(flatten)]
    pub activity: ActivityOut,
    pub projects: Vec<ProjectRef>,
    /// Status and priority changes, newest first.
    pub history: Vec<HistoryEntry>,
    /// The recurrence of its series, when it is an occurrence of one.
    pub recurrence: Option<Recurrence>,
}

/// How a series repeats: every `every` `unit` from the first occurrence, until a date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// 1 for daily, weekly or monthly; N for every N days.
    pub every: i32,
    /// days, weeks or months (calendar months).
    pub unit: String,
    /// The last day an occurrence may start on; none for no end.
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<NaiveDate>,
}

impl Recurrence {
    fn check(&mut self, v: &mut Validator, start: Timestamp) {
        v.check(
            (1..=366).contains(&self.every),
            "recurrence.every",
            "must be between 1 and 366",
        );
        v.choice(
            "recurrence.unit",
            &mut self.unit,
            &nexus_core::recurrence::INTERVAL_UNITS,
        );
        if let Some(until) = self.until {
            v.check(
                until >= start.to_datetime().date_naive(),
                "recurrence.until",
                "must not be before the first occurrence",
            );
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub activity_type: String,
    /// planned (default) or another status.
    pub status: Option<String>,
    /// medium (default), low, high or urgent.
    pub priority: Option<String>,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    /// The creator when absent.
    pub assigned_to_id: Option<i64>,
    #[serde(default)]
    pub tag_ids: Vec<i64>,
    /// Projects it belongs to (you must be able to see each).
    #[serde(default)]
    pub project_ids: Vec<i64>,
    /// Repeat it: the occurrences ahead are created at once.
    pub recurrence: Option<Recurrence>,
}

impl NewActivity {
    /// Trims and checks every field; 422 naming each one at fault.
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.description = clean(self.description.take());
        v.opt_text("description", self.description.as_deref(), 10_000);
        v.choice("type", &mut self.activity_type, &ACTIVITY_TYPES);
        let status = self.status.get_or_insert_with(|| "planned".into());
        v.choice("status", status, &ACTIVITY_STATUSES);
        let priority = self.priority.get_or_insert_with(|| "medium".into());
        v.choice("priority", priority, &ACTIVITY_PRIORITIES);
        check_span(&mut v, self.start_time, self.end_time);
        v.check(
            self.tag_ids.len() <= MAX_TAGS,
            "tag_ids",
            format!("at most {MAX_TAGS} tags"),
        );
        v.check(
            self.project_ids.len() <= MAX_TAGS,
            "project_ids",
            format!("at most {MAX_TAGS} projects"),
        );
        self.tag_ids.sort_unstable();
        self.tag_ids.dedup();
        self.project_ids.sort_unstable();
        self.project_ids.dedup();
        if let Some(r) = self.recurrence.as_mut() {
            r.check(&mut v, self.start_time);
        }
        v.finish()?;
        Ok(self)
    }
}

/// `end_time` not before `start_time`, and not a year after it.
fn check_span(v: &mut Validator, start: Timestamp, end: Timestamp) {
    if end < start {
        v.add("end_time", "must not be before start_time");
    } else {
        v.check(
            start.seconds_until(end) <= MAX_ACTIVITY_SECONDS,
            "end_time",
            "must be within a year of start_time",
        );
    }
}

/// Which occurrences of a series a change applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// This activity only (the default).
    #[default]
    This,
    /// This occurrence and every later one of its series still to be done, and the
    /// occurrences created from now on.
    Following,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivity {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub activity_type: Option<String>,
    pub status: Option<String>,
    /// Kept with a status change in the timeline.
    pub note: Option<String>,
    pub priority: Option<String>,
    /// Kept with a priority change in the timeline.
    pub reason: Option<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub assigned_to_id: Option<i64>,
    /// Replaces the tags.
    pub tag_ids: Option<Vec<i64>>,
    /// Replaces the projects.
    pub project_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub scope: Scope,
}

/// The editable fields of an activity, as stored or as a change leaves them.
#[derive(Debug, Clone)]
pub struct ActivityFields {
    pub title: String,
    pub description: String,
    pub activity_type: String,
    pub status: String,
    pub priority: String,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    pub assigned_to_id: i64,
}

impl UpdateActivity {
    /// Applies the carried fields to `f` and checks the result; 422 naming each field.
    pub fn apply(&mut self, f: &mut ActivityFields) -> ApiResult<()> {
        let mut v = Validator::new();
        patch(
            &mut f.title,
            self.title.take().map(|t| t.trim().to_string()),
        );
        v.text("title", &f.title, 1, 200);
        patch(
            &mut f.description,
            self.description.take().map(|d| d.trim().to_string()),
        );
        v.opt_text("description", Some(&f.description), 10_000);
        if let Some(mut t) = self.activity_type.take() {
            v.choice("type", &mut t, &ACTIVITY_TYPES);
            f.activity_type = t;
        }
        if let Some(mut s) = self.status.take() {
            v.choice("status", &mut s, &ACTIVITY_STATUSES);
            f.status = s;
        }
        if let Some(mut p) = self.priority.take() {
            v.choice("priority", &mut p, &ACTIVITY_PRIORITIES);
            f.priority = p;
        }
        self.note = clean(self.note.take());
        v.opt_text("note", self.note.as_deref(), 2000);
        self.reason = clean(self.reason.take());
        v.opt_text("reason", self.reason.as_deref(), 2000);
        patch(&mut f.start_time, self.start_time);
        patch(&mut f.end_time, self.end_time);
        check_span(&mut v, f.start_time, f.end_time);
        patch(&mut f.assigned_to_id, self.assigned_to_id);
        for (field, ids) in [
            ("tag_ids", self.tag_ids.as_mut()),
            ("project_ids", self.project_ids.as_mut()),
        ] {
            if let Some(ids) = ids {
                v.check(ids.len() <= MAX_TAGS, field, format!("at most {MAX_TAGS}"));
                ids.sort_unstable();
                ids.dedup();
            }
        }
        v.finish()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityFilter {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// One type or several, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub activity_type: Option<String>,
    /// One priority or several, comma-separated.
    pub priority: Option<String>,
    pub assigned_to_id: Option<i64>,
    pub created_by_id: Option<i64>,
    pub tag_id: Option<i64>,
    pub project_id: Option<i64>,
    pub series_id: Option<i64>,
    /// Starting at or after this instant.
    pub start_from: Option<Timestamp>,
    /// Starting before this instant.
    pub start_to: Option<Timestamp>,
    /// Part of the title, any case.
    pub q: Option<String>,
}

// ---------------------------------------------------------------- my work

/// A task as "my work" lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskBrief {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub title: String,
    pub status: String,
    pub priority: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
}

/// Up to [`MY_WORK_SHOWN`] items of a part of "my work", and how many there are.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Section<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Items shown per part of "my work"; `total` says how many there are.
pub const MY_WORK_SHOWN: u64 = 50;

/// What is assigned to the signed-in user and still to do: late, today, the rest of the
/// week (days are the plant's, in its time zone; weeks end on Sunday).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyWork {
    #[schema(value_type = String, format = Date)]
    pub today: NaiveDate,
    pub overdue_activities: Section<ActivityOut>,
    pub today_activities: Section<ActivityOut>,
    pub week_activities: Section<ActivityOut>,
    pub overdue_tasks: Section<TaskBrief>,
    pub today_tasks: Section<TaskBrief>,
    pub week_tasks: Section<TaskBrief>,
}

/// A user's calendar feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarFeed {
    pub active: bool,
    pub created_at: Option<Timestamp>,
    /// The feed's path, to put after the server's address; shown only when made.
    pub path: Option<String>,
}
