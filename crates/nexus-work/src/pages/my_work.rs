//! "My work": what is assigned to the signed-in user and still to do, late first, then
//! today and the rest of the week; redrawn live as activities and tasks change.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use nexus_core::AppState;
use nexus_core::pages::{OrPage, Page, Shell, Web, render};

use super::activities::{Row, rows};
use super::{READ, priority_word, span, status_word, task_status_word};
use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new().route("/work/my", get(my_work))
}

/// One part of the page: its rows, and how many there are in all.
struct Part<T> {
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    items: Vec<T>,
    total: u64,
}

impl<T> Part<T> {
    fn more(&self) -> bool {
        self.total > self.items.len() as u64
    }
}

fn part<T, U>(
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    s: Section<T>,
    f: impl FnOnce(Vec<T>) -> Vec<U>,
) -> Part<U> {
    Part {
        id,
        title,
        empty,
        items: f(s.items),
        total: s.total,
    }
}

#[derive(Template)]
#[template(path = "my_work.html")]
struct MyWorkPage {
    shell: Shell,
    today: String,
    activities: Vec<Part<Row>>,
    tasks: Vec<Part<TaskBrief>>,
}

impl MyWorkPage {
    fn status_word(&self, s: &str) -> &'static str {
        status_word(s)
    }

    fn task_status(&self, s: &str) -> String {
        task_status_word(s)
    }

    fn priority_word(&self, p: &str) -> &'static str {
        priority_word(p)
    }

    fn span(&self, a: &ActivityOut) -> String {
        span(&a.start_time, &a.end_time)
    }
}

async fn my_work(web: Web) -> Page {
    web.require(READ)?;
    let w = MyWork::clone(
        &*service::my_work(&web.state, &web.user)
            .await
            .or_page(&web)?,
    );
    let same = |t: Vec<TaskBrief>| t;
    let page = MyWorkPage {
        shell: web.shell("My work"),
        today: w.today.format("%A %-d %B %Y").to_string(),
        activities: vec![
            part(
                "overdue-activities",
                "Overdue",
                "Nothing overdue.",
                w.overdue_activities,
                rows,
            ),
            part(
                "today-activities",
                "Today",
                "Nothing planned for today.",
                w.today_activities,
                rows,
            ),
            part(
                "week-activities",
                "Later this week",
                "Nothing else this week.",
                w.week_activities,
                rows,
            ),
        ],
        tasks: vec![
            part(
                "overdue-tasks",
                "Overdue",
                "No task past its due date.",
                w.overdue_tasks,
                same,
            ),
            part(
                "today-tasks",
                "Today",
                "No task due today.",
                w.today_tasks,
                same,
            ),
            part(
                "week-tasks",
                "Later this week",
                "No other task starts this week.",
                w.week_tasks,
                same,
            ),
        ],
    };
    Ok(render(StatusCode::OK, &page))
}
