//! Activity pages: the list with filters, the plan and edit forms (recurring series
//! included), one activity with its timeline and quick status buttons, and deleting.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeDelta};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, Halt, OrPage, Page, Posted, Shell, Web, done_message, filled, instant,
    paged_link, query_string, render,
};
use nexus_core::{ApiError, ApiResult, AppState, FieldError, IfMatch, PageParams, Validator};
use serde::Deserialize;

use super::{Chip, Choices, READ, WRITE, chips, local, priority_word, span, status_word, when};
use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work/activities", get(list).post(create))
        .route("/work/activities/new", get(new_form))
        .route("/work/activities/{id}", get(show))
        .route("/work/activities/{id}/edit", get(edit_form).post(update))
        .route("/work/activities/{id}/status", post(set_status))
        .route("/work/activities/{id}/delete", post(delete))
}

/// Rows on a list page.
const PAGE_ROWS: u64 = 50;

/// This area's `?done=...` messages, before the common ones.
const DONE: &[(&str, &str)] = &[
    ("created", "Activity planned."),
    ("series", "Activity planned, with its repeats ahead."),
    ("saved", "Activity saved."),
    ("status", "Status changed."),
    ("deleted", "Activity deleted."),
];

/// Statuses one may set (overdue comes by itself).
const SETTABLE: [&str; 4] = ["planned", "in-progress", "completed", "cancelled"];

/// (code, word) pairs for a select.
fn options(codes: &[&str], word: fn(&str) -> &'static str) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), word(c).to_string()))
        .collect()
}

fn type_options() -> Vec<(String, String)> {
    ACTIVITY_TYPES
        .iter()
        .map(|t| (t.to_string(), t.to_string()))
        .collect()
}

/// The API's field names as the forms name them, and messages that name fields in words.
fn for_form(err: ApiError) -> ApiError {
    let rename = |f: FieldError| {
        let field = match f.field.as_str() {
            "assigned_to_id" => "assignee",
            "tag_ids" => "tags",
            "recurrence.every" => "every",
            "recurrence.unit" => "unit",
            "recurrence.until" => "until",
            other => other,
        }
        .to_string();
        let message = f
            .message
            .replace("start_time", "the start")
            .replace("end_time", "the end");
        FieldError::new(field, message)
    };
    match err {
        ApiError::Validation(fields) => {
            ApiError::Validation(fields.into_iter().map(rename).collect())
        }
        other => other,
    }
}

/// Takes the field errors of `result` into `v`, so a form reports all its errors at once.
fn absorb<T>(v: &mut Validator, result: ApiResult<T>) -> ApiResult<Option<T>> {
    match result {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            let fields = e.field_errors();
            if fields.is_empty() || matches!(e, ApiError::Conflict { .. }) {
                return Err(e);
            }
            for f in fields {
                v.add(&f.field, f.message);
            }
            Ok(None)
        }
    }
}

/// A date typed into `field`; empty is `None`.
fn date(v: &mut Validator, field: &str, text: &str) -> Option<NaiveDate> {
    let d = filled(text).map(|t| t.parse::<NaiveDate>());
    v.check(
        !matches!(d, Some(Err(_))),
        field,
        "must be a date like 2026-01-31",
    );
    d.and_then(Result::ok)
}

// ---------------------------------------------------------------- the list

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListForm {
    q: String,
    status: String,
    #[serde(rename = "type")]
    kind: String,
    priority: String,
    /// A person typed by name.
    assignee: String,
    /// A tag's id, chosen by its name.
    tag: String,
    /// Starting on or after this day.
    from: String,
    /// Starting on or before this day.
    to: String,
    offset: String,
    done: String,
}

impl ListForm {
    fn offset(&self) -> u64 {
        self.offset.trim().parse().unwrap_or(0)
    }

    /// The service's filter; 422 naming the field typed wrongly.
    async fn filter(&self, web: &Web) -> ApiResult<ActivityFilter> {
        let mut v = Validator::new();
        let assignee = match filled(&self.assignee) {
            Some(name) => absorb(
                &mut v,
                super::person(&web.state.db, "assignee", &name).await,
            )?,
            None => None,
        };
        let tag = absorb(
            &mut v,
            nexus_core::pages::chosen_id("tag", &self.tag, "tag"),
        )?
        .flatten();
        let from = date(&mut v, "from", &self.from);
        let to = date(&mut v, "to", &self.to);
        let one = |field: &str, value: &str, allowed: &[&'static str], v: &mut Validator| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            v.check(allowed.contains(&value), field, "choose one from the list");
            Some(value.to_string())
        };
        let status = one("status", &self.status, &ACTIVITY_STATUSES, &mut v);
        let kind = one("type", &self.kind, &ACTIVITY_TYPES, &mut v);
        let priority = one("priority", &self.priority, &ACTIVITY_PRIORITIES, &mut v);
        v.finish()?;
        // Days at the plant, in its time zone.
        let plant = nexus_core::plant::current();
        let midnight = |d: NaiveDate| plant.day_start(d);
        Ok(ActivityFilter {
            // A comma would read as several values.
            activity_type: kind.map(|k| k.replace(',', "")),
            status,
            priority,
            assigned_to_id: assignee,
            tag_id: tag,
            start_from: from.map(midnight),
            start_to: to.map(|d| midnight(d + TimeDelta::days(1))),
            q: filled(&self.q),
            ..ActivityFilter::default()
        })
    }

    /// The list's address at another offset, keeping the filters.
    fn at(&self, offset: u64) -> String {
        paged_link(
            "/work/activities",
            &[
                ("q", &self.q),
                ("status", &self.status),
                ("type", &self.kind),
                ("priority", &self.priority),
                ("assignee", &self.assignee),
                ("tag", &self.tag),
                ("from", &self.from),
                ("to", &self.to),
            ],
            offset,
        )
    }
}

/// The CSV export of the activities `f` matches.
fn export_link(f: &ActivityFilter) -> String {
    let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
    let t = |v: Option<nexus_core::Timestamp>| v.map(|t| t.to_rfc3339()).unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "/api/v1/activities/export?{}",
        query_string(&[
            ("q", &text(&f.q)),
            ("status", &text(&f.status)),
            ("type", &text(&f.activity_type)),
            ("priority", &text(&f.priority)),
            ("assigned_to_id", &id(f.assigned_to_id)),
            ("tag_id", &id(f.tag_id)),
            ("start_from", &t(f.start_from)),
            ("start_to", &t(f.start_to)),
        ])
    )
}

/// An activity as a row.
pub(super) struct Row {
    pub a: ActivityOut,
    pub chips: Vec<Chip>,
}

pub(super) fn rows(items: Vec<ActivityOut>) -> Vec<Row> {
    items
        .into_iter()
        .map(|a| Row {
            chips: chips(&a.tags),
            a,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ListPage {
    shell: Shell,
    form: ListForm,
    errors: Errors,
    rows: Vec<Row>,
    total: u64,
    /// False when the list stopped counting: "more than `total`".
    exact: bool,
    first: u64,
    last: u64,
    prev: Option<String>,
    next: Option<String>,
    export: String,
    can_write: bool,
    statuses: Vec<(String, String)>,
    types: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    people: Choices,
}

impl ListPage {
    fn status_word(&self, s: &str) -> &'static str {
        status_word(s)
    }

    fn priority_word(&self, p: &str) -> &'static str {
        priority_word(p)
    }

    fn span(&self, a: &ActivityOut) -> String {
        span(&a.start_time, &a.end_time)
    }
}

pub(super) async fn tag_options(web: &Web) -> Result<Vec<(String, String)>, Halt> {
    Ok(
        service::list_tags(web.state.db.read(), &TagFilter::default())
            .await
            .or_page(web)?
            .items
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
    )
}

async fn list(web: Web, Query(form): Query<ListForm>) -> Page {
    web.require(READ)?;
    let shell = web.shell_done("Activities", done_message(&form.done, DONE));
    let offset = form.offset();
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: Some(offset),
        sort: None,
    };
    let found = match form.filter(&web).await {
        Ok(f) => service::list_activities(web.state.db.read(), &web.user, &f, &page)
            .await
            .map(|list| (list, export_link(&f))),
        Err(e) => Err(e),
    };
    let (shell, status, items, (total, exact), export, errors) = match found {
        Ok((list, export)) => (
            shell,
            StatusCode::OK,
            list.items,
            (list.total, list.total_exact),
            export,
            Errors::default(),
        ),
        Err(err) => {
            let r = web
                .refused("Activities", for_form(err))?
                .saying("The filter was not applied");
            (
                r.shell,
                r.status,
                Vec::new(),
                (0, true),
                export_link(&ActivityFilter::default()),
                r.errors,
            )
        }
    };
    let shown = items.len() as u64;
    let prev = (offset > 0).then(|| form.at(offset.saturating_sub(PAGE_ROWS)));
    let next = (offset + PAGE_ROWS < total).then(|| form.at(offset + PAGE_ROWS));
    let page = ListPage {
        shell,
        rows: rows(items),
        total,
        exact,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        prev,
        next,
        export,
        errors,
        can_write: web.user.can(WRITE),
        statuses: options(&ACTIVITY_STATUSES, status_word),
        types: type_options(),
        priorities: options(&ACTIVITY_PRIORITIES, priority_word),
        tags: tag_options(&web).await?,
        people: super::choices(&web.state.db, &form.assignee)
            .await
            .or_page(&web)?,
        form,
    };
    Ok(render(status, &page))
}

// ---------------------------------------------------------------- plan and edit

/// The fields of the plan and the edit form, as typed. Tags repeat the `tags` name, which
/// a struct cannot take through `Posted`, so the form is read from its pairs.
#[derive(Default, Clone)]
struct ActivityForm {
    /// The version edited (edit form only).
    version: i32,
    title: String,
    description: String,
    kind: String,
    status: String,
    priority: String,
    start_time: String,
    end_time: String,
    /// The assignee typed by name.
    assignee: String,
    /// The ids of the tags ticked.
    tags: Vec<String>,
    /// none, daily, weekly, monthly or every (with `every` and `unit`).
    repeat: String,
    every: String,
    unit: String,
    until: String,
    /// this or following (edit of an occurrence).
    scope: String,
    /// Kept with a status change.
    note: String,
    /// Kept with a priority change.
    reason: String,
}

impl ActivityForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "version" => form.version = value.trim().parse().unwrap_or_default(),
                "title" => form.title = value,
                "description" => form.description = value,
                "type" => form.kind = value,
                "status" => form.status = value,
                "priority" => form.priority = value,
                "start_time" => form.start_time = value,
                "end_time" => form.end_time = value,
                "assignee" => form.assignee = value,
                "tags" => form.tags.push(value),
                "repeat" => form.repeat = value,
                "every" => form.every = value,
                "unit" => form.unit = value,
                "until" => form.until = value,
                "scope" => form.scope = value,
                "note" => form.note = value,
                "reason" => form.reason = value,
                _ => {}
            }
        }
        form
    }

    fn of(a: &ActivityOut) -> Self {
        Self {
            version: a.version,
            title: a.title.clone(),
            description: a.description.clone(),
            kind: a.activity_type.clone(),
            status: a.status.clone(),
            priority: a.priority.clone(),
            start_time: local(&a.start_time),
            end_time: local(&a.end_time),
            assignee: a.assigned_to.clone(),
            tags: a.tags.iter().map(|t| t.id.to_string()).collect(),
            repeat: "none".into(),
            every: "2".into(),
            unit: "days".into(),
            scope: "this".into(),
            ..Self::default()
        }
    }

    fn has_tag(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.tags.contains(&id)
    }

    fn time(v: &mut Validator, field: &str, text: &str) -> Option<nexus_core::Timestamp> {
        match instant(text) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                v.add(field, "is required");
                None
            }
            Err(_) => {
                v.add(field, "must be a date and time like 2026-01-31 14:00");
                None
            }
        }
    }

    fn tag_ids(&self, v: &mut Validator) -> Vec<i64> {
        let ids: Vec<i64> = self.tags.iter().filter_map(|t| t.parse().ok()).collect();
        v.check(
            ids.len() == self.tags.len(),
            "tags",
            "choose tags from the list",
        );
        ids
    }

    fn recurrence(&self, v: &mut Validator) -> Option<Recurrence> {
        let (every, unit) = match self.repeat.as_str() {
            "" | "none" => return None,
            "daily" => (1, "days"),
            "weekly" => (1, "weeks"),
            "monthly" => (1, "months"),
            "every" => {
                let n = self.every.trim().parse::<i32>();
                v.check(n.is_ok(), "every", "must be a whole number, like 2");
                (n.unwrap_or(1), self.unit.as_str())
            }
            _ => {
                v.add("repeat", "choose how it repeats from the list");
                return None;
            }
        };
        Some(Recurrence {
            every,
            unit: unit.to_string(),
            until: date(v, "until", &self.until),
        })
    }

    /// The activity to plan; every error at once, named as the form names them.
    async fn new_request(&self, web: &Web) -> ApiResult<NewActivity> {
        let mut v = Validator::new();
        let start = Self::time(&mut v, "start_time", &self.start_time);
        let end = Self::time(&mut v, "end_time", &self.end_time);
        let assignee = match filled(&self.assignee) {
            None => Some(web.user.id()),
            Some(name) => absorb(
                &mut v,
                super::person(&web.state.db, "assignee", &name).await,
            )?,
        };
        let tag_ids = self.tag_ids(&mut v);
        let recurrence = self.recurrence(&mut v);
        let new = NewActivity {
            title: self.title.clone(),
            description: filled(&self.description),
            activity_type: self.kind.clone(),
            status: filled(&self.status),
            priority: filled(&self.priority),
            start_time: start.unwrap_or(nexus_core::Timestamp(0)),
            end_time: end.or(start).unwrap_or(nexus_core::Timestamp(0)),
            assigned_to_id: assignee,
            tag_ids,
            project_ids: Vec::new(),
            recurrence,
        };
        let checked = match new.clone().validate().map_err(for_form) {
            // Times not typed: their own errors say so, not a span error.
            Err(ApiError::Validation(fields)) if start.is_none() || end.is_none() => {
                let rest: Vec<FieldError> = fields
                    .into_iter()
                    .filter(|f| f.field != "end_time" && f.field != "until")
                    .collect();
                if rest.is_empty() {
                    Ok(new.clone())
                } else {
                    Err(ApiError::Validation(rest))
                }
            }
            other => other,
        };
        absorb(&mut v, checked)?;
        v.finish()?;
        Ok(new)
    }

    /// The change typed: every field replaces the stored one.
    async fn update_request(&self, web: &Web) -> ApiResult<UpdateActivity> {
        let mut v = Validator::new();
        let start = Self::time(&mut v, "start_time", &self.start_time);
        let end = Self::time(&mut v, "end_time", &self.end_time);
        let assignee = absorb(
            &mut v,
            super::person(&web.state.db, "assignee", &self.assignee).await,
        )?;
        let tag_ids = self.tag_ids(&mut v);
        v.finish()?;
        Ok(UpdateActivity {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            activity_type: Some(self.kind.clone()),
            status: Some(self.status.clone()),
            note: filled(&self.note),
            priority: Some(self.priority.clone()),
            reason: filled(&self.reason),
            start_time: start,
            end_time: end,
            assigned_to_id: assignee,
            tag_ids: Some(tag_ids),
            project_ids: None,
            scope: if self.scope == "following" {
                Scope::Following
            } else {
                Scope::This
            },
        })
    }
}

#[derive(Template)]
#[template(path = "activity_form.html")]
struct FormPage {
    shell: Shell,
    /// The activity edited; `None` on the plan form.
    activity: Option<ActivityOut>,
    form: ActivityForm,
    errors: Errors,
    types: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    tags: Vec<Chip>,
    people: Choices,
    /// The signed-in user's username, the assignee by default.
    me: String,
}

impl FormPage {
    fn assignee_help(&self) -> String {
        format!("A name or username; you are {}.", self.me)
    }

    fn in_series(&self) -> bool {
        self.activity
            .as_ref()
            .is_some_and(|a| a.series_id.is_some())
    }
}

async fn form_page(
    web: &Web,
    activity: Option<ActivityOut>,
    form: ActivityForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let db = web.state.db.read();
    let tags = service::list_tags(db, &TagFilter::default())
        .await
        .or_page(web)?
        .items
        .iter()
        .map(|t| super::chip(t.id, &t.name, &t.color))
        .collect();
    let mut statuses = options(&SETTABLE, status_word);
    if activity.as_ref().is_some_and(|a| a.status == "overdue") {
        statuses.push(("overdue".into(), "Overdue (set by Nexus)".into()));
    }
    let page = FormPage {
        people: super::choices(&web.state.db, &form.assignee)
            .await
            .or_page(web)?,
        me: web.user.principal.username.clone(),
        types: type_options(),
        statuses,
        priorities: options(&ACTIVITY_PRIORITIES, priority_word),
        tags,
        shell,
        activity,
        form,
        errors,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Prefill {
    /// A day (`2026-01-31`) to plan on, from the calendar.
    day: String,
}

async fn new_form(web: Web, Query(q): Query<Prefill>) -> Page {
    web.require(WRITE)?;
    let day = q
        .day
        .parse::<NaiveDate>()
        .unwrap_or_else(|_| nexus_core::plant::today() + TimeDelta::days(1));
    let form = ActivityForm {
        kind: ACTIVITY_TYPES[0].into(),
        status: "planned".into(),
        priority: "medium".into(),
        start_time: format!("{day}T08:00"),
        end_time: format!("{day}T09:00"),
        assignee: web.user.principal.username.clone(),
        repeat: "none".into(),
        every: "2".into(),
        unit: "days".into(),
        ..ActivityForm::default()
    };
    let shell = web.shell("Plan an activity");
    form_page(&web, None, form, shell, Errors::default(), StatusCode::OK).await
}

async fn create(web: Web, Posted(pairs): Posted<Vec<(String, String)>>) -> Page {
    web.require(WRITE)?;
    let form = ActivityForm::from_pairs(pairs);
    let created = match form.new_request(&web).await {
        Ok(req) => service::create_activity(&web.state, &web.audit(), &web.user, req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(out) => {
            let id = out.activity.id;
            let done = if out.recurrence.is_some() {
                "series"
            } else {
                "created"
            };
            Ok(Redirect::to(&format!("/work/activities/{id}?done={done}")).into_response())
        }
        Err(err) => {
            let r = web
                .refused("Plan an activity", for_form(err))?
                .saying("The activity was not planned");
            form_page(&web, None, form, r.shell, r.errors, r.status).await
        }
    }
}

async fn edit_form(web: Web, Path(id): Path<i64>) -> Page {
    web.require(WRITE)?;
    let a = service::get_activity(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?
        .activity;
    let form = ActivityForm::of(&a);
    let shell = web.shell(&format!("Edit {}", a.title));
    form_page(
        &web,
        Some(a),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update(
    web: Web,
    Path(id): Path<i64>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Page {
    web.require(WRITE)?;
    let form = ActivityForm::from_pairs(pairs);
    let a = service::get_activity(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?
        .activity;
    let title = format!("Edit {}", a.title);
    let changed = match form.update_request(&web).await {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::update_activity(&web.state, &web.audit(), &web.user, id, version, req).await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/work/activities/{id}?done=saved")).into_response()),
        Err(err) => {
            let r = web
                .refused(&title, for_form(err))?
                .saying("The activity was not changed");
            let form = r.keeping(form, || ActivityForm::of(&a));
            form_page(&web, Some(a), form, r.shell, r.errors, r.status).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    version: i32,
    scope: String,
}

async fn delete(web: Web, Path(id): Path<i64>, Posted(form): Posted<DeleteForm>) -> Page {
    web.require(WRITE)?;
    let scope = if form.scope == "following" {
        Scope::Following
    } else {
        Scope::This
    };
    let deleted = service::delete_activity(
        &web.state,
        &web.audit(),
        &web.user,
        id,
        IfMatch(Some(form.version)),
        scope,
    )
    .await;
    match deleted {
        Ok(()) => Ok(Redirect::to("/work/activities?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("Activity", err)?;
            activity_page(&web, id, r.shell, r.status, StatusForm::default(), r.errors).await
        }
    }
}

// ---------------------------------------------------------------- the activity page

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusForm {
    version: i32,
    status: String,
    note: String,
}

/// A quick status button: the status it sets and what it says.
struct Move {
    to: &'static str,
    label: &'static str,
    primary: bool,
}

/// One entry of the timeline, in words.
struct Entry {
    what: String,
    who: String,
    at: String,
    note: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    shell: Shell,
    a: ActivityOut,
    chips: Vec<Chip>,
    projects: Vec<ProjectRef>,
    repeats: Option<String>,
    timeline: Vec<Entry>,
    moves: Vec<Move>,
    can_change: bool,
    /// A refused status change, to send again.
    status_form: StatusForm,
    errors: Errors,
}

impl ActivityPage {
    fn status_word(&self, s: &str) -> &'static str {
        status_word(s)
    }

    fn priority_word(&self, p: &str) -> &'static str {
        priority_word(p)
    }

    fn when(&self, t: &nexus_core::Timestamp) -> String {
        when(t)
    }
}

/// Whether `user` may change `a` (the service decides; this only offers the buttons).
fn may_change(web: &Web, a: &ActivityOut) -> bool {
    web.user.can(WRITE)
        && (a.created_by_id == web.user.id()
            || a.assigned_to_id == web.user.id()
            || web.user.can(ACTIVITIES_MANAGE))
}

fn moves(status: &str) -> Vec<Move> {
    let mut out = Vec::new();
    if matches!(status, "planned" | "overdue") {
        out.push(Move {
            to: "in-progress",
            label: "Start",
            primary: true,
        });
    }
    if LATE_WHILE.contains(&status) || status == "overdue" {
        out.push(Move {
            to: "completed",
            label: "Complete",
            primary: status == "in-progress",
        });
        out.push(Move {
            to: "cancelled",
            label: "Cancel",
            primary: false,
        });
    }
    if matches!(status, "completed" | "cancelled") {
        out.push(Move {
            to: "planned",
            label: "Reopen",
            primary: false,
        });
    }
    out
}

async fn activity_page(
    web: &Web,
    id: i64,
    shell: Shell,
    status: StatusCode,
    status_form: StatusForm,
    errors: Errors,
) -> Page {
    let d = service::get_activity(web.state.db.read(), &web.user, id)
        .await
        .or_page(web)?;
    let timeline = d
        .history
        .iter()
        .map(|h| Entry {
            what: if h.kind == "status" {
                format!("Status: {}", status_word(&h.value))
            } else {
                format!("Priority: {}", priority_word(&h.value))
            },
            who: h
                .changed_by
                .clone()
                .unwrap_or_else(|| "Nexus (automatic)".into()),
            at: when(&h.changed_at),
            note: h.note.clone(),
        })
        .collect();
    let page = ActivityPage {
        chips: chips(&d.activity.tags),
        can_change: may_change(web, &d.activity),
        moves: moves(&d.activity.status),
        repeats: d.recurrence.as_ref().map(super::recurrence_words),
        projects: d.projects,
        timeline,
        a: d.activity,
        shell,
        status_form,
        errors,
    };
    Ok(render(status, &page))
}

async fn show(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    web.require(READ)?;
    let shell = web.shell_done("Activity", done_message(&done.done, DONE));
    activity_page(
        &web,
        id,
        shell,
        StatusCode::OK,
        StatusForm::default(),
        Errors::default(),
    )
    .await
}

async fn set_status(web: Web, Path(id): Path<i64>, Posted(form): Posted<StatusForm>) -> Page {
    web.require(WRITE)?;
    let req = UpdateActivity {
        status: Some(form.status.clone()),
        note: filled(&form.note),
        ..UpdateActivity::default()
    };
    let version = IfMatch(Some(form.version));
    match service::update_activity(&web.state, &web.audit(), &web.user, id, version, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/work/activities/{id}?done=status")).into_response()),
        Err(err) => {
            let r = web
                .refused("Activity", err)?
                .saying("The status was not changed");
            let kept = r.keeping(form, StatusForm::default);
            activity_page(&web, id, r.shell, r.status, kept, r.errors).await
        }
    }
}
