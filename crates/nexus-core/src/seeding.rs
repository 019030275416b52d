//! Generated data sets (`nexus seed`) and benchmarks: rows written many per statement with
//! explicit ids, and a small deterministic random generator so runs are reproducible.

use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Value};

use crate::db::stmt;
use crate::error::ApiResult;

/// Rows per INSERT statement (within both engines' bound-parameter limits).
const CHUNK: usize = 1000;

/// Called as rows are written: (rows done, rows in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

#[derive(FromQueryResult)]
struct Number {
    n: Option<i64>,
}

/// One number from `sql` (`SELECT ... AS n`), 0 when there is none.
pub async fn number(conn: &impl ConnectionTrait, sql: &str) -> ApiResult<i64> {
    let row = Number::find_by_statement(stmt(conn.get_database_backend(), sql, vec![]))
        .one(conn)
        .await?;
    Ok(row.and_then(|r| r.n).unwrap_or(0))
}

/// Inserts `rows` (each `columns.len()` values) into `table`, `CHUNK` rows a statement.
/// `table` and `columns` are the caller's constants, never user input.
pub async fn insert_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> ApiResult<()> {
    let backend = conn.get_database_backend();
    for chunk in rows.chunks(CHUNK) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for (r, row) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", values.len() + c + 1));
            }
            sql.push(')');
            values.extend(row.iter().cloned());
        }
        conn.execute_raw(stmt(backend, &sql, values)).await?;
    }
    Ok(())
}

/// PostgreSQL's id sequence must move past ids written explicitly: past those of `table`
/// and of its `<table>_archive` when it has one, whose rows keep the ids they had (an
/// archived work order's id must never be given out again).
pub async fn sync_sequence(conn: &impl ConnectionTrait, table: &str) -> ApiResult<()> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let archive = format!("{table}_archive");
    let archived = number(
        conn,
        &format!("SELECT COUNT(to_regclass('{archive}')) AS n"),
    )
    .await?
        == 1;
    let top = match archived {
        true => format!("GREATEST((SELECT MAX(id) FROM {table}), (SELECT MAX(id) FROM {archive}))"),
        false => format!("(SELECT MAX(id) FROM {table})"),
    };
    let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top})");
    conn.execute_raw(stmt(DatabaseBackend::Postgres, &sql, vec![]))
        .await?;
    Ok(())
}

/// A small deterministic generator (SplitMix64), so seeded data sets and benchmark
/// requests are the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}
