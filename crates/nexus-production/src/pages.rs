//! The production domain's web pages: the shop-floor entry form, the live board, reports
//! with a chart drawn on the server, and the work center admin page. Handlers parse the
//! form, call the same services as the JSON API and render a template.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::{Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use nexus_core::extract::Path;
use nexus_core::pages::{
    CsrfForm, Done, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, cookie, cookie_header,
    filled, paged_link, query_string, render,
};
use nexus_core::{ApiResult, AppState, IfMatch, PageParams, Timestamp, Validator};
use nexus_identity::model::{DepartmentFilter, DepartmentOut};
use serde::Deserialize;

use crate::model::{
    CreateWorkCenter, DailyRow, MovementFilter, MovementOut, RecordMovement, ReportQuery,
    ReverseMovement, TopOrder, UpdateWorkCenter, WipFilter, WipOut, WorkCenterFilter,
    WorkCenterOut, WorkCenterTotal,
};
use crate::service::{self, ProductionState};

/// Every page of this domain.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/production/entry", get(entry).post(record))
        .route("/production/board", get(board))
        .route("/production/movements/{id}/reverse", post(reverse))
        .route("/production/wip", get(wip_page))
        .route("/production/reports", get(reports))
        .route(
            "/admin/work-centers",
            get(work_centers).post(create_work_center),
        )
        .route("/admin/work-centers/{id}", post(update_work_center))
}

/// Success messages of this domain's `?done=...`, besides the common ones.
const DONE: &[(&str, &str)] = &[("reversed", "Reversed. The reversal is on the board.")];
/// The cookie that remembers a device's work center on the entry page.
const WORK_CENTER_COOKIE: &str = "nexus_workcenter";
/// How long a device remembers its work center: a year.
const REMEMBER_SECS: i64 = 365 * 24 * 60 * 60;
/// Movements on the board.
const BOARD_ROWS: u64 = 50;
/// Days a report covers unless asked otherwise: the last week.
const REPORT_DAYS: u64 = 7;

// ---------------------------------------------------------------- plant time

/// The plant's time zone, which days and times on these pages are in.
pub(crate) fn plant_tz(state: &AppState) -> Tz {
    state.domains.get::<Arc<ProductionState>>().settings().1
}

pub(crate) fn today(tz: &Tz) -> NaiveDate {
    Utc::now().with_timezone(tz).date_naive()
}

/// An instant as plant-local wall-clock time, `14:05:09`.
fn local_time(at: Timestamp, tz: &Tz) -> String {
    at.to_datetime()
        .with_timezone(tz)
        .format("%H:%M:%S")
        .to_string()
}

/// Every work center (active or not) by code; `active` keeps only the active ones.
fn work_center_list(state: &AppState, active: bool) -> Vec<WorkCenterOut> {
    let filter = WorkCenterFilter {
        is_active: active.then_some(true),
        department_id: None,
    };
    service::list_work_centers(state, &filter)
}

// ---------------------------------------------------------------- entry

#[derive(Deserialize, Default)]
#[serde(default)]
struct EntryForm {
    production_order: String,
    workcenter_id: String,
    quantity: String,
    /// The button tapped: `IN` or `OUT`.
    order_type: String,
    scrap_quantity: String,
    shift: String,
    note: String,
}

impl EntryForm {
    /// The movement to record; numbers that do not parse are refused on their fields.
    fn request(&self) -> ApiResult<RecordMovement> {
        let mut v = Validator::new();
        let workcenter_id = chosen_id("workcenter_id", &self.workcenter_id, "work center");
        v.check(
            matches!(workcenter_id, Ok(Some(_))),
            "workcenter_id",
            "choose the work center you are at",
        );
        let quantity = self.quantity.trim().parse::<i64>();
        v.check(
            quantity.is_ok(),
            "quantity",
            "must be a whole number, like 5",
        );
        let scrap = filled(&self.scrap_quantity).map(|s| s.parse::<i64>());
        v.check(
            !matches!(scrap, Some(Err(_))),
            "scrap_quantity",
            "must be a whole number, or left empty",
        );
        v.check(
            !self.order_type.is_empty(),
            "order_type",
            "tap IN or OUT to record",
        );
        v.finish()?;
        Ok(RecordMovement {
            production_order: self.production_order.clone(),
            workcenter_id: workcenter_id.ok().flatten().unwrap_or_default(),
            quantity: quantity.unwrap_or_default(),
            order_type: self.order_type.clone(),
            scrap_quantity: scrap.and_then(Result::ok),
            shift: filled(&self.shift),
            note: filled(&self.note),
        })
    }

    /// The next scan at the same place: the work center and shift stay, the rest resets.
    fn next(self) -> Self {
        Self {
            workcenter_id: self.workcenter_id,
            shift: self.shift,
            quantity: "1".into(),
            ..Self::default()
        }
    }
}

/// What was just recorded, shown big above the form.
struct Recorded {
    order: String,
    direction: String,
    quantity: i32,
    code: String,
    wip: i64,
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    shell: Shell,
    work_centers: Vec<WorkCenterOut>,
    form: EntryForm,
    errors: Errors,
    recorded: Option<Recorded>,
}

impl EntryPage {
    /// Whether the optional fields start unfolded: when they hold something or an error.
    fn extras_open(&self) -> bool {
        ["scrap_quantity", "shift", "note"]
            .iter()
            .any(|f| self.errors.get(f).is_some())
            || !(self.form.scrap_quantity.is_empty()
                && self.form.shift.is_empty()
                && self.form.note.is_empty())
    }
}

fn entry_page(web: &Web, shell: Shell, form: EntryForm, errors: Errors) -> EntryPage {
    EntryPage {
        shell,
        work_centers: work_center_list(&web.state, true),
        form,
        errors,
        recorded: None,
    }
}

async fn entry(web: Web, headers: HeaderMap) -> Page {
    web.require("production:record")?;
    let form = EntryForm {
        workcenter_id: cookie(&headers, WORK_CENTER_COOKIE).unwrap_or_default(),
        quantity: "1".into(),
        ..EntryForm::default()
    };
    let page = entry_page(&web, web.shell("Record"), form, Errors::default());
    Ok(render(StatusCode::OK, &page))
}

async fn record(web: Web, Posted(form): Posted<EntryForm>) -> Page {
    web.require("production:record")?;
    let recorded = match form.request() {
        Ok(req) => service::record(&web.state, web.user.id(), req).await,
        Err(e) => Err(e),
    };
    match recorded {
        Ok(out) => {
            let m = out.movement;
            let code = service::get_work_center(&web.state, m.workcenter_id)
                .map(|w| w.code)
                .unwrap_or_default();
            let remember = cookie_header(
                WORK_CENTER_COOKIE,
                &m.workcenter_id.to_string(),
                REMEMBER_SECS,
                web.state.config.secure_cookies,
            );
            let mut page = entry_page(&web, web.shell("Record"), form.next(), Errors::default());
            page.recorded = Some(Recorded {
                order: m.production_order,
                direction: m.order_type,
                quantity: m.quantity,
                code,
                wip: out.wip,
            });
            let response = render(StatusCode::OK, &page);
            Ok(([(header::SET_COOKIE, remember)], response).into_response())
        }
        Err(err) => {
            let r = web.refused("Record", err)?.saying("Nothing was recorded");
            let page = entry_page(&web, r.shell, form, r.errors);
            Ok(render(r.status, &page))
        }
    }
}

// ---------------------------------------------------------------- board

/// A movement on the board.
struct BoardRow {
    movement: MovementOut,
    time: String,
    code: String,
    /// Who recorded it.
    user: String,
    /// A later reversal on the board undoes this movement.
    reversed: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    shell: Shell,
    day: String,
    timezone: String,
    rows: Vec<BoardRow>,
    totals: Vec<WorkCenterTotal>,
    can_correct: bool,
    can_record: bool,
}

/// Today's totals for every active work center (zero when idle) and any other that
/// moved today.
async fn todays_totals(state: &AppState, day: NaiveDate) -> ApiResult<Vec<WorkCenterTotal>> {
    let q = ReportQuery {
        from: Some(day),
        to: Some(day),
        ..ReportQuery::default()
    };
    let mut moved: HashMap<i64, WorkCenterTotal> = service::work_center_totals(state, &q)
        .await?
        .into_iter()
        .map(|t| (t.workcenter_id, t))
        .collect();
    Ok(work_center_list(state, false)
        .into_iter()
        .filter_map(|w| match moved.remove(&w.id) {
            Some(total) => Some(total),
            None if w.is_active => Some(WorkCenterTotal {
                workcenter_id: w.id,
                workcenter_code: w.code,
                workcenter_name: w.name,
                in_movements: 0,
                in_quantity: 0,
                out_movements: 0,
                out_quantity: 0,
                scrap: 0,
            }),
            None => None,
        })
        .collect())
}

async fn board_page(web: &Web, shell: Shell, status: StatusCode) -> Page {
    let tz = plant_tz(&web.state);
    let day = today(&tz);
    let filter = MovementFilter {
        from: Some(service::day_start(day, &tz)),
        limit: Some(BOARD_ROWS),
        ..MovementFilter::default()
    };
    let movements = service::list_movements(&web.state.db, &filter)
        .await
        .or_page(web)?
        .items;
    let reversed: HashSet<i64> = movements.iter().filter_map(|m| m.reverses_id).collect();
    let users = nexus_identity::service::usernames(
        web.state.db.read(),
        movements.iter().map(|m| Some(m.user_id)),
    )
    .await
    .or_page(web)?;
    let rows = movements
        .into_iter()
        .map(|m| BoardRow {
            time: local_time(m.created_at, &tz),
            user: users
                .get(&m.user_id)
                .cloned()
                .unwrap_or_else(|| format!("user {}", m.user_id)),
            code: service::get_work_center(&web.state, m.workcenter_id)
                .map(|w| w.code)
                .unwrap_or_else(|_| format!("#{}", m.workcenter_id)),
            reversed: reversed.contains(&m.id),
            movement: m,
        })
        .collect();
    let page = BoardPage {
        shell,
        day: day.to_string(),
        timezone: tz.name().to_string(),
        rows,
        totals: todays_totals(&web.state, day).await.or_page(web)?,
        can_correct: web.user.can("production:correct"),
        can_record: web.user.can("production:record"),
    };
    Ok(render(status, &page))
}

async fn board(web: Web, Query(done): Query<Done>) -> Page {
    web.require("production:read")?;
    board_page(
        &web,
        web.shell_done("Board", done.message(DONE)),
        StatusCode::OK,
    )
    .await
}

async fn reverse(web: Web, Path(id): Path<i64>, _: Posted<CsrfForm>) -> Page {
    web.require("production:correct")?;
    let req = ReverseMovement { note: None };
    match service::reverse(&web.state, &web.audit(), id, req).await {
        Ok(_) => Ok(Redirect::to("/production/board?done=reversed").into_response()),
        Err(err) => {
            let r = web.refused("Board", err)?;
            board_page(&web, r.shell, r.status).await
        }
    }
}

// ---------------------------------------------------------------- WIP

/// Rows of the WIP page.
const WIP_ROWS: u64 = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
struct WipForm {
    workcenter_id: String,
    order: String,
    offset: u64,
}

impl WipForm {
    fn is_empty(&self) -> bool {
        self.workcenter_id.is_empty() && self.order.trim().is_empty()
    }

    fn at(&self, offset: u64) -> String {
        paged_link(
            "/production/wip",
            &[
                ("workcenter_id", &self.workcenter_id),
                ("order", &self.order),
            ],
            offset,
        )
    }
}

struct WipRow {
    wip: WipOut,
    /// `WC001 Cutting`.
    work_center: String,
}

#[derive(Template)]
#[template(path = "wip.html")]
struct WipPage {
    shell: Shell,
    q: WipForm,
    errors: Errors,
    work_centers: Vec<WorkCenterOut>,
    rows: Vec<WipRow>,
    total: u64,
    /// Units in progress on this page.
    units: i64,
    newer: Option<String>,
    older: Option<String>,
}

/// Units in progress across orders and work centers, filtered and paged.
async fn wip_page(web: Web, Query(q): Query<WipForm>) -> Page {
    web.require("production:read")?;
    let mut page = WipPage {
        shell: web.shell("Work in progress"),
        errors: Errors::default(),
        work_centers: work_center_list(&web.state, false),
        rows: Vec::new(),
        total: 0,
        units: 0,
        newer: None,
        older: None,
        q,
    };
    let workcenter_id = match chosen_id("workcenter_id", &page.q.workcenter_id, "work center") {
        Ok(id) => id,
        Err(err) => {
            let r = web.refused("Work in progress", err)?;
            (page.shell, page.errors) = (r.shell, r.errors);
            return Ok(render(r.status, &page));
        }
    };
    let filter = WipFilter {
        workcenter_id,
        production_order: filled(&page.q.order),
    };
    let paging = PageParams {
        limit: Some(WIP_ROWS),
        offset: Some(page.q.offset),
        sort: None,
    };
    let found = service::list_wip(&web.state.db, &filter, &paging)
        .await
        .or_page(&web)?;
    let names: HashMap<i64, String> = page
        .work_centers
        .iter()
        .map(|w| (w.id, format!("{} {}", w.code, w.name)))
        .collect();
    page.units = found.items.iter().map(|w| w.wip).sum();
    page.rows = found
        .items
        .into_iter()
        .map(|wip| WipRow {
            work_center: names
                .get(&wip.workcenter_id)
                .cloned()
                .unwrap_or_else(|| format!("work center {}", wip.workcenter_id)),
            wip,
        })
        .collect();
    let (offset, shown) = (found.offset, page.rows.len() as u64);
    page.total = found.total;
    page.newer = (offset > 0).then(|| page.q.at(offset.saturating_sub(WIP_ROWS)));
    page.older = (offset + shown < found.total).then(|| page.q.at(offset + shown));
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- reports

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportForm {
    from: String,
    to: String,
    workcenter_id: String,
}

impl ReportForm {
    /// The report's query and its range; blank dates mean the last week.
    fn query(&self, today: NaiveDate) -> ApiResult<(ReportQuery, NaiveDate, NaiveDate)> {
        let mut v = Validator::new();
        let mut date = |field: &str, text: &str, default: NaiveDate| {
            let parsed = match filled(text) {
                None => Some(default),
                Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok(),
            };
            v.check(parsed.is_some(), field, "must be a date like 2026-01-31");
            parsed
        };
        let from = date("from", &self.from, today - Days::new(REPORT_DAYS - 1));
        let to = date("to", &self.to, today);
        let workcenter_id = chosen_id("workcenter_id", &self.workcenter_id, "work center");
        v.check(
            workcenter_id.is_ok(),
            "workcenter_id",
            "choose a work center from the list",
        );
        v.finish()?;
        let q = ReportQuery {
            from,
            to,
            workcenter_id: workcenter_id.ok().flatten(),
            ..ReportQuery::default()
        };
        let (from, to) = q.range()?;
        Ok((q, from, to))
    }
}

/// A bar of the chart, in the SVG's user units.
struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    /// `in` or `out`: the CSS class that colours it.
    class: &'static str,
    /// Said on hover and by screen readers.
    title: String,
}

/// A labelled position on an axis.
struct Tick {
    at: f64,
    label: String,
}

/// Units moved IN and OUT per day as an SVG bar chart, laid out here so the template
/// only places shapes.
struct Chart {
    bars: Vec<Bar>,
    /// Horizontal grid lines with their values.
    y_ticks: Vec<Tick>,
    /// Day labels under their bar groups.
    x_ticks: Vec<Tick>,
}

impl Chart {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 60.0;
    const RIGHT: f64 = 472.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 228.0;
    /// At most this many day labels, so they never overlap.
    const MAX_LABELS: usize = 7;

    /// The chart of `rows` for each day from `from` to `to`; `None` when nothing moved.
    fn of(rows: &[DailyRow], from: NaiveDate, to: NaiveDate) -> Option<Self> {
        let mut per_day: HashMap<&str, (i64, i64)> = HashMap::new();
        for r in rows {
            let e = per_day.entry(r.day.as_str()).or_default();
            if r.order_type == "IN" {
                e.0 += r.quantity;
            } else {
                e.1 += r.quantity;
            }
        }
        let days: Vec<(NaiveDate, i64, i64)> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|d| {
                let (i, o) = per_day
                    .get(d.to_string().as_str())
                    .copied()
                    .unwrap_or_default();
                (d, i.max(0), o.max(0))
            })
            .collect();
        let max = days.iter().map(|(_, i, o)| (*i).max(*o)).max().unwrap_or(0);
        if max == 0 {
            return None;
        }
        let step = nice_step((max + 3) / 4);
        let top = step * 4;
        let scale = (Self::BOTTOM - Self::TOP) / top as f64;
        let group = (Self::RIGHT - Self::LEFT) / days.len() as f64;
        let width = group * 0.38;
        let mut bars = Vec::with_capacity(days.len() * 2);
        for (n, (day, i, o)) in days.iter().enumerate() {
            let start = Self::LEFT + group * n as f64 + group * 0.1;
            for (k, (qty, class, word)) in [(*i, "in", "IN"), (*o, "out", "OUT")]
                .into_iter()
                .enumerate()
            {
                let height = qty as f64 * scale;
                bars.push(Bar {
                    x: start + width * k as f64,
                    y: Self::BOTTOM - height,
                    width,
                    height,
                    class,
                    title: format!("{day}: {qty} {word}"),
                });
            }
        }
        let y_ticks = (0..=4)
            .map(|k| Tick {
                at: Self::BOTTOM - (step * k) as f64 * scale,
                label: (step * k).to_string(),
            })
            .collect();
        // The month is named on the first label and where it changes: "Nov 29", "30", "Dec 1".
        let every = days.len().div_ceil(Self::MAX_LABELS);
        let mut month = None;
        let x_ticks = days
            .iter()
            .enumerate()
            .filter(|(n, _)| n % every == 0)
            .map(|(n, (day, _, _))| {
                let format = if month.replace(day.month()) == Some(day.month()) {
                    "%-d"
                } else {
                    "%b %-d"
                };
                Tick {
                    at: Self::LEFT + group * (n as f64 + 0.5),
                    label: day.format(format).to_string(),
                }
            })
            .collect();
        Some(Self {
            bars,
            y_ticks,
            x_ticks,
        })
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `at_least`.
fn nice_step(at_least: i64) -> i64 {
    let mut magnitude = 1;
    loop {
        for m in [1, 2, 5] {
            if m * magnitude >= at_least {
                return m * magnitude;
            }
        }
        magnitude *= 10;
    }
}

/// The report's CSV downloads: (label, address).
type Downloads = Vec<(&'static str, String)>;

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    shell: Shell,
    form: ReportForm,
    errors: Errors,
    work_centers: Vec<WorkCenterOut>,
    timezone: String,
    daily: Vec<DailyRow>,
    chart: Option<Chart>,
    totals: Vec<WorkCenterTotal>,
    top: Vec<TopOrder>,
    downloads: Downloads,
}

impl ReportsPage {
    fn chart_title(&self) -> String {
        format!(
            "Units moved IN and OUT per day, {} to {}",
            self.form.from, self.form.to
        )
    }
}

/// CSV links to the JSON API's report endpoints for the same range.
fn downloads(q: &ReportQuery) -> Downloads {
    let (from, to) = (
        q.from.map(|d| d.to_string()).unwrap_or_default(),
        q.to.map(|d| d.to_string()).unwrap_or_default(),
    );
    let wc = q.workcenter_id.map(|w| w.to_string()).unwrap_or_default();
    let query = query_string(&[
        ("format", "csv"),
        ("from", &from),
        ("to", &to),
        ("workcenter_id", &wc),
    ]);
    [
        ("Daily summary", "daily"),
        ("Work center totals", "work-centers"),
        ("Top orders", "top-orders"),
    ]
    .into_iter()
    .map(|(label, report)| {
        (
            label,
            format!("/api/v1/reports/production/{report}?{query}"),
        )
    })
    .collect()
}

async fn reports(web: Web, Query(mut form): Query<ReportForm>) -> Page {
    web.require("production:read")?;
    let tz = plant_tz(&web.state);
    let mut page = ReportsPage {
        shell: web.shell("Reports"),
        form: ReportForm::default(),
        errors: Errors::default(),
        work_centers: work_center_list(&web.state, false),
        timezone: tz.name().to_string(),
        daily: Vec::new(),
        chart: None,
        totals: Vec::new(),
        top: Vec::new(),
        downloads: Vec::new(),
    };
    let (q, from, to) = match form.query(today(&tz)) {
        Ok(range) => range,
        Err(err) => {
            let r = web.refused("Reports", err)?;
            page.shell = r.shell;
            page.errors = r.errors;
            page.form = form;
            return Ok(render(r.status, &page));
        }
    };
    let summary = service::daily_summary(&web.state, &q).await.or_page(&web)?;
    page.chart = Chart::of(&summary.rows, from, to);
    page.daily = summary.rows;
    page.totals = service::work_center_totals(&web.state, &q)
        .await
        .or_page(&web)?;
    page.top = service::top_orders(&web.state, &q).await.or_page(&web)?;
    page.downloads = downloads(&q);
    (form.from, form.to) = (from.to_string(), to.to_string());
    page.form = form;
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- work centers

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorkCenterForm {
    code: String,
    name: String,
    department_id: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
    version: i32,
}

impl WorkCenterForm {
    fn of(w: &WorkCenterOut) -> Self {
        Self {
            code: w.code.clone(),
            name: w.name.clone(),
            department_id: w.department_id.map(|d| d.to_string()).unwrap_or_default(),
            is_active: w.is_active.then(|| "on".into()),
            version: w.version,
        }
    }

    fn blank() -> Self {
        Self {
            is_active: Some("on".into()),
            ..Self::default()
        }
    }

    fn department(&self) -> ApiResult<Option<i64>> {
        chosen_id("department_id", &self.department_id, "department")
    }
}

/// One work center in the list with its edit form, which keeps what was typed when a
/// change is refused.
struct WorkCenterRow {
    work_center: WorkCenterOut,
    department: Option<String>,
    form: WorkCenterForm,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "work_centers.html")]
struct WorkCentersPage {
    shell: Shell,
    rows: Vec<WorkCenterRow>,
    departments: Vec<DepartmentOut>,
    form: WorkCenterForm,
    errors: Errors,
    can_write: bool,
}

/// A refused form on the work centers page: the new-work-center form, or one row's.
enum WorkCenterFailure {
    None,
    New(WorkCenterForm, Errors),
    Row(i64, WorkCenterForm, Errors),
}

async fn work_centers_page(
    web: &Web,
    shell: Shell,
    failure: WorkCenterFailure,
    status: StatusCode,
) -> Page {
    let all = PageParams {
        limit: Some(nexus_core::paging::MAX_LIMIT),
        ..PageParams::default()
    };
    let departments = nexus_identity::service::list_departments(
        &web.state.db,
        &DepartmentFilter::default(),
        &all,
    )
    .await
    .or_page(web)?
    .items;
    let names: HashMap<i64, String> = departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let (mut form, mut errors) = (WorkCenterForm::blank(), Errors::default());
    let mut row_failure = None;
    match failure {
        WorkCenterFailure::None => {}
        WorkCenterFailure::New(f, e) => (form, errors) = (f, e),
        WorkCenterFailure::Row(id, f, e) => row_failure = Some((id, f, e)),
    }
    let rows = work_center_list(&web.state, false)
        .into_iter()
        .map(|work_center| {
            let department = work_center
                .department_id
                .and_then(|d| names.get(&d).cloned());
            let (form, errors) = match row_failure.take_if(|(id, _, _)| *id == work_center.id) {
                Some((_, form, errors)) => (form, errors),
                None => (WorkCenterForm::of(&work_center), Errors::default()),
            };
            WorkCenterRow {
                work_center,
                department,
                form,
                errors,
            }
        })
        .collect();
    let page = WorkCentersPage {
        shell,
        rows,
        departments,
        form,
        errors,
        can_write: web.user.can("work_centers:write"),
    };
    Ok(render(status, &page))
}

async fn work_centers(web: Web, Query(done): Query<Done>) -> Page {
    web.require("work_centers:read")?;
    work_centers_page(
        &web,
        web.shell_done("Work centers", done.message(DONE)),
        WorkCenterFailure::None,
        StatusCode::OK,
    )
    .await
}

async fn create_work_center(web: Web, Posted(form): Posted<WorkCenterForm>) -> Page {
    web.require("work_centers:write")?;
    let created = match form.department() {
        Ok(department_id) => {
            let req = CreateWorkCenter {
                code: form.code.clone(),
                name: form.name.clone(),
                department_id,
                is_active: Some(form.is_active.is_some()),
            };
            service::create_work_center(&web.state, &web.audit(), req).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(w) => Ok(
            Redirect::to(&format!("/admin/work-centers?done=created#w{}", w.id)).into_response(),
        ),
        Err(err) => {
            let r = web.refused("Work centers", err)?;
            let failure = WorkCenterFailure::New(form, r.errors);
            work_centers_page(&web, r.shell, failure, r.status).await
        }
    }
}

async fn update_work_center(
    web: Web,
    Path(id): Path<i64>,
    Posted(form): Posted<WorkCenterForm>,
) -> Page {
    web.require("work_centers:write")?;
    let updated = match form.department() {
        Ok(department_id) => {
            let req = UpdateWorkCenter {
                code: None,
                name: Some(form.name.clone()),
                department_id: Some(department_id),
                is_active: Some(form.is_active.is_some()),
            };
            let version = IfMatch(Some(form.version));
            service::update_work_center(&web.state, &web.audit(), id, version, req).await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(Redirect::to(&format!("/admin/work-centers?done=saved#w{id}")).into_response()),
        Err(err) => {
            let r = web.refused("Work centers", err)?;
            // A stale row simply shows its current values, which the list reloads anyway.
            let failure = if r.stale {
                WorkCenterFailure::None
            } else {
                WorkCenterFailure::Row(id, form, r.errors)
            };
            work_centers_page(&web, r.shell, failure, r.status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(3), 5);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(130), 200);
    }

    #[test]
    fn chart_has_a_bar_pair_per_day() {
        let row = |day: &str, order_type: &str, quantity| DailyRow {
            day: day.into(),
            workcenter_id: 1,
            workcenter_code: "WC001".into(),
            order_type: order_type.into(),
            movements: 1,
            quantity,
            scrap: 0,
        };
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 1, 3).unwrap();
        let rows = [row("2026-01-02", "IN", 8), row("2026-01-02", "OUT", 3)];
        let chart = Chart::of(&rows, from, to).unwrap();
        assert_eq!(chart.bars.len(), 6);
        let tallest = &chart.bars[2];
        assert!(
            (tallest.y - Chart::TOP).abs() < 1e-9,
            "8 is the top of the axis"
        );
        assert_eq!(chart.y_ticks.last().unwrap().label, "8");
        let labels: Vec<_> = chart.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["Jan 1", "2", "3"]);
        assert!(Chart::of(&[], from, to).is_none());
    }
}
