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
    CsrfForm, Done, Errors, Halt, OrPage, Page, Posted, Shell, Web, chosen_id, filled, paged_link,
    render, sentence,
};
use nexus_core::paging::MAX_LIMIT;
use nexus_core::{
    ApiError, ApiResult, AppState, IfMatch, ListResponse, PageParams, Timestamp, Validator,
};
use nexus_identity::entity::user;
use sea_orm::{ConnectionTrait, EntityTrait};

/// Completed work orders the board shows: those of the last this many days.
const BOARD_DAYS: i64 = 7;
use serde::Deserialize;

use super::pick::{self, Choices, STEP_FIELDS, WORK_ORDER_FIELDS};
use super::words::{self, priority_word, step_kind_word, type_word, wo_status};
use crate::model::*;
use crate::service;
use nexus_core::pages::{absorb, typed_date, typed_whole};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/work-orders", get(list).post(create))
        .route("/maintenance/work-orders/board", get(board))
        .route("/maintenance/work-orders/new", get(new_form))
        .route("/maintenance/work-orders/{id}", get(show))
        .route(
            "/maintenance/work-orders/{id}/edit",
            get(edit_form).post(update),
        )
        .route("/maintenance/work-orders/{id}/checklist", post(add_step))
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
        .route(
            "/maintenance/work-orders/{id}/labor/{entry}",
            post(change_labor),
        )
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
    ("labor_saved", "Time corrected."),
    ("labor_removed", "Time removed."),
    ("commented", "Comment added."),
    ("photo", "Photo added."),
    ("parts", "Part use recorded."),
    ("step_added", "Step added."),
];

fn name_of(names: &HashMap<i64, String>, id: Option<i64>) -> String {
    match id {
        Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
        None => String::new(),
    }
}

// ---------------------------------------------------------------- list and board

/// A work order as a row or a card.
struct Row {
    wo: WorkOrderOut,
    assignee: String,
    /// The asset's id and name.
    asset: Option<(i64, String)>,
    /// Due before today and still to be done.
    overdue: bool,
}

/// Today at the plant, as due dates are written (`2026-01-31`).
fn today() -> String {
    nexus_core::plant::today().format("%Y-%m-%d").to_string()
}

/// Whether a work order is past its due date and still to be done.
pub(super) fn is_overdue(wo: &WorkOrderOut, today: &str) -> bool {
    OPEN_STATUSES.contains(&wo.status.as_str()) && wo.due_date.as_deref().is_some_and(|d| d < today)
}

async fn rows(web: &Web, items: Vec<WorkOrderOut>) -> Result<Vec<Row>, Halt> {
    let db = web.state.db.read();
    let names = nexus_identity::service::usernames(db, items.iter().map(|w| w.assigned_to_id))
        .await
        .or_page(web)?;
    let asset_ids: Vec<i64> = items.iter().filter_map(|w| w.asset_id).collect();
    let assets: HashMap<i64, String> = service::qr::assets_by_ids(db, &asset_ids)
        .await
        .or_page(web)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let today = today();
    Ok(items
        .into_iter()
        .map(|wo| Row {
            assignee: name_of(&names, wo.assigned_to_id),
            asset: wo.asset_id.map(|a| {
                (
                    a,
                    assets.get(&a).cloned().unwrap_or_else(|| format!("#{a}")),
                )
            }),
            overdue: is_overdue(&wo, &today),
            wo,
        })
        .collect())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListForm {
    q: String,
    /// A status, `active` (open, in progress, on hold; the default), `all` or
    /// `archived` (work orders closed long ago, moved to the archive).
    status: String,
    priority: String,
    /// `me`, a user's id, or empty for anyone.
    assigned: String,
    /// `on` (the checkbox) or `1`: only orders due before today.
    overdue: String,
    /// Empty (newest first) or `-criticality` (most critical asset first).
    sort: String,
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

    fn overdue(&self) -> bool {
        matches!(self.overdue.as_str(), "on" | "1" | "true")
    }

    fn filter(&self, me: i64) -> WorkOrderFilter {
        let yesterday = nexus_core::plant::today() - chrono::TimeDelta::days(1);
        WorkOrderFilter {
            due_to: self.overdue().then_some(yesterday),
            q: filled(&self.q),
            status: match self.status() {
                "all" | "archived" => None,
                "active" => Some(OPEN_STATUSES.join(",")),
                s => Some(s.to_string()),
            },
            archived: (self.status() == "archived").then_some(true),
            priority: filled(&self.priority),
            assigned_to_id: match self.assigned.as_str() {
                "me" => Some(me),
                other => other.parse().ok(),
            },
            ..WorkOrderFilter::default()
        }
    }

    /// The list's address at another offset, keeping the filters.
    fn at(&self, offset: u64) -> String {
        paged_link(
            "/maintenance/work-orders",
            &[
                ("q", &self.q),
                ("status", &self.status),
                ("priority", &self.priority),
                ("assigned", &self.assigned),
                ("overdue", if self.overdue() { "1" } else { "" }),
                ("sort", &self.sort),
            ],
            offset,
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
    /// Everyone who may work on work orders, to filter by.
    people: Vec<service::Assignee>,
}

impl ListPage {
    fn label(&self, status: &str) -> &'static str {
        wo_status(status)
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
        sort: filled(&form.sort),
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
        people: service::assignable_users(web.state.db.read())
            .await
            .or_page(&web)?,
    };
    Ok(render(status, &page))
}

struct Column {
    status: &'static str,
    label: String,
    total: u64,
    /// `total` counts every match (the list stops counting 1,000 past the page).
    exact: bool,
    cards: Vec<Row>,
    /// Where the whole column is listed.
    all: String,
}

#[derive(Template)]
#[template(path = "work_order_board.html")]
struct BoardPage {
    shell: Shell,
    columns: Vec<Column>,
    days: i64,
}

/// The work to do by status, and what was completed in the last [`BOARD_DAYS`] days:
/// older completions are in the list.
async fn board(web: Web) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    // Newest first, the order the list's indexes serve at any size.
    let page = PageParams {
        limit: Some(PAGE_ROWS),
        offset: None,
        sort: None,
    };
    let mut columns = Vec::new();
    for status in OPEN_STATUSES {
        let filter = WorkOrderFilter {
            status: Some(status.into()),
            ..WorkOrderFilter::default()
        };
        let list = service::list_work_orders(db, &filter, &page)
            .await
            .or_page(&web)?;
        columns.push(Column {
            status,
            label: wo_status(status).to_string(),
            total: list.total,
            exact: list.total_exact,
            cards: rows(&web, list.items).await?,
            all: format!("/maintenance/work-orders?status={status}"),
        });
    }
    let since = Timestamp(Timestamp::now().0 - BOARD_DAYS * 24 * 3600 * 1_000_000);
    let (recent, total) = service::recent_completions(db, since, PAGE_ROWS)
        .await
        .or_page(&web)?;
    columns.push(Column {
        status: "completed",
        label: format!("Completed in the last {BOARD_DAYS} days"),
        total,
        exact: true,
        cards: rows(&web, recent).await?,
        all: "/maintenance/work-orders?status=completed".into(),
    });
    let page = BoardPage {
        shell: web.shell("Work order board"),
        columns,
        days: BOARD_DAYS,
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- new and edit

/// The fields of the new and the edit form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct OrderForm {
    /// The version edited (edit form only).
    version: i32,
    title: String,
    description: String,
    #[serde(rename = "type")]
    kind: String,
    priority: String,
    /// The asset as typed: name, tag or serial number.
    asset: String,
    /// The asset the page filled in (see [`pick::asset`]).
    asset_id: String,
    due_date: String,
    estimated_minutes: String,
    /// A user id from the list of people who may work on work orders; empty for nobody.
    assigned_to_id: String,
    /// One checklist step per line (new form only).
    checklist: String,
    /// `asset`: the Find button was pressed; nothing is saved.
    find: String,
}

/// What a link may fill in on the new form: from an asset page, an alert or a risk row.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Prefill {
    asset_id: String,
    title: String,
    description: String,
    priority: String,
    #[serde(rename = "type")]
    kind: String,
}

/// The form's values checked and parsed, every error at once, named as the form names
/// them: the new work order (the edit form takes its fields from it).
impl OrderForm {
    async fn request(&self, conn: &impl ConnectionTrait) -> ApiResult<NewWorkOrder> {
        let mut v = Validator::new();
        let asset = absorb(
            &mut v,
            pick::asset(conn, "asset", &self.asset, &self.asset_id).await,
        )?
        .flatten();
        let assignee = absorb(
            &mut v,
            chosen_id("assigned_to_id", &self.assigned_to_id, "person"),
        )?
        .flatten();
        let new = NewWorkOrder {
            title: self.title.clone(),
            description: filled(&self.description),
            work_order_type: filled(&self.kind),
            priority: filled(&self.priority),
            asset_id: asset.map(|a| a.id),
            due_date: typed_date(&mut v, "due_date", &self.due_date),
            estimated_minutes: typed_whole(&mut v, "estimated_minutes", &self.estimated_minutes),
            assigned_to_id: assignee,
            checklist: steps(&self.checklist),
            ..NewWorkOrder::default()
        };
        absorb(
            &mut v,
            new.clone()
                .validate()
                .map_err(|e| pick::for_form(e, WORK_ORDER_FIELDS)),
        )?;
        v.finish()?;
        Ok(new)
    }

    fn of(wo: &WorkOrderOut, asset: Option<&AssetOut>) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            version: wo.version,
            title: wo.title.clone(),
            description: text(&wo.description),
            kind: wo.work_order_type.clone(),
            priority: wo.priority.clone(),
            asset: asset.map(pick::asset_label).unwrap_or_default(),
            asset_id: wo.asset_id.map(|a| a.to_string()).unwrap_or_default(),
            due_date: text(&wo.due_date),
            estimated_minutes: wo
                .estimated_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            assigned_to_id: wo.assigned_to_id.map(|a| a.to_string()).unwrap_or_default(),
            checklist: String::new(),
            find: String::new(),
        }
    }

    /// The change typed: every field replaces the stored one.
    async fn update(&self, conn: &impl ConnectionTrait) -> ApiResult<UpdateWorkOrder> {
        let d = self.request(conn).await?;
        Ok(UpdateWorkOrder {
            title: Some(d.title),
            description: Some(d.description),
            asset_id: Some(d.asset_id),
            work_order_type: d.work_order_type,
            priority: d.priority,
            assigned_to_id: Some(d.assigned_to_id),
            due_date: Some(d.due_date),
            estimated_minutes: Some(d.estimated_minutes),
            ..UpdateWorkOrder::default()
        })
    }
}

/// Checklist steps typed one per line: plain checkboxes.
fn steps(text: &str) -> Vec<ChecklistItemData> {
    text.lines()
        .filter_map(filled)
        .map(|task| ChecklistItemData {
            task,
            ..ChecklistItemData::default()
        })
        .collect()
}

#[derive(Template)]
#[template(path = "work_order_new.html")]
struct OrderFormPage {
    shell: Shell,
    /// The work order edited; `None` on the new form.
    wo: Option<WorkOrderOut>,
    form: OrderForm,
    errors: Errors,
    types: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    /// Whom the work order can be given to.
    people: Vec<(String, String)>,
    assets: Choices,
}

/// The people on offer: with `work_orders:manage` everyone who may work on work
/// orders; otherwise oneself. The current assignee is always among them, so saving
/// never changes the assignment unasked.
async fn people(web: &Web, current: Option<i64>) -> ApiResult<Vec<(String, String)>> {
    let db = web.state.db.read();
    let me = web.user.id();
    let mut out = if web.user.can(MANAGE) {
        service::assignable_users(db).await?
    } else {
        Vec::new()
    };
    for id in [Some(me), current].into_iter().flatten() {
        if !out.iter().any(|a| a.id == id)
            && let Some(u) = user::Entity::find_by_id(id).one(db).await?
        {
            out.insert(0, service::assignee(&u));
        }
    }
    Ok(out
        .into_iter()
        .map(|a| {
            let name = if a.id == me {
                format!("{} — me", a.name)
            } else {
                a.name
            };
            (a.id.to_string(), name)
        })
        .collect())
}

async fn order_form(
    web: &Web,
    wo: Option<WorkOrderOut>,
    form: OrderForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let db = web.state.db.read();
    let current = wo.as_ref().and_then(|w| w.assigned_to_id);
    let assets = if web.user.can("assets:read") {
        pick::asset_choices(db, &form.asset).await.or_page(web)?
    } else {
        Choices::default()
    };
    let page = OrderFormPage {
        assets,
        types: words::options(&WORK_ORDER_TYPES, words::type_word),
        priorities: words::options(&WORK_ORDER_PRIORITIES, words::priority_word),
        people: people(web, current).await.or_page(web)?,
        shell,
        wo,
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn new_form(web: Web, Query(q): Query<Prefill>) -> Page {
    web.require(WRITE)?;
    let one_of = |v: &str, all: &[&str], default: &str| {
        if all.contains(&v) { v } else { default }.to_string()
    };
    let mut form = OrderForm {
        title: q.title.clone(),
        description: q.description.clone(),
        kind: one_of(&q.kind, &WORK_ORDER_TYPES, "corrective"),
        priority: one_of(&q.priority, &WORK_ORDER_PRIORITIES, "medium"),
        ..OrderForm::default()
    };
    if let Ok(id) = q.asset_id.trim().parse::<i64>()
        && let Ok(a) = service::get_asset(web.state.db.read(), id).await
    {
        form.asset = pick::asset_label(&a);
        form.asset_id = a.id.to_string();
    }
    let shell = web.shell("New work order");
    order_form(&web, None, form, shell, Errors::default(), StatusCode::OK).await
}

async fn create(web: Web, Posted(form): Posted<OrderForm>) -> Page {
    web.require(WRITE)?;
    if form.find == "asset" {
        let shell = web.shell("New work order");
        return order_form(&web, None, form, shell, Errors::default(), StatusCode::OK).await;
    }
    let created = match form.request(web.state.db.read()).await {
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
            let r = web
                .refused("New work order", pick::for_form(err, WORK_ORDER_FIELDS))?
                .saying("The work order was not created");
            order_form(&web, None, form, r.shell, r.errors, r.status).await
        }
    }
}

async fn stored_order(web: &Web, id: i64) -> Result<(WorkOrderOut, Option<AssetOut>), Halt> {
    let db = web.state.db.read();
    let wo = service::get_work_order(db, id)
        .await
        .or_page(web)?
        .work_order;
    let asset = match wo.asset_id {
        Some(a) => service::get_asset(db, a).await.ok(),
        None => None,
    };
    Ok((wo, asset))
}

async fn edit_form(web: Web, Path(id): Path<i64>) -> Page {
    web.require(WRITE)?;
    let (wo, asset) = stored_order(&web, id).await?;
    let form = OrderForm::of(&wo, asset.as_ref());
    let shell = web.shell(&format!("Edit {}", wo.number));
    order_form(
        &web,
        Some(wo),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update(web: Web, Path(id): Path<i64>, Posted(form): Posted<OrderForm>) -> Page {
    web.require(WRITE)?;
    let (wo, asset) = stored_order(&web, id).await?;
    let title = format!("Edit {}", wo.number);
    if form.find == "asset" {
        let shell = web.shell(&title);
        return order_form(
            &web,
            Some(wo),
            form,
            shell,
            Errors::default(),
            StatusCode::OK,
        )
        .await;
    }
    let changed = match form.update(web.state.db.read()).await {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::update_work_order(&web.state, &web.audit(), &web.user, id, version, req).await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => back(id, "saved", "status"),
        Err(err) => {
            let r = web
                .refused(&title, pick::for_form(err, WORK_ORDER_FIELDS))?
                .saying("The work order was not changed");
            let form = r.keeping(form, || OrderForm::of(&wo, asset.as_ref()));
            order_form(&web, Some(wo), form, r.shell, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- adding steps

/// A step added on the work order page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StepForm {
    pub task: String,
    pub kind: String,
    /// `on` when checked.
    pub required: String,
}

async fn add_step(web: Web, Path(id): Path<i64>, Posted(form): Posted<StepForm>) -> Page {
    web.require(WRITE)?;
    let step = ChecklistItemData {
        task: form.task.clone(),
        kind: filled(&form.kind),
        required: form.required == "on",
        ..ChecklistItemData::default()
    };
    let added = if filled(&form.task).is_none() {
        Err(ApiError::invalid("task", "write what is to be done"))
    } else {
        service::add_checklist_steps(&web.state, &web.audit(), id, vec![step])
            .await
            .map_err(|e| pick::for_form(e, STEP_FIELDS))
    };
    match added {
        Ok(s) => {
            let anchor = s
                .first()
                .map_or("checklist".into(), |s| format!("step-{}", s.id));
            back(id, "step_added", &anchor)
        }
        Err(err) => {
            let r = web.refused("Work order", err)?;
            let shell = if r.errors.0.is_empty() {
                r.shell
            } else {
                r.shell
                    .with_error("The step was not added. See the marked field.")
            };
            let page = Extra {
                step: form,
                ..Extra::default()
            };
            work_order_page_with(&web, id, shell, r.status, None, r.errors, page).await
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
    /// The signed-in user may correct or remove it (theirs, or any with manage rights).
    editable: bool,
}

impl LaborRow {
    /// An instant as a `datetime-local` value, in plant time.
    fn local(at: &Timestamp) -> String {
        at.input_value()
    }
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
    /// A refused new step, to send again.
    step: StepForm,
    step_kinds: Vec<(String, String)>,
    overdue: bool,
    parts: super::inventory::PartsBlock,
    photos: super::photos::PhotosBlock,
    /// When it was archived, as the page says it: it is read-only then.
    archived: Option<String>,
}

impl WorkOrderPage {
    fn label(&self, status: &str) -> &'static str {
        wo_status(status)
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

/// What a refused form on the work order page had typed, to show again.
#[derive(Default)]
pub(super) struct Extra {
    /// A comment's text.
    pub draft: String,
    /// A new checklist step.
    pub step: StepForm,
    /// A part's use.
    pub parts: super::inventory::UseForm,
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
    let extra = Extra {
        draft: draft.to_string(),
        ..Extra::default()
    };
    work_order_page_with(web, id, shell, status, failed_item, errors, extra).await
}

pub(super) async fn work_order_page_with(
    web: &Web,
    id: i64,
    shell: Shell,
    status: StatusCode,
    failed_item: Option<i64>,
    errors: Errors,
    extra: Extra,
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
    // An archived work order is read-only: nobody is offered a change.
    let can_write = web.user.can(WRITE) && wo.archived_at.is_none();
    let names = nexus_identity::service::usernames(
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
        moves: if can_write {
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
                editable: can_write
                    && l.ended_at.is_some()
                    && (l.user_id == web.user.id() || web.user.can(MANAGE)),
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
        can_write,
        is_open: OPEN_STATUSES.contains(&wo.status.as_str()),
        overdue: is_overdue(&wo, &today()),
        checklist: detail.checklist,
        asset_name,
        parts: super::inventory::PartsBlock {
            typed: extra.parts,
            ..super::inventory::parts_block(web, id).await?
        },
        photos: {
            let mut block = super::photos::photos_block(web, id, &comment_ids).await?;
            block.can_add &= can_write;
            block.can_add_to_comment &= can_write;
            block
        },
        archived: wo.archived_at.map(|at| at.display()),
        wo,
        failed_item,
        errors,
        draft: extra.draft,
        step: extra.step,
        step_kinds: words::options(&CHECKLIST_KINDS, step_kind_word),
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
    refused_with(web, id, item, err, Extra::default()).await
}

/// [`refused`], showing again what the refused form had typed.
pub(super) async fn refused_with(
    web: &Web,
    id: i64,
    item: Option<i64>,
    err: ApiError,
    extra: Extra,
) -> Page {
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
    work_order_page_with(web, id, shell, r.status, item, r.errors, extra).await
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

/// A labor entry's correction as the form sends it; `action` is `delete` from Remove.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LaborForm {
    version: i32,
    started_at: String,
    ended_at: String,
    note: String,
    action: String,
}

/// Corrects or removes a finished labor entry.
async fn change_labor(
    web: Web,
    Path((id, entry)): Path<(i64, i64)>,
    Posted(form): Posted<LaborForm>,
) -> Page {
    web.require(WRITE)?;
    let (state, ctx) = (&web.state, web.audit());
    let version = IfMatch(Some(form.version));
    let done = if form.action == "delete" {
        service::delete_labor(state, &ctx, &web.user, (id, entry), version)
            .await
            .map(|_| "labor_removed")
    } else {
        let mut v = Validator::new();
        let started = nexus_core::pages::instant(&form.started_at);
        let ended = nexus_core::pages::instant(&form.ended_at);
        v.check(started.is_ok(), "started_at", "must be a date and time");
        v.check(ended.is_ok(), "ended_at", "must be a date and time");
        match v.finish() {
            Ok(()) => {
                let req = UpdateLabor {
                    started_at: started.ok().flatten(),
                    ended_at: ended.ok().flatten(),
                    hourly_rate_cents: None,
                    note: Some(filled(&form.note)),
                };
                service::update_labor(state, &ctx, &web.user, (id, entry), version, req)
                    .await
                    .map(|_| "labor_saved")
            }
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(done) => back(id, done, "labor"),
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

/// An instant for a page, in plant time: `2026-11-23 14:05 CET`.
fn when(at: &Timestamp) -> String {
    at.display()
}
