//! The alert list: filtered by status, level, asset, metric and opening time, with an
//! Acknowledge button on open alerts for those allowed to.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, OrPage, Page, Posted, Shell, Web, chosen_id, describe, filled, query_string,
    render,
};
use nexus_core::{ApiError, ApiResult, AppState, PageParams, Validator};
use serde::Deserialize;

use super::{new_work_order, number, word};
use crate::model::{AlertFilter, AlertOut};
use crate::service;
use nexus_core::pages::instant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(alerts_page))
        .route("/alerts/{id}/acknowledge", post(acknowledge))
}

/// The status filter: (value, label); `active` is every unresolved alert.
const STATUSES: &[(&str, &str)] = &[
    ("active", "Open or acknowledged"),
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
    ("all", "All"),
];
const LEVELS: &[(&str, &str)] = &[("warning", "Warning"), ("critical", "Critical")];
/// Alerts per page.
const PAGE_SIZE: u64 = 50;

/// The filters, as the form sends them.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AlertsQuery {
    status: String,
    level: String,
    asset_id: String,
    metric: String,
    /// Opened on or after this day (or time).
    since: String,
    offset: String,
}

impl AlertsQuery {
    fn status(&self) -> &str {
        match self.status.trim() {
            "" => "active",
            s => s,
        }
    }

    /// The service's filter and page; refused fields are named.
    fn filter(&self) -> ApiResult<(AlertFilter, PageParams)> {
        let mut v = Validator::new();
        let status = self.status();
        v.check(
            STATUSES.iter().any(|(s, _)| *s == status),
            "status",
            "choose a status from the list",
        );
        let level = filled(&self.level);
        v.check(
            level
                .as_deref()
                .is_none_or(|l| LEVELS.iter().any(|(v, _)| *v == l)),
            "level",
            "choose warning or critical",
        );
        let asset = chosen_id("asset_id", &self.asset_id, "asset");
        v.check(asset.is_ok(), "asset_id", "choose an asset from the list");
        let since = instant(&self.since);
        v.check(since.is_ok(), "since", "must be a date, like 2026-11-23");
        v.finish()?;
        let filter = AlertFilter {
            status: (status != "all").then(|| status.to_string()),
            asset_id: asset.ok().flatten(),
            level,
            metric_name: filled(&self.metric),
            since: since.ok().flatten().map(|t| t.to_rfc3339()),
        };
        let page = PageParams {
            limit: Some(PAGE_SIZE),
            offset: Some(self.offset.trim().parse().unwrap_or(0)),
            sort: None,
        };
        Ok((filter, page))
    }

    /// The filters as a query, with `extra` pairs (the page offset, a message).
    fn link(&self, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("status", self.status.trim()),
            ("level", self.level.trim()),
            ("asset_id", self.asset_id.trim()),
            ("metric", self.metric.trim()),
            ("since", self.since.trim()),
        ];
        pairs.extend_from_slice(extra);
        format!("/alerts?{}", query_string(&pairs))
    }
}

/// One alert as listed.
struct AlertRow {
    alert: AlertOut,
    asset: String,
    value: String,
    peak: String,
    acknowledged_by: Option<String>,
    /// A new work order for the alert's asset, for those who may open one.
    dispatch: Option<String>,
}

impl AlertRow {
    fn level(&self) -> &'static str {
        word(&self.alert.level)
    }

    fn status(&self) -> &'static str {
        word(&self.alert.status)
    }
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    shell: Shell,
    q: AlertsQuery,
    errors: Errors,
    statuses: &'static [(&'static str, &'static str)],
    levels: &'static [(&'static str, &'static str)],
    assets: Vec<(i64, String)>,
    metrics: Vec<String>,
    rows: Vec<AlertRow>,
    total: u64,
    newer: Option<String>,
    older: Option<String>,
    can_acknowledge: bool,
}

/// The alert list for `q` in `shell`, answered with `status`.
async fn list(web: &Web, q: AlertsQuery, shell: Shell, status: StatusCode) -> Page {
    let conn = web.state.db.read();
    let mut page = AlertsPage {
        shell,
        q,
        errors: Errors::default(),
        statuses: STATUSES,
        levels: LEVELS,
        assets: service::monitored_assets(conn).await.or_page(web)?,
        metrics: service::metric_names(conn).await.or_page(web)?,
        rows: Vec::new(),
        total: 0,
        newer: None,
        older: None,
        can_acknowledge: web.user.can("telemetry:write"),
    };
    let (filter, paging) = match page.q.filter() {
        Ok(f) => f,
        Err(err) => {
            let r = web.refused("Alerts", err)?;
            (page.shell, page.errors) = (r.shell, r.errors);
            return Ok(render(r.status, &page));
        }
    };
    let found = service::list_alerts(conn, &filter, &paging)
        .await
        .or_page(web)?;
    let ids = found.items.iter().map(|a| a.acknowledged_by);
    let users = nexus_identity::service::usernames(conn, ids)
        .await
        .or_page(web)?;
    let may_dispatch = web.user.can("work_orders:write");
    page.rows = found
        .items
        .into_iter()
        .map(|alert| {
            let asset = page
                .assets
                .iter()
                .find(|(id, _)| *id == alert.asset_id)
                .map_or_else(|| format!("Asset {}", alert.asset_id), |(_, n)| n.clone());
            let dispatch = (may_dispatch && alert.status != "resolved").then(|| {
                let title = format!("{} {} on {asset}", word(&alert.level), alert.metric_name);
                let priority = if alert.level == "critical" {
                    "critical"
                } else {
                    "high"
                };
                new_work_order(alert.asset_id, &title, priority)
            });
            AlertRow {
                asset,
                dispatch,
                value: number(alert.value),
                peak: number(alert.peak_value),
                acknowledged_by: alert.acknowledged_by.and_then(|u| users.get(&u).cloned()),
                alert,
            }
        })
        .collect();
    let (offset, shown) = (found.offset, page.rows.len() as u64);
    page.total = found.total;
    page.newer = (offset > 0).then(|| {
        let to = offset.saturating_sub(PAGE_SIZE).to_string();
        page.q.link(&[("offset", &to)])
    });
    page.older = (offset + shown < found.total).then(|| {
        let to = (offset + shown).to_string();
        page.q.link(&[("offset", &to)])
    });
    Ok(render(status, &page))
}

/// Alerts, newest first; unresolved ones unless asked otherwise.
async fn alerts_page(web: Web, Query(q): Query<AlertsQuery>, Query(done): Query<Done>) -> Page {
    web.require("telemetry:read")?;
    let shell = web.shell_done("Alerts", done.message(&[("acknowledged", "Acknowledged.")]));
    list(&web, q, shell, StatusCode::OK).await
}

/// Acknowledges an open alert and returns to the list (the filters the button was on come
/// with it). A user without the permission, or an alert acknowledged or resolved
/// meanwhile, gets the list with a message saying so. The status, not a version, guards
/// it: the alert engine changes open alerts all the time.
async fn acknowledge(web: Web, Path(id): Path<i64>, Posted(q): Posted<AlertsQuery>) -> Page {
    web.require("telemetry:read")?;
    let done = if web.user.can("telemetry:write") {
        service::acknowledge(&web.state, &web.audit(), id).await
    } else {
        Err(ApiError::Forbidden(
            "you may not acknowledge alerts: that needs the telemetry:write permission".into(),
        ))
    };
    match done {
        Ok(_) => {
            let to = q.link(&[("done", "acknowledged")]);
            Ok(Redirect::to(&format!("{to}#alert-{id}")).into_response())
        }
        Err(err @ (ApiError::Forbidden(_) | ApiError::Conflict { .. } | ApiError::NotFound(_))) => {
            let shell = web.shell("Alerts").with_error(describe(&err));
            list(&web, q, shell, err.status()).await
        }
        Err(err) => Err(web.fail(err)),
    }
}
