//! A generated comms data set, for trying Nexus out and for benchmarks: `people` readers
//! (`reader00001` …, spread over the departments), `notifications` notifications spread
//! over them and the last 90 days (four in five read), and `announcements` published to
//! everyone, each read by about seven in ten. Rows are written many per statement with
//! explicit ids.

use nexus_core::seeding::{Progress, Rng, insert_rows, number, sync_sequence};
use nexus_core::{ApiResult, AppState, Timestamp, db::stmt};
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait, Value};

use crate::model::{
    ACTIVITY_ASSIGNED, ALERT_RAISED, DUE_TOMORROW, PART_LOW_STOCK, WORK_ORDER_ASSIGNED,
};

/// Rows of notifications per transaction.
const BATCH: u64 = 50_000;
const DAY_MICROS: i64 = 86_400_000_000;

/// What a seed wrote.
pub struct Seeded {
    pub people: u64,
    pub notifications: u64,
    pub announcements: u64,
}

/// Kind, type, title and entity of the generated notifications, by turn.
const SAMPLES: [(&str, &str, &str, &str); 5] = [
    (
        WORK_ORDER_ASSIGNED,
        "info",
        "Work order assigned to you",
        "work_order",
    ),
    (
        ALERT_RAISED,
        "alert",
        "Critical alert on an asset you follow",
        "asset",
    ),
    (
        PART_LOW_STOCK,
        "warning",
        "A part you follow is below its reorder point",
        "part",
    ),
    (
        ACTIVITY_ASSIGNED,
        "info",
        "Activity assigned to you",
        "activity",
    ),
    (DUE_TOMORROW, "warning", "Due tomorrow", "task"),
];

pub async fn seed(
    state: &AppState,
    people: u64,
    notifications: u64,
    announcements: u64,
    progress: Progress<'_>,
) -> ApiResult<Seeded> {
    let readers = nexus_identity::service::seed_people(state, "reader", people.max(1)).await?;
    let conn = state.db.write();
    let mut rng = Rng(18);
    let now = Timestamp::now().0;
    let total = notifications + announcements;
    let mut id = number(conn, "SELECT MAX(id) AS n FROM notifications").await? + 1;
    let mut done = 0;
    while done < notifications {
        let n = BATCH.min(notifications - done);
        let rows = (0..n)
            .map(|_| {
                let (kind, kind_type, title, entity) = SAMPLES[rng.below(5) as usize];
                let user = readers[rng.below(readers.len() as u64) as usize];
                let created = now - rng.below(90 * DAY_MICROS as u64) as i64;
                let read = rng.below(5) > 0;
                let target = rng.below(500_000) as i64 + 1;
                let row: Vec<Value> = vec![
                    id.into(),
                    user.into(),
                    kind.into(),
                    kind_type.into(),
                    title.into(),
                    format!("{title}: #{target}.").into(),
                    entity.into(),
                    target.into(),
                    read.into(),
                    read.then_some(created).into(),
                    false.into(),
                    created.into(),
                ];
                id += 1;
                row
            })
            .collect();
        let txn = conn.begin().await?;
        insert_rows(
            &txn,
            "notifications",
            &[
                "id",
                "user_id",
                "kind",
                "type",
                "title",
                "message",
                "entity_type",
                "entity_id",
                "is_read",
                "read_at",
                "is_dismissed",
                "created_at",
            ],
            rows,
        )
        .await?;
        txn.commit().await?;
        done += n;
        progress(done, total);
    }
    sync_sequence(conn, "notifications").await?;
    let author = number(conn, "SELECT MIN(id) AS n FROM users").await?;
    let first = number(conn, "SELECT MAX(id) AS n FROM updates").await? + 1;
    for a in 0..announcements as i64 {
        let id = first + a;
        let at = now - (announcements as i64 - a) * DAY_MICROS;
        let txn = conn.begin().await?;
        let row: Vec<Value> = vec![
            id.into(),
            format!("Plant bulletin {}", a + 1).into(),
            "Shift patterns, safety reminders and the week's **priorities**.".into(),
            "announcement".into(),
            "medium".into(),
            author.into(),
            true.into(),
            (a % 4 == 0).into(),
            "published".into(),
            at.into(),
            at.into(),
            at.into(),
        ];
        insert_rows(
            &txn,
            "updates",
            &[
                "id",
                "title",
                "content",
                "type",
                "priority",
                "created_by_id",
                "target_all",
                "ack_required",
                "status",
                "published_at",
                "created_at",
                "updated_at",
            ],
            vec![row],
        )
        .await?;
        // Everyone active receives it; about seven in ten have read it.
        let sql = "INSERT INTO update_recipients \
                   (update_id, user_id, department_id, published_at, read_at) \
                   SELECT $1, id, department_id, $2, CASE WHEN id % 10 < 7 THEN $2 END \
                   FROM users WHERE is_active";
        txn.execute_raw(stmt(state.db.backend(), sql, vec![id.into(), at.into()]))
            .await?;
        txn.commit().await?;
        progress(notifications + a as u64 + 1, total);
    }
    sync_sequence(conn, "updates").await?;
    // Planner statistics (and, on PostgreSQL, the visibility map that lets the counts read
    // the index alone) for the bulk-loaded tables, as after any large load.
    let sql = match state.db.backend() {
        DatabaseBackend::Postgres => "VACUUM ANALYZE users, notifications, update_recipients",
        _ => "ANALYZE",
    };
    conn.execute_unprepared(sql).await?;
    Ok(Seeded {
        people: readers.len() as u64,
        notifications,
        announcements,
    })
}
