//! Helpers shared by the telemetry tests: assets with metrics, readings and times.

use nexus_server::testing::TestServer;
use serde_json::{Value, json};

/// An asset named `name` with one metric defined by `metric`; the asset's id.
pub async fn asset_with_metric(srv: &TestServer, token: &str, name: &str, metric: Value) -> i64 {
    let id = srv
        .create("/api/v1/assets", token, json!({"name": name}))
        .await;
    srv.create(&format!("/api/v1/assets/{id}/metrics"), token, metric)
        .await;
    id
}

/// Stores `points` (asset, metric, ms since the epoch, value).
pub async fn ingest(srv: &TestServer, token: &str, points: &[(i64, &str, i64, f64)]) {
    let points: Vec<Value> = points
        .iter()
        .map(|(a, m, ts, v)| json!({"asset_id": a, "metric": m, "ts": ts, "value": v}))
        .collect();
    let res = srv
        .post("/api/v1/telemetry", token, json!({ "points": points }))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `ms` since the epoch as RFC 3339 with milliseconds, for query strings.
pub fn rfc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
