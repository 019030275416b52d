//! Projects, their teams and costs, and their tasks with dependencies and worklogs.

use chrono::NaiveDate;
use nexus_core::validate::{Validator, clean, patch};
use nexus_core::{ApiResult, Timestamp};
use nexus_identity::model::present;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{MAX_TAGS, TagRef};

/// The largest budget, in minor units (ten trillion in a currency of cents): sums of
/// budgets and costs then stay far inside 64 bits on both engines.
pub const MAX_BUDGET_MINOR: i64 = 1_000_000_000_000_000;
/// The largest single cost, in minor units.
pub const MAX_COST_MINOR: i64 = 1_000_000_000_000;

pub const PROJECT_STATUSES: [&str; 5] = ["planning", "active", "on-hold", "completed", "cancelled"];
/// Priorities of projects and tasks (`002_62df140f2ee747f7.txt`).
pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
pub const TASK_STATUSES: [&str; 5] = ["todo", "in-progress", "blocked", "done", "cancelled"];
pub const DEPENDENCY_KINDS: [&str; 4] = [
    "finish-to-start",
    "start-to-start",
    "finish-to-finish",
    "start-to-finish",
];
/// Task statuses in which a task is finished with: it counts no more as open work, and
/// stays where it is when its predecessors move.
pub const CLOSED_TASK: [&str; 2] = ["done", "cancelled"];
/// The most a dependency's lag may be, either way, in days.
pub const MAX_LAG_DAYS: i32 = 365;
/// The most hours one worklog entry may hold (a day).
pub const MAX_WORKLOG_HOURS: f64 = 24.0;
/// The largest estimate of a task, in hours (ten working years), so a typo is caught.
pub const MAX_ESTIMATE_HOURS: f64 = 20_000.0;

/// Dates travel as `YYYY-MM-DD` and are stored so.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// A stored `YYYY-MM-DD` date (the epoch's day when unreadable, which no write stores).
pub fn parse_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, DATE_FORMAT).unwrap_or_default()
}

pub fn format_date(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// Minutes as hours, to the hundredth.
pub fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

/// Hours as whole minutes.
pub fn minutes(hours: f64) -> i64 {
    (hours * 60.0).round() as i64
}

/// The latest day that is today somewhere (UTC+14): a worklog or cost dated later is in
/// the future for everyone.
pub fn latest_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(14)).date_naive()
}

// ---------------------------------------------------------------- projects

/// A user on a project's team.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamMember {
    pub user_id: i64,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    pub manager_id: i64,
    /// The manager's username.
    pub manager: String,
    /// The team, by username (the manager is on it only when added).
    pub team: Vec<TeamMember>,
    pub budget_minor: i64,
    /// The sum of the costs booked.
    pub cost_minor: i64,
    /// Budget less costs; negative when over budget.
    pub budget_remaining_minor: i64,
    /// The estimates of its tasks that are not cancelled.
    pub estimated_hours: f64,
    /// The hours logged on its tasks.
    pub actual_hours: f64,
    /// Done tasks' estimates over the estimates of the tasks not cancelled (by count when
    /// no task has an estimate; 0 without tasks), 0 to 100.
    pub completion_percent: f64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    pub description: Option<String>,
    /// planning (default), active, on-hold, completed or cancelled.
    pub status: Option<String>,
    /// medium (default), low, high or critical.
    pub priority: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// You when absent; an active user.
    pub manager_id: Option<i64>,
    /// 0 when absent.
    pub budget_minor: Option<i64>,
}

/// The editable fields of a project, as stored or as a change leaves them.
#[derive(Debug, Clone)]
pub struct ProjectFields {
    pub name: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub manager_id: i64,
    pub budget_minor: i64,
}

impl ProjectFields {
    /// Normalises and checks every field; 422 naming each one at fault.
    pub fn check(&mut self) -> ApiResult<()> {
        let mut v = Validator::new();
        self.name = self.name.trim().to_string();
        v.text("name", &self.name, 1, 200);
        self.description = self.description.trim().to_string();
        v.opt_text("description", Some(&self.description), 10_000);
        v.choice("status", &mut self.status, &PROJECT_STATUSES);
        v.choice("priority", &mut self.priority, &PRIORITIES);
        v.check(
            self.end_date >= self.start_date,
            "end_date",
            "must not be before start_date",
        );
        v.check(
            (0..=MAX_BUDGET_MINOR).contains(&self.budget_minor),
            "budget_minor",
            format!("must be between 0 and {MAX_BUDGET_MINOR}"),
        );
        v.finish()
    }
}

impl NewProject {
    /// The fields of the new project, checked; `me` manages it unless told otherwise.
    pub fn fields(self, me: i64) -> ApiResult<ProjectFields> {
        let mut f = ProjectFields {
            name: self.name,
            description: clean(self.description).unwrap_or_default(),
            status: self.status.unwrap_or_else(|| "planning".into()),
            priority: self.priority.unwrap_or_else(|| "medium".into()),
            start_date: self.start_date,
            end_date: self.end_date,
            manager_id: self.manager_id.unwrap_or(me),
            budget_minor: self.budget_minor.unwrap_or(0),
        };
        f.check()?;
        Ok(f)
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<NaiveDate>,
    pub manager_id: Option<i64>,
    pub budget_minor: Option<i64>,
}

impl UpdateProject {
    /// Applies the carried fields to `f` and checks the result.
    pub fn apply(self, f: &mut ProjectFields) -> ApiResult<()> {
        patch(&mut f.name, self.name);
        patch(&mut f.description, self.description);
        patch(&mut f.status, self.status);
        patch(&mut f.priority, self.priority);
        patch(&mut f.start_date, self.start_date);
        patch(&mut f.end_date, self.end_date);
        patch(&mut f.manager_id, self.manager_id);
        patch(&mut f.budget_minor, self.budget_minor);
        f.check()
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// One priority or several, comma-separated.
    pub priority: Option<String>,
    pub manager_id: Option<i64>,
    /// Projects this user is on the team of.
    pub member_id: Option<i64>,
    /// Part of the name, any case.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub user_id: i64,
}

// ---------------------------------------------------------------- costs

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostOut {
    pub id: i64,
    pub project_id: i64,
    pub amount_minor: i64,
    pub description: String,
    #[schema(value_type = String, format = Date)]
    pub booked_on: NaiveDate,
    pub booked_by_id: Option<i64>,
    pub booked_by: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCost {
    /// More than 0, in minor units.
    pub amount_minor: i64,
    pub description: String,
    /// Today when absent; not in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub booked_on: Option<NaiveDate>,
}

impl NewCost {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        v.check(
            (1..=MAX_COST_MINOR).contains(&self.amount_minor),
            "amount_minor",
            format!("must be between 1 and {MAX_COST_MINOR}"),
        );
        self.description = self.description.trim().to_string();
        v.text("description", &self.description, 1, 200);
        let on = *self.booked_on.get_or_insert_with(nexus_core::plant::today);
        v.check(
            on <= latest_today(),
            "booked_on",
            "must not be in the future",
        );
        v.finish()?;
        Ok(self)
    }
}

// ---------------------------------------------------------------- tasks

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    /// The assignee's username.
    pub assignee: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    pub estimated_hours: f64,
    /// The sum of its worklog.
    pub actual_hours: f64,
    pub tags: Vec<TagRef>,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// A task pushed later because a task it follows moved or a dependency was added.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovedTask {
    pub id: i64,
    pub title: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
}

/// A task as a change left it, with the tasks that change pushed later.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskChanged {
    #[serde(flatten)]
    pub task: TaskOut,
    /// The followers pushed later, in the order they were moved.
    pub moved: Vec<MovedTask>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    /// todo (default), in-progress, blocked, done or cancelled.
    pub status: Option<String>,
    /// medium (default), low, high or critical.
    pub priority: Option<String>,
    /// On the project's team or its manager; none leaves it unassigned.
    pub assignee_id: Option<i64>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    /// `start_date` when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// 0 when absent.
    pub estimated_hours: Option<f64>,
    #[serde(default)]
    pub tag_ids: Vec<i64>,
}

/// The editable fields of a task, as stored or as a change leaves them.
#[derive(Debug, Clone)]
pub struct TaskFields {
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub start_date: NaiveDate,
    pub due_date: NaiveDate,
    pub estimated_hours: f64,
}

impl TaskFields {
    /// Normalises and checks every field; 422 naming each one at fault.
    pub fn check(&mut self, tag_ids: Option<&mut Vec<i64>>) -> ApiResult<()> {
        let mut v = Validator::new();
        self.title = self.title.trim().to_string();
        v.text("title", &self.title, 1, 200);
        self.description = self.description.trim().to_string();
        v.opt_text("description", Some(&self.description), 10_000);
        v.choice("status", &mut self.status, &TASK_STATUSES);
        v.choice("priority", &mut self.priority, &PRIORITIES);
        v.check(
            self.due_date >= self.start_date,
            "due_date",
            "must not be before start_date",
        );
        v.check(
            self.estimated_hours.is_finite()
                && (0.0..=MAX_ESTIMATE_HOURS).contains(&self.estimated_hours),
            "estimated_hours",
            format!("must be between 0 and {MAX_ESTIMATE_HOURS}"),
        );
        if let Some(ids) = tag_ids {
            v.check(
                ids.len() <= MAX_TAGS,
                "tag_ids",
                format!("at most {MAX_TAGS} tags"),
            );
            ids.sort_unstable();
            ids.dedup();
        }
        v.finish()
    }
}

impl NewTask {
    /// The fields of the new task, checked, and its tags.
    pub fn fields(self) -> ApiResult<(TaskFields, Vec<i64>)> {
        let mut f = TaskFields {
            title: self.title,
            description: clean(self.description).unwrap_or_default(),
            status: self.status.unwrap_or_else(|| "todo".into()),
            priority: self.priority.unwrap_or_else(|| "medium".into()),
            assignee_id: self.assignee_id,
            start_date: self.start_date,
            due_date: self.due_date.unwrap_or(self.start_date),
            estimated_hours: self.estimated_hours.unwrap_or(0.0),
        };
        let mut tags = self.tag_ids;
        f.check(Some(&mut tags))?;
        Ok((f, tags))
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    /// `null` unassigns it.
    #[serde(default, deserialize_with = "present")]
    pub assignee_id: Option<Option<i64>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    pub estimated_hours: Option<f64>,
    /// Replaces the tags.
    pub tag_ids: Option<Vec<i64>>,
}

impl UpdateTask {
    /// Applies the carried fields to `f` and checks the result.
    pub fn apply(&mut self, f: &mut TaskFields) -> ApiResult<()> {
        patch(&mut f.title, self.title.take());
        patch(&mut f.description, self.description.take());
        patch(&mut f.status, self.status.take());
        patch(&mut f.priority, self.priority.take());
        patch(&mut f.assignee_id, self.assignee_id.take());
        patch(&mut f.start_date, self.start_date);
        patch(&mut f.due_date, self.due_date);
        patch(&mut f.estimated_hours, self.estimated_hours);
        f.check(self.tag_ids.as_mut())
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// One priority or several, comma-separated.
    pub priority: Option<String>,
    pub assignee_id: Option<i64>,
    pub tag_id: Option<i64>,
    /// Due on or after this day.
    #[param(value_type = Option<String>, format = Date)]
    pub due_from: Option<NaiveDate>,
    /// Due on or before this day.
    #[param(value_type = Option<String>, format = Date)]
    pub due_to: Option<NaiveDate>,
}

// ---------------------------------------------------------------- worklogs

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorklogOut {
    pub id: i64,
    pub task_id: i64,
    pub user_id: i64,
    pub username: String,
    #[schema(value_type = String, format = Date)]
    pub worked_on: NaiveDate,
    pub hours: f64,
    pub note: String,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorklog {
    /// More than 0, at most 24.
    pub hours: f64,
    /// Today when absent; not in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub worked_on: Option<NaiveDate>,
    pub note: Option<String>,
    /// Who worked: you when absent; someone else only for the project's manager.
    pub user_id: Option<i64>,
}

impl NewWorklog {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        v.check(
            self.hours.is_finite() && self.hours > 0.0 && self.hours <= MAX_WORKLOG_HOURS,
            "hours",
            "must be more than 0 and at most 24",
        );
        if self.hours > 0.0 {
            v.check(
                minutes(self.hours) > 0,
                "hours",
                "must be a minute at least",
            );
        }
        let on = *self.worked_on.get_or_insert_with(nexus_core::plant::today);
        v.check(
            on <= latest_today(),
            "worked_on",
            "must not be in the future",
        );
        self.note = clean(self.note.take());
        v.opt_text("note", self.note.as_deref(), 2000);
        v.finish()?;
        Ok(self)
    }
}

/// Estimated against logged hours of one task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskHours {
    pub task_id: i64,
    pub title: String,
    pub status: String,
    pub estimated_hours: f64,
    pub actual_hours: f64,
    /// Actual less estimated: positive when over.
    pub variance_hours: f64,
}

/// Estimated hours of the tasks assigned to one person against the hours they logged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonHours {
    pub user_id: i64,
    pub username: String,
    pub estimated_hours: f64,
    pub actual_hours: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoursReport {
    pub project_id: i64,
    pub estimated_hours: f64,
    pub actual_hours: f64,
    pub variance_hours: f64,
    pub tasks: Vec<TaskHours>,
    pub people: Vec<PersonHours>,
}

// ---------------------------------------------------------------- dependencies

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyOut {
    pub id: i64,
    pub project_id: i64,
    pub predecessor_id: i64,
    /// The predecessor's title.
    pub predecessor: String,
    pub successor_id: i64,
    pub successor: String,
    pub kind: String,
    pub lag_days: i32,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
}

/// A new dependency, with the tasks it pushed later.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyCreated {
    #[serde(flatten)]
    pub dependency: DependencyOut,
    pub moved: Vec<MovedTask>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDependency {
    pub predecessor_id: i64,
    pub successor_id: i64,
    /// finish-to-start (default), start-to-start, finish-to-finish or start-to-finish.
    pub kind: Option<String>,
    /// Days between the two (negative for a lead), -365 to 365; 0 when absent.
    pub lag_days: Option<i32>,
}

impl NewDependency {
    pub fn validate(mut self) -> ApiResult<Self> {
        let mut v = Validator::new();
        let kind = self.kind.get_or_insert_with(|| "finish-to-start".into());
        v.choice("kind", kind, &DEPENDENCY_KINDS);
        let lag = *self.lag_days.get_or_insert(0);
        v.check(
            (-MAX_LAG_DAYS..=MAX_LAG_DAYS).contains(&lag),
            "lag_days",
            format!("must be between -{MAX_LAG_DAYS} and {MAX_LAG_DAYS}"),
        );
        v.check(
            self.predecessor_id != self.successor_id,
            "successor_id",
            "a task cannot depend on itself",
        );
        v.finish()?;
        Ok(self)
    }
}

// ---------------------------------------------------------------- schedule

/// A task as the critical path method places it. Finishes are the last day worked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduledTask {
    pub id: i64,
    pub title: String,
    pub status: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    pub duration_days: i64,
    #[schema(value_type = String, format = Date)]
    pub early_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub early_finish: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub late_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub late_finish: NaiveDate,
    /// Days it may slip without delaying the project's finish.
    pub total_float_days: i64,
    pub critical: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleOut {
    pub project_id: i64,
    /// The earliest start of its tasks; none without tasks.
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    /// The latest early finish of its tasks.
    #[schema(value_type = Option<String>, format = Date)]
    pub finish_date: Option<NaiveDate>,
    /// By start, then id.
    pub tasks: Vec<ScheduledTask>,
    /// The critical tasks in the order they are worked (early start, then finish, then id).
    pub critical_path: Vec<i64>,
}
