//! Prometheus metrics: requests by route and status, latency histogram, DB pool use, and
//! scheduled backups (runs, failures, age of the newest), which the binary records.

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

/// The process-wide recorder, installed once.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("valid buckets")
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
/// scraper can tell "no failures" from "not reported".
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

/// Counts and times every request under its route pattern (not its raw path).
pub async fn track(req: Request, next: Next) -> Response {
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
