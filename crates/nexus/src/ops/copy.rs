//! `nexus copy-to`: a SQLite installation into an empty PostgreSQL database, every table
//! streamed through `COPY`, sequences set past the copied ids, and counts verified.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use nexus_core::seeding::{Progress, sync_sequence};
use nexus_core::{Config, Db};
use nexus_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, Row, TypeInfo, ValueRef};

use super::{Engine, is_postgres, open_sqlite, sqlite_path};

/// Bytes of CSV sent to PostgreSQL at a time.
const SEND: usize = 1 << 20;

/// A table as copied: its name and its rows, counted again on PostgreSQL.
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

pub struct Copied {
    /// In the order they were copied.
    pub tables: Vec<TableCount>,
    pub rows: u64,
    pub elapsed: Duration,
}

/// How a SQLite value is written for its PostgreSQL column.
#[derive(Clone, Copy)]
enum Kind {
    /// SQLite keeps booleans as 0/1.
    Bool,
    Bytea,
    Plain,
}

struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    rows: u64,
    has_id: bool,
}

/// Copies the SQLite installation of `config` into the empty PostgreSQL database at
/// `target` (created when missing). A target with any user is refused before anything is
/// written. The rows are read from one SQLite read transaction, a consistent snapshot
/// even while a server writes (its later writes are not copied: stop it for the move),
/// and written in one PostgreSQL transaction, so a failed copy leaves no rows behind.
pub async fn copy_to(
    config: &Config,
    target: &str,
    progress: Progress<'_>,
) -> anyhow::Result<Copied> {
    if !is_postgres(target) {
        bail!("the target must be a postgres:// URL");
    }
    if Engine::of(config) == Engine::Postgres {
        bail!(
            "copy-to copies a SQLite installation, and this one runs on PostgreSQL (unset DATABASE_URL)"
        );
    }
    let source = sqlite_path(config)?;
    let started = Instant::now();
    let db = Db::connect(target, 2)
        .await
        .context("connecting to the target PostgreSQL database")?;
    let pool = db
        .pg_pool()
        .context("the target is not PostgreSQL")?
        .clone();
    let has_users: bool = sqlx::query_scalar("SELECT to_regclass('users') IS NOT NULL")
        .fetch_one(&pool)
        .await?;
    if has_users
        && sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&pool)
            .await?
    {
        bail!("the target database is not empty (it has users): copy-to needs an empty database");
    }
    // Like every other command, bring the source to this binary's schema first.
    nexus_server::migrate(config).await?.close().await;
    Migrator::up(db.write(), None)
        .await
        .context("migrating the target database")?;

    let mut src = open_sqlite(&source).await?;
    let mut snapshot = sqlx::Connection::begin(&mut src).await?;
    let tables = plan(&mut snapshot, &pool).await?;
    let total: u64 = tables.iter().map(|t| t.rows).sum();

    let mut tx = pool.begin().await?;
    // Migrations may have put rows in (the work order counter); the source's replace them.
    // Only ever an unused database reaches here: it has no users.
    let names: Vec<String> = tables.iter().map(|t| format!("\"{}\"", t.name)).collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "TRUNCATE {}",
        names.join(", ")
    )))
    .execute(&mut *tx)
    .await
    .context("emptying the target tables")?;
    let mut done = 0;
    progress(0, total);
    for table in &tables {
        let copied = copy_table(&mut snapshot, &mut tx, table, done, total, progress)
            .await
            .with_context(|| format!("copying table {}", table.name))?;
        if copied != table.rows {
            bail!(
                "table {}: read {copied} rows, expected {}",
                table.name,
                table.rows
            );
        }
        done += copied;
    }
    tx.commit().await.context("committing the copy")?;
    snapshot.commit().await?;
    progress(total, total);

    let mut counts = Vec::with_capacity(tables.len());
    for table in &tables {
        if table.has_id {
            sync_sequence(db.write(), &table.name)
                .await
                .map_err(|e| anyhow::anyhow!("setting the id sequence of {}: {e}", table.name))?;
        }
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{}\"",
            table.name
        )))
        .fetch_one(&pool)
        .await?;
        if rows as u64 != table.rows {
            bail!(
                "verification failed: table {} has {rows} rows in PostgreSQL and {} in SQLite",
                table.name,
                table.rows
            );
        }
        counts.push(TableCount {
            table: table.name.clone(),
            rows: rows as u64,
        });
    }
    db.close().await;
    Ok(Copied {
        tables: counts,
        rows: total,
        elapsed: started.elapsed(),
    })
}

/// The tables to copy, parents before the tables whose foreign keys point at them, each
/// with its columns typed by the PostgreSQL schema. PostgreSQL checks each reference as
/// the rows arrive (one `COPY` a table, so a row may point at a later row of its own
/// table), instead of turning the checks off with `session_replication_role`, which needs
/// a superuser and would let a bad reference through.
async fn plan(src: &mut sqlx::SqliteConnection, pg: &sqlx::PgPool) -> anyhow::Result<Vec<Table>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'seaql_migrations' ORDER BY name",
    )
    .fetch_all(&mut *src)
    .await?;
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) p
         WHERE m.type = 'table' AND p.\"table\" <> m.name",
    )
    .fetch_all(&mut *src)
    .await?;
    let mut target: BTreeMap<String, BTreeMap<String, Kind>> = BTreeMap::new();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_generated = 'NEVER'",
    )
    .fetch_all(pg)
    .await?;
    for (table, column, data_type) in rows {
        let kind = match data_type.as_str() {
            "boolean" => Kind::Bool,
            "bytea" => Kind::Bytea,
            _ => Kind::Plain,
        };
        target.entry(table).or_default().insert(column, kind);
    }

    let mut tables = Vec::new();
    for name in order(&names, &edges)? {
        let Some(pg_columns) = target.get(&name) else {
            bail!("table {name} is not in the PostgreSQL schema");
        };
        let source_columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut *src)
                .await?;
        let mut columns = Vec::with_capacity(source_columns.len());
        for column in source_columns {
            let Some(kind) = pg_columns.get(&column) else {
                bail!("column {name}.{column} is not in the PostgreSQL schema");
            };
            columns.push((column, *kind));
        }
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{name}\""
        )))
        .fetch_one(&mut *src)
        .await?;
        tables.push(Table {
            has_id: columns.iter().any(|(c, _)| c == "id"),
            name,
            columns,
            rows: rows as u64,
        });
    }
    Ok(tables)
}

/// `names` ordered so every table comes after the tables it references (Kahn's algorithm,
/// alphabetical among equals so runs are repeatable).
fn order(names: &[String], edges: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let mut pending: BTreeMap<&str, BTreeSet<&str>> = names
        .iter()
        .map(|n| (n.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in edges {
        if pending.contains_key(parent.as_str())
            && let Some(parents) = pending.get_mut(child.as_str())
        {
            parents.insert(parent.as_str());
        }
    }
    let mut out = Vec::with_capacity(names.len());
    while !pending.is_empty() {
        let ready: Vec<&str> = pending
            .iter()
            .filter(|(_, parents)| parents.is_empty())
            .map(|(n, _)| *n)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = pending.keys().copied().collect();
            bail!("foreign keys form a cycle among: {}", stuck.join(", "));
        }
        for name in ready {
            pending.remove(name);
            for parents in pending.values_mut() {
                parents.remove(name);
            }
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// Streams one table from the SQLite snapshot into a single `COPY ... (FORMAT csv)`; the
/// rows copied. On an error the `COPY` is aborted, so the transaction can roll back.
async fn copy_table(
    src: &mut sqlx::SqliteConnection,
    tx: &mut sqlx::PgConnection,
    table: &Table,
    done: u64,
    total: u64,
    progress: Progress<'_>,
) -> anyhow::Result<u64> {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect();
    let columns = columns.join(", ");
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY \"{}\" ({columns}) FROM STDIN (FORMAT csv)",
            table.name
        ))
        .await?;
    let mut n = 0u64;
    let streamed: anyhow::Result<()> = async {
        let select = format!("SELECT {columns} FROM \"{}\"", table.name);
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *src);
        let mut buf = Vec::with_capacity(SEND + 4096);
        while let Some(row) = rows.try_next().await? {
            encode_row(&row, &table.columns, &mut buf)?;
            n += 1;
            if buf.len() >= SEND {
                copy.send(std::mem::take(&mut buf)).await?;
                buf.reserve(SEND + 4096);
                progress(done + n, total);
            }
        }
        if !buf.is_empty() {
            copy.send(buf).await?;
        }
        Ok(())
    }
    .await;
    match streamed {
        Ok(()) => {
            copy.finish().await?;
            Ok(n)
        }
        Err(e) => {
            let _ = copy.abort(e.to_string()).await;
            Err(e)
        }
    }
}

/// Appends one row as a CSV line: NULL is an empty field, every other value is quoted
/// (so an empty string stays one).
fn encode_row(
    row: &sqlx::sqlite::SqliteRow,
    columns: &[(String, Kind)],
    buf: &mut Vec<u8>,
) -> anyhow::Result<()> {
    for (i, (column, kind)) in columns.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let value = row.try_get_raw(i)?;
        if value.is_null() {
            continue;
        }
        let storage = value.type_info().name().to_string();
        match (storage.as_str(), kind) {
            ("INTEGER", Kind::Bool) => {
                let v: i64 = row.try_get_unchecked(i)?;
                buf.push(if v != 0 { b't' } else { b'f' });
            }
            ("INTEGER", _) => {
                let v: i64 = row.try_get_unchecked(i)?;
                buf.extend_from_slice(v.to_string().as_bytes());
            }
            ("REAL", _) => {
                let v: f64 = row.try_get_unchecked(i)?;
                let text = match v {
                    v if v.is_nan() => "NaN".to_string(),
                    v if v == f64::INFINITY => "Infinity".to_string(),
                    v if v == f64::NEG_INFINITY => "-Infinity".to_string(),
                    v => v.to_string(),
                };
                buf.extend_from_slice(text.as_bytes());
            }
            ("BLOB", Kind::Bytea) => {
                let v: Vec<u8> = row.try_get_unchecked(i)?;
                buf.extend_from_slice(b"\\x");
                buf.extend_from_slice(hex::encode(v).as_bytes());
            }
            ("TEXT", _) | ("BLOB", _) => {
                let v: Vec<u8> = row.try_get_unchecked(i)?;
                if std::str::from_utf8(&v).is_err() || v.contains(&0) {
                    bail!("column {column} holds a value that is not text");
                }
                buf.push(b'"');
                for &b in &v {
                    if b == b'"' {
                        buf.push(b'"');
                    }
                    buf.push(b);
                }
                buf.push(b'"');
            }
            (other, _) => bail!("column {column} holds an unexpected {other} value"),
        }
    }
    buf.push(b'\n');
    Ok(())
}
