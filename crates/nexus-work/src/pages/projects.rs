//! Project pages: the list with filters, the new and edit forms, the project page (team,
//! costs, hours, tasks, dependencies, Gantt chart) with its forms, the task board and the
//! schedule. Handlers parse the form, call the same services as the JSON API and render.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeDelta};
use nexus_core::extract::Path;
use nexus_core::pages::{
    CsrfForm, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, done_message, filled,
    paged_link, render,
};
use nexus_core::{ApiError, ApiResult, AppState, IfMatch, PageParams, Validator};
use serde::Deserialize;

use super::project_forms::{
    READ, WRITE, after_moves, day, days, flash, for_form, hours_text, kind_parts, kind_word,
    may_manage, may_work, minor_units, money, moved_ids, moved_sentence, options,
    project_status_word, required_date, task_status_word,
};
use super::{Chip, Choices, chips, priority_word};
use crate::model::*;
use crate::service;
use nexus_core::pages::{absorb, typed_date, typed_decimal, typed_whole};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work/projects", get(list).post(create))
        .route("/work/projects/new", get(new_form))
        .route("/work/projects/{id}", get(show))
        .route("/work/projects/{id}/edit", get(edit_form).post(update))
        .route("/work/projects/{id}/delete", post(delete))
        .route("/work/projects/{id}/team", post(add_member))
        .route(
            "/work/projects/{id}/team/{user_id}/remove",
            post(remove_member),
        )
        .route("/work/projects/{id}/costs", post(add_cost))
        .route("/work/projects/{id}/tasks", post(create_task))
        .route("/work/projects/{id}/dependencies", post(add_dependency))
        .route(
            "/work/projects/{id}/dependencies/{dependency_id}/delete",
            post(remove_dependency),
        )
        .route("/work/projects/{id}/board", get(board))
        .route("/work/projects/{id}/schedule", get(schedule))
}

/// Rows on the list page.
const PAGE_ROWS: u64 = 50;

/// The events that change what a project page shows.
pub(crate) const LIVE: &str = "project.updated project.deleted task.created task.updated \
task.deleted task_dependency.created task_dependency.deleted worklog.created worklog.deleted \
project_cost.created";

/// This area's `?done=...` messages.
pub(crate) const DONE: &[(&str, &str)] = &[
    ("created", "Project created."),
    ("saved", "Project saved."),
    ("deleted", "Project deleted."),
    ("member", "Added to the team."),
    ("member-removed", "Taken off the team."),
    ("cost", "Cost booked."),
    ("task", "Task added."),
    ("task-deleted", "Task deleted."),
    ("moved", "Task moved."),
    ("dependency", "Dependency added."),
    ("dependency-removed", "Dependency removed."),
];

/// The form field names of the API's, per form.
const COST_FIELDS: &[(&str, &str)] = &[("description", "cost_description")];
const MEMBER_FIELDS: &[(&str, &str)] = &[("user_id", "member")];
const TASK_FIELDS: &[(&str, &str)] = &[];

/// The percentage as a whole number for a bar's width, 0 to 100.
fn bar(percent: &f64) -> i64 {
    percent.clamp(0.0, 100.0).round() as i64
}

/// How much of the budget the costs used, in words.
fn budget_used(p: &ProjectOut) -> String {
    if p.budget_minor <= 0 {
        return format!("{} spent, no budget", money(p.cost_minor));
    }
    let percent = (p.cost_minor as f64 * 100.0 / p.budget_minor as f64).round();
    format!(
        "{} of {} ({percent}%)",
        money(p.cost_minor),
        money(p.budget_minor)
    )
}

/// A filter's chosen value, checked against `allowed`; `None` when empty.
fn one_of(v: &mut Validator, field: &str, value: &str, allowed: &[&'static str]) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    v.check(allowed.contains(&value), field, "choose one from the list");
    Some(value.to_string())
}

// ---------------------------------------------------------------- the list

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListForm {
    q: String,
    status: String,
    priority: String,
    /// A manager typed by name.
    manager: String,
    offset: String,
    done: String,
}

impl ListForm {
    fn offset(&self) -> u64 {
        self.offset.trim().parse().unwrap_or(0)
    }

    async fn filter(&self, web: &Web) -> ApiResult<ProjectFilter> {
        let mut v = Validator::new();
        let manager = match filled(&self.manager) {
            Some(name) => absorb(&mut v, super::person(&web.state.db, "manager", &name).await)?,
            None => None,
        };
        let status = one_of(&mut v, "status", &self.status, &PROJECT_STATUSES);
        let priority = one_of(&mut v, "priority", &self.priority, &PRIORITIES);
        v.finish()?;
        Ok(ProjectFilter {
            status,
            priority,
            manager_id: manager,
            member_id: None,
            q: filled(&self.q),
        })
    }

    fn at(&self, offset: u64) -> String {
        paged_link(
            "/work/projects",
            &[
                ("q", &self.q),
                ("status", &self.status),
                ("priority", &self.priority),
                ("manager", &self.manager),
            ],
            offset,
        )
    }
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ListPage {
    shell: Shell,
    form: ListForm,
    errors: Errors,
    rows: Vec<ProjectOut>,
    total: u64,
    first: u64,
    last: u64,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    people: Choices,
}

async fn list(web: Web, Query(form): Query<ListForm>) -> Page {
    web.require(READ)?;
    let shell = web.shell_done("Projects", done_message(&form.done, DONE));
    let offset = form.offset();
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: Some(offset),
        sort: None,
    };
    let found = match form.filter(&web).await {
        Ok(f) => service::list_projects(web.state.db.read(), &web.user, &f, &page).await,
        Err(e) => Err(e),
    };
    let (shell, status, items, total, errors) = match found {
        Ok(list) => (
            shell,
            StatusCode::OK,
            list.items,
            list.total,
            Errors::default(),
        ),
        Err(err) => {
            let r = web
                .refused("Projects", for_form(err, &[]))?
                .saying("The filter was not applied");
            (r.shell, r.status, Vec::new(), 0, r.errors)
        }
    };
    let shown = items.len() as u64;
    let page = ListPage {
        shell,
        rows: items,
        total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        prev: (offset > 0).then(|| form.at(offset.saturating_sub(PAGE_ROWS))),
        next: (offset + PAGE_ROWS < total).then(|| form.at(offset + PAGE_ROWS)),
        errors,
        can_write: web.user.can(WRITE),
        statuses: options(&PROJECT_STATUSES, project_status_word),
        priorities: options(&PRIORITIES, priority_word),
        people: super::choices(&web.state.db, &form.manager)
            .await
            .or_page(&web)?,
        form,
    };
    Ok(render(status, &page))
}

// ---------------------------------------------------------------- new and edit

/// The project form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ProjectForm {
    version: i32,
    name: String,
    description: String,
    status: String,
    priority: String,
    start_date: String,
    end_date: String,
    /// The manager typed by name.
    manager: String,
    /// In currency units: `12,500.00`.
    budget: String,
}

/// What a project form says, parsed.
struct Parsed {
    start: NaiveDate,
    end: NaiveDate,
    manager: Option<i64>,
    budget: Option<i64>,
}

impl ProjectForm {
    fn of(p: &ProjectOut) -> Self {
        Self {
            version: p.version,
            name: p.name.clone(),
            description: p.description.clone(),
            status: p.status.clone(),
            priority: p.priority.clone(),
            start_date: p.start_date.to_string(),
            end_date: p.end_date.to_string(),
            manager: p.manager.clone(),
            budget: nexus_core::pages::amount(p.budget_minor),
        }
    }

    /// Parses the typed fields and checks the whole project, every error at once.
    async fn parse(&self, web: &Web, manager_required: bool) -> ApiResult<Parsed> {
        let mut v = Validator::new();
        let start = required_date(&mut v, "start_date", &self.start_date);
        let end = required_date(&mut v, "end_date", &self.end_date);
        let manager = if manager_required || filled(&self.manager).is_some() {
            absorb(
                &mut v,
                super::person(&web.state.db, "manager", &self.manager).await,
            )?
        } else {
            None
        };
        let budget = absorb(&mut v, minor_units("budget", &self.budget))?.flatten();
        let today = nexus_core::plant::today();
        let mut fields = ProjectFields {
            name: self.name.clone(),
            description: self.description.clone(),
            status: self.status.clone(),
            priority: self.priority.clone(),
            start_date: start.unwrap_or(today),
            end_date: end.or(start).unwrap_or(today),
            manager_id: 0,
            budget_minor: budget.unwrap_or(0),
        };
        absorb(&mut v, fields.check().map_err(|e| for_form(e, &[])))?;
        v.finish()?;
        Ok(Parsed {
            start: start.unwrap_or(today),
            end: end.unwrap_or(today),
            manager,
            budget,
        })
    }
}

#[derive(Template)]
#[template(path = "project_form.html")]
struct FormPage {
    shell: Shell,
    /// The project edited; `None` on the new form.
    project: Option<ProjectOut>,
    form: ProjectForm,
    errors: Errors,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    people: Choices,
}

async fn form_page(
    web: &Web,
    project: Option<ProjectOut>,
    form: ProjectForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let page = FormPage {
        people: super::choices(&web.state.db, &form.manager)
            .await
            .or_page(web)?,
        statuses: options(&PROJECT_STATUSES, project_status_word),
        priorities: options(&PRIORITIES, priority_word),
        shell,
        project,
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn new_form(web: Web) -> Page {
    web.require(WRITE)?;
    let today = nexus_core::plant::today();
    let form = ProjectForm {
        status: "planning".into(),
        priority: "medium".into(),
        start_date: today.to_string(),
        end_date: (today + TimeDelta::days(30)).to_string(),
        manager: web.user.principal.username.clone(),
        ..ProjectForm::default()
    };
    let shell = web.shell("New project");
    form_page(&web, None, form, shell, Errors::default(), StatusCode::OK).await
}

async fn create(web: Web, Posted(form): Posted<ProjectForm>) -> Page {
    web.require(WRITE)?;
    let created = match form.parse(&web, false).await {
        Ok(f) => {
            let req = NewProject {
                name: form.name.clone(),
                description: filled(&form.description),
                status: filled(&form.status),
                priority: filled(&form.priority),
                start_date: f.start,
                end_date: f.end,
                manager_id: f.manager,
                budget_minor: f.budget,
            };
            service::create_project(&web.state, &web.audit(), &web.user, req)
                .await
                .map_err(|e| for_form(e, &[]))
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(p) => Ok(Redirect::to(&format!("/work/projects/{}?done=created", p.id)).into_response()),
        Err(err) => {
            let r = web
                .refused("New project", err)?
                .saying("The project was not created");
            form_page(&web, None, form, r.shell, r.errors, r.status).await
        }
    }
}

async fn edit_form(web: Web, Path(id): Path<i64>) -> Page {
    web.require(WRITE)?;
    let p = service::get_project(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?;
    if !may_manage(&web.user, &p) {
        return Err(web.fail(ApiError::Forbidden(
            "only the project's manager or projects:manage may change the project".into(),
        )));
    }
    let form = ProjectForm::of(&p);
    let shell = web.shell(&format!("Edit {}", p.name));
    form_page(
        &web,
        Some(p),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update(web: Web, Path(id): Path<i64>, Posted(form): Posted<ProjectForm>) -> Page {
    web.require(WRITE)?;
    let p = service::get_project(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?;
    let title = format!("Edit {}", p.name);
    let changed = match form.parse(&web, true).await {
        Ok(f) => {
            let req = UpdateProject {
                name: Some(form.name.clone()),
                description: Some(form.description.clone()),
                status: Some(form.status.clone()),
                priority: Some(form.priority.clone()),
                start_date: Some(f.start),
                end_date: Some(f.end),
                manager_id: f.manager,
                budget_minor: Some(f.budget.unwrap_or(0)),
            };
            let version = IfMatch(Some(form.version));
            service::update_project(&web.state, &web.audit(), &web.user, id, version, req)
                .await
                .map_err(|e| for_form(e, &[]))
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/work/projects/{id}?done=saved")).into_response()),
        Err(err) => {
            let r = web
                .refused(&title, err)?
                .saying("The project was not changed");
            let form = r.keeping(form, || ProjectForm::of(&p));
            form_page(&web, Some(p), form, r.shell, r.errors, r.status).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VersionForm {
    version: i32,
}

async fn delete(web: Web, Path(id): Path<i64>, Posted(form): Posted<VersionForm>) -> Page {
    web.require(WRITE)?;
    let version = IfMatch(Some(form.version));
    match service::delete_project(&web.state, &web.audit(), &web.user, id, version).await {
        Ok(()) => Ok(Redirect::to("/work/projects?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("Edit project", err)?;
            let p = service::get_project(web.state.db.read(), &web.user, id)
                .await
                .or_page(&web)?;
            let stored = ProjectForm::of(&p);
            form_page(&web, Some(p), stored, r.shell, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- the project page

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ShowQuery {
    pub done: String,
    /// Tasks a change pushed later, by id.
    pub moved: String,
}

impl ShowQuery {
    /// The flash: the success message and the tasks moved, as they are now.
    pub(crate) async fn flash(&self, web: &Web) -> Option<String> {
        let mut moved = Vec::new();
        for id in moved_ids(&self.moved) {
            if let Ok(t) = service::get_task(web.state.db.read(), &web.user, id).await {
                moved.push(t);
            }
        }
        flash(done_message(&self.done, DONE), moved_sentence(&moved))
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct MemberForm {
    /// A person typed by name.
    member: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct CostForm {
    amount: String,
    cost_description: String,
    booked_on: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TaskForm {
    title: String,
    priority: String,
    /// A team member's id, chosen by name.
    assignee: String,
    start_date: String,
    due_date: String,
    estimated_hours: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct DependencyForm {
    /// Task ids, chosen by title.
    predecessor: String,
    successor: String,
    kind: String,
    lag_days: String,
}

/// The forms of the project page as typed (a refused one keeps its text).
#[derive(Default)]
struct Forms {
    member: MemberForm,
    cost: CostForm,
    task: TaskForm,
    dependency: DependencyForm,
}

impl Forms {
    fn fresh() -> Self {
        let today = nexus_core::plant::today().to_string();
        Self {
            task: TaskForm {
                priority: "medium".into(),
                start_date: today.clone(),
                due_date: today.clone(),
                ..TaskForm::default()
            },
            cost: CostForm {
                booked_on: today,
                ..CostForm::default()
            },
            dependency: DependencyForm {
                kind: "finish-to-start".into(),
                lag_days: "0".into(),
                ..DependencyForm::default()
            },
            ..Self::default()
        }
    }
}

/// A task as a row of the project page.
struct TaskRow {
    t: TaskOut,
    chips: Vec<Chip>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    shell: Shell,
    p: ProjectOut,
    can_manage: bool,
    can_work: bool,
    live: &'static str,
    hours: HoursReport,
    costs: Vec<CostOut>,
    cost_count: u64,
    /// The first linked activities, and how many there are.
    activities: Vec<ActivityOut>,
    activity_count: u64,
    tasks: Vec<TaskRow>,
    dependencies: Vec<DependencyOut>,
    gantt: String,
    forms: Forms,
    errors: Errors,
    /// A refused removal from the team: whom, and why.
    member_error: Option<(i64, String)>,
    people: Choices,
    /// The manager and the team: (id, username).
    assignees: Vec<(String, String)>,
    /// Every task: (id, title).
    task_choices: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
}

impl ProjectPage {
    fn member_error(&self, user_id: &i64) -> Option<&str> {
        match &self.member_error {
            Some((id, msg)) if id == user_id => Some(msg),
            _ => None,
        }
    }
}

/// The manager and team of `p` as (id, username) choices.
pub(crate) fn assignees(p: &ProjectOut) -> Vec<(String, String)> {
    let mut out = vec![(p.manager_id.to_string(), p.manager.clone())];
    for m in &p.team {
        if m.user_id != p.manager_id {
            out.push((m.user_id.to_string(), m.username.clone()));
        }
    }
    out
}

async fn project_page(
    web: &Web,
    id: i64,
    shell: Shell,
    status: StatusCode,
    forms: Forms,
    errors: Errors,
    member_error: Option<(i64, String)>,
) -> Page {
    let db = web.state.db.read();
    let user = &web.user;
    let p = service::get_project(db, user, id).await.or_page(web)?;
    let no_filter = &TaskFilter::default();
    let tasks =
        super::every(
            |page| async move { service::list_tasks(db, user, id, no_filter, &page).await },
        )
        .await
        .or_page(web)?;
    let hours = service::project_hours(db, user, id).await.or_page(web)?;
    let costs = super::every(|page| async move { service::list_costs(db, user, id, &page).await })
        .await
        .or_page(web)?;
    let dependencies = service::list_dependencies(db, user, id)
        .await
        .or_page(web)?
        .items;
    let activities = if user.can(super::READ) {
        let f = ActivityFilter {
            project_id: Some(id),
            ..ActivityFilter::default()
        };
        let page = PageParams {
            limit: Some(50),
            offset: None,
            sort: None,
        };
        service::list_activities(db, user, &f, &page)
            .await
            .or_page(web)?
    } else {
        nexus_core::ListResponse::all(Vec::new())
    };
    let gantt = service::project_gantt(db, user, id).await.or_page(web)?;
    let page = ProjectPage {
        can_manage: may_manage(user, &p),
        can_work: may_work(user, &p),
        live: LIVE,
        assignees: assignees(&p),
        task_choices: tasks
            .iter()
            .map(|t| (t.id.to_string(), t.title.clone()))
            .collect(),
        tasks: tasks
            .into_iter()
            .map(|t| TaskRow {
                chips: chips(&t.tags),
                t,
            })
            .collect(),
        people: super::choices(&web.state.db, &forms.member.member)
            .await
            .or_page(web)?,
        priorities: options(&PRIORITIES, priority_word),
        kinds: options(&DEPENDENCY_KINDS, kind_word),
        cost_count: costs.len() as u64,
        costs,
        hours,
        dependencies,
        activity_count: activities.total,
        activities: activities.items,
        gantt,
        p,
        shell,
        forms,
        errors,
        member_error,
    };
    Ok(render(status, &page))
}

async fn show(web: Web, Path(id): Path<i64>, Query(q): Query<ShowQuery>) -> Page {
    web.require(READ)?;
    let mut shell = web.shell("Project");
    if let Some(f) = q.flash(&web).await {
        shell = shell.with_flash(f);
    }
    let status = StatusCode::OK;
    project_page(
        &web,
        id,
        shell,
        status,
        Forms::fresh(),
        Errors::default(),
        None,
    )
    .await
}

/// Back to the project page at `anchor` with the message `done`.
fn back(id: i64, done: &str, anchor: &str) -> Page {
    Ok(Redirect::to(&format!("/work/projects/{id}?done={done}#{anchor}")).into_response())
}

async fn add_member(web: Web, Path(id): Path<i64>, Posted(form): Posted<MemberForm>) -> Page {
    web.require(WRITE)?;
    let added = match super::person(&web.state.db, "member", &form.member).await {
        Ok(user_id) => {
            let req = NewMember { user_id };
            service::add_member(&web.state, &web.audit(), &web.user, id, req).await
        }
        Err(e) => Err(e),
    };
    match added.map_err(|e| for_form(e, MEMBER_FIELDS)) {
        Ok(_) => back(id, "member", "team"),
        Err(err) => {
            let r = web.refused("Project", err)?;
            let shell = r.shell.with_error("No one was added to the team.");
            let forms = Forms {
                member: form,
                ..Forms::fresh()
            };
            project_page(&web, id, shell, r.status, forms, r.errors, None).await
        }
    }
}

async fn remove_member(
    web: Web,
    Path((id, user_id)): Path<(i64, i64)>,
    Posted(_): Posted<CsrfForm>,
) -> Page {
    web.require(WRITE)?;
    match service::remove_member(&web.state, &web.audit(), &web.user, id, user_id).await {
        Ok(()) => back(id, "member-removed", "team"),
        Err(err) => {
            let r = web.refused("Project", err)?;
            let why = r.errors.0.first().map(|e| e.message.clone());
            let name = service::get_project(web.state.db.read(), &web.user, id)
                .await
                .ok()
                .and_then(|p| p.team.into_iter().find(|m| m.user_id == user_id))
                .map(|m| m.username)
                .unwrap_or_default();
            let shell = match &why {
                Some(why) => r
                    .shell
                    .with_error(format!("{name} was not taken off the team: {name} {why}.")),
                None => r.shell,
            };
            let member_error = why.map(|w| (user_id, format!("{name} {w}.")));
            let errors = Errors::default();
            project_page(
                &web,
                id,
                shell,
                r.status,
                Forms::fresh(),
                errors,
                member_error,
            )
            .await
        }
    }
}

async fn add_cost(web: Web, Path(id): Path<i64>, Posted(form): Posted<CostForm>) -> Page {
    web.require(WRITE)?;
    let booked = match cost_request(&form) {
        Ok(req) => service::add_cost(&web.state, &web.audit(), &web.user, id, req)
            .await
            .map_err(|e| for_form(e, COST_FIELDS)),
        Err(e) => Err(e),
    };
    match booked {
        Ok(_) => back(id, "cost", "costs"),
        Err(err) => {
            let r = web
                .refused("Project", err)?
                .saying("The cost was not booked");
            let forms = Forms {
                cost: form,
                ..Forms::fresh()
            };
            project_page(&web, id, r.shell, r.status, forms, r.errors, None).await
        }
    }
}

fn cost_request(form: &CostForm) -> ApiResult<NewCost> {
    let mut v = Validator::new();
    if filled(&form.amount).is_none() {
        v.add("amount", "is required");
    }
    let amount = absorb(&mut v, minor_units("amount", &form.amount))?.flatten();
    let booked_on = typed_date(&mut v, "booked_on", &form.booked_on);
    let req = NewCost {
        amount_minor: amount.unwrap_or(1),
        description: form.cost_description.clone(),
        booked_on,
    };
    absorb(
        &mut v,
        req.clone().validate().map_err(|e| for_form(e, COST_FIELDS)),
    )?;
    v.finish()?;
    Ok(req)
}

async fn create_task(web: Web, Path(id): Path<i64>, Posted(form): Posted<TaskForm>) -> Page {
    web.require(WRITE)?;
    let created = match task_request(&form) {
        Ok(req) => service::create_task(&web.state, &web.audit(), &web.user, id, req)
            .await
            .map_err(|e| for_form(e, TASK_FIELDS)),
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => back(id, "task", "tasks"),
        Err(err) => {
            let r = web
                .refused("Project", err)?
                .saying("The task was not added");
            let forms = Forms {
                task: form,
                ..Forms::fresh()
            };
            project_page(&web, id, r.shell, r.status, forms, r.errors, None).await
        }
    }
}

fn task_request(form: &TaskForm) -> ApiResult<NewTask> {
    let mut v = Validator::new();
    let start = required_date(&mut v, "start_date", &form.start_date);
    let due = typed_date(&mut v, "due_date", &form.due_date);
    let estimate = typed_decimal(&mut v, "estimated_hours", &form.estimated_hours);
    let assignee = absorb(&mut v, chosen_id("assignee", &form.assignee, "person"))?.flatten();
    let today = nexus_core::plant::today();
    let req = NewTask {
        title: form.title.clone(),
        description: None,
        status: None,
        priority: filled(&form.priority),
        assignee_id: assignee,
        start_date: start.unwrap_or(today),
        due_date: due.or(start),
        estimated_hours: estimate,
        tag_ids: Vec::new(),
    };
    let checked = req.clone().fields().map_err(|e| for_form(e, TASK_FIELDS));
    absorb(&mut v, checked)?;
    v.finish()?;
    Ok(req)
}

async fn add_dependency(
    web: Web,
    Path(id): Path<i64>,
    Posted(form): Posted<DependencyForm>,
) -> Page {
    web.require(WRITE)?;
    let added = match dependency_request(&form) {
        Ok(req) => service::add_dependency(&web.state, &web.audit(), &web.user, id, req)
            .await
            .map_err(|e| for_form(e, &[])),
        Err(e) => Err(e),
    };
    match added {
        Ok(d) => after_moves(
            &format!("/work/projects/{id}"),
            "dependency",
            &d.moved,
            "#dependencies",
        ),
        Err(err) => {
            let r = web
                .refused("Project", err)?
                .saying("The dependency was not added");
            let forms = Forms {
                dependency: form,
                ..Forms::fresh()
            };
            project_page(&web, id, r.shell, r.status, forms, r.errors, None).await
        }
    }
}

fn dependency_request(form: &DependencyForm) -> ApiResult<NewDependency> {
    let mut v = Validator::new();
    let task = |v: &mut Validator, field: &str, text: &str| {
        if filled(text).is_none() {
            v.add(field, "choose a task from the list");
            return None;
        }
        absorb(v, chosen_id(field, text, "task"))
            .ok()
            .flatten()
            .flatten()
    };
    let pred = task(&mut v, "predecessor", &form.predecessor);
    let succ = task(&mut v, "successor", &form.successor);
    let lag = typed_whole(&mut v, "lag_days", &form.lag_days);
    let req = NewDependency {
        predecessor_id: pred.unwrap_or(0),
        successor_id: succ.unwrap_or(-1),
        kind: filled(&form.kind),
        lag_days: lag,
    };
    if pred.is_some() && succ.is_some() {
        absorb(&mut v, req.clone().validate().map_err(|e| for_form(e, &[])))?;
    }
    v.finish()?;
    Ok(req)
}

async fn remove_dependency(
    web: Web,
    Path((id, dependency_id)): Path<(i64, i64)>,
    Posted(_): Posted<CsrfForm>,
) -> Page {
    web.require(WRITE)?;
    service::delete_dependency(&web.state, &web.audit(), &web.user, id, dependency_id)
        .await
        .or_page(&web)?;
    back(id, "dependency-removed", "dependencies")
}

// ---------------------------------------------------------------- board and schedule

/// A board column: the tasks in one status.
struct Column {
    status: &'static str,
    label: &'static str,
    cards: Vec<TaskOut>,
}

#[derive(Template)]
#[template(path = "project_board.html")]
struct BoardPage {
    shell: Shell,
    p: ProjectOut,
    columns: Vec<Column>,
    can_work: bool,
    live: &'static str,
    statuses: Vec<(String, String)>,
}

async fn board(web: Web, Path(id): Path<i64>, Query(q): Query<ShowQuery>) -> Page {
    web.require(READ)?;
    let mut shell = web.shell("Board");
    if let Some(f) = q.flash(&web).await {
        shell = shell.with_flash(f);
    }
    board_page(&web, id, shell, StatusCode::OK).await
}

/// The board of project `id` in `shell`.
pub(crate) async fn board_page(web: &Web, id: i64, shell: Shell, status: StatusCode) -> Page {
    let db = web.state.db.read();
    let p = service::get_project(db, &web.user, id).await.or_page(web)?;
    let (user, no_filter) = (&web.user, &TaskFilter::default());
    let tasks =
        super::every(
            |page| async move { service::list_tasks(db, user, id, no_filter, &page).await },
        )
        .await
        .or_page(web)?;
    let columns = TASK_STATUSES
        .iter()
        .map(|&status| Column {
            status,
            label: task_status_word(status),
            cards: tasks
                .iter()
                .filter(|t| t.status == status)
                .cloned()
                .collect(),
        })
        .collect();
    let page = BoardPage {
        shell,
        can_work: may_work(&web.user, &p),
        live: LIVE,
        statuses: options(&TASK_STATUSES, task_status_word),
        columns,
        p,
    };
    Ok(render(status, &page))
}

#[derive(Template)]
#[template(path = "project_schedule.html")]
struct SchedulePage {
    shell: Shell,
    p: ProjectOut,
    schedule: ScheduleOut,
    /// The critical path's tasks in the order they are worked.
    critical: Vec<ScheduledTask>,
    gantt: String,
    live: &'static str,
}

async fn schedule(web: Web, Path(id): Path<i64>) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    let p = service::get_project(db, &web.user, id)
        .await
        .or_page(&web)?;
    let schedule = service::project_schedule(db, &web.user, id)
        .await
        .or_page(&web)?;
    let gantt = service::project_gantt(db, &web.user, id)
        .await
        .or_page(&web)?;
    let critical = schedule
        .critical_path
        .iter()
        .filter_map(|c| schedule.tasks.iter().find(|t| t.id == *c).cloned())
        .collect();
    let page = SchedulePage {
        shell: web.shell(&format!("Schedule of {}", p.name)),
        p,
        schedule,
        critical,
        gantt,
        live: LIVE,
    };
    Ok(render(StatusCode::OK, &page))
}
