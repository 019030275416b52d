//! "My work": the activities and tasks assigned to a user and still to do, by when.

use chrono::{Datelike, NaiveDate, TimeDelta};
use nexus_core::plant::Plant;
use nexus_core::{ApiResult, CurrentUser, Timestamp};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::activity_outs;
use crate::entity::{activity, project, task};
use crate::model::*;

/// Activity statuses still to do (overdue ones have their own part).
const OPEN: [&str; 2] = ["planned", "in-progress"];
/// Task statuses still to do.
const OPEN_TASKS: [&str; 3] = ["todo", "in-progress", "blocked"];

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Up to [`MY_WORK_SHOWN`] of `mine` in each of `statuses` starting in `from..to`, in
/// start order, and how many there are. One status at a time, so each read is one range
/// of the (assignee, status, start) index; a status is counted only when its rows fill
/// the part (fewer are all of them).
async fn activity_rows(
    conn: &impl ConnectionTrait,
    mine: &Select<activity::Entity>,
    statuses: &[&str],
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> ApiResult<(Vec<activity::Model>, u64)> {
    use activity::Column as A;
    let (mut rows, mut total) = (Vec::new(), 0);
    for status in statuses {
        let mut q = mine.clone().filter(A::Status.eq(*status));
        if let Some(from) = from {
            q = q.filter(A::StartTime.gte(from));
        }
        if let Some(to) = to {
            q = q.filter(A::StartTime.lt(to));
        }
        let some = q
            .clone()
            .order_by_asc(A::StartTime)
            .order_by_asc(A::Id)
            .limit(MY_WORK_SHOWN)
            .all(conn)
            .await?;
        total += match some.len() as u64 {
            n if n < MY_WORK_SHOWN => n,
            _ => q.count(conn).await?,
        };
        rows.extend(some);
    }
    rows.sort_by_key(|a| (a.start_time, a.id));
    rows.truncate(MY_WORK_SHOWN as usize);
    Ok((rows, total))
}

/// The three parts' rows with their names and tags, read together.
async fn activity_sections(
    conn: &impl ConnectionTrait,
    parts: [(Vec<activity::Model>, u64); 3],
) -> ApiResult<[Section<ActivityOut>; 3]> {
    let sizes: Vec<usize> = parts.iter().map(|(rows, _)| rows.len()).collect();
    let totals: Vec<u64> = parts.iter().map(|(_, total)| *total).collect();
    let mut outs = activity_outs(conn, parts.into_iter().flat_map(|(rows, _)| rows).collect())
        .await?
        .into_iter();
    let mut take = |i: usize| Section {
        items: outs.by_ref().take(sizes[i]).collect(),
        total: totals[i],
    };
    Ok([take(0), take(1), take(2)])
}

async fn tasks(
    conn: &impl ConnectionTrait,
    q: Select<task::Entity>,
) -> ApiResult<Section<TaskBrief>> {
    let rows = q
        .clone()
        .order_by_asc(task::Column::DueDate)
        .order_by_asc(task::Column::Id)
        .limit(MY_WORK_SHOWN)
        .all(conn)
        .await?;
    let total = match rows.len() as u64 {
        n if n < MY_WORK_SHOWN => n,
        _ => q.count(conn).await?,
    };
    let names: std::collections::HashMap<i64, String> = project::Entity::find()
        .filter(project::Column::Id.is_in(rows.iter().map(|t| t.project_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let date = |s: &str| s.parse().unwrap_or_default();
    let items = rows
        .into_iter()
        .map(|t| TaskBrief {
            project: names.get(&t.project_id).cloned().unwrap_or_default(),
            start_date: date(&t.start_date),
            due_date: date(&t.due_date),
            id: t.id,
            project_id: t.project_id,
            title: t.title,
            status: t.status,
            priority: t.priority,
        })
        .collect();
    Ok(Section { items, total })
}

/// What `user` has to do today at `plant` (days in its time zone): overdue activities and
/// tasks past their due date, what runs today, and what starts later this week.
pub async fn my_work(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    plant: &Plant,
) -> ApiResult<MyWork> {
    use activity::Column as A;
    use task::Column as T;
    let today = plant.today();
    let midnight = |d: NaiveDate| plant.day_start(d);
    let tomorrow = today + TimeDelta::days(1);
    let week_end = today + TimeDelta::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let mine = activity::Entity::find().filter(A::AssignedToId.eq(user.id()));
    let my_tasks = task::Entity::find()
        .filter(T::AssigneeId.eq(user.id()))
        .filter(T::Status.is_in(OPEN_TASKS));
    let [overdue, today_part, week] = activity_sections(
        conn,
        [
            activity_rows(conn, &mine, &["overdue"], None, None).await?,
            activity_rows(conn, &mine, &OPEN, None, Some(midnight(tomorrow))).await?,
            activity_rows(
                conn,
                &mine,
                &OPEN,
                Some(midnight(tomorrow)),
                Some(midnight(week_end)),
            )
            .await?,
        ],
    )
    .await?;
    Ok(MyWork {
        today,
        overdue_activities: overdue,
        today_activities: today_part,
        week_activities: week,
        overdue_tasks: tasks(conn, my_tasks.clone().filter(T::DueDate.lt(day(today)))).await?,
        today_tasks: tasks(
            conn,
            my_tasks
                .clone()
                .filter(T::DueDate.gte(day(today)))
                .filter(T::StartDate.lte(day(today))),
        )
        .await?,
        week_tasks: tasks(
            conn,
            my_tasks
                .filter(T::StartDate.gt(day(today)))
                .filter(T::StartDate.lt(day(week_end))),
        )
        .await?,
    })
}
