//! Metric history out of the database ("Data Archiving Strategy" of
//! `001_fc7d4f68e8fe081f.txt`: metrics older than three months to lower-cost storage).
//!
//! Raw readings leave the database a calendar month (UTC) at a time, once the whole month
//! is older than the raw retention (the telemetry setting `retention_days`, 90 days unless
//! changed): each series' month becomes one Parquet file in the file store (a local folder
//! or S3, the store files go to), at `archive/metrics/asset-<id>/<metric>-<series>/
//! <yyyy>-<mm>-<token>.parquet`, with columns `ts` (timestamp, milliseconds, UTC),
//! `value` (double), `asset_id` and `metric`, so DuckDB, pandas, Spark or any Parquet
//! reader takes the files as they are. `metric_archive_files` lists each file and its time
//! range; the history API reads the files back for ranges they cover. Minute and hour
//! rollups stay in the database, so charts over months and years read them as before.
//! Files and rollups older than the retention (`NEXUS_RETENTION_DAYS`) are deleted.
//!
//! Parquet is written with the crate's column writers (no Arrow), Snappy-compressed.
//!
//! A month's file is stored and listed before its readings are deleted, in batches of
//! [`DELETE_BATCH`] minutes, each deleted only if it still holds what was written: a
//! reading that arrives late into an archived month stays in the database (and goes into
//! another file of that month next time), and a run that dies halfway leaves readings in
//! both places, which the readers take once.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{Datelike, TimeZone, Utc};
use nexus_core::archive::{ArchiveReport, Archiver};
use nexus_core::auth::BoxFuture;
use nexus_core::db::{placeholders, stmt};
use nexus_core::samples;
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

/// Minute chunks deleted per statement once their month is in a file.
pub const DELETE_BATCH: usize = 1000;
/// Rows of a Parquet row group: a month of one reading a second is three groups.
const ROW_GROUP: usize = 1 << 20;
/// Archived readings held for a request at most: a raw read spans two hours at most.
const MAX_READ: usize = 10_000_000;

const SCHEMA: &str = "message metric_readings {
    REQUIRED INT64 ts (TIMESTAMP(MILLIS, true));
    REQUIRED DOUBLE value;
    REQUIRED INT64 asset_id;
    REQUIRED BYTE_ARRAY metric (UTF8);
}";

fn parquet_err(e: parquet::errors::ParquetError) -> ApiError {
    ApiError::internal(format!("parquet: {e}"))
}

/// What a file says about its readings besides the rows.
struct Series<'a> {
    id: i64,
    asset_id: i64,
    metric: &'a str,
    unit: &'a str,
}

/// `readings` (sorted by time) of `series` as a Parquet file.
fn encode(series: &Series<'_>, readings: &[(i64, f64)]) -> ApiResult<Vec<u8>> {
    let schema =
        Arc::new(parquet::schema::parser::parse_message_type(SCHEMA).map_err(parquet_err)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("nexus".into())
            .set_key_value_metadata(Some(vec![
                KeyValue::new("nexus.series_id".into(), series.id.to_string()),
                KeyValue::new("nexus.asset_id".into(), series.asset_id.to_string()),
                KeyValue::new("nexus.metric".into(), series.metric.to_string()),
                KeyValue::new("nexus.unit".into(), series.unit.to_string()),
            ]))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, props).map_err(parquet_err)?;
    let metric = ByteArray::from(series.metric.as_bytes().to_vec());
    for group in readings.chunks(ROW_GROUP) {
        let mut rg = writer.next_row_group().map_err(parquet_err)?;
        let mut column = 0;
        while let Some(mut col) = rg.next_column().map_err(parquet_err)? {
            let written = match column {
                0 => {
                    let ts: Vec<i64> = group.iter().map(|r| r.0).collect();
                    col.typed::<Int64Type>().write_batch(&ts, None, None)
                }
                1 => {
                    let values: Vec<f64> = group.iter().map(|r| r.1).collect();
                    col.typed::<DoubleType>().write_batch(&values, None, None)
                }
                2 => {
                    let ids = vec![series.asset_id; group.len()];
                    col.typed::<Int64Type>().write_batch(&ids, None, None)
                }
                _ => {
                    let names = vec![metric.clone(); group.len()];
                    col.typed::<ByteArrayType>().write_batch(&names, None, None)
                }
            };
            written.map_err(parquet_err)?;
            col.close().map_err(parquet_err)?;
            column += 1;
        }
        rg.close().map_err(parquet_err)?;
    }
    writer.into_inner().map_err(parquet_err)
}

/// The readings of a file written by [`encode`] in `[from, before)`, in file order.
fn decode(bytes: Bytes, from: i64, before: i64, out: &mut Vec<(i64, f64)>) -> ApiResult<()> {
    let reader = SerializedFileReader::new(bytes).map_err(parquet_err)?;
    for g in 0..reader.num_row_groups() {
        let rg = reader.get_row_group(g).map_err(parquet_err)?;
        // A group whose times all lie outside the range is not decoded.
        if let Some(Statistics::Int64(times)) = rg.metadata().column(0).statistics()
            && let (Some(&lo), Some(&hi)) = (times.min_opt(), times.max_opt())
            && (hi < from || lo >= before)
        {
            continue;
        }
        let rows = rg.metadata().num_rows() as usize;
        let (mut ts, mut values) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        let mut ts_reader = parquet::column::reader::get_typed_column_reader::<Int64Type>(
            rg.get_column_reader(0).map_err(parquet_err)?,
        );
        let mut value_reader = parquet::column::reader::get_typed_column_reader::<DoubleType>(
            rg.get_column_reader(1).map_err(parquet_err)?,
        );
        ts_reader
            .read_records(rows, None, None, &mut ts)
            .map_err(parquet_err)?;
        value_reader
            .read_records(rows, None, None, &mut values)
            .map_err(parquet_err)?;
        if ts.len() != values.len() {
            return Err(ApiError::internal("parquet: columns of unequal length"));
        }
        out.extend(
            ts.into_iter()
                .zip(values)
                .filter(|(t, _)| *t >= from && *t < before),
        );
    }
    Ok(())
}

/// The first instant (ms) of the UTC month holding `ms`, and of the month after it.
pub fn month_of(ms: i64) -> (i64, i64) {
    let at = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let start = Utc
        .with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let next = match at.month() {
        12 => Utc.with_ymd_and_hms(at.year() + 1, 1, 1, 0, 0, 0),
        m => Utc.with_ymd_and_hms(at.year(), m + 1, 1, 0, 0, 0),
    }
    .single()
    .unwrap_or_default();
    (start.timestamp_millis(), next.timestamp_millis())
}

/// A metric name as a path segment: letters, digits, `-`, `_` and `.` kept, others `_`.
fn segment(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .take(80)
        .collect()
}

#[derive(FromQueryResult)]
struct SeriesRow {
    id: i64,
    asset_id: i64,
    metric_name: String,
    unit: String,
}

#[derive(FromQueryResult)]
struct Chunk {
    bucket: i64,
    samples: i32,
    data: Vec<u8>,
}

#[derive(FromQueryResult)]
struct Span {
    lo: Option<i64>,
    hi: Option<i64>,
    n: Option<i64>,
}

#[derive(FromQueryResult)]
struct FileRow {
    id: i64,
    path: String,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// How many readings went into files, and how many files.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moved {
    pub readings: u64,
    pub files: u64,
}

/// Moves the raw readings of every whole UTC month before the one holding `cutoff` (ms)
/// into Parquet files, a series' month at a time; with `dry_run`, counts what it would
/// move (and how many files, at most: one per month that has readings).
pub async fn archive_readings(state: &AppState, cutoff: i64, dry_run: bool) -> ApiResult<Moved> {
    let (before, _) = month_of(cutoff);
    let read = state.db.read();
    let backend = read.get_database_backend();
    let mut moved = Moved::default();
    for series in all_series(state).await? {
        // The series' key range before the month: empty for most series on most runs.
        let span = Span::find_by_statement(stmt(
            backend,
            "SELECT MIN(bucket) AS lo, MAX(bucket) AS hi, CAST(SUM(samples) AS BIGINT) AS n \
             FROM metric_chunks WHERE series_id = $1 AND bucket < $2",
            vec![series.id.into(), before.into()],
        ))
        .one(read)
        .await?;
        let Some(Span {
            lo: Some(lo),
            hi: Some(hi),
            n,
        }) = span
        else {
            continue;
        };
        let mut month = month_of(lo).0;
        while month <= hi {
            let next = month_of(month).1;
            if dry_run {
                moved.files += 1;
            } else {
                let m = archive_month(state, &series, month, next.min(before)).await?;
                moved.readings += m.readings;
                moved.files += m.files;
            }
            month = next;
        }
        if dry_run {
            moved.readings += n.unwrap_or(0) as u64;
        }
    }
    Ok(moved)
}

/// Moves the readings of `series` in `[from, before)` into one file.
async fn archive_month(
    state: &AppState,
    series: &SeriesRow,
    from: i64,
    before: i64,
) -> ApiResult<Moved> {
    let read = state.db.read();
    let backend = read.get_database_backend();
    let chunks = Chunk::find_by_statement(stmt(
        backend,
        "SELECT bucket, samples, data FROM metric_chunks WHERE series_id = $1 \
         AND bucket >= $2 AND bucket < $3 ORDER BY bucket",
        vec![series.id.into(), from.into(), before.into()],
    ))
    .all(read)
    .await?;
    if chunks.is_empty() {
        return Ok(Moved::default());
    }
    let mut readings = Vec::with_capacity(chunks.iter().map(|c| c.samples as usize).sum());
    for c in &chunks {
        samples::decode_into(c.bucket, &c.data, &mut readings).map_err(ApiError::internal)?;
    }
    let (first, last) = (readings[0].0, readings[readings.len() - 1].0);
    let count = readings.len();
    let meta = (
        series.id,
        series.asset_id,
        series.metric_name.clone(),
        series.unit.clone(),
    );
    let bytes = tokio::task::spawn_blocking(move || {
        let series = Series {
            id: meta.0,
            asset_id: meta.1,
            metric: &meta.2,
            unit: &meta.3,
        };
        encode(&series, &readings)
    })
    .await
    .map_err(ApiError::internal)??;
    let day = Utc.timestamp_millis_opt(from).single().unwrap_or_default();
    let path = format!(
        "{}/metrics/asset-{}/{}-{}/{:04}-{:02}-{}.parquet",
        nexus_content::ARCHIVE,
        series.asset_id,
        segment(&series.metric_name),
        series.id,
        day.year(),
        day.month(),
        nexus_core::auth::random_token(6).to_lowercase()
    );
    let size = bytes.len() as i64;
    let store = nexus_content::store(state);
    store.put_at(&path, bytes).await?;
    let write = state.db.write();
    write
        .execute_raw(stmt(
            backend,
            "INSERT INTO metric_archive_files (series_id, first_ts, last_ts, samples, path, \
             bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                series.id.into(),
                first.into(),
                last.into(),
                (count as i64).into(),
                path.clone().into(),
                size.into(),
                Timestamp::now().0.into(),
            ],
        ))
        .await?;
    // Each minute goes only if it still holds the readings the file has, each batch in a
    // statement of its own.
    let mut deleted = 0;
    for batch in chunks.chunks(DELETE_BATCH) {
        let pairs = (0..batch.len())
            .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values: Vec<Value> = vec![series.id.into()];
        for c in batch {
            values.push(c.bucket.into());
            values.push(i64::from(c.samples).into());
        }
        let sql = format!(
            "DELETE FROM metric_chunks WHERE series_id = $1 AND (bucket, samples) IN \
             (VALUES {pairs})"
        );
        deleted += write
            .execute_raw(stmt(backend, &sql, values))
            .await?
            .rows_affected();
    }
    if deleted == 0 {
        // Another run (another node's) took these minutes first: its file is the one.
        write
            .execute_raw(stmt(
                backend,
                "DELETE FROM metric_archive_files WHERE path = $1",
                vec![path.clone().into()],
            ))
            .await?;
        store.delete_at(&path).await?;
        return Ok(Moved::default());
    }
    Ok(Moved {
        readings: count as u64,
        files: 1,
    })
}

/// The archived readings of series `series_id` in `[from, before)`, sorted by time, each
/// instant once; at most the first `max` of them.
pub async fn archived_readings(
    state: &AppState,
    series_id: i64,
    from: i64,
    before: i64,
    max: usize,
) -> ApiResult<Vec<(i64, f64)>> {
    let conn = state.db.read();
    let files = FileRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT id, path FROM metric_archive_files WHERE series_id = $1 AND first_ts < $3 \
         AND last_ts >= $2 ORDER BY first_ts, id",
        vec![series_id.into(), from.into(), before.into()],
    ))
    .all(conn)
    .await?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let store = nexus_content::store(state);
    let mut out = Vec::new();
    for f in files {
        let bytes = store.get_at(&f.path).await?;
        let mut part = Vec::new();
        tokio::task::spawn_blocking(move || decode(bytes, from, before, &mut part).map(|_| part))
            .await
            .map_err(ApiError::internal)?
            .map(|part| out.extend(part))
            .map_err(|e| ApiError::internal(format!("archive file {}: {e}", f.id)))?;
        if out.len() > MAX_READ {
            return Err(ApiError::invalid(
                "from",
                "the range holds too many archived readings: ask for a shorter one",
            ));
        }
    }
    let mut out = merge(out, Vec::new());
    out.truncate(max);
    Ok(out)
}

/// `a` and `b` as one run sorted by time, each instant once (the first seen wins).
pub fn merge(mut a: Vec<(i64, f64)>, b: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    a.extend(b);
    a.sort_by_key(|r| r.0);
    a.dedup_by_key(|r| r.0);
    a
}

/// Deletes the archive files whose readings all are older than `expiry` (ms), a batch at
/// a time; how many.
async fn delete_files(state: &AppState, expiry: i64) -> ApiResult<u64> {
    let (read, write) = (state.db.read(), state.db.write());
    let backend = read.get_database_backend();
    let store = nexus_content::store(state);
    let mut files = 0u64;
    loop {
        let batch = FileRow::find_by_statement(stmt(
            backend,
            "SELECT id, path FROM metric_archive_files WHERE last_ts < $1 ORDER BY id LIMIT $2",
            vec![expiry.into(), (DELETE_BATCH as i64).into()],
        ))
        .all(read)
        .await?;
        if batch.is_empty() {
            break;
        }
        for f in &batch {
            store.delete_at(&f.path).await?;
        }
        let ids: Vec<Value> = batch.iter().map(|f| f.id.into()).collect();
        let list = placeholders(1, ids.len());
        write
            .execute_raw(stmt(
                backend,
                &format!("DELETE FROM metric_archive_files WHERE id IN ({list})"),
                ids,
            ))
            .await?;
        files += batch.len() as u64;
    }
    Ok(files)
}

/// Deletes the archive files and the rollups older than `expiry` (ms), in batches; with
/// `dry_run`, counts them. (files deleted, rollup rows deleted)
async fn expire(state: &AppState, expiry: i64, dry_run: bool) -> ApiResult<(u64, u64)> {
    let read = state.db.read();
    let backend = read.get_database_backend();
    let write = state.db.write();
    let files = match dry_run {
        true => Count::find_by_statement(stmt(
            backend,
            "SELECT COUNT(*) AS n FROM metric_archive_files WHERE last_ts < $1",
            vec![expiry.into()],
        ))
        .one(read)
        .await?
        .map_or(0, |c| c.n as u64),
        false => delete_files(state, expiry).await?,
    };
    // Rollups a day of buckets at a time per series, each day its own short statement.
    let series = all_series(state).await?;
    let mut rollups = 0u64;
    for table in ["metric_rollups_minute", "metric_rollups_hour"] {
        let span = format!(
            "SELECT MIN(bucket) AS lo, MAX(bucket) AS hi, COUNT(*) AS n FROM {table} \
             WHERE series_id = $1 AND bucket < $2"
        );
        let delete =
            format!("DELETE FROM {table} WHERE series_id = $1 AND bucket >= $2 AND bucket < $3");
        for id in series.iter().map(|s| s.id) {
            let found =
                Span::find_by_statement(stmt(backend, &span, vec![id.into(), expiry.into()]))
                    .one(read)
                    .await?;
            let Some(Span {
                lo: Some(mut from),
                n,
                ..
            }) = found
            else {
                continue;
            };
            if dry_run {
                rollups += n.unwrap_or(0) as u64;
                continue;
            }
            while from < expiry {
                let to = (from + 86_400_000).min(expiry);
                rollups += write
                    .execute_raw(stmt(
                        backend,
                        &delete,
                        vec![id.into(), from.into(), to.into()],
                    ))
                    .await?
                    .rows_affected();
                from = to;
            }
        }
    }
    Ok((files, rollups))
}

/// Every series, as its files name it.
async fn all_series(state: &AppState) -> ApiResult<Vec<SeriesRow>> {
    let read = state.db.read();
    Ok(SeriesRow::find_by_statement(stmt(
        read.get_database_backend(),
        "SELECT id, asset_id, metric_name, unit FROM asset_metrics ORDER BY id",
        vec![],
    ))
    .all(read)
    .await?)
}

/// The raw retention in force: readings of months wholly older than this leave the
/// database.
async fn cutoff(state: &AppState) -> ApiResult<i64> {
    let days = crate::service::get_settings(&state.db)
        .await?
        .retention_days;
    Ok(Timestamp::now().0.div_euclid(1000) - i64::from(days) * 86_400_000)
}

/// The archiving of metric history, as the API and `nexus archive` run it (one run at a
/// time, each audited as `archive.run` with its counts).
pub static ARCHIVER: Archiver = Archiver {
    domain: "telemetry",
    runs: "/api/v1/telemetry/archive/runs",
    pass,
};

fn pass(state: &AppState, dry_run: bool) -> BoxFuture<'_, ApiResult<ArchiveReport>> {
    Box::pin(run(state, dry_run))
}

/// One archiving pass over telemetry: moves the raw readings of months wholly older than
/// the raw retention (the setting `retention_days`) into Parquet files, then deletes
/// archive files and rollups older than the retention (`NEXUS_RETENTION_DAYS`); with
/// `dry_run` only counts.
pub async fn run(state: &AppState, dry_run: bool) -> ApiResult<ArchiveReport> {
    let mut report = ArchiveReport::new("telemetry", dry_run);
    let moved = archive_readings(state, cutoff(state).await?, dry_run).await?;
    let expiry =
        Timestamp::now().0.div_euclid(1000) - i64::from(state.config.retention_days) * 86_400_000;
    let (files, rollups) = expire(state, expiry, dry_run).await?;
    report.add("metric_readings", moved.readings, 0);
    report.add("metric_files", moved.files, files);
    report.add("metric_rollups", 0, rollups);
    Ok(report)
}
