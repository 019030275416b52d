//! History in buckets, read from the coarsest store that still draws the range well, and
//! the retention of raw samples.

use nexus_core::db::stmt;
use nexus_core::samples;
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::find_metric;
use super::ingest::{HOUR_MS, MAX_ABS_VALUE, MINUTE_MS, in_range};
use crate::archive;
use crate::model::{BucketOut, HistoryOut, HistoryQuery, SampleOut, SamplesOut, SamplesQuery};

/// Ranges up to this long read raw samples; up to `MINUTE_UP_TO`, minute rollups;
/// longer, hour rollups. Each bound keeps the rows read per query to a few thousand
/// (7,200 raw samples at one a second, 2,880 minutes, 8,760 hours a year), whatever the
/// size of the store.
const RAW_UP_TO_MS: i64 = 2 * HOUR_MS;
const MINUTE_UP_TO_MS: i64 = 2 * 24 * HOUR_MS;

/// One bucket as read: index, min, max, sum, count. A rollup's figures are null when
/// they are beyond the accepted range.
type BucketRow = (i64, Option<f64>, Option<f64>, Option<f64>, i64);

#[derive(FromQueryResult)]
struct Bucket {
    b: i64,
    lo: Option<f64>,
    hi: Option<f64>,
    total: Option<f64>,
    n: i64,
}

/// A stored chunk of raw samples.
#[derive(FromQueryResult)]
struct Chunk {
    bucket: i64,
    data: Vec<u8>,
}

impl Chunk {
    /// Appends its readings to `out`.
    fn decode_into(&self, out: &mut Vec<(i64, f64)>) -> ApiResult<()> {
        samples::decode_into(self.bucket, &self.data, out).map_err(ApiError::internal)
    }
}

/// At most `limit` chunks of a series starting in `[from, before)`, in time order.
async fn read_chunks(
    conn: &impl ConnectionTrait,
    series: i64,
    from: i64,
    before: i64,
    limit: i64,
) -> ApiResult<Vec<Chunk>> {
    Ok(Chunk::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT bucket, data FROM metric_chunks WHERE series_id = $1 AND bucket >= $2 AND bucket < $3 \
         ORDER BY bucket LIMIT $4",
        vec![series.into(), from.into(), before.into(), limit.into()],
    ))
    .all(conn)
    .await?)
}

/// All buckets in one row, as SQLite's JSON: its driver hands rows over one at a time.
#[derive(FromQueryResult)]
struct Packed {
    rows: String,
}

fn time_param(field: &str, v: Option<&str>) -> ApiResult<Option<Timestamp>> {
    v.map(|s| {
        Timestamp::parse(s).ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 timestamp"))
    })
    .transpose()
}

/// The history of one metric of an asset over `[from, to)` in at most `buckets` buckets.
/// Raw readings moved to archive files are read back from them.
pub async fn history(
    state: &AppState,
    asset_id: i64,
    metric: &str,
    q: &HistoryQuery,
) -> ApiResult<HistoryOut> {
    let to = time_param("to", q.to.as_deref())?.unwrap_or_else(Timestamp::now);
    let from = time_param("from", q.from.as_deref())?.unwrap_or(to.plus_seconds(-86_400));
    let buckets = i64::from(q.buckets.unwrap_or(500));
    if !(1..=5000).contains(&buckets) {
        return Err(ApiError::invalid("buckets", "must be between 1 and 5000"));
    }
    if from >= to {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    let conn = state.db.read();
    let m = find_metric(conn, asset_id, metric).await?;
    let (from_ms, to_ms) = (from.0.div_euclid(1000), to.0.div_euclid(1000));
    let span = to_ms - from_ms;
    let (table, resolution, source) = if span <= RAW_UP_TO_MS {
        ("metric_chunks", 1, "raw")
    } else if span <= MINUTE_UP_TO_MS {
        ("metric_rollups_minute", MINUTE_MS, "minute")
    } else {
        ("metric_rollups_hour", HOUR_MS, "hour")
    };
    // Buckets start on a multiple of the store's resolution and span whole rows of it,
    // so no rollup row straddles two buckets.
    let start = from_ms.div_euclid(resolution) * resolution;
    let width = ((to_ms - start + buckets - 1) / buckets).max(1);
    let width = (width + resolution - 1) / resolution * resolution;
    let rows = if source == "raw" {
        let archived = archive::archived_readings(state, m.id, start, to_ms, usize::MAX).await?;
        raw_buckets(conn, m.id, start, width, to_ms, archived).await?
    } else {
        rollup_buckets(conn, table, m.id, start, width, to_ms).await?
    };
    Ok(HistoryOut {
        asset_id,
        metric_name: m.metric_name,
        unit: m.unit,
        from,
        to,
        bucket_seconds: width as f64 / 1000.0,
        source: source.into(),
        warning_threshold: m.warning_threshold,
        critical_threshold: m.critical_threshold,
        buckets: rows
            .into_iter()
            .map(|(b, lo, hi, total, n)| {
                // A reading beyond the accepted range, stored before it was enforced,
                // leaves its bucket without figures.
                let ok = lo.is_some_and(in_range) && hi.is_some_and(in_range);
                BucketOut {
                    start: Timestamp((start + b * width) * 1000),
                    min: lo.filter(|_| ok),
                    avg: total.filter(|_| ok).map(|t| t / n.max(1) as f64),
                    max: hi.filter(|_| ok),
                    count: n,
                }
            })
            .collect(),
    })
}

/// Chunks read per query while filling a page of raw samples.
const CHUNKS_PER_READ: i64 = 64;

/// A page of one metric's raw samples, oldest first, after `q.after` (exclusive), those
/// in archive files included.
pub async fn samples(
    state: &AppState,
    asset_id: i64,
    metric: &str,
    q: &SamplesQuery,
) -> ApiResult<SamplesOut> {
    let after = time_param("after", q.after.as_deref())?;
    let before = time_param("before", q.before.as_deref())?;
    let limit = q.limit.unwrap_or(1000) as usize;
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    let conn = state.db.read();
    let m = find_metric(conn, asset_id, metric).await?;
    // Stored times are milliseconds: `after` 12.3456 ms takes the readings from 13 ms on.
    let lo = after.map_or(i64::MIN, |t| t.0.div_euclid(1000));
    let hi = before.map_or(i64::MAX, |t| t.0.saturating_add(999).div_euclid(1000));
    // The page's first readings from the files; the database's then only up to the last
    // of those the page can hold.
    let archived = archive::archived_readings(state, m.id, lo + 1, hi, limit + 1).await?;
    let hi = match archived.get(limit) {
        Some(r) => r.0 + 1,
        None => hi,
    };
    let mut from_bucket = samples::chunk_start(lo);
    let mut readings = Vec::new();
    let mut items = Vec::with_capacity(limit + 1);
    'read: loop {
        let chunks = read_chunks(conn, m.id, from_bucket, hi, CHUNKS_PER_READ).await?;
        for c in &chunks {
            readings.clear();
            c.decode_into(&mut readings)?;
            for &(ts, value) in readings.iter().filter(|r| r.0 > lo) {
                if ts >= hi {
                    break 'read;
                }
                items.push((ts, value));
                if items.len() > limit {
                    break 'read;
                }
            }
        }
        match chunks.last() {
            Some(c) if chunks.len() as i64 == CHUNKS_PER_READ => from_bucket = c.bucket + 1,
            _ => break,
        }
    }
    let mut items = archive::merge(archived, items);
    let more = items.len() > limit;
    items.truncate(limit);
    let items: Vec<SampleOut> = items
        .into_iter()
        .map(|(ts, value)| SampleOut {
            ts: Timestamp(ts * 1000),
            value,
        })
        .collect();
    Ok(SamplesOut {
        next_after: more.then(|| items.last().map(|s| s.ts)).flatten(),
        items,
    })
}

/// Buckets of raw samples: the chunks over the range, decoded, with the `archived`
/// readings of the range, and folded here.
async fn raw_buckets(
    conn: &impl ConnectionTrait,
    series: i64,
    start: i64,
    width: i64,
    to_ms: i64,
    archived: Vec<(i64, f64)>,
) -> ApiResult<Vec<BucketRow>> {
    let mut readings = Vec::new();
    for c in read_chunks(conn, series, samples::chunk_start(start), to_ms, i64::MAX).await? {
        c.decode_into(&mut readings)?;
    }
    if !archived.is_empty() {
        readings = archive::merge(archived, readings);
    }
    let mut rows: Vec<(i64, f64, f64, f64, i64)> = Vec::new();
    for (ts, v) in readings {
        if ts < start || ts >= to_ms {
            continue;
        }
        let b = (ts - start) / width;
        match rows.last_mut() {
            Some(r) if r.0 == b => {
                r.1 = r.1.min(v);
                r.2 = r.2.max(v);
                r.3 += v;
                r.4 += 1;
            }
            _ => rows.push((b, v, v, v, 1)),
        }
    }
    Ok(rows
        .into_iter()
        .map(|(b, lo, hi, total, n)| (b, Some(lo), Some(hi), Some(total), n))
        .collect())
}

/// Buckets of a rollup table, summed by the database. Rows beyond the accepted range
/// (stored before it was enforced) are left out of the sum, which could overflow (an
/// error on PostgreSQL), and null the min or max, which SQLite's JSON could not carry.
async fn rollup_buckets(
    conn: &impl ConnectionTrait,
    table: &str,
    series: i64,
    start: i64,
    width: i64,
    to_ms: i64,
) -> ApiResult<Vec<BucketRow>> {
    let sql = format!(
        "SELECT (bucket - $2) / $3 AS b, \
         CASE WHEN abs(min(min_value)) <= $5 THEN min(min_value) END AS lo, \
         CASE WHEN abs(max(max_value)) <= $5 THEN max(max_value) END AS hi, \
         sum(CASE WHEN abs(sum_value) <= samples * $5 THEN sum_value END) AS total, \
         CAST(sum(samples) AS BIGINT) AS n FROM {table} \
         WHERE series_id = $1 AND bucket >= $2 AND bucket < $4 GROUP BY 1 ORDER BY 1"
    );
    let backend = conn.get_database_backend();
    let values = vec![
        series.into(),
        start.into(),
        width.into(),
        to_ms.into(),
        MAX_ABS_VALUE.into(),
    ];
    if backend != sea_orm::DatabaseBackend::Sqlite {
        return Ok(Bucket::find_by_statement(stmt(backend, &sql, values))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.b, r.lo, r.hi, r.total, r.n))
            .collect());
    }
    let sql =
        format!("SELECT json_group_array(json_array(b, lo, hi, total, n)) AS rows FROM ({sql})");
    let packed = Packed::find_by_statement(stmt(backend, &sql, values))
        .one(conn)
        .await?
        .map_or_else(|| "[]".into(), |p| p.rows);
    let mut rows: Vec<BucketRow> = serde_json::from_str(&packed).map_err(ApiError::internal)?;
    rows.sort_by_key(|r| r.0);
    Ok(rows)
}
