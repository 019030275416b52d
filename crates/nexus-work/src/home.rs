//! Activities and tasks on the home page: what is assigned to the signed-in user and late
//! or due today, and for those who see every activity, how many are overdue in the plant.

use nexus_core::auth::BoxFuture;
use nexus_core::home::{Count, Home, Row, Tone, Want, Widget, nothing_about};
use nexus_core::{ApiResult, AppState, CurrentUser};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entity::activity;
use crate::model::{ACTIVITIES_READ_ALL, MyWork};
use crate::service;

/// Rows the panel lists at most; its counts say how many there are in all.
const ROWS: usize = 6;

/// The work panel and the events that change it.
pub const HOME: Home = Home {
    widgets,
    about: nothing_about,
    events: &[
        "activity.created",
        "activity.updated",
        "activity.deleted",
        "task.created",
        "task.updated",
        "task.deleted",
    ],
};

fn widgets<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    _: Want,
) -> BoxFuture<'a, ApiResult<Vec<Widget>>> {
    Box::pin(async move {
        if !user.can("activities:read") {
            return Ok(Vec::new());
        }
        let work = service::my_work(state, user).await?;
        let db = state.db.read();
        let mut counts = vec![
            Count::new(
                "activities.overdue_mine",
                "My overdue activities",
                work.overdue_activities.total,
                "/work/my",
                Tone::Warning,
            )
            .on_nav("/work/my"),
            Count::new(
                "activities.today_mine",
                "My activities today",
                work.today_activities.total,
                "/work/my",
                Tone::Notice,
            ),
            Count::new(
                "tasks.overdue_mine",
                "My overdue tasks",
                work.overdue_tasks.total,
                "/work/my",
                Tone::Warning,
            ),
        ];
        if user.can(ACTIVITIES_READ_ALL) {
            let overdue = activity::Entity::find()
                .filter(activity::Column::Status.eq("overdue"))
                .count(db)
                .await?;
            counts.push(
                Count::new(
                    "activities.overdue",
                    "Overdue activities in the plant",
                    overdue,
                    "/work/activities?status=overdue",
                    Tone::Warning,
                )
                .on_nav("/work/activities"),
            );
        }
        Ok(vec![Widget {
            title: "My activities and tasks".into(),
            rank: 12,
            counts,
            rows: rows(&work),
            empty: "Nothing of yours is late or due today.".into(),
            links: vec![
                ("/work/my".into(), "All my work".into()),
                ("/work/calendar".into(), "Calendar".into()),
            ],
        }])
    })
}

/// Late items first, then today's.
fn rows(work: &MyWork) -> Vec<Row> {
    let activity = |a: &crate::model::ActivityOut, late: bool| Row {
        href: format!("/work/activities/{}", a.id),
        label: a.title.clone(),
        detail: if late {
            format!("Overdue since {}", a.end_time.display())
        } else {
            format!("Today {}", a.start_time.local().format("%H:%M %Z"))
        },
        tone: if late { Tone::Warning } else { Tone::Notice },
    };
    let task = |t: &crate::model::TaskBrief, late: bool| Row {
        href: format!("/work/tasks/{}", t.id),
        label: format!("{} ({})", t.title, t.project),
        detail: if late {
            format!("Task overdue since {}", t.due_date)
        } else {
            format!("Task due {}", t.due_date)
        },
        tone: if late { Tone::Warning } else { Tone::Notice },
    };
    work.overdue_activities
        .items
        .iter()
        .map(|a| activity(a, true))
        .chain(work.overdue_tasks.items.iter().map(|t| task(t, true)))
        .chain(
            work.today_activities
                .items
                .iter()
                .map(|a| activity(a, false)),
        )
        .chain(work.today_tasks.items.iter().map(|t| task(t, false)))
        .take(ROWS)
        .collect()
}
