//! What a metric sets off, on the web: its alert rules (a critical spell of N minutes
//! opens a work order) and, on a counter, its meter schedules (a work order every N
//! units). Listed, added, changed and deleted through the same services as the JSON API.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{Done, Errors, OrPage, Page, Posted, Shell, Web, encode, filled, render};
use nexus_core::{ApiResult, AppState, IfMatch, Validator};
use nexus_maintenance::model::AssetOut;
use serde::Deserialize;

use super::number;
use crate::model::{
    AlertRuleData, AlertRuleOut, MeterScheduleData, MeterScheduleOut, MetricOut, UpdateAlertRule,
    UpdateMeterSchedule,
};
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{id}/metrics/{metric}/automation", get(show))
        .route("/assets/{id}/metrics/{metric}/rules", post(add_rule))
        .route(
            "/assets/{id}/metrics/{metric}/rules/{rule}",
            post(change_rule),
        )
        .route(
            "/assets/{id}/metrics/{metric}/meter-schedules",
            post(add_schedule),
        )
        .route(
            "/assets/{id}/metrics/{metric}/meter-schedules/{schedule}",
            post(change_schedule),
        )
}

const MANAGE: &str = "telemetry:manage";
const PRIORITIES: [(&str, &str); 4] = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
];
const TYPES: [(&str, &str); 7] = [
    ("corrective", "Corrective"),
    ("preventive", "Preventive"),
    ("inspection", "Inspection"),
    ("emergency", "Emergency"),
    ("predictive", "Predictive"),
    ("safety", "Safety"),
    ("other", "Other"),
];

/// An alert rule as the form sends it; `action` is `delete` from the Delete button.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RuleForm {
    version: i32,
    critical_minutes: String,
    title: String,
    priority: String,
    #[serde(rename = "type")]
    kind: String,
    action: String,
}

/// A whole number typed into `field`, or the field refused.
fn whole(v: &mut Validator, field: &str, text: &str) -> i64 {
    let n = text.trim().parse::<i64>();
    v.check(n.is_ok(), field, "must be a whole number");
    n.unwrap_or_default()
}

/// A number typed into `field` (blank: `None`), or the field refused.
fn decimal(v: &mut Validator, field: &str, text: &str) -> Option<f64> {
    let n = filled(text).map(|t| t.replace(',', ".").parse::<f64>());
    v.check(!matches!(n, Some(Err(_))), field, "must be a number");
    n.and_then(Result::ok)
}

impl RuleForm {
    fn data(&self) -> ApiResult<AlertRuleData> {
        let mut v = Validator::new();
        let critical_minutes = whole(&mut v, "critical_minutes", &self.critical_minutes);
        v.finish()?;
        Ok(AlertRuleData {
            critical_minutes,
            title: self.title.clone(),
            description: None,
            priority: self.priority.clone(),
            work_order_type: self.kind.clone(),
        })
    }
}

/// A meter schedule as the form sends it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ScheduleForm {
    version: i32,
    every_units: String,
    next_at: String,
    title: String,
    priority: String,
    action: String,
}

impl ScheduleForm {
    fn data(&self) -> ApiResult<MeterScheduleData> {
        let mut v = Validator::new();
        let every_units = decimal(&mut v, "every_units", &self.every_units);
        let first_at = decimal(&mut v, "next_at", &self.next_at);
        v.check(every_units.is_some(), "every_units", "give a number");
        v.finish()?;
        Ok(MeterScheduleData {
            every_units: every_units.unwrap_or_default(),
            first_at,
            title: self.title.clone(),
            description: None,
            priority: self.priority.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "automation.html")]
struct AutomationPage {
    shell: Shell,
    asset: AssetOut,
    metric: MetricOut,
    rules: Vec<AlertRuleOut>,
    schedules: Vec<MeterScheduleOut>,
    /// The new-rule and new-schedule forms, as typed after a refusal.
    new_rule: RuleForm,
    new_schedule: ScheduleForm,
    rule_errors: Errors,
    schedule_errors: Errors,
    priorities: [(&'static str, &'static str); 4],
    types: [(&'static str, &'static str); 7],
}

impl AutomationPage {
    fn base(&self) -> String {
        format!(
            "/assets/{}/metrics/{}",
            self.asset.id,
            encode(&self.metric.metric_name)
        )
    }

    fn num(&self, v: &f64) -> String {
        number(*v)
    }
}

/// The page, with the new forms `new` as typed and their errors.
async fn page(
    web: &Web,
    (id, metric): (i64, &str),
    shell: Shell,
    new: (RuleForm, ScheduleForm),
    errors: (Errors, Errors),
    status: StatusCode,
) -> Page {
    let conn = web.state.db.read();
    let asset = nexus_maintenance::service::get_asset(conn, id)
        .await
        .or_page(web)?;
    let metric = service::get_metric(conn, id, metric).await.or_page(web)?;
    let rules = service::list_rules(conn, id, &metric.metric_name)
        .await
        .or_page(web)?;
    let schedules = if metric.kind == "counter" {
        service::list_meter_schedules(conn, id, &metric.metric_name)
            .await
            .or_page(web)?
    } else {
        Vec::new()
    };
    let page = AutomationPage {
        shell,
        asset,
        metric,
        rules,
        schedules,
        new_rule: new.0,
        new_schedule: new.1,
        rule_errors: errors.0,
        schedule_errors: errors.1,
        priorities: PRIORITIES,
        types: TYPES,
    };
    Ok(render(status, &page))
}

fn fresh_forms() -> (RuleForm, ScheduleForm) {
    let rule = RuleForm {
        critical_minutes: "15".into(),
        priority: "high".into(),
        kind: "corrective".into(),
        ..RuleForm::default()
    };
    let schedule = ScheduleForm {
        priority: "medium".into(),
        ..ScheduleForm::default()
    };
    (rule, schedule)
}

fn back(id: i64, metric: &str, done: &str) -> axum::response::Response {
    let to = format!(
        "/assets/{id}/metrics/{}/automation?done={done}",
        encode(metric)
    );
    Redirect::to(&to).into_response()
}

/// Messages of this page's `?done=...`.
const DONE: &[(&str, &str)] = &[("rule", "Rule saved."), ("schedule", "Schedule saved.")];

async fn show(
    web: Web,
    Path((id, metric)): Path<(i64, String)>,
    done: axum::extract::Query<Done>,
) -> Page {
    web.require(MANAGE)?;
    let shell = web.shell_done(&format!("Automation of {metric}"), done.message(DONE));
    let none = (Errors::default(), Errors::default());
    page(
        &web,
        (id, &metric),
        shell,
        fresh_forms(),
        none,
        StatusCode::OK,
    )
    .await
}

async fn add_rule(
    web: Web,
    Path((id, metric)): Path<(i64, String)>,
    Posted(form): Posted<RuleForm>,
) -> Page {
    web.require(MANAGE)?;
    let made = match form.data() {
        Ok(req) => service::create_rule(&web.state, &web.audit(), id, &metric, req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(back(id, &metric, "rule")),
        Err(err) => {
            let r = web.refused("Automation", err)?;
            let forms = (form, fresh_forms().1);
            page(
                &web,
                (id, &metric),
                r.shell,
                forms,
                (r.errors, Errors::default()),
                r.status,
            )
            .await
        }
    }
}

async fn change_rule(
    web: Web,
    Path((id, metric, rule)): Path<(i64, String, i64)>,
    Posted(form): Posted<RuleForm>,
) -> Page {
    web.require(MANAGE)?;
    let (state, ctx) = (&web.state, web.audit());
    let done = if form.action == "delete" {
        service::delete_rule(state, &ctx, id, &metric, rule).await
    } else {
        let update = form.data().map(|d| UpdateAlertRule {
            critical_minutes: Some(d.critical_minutes),
            title: Some(d.title),
            description: None,
            priority: Some(d.priority),
            work_order_type: Some(d.work_order_type),
        });
        match update {
            Ok(req) => {
                let at = (id, metric.as_str(), rule);
                let version = IfMatch(Some(form.version));
                service::update_rule(state, &ctx, at, version, req)
                    .await
                    .map(|_| ())
            }
            Err(e) => Err(e),
        }
    };
    refused_or_back(web, (id, metric), done, "rule").await
}

async fn add_schedule(
    web: Web,
    Path((id, metric)): Path<(i64, String)>,
    Posted(form): Posted<ScheduleForm>,
) -> Page {
    web.require(MANAGE)?;
    let made = match form.data() {
        Ok(req) => service::create_meter_schedule(&web.state, &web.audit(), id, &metric, req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(back(id, &metric, "schedule")),
        Err(err) => {
            let r = web.refused("Automation", err.renamed("first_at", "next_at"))?;
            let forms = (fresh_forms().0, form);
            page(
                &web,
                (id, &metric),
                r.shell,
                forms,
                (Errors::default(), r.errors),
                r.status,
            )
            .await
        }
    }
}

async fn change_schedule(
    web: Web,
    Path((id, metric, schedule)): Path<(i64, String, i64)>,
    Posted(form): Posted<ScheduleForm>,
) -> Page {
    web.require(MANAGE)?;
    let (state, ctx) = (&web.state, web.audit());
    let at = (id, metric.as_str(), schedule);
    let version = IfMatch(Some(form.version));
    let done = if form.action == "delete" {
        service::delete_meter_schedule(state, &ctx, at, version).await
    } else {
        let update = form.data().map(|d| UpdateMeterSchedule {
            every_units: Some(d.every_units),
            next_at: d.first_at,
            title: Some(d.title),
            description: None,
            priority: Some(d.priority),
        });
        match update {
            Ok(req) => service::update_meter_schedule(state, &ctx, at, version, req)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        }
    };
    refused_or_back(web, (id, metric), done, "schedule").await
}

/// Back to the page with `done`, or the page again saying why a change was refused (a
/// stale version shows the current values).
async fn refused_or_back(
    web: Web,
    (id, metric): (i64, String),
    done: ApiResult<()>,
    what: &str,
) -> Page {
    match done {
        Ok(()) => Ok(back(id, &metric, what)),
        Err(err) => {
            let r = web.refused("Automation", err)?;
            let mut shell = r.shell;
            if !r.errors.0.is_empty() {
                let said: Vec<String> = r
                    .errors
                    .0
                    .iter()
                    .map(|e| format!("{}: {}", e.field.replace('_', " "), e.message))
                    .collect();
                shell = shell.with_error(format!("Not saved. {}.", said.join("; ")));
            }
            let none = (Errors::default(), Errors::default());
            page(&web, (id, &metric), shell, fresh_forms(), none, r.status).await
        }
    }
}
