//! Raw samples move from one row each to one row per series and minute (`metric_chunks`),
//! its readings packed by `nexus_core::samples`: a stored sample costs a few bytes instead
//! of a b-tree entry, which is what limited ingest. Samples already stored are carried
//! over; `down` expands them back.

use nexus_core::db::stmt;
use nexus_core::samples;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Samples read per query while carrying them over.
const PAGE: i64 = 100_000;

fn chunks_table(backend: DatabaseBackend) -> &'static str {
    match backend {
        // A rowid table: a chunk of a busy series outgrows what a WITHOUT ROWID row keeps
        // in its page.
        DatabaseBackend::Sqlite => {
            "CREATE TABLE metric_chunks (
                series_id INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                samples INTEGER NOT NULL CHECK (samples > 0),
                data BLOB NOT NULL,
                PRIMARY KEY (series_id, bucket)
            )"
        }
        _ => {
            "CREATE TABLE metric_chunks (
                series_id BIGINT NOT NULL,
                bucket BIGINT NOT NULL,
                samples INTEGER NOT NULL CHECK (samples > 0),
                data BYTEA NOT NULL,
                PRIMARY KEY (series_id, bucket)
            )"
        }
    }
}

fn samples_table(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Sqlite => {
            "CREATE TABLE metric_samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL,
             value REAL NOT NULL, PRIMARY KEY (series_id, ts)) WITHOUT ROWID"
        }
        _ => {
            "CREATE TABLE metric_samples (series_id BIGINT NOT NULL, ts BIGINT NOT NULL,
             value DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, ts) INCLUDE (value))"
        }
    }
}

#[derive(Debug, sea_orm_migration::sea_orm::FromQueryResult)]
struct Id {
    id: i64,
}

#[derive(Debug, sea_orm_migration::sea_orm::FromQueryResult)]
struct Row {
    ts: i64,
    value: f64,
}

#[derive(Debug, sea_orm_migration::sea_orm::FromQueryResult)]
struct Chunk {
    bucket: i64,
    data: Vec<u8>,
}

async fn series_ids(c: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
    use sea_orm_migration::sea_orm::FromQueryResult;
    let rows = Id::find_by_statement(stmt(
        c.get_database_backend(),
        "SELECT id FROM asset_metrics ORDER BY id",
        vec![],
    ))
    .all(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Writes the whole minutes of `run` (sorted by time) as chunks; returns the readings of
/// its last minute when `keep_last`, as more of it may follow.
async fn write_chunks(
    c: &impl ConnectionTrait,
    series: i64,
    run: Vec<(i64, f64)>,
    keep_last: bool,
) -> Result<Vec<(i64, f64)>, DbErr> {
    let backend = c.get_database_backend();
    let mut minutes: Vec<&[(i64, f64)]> = run
        .chunk_by(|a, b| samples::chunk_start(a.0) == samples::chunk_start(b.0))
        .collect();
    let carry = match keep_last {
        true => minutes.pop().map(<[_]>::to_vec).unwrap_or_default(),
        false => Vec::new(),
    };
    for m in minutes {
        let bucket = samples::chunk_start(m[0].0);
        c.execute_raw(stmt(
            backend,
            "INSERT INTO metric_chunks (series_id, bucket, samples, data) VALUES ($1, $2, $3, $4)",
            vec![
                series.into(),
                bucket.into(),
                (m.len() as i64).into(),
                samples::encode(bucket, m).into(),
            ],
        ))
        .await?;
    }
    Ok(carry)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::sea_orm::FromQueryResult;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let tx = db.begin().await?;
        tx.execute_unprepared(chunks_table(backend)).await?;
        for series in series_ids(&tx).await? {
            let (mut after, mut carry) = (i64::MIN, Vec::new());
            loop {
                let page = Row::find_by_statement(stmt(
                    backend,
                    "SELECT ts, value FROM metric_samples WHERE series_id = $1 AND ts > $2 \
                     ORDER BY ts LIMIT $3",
                    vec![series.into(), after.into(), PAGE.into()],
                ))
                .all(&tx)
                .await?;
                let Some(last) = page.last() else { break };
                after = last.ts;
                let full = page.len() as i64 == PAGE;
                carry.extend(page.into_iter().map(|r| (r.ts, r.value)));
                carry = write_chunks(&tx, series, carry, full).await?;
                if !full {
                    break;
                }
            }
            write_chunks(&tx, series, carry, false).await?;
        }
        tx.execute_unprepared("DROP TABLE metric_samples").await?;
        tx.commit().await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::sea_orm::FromQueryResult;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let tx = db.begin().await?;
        tx.execute_unprepared(samples_table(backend)).await?;
        for series in series_ids(&tx).await? {
            let chunks = Chunk::find_by_statement(stmt(
                backend,
                "SELECT bucket, data FROM metric_chunks WHERE series_id = $1 ORDER BY bucket",
                vec![series.into()],
            ))
            .all(&tx)
            .await?;
            for chunk in chunks {
                let readings = samples::decode(chunk.bucket, &chunk.data)
                    .map_err(|e| DbErr::Custom(e.to_string()))?;
                for (ts, value) in readings {
                    tx.execute_raw(stmt(
                        backend,
                        "INSERT INTO metric_samples (series_id, ts, value) VALUES ($1, $2, $3)",
                        vec![series.into(), ts.into(), value.into()],
                    ))
                    .await?;
                }
            }
        }
        tx.execute_unprepared("DROP TABLE metric_chunks").await?;
        tx.commit().await
    }
}
