//! Preventive maintenance: schedules, and the generator that turns them into work orders
//! through `create_work_order` with the schedule's `dedupe_key`, so a schedule never has
//! two open work orders (the partial unique index holds even across nodes). The
//! generator runs every minute, when a schedule's work order is closed, and on request.
//! Dates are days at the plant, in its time zone (`nexus_core::plant`).

use std::time::Duration;

use chrono::NaiveDate;
use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events;
use nexus_core::extract::IfMatch;
use nexus_core::jobs::{self, Job};
use nexus_core::paging::page_of;
use nexus_core::recurrence::{add_intervals, next_occurrence};
use nexus_core::write::{Work, delete_versioned, find_current, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::work_orders::{find_work_order, open_work_order};
use super::{must_exist, readers};
use crate::entity::{asset, pm_schedule, work_order};
use crate::model::*;

const READ: &str = "pm_schedules:read";

/// How often the generator looks for schedules coming due.
const TICK: Duration = Duration::from_secs(60);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

fn text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn schedule_out(s: pm_schedule::Model) -> PmScheduleOut {
    PmScheduleOut {
        checklist: serde_json::from_str(&s.checklist).unwrap_or_default(),
        id: s.id,
        asset_id: s.asset_id,
        title: s.title,
        description: s.description,
        work_order_type: s.work_order_type,
        priority: s.priority,
        assigned_to_id: s.assigned_to_id,
        interval_value: s.interval_value,
        interval_unit: s.interval_unit,
        basis: s.basis,
        start_date: s.start_date,
        next_due: s.next_due,
        lead_days: s.lead_days,
        estimated_minutes: s.estimated_minutes,
        active: s.active,
        last_work_order_id: s.last_work_order_id,
        last_generated_at: s.last_generated_at,
        created_by: s.created_by,
        created_at: s.created_at,
        updated_at: s.updated_at,
        version: s.version,
    }
}

fn schedule_data(s: &pm_schedule::Model) -> PmScheduleData {
    PmScheduleData {
        asset_id: s.asset_id,
        title: s.title.clone(),
        description: s.description.clone(),
        work_order_type: Some(s.work_order_type.clone()),
        priority: Some(s.priority.clone()),
        assigned_to_id: s.assigned_to_id,
        interval_value: i64::from(s.interval_value),
        interval_unit: s.interval_unit.clone(),
        basis: Some(s.basis.clone()),
        next_due: day(&s.next_due),
        lead_days: Some(i64::from(s.lead_days)),
        estimated_minutes: s.estimated_minutes.map(i64::from),
        checklist: serde_json::from_str(&s.checklist).unwrap_or_default(),
        active: Some(s.active),
    }
}

/// Copies validated data into the row (ranges were checked, so the narrowing is exact).
fn fill(am: &mut pm_schedule::ActiveModel, d: PmScheduleData) {
    am.asset_id = Set(d.asset_id);
    am.title = Set(d.title);
    am.description = Set(d.description);
    am.work_order_type = Set(d.work_order_type.unwrap_or_default());
    am.priority = Set(d.priority.unwrap_or_default());
    am.assigned_to_id = Set(d.assigned_to_id);
    am.interval_value = Set(d.interval_value as i32);
    am.interval_unit = Set(d.interval_unit);
    am.basis = Set(d.basis.unwrap_or_default());
    am.next_due = Set(text(d.next_due));
    am.lead_days = Set(d.lead_days.unwrap_or(0) as i32);
    am.estimated_minutes = Set(d.estimated_minutes.map(|m| m as i32));
    am.checklist = Set(to_json(&d.checklist).to_string());
    am.active = Set(d.active.unwrap_or(true));
}

fn out_of_range() -> ApiError {
    ApiError::invalid("next_due", "the next due date would be out of range")
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> ApiResult<pm_schedule::Model> {
    pm_schedule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("preventive schedule"))
}

async fn check_references(conn: &impl ConnectionTrait, d: &PmScheduleData) -> ApiResult<()> {
    must_exist::<asset::Entity>(conn, Some(d.asset_id), "asset_id", "asset").await?;
    must_exist::<nexus_identity::entity::user::Entity>(
        conn,
        d.assigned_to_id,
        "assigned_to_id",
        "user",
    )
    .await
}

pub async fn list_schedules(
    conn: &impl ConnectionTrait,
    f: &PmScheduleFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<PmScheduleOut>> {
    use pm_schedule::Column as C;
    let mut cond = Condition::all();
    if let Some(a) = f.asset_id {
        cond = cond.add(C::AssetId.eq(a));
    }
    if let Some(a) = f.active {
        cond = cond.add(C::Active.eq(a));
    }
    let query = pm_schedule::Entity::find().filter(cond);
    let sorts = ["next_due", "title", "created_at", "id"];
    Ok(page_of(conn, query, page, &sorts, ("next_due", false))
        .await?
        .map(schedule_out))
}

pub async fn get_schedule(conn: &impl ConnectionTrait, id: i64) -> ApiResult<PmScheduleOut> {
    find(conn, id).await.map(schedule_out)
}

pub async fn create_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    req: PmScheduleData,
) -> ApiResult<PmScheduleOut> {
    let d = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    check_references(&*work, &d).await?;
    let now = Timestamp::now();
    let mut am = pm_schedule::ActiveModel {
        start_date: Set(text(d.next_due)),
        created_by: Set(ctx.actor_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    fill(&mut am, d);
    let out = schedule_out(am.insert(&*work).await?);
    work.created("pm_schedule", out.id, &out, readers(READ))
        .await?;
    work.commit().await?;
    Ok(out)
}

/// Changes a schedule; a new `next_due` or interval restarts the count of occurrences
/// from `next_due`.
pub async fn update_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdatePmSchedule,
) -> ApiResult<PmScheduleOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current =
        find_current::<pm_schedule::Entity, _>(txn, id, if_match, "preventive schedule").await?;
    let mut d = schedule_data(&current);
    req.apply(&mut d);
    let d = d.validate()?;
    check_references(txn, &d).await?;
    let before = schedule_out(current.clone());
    let mut am: pm_schedule::ActiveModel = current.clone().into();
    if text(d.next_due) != current.next_due
        || d.interval_value != i64::from(current.interval_value)
        || d.interval_unit != current.interval_unit
    {
        am.start_date = Set(text(d.next_due));
    }
    fill(&mut am, d);
    am.updated_at = Set(Timestamp::now());
    let after = schedule_out(update_versioned(txn, am, current.version).await?);
    work.updated("pm_schedule", id, &before, &after, readers(READ))
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Deletes a schedule that never generated a work order; others are deactivated instead
/// (409), so their work orders keep their origin.
pub async fn delete_schedule(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current =
        find_current::<pm_schedule::Entity, _>(txn, id, if_match, "preventive schedule").await?;
    let made = work_order::Entity::find()
        .filter(work_order::Column::PmScheduleId.eq(id))
        .count(txn)
        .await?;
    if made > 0 {
        return Err(ApiError::conflict(format!(
            "the schedule generated {made} work order(s); set active to false instead"
        )));
    }
    delete_versioned::<pm_schedule::Entity, _>(txn, id, current.version).await?;
    let before = schedule_out(current);
    work.deleted("pm_schedule", id, &before, readers(READ))
        .await?;
    work.commit().await
}

/// One generator pass over a schedule, in the caller's unit of work; the work order it
/// generated, if any. The schedule row is locked first, so passes over one schedule (on
/// any node) run one after another. With `force` (a request), lead days are ignored and
/// "nothing to do" is a 409.
async fn pass(
    work: &mut Work<'_>,
    id: i64,
    today: NaiveDate,
    force: bool,
) -> ApiResult<Option<WorkOrderOut>> {
    let conn = &**work;
    let current = pm_schedule::Entity::find()
        .from_raw_sql(stmt(
            conn.get_database_backend(),
            "UPDATE pm_schedules SET version = version WHERE id = $1 RETURNING *",
            vec![id.into()],
        ))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("preventive schedule"))?;
    let idle = None;
    if !current.active {
        return match force {
            true => Err(ApiError::conflict_on(
                "active",
                "the schedule is not active",
            )),
            false => Ok(idle),
        };
    }
    if let Some(open) = work_order::Entity::find()
        .filter(work_order::Column::DedupeKey.eq(pm_dedupe_key(id)))
        .filter(work_order::Column::Status.is_in(OPEN_STATUSES))
        .one(conn)
        .await?
    {
        return match force {
            true => Err(ApiError::conflict_on(
                "dedupe_key",
                format!("work order {} of this schedule is still open", open.number),
            )),
            false => Ok(idle),
        };
    }
    let mut next_due = day(&current.next_due);
    // Counted from completion: once the last order is closed, the next is due an
    // interval after that day.
    if current.basis == "completion"
        && let Some(last) = current.last_work_order_id
    {
        let wo = find_work_order(conn, last).await?;
        if !OPEN_STATUSES.contains(&wo.status.as_str())
            && wo.due_date.as_deref() == Some(current.next_due.as_str())
        {
            let closed = wo.completed_at.unwrap_or(wo.updated_at).local_day();
            next_due = add_intervals(closed, current.interval_value, &current.interval_unit, 1)
                .ok_or_else(out_of_range)?;
        }
    }
    let lead = chrono::TimeDelta::days(i64::from(current.lead_days));
    if !force && next_due - lead > today {
        if text(next_due) == current.next_due {
            return Ok(idle);
        }
        save(work, &current, next_due, None).await?;
        return Ok(None);
    }
    let template = schedule_data(&current).work_order(id, next_due);
    let wo = match open_work_order(work, template).await {
        Ok(wo) => wo,
        // Another node generated it first.
        Err(ApiError::Conflict { .. }) if !force => return Ok(idle),
        Err(e) => return Err(e),
    };
    if current.basis == "scheduled" {
        let after = next_due.max(today.pred_opt().unwrap_or(today));
        let start = day(&current.start_date);
        next_due = next_occurrence(start, current.interval_value, &current.interval_unit, after)
            .ok_or_else(out_of_range)?;
    }
    save(work, &current, next_due, Some(&wo)).await?;
    Ok(Some(wo))
}

/// Writes a schedule's new next due date (and the order just generated): `updated`.
async fn save(
    work: &mut Work<'_>,
    current: &pm_schedule::Model,
    next_due: NaiveDate,
    generated: Option<&WorkOrderOut>,
) -> ApiResult<()> {
    let before = schedule_out(current.clone());
    let mut am: pm_schedule::ActiveModel = current.clone().into();
    am.next_due = Set(text(next_due));
    if let Some(wo) = generated {
        am.last_work_order_id = Set(Some(wo.id));
        am.last_generated_at = Set(Some(wo.created_at));
    }
    am.updated_at = Set(Timestamp::now());
    let after = schedule_out(update_versioned(&**work, am, current.version).await?);
    work.updated("pm_schedule", current.id, &before, &after, readers(READ))
        .await
}

/// Runs a pass in a unit of work of its own, with the plant's days (also outside a
/// request).
async fn run_pass(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    today: NaiveDate,
    force: bool,
) -> ApiResult<Option<WorkOrderOut>> {
    nexus_core::plant::scope(state.plant.get(), async {
        let mut work = Work::begin(state, ctx).await?;
        let made = pass(&mut work, id, today, force).await?;
        work.commit().await?;
        Ok(made)
    })
    .await
}

/// Generates a schedule's next work order now, whatever its lead days: 409 when the
/// schedule is inactive or its previous order is still open.
pub async fn generate_now(state: &AppState, ctx: &AuditCtx, id: i64) -> ApiResult<WorkOrderOut> {
    run_pass(state, ctx, id, state.plant.get().today(), true)
        .await?
        .ok_or_else(|| ApiError::internal("a forced pass generated nothing"))
}

/// Generates the work orders of every active schedule due (less its lead days) by
/// `today`; what the background task runs, callable for a chosen day.
pub async fn run_due_schedules(state: &AppState, today: NaiveDate) -> ApiResult<Vec<WorkOrderOut>> {
    let ids: Vec<i64> = pm_schedule::Entity::find()
        .select_only()
        .column(pm_schedule::Column::Id)
        .filter(pm_schedule::Column::Active.eq(true))
        .order_by_asc(pm_schedule::Column::Id)
        .into_tuple()
        .all(state.db.read())
        .await?;
    let ctx = AuditCtx::default();
    let mut made = Vec::new();
    for id in ids {
        match run_pass(state, &ctx, id, today, false).await {
            Ok(Some(wo)) => made.push(wo),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(schedule = id, error = %e, "preventive schedule not generated")
            }
        }
    }
    Ok(made)
}

/// The schedule of a closed work order event, if it came from one.
fn closed_schedule(e: &nexus_core::events::Event) -> Option<i64> {
    (e.kind == "work_order.status_changed"
        && matches!(e.data["status"].as_str(), Some("completed" | "cancelled")))
    .then(|| e.data["pm_schedule_id"].as_i64())
    .flatten()
}

/// Starts the generator: a pass over every schedule at start and each minute, and over a
/// schedule whenever one of its work orders is closed (on any node).
pub fn spawn_pm_generator(state: &AppState) {
    let job = Job {
        name: "maintenance.pm_generation",
        every: TICK,
        once_across_nodes: true,
        at_start: true,
    };
    jobs::every(state, job, |s| async move {
        let today = s.plant.get().today();
        run_due_schedules(&s, today).await
    });
    let state = state.clone();
    events::on_local(
        &state.events.clone(),
        &["work_order.status_changed"],
        move |batch| {
            let state = state.clone();
            async move {
                let today = state.plant.get().today();
                for id in batch.iter().filter_map(|e| closed_schedule(e)) {
                    let done = run_pass(&state, &AuditCtx::default(), id, today, false).await;
                    if let Err(e) = done {
                        tracing::warn!(error = %e, schedule = id, "preventive schedule not generated");
                    }
                }
            }
        },
    );
}
