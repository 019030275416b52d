//! The calendar: a week (by day, with times) or a month of the activities one may see,
//! only one's own or all, of one type; coloured by status. Plain HTML, no script.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{Datelike, NaiveDate, TimeDelta};
use nexus_core::pages::{OrPage, Page, Shell, Web, query_string, render};
use nexus_core::paging::MAX_LIMIT;
use nexus_core::{AppState, PageParams, Timestamp};
use serde::Deserialize;

use super::{READ, WRITE, hour, status_word};
use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new().route("/work/calendar", get(calendar))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalendarQuery {
    /// `week` (the default) or `month`.
    view: String,
    /// Any day of the week shown.
    week: String,
    /// The month shown, `2026-03`.
    month: String,
    /// `1`: only the activities assigned to me.
    mine: String,
    #[serde(rename = "type")]
    kind: String,
}

impl CalendarQuery {
    fn is_month(&self) -> bool {
        self.view == "month"
    }

    fn mine(&self) -> bool {
        matches!(self.mine.as_str(), "1" | "on" | "true")
    }

    fn kind(&self) -> Option<&'static str> {
        ACTIVITY_TYPES.iter().find(|t| **t == self.kind).copied()
    }

    /// The calendar's address for `view` at `at` (a day or a month), keeping the filters.
    fn link(&self, view: &str, at: &str) -> String {
        let key = if view == "month" { "month" } else { "week" };
        format!(
            "/work/calendar?{}",
            query_string(&[
                ("view", if view == "month" { "month" } else { "" }),
                (key, at),
                ("mine", if self.mine() { "1" } else { "" }),
                ("type", self.kind().unwrap_or_default()),
            ])
        )
    }
}

/// An activity on a day.
struct Item {
    id: i64,
    title: String,
    status: String,
    /// `08:00–09:30`, or where it comes from when it started on an earlier day.
    time: String,
}

struct Day {
    date: NaiveDate,
    /// `Mon 7 Dec`.
    label: String,
    today: bool,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    shell: Shell,
    month_view: bool,
    /// `Week of 7 Dec 2026` or `December 2026`.
    heading: String,
    days: Vec<Day>,
    /// Blank cells before the first day of a month, to start weeks on Monday.
    pad: usize,
    prev: String,
    next: String,
    today_link: String,
    week_link: String,
    month_link: String,
    mine: bool,
    kind: String,
    types: Vec<String>,
    total: u64,
    can_write: bool,
    view: String,
    at: String,
}

impl CalendarPage {
    fn status_word(&self, s: &str) -> &'static str {
        status_word(s)
    }

    /// The plant's time zone, which the times are in.
    fn zone(&self) -> &'static str {
        nexus_core::plant::timezone().name()
    }
}

/// The start of a plant-local day.
fn midnight(d: NaiveDate) -> Timestamp {
    nexus_core::plant::current().day_start(d)
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday()))
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let first = first_of_month(d);
    (first + TimeDelta::days(32)).with_day(1).unwrap_or(first)
}

async fn calendar(web: Web, Query(q): Query<CalendarQuery>) -> Page {
    web.require(READ)?;
    let today = nexus_core::plant::today();
    let (from, to, heading) = if q.is_month() {
        let first = NaiveDate::parse_from_str(&format!("{}-01", q.month.trim()), "%Y-%m-%d")
            .unwrap_or_else(|_| first_of_month(today));
        (first, next_month(first), first.format("%B %Y").to_string())
    } else {
        let day = q.week.trim().parse::<NaiveDate>().unwrap_or(today);
        let mon = monday(day);
        let sun = mon + TimeDelta::days(6);
        let heading = format!(
            "Week of {} – {}",
            mon.format("%-d %b"),
            sun.format("%-d %b %Y")
        );
        (mon, mon + TimeDelta::days(7), heading)
    };
    let filter = ActivityFilter {
        assigned_to_id: q.mine().then(|| web.user.id()),
        activity_type: q.kind().map(str::to_string),
        start_from: Some(midnight(from)),
        start_to: Some(midnight(to)),
        ..ActivityFilter::default()
    };
    // Every activity of the range, a page at a time: none left out unsaid.
    let db = web.state.db.read();
    let mut found: Vec<ActivityOut> = Vec::new();
    let mut total;
    loop {
        let page = PageParams {
            limit: Some(MAX_LIMIT),
            offset: Some(found.len() as u64),
            sort: Some("start_time".into()),
        };
        let list = service::list_activities(db, &web.user, &filter, &page)
            .await
            .or_page(&web)?;
        total = list.total;
        let got = list.items.len();
        found.extend(list.items);
        if got == 0 || found.len() as u64 >= total {
            break;
        }
    }
    let mut days: Vec<Day> = Vec::new();
    let mut d = from;
    while d < to {
        days.push(Day {
            date: d,
            label: d.format("%a %-d %b").to_string(),
            today: d == today,
            items: Vec::new(),
        });
        d += TimeDelta::days(1);
    }
    for a in found {
        let date = a.start_time.local_day();
        if let Some(day) = days.iter_mut().find(|day| day.date == date) {
            day.items.push(Item {
                id: a.id,
                time: format!("{}–{}", hour(&a.start_time), hour(&a.end_time)),
                title: a.title,
                status: a.status,
            });
        }
    }
    let (prev, next, at) = if q.is_month() {
        let prev = first_of_month(from - TimeDelta::days(1));
        (
            q.link("month", &prev.format("%Y-%m").to_string()),
            q.link("month", &to.format("%Y-%m").to_string()),
            from.format("%Y-%m").to_string(),
        )
    } else {
        (
            q.link("week", &(from - TimeDelta::days(7)).to_string()),
            q.link("week", &to.to_string()),
            from.to_string(),
        )
    };
    let page = CalendarPage {
        shell: web.shell("Calendar"),
        month_view: q.is_month(),
        heading,
        pad: if q.is_month() {
            from.weekday().num_days_from_monday() as usize
        } else {
            0
        },
        days,
        prev,
        next,
        today_link: if q.is_month() {
            q.link("month", &today.format("%Y-%m").to_string())
        } else {
            q.link("week", &today.to_string())
        },
        week_link: q.link("week", &from.to_string()),
        month_link: q.link("month", &from.format("%Y-%m").to_string()),
        mine: q.mine(),
        kind: q.kind().unwrap_or_default().to_string(),
        types: ACTIVITY_TYPES.iter().map(|t| t.to_string()).collect(),
        total,
        can_write: web.user.can(WRITE),
        view: if q.is_month() { "month" } else { "week" }.into(),
        at,
    };
    Ok(render(StatusCode::OK, &page))
}
