//! Ingestion: readings are checked and resolved to series on the request's task, then
//! one writer task commits every queued batch in one transaction (group commit): raw
//! samples merged into their chunks (one row per series and minute, packed by
//! `nexus_core::samples`; a repeated point is stored once), the minute and hour rollups of
//! what was new, and each series' current value. A batch is all-or-nothing.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use nexus_core::error::FieldError;
use nexus_core::events::{Audience, Event};
use nexus_core::extract::parse_json;
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::sqlx::{self, Postgres, Sqlite, Transaction};
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use super::{Miss, cache, load_catalog};
use crate::lineproto::{self, AssetRef, Precision};
use crate::model::{IngestBody, IngestOut, PointIn};

/// Most points accepted in one request (413 above).
pub const MAX_POINTS: usize = 100_000;

/// Largest magnitude of an accepted reading; larger and non-finite values are refused.
/// Below 2^53, so whole-number readings (counters, totals) are exact; and at one reading
/// a millisecond an hour sums to at most 3.6e21 and all of history to about 1e28, so no
/// rollup or history sum comes near `f64::MAX`, where SQLite would store infinity and
/// PostgreSQL would raise an error. It spans any physical quantity in practical units.
pub const MAX_ABS_VALUE: f64 = 1e15;

/// Whether `v` is a reading that may be stored (false for NaN and infinities).
pub fn in_range(v: f64) -> bool {
    v.abs() <= MAX_ABS_VALUE
}

/// How far ahead of the server's clock a reading may be dated.
const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;

/// Most field errors listed in one answer.
const MAX_ERRORS: usize = 50;

/// Most points the writer commits in one transaction.
const MAX_GROUP: usize = 200_000;

/// Chunks per multi-row upsert on SQLite (four parameters each).
const CHUNK_ROWS: usize = 500;

/// Rows per rollup upsert (six parameters each).
const ROLLUP_CHUNK: usize = 500;

/// One stored reading: series, milliseconds since the epoch, value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub series: i64,
    pub ts: i64,
    pub value: f64,
}

/// A batch waiting for the writer, with where to send its outcome.
pub(super) struct Job {
    samples: Vec<Sample>,
    reply: oneshot::Sender<ApiResult<u64>>,
}

// ---------------------------------------------------------------- reading requests

/// A reading as sent, before it is resolved to a series.
struct RawPoint<'a> {
    /// Where it came from, for error messages: the point index or the line number.
    at: usize,
    asset: AssetRef<'a>,
    metric: Cow<'a, str>,
    ts: Option<i64>,
    value: f64,
}

/// The fast shape of a JSON body: names borrowed from the request, timestamps read in
/// place. Anything it cannot read goes through `parse_json` for a precise error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastBody<'a> {
    #[serde(borrow)]
    points: Vec<FastPoint<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastPoint<'a> {
    asset_id: i64,
    #[serde(borrow)]
    metric: Cow<'a, str>,
    ts: Ts,
    value: f64,
}

/// A JSON timestamp: milliseconds since the epoch, or `None` when the text is no
/// RFC 3339 instant.
struct Ts(Option<i64>);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp or milliseconds since the epoch")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ts, E> {
                Ok(Ts(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ts, E> {
                Ok(Ts(
                    (v.is_finite() && v.abs() < 9.0e15).then(|| v.floor() as i64)
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ts, E> {
                Ok(Ts(ts_of_text(v)))
            }
        }
        d.deserialize_any(V)
    }
}

fn ts_of_text(v: &str) -> Option<i64> {
    nexus_core::Timestamp::parse(v).map(|t| t.0.div_euclid(1000))
}

fn ts_of_value(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.abs() < 9.0e15)
                .map(|f| f.floor() as i64)
        }),
        serde_json::Value::String(s) => ts_of_text(s),
        _ => None,
    }
}

/// How a JSON payload holds its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonShape {
    /// `{"points": [...]}`, the HTTP body.
    Body,
    /// A bare array of points (MQTT).
    Array,
    /// One point object (MQTT).
    One,
}

impl JsonShape {
    /// Where point `at` and its `field` sit in the payload, as `parse_json` names paths.
    fn field(self, at: usize, field: &str) -> String {
        match self {
            Self::Body => format!("points[{at}].{field}"),
            Self::Array => format!("[{at}].{field}"),
            Self::One => field.to_string(),
        }
    }
}

/// Stores a JSON batch: `{"points": [...]}`, or the bare array of points as MQTT sends it.
pub async fn ingest_json(state: &AppState, body: &[u8]) -> ApiResult<IngestOut> {
    let bare = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let shape = if bare {
        JsonShape::Array
    } else {
        JsonShape::Body
    };
    check_json(state, body, shape).await?.store(state).await
}

/// Checks the points of a JSON payload of the given shape.
pub(crate) async fn check_json(
    state: &AppState,
    body: &[u8],
    shape: JsonShape,
) -> ApiResult<Checked> {
    let raw = json_points(body, shape)?;
    check(state, raw, |at, field| shape.field(at, field), false).await
}

/// Reads the points of a JSON payload: fast with borrowed names, or, when that fails,
/// through `parse_json` for a precise error.
fn json_points(body: &[u8], shape: JsonShape) -> ApiResult<Vec<RawPoint<'_>>> {
    let fast = match shape {
        JsonShape::Body => serde_json::from_slice::<FastBody>(body).map(|b| b.points),
        JsonShape::Array => serde_json::from_slice::<Vec<FastPoint>>(body),
        JsonShape::One => serde_json::from_slice::<FastPoint>(body).map(|p| vec![p]),
    };
    if let Ok(points) = fast {
        if points.len() > MAX_POINTS {
            return Err(ApiError::PayloadTooLarge);
        }
        return Ok(points
            .into_iter()
            .enumerate()
            .map(|(at, p)| RawPoint {
                at,
                asset: AssetRef::Id(p.asset_id),
                metric: p.metric,
                ts: p.ts.0,
                value: p.value,
            })
            .collect());
    }
    let points = match shape {
        JsonShape::Body => parse_json::<IngestBody>(body)?.points,
        JsonShape::Array => parse_json::<Vec<PointIn>>(body)?,
        JsonShape::One => vec![parse_json::<PointIn>(body)?],
    };
    if points.len() > MAX_POINTS {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(points
        .into_iter()
        .enumerate()
        .map(|(at, p)| RawPoint {
            at,
            asset: AssetRef::Id(p.asset_id),
            ts: ts_of_value(&p.ts),
            metric: Cow::Owned(p.metric),
            value: p.value,
        })
        .collect())
}

/// Checks one reading taken now, of an asset (an id or an exact name) and a metric named
/// by text (an MQTT topic).
pub(crate) async fn check_reading(
    state: &AppState,
    asset: &str,
    metric: &str,
    value: f64,
) -> ApiResult<Checked> {
    let asset = asset
        .parse()
        .map_or(AssetRef::Name(Cow::Borrowed(asset)), AssetRef::Id);
    let raw = vec![RawPoint {
        at: 0,
        asset,
        metric: Cow::Borrowed(metric),
        ts: None,
        value,
    }];
    check(state, raw, |_, field| field.to_string(), true).await
}

/// Stores a body of InfluxDB line protocol.
pub async fn ingest_lines(
    state: &AppState,
    body: &[u8],
    precision: Option<&str>,
) -> ApiResult<IngestOut> {
    check_lines(state, body, precision)
        .await?
        .store(state)
        .await
}

/// Checks a body of InfluxDB line protocol.
pub(crate) async fn check_lines(
    state: &AppState,
    body: &[u8],
    precision: Option<&str>,
) -> ApiResult<Checked> {
    let precision = Precision::parse(precision)
        .ok_or_else(|| ApiError::invalid("precision", "must be ns, us, ms or s"))?;
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not UTF-8: {e}")))?;
    let points = lineproto::parse(text, precision).map_err(|errors| {
        ApiError::Validation(
            errors
                .into_iter()
                .take(MAX_ERRORS)
                .map(|e| FieldError::new(format!("line {}", e.line), e.message))
                .collect(),
        )
    })?;
    if points.len() > MAX_POINTS {
        return Err(ApiError::PayloadTooLarge);
    }
    let raw = points
        .into_iter()
        .map(|p| RawPoint {
            at: p.line,
            asset: p.asset,
            metric: p.metric,
            ts: p.ts,
            value: p.value,
        })
        .collect();
    check(state, raw, |line, _| format!("line {line}"), true).await
}

/// Points checked and ready for the writer: sorted by series and time, no repeated keys.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    received: u64,
    samples: Vec<Sample>,
}

/// A batch handed to the writer, whose outcome comes once it is committed.
pub(crate) struct Submitted {
    received: u64,
    outcome: Option<oneshot::Receiver<ApiResult<u64>>>,
}

impl Checked {
    /// Stores the batch, all or none.
    pub(crate) async fn store(self, state: &AppState) -> ApiResult<IngestOut> {
        self.submit(state).await?.outcome().await
    }

    /// Queues the batch for the writer, which commits batches in the order they were
    /// queued.
    pub(crate) async fn submit(self, state: &AppState) -> ApiResult<Submitted> {
        let outcome = match self.samples.is_empty() {
            true => None,
            false => Some(submit(state, self.samples).await?),
        };
        Ok(Submitted {
            received: self.received,
            outcome,
        })
    }
}

impl Submitted {
    /// What the batch did, once committed.
    pub(crate) async fn outcome(self) -> ApiResult<IngestOut> {
        let stored = match self.outcome {
            Some(rx) => rx
                .await
                .map_err(|_| ApiError::internal("the telemetry writer dropped a batch"))??,
            None => 0,
        };
        Ok(IngestOut {
            received: self.received,
            stored,
            duplicates: self.received - stored,
        })
    }
}

/// Resolves, checks, sorts and de-duplicates `raw` for the writer.
/// `now_default`: a missing timestamp means now (line protocol) rather than an error.
async fn check(
    state: &AppState,
    raw: Vec<RawPoint<'_>>,
    field: impl Fn(usize, &str) -> String,
    now_default: bool,
) -> ApiResult<Checked> {
    let received = raw.len() as u64;
    let cache = cache(state);
    let now = chrono::Utc::now().timestamp_millis();
    let mut errors = Vec::new();
    let mut samples = Vec::with_capacity(raw.len());
    let refs = || raw.iter().map(|p| (&p.asset, p.metric.as_ref()));
    let mut resolved = cache.resolve(refs());
    // The catalog may lag a change made a moment ago on another node: look once.
    let mut stale: Vec<i64> = resolved
        .iter()
        .filter(|(_, found)| found.is_err())
        .filter_map(|(asset_id, _)| *asset_id)
        .collect();
    stale.sort_unstable();
    stale.dedup();
    if !stale.is_empty() {
        for &id in stale.iter().take(16) {
            load_catalog(&state.db, &cache, Some(id)).await?;
        }
        resolved = cache.resolve(refs());
    }
    for (p, (asset_id, found)) in raw.iter().zip(resolved) {
        let ts = p.ts.or(now_default.then_some(now));
        let ok = match (&found, ts) {
            (Err(Miss::Asset), _) => {
                let what = match &p.asset {
                    AssetRef::Id(id) => format!("no asset has id {id}"),
                    AssetRef::Name(n) => format!("no single asset is named '{n}'"),
                };
                errors.push(FieldError::new(field(p.at, "asset_id"), what));
                false
            }
            (Err(Miss::Metric), _) => {
                errors.push(FieldError::new(
                    field(p.at, "metric"),
                    format!(
                        "asset {} has no metric '{}'",
                        asset_id.unwrap_or_default(),
                        p.metric
                    ),
                ));
                false
            }
            (Ok(_), None) => {
                errors.push(FieldError::new(
                    field(p.at, "ts"),
                    "must be an RFC 3339 timestamp or milliseconds since the epoch",
                ));
                false
            }
            (Ok(_), Some(ts)) if ts > now + MAX_FUTURE_MS => {
                errors.push(FieldError::new(
                    field(p.at, "ts"),
                    "is more than 5 minutes in the future",
                ));
                false
            }
            (Ok(_), Some(ts)) if ts < 0 => {
                errors.push(FieldError::new(field(p.at, "ts"), "is before 1970"));
                false
            }
            _ if !in_range(p.value) => {
                errors.push(FieldError::new(
                    field(p.at, "value"),
                    format!("must be a finite number from -{MAX_ABS_VALUE:e} to {MAX_ABS_VALUE:e}"),
                ));
                false
            }
            _ => true,
        };
        if ok && let (Ok(series), Some(ts)) = (found, ts) {
            samples.push(Sample {
                series,
                ts,
                value: p.value,
            });
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    drop(raw);
    // Key order makes the inserts walk the index forward; the first of equal keys wins,
    // as `ON CONFLICT DO NOTHING` would have it.
    samples.sort_by_key(|s| (s.series, s.ts));
    samples.dedup_by_key(|s| (s.series, s.ts));
    Ok(Checked { received, samples })
}

/// Stores already checked samples (sorted by series and time, no repeated keys, values
/// `in_range`) through the writer; returns how many were new. For bulk loaders and tests.
pub async fn write(state: &AppState, samples: Vec<Sample>) -> ApiResult<u64> {
    submit(state, samples)
        .await?
        .await
        .map_err(|_| ApiError::internal("the telemetry writer dropped a batch"))?
}

/// Queues samples for the writer; the receiver hears how many were new once committed.
async fn submit(
    state: &AppState,
    samples: Vec<Sample>,
) -> ApiResult<oneshot::Receiver<ApiResult<u64>>> {
    let (reply, outcome) = oneshot::channel();
    cache(state)
        .writer
        .send(Job { samples, reply })
        .await
        .map_err(|_| ApiError::internal("the telemetry writer has stopped"))?;
    Ok(outcome)
}

// ---------------------------------------------------------------- the writer

/// The one task that writes samples, many batches per transaction; `/metrics` shows its
/// queue and batch sizes in samples (`writer="telemetry"`).
pub(super) async fn write_samples(state: AppState, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut total = first.samples.len();
        let mut jobs = vec![first];
        while total < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.samples.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        metrics::gauge!("writer_queue_depth", "writer" => "telemetry").set(rx.len() as f64);
        metrics::histogram!("writer_batch_size", "writer" => "telemetry").record(total as f64);
        let batches: Vec<&[Sample]> = jobs.iter().map(|j| j.samples.as_slice()).collect();
        let mut new = Vec::new();
        let outcomes = match write_group(&state, &batches, &mut new).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            // The database is away: this group and the batches queued behind it fail at
            // once, rather than each waiting out a connection attempt of its own.
            Err(ApiError::Unavailable) => {
                while let Ok(job) = rx.try_recv() {
                    jobs.push(job);
                }
                jobs.iter().map(|_| Err(ApiError::Unavailable)).collect()
            }
            // A failed group is retried batch by batch, so only the batch at fault fails.
            Err(_) if jobs.len() > 1 => {
                new.clear();
                let mut outcomes = Vec::with_capacity(jobs.len());
                for b in &batches {
                    outcomes.push(
                        write_group(&state, std::slice::from_ref(b), &mut new)
                            .await
                            .map(|v| v[0]),
                    );
                }
                outcomes
            }
            Err(e) => vec![Err(e)],
        };
        // Alerts see what was stored before the writers hear back, so a client that has
        // its answer also sees the alerts its readings raised.
        if !new.is_empty() {
            new.sort_by_key(|s| (s.series, s.ts));
            super::alerts::evaluate(&state, &new).await;
            publish_readings(&state, &new);
            if let Err(e) = super::meters::evaluate(&state, &new).await {
                tracing::warn!(error = %e, "meter schedules failed");
            }
        }
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
        metrics::gauge!("writer_queue_depth", "writer" => "telemetry").set(rx.len() as f64);
    }
}

/// One small event per asset whose readings were stored (never one per point), with the
/// newest reading stored now of each of its series touched, so open pages follow along.
/// Published straight after the writer's group commit: a unit of work per group would
/// add nothing but a second transaction on the hottest path.
fn publish_readings(state: &AppState, new: &[Sample]) {
    let mut by_asset: BTreeMap<i64, Vec<serde_json::Value>> = BTreeMap::new();
    {
        let cache = cache(state);
        let catalog = cache.catalog.read().unwrap_or_else(|e| e.into_inner());
        for run in new.chunk_by(|a, b| a.series == b.series) {
            let (Some(def), Some(last)) = (catalog.by_series.get(&run[0].series), run.last())
            else {
                continue;
            };
            by_asset
                .entry(def.asset_id)
                .or_default()
                .push(serde_json::json!({
                    "metric_name": def.name,
                    "value": last.value,
                    "ts": Timestamp(last.ts * 1000),
                }));
        }
    }
    for (asset_id, metrics) in by_asset {
        state.events.publish(Event::new(
            "metric_reading",
            "stored",
            asset_id,
            serde_json::json!({"asset_id": asset_id, "metrics": metrics}),
            Audience::Permission("telemetry:read".into()),
        ));
    }
}

fn db_err(e: sqlx::Error) -> ApiError {
    ApiError::from(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

/// A chunk of raw samples: one series' readings in one minute, stored as one row.
type Key = (i64, i64);

/// The chunk holding a sample.
fn key_of(s: &Sample) -> Key {
    (s.series, nexus_core::samples::chunk_start(s.ts))
}

/// The stored readings of the chunks a group touches, as merged so far, and which of
/// them changed.
#[derive(Default)]
struct Chunks {
    readings: HashMap<Key, Vec<(i64, f64)>>,
    changed: Vec<Key>,
}

impl Chunks {
    /// Every chunk the batches touch, sorted.
    fn keys(batches: &[&[Sample]]) -> Vec<Key> {
        let mut keys: Vec<Key> = batches
            .iter()
            .flat_map(|b| {
                b.chunk_by(|x, y| key_of(x) == key_of(y))
                    .map(|r| key_of(&r[0]))
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    fn add_stored(&mut self, key: Key, data: &[u8]) -> ApiResult<()> {
        let r = self.readings.entry(key).or_default();
        nexus_core::samples::decode_into(key.1, data, r).map_err(ApiError::internal)
    }

    /// Merges the batches in order (the first stored of equal keys wins); returns how
    /// many samples of each were new, and appends those to `new`.
    fn merge(&mut self, batches: &[&[Sample]], new: &mut Vec<Sample>) -> Vec<u64> {
        let mut incoming = Vec::new();
        let mut fresh = Vec::new();
        batches
            .iter()
            .map(|b| {
                let before = new.len();
                for run in b.chunk_by(|x, y| key_of(x) == key_of(y)) {
                    let key = key_of(&run[0]);
                    incoming.clear();
                    incoming.extend(run.iter().map(|s| (s.ts, s.value)));
                    fresh.clear();
                    let stored = self.readings.entry(key).or_default();
                    if nexus_core::samples::merge(stored, &incoming, &mut fresh) {
                        self.changed.push(key);
                        new.extend(fresh.iter().map(|&(ts, value)| Sample {
                            series: key.0,
                            ts,
                            value,
                        }));
                    }
                }
                (new.len() - before) as u64
            })
            .collect()
    }

    /// The changed chunks, encoded: (series, bucket, samples, data).
    fn encoded(mut self) -> Vec<(i64, i64, i32, Vec<u8>)> {
        self.changed.sort_unstable();
        self.changed.dedup();
        self.changed
            .iter()
            .map(|k| {
                let r = &self.readings[k];
                (
                    k.0,
                    k.1,
                    r.len() as i32,
                    nexus_core::samples::encode(k.1, r),
                )
            })
            .collect()
    }
}

/// Writes every batch in one transaction; returns how many samples of each were new.
/// Each chunk touched is read, merged with what arrived and written back once.
async fn write_group(
    state: &AppState,
    batches: &[&[Sample]],
    all_new: &mut Vec<Sample>,
) -> ApiResult<Vec<u64>> {
    let keys = Chunks::keys(batches);
    let mut chunks = Chunks::default();
    let mut new = Vec::new();
    let stored;
    if let Some(pool) = state.db.pg_pool() {
        let mut tx = pool.begin().await.map_err(db_err)?;
        let (series, buckets): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
        // Writers on other nodes merge into the same chunks: each series is taken in id
        // order (no deadlock) before its chunks are read.
        let mut ids = series.clone();
        ids.dedup();
        sqlx::query(
            "SELECT id FROM asset_metrics WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT c.series_id, c.bucket, c.data FROM unnest($1::int8[], $2::int8[]) AS k(s, b) \
             JOIN metric_chunks c ON c.series_id = k.s AND c.bucket = k.b",
        )
        .bind(&series)
        .bind(&buckets)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (s, b, data) in rows {
            chunks.add_stored((s, b), &data)?;
        }
        stored = chunks.merge(batches, &mut new);
        let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (s, b, n, data) in chunks.encoded() {
            cols.0.push(s);
            cols.1.push(b);
            cols.2.push(n);
            cols.3.push(data);
        }
        sqlx::query(
            "INSERT INTO metric_chunks (series_id, bucket, samples, data) \
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::bytea[]) \
             ON CONFLICT (series_id, bucket) DO UPDATE SET samples = excluded.samples, data = excluded.data",
        )
        .bind(cols.0)
        .bind(cols.1)
        .bind(cols.2)
        .bind(cols.3)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        Summary::of(&new).write_pg(&mut tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
    } else {
        // One writer connection: nothing else writes between this read and the write.
        let pool = state.db.write().get_sqlite_connection_pool();
        let mut tx = pool.begin().await.map_err(db_err)?;
        let wanted = serde_json::to_string(&keys).map_err(ApiError::internal)?;
        // One row holding every chunk (its data in hex): the driver hands rows over one
        // at a time, a thread hop each.
        let packed: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(c.series_id, c.bucket, hex(c.data))) FROM json_each(?) AS k \
             CROSS JOIN metric_chunks AS c ON c.series_id = k.value ->> 0 AND c.bucket = k.value ->> 1",
        )
        .bind(wanted)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let rows: Vec<(i64, i64, &str)> =
            serde_json::from_str(&packed).map_err(ApiError::internal)?;
        for (s, b, text) in rows {
            chunks.add_stored((s, b), &hex::decode(text).map_err(ApiError::internal)?)?;
        }
        stored = chunks.merge(batches, &mut new);
        for rows in chunks.encoded().chunks(CHUNK_ROWS) {
            let sql = values_sql(
                "INSERT INTO metric_chunks (series_id, bucket, samples, data) VALUES ",
                "(?,?,?,?)",
                rows.len(),
                " ON CONFLICT (series_id, bucket) DO UPDATE SET samples = excluded.samples, data = excluded.data",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (s, b, n, data) in rows {
                q = q.bind(s).bind(b).bind(n).bind(data.as_slice());
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        Summary::of(&new)
            .write_sqlite(&mut tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
    }
    all_new.append(&mut new);
    Ok(stored)
}

fn values_sql(head: &str, row: &str, n: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + n * (row.len() + 1));
    sql.push_str(head);
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql.push_str(tail);
    sql
}

// ---------------------------------------------------------------- rollups and current values

/// Min, max, sum and count of the samples of one series in one bucket.
#[derive(Debug, Clone, Copy)]
struct Agg {
    min: f64,
    max: f64,
    sum: f64,
    count: i64,
}

impl Agg {
    fn of(v: f64) -> Self {
        Self {
            min: v,
            max: v,
            sum: v,
            count: 1,
        }
    }

    fn add(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
    }
}

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// What a group of new samples changes besides the samples: rollup deltas and the
/// newest reading of each series.
struct Summary {
    minute: Vec<((i64, i64), Agg)>,
    hour: Vec<((i64, i64), Agg)>,
    latest: Vec<(i64, i64, f64)>,
}

impl Agg {
    fn merge(&mut self, o: &Agg) {
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
        self.count += o.count;
    }
}

/// Folds `new` into rollup deltas of `width`: samples arrive sorted by series and time
/// within each batch, so a run of one bucket is summed before it meets the map.
fn rollup(new: &[Sample], width: i64) -> Vec<((i64, i64), Agg)> {
    let key = |s: &Sample| (s.series, s.ts.div_euclid(width) * width);
    let mut map: HashMap<(i64, i64), Agg> = HashMap::new();
    for run in new.chunk_by(|a, b| key(a) == key(b)) {
        let mut agg = Agg::of(run[0].value);
        run[1..].iter().for_each(|s| agg.add(s.value));
        map.entry(key(&run[0]))
            .and_modify(|a| a.merge(&agg))
            .or_insert(agg);
    }
    let mut rows: Vec<_> = map.into_iter().collect();
    rows.sort_by_key(|(k, _)| *k);
    rows
}

impl Summary {
    fn of(new: &[Sample]) -> Self {
        let mut latest: HashMap<i64, (i64, f64)> = HashMap::new();
        for run in new.chunk_by(|a, b| a.series == b.series) {
            let newest = run
                .iter()
                .max_by_key(|s| s.ts)
                .expect("a run is never empty");
            let l = latest
                .entry(newest.series)
                .or_insert((newest.ts, newest.value));
            if newest.ts > l.0 {
                *l = (newest.ts, newest.value);
            }
        }
        let mut latest: Vec<_> = latest.into_iter().map(|(s, (t, v))| (s, t, v)).collect();
        latest.sort_unstable_by_key(|l| l.0);
        Self {
            minute: rollup(new, MINUTE_MS),
            hour: rollup(new, HOUR_MS),
            latest,
        }
    }

    fn rollup_sql(table: &str, n: usize, pg: bool) -> String {
        let (lo, hi) = if pg {
            ("LEAST", "GREATEST")
        } else {
            ("min", "max")
        };
        let row = if pg {
            // PostgreSQL numbers its placeholders; they are filled in below.
            "($?,$?,$?,$?,$?,$?)"
        } else {
            "(?,?,?,?,?,?)"
        };
        let mut sql = values_sql(
            &format!(
                "INSERT INTO {table} (series_id, bucket, min_value, max_value, sum_value, samples) VALUES "
            ),
            row,
            n,
            &format!(
                " ON CONFLICT (series_id, bucket) DO UPDATE SET \
                 min_value = {lo}({table}.min_value, excluded.min_value), \
                 max_value = {hi}({table}.max_value, excluded.max_value), \
                 sum_value = {table}.sum_value + excluded.sum_value, \
                 samples = {table}.samples + excluded.samples"
            ),
        );
        if pg {
            let mut i = 0;
            while let Some(pos) = sql.find("$?") {
                i += 1;
                sql.replace_range(pos..pos + 2, &format!("${i}"));
            }
        }
        sql
    }

    async fn write_sqlite(&self, tx: &mut Transaction<'static, Sqlite>) -> Result<(), sqlx::Error> {
        for (table, rows) in [
            ("metric_rollups_minute", &self.minute),
            ("metric_rollups_hour", &self.hour),
        ] {
            for chunk in rows.chunks(ROLLUP_CHUNK) {
                let sql = Self::rollup_sql(table, chunk.len(), false);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for ((series, bucket), a) in chunk {
                    q = q
                        .bind(series)
                        .bind(bucket)
                        .bind(a.min)
                        .bind(a.max)
                        .bind(a.sum)
                        .bind(a.count);
                }
                q.execute(&mut **tx).await?;
            }
        }
        for chunk in self.latest.chunks(ROLLUP_CHUNK) {
            let sql = values_sql(
                "WITH v (id, ts, value) AS (VALUES ",
                "(?,?,?)",
                chunk.len(),
                ") UPDATE asset_metrics SET metric_value = v.value, value_at = v.ts FROM v \
                 WHERE asset_metrics.id = v.id \
                 AND (asset_metrics.value_at IS NULL OR asset_metrics.value_at <= v.ts)",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (series, ts, value) in chunk {
                q = q.bind(series).bind(ts * 1000).bind(value);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn write_pg(&self, tx: &mut Transaction<'static, Postgres>) -> Result<(), sqlx::Error> {
        for (table, rows) in [
            ("metric_rollups_minute", &self.minute),
            ("metric_rollups_hour", &self.hour),
        ] {
            for chunk in rows.chunks(ROLLUP_CHUNK) {
                let sql = Self::rollup_sql(table, chunk.len(), true);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for ((series, bucket), a) in chunk {
                    q = q
                        .bind(series)
                        .bind(bucket)
                        .bind(a.min)
                        .bind(a.max)
                        .bind(a.sum)
                        .bind(a.count);
                }
                q.execute(&mut **tx).await?;
            }
        }
        let ids: Vec<i64> = self.latest.iter().map(|l| l.0).collect();
        let ts: Vec<i64> = self.latest.iter().map(|l| l.1 * 1000).collect();
        let values: Vec<f64> = self.latest.iter().map(|l| l.2).collect();
        sqlx::query(
            "UPDATE asset_metrics m SET metric_value = v.value, value_at = v.ts \
             FROM unnest($1::int8[], $2::int8[], $3::float8[]) AS v (id, ts, value) \
             WHERE m.id = v.id AND (m.value_at IS NULL OR m.value_at <= v.ts)",
        )
        .bind(ids)
        .bind(ts)
        .bind(values)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
