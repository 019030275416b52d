//! "My work": the activities and tasks assigned to a user and still to do, by when.

use chrono::{Datelike, NaiveDate, TimeDelta};
use nexus_core::{ApiResult, CurrentUser, Timestamp};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::activity_outs;
use crate::entity::{activity, project, task};
use crate::model::*;

/// Task statuses still to do.
const OPEN_TASKS: [&str; 3] = ["todo", "in-progress", "blocked"];

fn midnight(day: NaiveDate) -> Timestamp {
    Timestamp::from_datetime(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn activities(
    conn: &impl ConnectionTrait,
    q: Select<activity::Entity>,
) -> ApiResult<Section<ActivityOut>> {
    let total = q.clone().count(conn).await?;
    let rows = q
        .order_by_asc(activity::Column::StartTime)
        .order_by_asc(activity::Column::Id)
        .limit(MY_WORK_SHOWN)
        .all(conn)
        .await?;
    Ok(Section {
        items: activity_outs(conn, rows).await?,
        total,
    })
}

async fn tasks(
    conn: &impl ConnectionTrait,
    q: Select<task::Entity>,
) -> ApiResult<Section<TaskBrief>> {
    let total = q.clone().count(conn).await?;
    let rows = q
        .order_by_asc(task::Column::DueDate)
        .order_by_asc(task::Column::Id)
        .limit(MY_WORK_SHOWN)
        .all(conn)
        .await?;
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

/// What `user` has to do as of `today`: overdue activities and tasks past their due date,
/// what runs today, and what starts later this week.
pub async fn my_work(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    today: NaiveDate,
) -> ApiResult<MyWork> {
    use activity::Column as A;
    use task::Column as T;
    let tomorrow = today + TimeDelta::days(1);
    let week_end = today + TimeDelta::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let mine = activity::Entity::find().filter(A::AssignedToId.eq(user.id()));
    let open = Condition::any()
        .add(A::Status.eq("planned"))
        .add(A::Status.eq("in-progress"));
    let my_tasks = task::Entity::find()
        .filter(T::AssigneeId.eq(user.id()))
        .filter(T::Status.is_in(OPEN_TASKS));
    Ok(MyWork {
        today,
        overdue_activities: activities(conn, mine.clone().filter(A::Status.eq("overdue"))).await?,
        today_activities: activities(
            conn,
            mine.clone()
                .filter(open.clone())
                .filter(A::StartTime.lt(midnight(tomorrow))),
        )
        .await?,
        week_activities: activities(
            conn,
            mine.filter(open)
                .filter(A::StartTime.gte(midnight(tomorrow)))
                .filter(A::StartTime.lt(midnight(week_end))),
        )
        .await?,
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
