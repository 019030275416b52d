//! Production on the home page: per work center, today's output against yesterday's and
//! the work in progress; an operator sees the work centers of their department.

use std::collections::HashMap;

use chrono::TimeDelta;
use nexus_core::auth::BoxFuture;
use nexus_core::db::stmt;
use nexus_core::home::{Home, Row, Tone, Want, Widget, nothing_about};
use nexus_core::{ApiResult, AppState, CurrentUser};
use nexus_identity::entity::user;
use sea_orm::{EntityTrait, FromQueryResult};

use crate::model::{ReportQuery, WorkCenterOut};
use crate::pages::{plant_tz, today};
use crate::service;

/// Work centers the panel lists at most; the board has them all.
const ROWS: usize = 12;

/// The production panel and the events that change it.
pub const HOME: Home = Home {
    widgets,
    about: nothing_about,
    events: &["production_order.created", "production_order.reversed"],
};

/// The production panel, for whoever may read production.
fn widgets<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    want: Want,
) -> BoxFuture<'a, ApiResult<Vec<Widget>>> {
    Box::pin(async move {
        // The panel has no counts: the navigation needs nothing of it.
        if !user.can("production:read") || want == Want::Counts {
            return Ok(Vec::new());
        }
        Ok(vec![output(state, user).await?])
    })
}

/// Units moved OUT of each work center on `day`.
async fn out_on(state: &AppState, day: chrono::NaiveDate) -> ApiResult<HashMap<i64, i64>> {
    let q = ReportQuery {
        from: Some(day),
        to: Some(day),
        ..ReportQuery::default()
    };
    Ok(service::work_center_totals(state, &q)
        .await?
        .into_iter()
        .map(|t| (t.workcenter_id, t.out_quantity))
        .collect())
}

#[derive(FromQueryResult)]
struct Wip {
    workcenter_id: i64,
    wip: i64,
}

/// Units in progress at each work center: the open rows of the WIP table (those its
/// partial index `idx_wip_open` holds, by the index's own predicate), as the WIP page
/// lists them, summed here. A `GROUP BY` in SQL lets SQLite prefer walking all of `wip`
/// in work-center order to sorting the few open rows; summing the daily rollup over all
/// days instead read 73,000 rows after two years of a plant's movements.
async fn wip(state: &AppState) -> ApiResult<HashMap<i64, i64>> {
    let db = state.db.read();
    let sql = "SELECT workcenter_id, qty_in - qty_out AS wip FROM wip WHERE qty_in - qty_out <> 0";
    let mut by_center = HashMap::new();
    for r in Wip::find_by_statement(stmt(db.get_database_backend(), sql, vec![]))
        .all(db)
        .await?
    {
        *by_center.entry(r.workcenter_id).or_insert(0) += r.wip;
    }
    Ok(by_center)
}

/// The active work centers the user works at: their department's, or all when they have
/// no department or it has none.
async fn my_work_centers(state: &AppState, who: &CurrentUser) -> ApiResult<Vec<WorkCenterOut>> {
    let all: Vec<WorkCenterOut> = service::list_work_centers(state, &Default::default())
        .into_iter()
        .filter(|w| w.is_active)
        .collect();
    let department = user::Entity::find_by_id(who.id())
        .one(state.db.read())
        .await?
        .and_then(|u| u.department_id);
    let mine: Vec<WorkCenterOut> = all
        .iter()
        .filter(|w| department.is_some() && w.department_id == department)
        .cloned()
        .collect();
    Ok(if mine.is_empty() { all } else { mine })
}

async fn output(state: &AppState, who: &CurrentUser) -> ApiResult<Widget> {
    let day = today(&plant_tz(state));
    let (now, before, wip) = (
        out_on(state, day).await?,
        out_on(state, day - TimeDelta::days(1)).await?,
        wip(state).await?,
    );
    let centers = my_work_centers(state, who).await?;
    let count = centers.len();
    let rows = centers
        .into_iter()
        .take(ROWS)
        .map(|w| {
            let (today, yesterday) = (
                now.get(&w.id).copied().unwrap_or(0),
                before.get(&w.id).copied().unwrap_or(0),
            );
            Row {
                href: format!("/production/reports?workcenter_id={}", w.id),
                label: format!("{} {}", w.code, w.name),
                detail: format!(
                    "{today} out today, {yesterday} yesterday; {} in progress",
                    wip.get(&w.id).copied().unwrap_or(0)
                ),
                tone: Tone::Calm,
            }
        })
        .collect();
    let total = |m: &HashMap<i64, i64>| m.values().sum::<i64>();
    let mut links = Vec::new();
    if who.can("production:record") {
        links.push(("/production/entry".into(), "Record production".into()));
    }
    links.push((
        "/production/board".into(),
        if count > ROWS {
            format!("Today's board: all {count} work centers")
        } else {
            "Today's board".into()
        },
    ));
    Ok(Widget {
        title: format!(
            "Production today: {} out, {} yesterday",
            total(&now),
            total(&before)
        ),
        // First for whoever records production and does no maintenance work.
        rank: if who.can("production:record") && !who.can("work_orders:write") {
            1
        } else {
            20
        },
        counts: Vec::new(),
        rows,
        empty: "No work center is active.".into(),
        links,
    })
}
