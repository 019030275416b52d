//! Preventive maintenance pages: the schedule list with its new schedule form, and the
//! "generate now" button.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use nexus_core::pages::{
    CsrfForm, Done, Errors, OrPage, Page, Shell, Web, chosen_id, filled, render,
};
use nexus_core::{ApiError, ApiResult, AppState, PageParams, Validator};
use serde::Deserialize;

use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/pm-schedules", get(list).post(create))
        .route("/maintenance/pm-schedules/{id}/generate", post(generate))
}

const READ: &str = "pm_schedules:read";
const WRITE: &str = "pm_schedules:write";

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScheduleForm {
    csrf: String,
    asset_id: String,
    title: String,
    priority: String,
    interval_value: String,
    interval_unit: String,
    basis: String,
    next_due: String,
    lead_days: String,
    estimated_minutes: String,
    /// One checklist step per line.
    checklist: String,
}

impl ScheduleForm {
    fn request(&self) -> ApiResult<PmScheduleData> {
        let mut v = Validator::new();
        let mut number = |field: &str, text: &str| -> Option<i64> {
            let n = filled(text).map(|t| t.parse::<i64>());
            v.check(!matches!(n, Some(Err(_))), field, "must be a whole number");
            n.and_then(Result::ok)
        };
        let interval = number("interval_value", &self.interval_value);
        let lead = number("lead_days", &self.lead_days);
        let minutes = number("estimated_minutes", &self.estimated_minutes);
        let due = filled(&self.next_due).map(|d| d.parse::<NaiveDate>());
        v.check(
            matches!(due, Some(Ok(_))),
            "next_due",
            "choose the first due date",
        );
        let asset = chosen_id("asset_id", &self.asset_id, "asset");
        v.check(matches!(asset, Ok(Some(_))), "asset_id", "choose the asset");
        v.finish()?;
        Ok(PmScheduleData {
            asset_id: asset.ok().flatten().unwrap_or_default(),
            title: self.title.clone(),
            priority: filled(&self.priority),
            interval_value: interval.unwrap_or_default(),
            interval_unit: self.interval_unit.clone(),
            basis: filled(&self.basis),
            next_due: due.and_then(Result::ok).unwrap_or_default(),
            lead_days: lead,
            estimated_minutes: minutes,
            checklist: self
                .checklist
                .lines()
                .filter_map(filled)
                .map(|task| ChecklistItemData {
                    task,
                    ..ChecklistItemData::default()
                })
                .collect(),
            ..PmScheduleData::default()
        })
    }
}

/// A schedule with its asset's name.
struct Row {
    s: PmScheduleOut,
    asset: String,
}

#[derive(Template)]
#[template(path = "pm_schedules.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    assets: Vec<AssetOut>,
    can_write: bool,
    form: ScheduleForm,
    errors: Errors,
}

impl ListPage {
    fn chosen(&self, id: &i64) -> bool {
        self.form.asset_id == id.to_string()
    }
}

async fn list_page(
    web: &Web,
    shell: Shell,
    form: ScheduleForm,
    errors: Errors,
    status: StatusCode,
) -> Page {
    web.require(READ)?;
    let db = web.state.db.read();
    let all = PageParams {
        limit: Some(500),
        ..PageParams::default()
    };
    let schedules = service::list_schedules(db, &PmScheduleFilter::default(), &all)
        .await
        .or_page(web)?
        .items;
    let assets = service::list_assets(db, &AssetFilter::default(), &all)
        .await
        .or_page(web)?
        .items;
    let rows = schedules
        .into_iter()
        .map(|s| Row {
            asset: assets
                .iter()
                .find(|a| a.id == s.asset_id)
                .map_or_else(|| format!("#{}", s.asset_id), |a| a.name.clone()),
            s,
        })
        .collect();
    let page = ListPage {
        shell,
        rows,
        assets,
        can_write: web.user.can(WRITE),
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn list(web: Web, Query(done): Query<Done>) -> Page {
    let shell = web.shell_done("Preventive maintenance", done.message(&[]));
    let form = ScheduleForm {
        interval_value: "1".into(),
        interval_unit: "months".into(),
        lead_days: "7".into(),
        ..ScheduleForm::default()
    };
    list_page(&web, shell, form, Errors::default(), StatusCode::OK).await
}

async fn create(web: Web, Form(form): Form<ScheduleForm>) -> Page {
    web.check_csrf(&form.csrf)?;
    web.require(WRITE)?;
    let made = match form.request() {
        Ok(req) => service::create_schedule(&web.state, &web.audit(), req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(Redirect::to("/maintenance/pm-schedules?done=created").into_response()),
        Err(err) => {
            let r = web.refused("Preventive maintenance", err)?;
            let shell = r
                .shell
                .with_error("The schedule was not created. See the marked fields.");
            list_page(&web, shell, form, r.errors, r.status).await
        }
    }
}

async fn generate(web: Web, Path(id): Path<i64>, Form(form): Form<CsrfForm>) -> Page {
    web.check_csrf(&form.csrf)?;
    web.require(WRITE)?;
    match service::generate_now(&web.state, &web.audit(), id).await {
        Ok(wo) => Ok(
            Redirect::to(&format!("/maintenance/work-orders/{}?done=created", wo.id))
                .into_response(),
        ),
        Err(err @ ApiError::Conflict { .. }) => {
            let message = nexus_core::pages::describe(&err);
            let shell = web.shell("Preventive maintenance").with_error(message);
            list_page(
                &web,
                shell,
                ScheduleForm::default(),
                Errors::default(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(err) => Err(web.fail(err)),
    }
}
