//! Task pages: one task with its tags, dependencies and worklog, the edit form (which says
//! which following tasks it moved), logging time, the board's status moves, and deleting.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    CsrfForm, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, filled, render,
};
use nexus_core::{ApiResult, AppState, IfMatch, Validator};
use serde::Deserialize;

use super::project_forms::{
    READ, WRITE, after_moves, day, days, for_form, hours_text, kind_parts, may_manage, may_work,
    options, required_date, task_status_word,
};
use super::projects::{ShowQuery, assignees};
use super::{Chip, chips, priority_word};
use crate::model::*;
use crate::service;
use nexus_core::pages::{absorb, typed_date, typed_decimal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work/tasks/{id}", get(show))
        .route("/work/tasks/{id}/edit", post(update))
        .route("/work/tasks/{id}/delete", post(delete))
        .route("/work/tasks/{id}/status", post(set_status))
        .route("/work/tasks/{id}/worklogs", post(add_worklog))
        .route(
            "/work/tasks/{id}/worklogs/{worklog_id}/delete",
            post(delete_worklog),
        )
}

const WORKLOG_FIELDS: &[(&str, &str)] = &[("user_id", "person")];

/// The edit form as typed. Tags repeat the `tags` name, so the form is read from pairs.
#[derive(Default, Clone)]
struct TaskEditForm {
    version: i32,
    title: String,
    description: String,
    status: String,
    priority: String,
    /// A team member's id, chosen by name; empty for nobody.
    assignee: String,
    start_date: String,
    due_date: String,
    estimated_hours: String,
    tags: Vec<String>,
}

impl TaskEditForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "version" => form.version = value.trim().parse().unwrap_or_default(),
                "title" => form.title = value,
                "description" => form.description = value,
                "status" => form.status = value,
                "priority" => form.priority = value,
                "assignee" => form.assignee = value,
                "start_date" => form.start_date = value,
                "due_date" => form.due_date = value,
                "estimated_hours" => form.estimated_hours = value,
                "tags" => form.tags.push(value),
                _ => {}
            }
        }
        form
    }

    fn of(t: &TaskOut) -> Self {
        Self {
            version: t.version,
            title: t.title.clone(),
            description: t.description.clone(),
            status: t.status.clone(),
            priority: t.priority.clone(),
            assignee: t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
            start_date: t.start_date.to_string(),
            due_date: t.due_date.to_string(),
            estimated_hours: t.estimated_hours.to_string(),
            tags: t.tags.iter().map(|g| g.id.to_string()).collect(),
        }
    }

    fn has_tag(&self, id: &i64) -> bool {
        self.tags.contains(&id.to_string())
    }

    /// The change typed: every field replaces the stored one.
    fn request(&self) -> ApiResult<UpdateTask> {
        let mut v = Validator::new();
        let start = required_date(&mut v, "start_date", &self.start_date);
        let due = required_date(&mut v, "due_date", &self.due_date);
        let estimate = typed_decimal(&mut v, "estimated_hours", &self.estimated_hours);
        let assignee = absorb(&mut v, chosen_id("assignee", &self.assignee, "person"))?.flatten();
        let tag_ids: Vec<i64> = self.tags.iter().filter_map(|t| t.parse().ok()).collect();
        v.check(
            tag_ids.len() == self.tags.len(),
            "tags",
            "choose tags from the list",
        );
        v.finish()?;
        Ok(UpdateTask {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            status: Some(self.status.clone()),
            priority: Some(self.priority.clone()),
            assignee_id: Some(assignee),
            start_date: start,
            due_date: due,
            estimated_hours: Some(estimate.unwrap_or(0.0)),
            tag_ids: Some(tag_ids),
        })
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct LogForm {
    hours: String,
    worked_on: String,
    note: String,
    /// Who worked (the manager may choose); empty for oneself.
    person: String,
}

impl LogForm {
    fn fresh(me: i64) -> Self {
        Self {
            worked_on: nexus_core::plant::today().to_string(),
            person: me.to_string(),
            ..Self::default()
        }
    }

    fn request(&self, me: i64) -> ApiResult<NewWorklog> {
        let mut v = Validator::new();
        if filled(&self.hours).is_none() {
            v.add("hours", "is required");
        }
        let hours = typed_decimal(&mut v, "hours", &self.hours);
        let worked_on = typed_date(&mut v, "worked_on", &self.worked_on);
        let person = absorb(&mut v, chosen_id("person", &self.person, "person"))?.flatten();
        let req = NewWorklog {
            hours: hours.unwrap_or(1.0),
            worked_on,
            note: filled(&self.note),
            user_id: person.filter(|p| *p != me),
        };
        absorb(
            &mut v,
            req.clone()
                .validate()
                .map_err(|e| for_form(e, WORKLOG_FIELDS)),
        )?;
        v.finish()?;
        Ok(req)
    }
}

/// One person's logged hours on the task.
struct Total {
    username: String,
    hours: f64,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    shell: Shell,
    t: TaskOut,
    chips: Vec<Chip>,
    p: ProjectOut,
    can_work: bool,
    can_manage: bool,
    live: &'static str,
    form: TaskEditForm,
    log: LogForm,
    errors: Errors,
    worklogs: Vec<WorklogOut>,
    totals: Vec<Total>,
    total_hours: f64,
    /// Dependencies this task follows, and those that follow it.
    follows: Vec<DependencyOut>,
    followed_by: Vec<DependencyOut>,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    assignees: Vec<(String, String)>,
    tags: Vec<Chip>,
    me: i64,
}

impl TaskPage {
    /// Whether the signed-in user may delete a worklog entry (the service decides).
    fn may_delete(&self, w: &WorklogOut) -> bool {
        self.can_manage
            || (self.can_work && (w.user_id == self.me || w.created_by_id == Some(self.me)))
    }
}

async fn task_page(
    web: &Web,
    id: i64,
    shell: Shell,
    status: StatusCode,
    form: Option<TaskEditForm>,
    log: Option<LogForm>,
    errors: Errors,
) -> Page {
    let db = web.state.db.read();
    let user = &web.user;
    let t = service::get_task(db, user, id).await.or_page(web)?;
    let p = service::get_project(db, user, t.project_id)
        .await
        .or_page(web)?;
    let worklogs =
        super::every(|page| async move { service::list_worklogs(db, user, id, &page).await })
            .await
            .or_page(web)?;
    let mut by_person: BTreeMap<String, f64> = BTreeMap::new();
    for w in &worklogs {
        *by_person.entry(w.username.clone()).or_default() += w.hours;
    }
    let totals: Vec<Total> = by_person
        .into_iter()
        .map(|(username, hours)| Total {
            username,
            hours: (hours * 100.0).round() / 100.0,
        })
        .collect();
    let total_hours = (totals.iter().map(|t| t.hours).sum::<f64>() * 100.0).round() / 100.0;
    let deps = service::list_dependencies(db, user, t.project_id)
        .await
        .or_page(web)?
        .items;
    let (follows, followed_by): (Vec<_>, Vec<_>) = deps
        .into_iter()
        .filter(|d| d.successor_id == id || d.predecessor_id == id)
        .partition(|d| d.successor_id == id);
    let tags = service::list_tags(db, &TagFilter::default())
        .await
        .or_page(web)?
        .items
        .iter()
        .map(|g| super::chip(g.id, &g.name, &g.color))
        .collect();
    let mut people = assignees(&p);
    if let Some(a) = t.assignee_id
        && !people.iter().any(|(id, _)| *id == a.to_string())
    {
        people.push((a.to_string(), t.assignee.clone().unwrap_or_default()));
    }
    let page = TaskPage {
        can_work: may_work(user, &p),
        can_manage: may_manage(user, &p),
        live: super::projects::LIVE,
        form: form.unwrap_or_else(|| TaskEditForm::of(&t)),
        log: log.unwrap_or_else(|| LogForm::fresh(user.id())),
        chips: chips(&t.tags),
        statuses: options(&TASK_STATUSES, task_status_word),
        priorities: options(&PRIORITIES, priority_word),
        assignees: people,
        me: user.id(),
        shell,
        errors,
        worklogs,
        totals,
        total_hours,
        follows,
        followed_by,
        tags,
        t,
        p,
    };
    Ok(render(status, &page))
}

async fn show(web: Web, Path(id): Path<i64>, Query(q): Query<ShowQuery>) -> Page {
    web.require(READ)?;
    let msg = match q.done.as_str() {
        "saved" => Some("Task saved."),
        "logged" => Some("Time logged."),
        "worklog-deleted" => Some("Worklog entry deleted."),
        _ => None,
    };
    let moved = ShowQuery {
        done: String::new(),
        moved: q.moved.clone(),
    }
    .flash(&web)
    .await;
    let mut shell = web.shell("Task");
    if let Some(f) = super::project_forms::flash(msg, moved) {
        shell = shell.with_flash(f);
    }
    task_page(
        &web,
        id,
        shell,
        StatusCode::OK,
        None,
        None,
        Errors::default(),
    )
    .await
}

async fn update(
    web: Web,
    Path(id): Path<i64>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Page {
    web.require(WRITE)?;
    let form = TaskEditForm::from_pairs(pairs);
    let changed = match form.request() {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::update_task(&web.state, &web.audit(), &web.user, id, version, req)
                .await
                .map_err(|e| for_form(e, &[]))
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(c) => after_moves(&format!("/work/tasks/{id}"), "saved", &c.moved, ""),
        Err(err) => {
            let r = web.refused("Task", err)?.saying("The task was not changed");
            let form = r.keeping(Some(form), || None);
            task_page(&web, id, r.shell, r.status, form, None, r.errors).await
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
    let t = service::get_task(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?;
    let version = IfMatch(Some(form.version));
    match service::delete_task(&web.state, &web.audit(), &web.user, id, version).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/work/projects/{}?done=task-deleted#tasks",
            t.project_id
        ))
        .into_response()),
        Err(err) => {
            let r = web.refused("Task", err)?;
            task_page(&web, id, r.shell, r.status, None, None, r.errors).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusForm {
    version: i32,
    status: String,
}

/// A move on the board: the task's status alone.
async fn set_status(web: Web, Path(id): Path<i64>, Posted(form): Posted<StatusForm>) -> Page {
    web.require(WRITE)?;
    let t = service::get_task(web.state.db.read(), &web.user, id)
        .await
        .or_page(&web)?;
    let req = UpdateTask {
        status: Some(form.status.clone()),
        ..UpdateTask::default()
    };
    let version = IfMatch(Some(form.version));
    let pid = t.project_id;
    match service::update_task(&web.state, &web.audit(), &web.user, id, version, req).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/work/projects/{pid}/board?done=moved#t{id}")).into_response(),
        ),
        Err(err) => {
            let r = web.refused("Task", err)?;
            let why = if r.stale {
                String::new()
            } else {
                r.errors
                    .0
                    .first()
                    .map(|e| format!("The task was not moved: {}.", e.message))
                    .unwrap_or_else(|| "The task was not moved.".into())
            };
            let shell = if r.stale {
                r.shell
            } else {
                r.shell.with_error(why)
            };
            super::projects::board_page(&web, pid, shell, r.status).await
        }
    }
}

async fn add_worklog(web: Web, Path(id): Path<i64>, Posted(form): Posted<LogForm>) -> Page {
    web.require(WRITE)?;
    let logged = match form.request(web.user.id()) {
        Ok(req) => service::add_worklog(&web.state, &web.audit(), &web.user, id, req)
            .await
            .map_err(|e| for_form(e, WORKLOG_FIELDS)),
        Err(e) => Err(e),
    };
    match logged {
        Ok(_) => Ok(Redirect::to(&format!("/work/tasks/{id}?done=logged#worklog")).into_response()),
        Err(err) => {
            let r = web.refused("Task", err)?.saying("The time was not logged");
            task_page(&web, id, r.shell, r.status, None, Some(form), r.errors).await
        }
    }
}

async fn delete_worklog(
    web: Web,
    Path((id, worklog_id)): Path<(i64, i64)>,
    Posted(_): Posted<CsrfForm>,
) -> Page {
    web.require(WRITE)?;
    service::delete_worklog(&web.state, &web.audit(), &web.user, id, worklog_id)
        .await
        .or_page(&web)?;
    Ok(Redirect::to(&format!("/work/tasks/{id}?done=worklog-deleted#worklog")).into_response())
}
