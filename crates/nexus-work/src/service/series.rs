//! Recurring activities: a series keeps the template and the recurrence (the one the
//! preventive schedules use, `nexus_core::recurrence`), and creates its occurrences
//! [`HORIZON_DAYS`] ahead; a background task keeps that horizon as days pass.

use chrono::{NaiveDate, TimeDelta};
use nexus_core::audit::AuditCtx;
use nexus_core::recurrence::add_intervals;
use nexus_core::write::{Work, to_json};
use nexus_core::{ApiResult, AppState, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{Draft, change_activity, fields_of, insert_activity, remove_activity};
use crate::entity::{activity, project_activity, series};
use crate::model::*;

/// How far ahead a series' occurrences exist.
pub const HORIZON_DAYS: i64 = 60;
/// Most occurrences one pass creates for one series (a daily series over the horizon
/// needs 61).
const MAX_PER_PASS: i64 = 400;

/// The recurrence of series `id`.
pub async fn series_recurrence(
    conn: &impl ConnectionTrait,
    id: i64,
) -> ApiResult<Option<Recurrence>> {
    Ok(series::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|s| Recurrence {
            every: s.interval_value,
            unit: s.interval_unit,
            until: s.until_date.and_then(|d| d.parse().ok()),
        }))
}

/// The start of occurrence `k` of `s` (the first is 0): its date moved by `k` intervals,
/// at the first one's time of day.
fn occurrence_start(s: &series::Model, k: i64) -> Option<Timestamp> {
    let first = s.first_start.to_datetime();
    let day = add_intervals(first.date_naive(), s.interval_value, &s.interval_unit, k)?;
    Some(Timestamp::from_datetime(
        day.and_time(first.time()).and_utc(),
    ))
}

/// A series as its audit rows keep it.
fn series_json(s: &series::Model) -> serde_json::Value {
    serde_json::json!({
        "title": s.title,
        "type": s.activity_type,
        "priority": s.priority,
        "assigned_to_id": s.assigned_to_id,
        "first_start": s.first_start,
        "duration_seconds": s.duration_seconds,
        "every": s.interval_value,
        "unit": s.interval_unit,
        "until": s.until_date,
        "tag_ids": serde_json::from_str::<serde_json::Value>(&s.tag_ids).unwrap_or_default(),
    })
}

fn until(s: &series::Model) -> Option<NaiveDate> {
    s.until_date.as_deref().and_then(|d| d.parse().ok())
}

/// Creates the occurrences of `s` after `generated_until` up to the horizon, as the
/// series says (its template, tags and the projects of `project_ids`); returns them.
async fn generate(
    work: &mut Work<'_>,
    s: &series::Model,
    project_ids: &[i64],
    from_k: i64,
) -> ApiResult<Vec<activity::Model>> {
    let horizon = Timestamp::now().plus_seconds(HORIZON_DAYS * 86_400);
    let tag_ids: Vec<i64> = serde_json::from_str(&s.tag_ids).unwrap_or_default();
    let mut made = Vec::new();
    let mut last = s.generated_until;
    for k in from_k..from_k + MAX_PER_PASS {
        let Some(start) = occurrence_start(s, k) else {
            break;
        };
        if (k > 0 && start > horizon)
            || until(s).is_some_and(|u| start.to_datetime().date_naive() > u)
        {
            break;
        }
        if start <= s.generated_until && k > 0 {
            continue;
        }
        let draft = Draft {
            fields: ActivityFields {
                title: s.title.clone(),
                description: s.description.clone(),
                activity_type: s.activity_type.clone(),
                status: "planned".into(),
                priority: s.priority.clone(),
                start_time: start,
                end_time: start.plus_seconds(s.duration_seconds),
                assigned_to_id: s.assigned_to_id,
            },
            created_by_id: s.created_by_id,
            series_id: Some(s.id),
            tag_ids: tag_ids.clone(),
            project_ids: project_ids.to_vec(),
        };
        made.push(insert_activity(work, &draft).await?);
        last = start;
    }
    if last != s.generated_until {
        let mut am: series::ActiveModel = s.clone().into();
        am.generated_until = Set(last);
        am.update(&**work).await?;
    }
    Ok(made)
}

/// Starts a series from `draft` repeating as `r`; returns its first occurrence.
pub(crate) async fn start_series(
    work: &mut Work<'_>,
    draft: Draft,
    r: Recurrence,
) -> ApiResult<activity::Model> {
    let now = Timestamp::now();
    let f = &draft.fields;
    let s = series::ActiveModel {
        title: Set(f.title.clone()),
        description: Set(f.description.clone()),
        activity_type: Set(f.activity_type.clone()),
        priority: Set(f.priority.clone()),
        assigned_to_id: Set(f.assigned_to_id),
        created_by_id: Set(draft.created_by_id),
        first_start: Set(f.start_time),
        duration_seconds: Set(f.start_time.seconds_until(f.end_time)),
        interval_value: Set(r.every),
        interval_unit: Set(r.unit.clone()),
        until_date: Set(r.until.map(|d| d.format("%Y-%m-%d").to_string())),
        tag_ids: Set(to_json(&draft.tag_ids).to_string()),
        generated_until: Set(Timestamp(i64::MIN)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&**work)
    .await?;
    work.audit(
        "create",
        "activity_series",
        s.id,
        None,
        Some(&series_json(&s)),
    )
    .await?;
    let made = generate(work, &s, &draft.project_ids, 0).await?;
    Ok(made
        .into_iter()
        .next()
        .expect("a series has its first occurrence"))
}

/// The later occurrences of `series` than `from`, still to be done.
async fn later_open(
    conn: &impl ConnectionTrait,
    series_id: i64,
    from: &activity::Model,
) -> ApiResult<Vec<activity::Model>> {
    Ok(activity::Entity::find()
        .filter(activity::Column::SeriesId.eq(series_id))
        .filter(activity::Column::StartTime.gt(from.start_time))
        .filter(activity::Column::Status.is_in(["planned", "in-progress", "overdue"]))
        .order_by_asc(activity::Column::StartTime)
        .all(conn)
        .await?)
}

/// Carries the change from `before` to `after` of one occurrence to the later ones still
/// to be done and to the series' template: the same texts, type, priority, assignee and
/// tags, and times shifted by as much as this one's.
pub(crate) async fn change_following(
    work: &mut Work<'_>,
    series_id: i64,
    before: &activity::Model,
    after: &activity::Model,
    req: &UpdateActivity,
) -> ApiResult<()> {
    let shift = after.start_time.0 - before.start_time.0;
    let duration = after.start_time.seconds_until(after.end_time);
    let now = Timestamp::now();
    let follow = UpdateActivity {
        tag_ids: req.tag_ids.clone(),
        project_ids: req.project_ids.clone(),
        ..Default::default()
    };
    for o in later_open(&**work, series_id, before).await? {
        let mut f = fields_of(&o);
        f.title = after.title.clone();
        f.description = after.description.clone();
        f.activity_type = after.activity_type.clone();
        f.priority = after.priority.clone();
        f.assigned_to_id = after.assigned_to_id;
        f.start_time = Timestamp(o.start_time.0 + shift);
        f.end_time = f.start_time.plus_seconds(duration);
        change_activity(work, &o, &f, &follow, now).await?;
    }
    if let Some(s) = series::Entity::find_by_id(series_id).one(&**work).await? {
        let mut am: series::ActiveModel = s.clone().into();
        am.title = Set(after.title.clone());
        am.description = Set(after.description.clone());
        am.activity_type = Set(after.activity_type.clone());
        am.priority = Set(after.priority.clone());
        am.assigned_to_id = Set(after.assigned_to_id);
        am.first_start = Set(Timestamp(s.first_start.0 + shift));
        am.generated_until = Set(Timestamp(s.generated_until.0 + shift));
        am.duration_seconds = Set(duration);
        if let Some(tags) = &req.tag_ids {
            am.tag_ids = Set(to_json(tags).to_string());
        }
        am.updated_at = Set(now);
        am.version = Set(s.version + 1);
        let changed = am.update(&**work).await?;
        work.audit(
            "update",
            "activity_series",
            series_id,
            Some(&series_json(&s)),
            Some(&series_json(&changed)),
        )
        .await?;
    }
    Ok(())
}

/// Ends `series` before occurrence `from`: its later occurrences still to be done are
/// deleted and none is created after.
pub(crate) async fn end_series_before(
    work: &mut Work<'_>,
    series_id: i64,
    from: &activity::Model,
) -> ApiResult<()> {
    for o in later_open(&**work, series_id, from).await? {
        remove_activity(work, &o).await?;
    }
    if let Some(s) = series::Entity::find_by_id(series_id).one(&**work).await? {
        let last_day = from.start_time.to_datetime().date_naive() - TimeDelta::days(1);
        let mut am: series::ActiveModel = s.clone().into();
        am.until_date = Set(Some(last_day.format("%Y-%m-%d").to_string()));
        am.updated_at = Set(Timestamp::now());
        am.version = Set(s.version + 1);
        let changed = am.update(&**work).await?;
        work.audit(
            "end",
            "activity_series",
            series_id,
            Some(&series_json(&s)),
            Some(&series_json(&changed)),
        )
        .await?;
    }
    Ok(())
}

/// Creates the occurrences that came within the horizon since the last pass, for every
/// series; returns how many.
pub async fn extend_series(state: &AppState) -> ApiResult<usize> {
    let horizon = Timestamp::now().plus_seconds(HORIZON_DAYS * 86_400);
    let due = series::Entity::find()
        .filter(series::Column::GeneratedUntil.lt(horizon))
        .order_by_asc(series::Column::Id)
        .all(state.db.read())
        .await?;
    let ctx = AuditCtx::default();
    let mut made = 0;
    for s in due {
        if until(&s).is_some_and(|u| s.generated_until.to_datetime().date_naive() >= u) {
            continue;
        }
        let mut work = Work::begin(state, &ctx).await?;
        // The projects and tags of the latest occurrence carry on.
        let latest = activity::Entity::find()
            .filter(activity::Column::SeriesId.eq(s.id))
            .order_by_desc(activity::Column::StartTime)
            .one(&*work)
            .await?;
        let projects: Vec<i64> = match &latest {
            Some(a) => project_activity::Entity::find()
                .filter(project_activity::Column::ActivityId.eq(a.id))
                .all(&*work)
                .await?
                .into_iter()
                .map(|p| p.project_id)
                .collect(),
            None => Vec::new(),
        };
        let k = next_k(&s);
        made += generate(&mut work, &s, &projects, k).await?.len();
        work.commit().await?;
    }
    Ok(made)
}

/// The index of the first occurrence after `generated_until`.
fn next_k(s: &series::Model) -> i64 {
    let mut k = 0;
    while occurrence_start(s, k).is_some_and(|t| t <= s.generated_until) && k < 100_000 {
        k += 1;
    }
    k
}
