//! Work order pages: the list with filters, the board by status, the new work order
//! form, and the page a technician runs on a phone (checklist, labor timer, comments;
//! its photos are in [`super::photos`]).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    CsrfForm, Done, Errors, OrPage, Page, Posted, Shell, Web, filled, query_string, render,
    sentence,
};
use nexus_core::paging::MAX_LIMIT;
use nexus_core::{
    ApiError, ApiResult, AppState, IfMatch, ListResponse, PageParams, Timestamp, Validator,
};
use nexus_identity::entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/work-orders", get(list).post(create))
        .route("/maintenance/work-orders/board", get(board))
        .route("/maintenance/work-orders/new", get(new_form))
        .route("/maintenance/work-orders/{id}", get(show))
        .route("/maintenance/work-orders/{id}/status", post(set_status))
        .route(
            "/maintenance/work-orders/{id}/checklist/{item_id}",
            post(answer),
        )
        .route(
            "/maintenance/work-orders/{id}/labor/start",
            post(start_timer),
        )
        .route("/maintenance/work-orders/{id}/labor/stop", post(stop_timer))
}

const READ: &str = "work_orders:read";
const WRITE: &str = "work_orders:write";
/// Shown only as the moves on offer; the service enforces it.
const MANAGE: &str = "work_orders:manage";
/// Rows on a list page, and cards in a board column.
const PAGE_ROWS: u64 = 50;

/// This area's `?done=...` messages.
const DONE: &[(&str, &str)] = &[
    ("status", "Status changed."),
    ("answered", "Step saved."),
    (
        "follow_up",
        "Step saved. A follow-up work order was opened.",
    ),
    ("started", "Timer started."),
    ("stopped", "Timer stopped."),
    ("commented", "Comment added."),
    ("photo", "Photo added."),
    ("parts", "Part use recorded."),
];

/// Usernames of the given user ids, for showing people by name.
async fn usernames(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Option<i64>>,
) -> ApiResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect())
}

fn name_of(names: &HashMap<i64, String>, id: Option<i64>) -> String {
    match id {
        Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
        None => String::new(),
    }
}

/// A status as people say it.
fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "Open",
        "in_progress" => "In progress",
        "on_hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}

// ---------------------------------------------------------------- list and board

/// A work order as a row or a card.
struct Row {
    wo: WorkOrderOut,
    assignee: String,
}

async fn rows(web: &Web, items: Vec<WorkOrderOut>) -> Result<Vec<Row>, nexus_core::pages::Halt> {
    let names = usernames(web.state.db.read(), items.iter().map(|w| w.assigned_to_id))
        .await
        .or_page(web)?;
    Ok(items
        .into_iter()
        .map(|wo| Row {
            assignee: name_of(&names, wo.assigned_to_id),
            wo,
        })
        .collect())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListForm {
    q: String,
    /// A status, `active` (open, in progress, on hold; the default) or `all`.
    status: String,
    priority: String,
    /// `me`, or empty for anyone.
    assigned: String,
    offset: u64,
    done: String,
}

impl ListForm {
    fn status(&self) -> &str {
        if self.status.is_empty() {
            "active"
        } else {
            &self.status
        }
    }

    fn filter(&self, me: i64) -> WorkOrderFilter {
        WorkOrderFilter {
            q: filled(&self.q),
            status: match self.status() {
                "all" => None,
                "active" => Some(OPEN_STATUSES.join(",")),
                s => Some(s.to_string()),
            },
            priority: filled(&self.priority),
            assigned_to_id: (self.assigned == "me").then_some(me),
            ..WorkOrderFilter::default()
        }
    }

    /// The list's address at another offset, keeping the filters.
    fn at(&self, offset: u64) -> String {
        let offset = offset.to_string();
        format!(
            "/maintenance/work-orders?{}",
            query_string(&[
                ("q", &self.q),
                ("status", &self.status),
                ("priority", &self.priority),
                ("assigned", &self.assigned),
                ("offset", if offset == "0" { "" } else { &offset }),
            ])
        )
    }
}

#[derive(Template)]
#[template(path = "work_orders.html")]
struct ListPage {
    shell: Shell,
    form: ListForm,
    errors: Errors,
    rows: Vec<Row>,
    total: u64,
    /// The count stopped early: there are more than `total`.
    more: bool,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
}

impl ListPage {
    fn label(&self, status: &str) -> &'static str {
        status_label(status)
    }
}

async fn list(web: Web, Query(form): Query<ListForm>) -> Page {
    web.require(READ)?;
    let done = Done {
        done: form.done.clone(),
    };
    let shell = web.shell_done("Work orders", done.message(DONE));
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: Some(form.offset),
        sort: None,
    };
    let (shell, status, rows_, total, more, errors) =
        match service::list_work_orders(web.state.db.read(), &form.filter(web.user.id()), &page)
            .await
        {
            Ok(list) => (
                shell,
                StatusCode::OK,
                list.items,
                list.total,
                !list.total_exact,
                Errors::default(),
            ),
            Err(err) => {
                let r = web.refused("Work orders", err)?;
                (r.shell, r.status, Vec::new(), 0, false, r.errors)
            }
        };
    let prev = (form.offset > 0).then(|| form.at(form.offset.saturating_sub(PAGE_ROWS)));
    let next = (form.offset + PAGE_ROWS < total).then(|| form.at(form.offset + PAGE_ROWS));
    let page = ListPage {
        shell,
        rows: rows(&web, rows_).await?,
        total,
        more,
        prev,
        next,
        errors,
        form,
        can_write: web.user.can(WRITE),
    };
    Ok(render(status, &page))
}

struct Column {
    status: &'static str,
    label: &'static str,
    total: u64,
    cards: Vec<Row>,
}

#[derive(Template)]
#[template(path = "work_order_board.html")]
struct BoardPage {
    shell: Shell,
    columns: Vec<Column>,
}

async fn board(web: Web) -> Page {
    web.require(READ)?;
    // Newest first, the order the list's indexes serve at any size.
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: None,
        sort: None,
    };
    let mut columns = Vec::new();
    for status in ["open", "in_progress", "on_hold", "completed"] {
        let filter = WorkOrderFilter {
            status: Some(status.into()),
            ..WorkOrderFilter::default()
        };
        let list = service::list_work_orders(web.state.db.read(), &filter, &page)
            .await
            .or_page(&web)?;
        columns.push(Column {
            status,
            label: status_label(status),
            total: list.total,
            cards: rows(&web, list.items).await?,
        });
    }
    let page = BoardPage {
        shell: web.shell("Work order board"),
        columns,
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- new

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewForm {
    title: String,
    description: String,
    #[serde(rename = "type")]
    kind: String,
    priority: String,
    asset_id: String,
    due_date: String,
    /// `on` to take it yourself.
    assign_me: String,
}

impl NewForm {
    fn request(&self, me: i64) -> ApiResult<NewWorkOrder> {
        let mut v = Validator::new();
        let asset_id = filled(&self.asset_id).map(|a| a.parse::<i64>());
        v.check(
            !matches!(asset_id, Some(Err(_))),
            "asset_id",
            "must be an asset number, like 42, or left empty",
        );
        let due = filled(&self.due_date).map(|d| d.parse::<chrono::NaiveDate>());
        v.check(
            !matches!(due, Some(Err(_))),
            "due_date",
            "must be a date like 2026-01-31",
        );
        v.finish()?;
        Ok(NewWorkOrder {
            title: self.title.clone(),
            description: filled(&self.description),
            work_order_type: filled(&self.kind),
            priority: filled(&self.priority),
            asset_id: asset_id.and_then(Result::ok),
            due_date: due.and_then(Result::ok),
            assigned_to_id: (self.assign_me == "on").then_some(me),
            ..NewWorkOrder::default()
        })
    }
}

#[derive(Template)]
#[template(path = "work_order_new.html")]
struct NewPage {
    shell: Shell,
    form: NewForm,
    errors: Errors,
    types: &'static [&'static str],
    priorities: &'static [&'static str],
}

async fn new_form(web: Web) -> Page {
    web.require(WRITE)?;
    let page = NewPage {
        shell: web.shell("New work order"),
        form: NewForm {
            kind: "corrective".into(),
            priority: "medium".into(),
            ..NewForm::default()
        },
        errors: Errors::default(),
        types: &WORK_ORDER_TYPES,
        priorities: &WORK_ORDER_PRIORITIES,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn create(web: Web, Posted(form): Posted<NewForm>) -> Page {
    web.require(WRITE)?;
    let created = match form.request(web.user.id()) {
        Ok(req) => service::raise_work_order(&web.state, &web.audit(), &web.user, req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(out) => {
            let id = out.work_order.id;
            Ok(
                Redirect::to(&format!("/maintenance/work-orders/{id}?done=created"))
                    .into_response(),
            )
        }
        Err(err) => {
            let r = web.refused("New work order", err)?;
            let page = NewPage {
                shell: r.shell,
                form,
                errors: r.errors,
                types: &WORK_ORDER_TYPES,
                priorities: &WORK_ORDER_PRIORITIES,
            };
            Ok(render(r.status, &page))
        }
    }
}

// ---------------------------------------------------------------- the work order page

/// A status button: where it goes and what it says.
struct Move {
    to: &'static str,
    label: &'static str,
    /// The main action (start, complete) is drawn as the primary button.
    primary: bool,
}

struct LaborRow {
    labor: LaborOut,
    who: String,
    duration: Option<String>,
}

struct CommentRow {
    comment: CommentOut,
    who: String,
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct WorkOrderPage {
    shell: Shell,
    wo: WorkOrderOut,
    checklist: Vec<ChecklistItemOut>,
    asset_name: Option<String>,
    assignee: String,
    moves: Vec<Move>,
    labor: Vec<LaborRow>,
    /// The signed-in user's running timer, if any.
    running: Option<LaborOut>,
    /// Labor recorded so far, as `1 h 30 min`.
    total: String,
    estimate: Option<String>,
    actual: Option<String>,
    comments: Vec<CommentRow>,
    can_write: bool,
    is_open: bool,
    /// The step a refused answer was for, with its field errors.
    failed_item: Option<i64>,
    errors: Errors,
    /// The text of a refused comment, to send again.
    draft: String,
    parts: super::inventory::PartsBlock,
    photos: super::photos::PhotosBlock,
}

impl WorkOrderPage {
    fn label(&self, status: &str) -> &'static str {
        status_label(status)
    }

    fn steps_done(&self) -> usize {
        self.checklist.iter().filter(|c| c.is_completed).count()
    }

    fn item_errors(&self, id: &i64) -> Option<&Errors> {
        (self.failed_item == Some(*id)).then_some(&self.errors)
    }

    /// A number as typed: `4.5`, `7`.
    fn num(&self, n: &f64) -> String {
        n.to_string()
    }
}

fn moves(from: &str, can_manage: bool) -> Vec<Move> {
    let targets = TRANSITIONS
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, to)| *to)
        .unwrap_or_default();
    targets
        .iter()
        .filter(|to| **to != "cancelled" || can_manage)
        .map(|to| match *to {
            "in_progress" if from == "open" => ("in_progress", "Start work", true),
            "in_progress" => ("in_progress", "Resume", true),
            "on_hold" => ("on_hold", "Put on hold", false),
            "completed" => ("completed", "Complete", true),
            "cancelled" => ("cancelled", "Cancel work order", false),
            _ => ("open", "Back to open", false),
        })
        .map(|(to, label, primary)| Move { to, label, primary })
        .collect()
}

pub(super) async fn work_order_page(
    web: &Web,
    id: i64,
    shell: Shell,
    status: StatusCode,
    failed_item: Option<i64>,
    errors: Errors,
    draft: &str,
) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    let detail = service::get_work_order(db, id).await.or_page(web)?;
    let labor = every(move |p| async move { service::list_labor(db, id, &p).await })
        .await
        .or_page(web)?;
    let comments = every(move |p| async move { service::list_comments(db, id, &p).await })
        .await
        .or_page(web)?;
    let wo = detail.work_order;
    let names = usernames(
        db,
        labor
            .iter()
            .map(|l| Some(l.user_id))
            .chain(comments.iter().map(|c| c.user_id))
            .chain([wo.assigned_to_id]),
    )
    .await
    .or_page(web)?;
    let asset_name = match wo.asset_id {
        Some(a) => service::get_asset(db, a).await.ok().map(|a| a.name),
        None => None,
    };
    let me = web.user.id();
    let running = labor
        .iter()
        .find(|l| l.user_id == me && l.ended_at.is_none())
        .cloned();
    let comment_ids: Vec<i64> = comments.iter().map(|c| c.id).collect();
    let page = WorkOrderPage {
        shell: Shell {
            title: format!("{} {}", wo.number, wo.title),
            ..shell
        },
        assignee: name_of(&names, wo.assigned_to_id),
        moves: if web.user.can(WRITE) {
            moves(&wo.status, web.user.can(MANAGE))
        } else {
            Vec::new()
        },
        total: duration(labor.iter().filter_map(|l| l.minutes).map(i64::from).sum()),
        estimate: wo.estimated_minutes.map(|m| duration(m.into())),
        actual: wo.actual_minutes.map(|m| duration(m.into())),
        labor: labor
            .into_iter()
            .map(|l| LaborRow {
                who: name_of(&names, Some(l.user_id)),
                duration: l.minutes.map(|m| duration(m.into())),
                labor: l,
            })
            .collect(),
        running,
        comments: comments
            .into_iter()
            .map(|c| CommentRow {
                who: name_of(&names, c.user_id),
                comment: c,
            })
            .collect(),
        can_write: web.user.can(WRITE),
        is_open: OPEN_STATUSES.contains(&wo.status.as_str()),
        checklist: detail.checklist,
        asset_name,
        parts: super::inventory::parts_block(web, id).await?,
        photos: super::photos::photos_block(web, id, &comment_ids).await?,
        wo,
        failed_item,
        errors,
        draft: draft.to_string(),
    };
    Ok(render(status, &page))
}

/// Every item of a paged list, a page at a time: the work order page shows them all.
async fn every<T, Fut>(mut fetch: impl FnMut(PageParams) -> Fut) -> ApiResult<Vec<T>>
where
    Fut: Future<Output = ApiResult<ListResponse<T>>>,
{
    let mut all = Vec::new();
    loop {
        let page = PageParams {
            limit: Some(MAX_LIMIT),
            offset: Some(all.len() as u64),
            sort: None,
        };
        let got = fetch(page).await?;
        let done = got.items.is_empty() || all.len() + got.items.len() >= got.total as usize;
        all.extend(got.items);
        if done {
            return Ok(all);
        }
    }
}

async fn show(web: Web, Path(id): Path<i64>, Query(done): Query<Done>) -> Page {
    let shell = web.shell_done("Work order", done.message(DONE));
    work_order_page(&web, id, shell, StatusCode::OK, None, Errors::default(), "").await
}

/// After a successful change: back to the page, at `anchor`, with a message.
pub(super) fn back(id: i64, done: &str, anchor: &str) -> Page {
    Ok(Redirect::to(&format!(
        "/maintenance/work-orders/{id}?done={done}#{anchor}"
    ))
    .into_response())
}

/// A refused change: the page again with the reason, at the failing step if any.
pub(super) async fn refused(web: &Web, id: i64, item: Option<i64>, err: ApiError) -> Page {
    let r = web.refused("Work order", err)?;
    let shell = if r.errors.0.is_empty() {
        r.shell
    } else if item.is_some() {
        r.shell
            .with_error("Nothing was saved. See the marked step.")
    } else {
        // A refused status change: its reason names the steps or the move.
        let reasons: Vec<&str> = r.errors.0.iter().map(|e| e.message.as_str()).collect();
        r.shell.with_error(sentence(&reasons.join("; ")))
    };
    work_order_page(web, id, shell, r.status, item, r.errors, "").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusForm {
    status: String,
    /// The work order's version the page showed; a stale one is refused.
    version: i32,
}

async fn set_status(web: Web, Path(id): Path<i64>, Posted(form): Posted<StatusForm>) -> Page {
    web.require(WRITE)?;
    let change = StatusChange {
        status: form.status,
        actual_minutes: None,
    };
    let version = IfMatch(Some(form.version));
    let changed =
        service::change_work_order_status(&web.state, &web.audit(), &web.user, id, version, change)
            .await;
    match changed {
        Ok(_) => back(id, "status", "status"),
        Err(err) => refused(&web, id, None, err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnswerForm {
    /// The step's version the page showed; a stale one is refused.
    version: i32,
    /// `on` or empty (checkbox steps).
    checked: String,
    number_value: String,
    text_value: String,
    /// `pass` or `fail`: the button tapped.
    passed: String,
    notes: String,
}

impl AnswerForm {
    /// The answer for a step of `kind`; only that kind's field is sent on.
    fn answer(&self, kind: &str) -> ApiResult<ChecklistAnswer> {
        let mut a = ChecklistAnswer {
            notes: filled(&self.notes),
            ..ChecklistAnswer::default()
        };
        match kind {
            "checkbox" => a.checked = Some(self.checked == "on"),
            "number" => {
                let n = filled(&self.number_value)
                    .ok_or_else(|| ApiError::invalid("number_value", "enter the reading"))?;
                a.number_value = Some(n.replace(',', ".").parse().map_err(|_| {
                    ApiError::invalid("number_value", "must be a number, like 4.5")
                })?);
            }
            "text" => a.text_value = Some(self.text_value.clone()),
            _ => {
                a.passed = match self.passed.as_str() {
                    "pass" => Some(true),
                    "fail" => Some(false),
                    _ => return Err(ApiError::invalid("passed", "tap Pass or Fail")),
                }
            }
        }
        Ok(a)
    }
}

async fn answer(
    web: Web,
    Path((id, item_id)): Path<(i64, i64)>,
    Posted(form): Posted<AnswerForm>,
) -> Page {
    web.require(WRITE)?;
    let answered = async {
        let kind = service::checklist(web.state.db.read(), id)
            .await?
            .into_iter()
            .find(|c| c.id == item_id)
            .map(|c| c.kind)
            .ok_or_else(|| ApiError::not_found("checklist step"))?;
        let answer = form.answer(&kind)?;
        let version = IfMatch(Some(form.version));
        service::answer_checklist_item(&web.state, &web.audit(), id, item_id, version, answer).await
    }
    .await;
    match answered {
        Ok(out) => {
            let done = match out.follow_up {
                Some(_) => "follow_up",
                None => "answered",
            };
            back(id, done, &format!("step-{item_id}"))
        }
        Err(err) => refused(&web, id, Some(item_id), err).await,
    }
}

async fn start_timer(web: Web, Path(id): Path<i64>, _: Posted<CsrfForm>) -> Page {
    web.require(WRITE)?;
    let (ctx, me) = (web.audit(), web.user.id());
    match service::start_labor(&web.state, &ctx, id, me, StartLabor::default()).await {
        Ok(_) => back(id, "started", "labor"),
        Err(err) => refused(&web, id, None, err).await,
    }
}

async fn stop_timer(web: Web, Path(id): Path<i64>, _: Posted<CsrfForm>) -> Page {
    web.require(WRITE)?;
    match service::stop_labor(&web.state, &web.audit(), id, web.user.id()).await {
        Ok(_) => back(id, "stopped", "labor"),
        Err(err) => refused(&web, id, None, err).await,
    }
}

/// Minutes as `1 h 30 min`.
fn duration(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// An instant for a page: `2026-11-23 14:05 UTC`.
fn when(at: &Timestamp) -> String {
    at.display()
}
