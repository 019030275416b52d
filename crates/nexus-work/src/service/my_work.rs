//! "My work": the activities and tasks assigned to a user and still to do, by when. Its
//! answers are kept per user and plant day until something it is built from changes
//! ([`my_work`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{Datelike, NaiveDate, TimeDelta};
use nexus_core::paging::{counts, union_all};
use nexus_core::plant::Plant;
use nexus_core::{ApiResult, AppState, CurrentUser};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use tokio::sync::OnceCell;

use super::with_people_and_tags;
use crate::entity::{activity, project, task};
use crate::model::*;

/// Activity statuses still to do (overdue ones have their own part).
const OPEN: [&str; 2] = ["planned", "in-progress"];
/// Task statuses still to do.
const OPEN_TASKS: [&str; 3] = ["todo", "in-progress", "blocked"];

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The parts of "my work" of one kind of record: the first [`MY_WORK_SHOWN`] rows of each
/// part in `key` order (read as `order` shapes them) and how many it has. A part is read as
/// one or more ranges (`reads`: the part's index, and the range in `order`), each one range
/// of an index; all ranges' first rows come in one round trip, then the counts of the
/// ranges that filled their page (fewer rows are all of them) in one more.
async fn parts<E, M, C, K, const N: usize>(
    conn: &C,
    reads: Vec<(usize, Select<E>)>,
    order: impl Fn(Select<E>) -> Select<E>,
    key: impl Fn(&M) -> K,
) -> ApiResult<[(Vec<M>, u64); N]>
where
    E: EntityTrait,
    M: FromQueryResult,
    C: ConnectionTrait,
    K: Ord,
{
    let pages = reads.iter().enumerate().map(|(r, (_, q))| {
        order(q.clone())
            .expr_as(Expr::val(r as i32), "read")
            .limit(MY_WORK_SHOWN)
            .into_query()
    });
    let mut found: Vec<Vec<M>> = reads.iter().map(|_| Vec::new()).collect();
    if let Some(all) = union_all(pages) {
        let backend = conn.get_database_backend();
        for row in conn.query_all_raw(backend.build(&all)).await? {
            let r = row.try_get::<i32>("", "read")? as usize;
            found[r].push(M::from_query_result(&row, "")?);
        }
    }
    let full: Vec<usize> = (0..reads.len())
        .filter(|&r| found[r].len() as u64 >= MY_WORK_SHOWN)
        .collect();
    let counted = counts(
        conn,
        full.iter()
            .map(|&r| reads[r].1.clone().into_query())
            .collect(),
    )
    .await?;
    let mut totals: Vec<u64> = found.iter().map(|rows| rows.len() as u64).collect();
    for (r, n) in full.into_iter().zip(counted) {
        totals[r] = n;
    }
    let mut out: [(Vec<M>, u64); N] = std::array::from_fn(|_| (Vec::new(), 0));
    for ((rows, total), (part, _)) in found.into_iter().zip(totals).zip(&reads) {
        out[*part].0.extend(rows);
        out[*part].1 += total;
    }
    for (rows, _) in &mut out {
        rows.sort_by_key(&key);
        rows.truncate(MY_WORK_SHOWN as usize);
    }
    Ok(out)
}

/// The three parts' tasks with their projects' names.
async fn task_sections(
    conn: &impl ConnectionTrait,
    parts: [(Vec<task::Model>, u64); 3],
) -> ApiResult<[Section<TaskBrief>; 3]> {
    let names: std::collections::HashMap<i64, String> = project::Entity::find()
        .filter(
            project::Column::Id.is_in(
                parts
                    .iter()
                    .flat_map(|(rows, _)| rows.iter().map(|t| t.project_id)),
            ),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let date = |s: &str| s.parse().unwrap_or_default();
    Ok(parts.map(|(rows, total)| Section {
        items: rows
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
            .collect(),
        total,
    }))
}

/// What my work is built from, of people's own: an event about one of these (an
/// assignment, a status, a title, a project's name), on any node, makes the kept answers
/// of the users it names stale (an activity's or task's people, a project's team; before
/// and after a reassignment), and every kept answer when it names nobody.
const OWN: &[&str] = &["activity", "task", "project"];
/// What my work is built from, of everyone's: an event about one of these (a tag, a
/// username, the plant's time zone) makes every kept answer stale.
const SHARED: &[&str] = &["tag", "user", "plant"];

/// Answers kept at most (one is up to ~100 KB: 150 activities and 150 tasks); past it
/// the cache starts over.
const KEPT: usize = 1_000;

/// Answers of my work by (user, plant day), each with the counts of events about what it
/// is built from when it was asked for ([`OWN`] concerning the user, [`SHARED`]; see
/// [`nexus_core::EventBus::seen_by`]).
#[derive(Default)]
pub struct MyWorkCache(Mutex<Answers>);

/// Kept answers: (user, day) to (events seen when asked, the answer once read). Requests
/// that find the same counts share one read: after a change, a user's page, home widget
/// and other tabs wait for one database read instead of making one each.
type Answers = HashMap<(i64, NaiveDate), ((u64, u64), Arc<OnceCell<Arc<MyWork>>>)>;

impl MyWorkCache {
    fn answers(&self) -> MutexGuard<'_, Answers> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What `user` has to do today (days in the plant's time zone): overdue activities and
/// tasks past their due date, what runs today, and what starts later this week. Read
/// again when anything it is built from changed since the kept answer; a user who asks
/// again, as the page and the home widget do, is answered from memory meanwhile.
pub async fn my_work(state: &AppState, user: &CurrentUser) -> ApiResult<Arc<MyWork>> {
    let plant = state.plant.get();
    let key = (user.id(), plant.today());
    let at = (
        state.events.seen_by(OWN, user.id()),
        state.events.seen(SHARED),
    );
    let cache = state.domains.get::<MyWorkCache>();
    let answer = {
        let mut answers = cache.answers();
        match answers.get(&key) {
            Some((seen, answer)) if *seen == at => answer.clone(),
            _ => {
                if answers.len() >= KEPT {
                    answers.clear();
                }
                let answer = Arc::new(OnceCell::new());
                answers.insert(key, (at, answer.clone()));
                answer
            }
        }
    };
    let read = || async { Ok(Arc::new(read_my_work(state.db.read(), user, &plant).await?)) };
    answer.get_or_try_init(read).await.cloned()
}

/// [`my_work`] read from the database.
async fn read_my_work(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    plant: &Plant,
) -> ApiResult<MyWork> {
    use activity::Column as A;
    use task::Column as T;
    let today = plant.today();
    let midnight = |d: NaiveDate| plant.day_start(d);
    let week_end = today + TimeDelta::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let tomorrow = midnight(today + TimeDelta::days(1));
    let monday = midnight(week_end);
    let mine = || activity::Entity::find().filter(A::AssignedToId.eq(user.id()));
    // One status at a time, so that each read is one range of the (assignee, status,
    // start) index.
    let mut reads = vec![(0, mine().filter(A::Status.eq("overdue")))];
    for status in OPEN {
        let open = mine().filter(A::Status.eq(status));
        reads.push((1, open.clone().filter(A::StartTime.lt(tomorrow))));
        reads.push((
            2,
            open.filter(A::StartTime.gte(tomorrow))
                .filter(A::StartTime.lt(monday)),
        ));
    }
    let backend = conn.get_database_backend();
    let by_start = |q: Select<activity::Entity>| {
        with_people_and_tags(q.order_by_asc(A::StartTime).order_by_asc(A::Id), backend)
    };
    let activities = parts(conn, reads, by_start, |a: &ActivityOut| {
        (a.start_time, a.id)
    })
    .await?;
    let [overdue, today_part, week] = activities.map(|(items, total)| Section { items, total });
    let my_tasks = || {
        task::Entity::find()
            .filter(T::AssigneeId.eq(user.id()))
            .filter(T::Status.is_in(OPEN_TASKS))
    };
    let (today_day, week_end_day) = (day(today), day(week_end));
    let reads = vec![
        (0, my_tasks().filter(T::DueDate.lt(&today_day))),
        (
            1,
            my_tasks()
                .filter(T::DueDate.gte(&today_day))
                .filter(T::StartDate.lte(&today_day)),
        ),
        (
            2,
            my_tasks()
                .filter(T::StartDate.gt(&today_day))
                .filter(T::StartDate.lt(&week_end_day)),
        ),
    ];
    let by_due = |q: Select<task::Entity>| q.order_by_asc(T::DueDate).order_by_asc(T::Id);
    let tasks = parts(conn, reads, by_due, |t: &task::Model| {
        (t.due_date.clone(), t.id)
    })
    .await?;
    let [overdue_tasks, today_tasks, week_tasks] = task_sections(conn, tasks).await?;
    Ok(MyWork {
        today,
        overdue_activities: overdue,
        today_activities: today_part,
        week_activities: week,
        overdue_tasks,
        today_tasks,
        week_tasks,
    })
}
