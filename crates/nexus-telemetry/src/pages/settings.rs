//! Metric definitions on the web: add a metric to an asset, and change a metric's unit,
//! kind and thresholds. Both forms call the same services as the JSON API.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use nexus_core::extract::Path;
use nexus_core::pages::{Errors, OrPage, Page, Posted, Shell, Web, encode, filled, render};
use nexus_core::{ApiResult, AppState, IfMatch, Validator};
use nexus_maintenance::model::AssetOut;
use serde::Deserialize;

use super::number;
use crate::model::{DIRECTIONS, METRIC_KINDS, MetricData, MetricOut, UpdateMetric};
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{id}/metrics/new", get(new_page).post(create))
        .route(
            "/assets/{id}/metrics/{metric}/edit",
            get(edit_page).post(update),
        )
}

const READ: &str = "telemetry:read";
const MANAGE: &str = "telemetry:manage";

/// The fields of a metric as typed; blank thresholds are none.
#[derive(Deserialize, Default)]
#[serde(default)]
struct MetricForm {
    /// The version edited (edit form only).
    version: i32,
    metric_name: String,
    unit: String,
    kind: String,
    direction: String,
    warning_threshold: String,
    critical_threshold: String,
    hysteresis: String,
    min_threshold: String,
    max_threshold: String,
}

/// What a number field held: nothing, a number, or text that is no number.
fn parsed(v: &mut Validator, field: &str, text: &str) -> Option<f64> {
    let n = filled(text).map(|t| t.parse::<f64>());
    v.check(!matches!(n, Some(Err(_))), field, "must be a number");
    n.and_then(Result::ok)
}

fn shown(v: Option<f64>) -> String {
    v.map(number).unwrap_or_default()
}

impl MetricForm {
    fn of(m: &MetricOut) -> Self {
        Self {
            version: m.version,
            metric_name: m.metric_name.clone(),
            unit: m.unit.clone(),
            kind: m.kind.clone(),
            direction: m.direction.clone(),
            warning_threshold: shown(m.warning_threshold),
            critical_threshold: shown(m.critical_threshold),
            hysteresis: number(m.hysteresis),
            min_threshold: shown(m.min_threshold),
            max_threshold: shown(m.max_threshold),
        }
    }

    /// The definition typed, or the fields that are no numbers.
    fn data(&self) -> ApiResult<MetricData> {
        let mut v = Validator::new();
        let warning_threshold = parsed(&mut v, "warning_threshold", &self.warning_threshold);
        let critical_threshold = parsed(&mut v, "critical_threshold", &self.critical_threshold);
        let hysteresis = parsed(&mut v, "hysteresis", &self.hysteresis);
        let min_threshold = parsed(&mut v, "min_threshold", &self.min_threshold);
        let max_threshold = parsed(&mut v, "max_threshold", &self.max_threshold);
        v.finish()?;
        Ok(MetricData {
            metric_name: self.metric_name.clone(),
            unit: self.unit.clone(),
            kind: self.kind.clone(),
            min_threshold,
            max_threshold,
            warning_threshold,
            critical_threshold,
            direction: self.direction.clone(),
            hysteresis: hysteresis.unwrap_or(0.0),
        })
    }

    /// Every field as typed replaces the stored one; a blank threshold clears it.
    fn update(&self) -> ApiResult<UpdateMetric> {
        let d = self.data()?;
        Ok(UpdateMetric {
            unit: Some(d.unit),
            kind: Some(d.kind),
            min_threshold: Some(d.min_threshold),
            max_threshold: Some(d.max_threshold),
            warning_threshold: Some(d.warning_threshold),
            critical_threshold: Some(d.critical_threshold),
            direction: Some(d.direction),
            hysteresis: Some(d.hysteresis),
        })
    }
}

#[derive(Template)]
#[template(path = "metric_form.html")]
struct MetricPage {
    shell: Shell,
    asset: AssetOut,
    /// The metric edited; `None` for a new one.
    editing: Option<String>,
    form: MetricForm,
    errors: Errors,
    kinds: [&'static str; 2],
    directions: [&'static str; 2],
}

impl MetricPage {
    fn action(&self) -> String {
        match &self.editing {
            Some(name) => format!("/assets/{}/metrics/{}/edit", self.asset.id, encode(name)),
            None => format!("/assets/{}/metrics/new", self.asset.id),
        }
    }
}

async fn page(
    web: &Web,
    id: i64,
    editing: Option<String>,
    form: MetricForm,
    (shell, errors, status): (Option<Shell>, Errors, StatusCode),
) -> Page {
    let asset = nexus_maintenance::service::get_asset(web.state.db.read(), id)
        .await
        .or_page(web)?;
    let title = match &editing {
        Some(name) => format!("{name} of {}", asset.name),
        None => format!("New metric of {}", asset.name),
    };
    let page = MetricPage {
        shell: shell.unwrap_or_else(|| web.shell(&title)),
        asset,
        editing,
        form,
        errors,
        kinds: METRIC_KINDS,
        directions: DIRECTIONS,
    };
    Ok(render(status, &page))
}

fn metrics_of(id: i64) -> axum::response::Response {
    Redirect::to(&format!("/assets/{id}/metrics?done=saved")).into_response()
}

async fn new_page(web: Web, Path(id): Path<i64>) -> Page {
    web.require(READ)?;
    web.require(MANAGE)?;
    let form = MetricForm {
        kind: "gauge".into(),
        direction: "above".into(),
        hysteresis: "0".into(),
        ..MetricForm::default()
    };
    let fresh = (None, Errors::default(), StatusCode::OK);
    page(&web, id, None, form, fresh).await
}

async fn create(web: Web, Path(id): Path<i64>, Posted(form): Posted<MetricForm>) -> Page {
    web.require(MANAGE)?;
    let made = match form.data() {
        Ok(req) => service::create_metric(&web.state, &web.audit(), id, req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(metrics_of(id)),
        Err(err) => {
            let r = web
                .refused("New metric", err)?
                .saying("The metric was not added");
            page(&web, id, None, form, (Some(r.shell), r.errors, r.status)).await
        }
    }
}

async fn edit_page(web: Web, Path((id, metric)): Path<(i64, String)>) -> Page {
    web.require(READ)?;
    web.require(MANAGE)?;
    let m = service::get_metric(web.state.db.read(), id, &metric)
        .await
        .or_page(&web)?;
    let fresh = (None, Errors::default(), StatusCode::OK);
    page(&web, id, Some(metric), MetricForm::of(&m), fresh).await
}

async fn update(
    web: Web,
    Path((id, metric)): Path<(i64, String)>,
    Posted(mut form): Posted<MetricForm>,
) -> Page {
    web.require(MANAGE)?;
    let changed = match form.update() {
        Ok(req) => {
            let ctx = web.audit();
            let version = IfMatch(Some(form.version));
            service::update_metric(&web.state, &ctx, id, &metric, version, req).await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(metrics_of(id)),
        Err(err) => {
            let r = web
                .refused("Metric", err)?
                .saying("The metric was not changed");
            if r.stale {
                // Someone saved it meanwhile: show what is stored now.
                let m = service::get_metric(web.state.db.read(), id, &metric)
                    .await
                    .or_page(&web)?;
                form = MetricForm::of(&m);
            }
            page(
                &web,
                id,
                Some(metric),
                form,
                (Some(r.shell), r.errors, r.status),
            )
            .await
        }
    }
}
