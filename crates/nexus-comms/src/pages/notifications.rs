//! The notifications page: what happened, in words, newest first; marking read,
//! dismissing, marking all read; and the preferences form.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{OrPage, Page, Posted, Shell, Web, done_message, query_string, render};
use nexus_core::{ApiError, AppState, PageParams, Timestamp};
use serde::Deserialize;

use crate::model::*;
use crate::service::notifications as service;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/preferences", post(save_preferences))
        .route("/notifications/{id}/{op}", post(mark))
}

const DONE: &[(&str, &str)] = &[
    ("read", "Marked read."),
    ("dismissed", "Dismissed."),
    ("all-read", "Every notification is marked read."),
    ("preferences", "Your choices are saved."),
];

const SHOWS: [(&str, &str); 3] = [("all", "All"), ("unread", "Unread"), ("read", "Read")];

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    show: String,
    kind: String,
    page: u64,
    done: String,
}

/// A notification as the page shows it.
struct Row {
    n: NotificationOut,
    when: String,
    kind_label: &'static str,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    shell: Shell,
    rows: Vec<Row>,
    total: u64,
    unread: u64,
    show: String,
    kind: String,
    shows: [(&'static str, &'static str); 3],
    kinds: &'static [Kind],
    preferences: Vec<PreferenceOut>,
    /// Whether this server sends email, so the form offers "also by email".
    email: bool,
    prev: Option<String>,
    next: Option<String>,
}

const PER_PAGE: u64 = 50;

/// What a kind is called, in a few words.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        WORK_ORDER_ASSIGNED => "Work order",
        REQUEST_ON_ASSET => "Request",
        ALERT_RAISED => "Alert",
        PART_LOW_STOCK => "Low stock",
        ACTIVITY_ASSIGNED => "Activity",
        TASK_ASSIGNED => "Task",
        DUE_TOMORROW => "Due tomorrow",
        MENTION => "Mention",
        ANNOUNCEMENT => "Announcement",
        SYSTEM_MESSAGE => "System message",
        _ => "Notification",
    }
}

async fn list(web: Web, Query(q): Query<ListQuery>) -> Page {
    let me = web.user.id();
    let show = if SHOWS.iter().any(|(v, _)| *v == q.show) {
        q.show.clone()
    } else {
        "all".to_string()
    };
    let kind = kind(&q.kind)
        .map(|k| k.name.to_string())
        .unwrap_or_default();
    let filter = NotificationFilter {
        is_read: match show.as_str() {
            "unread" => Some(false),
            "read" => Some(true),
            _ => None,
        },
        kind: Some(kind.clone()).filter(|k| !k.is_empty()),
        ..Default::default()
    };
    let page_no = q.page.min(1 << 20);
    let paging = PageParams {
        limit: Some(PER_PAGE),
        offset: Some(page_no * PER_PAGE),
        sort: None,
    };
    let db = web.state.db.read();
    let found = service::list(db, me, &filter, &paging)
        .await
        .or_page(&web)?;
    let unread = service::unread_count(db, me).await.or_page(&web)?;
    let preferences = service::preferences(db, me).await.or_page(&web)?;
    let at = |p: u64| {
        format!(
            "/notifications?{}",
            query_string(&[("show", &show), ("kind", &kind), ("page", &p.to_string())])
        )
    };
    let now = Timestamp::now();
    let page = NotificationsPage {
        shell: web.shell_done("Notifications", done_message(&q.done, DONE)),
        rows: found
            .items
            .into_iter()
            .map(|n| Row {
                when: ago(n.created_at, now),
                kind_label: kind_label(&n.kind),
                n,
            })
            .collect(),
        total: found.total,
        unread,
        prev: (page_no > 0).then(|| at(page_no - 1)),
        next: ((page_no + 1) * PER_PAGE < found.total).then(|| at(page_no + 1)),
        show,
        kind,
        shows: SHOWS,
        kinds: KINDS,
        preferences,
        email: web.state.config.smtp_url.is_some(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// How long ago `at` was, in words.
fn ago(at: Timestamp, now: Timestamp) -> String {
    let secs = at.seconds_until(now).max(0);
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => at.display(),
    }
}

/// A mark's form: the list's filter, to return to.
#[derive(Deserialize, Default)]
#[serde(default)]
struct MarkForm {
    show: String,
    kind: String,
}

impl MarkForm {
    /// The list as it was filtered, saying `done`.
    fn back(&self, done: &str) -> String {
        let pairs = [
            ("show", self.show.as_str()),
            ("kind", self.kind.as_str()),
            ("done", done),
        ];
        format!("/notifications?{}", query_string(&pairs))
    }
}

async fn mark(
    web: Web,
    Path((id, op)): Path<(i64, String)>,
    Posted(form): Posted<MarkForm>,
) -> Page {
    let (dismiss, done) = match op.as_str() {
        "read" => (false, "read"),
        "dismiss" => (true, "dismissed"),
        _ => return Err(web.fail(ApiError::not_found("page"))),
    };
    service::mark(&web.state, &web.audit(), web.user.id(), id, dismiss)
        .await
        .or_page(&web)?;
    Ok(Redirect::to(&form.back(done)).into_response())
}

async fn read_all(web: Web, Posted(form): Posted<MarkForm>) -> Page {
    service::read_all(&web.state, &web.audit(), web.user.id())
        .await
        .or_page(&web)?;
    Ok(Redirect::to(&form.back("all-read")).into_response())
}

/// The preferences form: a checkbox per kind, checked ones on, and one `email.<kind>` per
/// kind when the server sends email (else the email choices stay as they were).
async fn save_preferences(web: Web, Posted(form): Posted<HashMap<String, String>>) -> Page {
    let email = web.state.config.smtp_url.is_some();
    let input = PreferencesIn {
        preferences: KINDS
            .iter()
            .map(|k| PreferenceChoice {
                kind: k.name.into(),
                enabled: form.contains_key(k.name),
                email: email.then(|| form.contains_key(&format!("email.{}", k.name))),
            })
            .collect(),
    };
    service::set_preferences(&web.state, &web.audit(), web.user.id(), input)
        .await
        .or_page(&web)?;
    Ok(Redirect::to("/notifications?done=preferences#preferences").into_response())
}
