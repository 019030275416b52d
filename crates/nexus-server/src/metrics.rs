//! Prometheus metrics: requests by route and status, latency histogram, DB pool use; and
//! what other parts of Nexus record: background jobs (`nexus_core::jobs`), the batched
//! writers' queues and batches, event fan-out lag, and scheduled backups (the binary).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nexus_core::{ApiError, AppState};
use subtle::ConstantTimeEq;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Background passes take from milliseconds (nothing due) to minutes (a backup).
const JOB_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];
/// Records per writer transaction: one alone up to a full group of samples.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0, 20000.0, 100000.0,
];

/// The process-wide recorder, installed once.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [
            ("http_request_duration_seconds", LATENCY_BUCKETS),
            ("event_fanout_lag_seconds", LATENCY_BUCKETS),
            ("job_duration_seconds", JOB_BUCKETS),
            ("writer_batch_size", BATCH_BUCKETS),
        ];
        let recorder = buckets
            .into_iter()
            .fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
                builder
                    .set_buckets_for_metric(Matcher::Full(name.into()), buckets)
                    .expect("valid buckets")
            })
            .build_recorder();
        let handle = recorder.handle();
        // A second install (another server in the same test process) keeps the first.
        if metrics::set_global_recorder(recorder).is_ok() {
            describe();
        }
        handle
    })
}

/// Help for what other parts of Nexus record; the backup counters start at zero so a
/// scraper can tell "no failures" from "not reported" (jobs register theirs as they start).
fn describe() {
    metrics::describe_counter!(
        "backup_runs_total",
        "Scheduled backups finished, failed or not"
    );
    metrics::describe_counter!("backup_failures_total", "Scheduled backups that failed");
    metrics::describe_gauge!(
        "backup_age_seconds",
        metrics::Unit::Seconds,
        "Seconds since the newest successful scheduled backup in this node's backup folder (absent before the first)"
    );
    metrics::counter!("backup_runs_total").absolute(0);
    metrics::counter!("backup_failures_total").absolute(0);
    metrics::describe_gauge!(
        "http_requests_in_flight",
        "Requests being answered now (a graceful shutdown waits for them)"
    );
    metrics::describe_counter!(
        "job_runs_total",
        "Background job passes this node ran (or failed to claim), by job"
    );
    metrics::describe_counter!(
        "job_failures_total",
        "Background job passes that failed or could not claim their period, by job"
    );
    metrics::describe_histogram!(
        "job_duration_seconds",
        metrics::Unit::Seconds,
        "How long each background job pass took, by job"
    );
    metrics::describe_gauge!(
        "writer_queue_depth",
        "Batches waiting for a batched writer (production movements, telemetry samples)"
    );
    metrics::describe_histogram!(
        "writer_batch_size",
        "Records a batched writer committed in one transaction (movements, samples)"
    );
    metrics::describe_counter!(
        "events_published_total",
        "Events put on this node's bus: made here (local) or received from another node (remote)"
    );
    metrics::describe_histogram!(
        "event_fanout_lag_seconds",
        metrics::Unit::Seconds,
        "From an event put on this node's bus to its delivery to a subscriber: a background reaction or a live stream"
    );
    metrics::describe_counter!(
        "event_subscriber_lags_total",
        "Times a subscriber fell too far behind the event bus and lost events"
    );
    metrics::describe_counter!(
        "events_missed_total",
        "Events lost by subscribers too slow to keep up"
    );
}

/// Installs the recorder before the first request is counted.
pub fn install() {
    handle();
}

/// Prometheus text exposition. Open unless `NEXUS_METRICS_TOKEN` is set; then the scraper
/// sends it as `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, content_type = "text/plain"), (status = 401, description = "The metrics token is set and was not sent")))]
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
            return ApiError::Unauthorized("send the metrics token as a bearer token".into())
                .into_response();
        }
    }
    let pool = state.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max));
    (
        [("content-type", "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}

/// Holds `http_requests_in_flight` up while a request runs, until answered or abandoned.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!("http_requests_in_flight").increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("http_requests_in_flight").decrement(1.0);
    }
}

/// Counts and times every request under its route pattern (not its raw path).
pub async fn track(req: Request, next: Next) -> Response {
    let _in_flight = InFlight::start();
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}
