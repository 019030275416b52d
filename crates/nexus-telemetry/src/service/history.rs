//! History in buckets, read from the coarsest store that still draws the range well, and
//! the retention of raw samples.

use nexus_core::db::stmt;
use nexus_core::{ApiError, ApiResult, AppState, Db, Timestamp};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::find_metric;
use super::ingest::{HOUR_MS, MINUTE_MS};
use crate::model::{BucketOut, HistoryOut, HistoryQuery, RetentionOut};

/// Ranges up to this long read raw samples; up to `MINUTE_UP_TO`, minute rollups;
/// longer, hour rollups. Each bound keeps the rows read per query to a few thousand
/// (7,200 raw samples at one a second, 2,880 minutes, 8,760 hours a year), whatever the
/// size of the store.
const RAW_UP_TO_MS: i64 = 2 * HOUR_MS;
const MINUTE_UP_TO_MS: i64 = 2 * 24 * HOUR_MS;

/// One bucket as read: index, min, max, sum, count.
type BucketRow = (i64, f64, f64, f64, i64);

#[derive(FromQueryResult)]
struct Bucket {
    b: i64,
    lo: f64,
    hi: f64,
    total: f64,
    n: i64,
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
pub async fn history(
    db: &Db,
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
    let conn = db.read();
    let m = find_metric(conn, asset_id, metric).await?;
    let (from_ms, to_ms) = (from.0.div_euclid(1000), to.0.div_euclid(1000));
    let span = to_ms - from_ms;
    let (table, col, resolution, source) = if span <= RAW_UP_TO_MS {
        ("metric_samples", "ts", 1, "raw")
    } else if span <= MINUTE_UP_TO_MS {
        ("metric_rollups_minute", "bucket", MINUTE_MS, "minute")
    } else {
        ("metric_rollups_hour", "bucket", HOUR_MS, "hour")
    };
    // Buckets start on a multiple of the store's resolution and span whole rows of it,
    // so no rollup row straddles two buckets.
    let start = from_ms.div_euclid(resolution) * resolution;
    let width = ((to_ms - start + buckets - 1) / buckets).max(1);
    let width = (width + resolution - 1) / resolution * resolution;
    let agg = if source == "raw" {
        "min(value) AS lo, max(value) AS hi, sum(value) AS total, count(*) AS n"
    } else {
        "min(min_value) AS lo, max(max_value) AS hi, sum(sum_value) AS total, \
         CAST(sum(samples) AS BIGINT) AS n"
    };
    let sql = format!(
        "SELECT ({col} - $2) / $3 AS b, {agg} FROM {table} \
         WHERE series_id = $1 AND {col} >= $2 AND {col} < $4 GROUP BY 1 ORDER BY 1"
    );
    let backend = conn.get_database_backend();
    let values = vec![m.id.into(), start.into(), width.into(), to_ms.into()];
    let rows: Vec<BucketRow> = if backend == sea_orm::DatabaseBackend::Sqlite {
        let sql = format!(
            "SELECT json_group_array(json_array(b, lo, hi, total, n)) AS rows FROM ({sql})"
        );
        let packed = Packed::find_by_statement(stmt(backend, &sql, values))
            .one(conn)
            .await?
            .map_or_else(|| "[]".into(), |p| p.rows);
        let mut rows: Vec<BucketRow> = serde_json::from_str(&packed).map_err(ApiError::internal)?;
        rows.sort_by_key(|r| r.0);
        rows
    } else {
        Bucket::find_by_statement(stmt(backend, &sql, values))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.b, r.lo, r.hi, r.total, r.n))
            .collect()
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
            .map(|(b, lo, hi, total, n)| BucketOut {
                start: Timestamp((start + b * width) * 1000),
                min: lo,
                avg: total / n.max(1) as f64,
                max: hi,
                count: n,
            })
            .collect(),
    })
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// Deletes raw samples older than the retention, series by series (each an index range),
/// keeping rollups.
pub async fn apply_retention(state: &AppState) -> ApiResult<RetentionOut> {
    let days = super::get_settings(&state.db).await?.retention_days;
    let cutoff = Timestamp::now().plus_seconds(-i64::from(days) * 86_400);
    let cutoff_ms = cutoff.0.div_euclid(1000);
    let conn = state.db.write();
    let backend = conn.get_database_backend();
    let series = IdRow::find_by_statement(stmt(backend, "SELECT id FROM asset_metrics", vec![]))
        .all(state.db.read())
        .await?;
    let mut deleted = 0;
    for s in series {
        deleted += conn
            .execute(stmt(
                backend,
                "DELETE FROM metric_samples WHERE series_id = $1 AND ts < $2",
                vec![s.id.into(), cutoff_ms.into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(RetentionOut {
        deleted_samples: deleted,
        cutoff,
    })
}
