//! Archiving and retention of work orders ("Data Archiving Strategy" of
//! `001_fc7d4f68e8fe081f.txt`): completed and cancelled work orders closed longer ago than
//! [`Config::archive_work_orders_after_days`](nexus_core::Config) move, with their
//! checklist, labor and comments, into the `*_archive` tables (same ids), where they stay
//! readable; archived ones closed longer ago than the retention are deleted.
//!
//! Work goes in batches of [`BATCH`] orders, each its own short write transaction followed
//! by a pause as long as it took, so writers wait at most one batch and get at least half
//! of the writer's time. An order is closed when it was completed
//! (`completed_at`) or cancelled (its last change, `updated_at`: closed orders no longer
//! change). An order stays live while a live record still refers to it: a live follow-up
//! (`parent_work_order_id`), a live step that opened it, or a schedule it was the last
//! order of (which counts its next due date from it).

use nexus_core::archive::{ArchiveReport, Archiver};
use nexus_core::auth::BoxFuture;
use nexus_core::db::{placeholders, stmt};
use nexus_core::{ApiResult, AppState, Timestamp};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, TransactionTrait, Value};

use super::Node;

/// Work orders moved or deleted per transaction.
pub const BATCH: usize = 250;

/// The columns of `work_orders`, which `work_orders_archive` has too (and `archived_at`).
const WORK_ORDER_COLUMNS: &str = "id, number, title, description, asset_id, location_id, type, \
     priority, status, assigned_to_id, created_by, updated_by, due_date, estimated_minutes, \
     actual_minutes, started_at, completed_at, parent_work_order_id, pm_schedule_id, \
     dedupe_key, created_at, updated_at, version";

/// The tables of what belongs to a work order, and their columns: each has an
/// `<table>_archive` of the same columns.
const CHILDREN: [(&str, &str, &str); 3] = [
    (
        "steps",
        "work_order_checklist_items",
        "id, work_order_id, sequence, kind, task, required, min_value, max_value, unit, \
         create_follow_up, is_completed, checked, number_value, text_value, passed, notes, \
         completed_by, completed_at, follow_up_work_order_id, created_at, updated_at, version",
    ),
    (
        "labor",
        "work_order_labor",
        "id, work_order_id, user_id, started_at, ended_at, minutes, hourly_rate_cents, note, \
         created_at, updated_at, version",
    ),
    (
        "comments",
        "work_order_comments",
        "id, work_order_id, user_id, content, created_at",
    ),
];

/// When a work order closed.
const CLOSED_AT: &str = "COALESCE(completed_at, updated_at)";

fn values(ids: &[i64]) -> Vec<Value> {
    ids.iter().map(|&id| id.into()).collect()
}

async fn ids_of(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> ApiResult<Vec<i64>> {
    let rows = Node::find_by_statement(stmt(conn.get_database_backend(), sql, values))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|n| n.id).collect())
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// Ids one candidate query looks through at most.
const WINDOW: i64 = 20_000;

/// The closed work orders past `cutoff` with ids in `after..=upto`, at most [`BATCH`].
/// The primary key is walked in windows from where the last batch ended: unbounded, the
/// planners chose the status index and sorted every closed order by id for each batch
/// (5-6 s a batch on SQLite with 2,000,000 work orders).
async fn candidates(
    conn: &impl ConnectionTrait,
    (after, upto): (i64, i64),
    cutoff: i64,
) -> ApiResult<Vec<i64>> {
    let sql = format!(
        "SELECT id FROM work_orders WHERE id > $1 AND id <= $2 \
         AND status IN ('completed', 'cancelled') AND {CLOSED_AT} < $3 ORDER BY id LIMIT $4"
    );
    ids_of(
        conn,
        &sql,
        vec![
            after.into(),
            upto.into(),
            cutoff.into(),
            (BATCH as i64).into(),
        ],
    )
    .await
}

/// The highest work order id (0 when there are none).
async fn top_id(conn: &impl ConnectionTrait) -> ApiResult<i64> {
    let sql = "SELECT COALESCE(MAX(id), 0) AS n FROM work_orders";
    Ok(
        Count::find_by_statement(stmt(conn.get_database_backend(), sql, vec![]))
            .one(conn)
            .await?
            .map_or(0, |c| c.n),
    )
}

/// Those of `batch` that a record staying live refers to: a work order outside the batch
/// following one up, a step outside it that opened one, a schedule's last order.
async fn held(conn: &impl ConnectionTrait, batch: &[i64]) -> ApiResult<Vec<i64>> {
    let n = batch.len();
    let list = |k: usize| placeholders(k * n + 1, n);
    let sql = format!(
        "SELECT parent_work_order_id AS id FROM work_orders \
           WHERE parent_work_order_id IN ({}) AND id NOT IN ({}) \
         UNION SELECT follow_up_work_order_id FROM work_order_checklist_items \
           WHERE follow_up_work_order_id IN ({}) AND work_order_id NOT IN ({}) \
         UNION SELECT last_work_order_id FROM pm_schedules WHERE last_work_order_id IN ({})",
        list(0),
        list(1),
        list(2),
        list(3),
        list(4)
    );
    let mut all = Vec::with_capacity(5 * n);
    for _ in 0..5 {
        all.extend(values(batch));
    }
    ids_of(conn, &sql, all).await
}

/// `batch` less what live records refer to, and then what those refer to in turn.
async fn movable(conn: &impl ConnectionTrait, mut batch: Vec<i64>) -> ApiResult<Vec<i64>> {
    while !batch.is_empty() {
        let keep = held(conn, &batch).await?;
        if keep.is_empty() {
            break;
        }
        batch.retain(|id| !keep.contains(id));
    }
    Ok(batch)
}

/// What moving `ids` would move: work orders, steps, labor entries, comments.
async fn sizes(conn: &impl ConnectionTrait, ids: &[i64], suffix: &str) -> ApiResult<[u64; 4]> {
    let mut out = [ids.len() as u64, 0, 0, 0];
    for (k, (_, table, _)) in CHILDREN.iter().enumerate() {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table}{suffix} WHERE work_order_id IN ({})",
            placeholders(1, ids.len())
        );
        let n = Count::find_by_statement(stmt(conn.get_database_backend(), &sql, values(ids)))
            .one(conn)
            .await?
            .map_or(0, |c| c.n);
        out[k + 1] = n as u64;
    }
    Ok(out)
}

/// Moves the work orders of `ids` still closed before `cutoff` into the archive in one
/// transaction; what it moved.
async fn move_batch(
    state: &AppState,
    ids: &[i64],
    cutoff: i64,
    now: Timestamp,
) -> ApiResult<[u64; 4]> {
    let txn = state.db.write().begin().await?;
    let backend = txn.get_database_backend();
    let list = placeholders(2, ids.len());
    let mut checked = vec![cutoff.into()];
    checked.extend(values(ids));
    // Lock the orders first and check them again: on PostgreSQL no record can start
    // referring to them before they go (the lock a foreign key check takes waits); on
    // SQLite this first write takes the database's write lock, so what follows reads
    // the latest data.
    let lock = match backend {
        DatabaseBackend::Postgres => format!(
            "SELECT id FROM work_orders WHERE id IN ({list}) AND status IN ('completed', \
             'cancelled') AND {CLOSED_AT} < $1 FOR UPDATE"
        ),
        _ => format!(
            "UPDATE work_orders SET version = version WHERE id IN ({list}) AND status IN \
             ('completed', 'cancelled') AND {CLOSED_AT} < $1 RETURNING id"
        ),
    };
    let locked = ids_of(&txn, &lock, checked).await?;
    // A record made since the batch was chosen may refer to one of them now.
    let ids = movable(&txn, locked).await?;
    if ids.is_empty() {
        txn.commit().await?;
        return Ok([0; 4]);
    }
    let list = placeholders(2, ids.len());
    let mut with_now = vec![now.0.into()];
    with_now.extend(values(&ids));
    txn.execute_raw(stmt(
        backend,
        &format!(
            "INSERT INTO work_orders_archive ({WORK_ORDER_COLUMNS}, archived_at) \
             SELECT {WORK_ORDER_COLUMNS}, $1 FROM work_orders WHERE id IN ({list})"
        ),
        with_now,
    ))
    .await?;
    let list = placeholders(1, ids.len());
    let mut moved = [ids.len() as u64, 0, 0, 0];
    for (k, (_, table, columns)) in CHILDREN.iter().enumerate() {
        let copied = txn
            .execute_raw(stmt(
                backend,
                &format!(
                    "INSERT INTO {table}_archive ({columns}) SELECT {columns} FROM {table} \
                     WHERE work_order_id IN ({list})"
                ),
                values(&ids),
            ))
            .await?;
        txn.execute_raw(stmt(
            backend,
            &format!("DELETE FROM {table} WHERE work_order_id IN ({list})"),
            values(&ids),
        ))
        .await?;
        moved[k + 1] = copied.rows_affected();
    }
    txn.execute_raw(stmt(
        backend,
        &format!("DELETE FROM work_orders WHERE id IN ({list})"),
        values(&ids),
    ))
    .await?;
    txn.commit().await?;
    Ok(moved)
}

/// The next archived work orders closed before `expiry` after id `after`.
async fn expired(conn: &impl ConnectionTrait, after: i64, expiry: i64) -> ApiResult<Vec<i64>> {
    let sql = format!(
        "SELECT id FROM work_orders_archive WHERE id > $1 AND {CLOSED_AT} < $2 \
         ORDER BY id LIMIT $3"
    );
    ids_of(
        conn,
        &sql,
        vec![after.into(), expiry.into(), (BATCH as i64).into()],
    )
    .await
}

/// Deletes archived work orders `ids` and what was archived with them, in one transaction.
async fn delete_batch(state: &AppState, ids: &[i64]) -> ApiResult<[u64; 4]> {
    let txn = state.db.write().begin().await?;
    let backend = txn.get_database_backend();
    let list = placeholders(1, ids.len());
    let mut gone = [0; 4];
    for (k, (_, table, _)) in CHILDREN.iter().enumerate() {
        gone[k + 1] = txn
            .execute_raw(stmt(
                backend,
                &format!("DELETE FROM {table}_archive WHERE work_order_id IN ({list})"),
                values(ids),
            ))
            .await?
            .rows_affected();
    }
    gone[0] = txn
        .execute_raw(stmt(
            backend,
            &format!("DELETE FROM work_orders_archive WHERE id IN ({list})"),
            values(ids),
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    Ok(gone)
}

/// The kinds a report counts, in the order of [`sizes`].
const KINDS: [&str; 4] = [
    "work_orders",
    "work_order_steps",
    "work_order_labor",
    "work_order_comments",
];

/// The archiving of work orders, as the API, the schedule and `nexus archive` run it (one
/// run at a time, each audited as `archive.run` with its counts).
pub static ARCHIVER: Archiver = Archiver {
    domain: "maintenance",
    runs: "/api/v1/maintenance/archive/runs",
    pass,
};

fn pass(state: &AppState, dry_run: bool) -> BoxFuture<'_, ApiResult<ArchiveReport>> {
    Box::pin(run(state, dry_run))
}

/// One archiving pass over work orders: moves those closed longer ago than the configured
/// age into the archive, then deletes archived ones past the retention, in batches; with
/// `dry_run`, only counts what it would move and delete.
pub async fn run(state: &AppState, dry_run: bool) -> ApiResult<ArchiveReport> {
    let now = Timestamp::now();
    let day = 86_400_000_000i64;
    let cutoff = now.0 - i64::from(state.config.archive_work_orders_after_days) * day;
    let expiry = now.0 - i64::from(state.config.retention_days) * day;
    let mut report = ArchiveReport::new("maintenance", dry_run);
    for kind in KINDS {
        report.add(kind, 0, 0);
    }
    let read = state.db.read();
    let top = top_id(read).await?;
    let mut after = 0;
    while after < top {
        let upto = Ord::min(after.saturating_add(WINDOW), top);
        let batch = candidates(read, (after, upto), cutoff).await?;
        // A full batch may leave more in the window; otherwise the window is done.
        after = match batch.last() {
            Some(&last) if batch.len() == BATCH => last,
            _ => upto,
        };
        let batch = movable(read, batch).await?;
        if batch.is_empty() {
            continue;
        }
        let moved = if dry_run {
            sizes(read, &batch, "").await?
        } else {
            let took = std::time::Instant::now();
            let moved = move_batch(state, &batch, cutoff, now).await?;
            // As long again for everyone else's writes before the next batch.
            tokio::time::sleep(took.elapsed()).await;
            moved
        };
        for (kind, n) in KINDS.iter().zip(moved) {
            report.add(kind, n, 0);
        }
    }
    let mut after = 0;
    loop {
        let batch = expired(read, after, expiry).await?;
        let Some(&last) = batch.last() else { break };
        after = last;
        let gone = if dry_run {
            sizes(read, &batch, "_archive").await?
        } else {
            delete_batch(state, &batch).await?
        };
        for (kind, n) in KINDS.iter().zip(gone) {
            report.add(kind, 0, n);
        }
    }
    Ok(report)
}

/// Archives once a day on one node, as `nexus archive` does by hand (skipped while a run
/// asked for through the API is under way).
pub fn spawn_daily(state: &AppState) {
    let job = nexus_core::jobs::Job {
        name: "maintenance.archive",
        every: std::time::Duration::from_secs(86_400),
        once_across_nodes: true,
        at_start: false,
    };
    nexus_core::jobs::every(state, job, |s| async move { ARCHIVER.scheduled(&s).await });
}
