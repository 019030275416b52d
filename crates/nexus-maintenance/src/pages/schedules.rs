//! Preventive maintenance pages: the schedule list with its new schedule form, the edit
//! form, and the "generate now" button.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::NaiveDate;
use nexus_core::extract::Path;
use nexus_core::pages::{CsrfForm, Done, Errors, OrPage, Page, Posted, Shell, Web, filled, render};
use nexus_core::{ApiError, ApiResult, AppState, IfMatch, PageParams, Validator};
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use super::pick::{self, Choices};
use crate::model::*;
use crate::service;
use nexus_core::pages::absorb;

/// The schedule form's fields named differently from the API's.
const SCHEDULE_FIELDS: &[(&str, &str)] = &[("asset_id", "asset"), ("checklist", "checklist")];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/pm-schedules", get(list).post(create))
        .route("/maintenance/pm-schedules/{id}/generate", post(generate))
        .route(
            "/maintenance/pm-schedules/{id}/edit",
            get(edit_page).post(update),
        )
}

const READ: &str = "pm_schedules:read";
const WRITE: &str = "pm_schedules:write";

/// The lists these pages show whole (schedules, and assets to choose from).
const ALL: PageParams = PageParams {
    limit: Some(500),
    offset: None,
    sort: None,
};

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScheduleForm {
    /// The version edited (edit form only).
    version: i32,
    /// `on` when checked (edit form only).
    active: String,
    /// The asset as typed: name, tag or serial number.
    asset: String,
    /// The asset the page filled in (see [`pick::asset`]).
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
    /// `asset`: the Find button was pressed; nothing is saved.
    find: String,
}

impl ScheduleForm {
    async fn request(&self, conn: &impl ConnectionTrait) -> ApiResult<PmScheduleData> {
        let mut v = Validator::new();
        let asset = absorb(
            &mut v,
            pick::asset(conn, "asset", &self.asset, &self.asset_id).await,
        )?
        .flatten();
        v.check(
            asset.is_some() || filled(&self.asset).is_some(),
            "asset",
            "choose the asset",
        );
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
        v.finish()?;
        Ok(PmScheduleData {
            asset_id: asset.map(|a| a.id).unwrap_or_default(),
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

impl ScheduleForm {
    fn of(s: &PmScheduleOut, asset: Option<&AssetOut>) -> Self {
        Self {
            version: s.version,
            active: if s.active { "on".into() } else { String::new() },
            asset: asset.map(pick::asset_label).unwrap_or_default(),
            asset_id: s.asset_id.to_string(),
            title: s.title.clone(),
            priority: s.priority.clone(),
            interval_value: s.interval_value.to_string(),
            interval_unit: s.interval_unit.clone(),
            basis: s.basis.clone(),
            next_due: s.next_due.clone(),
            lead_days: s.lead_days.to_string(),
            estimated_minutes: s
                .estimated_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            checklist: s
                .checklist
                .iter()
                .map(|c| c.task.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            find: String::new(),
        }
    }

    /// The change typed: every field replaces the stored one. A step whose line is kept
    /// keeps its kind, limits and flags; a new line is a plain checkbox.
    async fn update(
        &self,
        conn: &impl ConnectionTrait,
        stored: &[ChecklistItemData],
    ) -> ApiResult<UpdatePmSchedule> {
        let d = self.request(conn).await?;
        let checklist = d
            .checklist
            .into_iter()
            .map(|new| {
                stored
                    .iter()
                    .find(|c| c.task == new.task)
                    .cloned()
                    .unwrap_or(new)
            })
            .collect();
        Ok(UpdatePmSchedule {
            asset_id: Some(d.asset_id),
            title: Some(d.title),
            priority: Some(d.priority.unwrap_or_else(|| "medium".into())),
            interval_value: Some(d.interval_value),
            interval_unit: Some(d.interval_unit),
            basis: d.basis,
            next_due: Some(d.next_due),
            lead_days: Some(d.lead_days.unwrap_or(0)),
            estimated_minutes: Some(d.estimated_minutes),
            checklist: Some(checklist),
            active: Some(self.active == "on"),
            ..UpdatePmSchedule::default()
        })
    }
}

#[derive(Template)]
#[template(path = "pm_schedule_edit.html")]
struct EditPage {
    shell: Shell,
    schedule: PmScheduleOut,
    assets: Choices,
    form: ScheduleForm,
    errors: Errors,
}

async fn edit_form(
    web: &Web,
    id: i64,
    form: Option<ScheduleForm>,
    (shell, errors, status): (Option<Shell>, Errors, StatusCode),
) -> Page {
    web.require(READ)?;
    web.require(WRITE)?;
    let db = web.state.db.read();
    let schedule = service::get_schedule(db, id).await.or_page(web)?;
    let form = match form {
        Some(f) => f,
        None => {
            let asset = service::get_asset(db, schedule.asset_id).await.ok();
            ScheduleForm::of(&schedule, asset.as_ref())
        }
    };
    let assets = pick::asset_choices(db, &form.asset).await.or_page(web)?;
    let page = EditPage {
        shell: shell.unwrap_or_else(|| web.shell(&schedule.title)),
        form,
        schedule,
        assets,
        errors,
    };
    Ok(render(status, &page))
}

async fn edit_page(web: Web, Path(id): Path<i64>) -> Page {
    edit_form(&web, id, None, (None, Errors::default(), StatusCode::OK)).await
}

async fn update(web: Web, Path(id): Path<i64>, Posted(form): Posted<ScheduleForm>) -> Page {
    web.require(WRITE)?;
    let stored = service::get_schedule(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    if form.find == "asset" {
        let shell = web.shell(&stored.title);
        return edit_form(
            &web,
            id,
            Some(form),
            (Some(shell), Errors::default(), StatusCode::OK),
        )
        .await;
    }
    let changed = match form.update(web.state.db.read(), &stored.checklist).await {
        Ok(req) => {
            let version = IfMatch(Some(form.version));
            service::update_schedule(&web.state, &web.audit(), id, version, req).await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to("/maintenance/pm-schedules?done=saved").into_response()),
        Err(err) => {
            let r = web
                .refused(
                    "Preventive maintenance",
                    pick::for_form(err, SCHEDULE_FIELDS),
                )?
                .saying("The schedule was not changed");
            // Stale: `None` shows what is stored now.
            let form = r.keeping(Some(form), || None);
            edit_form(&web, id, form, (Some(r.shell), r.errors, r.status)).await
        }
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
    /// Schedules in all; the list shows the first [`ALL`] by due date.
    total: u64,
    assets: Choices,
    can_write: bool,
    form: ScheduleForm,
    errors: Errors,
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
    let listed = service::list_schedules(db, &PmScheduleFilter::default(), &ALL)
        .await
        .or_page(web)?;
    let total = listed.total;
    let schedules = listed.items;
    let ids: Vec<i64> = schedules.iter().map(|s| s.asset_id).collect();
    let names = service::qr::assets_by_ids(db, &ids).await.or_page(web)?;
    let rows = schedules
        .into_iter()
        .map(|s| Row {
            asset: names
                .iter()
                .find(|a| a.id == s.asset_id)
                .map_or_else(|| format!("#{}", s.asset_id), |a| a.name.clone()),
            s,
        })
        .collect();
    let assets = pick::asset_choices(db, &form.asset).await.or_page(web)?;
    let page = ListPage {
        shell,
        rows,
        total,
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

async fn create(web: Web, Posted(form): Posted<ScheduleForm>) -> Page {
    web.require(WRITE)?;
    if form.find == "asset" {
        let shell = web.shell("Preventive maintenance");
        return list_page(&web, shell, form, Errors::default(), StatusCode::OK).await;
    }
    let made = match form.request(web.state.db.read()).await {
        Ok(req) => service::create_schedule(&web.state, &web.audit(), req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(Redirect::to("/maintenance/pm-schedules?done=created").into_response()),
        Err(err) => {
            let r = web
                .refused(
                    "Preventive maintenance",
                    pick::for_form(err, SCHEDULE_FIELDS),
                )?
                .saying("The schedule was not created");
            list_page(&web, r.shell, form, r.errors, r.status).await
        }
    }
}

async fn generate(web: Web, Path(id): Path<i64>, _: Posted<CsrfForm>) -> Page {
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
