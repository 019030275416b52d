//! Announcement pages: the feed with unread marks, one update with its media, files,
//! likes, comments and the Acknowledge button, the compose and edit form (the audience
//! chosen by name, with search as you type), and who read and acknowledged it.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    CsrfForm, Errors, OrPage, Page, Posted, Shell, Web, absorb, done_message, filled, instant,
    paged_link, query_string, render,
};
use nexus_core::{ApiError, ApiResult, FieldError, IfMatch, PageParams, Timestamp, Validator};
use nexus_core::{AppState, Db};
use nexus_identity::entity::{department, user};
use nexus_identity::model::{DepartmentFilter, UserFilter};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;

use crate::model::*;
use crate::service::updates as service;

const READ: &str = "updates:read";
const WRITE: &str = "updates:write";
const COMMENT: &str = "updates:comment";
/// Cards on a page of the feed, and people on a page of receipts.
const PAGE_ROWS: u64 = 30;
const RECEIPT_ROWS: u64 = 100;
/// Names a search-as-you-type list offers at most.
const OFFERED: u64 = 20;

const DONE: &[(&str, &str)] = &[
    ("draft", "Draft saved. Nobody else sees it yet."),
    (
        "scheduled",
        "Scheduled. It is published at the time you chose.",
    ),
    ("published", "Published. Its audience can read it now."),
    ("saved", "Update saved."),
    ("unpublished", "Unpublished. Its readers no longer see it."),
    ("deleted", "Draft deleted."),
    (
        "acknowledged",
        "Thank you: your acknowledgement is recorded.",
    ),
    ("commented", "Comment posted."),
    ("liked", "Liked."),
    ("unliked", "Like taken back."),
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/updates", get(feed).post(create))
        .route("/updates/new", get(new_form))
        .route("/updates/choices/{kind}", get(choices))
        .route("/updates/{id}", get(show))
        .route("/updates/{id}/edit", get(edit_form).post(save))
        .route("/updates/{id}/acknowledge", post(acknowledge))
        .route("/updates/{id}/like", post(like))
        .route("/updates/{id}/comments", post(comment))
        .route("/updates/{id}/unpublish", post(unpublish))
        .route("/updates/{id}/delete", post(delete))
        .route("/updates/{id}/receipts", get(receipts))
}

/// An instant as pages show it, in plant time: `2026-11-23 14:05 CET`.
fn when(t: &Timestamp) -> String {
    t.display()
}

/// (code, word) pairs for a select.
fn options(codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), update_word(c).to_string()))
        .collect()
}

/// Whether `value` is empty or one of `allowed`; otherwise a field error.
fn pick(v: &mut Validator, field: &str, value: &str, allowed: &[&str]) -> Option<String> {
    let value = filled(value)?;
    v.check(
        allowed.contains(&value.as_str()),
        field,
        "choose one from the list",
    );
    Some(value)
}

// ---------------------------------------------------------------- the feed

#[derive(Deserialize, Default)]
#[serde(default)]
struct FeedForm {
    /// Empty: for me; `mine`: written by me; `all`: everyone's (updates:manage).
    view: String,
    #[serde(rename = "type")]
    kind: String,
    priority: String,
    status: String,
    unread: String,
    offset: String,
    done: String,
}

impl FeedForm {
    fn filter(&self, can_manage: bool) -> ApiResult<UpdateFilter> {
        let mut v = Validator::new();
        let kind = pick(&mut v, "type", &self.kind, &UPDATE_TYPES);
        let priority = pick(&mut v, "priority", &self.priority, &UPDATE_PRIORITIES);
        let status = pick(&mut v, "status", &self.status, &UPDATE_STATUSES);
        v.finish()?;
        let (mine, status) = match self.view.as_str() {
            "mine" => (Some(true), status),
            "all" if can_manage => (None, status.or_else(|| Some("published".into()))),
            _ => (None, None),
        };
        Ok(UpdateFilter {
            update_type: kind,
            priority,
            status,
            mine,
            unread: (self.unread == "on").then_some(true),
        })
    }

    fn at(&self, offset: u64) -> String {
        paged_link(
            "/updates",
            &[
                ("view", &self.view),
                ("type", &self.kind),
                ("priority", &self.priority),
                ("status", &self.status),
                ("unread", &self.unread),
            ],
            offset,
        )
    }
}

#[derive(Template)]
#[template(path = "updates.html")]
struct FeedPage {
    shell: Shell,
    form: FeedForm,
    errors: Errors,
    items: Vec<UpdateOut>,
    total: u64,
    unread: u64,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
    can_manage: bool,
    types: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
}

impl FeedPage {
    fn word(&self, code: &str) -> &'static str {
        update_word(code)
    }

    fn when(&self, t: &Timestamp) -> String {
        when(t)
    }
}

async fn feed(web: Web, Query(form): Query<FeedForm>) -> Page {
    web.require(READ)?;
    let can_manage = web.user.can(UPDATES_MANAGE);
    let shell = web.shell_done("Announcements", done_message(&form.done, DONE));
    let offset = form.offset.trim().parse().unwrap_or(0);
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: Some(offset),
        sort: None,
    };
    let db = web.state.db.read();
    let found = match form.filter(can_manage) {
        Ok(f) => service::list(db, &web.user, &f, &page).await,
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
                .refused("Announcements", err)?
                .saying("The filter was not applied");
            (r.shell, r.status, Vec::new(), 0, r.errors)
        }
    };
    let unread = service::unread_count(db, &web.user)
        .await
        .or_page(&web)?
        .unread;
    let page = FeedPage {
        shell,
        prev: (offset > 0).then(|| form.at(offset.saturating_sub(PAGE_ROWS))),
        next: (offset + PAGE_ROWS < total).then(|| form.at(offset + PAGE_ROWS)),
        form,
        errors,
        items,
        total,
        unread,
        can_write: web.user.can(WRITE),
        can_manage,
        types: options(&UPDATE_TYPES),
        priorities: options(&UPDATE_PRIORITIES),
        statuses: options(&UPDATE_STATUSES),
    };
    Ok(render(status, &page))
}

// ---------------------------------------------------------------- one update

#[derive(Template)]
#[template(path = "update.html")]
struct ShowPage {
    shell: Shell,
    u: UpdateDetail,
    comments: Vec<UpdateCommentOut>,
    comment: String,
    errors: Errors,
    can_comment: bool,
    can_write: bool,
}

impl ShowPage {
    fn word(&self, code: &str) -> &'static str {
        update_word(code)
    }

    fn when(&self, t: &Timestamp) -> String {
        when(t)
    }

    fn may_acknowledge(&self) -> bool {
        let u = &self.u.update;
        u.status == "published" && u.is_recipient && u.ack_required && u.acknowledged_at.is_none()
    }

    fn audience(&self) -> String {
        if self.u.update.target_all {
            return "Everyone".into();
        }
        let t = &self.u.targets;
        let names: Vec<&str> = t
            .users
            .iter()
            .chain(&t.departments)
            .chain(&t.roles)
            .map(|n| n.name.as_str())
            .collect();
        if names.is_empty() {
            "Nobody chosen yet".into()
        } else {
            names.join(", ")
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShowQuery {
    done: String,
}

async fn show_page(
    web: &Web,
    u: UpdateDetail,
    shell: Shell,
    comment: String,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let all = PageParams {
        limit: Some(nexus_core::paging::MAX_LIMIT),
        offset: None,
        sort: None,
    };
    let comments = service::comments(web.state.db.read(), &web.user, u.update.id, &all)
        .await
        .or_page(web)?
        .items;
    let page = ShowPage {
        shell,
        u,
        comments,
        comment,
        errors,
        can_comment: web.user.can(COMMENT),
        can_write: web.user.can(WRITE),
    };
    Ok(render(status, &page))
}

async fn show(web: Web, Path(id): Path<i64>, Query(q): Query<ShowQuery>) -> Page {
    web.require(READ)?;
    let u = service::get(&web.state, &web.user, id)
        .await
        .or_page(&web)?;
    let shell = web.shell_done(&u.update.title, done_message(&q.done, DONE));
    show_page(
        &web,
        u,
        shell,
        String::new(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn acknowledge(web: Web, Path(id): Path<i64>, Posted(_): Posted<CsrfForm>) -> Page {
    web.require(READ)?;
    match service::acknowledge(&web.state, &web.audit(), &web.user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/updates/{id}?done=acknowledged")).into_response()),
        Err(err @ ApiError::Conflict { .. }) => {
            let u = service::peek(web.state.db.read(), &web.user, id)
                .await
                .or_page(&web)?;
            let r = web.refused(&u.update.title, err)?;
            show_page(&web, u, r.shell, String::new(), r.errors, r.status).await
        }
        Err(err) => Err(web.fail(err)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LikeForm {
    /// `on` to like, anything else to take the like back.
    like: String,
}

async fn like(web: Web, Path(id): Path<i64>, Posted(form): Posted<LikeForm>) -> Page {
    web.require(COMMENT)?;
    let on = form.like == "on";
    service::like(&web.state, &web.audit(), &web.user, id, on)
        .await
        .or_page(&web)?;
    let done = if on { "liked" } else { "unliked" };
    Ok(Redirect::to(&format!("/updates/{id}?done={done}#likes")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CommentForm {
    content: String,
}

async fn comment(web: Web, Path(id): Path<i64>, Posted(form): Posted<CommentForm>) -> Page {
    web.require(COMMENT)?;
    let req = NewUpdateComment {
        content: form.content.clone(),
    };
    match service::comment(&web.state, &web.audit(), &web.user, id, req).await {
        Ok(c) => {
            Ok(Redirect::to(&format!("/updates/{id}?done=commented#c{}", c.id)).into_response())
        }
        Err(err) => {
            let u = service::peek(web.state.db.read(), &web.user, id)
                .await
                .or_page(&web)?;
            let r = web.refused(&u.update.title, err)?;
            let shell = r.shell.with_error("The comment was not posted. See below.");
            show_page(&web, u, shell, form.content, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- compose and edit

/// The compose and edit form as typed. The audience is names separated by commas.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct UpdateForm {
    version: i32,
    title: String,
    content: String,
    #[serde(rename = "type")]
    kind: String,
    priority: String,
    ack_required: String,
    /// `all` or `chosen`.
    audience: String,
    people: String,
    departments: String,
    roles: String,
    /// Plant time, as a `datetime-local` sends it.
    publish_at: String,
    /// publish, schedule, draft or save.
    action: String,
}

/// The names typed into a comma-separated field.
fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The ids of the `names` in `column` of `E` (matched without regard to case); a field
/// error on `field` for each name that matches nothing.
async fn ids_by_name<E: EntityTrait>(
    db: &Db,
    v: &mut Validator,
    field: &str,
    what: &str,
    names: Vec<String>,
    (id, column): (E::Column, E::Column),
) -> ApiResult<Vec<i64>> {
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let found: Vec<(i64, String)> = E::find()
        .select_only()
        .column(id)
        .column(column)
        .filter(Expr::expr(Func::lower(Expr::col(column))).is_in(lower))
        .into_tuple()
        .all(db.read())
        .await?;
    let mut ids = Vec::new();
    for n in names {
        match found.iter().find(|(_, name)| name.eq_ignore_ascii_case(&n)) {
            Some((id, _)) => ids.push(*id),
            None => v.add(field, format!("no {what} is called “{n}”")),
        }
    }
    Ok(ids)
}

impl UpdateForm {
    fn of(d: &UpdateDetail) -> Self {
        let u = &d.update;
        let join = |list: &[NamedRef]| {
            list.iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Self {
            version: u.version,
            title: u.title.clone(),
            content: u.content.clone(),
            kind: u.update_type.clone(),
            priority: u.priority.clone(),
            ack_required: if u.ack_required {
                "on".into()
            } else {
                String::new()
            },
            audience: if u.target_all { "all" } else { "chosen" }.into(),
            people: join(&d.targets.users),
            departments: join(&d.targets.departments),
            roles: join(&d.targets.roles),
            publish_at: u.publish_at.map(|t| t.input_value()).unwrap_or_default(),
            action: String::new(),
        }
    }

    /// The audience typed, by id; every unknown name at once.
    async fn audience(&self, web: &Web, v: &mut Validator) -> ApiResult<(bool, Targets)> {
        if self.audience != "chosen" {
            return Ok((true, Targets::default()));
        }
        let db = &web.state.db;
        let users = ids_by_name::<user::Entity>(
            db,
            v,
            "people",
            "user",
            names(&self.people),
            (user::Column::Id, user::Column::Username),
        )
        .await?;
        let departments = ids_by_name::<department::Entity>(
            db,
            v,
            "departments",
            "department",
            names(&self.departments),
            (department::Column::Id, department::Column::Name),
        )
        .await?;
        let roles = names(&self.roles).into_iter().map(RoleRef::Name).collect();
        Ok((
            false,
            Targets {
                users,
                departments,
                roles,
            },
        ))
    }

    /// The schedule typed, when the action is to schedule.
    fn schedule(&self, v: &mut Validator) -> Option<Timestamp> {
        if self.action != "schedule" {
            return None;
        }
        match instant(&self.publish_at) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                v.add("publish_at", "choose when to publish it");
                None
            }
            Err(_) => {
                v.add(
                    "publish_at",
                    "must be a date and time like 2026-01-31 14:00",
                );
                None
            }
        }
    }

    fn status(&self) -> Option<String> {
        match self.action.as_str() {
            "publish" => Some("published".into()),
            "schedule" => Some("scheduled".into()),
            "draft" => Some("draft".into()),
            _ => None,
        }
    }

    async fn new_request(&self, web: &Web) -> ApiResult<NewUpdate> {
        let mut v = Validator::new();
        let (target_all, targets) = self.audience(web, &mut v).await?;
        let publish_at = self.schedule(&mut v);
        let req = NewUpdate {
            title: self.title.clone(),
            content: self.content.clone(),
            update_type: self.kind.clone(),
            priority: filled(&self.priority),
            ack_required: self.ack_required == "on",
            target_all,
            targets: targets.clone(),
            status: self.status().or_else(|| Some("draft".into())),
            publish_at: publish_at.or_else(|| {
                // A schedule not typed has its own error; the draft still checks the rest.
                (self.action == "schedule").then(|| Timestamp::now().plus_seconds(3600))
            }),
        };
        absorb(
            &mut v,
            UpdateDraft::from(req.clone())
                .validate(Timestamp::now())
                .map_err(for_form),
        )?;
        v.finish()?;
        Ok(req)
    }

    async fn change_request(&self, web: &Web) -> ApiResult<UpdateChange> {
        let mut v = Validator::new();
        let (target_all, targets) = self.audience(web, &mut v).await?;
        let publish_at = self.schedule(&mut v);
        v.finish()?;
        Ok(UpdateChange {
            title: Some(self.title.clone()),
            content: Some(self.content.clone()),
            update_type: Some(self.kind.clone()),
            priority: Some(self.priority.clone()),
            ack_required: Some(self.ack_required == "on"),
            target_all: Some(target_all),
            targets: Some(targets),
            status: self.status(),
            publish_at: publish_at.map(Some),
        })
    }
}

/// The API's field names as the form names them.
fn for_form(err: ApiError) -> ApiError {
    let rename = |f: FieldError| {
        let field = match f.field.as_str() {
            "targets.users" => "people",
            "targets.departments" => "departments",
            "targets.roles" => "roles",
            "targets" => "audience",
            other => other,
        };
        FieldError::new(field, f.message)
    };
    match err {
        ApiError::Validation(fields) => {
            ApiError::Validation(fields.into_iter().map(rename).collect())
        }
        ApiError::Conflict {
            message,
            field: Some(f),
        } if f == "status" => ApiError::Conflict {
            message,
            field: Some("action".into()),
        },
        other => other,
    }
}

#[derive(Template)]
#[template(path = "update_form.html")]
struct FormPage {
    shell: Shell,
    /// The update edited; `None` when composing.
    u: Option<UpdateOut>,
    form: UpdateForm,
    errors: Errors,
    types: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
}

impl FormPage {
    fn word(&self, code: &str) -> &'static str {
        update_word(code)
    }

    /// Whether the update edited is out (published or unpublished): then it is saved,
    /// not published or scheduled again.
    fn was_out(&self) -> bool {
        self.u
            .as_ref()
            .is_some_and(|u| matches!(u.status.as_str(), "published" | "unpublished"))
    }
}

fn form_page(
    u: Option<UpdateOut>,
    form: UpdateForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let page = FormPage {
        shell,
        u,
        form,
        errors,
        types: options(&UPDATE_TYPES),
        priorities: options(&UPDATE_PRIORITIES),
    };
    Ok(render(status, &page))
}

async fn new_form(web: Web) -> Page {
    web.require(WRITE)?;
    let form = UpdateForm {
        kind: "announcement".into(),
        priority: "medium".into(),
        audience: "all".into(),
        ..UpdateForm::default()
    };
    form_page(
        None,
        form,
        web.shell("New announcement"),
        Errors::default(),
        StatusCode::OK,
    )
}

/// Where a saved update's page says what happened.
fn done_at(u: &UpdateOut, action: &str) -> String {
    let done = match action {
        "publish" | "schedule" | "draft" => u.status.as_str(),
        _ => "saved",
    };
    format!("/updates/{}?done={done}", u.id)
}

async fn create(web: Web, Posted(form): Posted<UpdateForm>) -> Page {
    web.require(WRITE)?;
    let created = match form.new_request(&web).await {
        Ok(req) => service::create(&web.state, &web.audit(), &web.user, req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(d) => Ok(Redirect::to(&done_at(&d.update, &form.action)).into_response()),
        Err(err) => {
            let r = web
                .refused("New announcement", for_form(err))?
                .saying("The announcement was not saved");
            form_page(None, form, r.shell, r.errors, r.status)
        }
    }
}

async fn editable(web: &Web, id: i64) -> Result<UpdateDetail, nexus_core::pages::Halt> {
    let d = service::peek(web.state.db.read(), &web.user, id)
        .await
        .or_page(web)?;
    if !d.can_manage {
        return Err(web.fail(ApiError::Forbidden(
            "only its author and holders of updates:manage may change it".into(),
        )));
    }
    Ok(d)
}

async fn edit_form(web: Web, Path(id): Path<i64>) -> Page {
    web.require(WRITE)?;
    let d = editable(&web, id).await?;
    let form = UpdateForm::of(&d);
    let shell = web.shell(&format!("Edit {}", d.update.title));
    form_page(
        Some(d.update),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
}

async fn save(web: Web, Path(id): Path<i64>, Posted(form): Posted<UpdateForm>) -> Page {
    web.require(WRITE)?;
    let d = editable(&web, id).await?;
    let title = format!("Edit {}", d.update.title);
    let changed = match form.change_request(&web).await {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::change(&web.state, &web.audit(), &web.user, id, version, req).await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(d) => Ok(Redirect::to(&done_at(&d.update, &form.action)).into_response()),
        Err(err) => {
            let r = web
                .refused(&title, for_form(err))?
                .saying("The announcement was not changed");
            let form = r.keeping(form, || UpdateForm::of(&d));
            form_page(Some(d.update), form, r.shell, r.errors, r.status)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VersionForm {
    version: i32,
}

async fn unpublish(web: Web, Path(id): Path<i64>, Posted(form): Posted<VersionForm>) -> Page {
    web.require(WRITE)?;
    let req = UpdateChange {
        status: Some("unpublished".into()),
        ..UpdateChange::default()
    };
    let version = IfMatch(Some(form.version));
    service::change(&web.state, &web.audit(), &web.user, id, version, req)
        .await
        .or_page(&web)?;
    Ok(Redirect::to(&format!("/updates/{id}?done=unpublished")).into_response())
}

async fn delete(web: Web, Path(id): Path<i64>, Posted(form): Posted<VersionForm>) -> Page {
    web.require(WRITE)?;
    let version = IfMatch(Some(form.version));
    service::delete(&web.state, &web.audit(), &web.user, id, version)
        .await
        .or_page(&web)?;
    Ok(Redirect::to("/updates?view=mine&done=deleted").into_response())
}

// ---------------------------------------------------------------- receipts

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReceiptForm {
    state: String,
    department: String,
    offset: String,
}

#[derive(Template)]
#[template(path = "update_receipts.html")]
struct ReceiptsPage {
    shell: Shell,
    u: UpdateDetail,
    report: ReceiptReport,
    form: ReceiptForm,
    errors: Errors,
    csv: String,
    prev: Option<String>,
    next: Option<String>,
    states: Vec<(String, String)>,
    departments: Vec<(String, String)>,
}

impl ReceiptsPage {
    fn when(&self, t: &Option<Timestamp>) -> String {
        t.as_ref().map(when).unwrap_or_default()
    }

    /// `part` of `whole` in percent, whole numbers.
    fn percent(&self, part: &u64, whole: &u64) -> u64 {
        if *whole == 0 { 0 } else { part * 100 / whole }
    }
}

async fn receipts(web: Web, Path(id): Path<i64>, Query(form): Query<ReceiptForm>) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    let u = service::peek(db, &web.user, id).await.or_page(&web)?;
    let offset = form.offset.trim().parse().unwrap_or(0);
    let page = PageParams {
        limit: Some(RECEIPT_ROWS),
        offset: Some(offset),
        sort: None,
    };
    let mut v = Validator::new();
    let state = pick(&mut v, "state", &form.state, &RECEIPT_STATES);
    let department = absorb(
        &mut v,
        nexus_core::pages::chosen_id("department", &form.department, "department"),
    )
    .or_page(&web)?
    .flatten();
    let filter = ReceiptFilter {
        state,
        department_id: department,
    };
    let (filter, errors, status) = match v.finish() {
        Ok(()) => (filter, Errors::default(), StatusCode::OK),
        Err(e) => (
            ReceiptFilter::default(),
            Errors(e.field_errors()),
            e.status(),
        ),
    };
    let report = service::receipts(db, &web.user, id, &filter, &page)
        .await
        .or_page(&web)?;
    let at = |offset: u64| {
        paged_link(
            &format!("/updates/{id}/receipts"),
            &[("state", &form.state), ("department", &form.department)],
            offset,
        )
    };
    let total = report.people.total;
    let departments = report
        .departments
        .iter()
        .filter_map(|d| {
            d.department_id
                .map(|i| (i.to_string(), d.department.clone()))
        })
        .collect();
    let csv = format!(
        "/api/v1/updates/{id}/receipts.csv?{}",
        query_string(&[
            ("state", filter.state.as_deref().unwrap_or("")),
            (
                "department_id",
                &filter
                    .department_id
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
        ])
    );
    let shell = web.shell(&format!("Who read {}", u.update.title));
    let shell = if errors.0.is_empty() {
        shell
    } else {
        shell.with_error("The filter was not applied. See the marked fields.")
    };
    let page = ReceiptsPage {
        shell,
        u,
        report,
        errors,
        csv,
        prev: (offset > 0).then(|| at(offset.saturating_sub(RECEIPT_ROWS))),
        next: (offset + RECEIPT_ROWS < total).then(|| at(offset + RECEIPT_ROWS)),
        states: RECEIPT_STATES
            .iter()
            .map(|s| (s.to_string(), s.replace("un", "not ")))
            .collect(),
        departments,
        form,
    };
    Ok(render(status, &page))
}

// ---------------------------------------------------------------- search as you type

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChoicesQuery {
    q: String,
}

/// One offered completion: the whole field's new value, and what it names.
struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(
    source = "{% for c in choices %}<option value=\"{{ c.value }}\">{{ c.label }}</option>\n{% endfor %}",
    ext = "html"
)]
struct ChoicesFragment {
    choices: Vec<Choice>,
}

/// The completions of a comma-separated audience field (`people`, `departments` or
/// `roles`): the names matching what is typed after the last comma, each offered as the
/// field's whole value with that name in place.
async fn choices(web: Web, Path(kind): Path<String>, Query(q): Query<ChoicesQuery>) -> Page {
    web.require(WRITE)?;
    let (before, typed) = match q.q.rsplit_once(',') {
        Some((before, typed)) => (format!("{}, ", before.trim_end()), typed.trim()),
        None => (String::new(), q.q.trim()),
    };
    let page = PageParams {
        limit: Some(OFFERED),
        offset: None,
        sort: None,
    };
    let db = &web.state.db;
    let found: Vec<(String, String)> = match kind.as_str() {
        "people" => {
            let f = UserFilter {
                q: filled(typed),
                is_active: Some(true),
                ..UserFilter::default()
            };
            nexus_identity::service::list_users(db, &f, &page)
                .await
                .or_page(&web)?
                .items
                .into_iter()
                .map(|u| (u.username, u.name))
                .collect()
        }
        "departments" => {
            let f = DepartmentFilter {
                q: filled(typed),
                is_active: Some(true),
            };
            nexus_identity::service::list_departments(db, &f, &page)
                .await
                .or_page(&web)?
                .items
                .into_iter()
                .map(|d| (d.name.clone(), d.name))
                .collect()
        }
        "roles" => nexus_identity::service::list_roles(db)
            .await
            .or_page(&web)?
            .into_iter()
            .filter(|r| r.name.to_lowercase().contains(&typed.to_lowercase()))
            .map(|r| (r.name.clone(), r.name))
            .collect(),
        _ => return Err(web.fail(ApiError::not_found("list"))),
    };
    let choices = found
        .into_iter()
        .map(|(name, label)| Choice {
            value: format!("{before}{name}"),
            label,
        })
        .collect();
    Ok(render(StatusCode::OK, &ChoicesFragment { choices }))
}
