//! A generated activities and projects data set, for trying Nexus out and for benchmarks:
//! the document's sample activities, then `activities` activities over the past year and
//! the next three months across a crew of 200, and `projects` projects of 50 tasks each
//! (chained by dependencies, some time logged) with teams and linked activities. Rows are
//! written many per statement with explicit ids, in transactions of [`BATCH`].

use chrono::{NaiveDate, TimeDelta, Utc};
use nexus_core::audit::AuditCtx;
use nexus_core::auth::random_token;
use nexus_core::seeding::{Progress, Rng, insert_rows, number, sync_sequence};
use nexus_core::{ApiResult, AppState, Timestamp};
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait, Value};

use crate::model::*;

/// The crew activities and tasks are assigned to.
pub const CREW: u64 = 200;
/// Tasks in each generated project.
pub const TASKS_PER_PROJECT: u64 = 50;
/// Rows of the main table per transaction.
const BATCH: u64 = 20_000;

/// What a seed wrote.
pub struct Seeded {
    pub activities: u64,
    pub projects: u64,
    pub tasks: u64,
    pub dependencies: u64,
}

/// Ids of the generated crew (`crew001` …, role `user`, random passwords: they exist to
/// be given work, not to sign in), created on first use.
pub async fn crew(state: &AppState) -> ApiResult<Vec<i64>> {
    let ctx = AuditCtx::default();
    let mut ids = Vec::new();
    for n in 1..=CREW {
        let username = format!("crew{n:03}");
        let id = match nexus_identity::service::user_id_by_username(&state.db, &username).await? {
            Some(id) => id,
            None => {
                let req = nexus_identity::model::CreateUser {
                    username,
                    password: random_token(16),
                    email: None,
                    first_name: Some("Crew".into()),
                    last_name: Some(format!("{n:03}")),
                    phone: None,
                    department_id: None,
                    position: Some("Operator".into()),
                    avatar_url: None,
                    preferences: None,
                    role: Some("user".into()),
                    is_active: Some(true),
                };
                nexus_identity::service::create_user(state, &ctx, req)
                    .await?
                    .id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

const TITLES: [&str; 10] = [
    "Line changeover",
    "Preventive check",
    "Layered process audit",
    "Fixture redesign review",
    "Inbound material staging",
    "First article inspection",
    "Shift handover meeting",
    "Kaizen workshop",
    "Forklift refresher training",
    "ERP master data cleanup",
];

/// A sample activity: title, type, status, priority, description, and its start and
/// end in hours from now.
type Sample = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
);

/// The document's two sample activities, moved to the days around now.
const SAMPLES: [Sample; 2] = [
    (
        "Production Line Setup",
        "Production",
        "planned",
        "high",
        "Setup production line for new product launch",
        24 + 8,
        24 + 16,
    ),
    (
        "Equipment Maintenance",
        "Maintenance",
        "in-progress",
        "medium",
        "Routine maintenance on production equipment",
        -2,
        2,
    ),
];

/// Writes the sample activities, `activities` generated activities and `projects`
/// projects with their tasks; then refreshes the planner's statistics.
pub async fn seed(
    state: &AppState,
    activities: u64,
    projects: u64,
    progress: Progress<'_>,
) -> ApiResult<Seeded> {
    let crew = crew(state).await?;
    let n_crew = crew.len() as u64;
    let db = state.db.write();
    let now = Timestamp::now();
    let today = Utc::now().date_naive();
    let total = activities + projects * TASKS_PER_PROJECT;
    let mut done = 0;
    let mut rng = Rng(17);
    let tags: Vec<i64> = super::list_tags(db, &TagFilter::default())
        .await?
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();

    // Activities: the samples first, then the generated ones.
    let first = number(db, "SELECT MAX(id) AS n FROM activities").await? + 1;
    let year: i64 = 365 * 24 * 3600;
    let mut written = 0;
    let all = activities + 2;
    while written < all {
        let n = (all - written).min(BATCH);
        let txn = db.begin().await?;
        let (mut rows, mut history, mut priorities, mut links) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in written..written + n {
            let id = first + i as i64;
            let who = crew[rng.below(n_crew) as usize];
            let (title, kind, status, priority, description, start, end) = if i < 2 {
                let s = SAMPLES[i as usize];
                (
                    s.0.to_string(),
                    s.1,
                    s.2,
                    s.3,
                    s.4.to_string(),
                    now.plus_seconds(s.5 * 3600),
                    now.plus_seconds(s.6 * 3600),
                )
            } else {
                // From a year ago to three months ahead, on the quarter hour.
                let offset = rng.below((year + year / 4) as u64) as i64 - year;
                let start = Timestamp(
                    now.0 + offset * 1_000_000 - (now.0 + offset * 1_000_000) % 900_000_000,
                );
                let end = start.plus_seconds(900 * (1 + rng.below(32) as i64));
                let status = if end < now {
                    match rng.below(20) {
                        0 => "cancelled",
                        1..=3 => "overdue",
                        _ => "completed",
                    }
                } else if start < now {
                    "in-progress"
                } else {
                    "planned"
                };
                let kind = ACTIVITY_TYPES[rng.below(10) as usize];
                let title = TITLES[rng.below(TITLES.len() as u64) as usize];
                let priority = ACTIVITY_PRIORITIES[[0, 1, 1, 1, 2, 2, 3][rng.below(7) as usize]];
                (
                    format!("{title} #{id}"),
                    kind,
                    status,
                    priority,
                    format!("{kind} work generated for trying Nexus out."),
                    start,
                    end,
                )
            };
            let creator = if rng.below(4) == 0 {
                crew[rng.below(n_crew) as usize]
            } else {
                who
            };
            let created = Timestamp(start.0.min(now.0) - 86_400_000_000);
            rows.push(vec![
                id.into(),
                title.into(),
                description.into(),
                kind.into(),
                status.into(),
                priority.into(),
                start.into(),
                end.into(),
                who.into(),
                creator.into(),
                created.into(),
                created.into(),
                1i32.into(),
            ]);
            history.push(vec![
                id.into(),
                status.into(),
                Value::BigInt(None),
                created.into(),
                "Created".into(),
            ]);
            priorities.push(vec![
                id.into(),
                priority.into(),
                Value::BigInt(None),
                created.into(),
                "Created".into(),
            ]);
            if !tags.is_empty() && rng.below(3) == 0 {
                links.push(vec![
                    id.into(),
                    tags[rng.below(tags.len() as u64) as usize].into(),
                    start.into(),
                ]);
            }
        }
        insert_rows(
            &txn,
            "activities",
            &[
                "id",
                "title",
                "description",
                "type",
                "status",
                "priority",
                "start_time",
                "end_time",
                "assigned_to_id",
                "created_by_id",
                "created_at",
                "updated_at",
                "version",
            ],
            rows,
        )
        .await?;
        insert_rows(
            &txn,
            "activity_status_history",
            &[
                "activity_id",
                "status",
                "changed_by_id",
                "changed_at",
                "notes",
            ],
            history,
        )
        .await?;
        insert_rows(
            &txn,
            "activity_priority_history",
            &[
                "activity_id",
                "priority",
                "changed_by_id",
                "changed_at",
                "reason",
            ],
            priorities,
        )
        .await?;
        let columns = ["activity_id", "tag_id", "start_time"];
        insert_rows(&txn, "activity_tags", &columns, links).await?;
        txn.commit().await?;
        written += n;
        done = (done + n).min(activities);
        progress(done, total);
    }
    sync_sequence(db, "activities").await?;

    // Projects, a team each, 50 tasks in chains, some time logged.
    let first_project = number(db, "SELECT MAX(id) AS n FROM projects").await? + 1;
    let first_task = number(db, "SELECT MAX(id) AS n FROM tasks").await? + 1;
    let mut deps = 0;
    let per_txn = (BATCH / TASKS_PER_PROJECT).max(1);
    let mut made = 0;
    while made < projects {
        let n = (projects - made).min(per_txn);
        let txn = db.begin().await?;
        let (mut prows, mut members, mut trows, mut drows, mut wrows, mut plinks) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for p in made..made + n {
            let pid = first_project + p as i64;
            let start = today - TimeDelta::days(rng.below(240) as i64);
            let end = start + TimeDelta::days(120 + rng.below(120) as i64);
            let manager = crew[rng.below(n_crew) as usize];
            let status = if end < today {
                "completed"
            } else {
                ["planning", "active", "active", "on-hold"][rng.below(4) as usize]
            };
            prows.push(vec![
                pid.into(),
                format!(
                    "Project {pid}: {}",
                    TITLES[rng.below(TITLES.len() as u64) as usize]
                )
                .into(),
                "Generated for trying Nexus out.".into(),
                status.into(),
                PRIORITIES[rng.below(4) as usize].into(),
                day(start).into(),
                day(end).into(),
                manager.into(),
                (1_000_000 * (1 + rng.below(50)) as i64).into(),
                now.into(),
                now.into(),
                1i32.into(),
            ]);
            let mut team = vec![manager];
            while team.len() < 6 {
                let m = crew[rng.below(n_crew) as usize];
                if !team.contains(&m) {
                    team.push(m);
                }
            }
            for m in &team[1..] {
                members.push(vec![pid.into(), (*m).into(), now.into()]);
            }
            let base = first_task + (p * TASKS_PER_PROJECT) as i64;
            let mut day_at = start;
            for k in 0..TASKS_PER_PROJECT as i64 {
                let tid = base + k;
                let length = 1 + rng.below(5) as i64;
                let (s, d) = (day_at, day_at + TimeDelta::days(length));
                day_at = d + TimeDelta::days(1);
                let status = if d < today {
                    "done"
                } else if s <= today {
                    "in-progress"
                } else {
                    "todo"
                };
                let estimate = 60 * (2 + rng.below(14) as i64);
                let actual = if status == "todo" {
                    0
                } else {
                    estimate / 2 + 30 * rng.below(8) as i64
                };
                trows.push(vec![
                    tid.into(),
                    pid.into(),
                    format!("Step {} of project {pid}", k + 1).into(),
                    "".into(),
                    status.into(),
                    PRIORITIES[rng.below(4) as usize].into(),
                    team[rng.below(team.len() as u64) as usize].into(),
                    day(s).into(),
                    day(d).into(),
                    estimate.into(),
                    actual.into(),
                    manager.into(),
                    now.into(),
                    now.into(),
                    1i32.into(),
                ]);
                if actual > 0 {
                    wrows.push(vec![
                        tid.into(),
                        team[0].into(),
                        day(s.min(today)).into(),
                        actual.into(),
                        "".into(),
                        now.into(),
                    ]);
                }
                if k > 0 {
                    drows.push(vec![
                        pid.into(),
                        (tid - 1).into(),
                        tid.into(),
                        "finish-to-start".into(),
                        0i32.into(),
                        now.into(),
                    ]);
                    deps += 1;
                }
            }
            if activities > 0 {
                let linked: std::collections::BTreeSet<i64> = (0..5)
                    .map(|_| first + 2 + rng.below(activities) as i64)
                    .collect();
                plinks.extend(linked.into_iter().map(|a| vec![pid.into(), a.into()]));
            }
        }
        insert_rows(
            &txn,
            "projects",
            &[
                "id",
                "name",
                "description",
                "status",
                "priority",
                "start_date",
                "end_date",
                "manager_id",
                "budget_minor",
                "created_at",
                "updated_at",
                "version",
            ],
            prows,
        )
        .await?;
        insert_rows(
            &txn,
            "project_members",
            &["project_id", "user_id", "added_at"],
            members,
        )
        .await?;
        insert_rows(
            &txn,
            "tasks",
            &[
                "id",
                "project_id",
                "title",
                "description",
                "status",
                "priority",
                "assignee_id",
                "start_date",
                "due_date",
                "estimated_minutes",
                "actual_minutes",
                "created_by_id",
                "created_at",
                "updated_at",
                "version",
            ],
            trows,
        )
        .await?;
        insert_rows(
            &txn,
            "task_dependencies",
            &[
                "project_id",
                "predecessor_id",
                "successor_id",
                "kind",
                "lag_days",
                "created_at",
            ],
            drows,
        )
        .await?;
        insert_rows(
            &txn,
            "task_worklogs",
            &[
                "task_id",
                "user_id",
                "worked_on",
                "minutes",
                "note",
                "created_at",
            ],
            wrows,
        )
        .await?;
        insert_rows(
            &txn,
            "project_activities",
            &["project_id", "activity_id"],
            plinks,
        )
        .await?;
        txn.commit().await?;
        made += n;
        done += n * TASKS_PER_PROJECT;
        progress(done, total);
    }
    sync_sequence(db, "projects").await?;
    sync_sequence(db, "tasks").await?;
    // Planner statistics for the bulk-loaded tables, as after any large load.
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            "VACUUM ANALYZE activities, activity_tags, projects, tasks, project_members, project_activities"
        }
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(Seeded {
        activities: activities + 2,
        projects,
        tasks: projects * TASKS_PER_PROJECT,
        dependencies: deps,
    })
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
