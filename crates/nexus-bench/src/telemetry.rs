//! Telemetry scenarios: HTTP ingest (JSON and line protocol, batches of 5,000, 4 writers)
//! against a bare insert loop of the same rows into the same schema, bytes per stored
//! sample, and history queries over a large store.

use nexus_core::seeding::Rng;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nexus_core::samples;
use rusqlite::OptionalExtension;
use sea_orm::sqlx::{self, Connection, PgConnection};

use crate::load::{Request, Stats, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Series written by the ingest scenario (one `temperature` metric on each of 100 assets).
const SERIES: i64 = 100;
/// Points per request: every series at 50 instants.
const TICKS_PER_BATCH: i64 = 50;
const BATCH: i64 = SERIES * TICKS_PER_BATCH;
const WRITERS: usize = 4;

/// A reading that is not a whole number (whole numbers are stored smaller on SQLite).
fn value(series: i64, tick: i64) -> f64 {
    20.0 + ((tick * 7919 + series * 104_729) % 10_000) as f64 / 137.0
}

/// The rows of batch `n` of a phase starting at `base` ms: series-major, each series at
/// 50 consecutive seconds.
fn batch_rows(series_ids: &[i64], base: i64, n: i64) -> impl Iterator<Item = (i64, i64, f64)> + '_ {
    series_ids.iter().enumerate().flat_map(move |(s, &id)| {
        (0..TICKS_PER_BATCH).map(move |k| {
            let tick = n * TICKS_PER_BATCH + k;
            (id, base + tick * 1000, value(s as i64, tick))
        })
    })
}

fn json_body(assets: &[i64], base: i64, n: i64) -> Vec<u8> {
    let mut out = String::with_capacity(BATCH as usize * 80);
    out.push_str("{\"points\":[");
    for (i, (asset, ts, v)) in batch_rows(assets, base, n).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"asset_id\":{asset},\"metric\":\"temperature\",\"ts\":{ts},\"value\":{v}}}"
        );
    }
    out.push_str("]}");
    out.into_bytes()
}

fn line_body(assets: &[i64], base: i64, n: i64) -> Vec<u8> {
    let mut out = String::with_capacity(BATCH as usize * 48);
    for (asset, ts, v) in batch_rows(assets, base, n) {
        let _ = writeln!(out, "temperature,asset_id={asset} value={v} {ts}");
    }
    out.into_bytes()
}

async fn post_json(
    nexus: &Nexus,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let (status, out) = send_once(
        nexus.addr,
        &Request::post_json(path, &body.to_string()).bearer(token),
    )
    .await?;
    if !(200..300).contains(&status) {
        bail!(
            "POST {path} answered {status}: {}",
            String::from_utf8_lossy(&out)
        );
    }
    Ok(serde_json::from_slice(&out)?)
}

/// Creates `n` assets with a `temperature` metric; their (asset ids, series ids).
async fn make_series(nexus: &Nexus, token: &str, n: i64) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let mut assets = Vec::new();
    let mut series = Vec::new();
    for i in 0..n {
        let a = post_json(
            nexus,
            token,
            "/api/v1/assets",
            serde_json::json!({"name": format!("Sensor rig {i}")}),
        )
        .await?;
        let id = a["id"].as_i64().context("asset id")?;
        let m = post_json(
            nexus,
            token,
            &format!("/api/v1/assets/{id}/metrics"),
            serde_json::json!({"metric_name": "temperature", "unit": "°C"}),
        )
        .await?;
        assets.push(id);
        series.push(m["id"].as_i64().context("series id")?);
    }
    Ok((assets, series))
}

/// Every connection takes its own batches, so no two requests repeat a point.
async fn ingest_phase(
    nexus: &Nexus,
    token: &str,
    assets: &Arc<Vec<i64>>,
    base: i64,
    line: bool,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let (assets, token) = (assets.clone(), token.to_string());
    run_load_with(
        nexus.addr,
        WRITERS,
        duration,
        Arc::new(move |conn, i| {
            let n = i as i64 * WRITERS as i64 + conn as i64;
            if line {
                Request::post_body(
                    "/api/v1/telemetry/line?precision=ms",
                    "text/plain",
                    line_body(&assets, base, n),
                )
            } else {
                Request::post_body(
                    "/api/v1/telemetry",
                    "application/json",
                    json_body(&assets, base, n),
                )
            }
            .bearer(&token)
        }),
    )
    .await
}

fn points_per_s(s: &Stats) -> f64 {
    s.rate() * BATCH as f64
}

/// The bare loop on SQLite: the same rows, in the same batches and order, into the same
/// table in a fresh file with the server's settings: per batch one transaction that reads
/// each chunk the batch touches, merges the batch into it and writes it back, through
/// prepared statements. The engine's own speed for this schema.
fn bare_sqlite(dir: &Path, series: &[i64], base: i64, batches: i64) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("bare.db");
    let conn = rusqlite::Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16000;
         CREATE TABLE metric_chunks (series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
           samples INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, bucket));",
    )?;
    let started = Instant::now();
    let mut rows = 0u64;
    let (mut stored, mut fresh) = (Vec::new(), Vec::new());
    for n in 0..batches {
        let tx = conn.unchecked_transaction()?;
        {
            let mut read = tx.prepare_cached(
                "SELECT data FROM metric_chunks WHERE series_id = ?1 AND bucket = ?2",
            )?;
            let mut write = tx.prepare_cached(
                "INSERT INTO metric_chunks (series_id, bucket, samples, data) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (series_id, bucket) DO UPDATE SET samples = excluded.samples, data = excluded.data",
            )?;
            let batch: Vec<_> = batch_rows(series, base, n).collect();
            for run in batch.chunk_by(|a, b| {
                a.0 == b.0 && samples::chunk_start(a.1) == samples::chunk_start(b.1)
            }) {
                let (s, bucket) = (run[0].0, samples::chunk_start(run[0].1));
                stored.clear();
                fresh.clear();
                let data: Option<Vec<u8>> = read
                    .query_row(rusqlite::params![s, bucket], |r| r.get(0))
                    .optional()?;
                if let Some(d) = data {
                    samples::decode_into(bucket, &d, &mut stored)?;
                }
                let incoming: Vec<_> = run.iter().map(|&(_, ts, v)| (ts, v)).collect();
                if samples::merge(&mut stored, &incoming, &mut fresh) {
                    let data = samples::encode(bucket, &stored);
                    write.execute(rusqlite::params![s, bucket, stored.len() as i64, data])?;
                    rows += fresh.len() as u64;
                }
            }
        }
        tx.commit()?;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    let bytes = sqlite_chunk_bytes(&conn)?;
    Ok((rate, bytes as f64 / rows.max(1) as f64))
}

/// The former layout's bare loop, for reference: the same rows into a table of one row per
/// sample keyed by (series, time), one prepared single-row insert per row and one
/// transaction per batch (the limit of that layout on this machine).
fn bare_sqlite_rows(dir: &Path, series: &[i64], base: i64, batches: i64) -> anyhow::Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("bare-rows.db"))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16000;
         CREATE TABLE metric_samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL,
           value REAL NOT NULL, PRIMARY KEY (series_id, ts)) WITHOUT ROWID;",
    )?;
    let started = Instant::now();
    let mut rows = 0u64;
    for n in 0..batches {
        let tx = conn.unchecked_transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO metric_samples (series_id, ts, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            for (s, ts, v) in batch_rows(series, base, n) {
                rows += insert.execute(rusqlite::params![s, ts, v])? as u64;
            }
        }
        tx.commit()?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// Bytes of the chunks table and its key on SQLite.
fn sqlite_chunk_bytes(conn: &rusqlite::Connection) -> anyhow::Result<i64> {
    Ok(conn.query_row(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN ('metric_chunks', 'sqlite_autoindex_metric_chunks_1')",
        [],
        |r| r.get(0),
    )?)
}

/// The bare loop on PostgreSQL: the same rows merged into a copy of the table as the
/// server does, one transaction per batch: one query reads the chunks the batch touches,
/// one upsert writes them back.
async fn bare_pg(url: &str, series: &[i64], base: i64, batches: i64) -> anyhow::Result<f64> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("CREATE TABLE bench_bare_chunks (LIKE metric_chunks INCLUDING ALL)")
        .execute(&mut conn)
        .await?;
    let started = Instant::now();
    let mut rows = 0u64;
    for n in 0..batches {
        let mut tx = conn.begin().await?;
        let batch: Vec<_> = batch_rows(series, base, n).collect();
        let runs: Vec<_> = batch
            .chunk_by(|a, b| a.0 == b.0 && samples::chunk_start(a.1) == samples::chunk_start(b.1))
            .collect();
        let keys: (Vec<i64>, Vec<i64>) = runs
            .iter()
            .map(|r| (r[0].0, samples::chunk_start(r[0].1)))
            .unzip();
        let found: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT c.series_id, c.bucket, c.data FROM unnest($1::int8[], $2::int8[]) AS k(s, b) \
             JOIN bench_bare_chunks c ON c.series_id = k.s AND c.bucket = k.b",
        )
        .bind(&keys.0)
        .bind(&keys.1)
        .fetch_all(&mut *tx)
        .await?;
        let mut found: std::collections::HashMap<(i64, i64), Vec<u8>> =
            found.into_iter().map(|(s, b, d)| ((s, b), d)).collect();
        let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (run, (s, bucket)) in runs.iter().zip(keys.0.iter().zip(&keys.1)) {
            let mut stored = match found.remove(&(*s, *bucket)) {
                Some(d) => samples::decode(*bucket, &d)?,
                None => Vec::new(),
            };
            let incoming: Vec<_> = run.iter().map(|&(_, ts, v)| (ts, v)).collect();
            let mut fresh = Vec::new();
            if samples::merge(&mut stored, &incoming, &mut fresh) {
                rows += fresh.len() as u64;
                cols.0.push(*s);
                cols.1.push(*bucket);
                cols.2.push(stored.len() as i32);
                cols.3.push(samples::encode(*bucket, &stored));
            }
        }
        sqlx::query(
            "INSERT INTO bench_bare_chunks (series_id, bucket, samples, data) \
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::bytea[]) \
             ON CONFLICT (series_id, bucket) DO UPDATE SET samples = excluded.samples, data = excluded.data",
        )
        .bind(cols.0)
        .bind(cols.1)
        .bind(cols.2)
        .bind(cols.3)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_bare_chunks")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(rate)
}

/// Samples stored and bytes per sample of the server's chunks table.
pub(crate) async fn stored_size(
    dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<(i64, f64)> {
    match server::database_url_for(dir, database_url)? {
        Some(url) => {
            let mut conn = PgConnection::connect(&url).await?;
            let (n, bytes): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT COALESCE(sum(samples), 0)::int8 FROM metric_chunks), pg_total_relation_size('metric_chunks')",
            )
            .fetch_one(&mut conn)
            .await?;
            conn.close().await?;
            Ok((n, bytes as f64 / n.max(1) as f64))
        }
        None => {
            let conn = rusqlite::Connection::open(dir.join("nexus.db"))?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
            let n: i64 = conn.query_row(
                "SELECT COALESCE(sum(samples), 0) FROM metric_chunks",
                [],
                |r| r.get(0),
            )?;
            let bytes = sqlite_chunk_bytes(&conn)?;
            Ok((n, bytes as f64 / n.max(1) as f64))
        }
    }
}

/// HTTP ingest, JSON and line protocol, against the bare loop; bytes per sample.
pub async fn ingest(binary: &str, database_url: Option<&str>, secs: u64) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let mut nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let (assets, series) = make_series(&nexus, &token, SERIES).await?;
    let assets = Arc::new(assets);
    let day = 86_400_000;
    let now = chrono::Utc::now().timestamp_millis();
    // Separate time ranges per phase, so no phase repeats another's points.
    let (warm, json_base, line_base) = (now - 60 * day, now - 40 * day, now - 20 * day);
    ingest_phase(&nexus, &token, &assets, warm, false, Duration::from_secs(1)).await?;
    let phase = Duration::from_secs(secs);
    let json = ingest_phase(&nexus, &token, &assets, json_base, false, phase).await?;
    let line = ingest_phase(&nexus, &token, &assets, line_base, true, phase).await?;
    // Alert evaluation: the same JSON load with thresholds on every series (never
    // crossed, so this is the cost of checking) and without, in alternating rounds (the
    // machine's noise falls on both); the median round of each.
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..ALERT_ROUNDS {
        for alerts in [false, true] {
            set_thresholds(&nexus, &token, &assets, alerts).await?;
            let base = now - (58 - 2 * (2 * round + i64::from(alerts))) * day;
            let s = ingest_phase(&nexus, &token, &assets, base, false, phase / 2).await?;
            if alerts { on.push(s) } else { off.push(s) }
        }
    }
    let (off, on) = (median_round(off), median_round(on));
    nexus.halt().await;
    let (stored, per_sample) = stored_size(&dir, database_url).await?;
    let sent = (json.ok + line.ok) as i64 * BATCH;

    // The bare loop writes as many batches as the JSON phase did.
    let batches = json.ok as i64;
    let bare = match server::database_url_for(&dir, database_url)? {
        Some(url) => (bare_pg(&url, &series, json_base, batches).await?, None),
        None => {
            let (dir2, series2) = (dir.clone(), series.clone());
            let (rate, bytes, per_row) = tokio::task::spawn_blocking(move || {
                let (rate, bytes) = bare_sqlite(&dir2, &series2, json_base, batches)?;
                let per_row = bare_sqlite_rows(&dir2, &series2, json_base, batches)?;
                anyhow::Ok((rate, bytes, per_row))
            })
            .await??;
            (rate, Some((bytes, per_row)))
        }
    };
    println!(
        "telemetry-ingest ({backend}): {WRITERS} writers, batches of {BATCH} points, {secs}s per phase"
    );
    println!(
        "  JSON over HTTP:          {:.0} points/s ({})",
        points_per_s(&json),
        json.summary()
    );
    println!(
        "  line protocol over HTTP: {:.0} points/s ({})",
        points_per_s(&line),
        line.summary()
    );
    let bare_kind = if database_url.is_some() {
        "one read and one upsert of the chunks per batch"
    } else {
        "prepared read and upsert per chunk"
    };
    println!(
        "  bare loop ({bare_kind}, {batches} batches of the same rows): {:.0} rows/s",
        bare.0
    );
    println!(
        "  HTTP / bare: JSON {:.2}, line protocol {:.2}",
        points_per_s(&json) / bare.0,
        points_per_s(&line) / bare.0
    );
    println!(
        "  alerts off / on (JSON, median of {ALERT_ROUNDS} alternating rounds): {:.0} / {:.0} points/s: evaluation costs {:.1}%",
        points_per_s(&off),
        points_per_s(&on),
        (1.0 - points_per_s(&on) / points_per_s(&off)) * 100.0
    );
    println!(
        "  stored {stored} samples ({sent} sent in the JSON and line phases, + warm-up and alert rounds); {per_sample:.1} bytes per sample (chunks table with its key{})",
        if database_url.is_some() {
            ", pg_total_relation_size"
        } else {
            ", dbstat"
        }
    );
    if let Some((bytes, per_row)) = bare.1 {
        println!("  bare loop table: {bytes:.1} bytes per sample");
        println!(
            "  former layout (one row per sample), bare single-row inserts: {per_row:.0} rows/s; HTTP / that: JSON {:.2}, line protocol {:.2}",
            points_per_s(&json) / per_row,
            points_per_s(&line) / per_row
        );
    }
    server::remove_data(&dir).await;
    Ok(())
}

/// Rounds of the alert comparison, each with and without thresholds.
const ALERT_ROUNDS: i64 = 3;

/// Sets warning and critical thresholds that the load never reaches on every series, or
/// clears them.
async fn set_thresholds(
    nexus: &Nexus,
    token: &str,
    assets: &[i64],
    on: bool,
) -> anyhow::Result<()> {
    let body: &[u8] = if on {
        br#"{"warning_threshold": 95.0, "critical_threshold": 100.0, "hysteresis": 1.0}"#
    } else {
        br#"{"warning_threshold": null, "critical_threshold": null}"#
    };
    for a in assets {
        let (status, answer) = send_once(
            nexus.addr,
            &Request::post_body(
                &format!("/api/v1/assets/{a}/metrics/temperature"),
                "application/json",
                body.to_vec(),
            )
            .method("PATCH")
            .bearer(token),
        )
        .await?;
        anyhow::ensure!(
            status == 200,
            "setting thresholds: {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(())
}

/// The round with the median rate.
fn median_round(mut rounds: Vec<Stats>) -> Stats {
    rounds.sort_by(|a, b| points_per_s(a).total_cmp(&points_per_s(b)));
    rounds.swap_remove(rounds.len() / 2)
}

/// Interval between generated samples of the query store.
const STEP_MS: i64 = 7_000;

/// What the store holds for one series: its chunks `(bucket, samples, data)` and its
/// minute and hour rollups `(bucket, min, max, sum, count)`.
type Rollup = (i64, f64, f64, f64, i64);
struct SeriesRows {
    chunks: Vec<(i64, i64, Vec<u8>)>,
    minutes: Vec<Rollup>,
    hours: Vec<Rollup>,
}

fn rollups(readings: &[(i64, f64)], width: i64) -> Vec<Rollup> {
    readings
        .chunk_by(|a, b| a.0 / width == b.0 / width)
        .map(|run| {
            let (lo, hi, sum) = run.iter().fold(
                (f64::INFINITY, f64::NEG_INFINITY, 0.0),
                |(lo, hi, sum), &(_, v)| (lo.min(v), hi.max(v), sum + v),
            );
            (run[0].0 / width * width, lo, hi, sum, run.len() as i64)
        })
        .collect()
}

/// The rows of a series with `n` samples from `start`, one every `STEP_MS`.
fn series_rows(s: i64, start: i64, n: i64) -> SeriesRows {
    let readings: Vec<(i64, f64)> = (0..n).map(|k| (start + k * STEP_MS, value(s, k))).collect();
    SeriesRows {
        chunks: readings
            .chunk_by(|a, b| samples::chunk_start(a.0) == samples::chunk_start(b.0))
            .map(|run| {
                let bucket = samples::chunk_start(run[0].0);
                (bucket, run.len() as i64, samples::encode(bucket, run))
            })
            .collect(),
        minutes: rollups(&readings, 60_000),
        hours: rollups(&readings, 3_600_000),
    }
}

/// `COPY table FROM STDIN` of tab-separated text.
async fn copy(conn: &mut PgConnection, table: &str, text: String) -> anyhow::Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} FROM STDIN"))
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Writes `per_series` samples of each series, ending a minute ago, with their minute and
/// hour rollups, straight into the database.
pub(crate) async fn generate(
    dir: &Path,
    database_url: Option<&str>,
    series: &[i64],
    per_series: i64,
) -> anyhow::Result<Duration> {
    let end = chrono::Utc::now().timestamp_millis() - 60_000;
    let start = (end - per_series * STEP_MS) / STEP_MS * STEP_MS;
    let started = Instant::now();
    match server::database_url_for(dir, database_url)? {
        Some(url) => {
            let mut conn = PgConnection::connect(&url).await?;
            for &s in series {
                let rows = series_rows(s, start, per_series);
                let mut text = String::with_capacity(rows.chunks.len() * 200);
                for (bucket, n, data) in &rows.chunks {
                    let _ = write!(text, "{s}\t{bucket}\t{n}\t\\\\x");
                    for b in data {
                        let _ = write!(text, "{b:02x}");
                    }
                    text.push('\n');
                }
                copy(&mut conn, "metric_chunks", text).await?;
                for (table, list) in [
                    ("metric_rollups_minute", &rows.minutes),
                    ("metric_rollups_hour", &rows.hours),
                ] {
                    let mut text = String::with_capacity(list.len() * 64);
                    for (b, lo, hi, sum, n) in list {
                        let _ = writeln!(text, "{s}\t{b}\t{lo:?}\t{hi:?}\t{sum:?}\t{n}");
                    }
                    copy(&mut conn, table, text).await?;
                }
            }
            sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
            conn.close().await?;
        }
        None => {
            let path = dir.join("nexus.db");
            let series = series.to_vec();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let conn = rusqlite::Connection::open(path)?;
                conn.execute_batch("PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;")?;
                for s in series {
                    let rows = series_rows(s, start, per_series);
                    let tx = conn.unchecked_transaction()?;
                    {
                        let mut ins =
                            tx.prepare_cached("INSERT INTO metric_chunks VALUES (?1, ?2, ?3, ?4)")?;
                        for (bucket, n, data) in &rows.chunks {
                            ins.execute(rusqlite::params![s, bucket, n, data])?;
                        }
                        for (table, list) in [
                            ("metric_rollups_minute", &rows.minutes),
                            ("metric_rollups_hour", &rows.hours),
                        ] {
                            let mut ins = tx.prepare_cached(&format!(
                                "INSERT INTO {table} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                            ))?;
                            for (b, lo, hi, sum, n) in list {
                                ins.execute(rusqlite::params![s, b, lo, hi, sum, n])?;
                            }
                        }
                    }
                    tx.commit()?;
                }
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
                Ok(())
            })
            .await??;
        }
    }
    Ok(started.elapsed())
}

/// Creates [`SERIES`] assets with a `temperature` metric on a server started on `dir`,
/// stops it, and writes `samples` samples over them with [`generate`]; the asset ids and
/// how long the writing took.
pub(crate) async fn generate_store(
    binary: &str,
    database_url: Option<&str>,
    dir: &Path,
    samples: u64,
) -> anyhow::Result<(Vec<i64>, Duration)> {
    let mut nexus = Nexus::start_in(binary, database_url, dir).await?;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let (assets, series) = make_series(&nexus, &token, SERIES).await?;
    nexus.halt().await;
    let took = generate(dir, database_url, &series, samples as i64 / SERIES).await?;
    Ok((assets, took))
}

/// 500-bucket history queries over random ranges of a store of `samples` samples.
pub async fn query(
    binary: &str,
    database_url: Option<&str>,
    samples: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let (assets, took) = generate_store(binary, database_url, &dir, samples).await?;
    let (stored, per_sample) = stored_size(&dir, database_url).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "telemetry-query ({backend}): {stored} samples ({SERIES} series, one every {} s) generated in {:.0} s, {per_sample:.1} bytes per sample",
        STEP_MS / 1000,
        took.as_secs_f64()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let end = chrono::Utc::now().timestamp_millis() - 60_000;
    let span = samples as i64 / SERIES * STEP_MS;
    let assets = Arc::new(assets);
    let ranges: [(&str, i64); 5] = [
        ("1 hour (raw)", 3_600_000),
        ("1 day (minute)", 86_400_000),
        ("7 days (hour)", 7 * 86_400_000),
        ("30 days (hour)", 30 * 86_400_000),
        ("whole store (hour)", span),
    ];
    for (name, len) in ranges {
        let len = len.min(span);
        let (assets, token) = (assets.clone(), token.clone());
        let stats = run_load_with(
            nexus.addr,
            1,
            Duration::from_secs(secs),
            Arc::new(move |_, i| {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i + 1));
                let asset = assets[rng.below(assets.len() as u64) as usize];
                let from = end - span + rng.below((span - len).max(1) as u64) as i64;
                let f = chrono::DateTime::from_timestamp_millis(from).unwrap_or_default();
                let t = chrono::DateTime::from_timestamp_millis(from + len).unwrap_or_default();
                Request::get(&format!(
                    "/api/v1/assets/{asset}/metrics/temperature/history?buckets=500&from={}&to={}",
                    f.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
                ))
                .bearer(&token)
            }),
        )
        .await?;
        println!("  500 buckets over {name:<20} HTTP: {}", stats.summary());
    }
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}
