//! Metric definitions, ingestion (JSON and line protocol), de-duplication, rollups,
//! history and retention through real HTTP, on SQLite and on PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{Resp, TestServer};
use serde_json::{Value, json};

use crate::common::{asset_with_metric, now_ms, rfc};

/// Posts line protocol to the ingestion endpoint, with `query` (`?precision=…` or "").
async fn lines(srv: &TestServer, token: &str, query: &str, body: &str) -> Resp {
    let path = format!("/api/v1/telemetry/line{query}");
    srv.post_body(&path, token, "text/plain", body).await
}

/// An asset with a `temperature` metric (warning 80, critical 90, above); its id.
async fn machine(srv: &TestServer, token: &str, name: &str) -> i64 {
    let metric = json!({"metric_name": "temperature", "unit": "°C", "warning_threshold": 80.0,
        "critical_threshold": 90.0, "hysteresis": 2.0});
    asset_with_metric(srv, token, name, metric).await
}

/// Milliseconds since the epoch of a whole hour a few days back, so every test sees the
/// same bucket layout.
fn base_ms() -> i64 {
    (now_ms() / 3_600_000 - 72) * 3_600_000
}

async fn history(srv: &TestServer, token: &str, asset: i64, from: i64, to: i64) -> Value {
    history_in(srv, token, asset, from, to, 10).await
}

/// The temperature history of `asset` over `[from, to)` in at most `buckets` buckets.
async fn history_in(
    srv: &TestServer,
    token: &str,
    asset: i64,
    from: i64,
    to: i64,
    buckets: u32,
) -> Value {
    let res = srv
        .get(
            &format!(
                "/api/v1/assets/{asset}/metrics/temperature/history?from={}&to={}&buckets={buckets}",
                rfc(from),
                rfc(to)
            ),
            token,
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json
}

/// A bucket as (count, min, avg, max); a null figure is `None`.
type Figures = (i64, Option<f64>, Option<f64>, Option<f64>);

/// Each bucket of a history.
fn figures(h: &Value) -> Vec<Figures> {
    h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["count"].as_i64().unwrap(),
                b["min"].as_f64(),
                b["avg"].as_f64(),
                b["max"].as_f64(),
            )
        })
        .collect()
}

fn total(h: &Value) -> i64 {
    h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum()
}

backend_tests! {
    async fn a_bare_array_of_points_is_accepted(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Press 7").await;
        let t = now_ms() - 10_000;
        let points = json!([{"asset_id": id, "metric": "temperature", "ts": t, "value": 20.5},
                            {"asset_id": id, "metric": "temperature", "ts": t + 1000, "value": 21.0}]);
        let res = srv.post("/api/v1/telemetry", &admin, points).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json["stored"], 2, "{:?}", res.json);
        let bad = srv.post("/api/v1/telemetry", &admin, json!([{"asset_id": id, "metric": "nope", "ts": t, "value": 1.0}])).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["[0].metric"]);
    }

    async fn metric_definitions(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Press 1").await;
        let path = format!("/api/v1/assets/{id}/metrics");
        let dup = srv.post(&path, &admin, json!({"metric_name": "temperature"})).await;
        assert_eq!(dup.status, 409);
        assert_eq!(dup.error_fields(), ["metric_name"]);
        let bad = srv.post(&path, &admin, json!({"metric_name": "bad name", "kind": "dial",
            "warning_threshold": 10.0, "critical_threshold": 5.0, "hysteresis": -1.0})).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["metric_name", "kind", "hysteresis", "critical_threshold"]);
        let below = srv.post(&path, &admin, json!({"metric_name": "pressure", "direction": "below",
            "warning_threshold": 10.0, "critical_threshold": 5.0})).await;
        assert_eq!(below.status, 201, "{:?}", below.json);
        assert_eq!(srv.post("/api/v1/assets/999999/metrics", &admin, json!({"metric_name": "x"})).await.status, 404);

        let list = srv.get(&path, &admin).await;
        assert_eq!((list.json["items"].as_array().unwrap().len(), list.json["total"].as_u64()), (2, Some(2)));
        assert_eq!(list.json["items"][0]["metric_name"], "pressure");
        assert_eq!(list.json["items"][1]["unit"], "°C");

        let one = format!("{path}/temperature");
        let res = srv.client().patch(srv.url(&one)).bearer_auth(&admin).header("if-match", "\"7\"")
            .json(&json!({"critical_threshold": 95.0})).send().await.unwrap();
        assert_eq!(res.status(), 412);
        let res = srv.call("PATCH", &one, Some(&admin), Some(json!({"critical_threshold": null, "unit": "K"}))).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json["critical_threshold"], Value::Null);
        assert_eq!(res.json["version"], 2);

        let staff = srv.user_token(&admin, "tech", "staff").await;
        assert_eq!(srv.post(&path, &staff, json!({"metric_name": "flow"})).await.status, 403);
        assert_eq!(srv.get(&one, &staff).await.status, 200);
        assert_eq!(srv.call("DELETE", &format!("{path}/pressure"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.get(&format!("{path}/pressure"), &admin).await.status, 404);
    }

    async fn json_ingest_dedup_rollups(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Oven").await;
        let t0 = base_ms();
        let pts = |items: &[(i64, f64)]| json!({"points": items.iter().map(|(t, v)|
            json!({"asset_id": id, "metric": "temperature", "ts": t, "value": v})).collect::<Vec<_>>()});
        let first = srv.post("/api/v1/telemetry", &admin, pts(&[(t0, 70.0), (t0 + 1000, 72.0), (t0 + 61_000, 75.0)])).await;
        assert_eq!(first.status, 200, "{:?}", first.json);
        assert_eq!(first.json, json!({"received": 3, "stored": 3, "duplicates": 0}));

        // Timestamps as RFC 3339 too; a repeated point (with another value) is stored once,
        // and a repeat inside one batch as well.
        let again = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            {"asset_id": id, "metric": "temperature", "ts": rfc(t0 + 1000), "value": 99.0},
            {"asset_id": id, "metric": "temperature", "ts": t0 + 3_600_000, "value": 60.0},
            {"asset_id": id, "metric": "temperature", "ts": t0 + 3_600_000, "value": 61.0},
            {"asset_id": id, "metric": "temperature", "ts": t0, "value": 1.0},
        ]})).await;
        assert_eq!(again.json, json!({"received": 4, "stored": 1, "duplicates": 3}));

        // A late point, older than the newest: stored, but the current value stays.
        let late = srv.post("/api/v1/telemetry", &admin, pts(&[(t0 + 2000, 50.0)])).await;
        assert_eq!(late.json["stored"], 1);
        let m = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature"), &admin).await;
        assert_eq!(m.json["metric_value"], 60.0);
        assert_eq!(m.json["value_at"].as_str().unwrap(), rfc(t0 + 3_600_000).replace(".000Z", ".000000Z"));

        // The same five samples from raw, minute and hour stores.
        let raw = history(srv, &admin, id, t0, t0 + 3_600_001).await;
        assert_eq!(raw["source"], "raw");
        assert_eq!(total(&raw), 5);
        let b = &raw["buckets"][0];
        assert_eq!((b["count"].as_i64(), b["min"].as_f64(), b["max"].as_f64()), (Some(4), Some(50.0), Some(75.0)));
        assert_eq!(b["avg"], json!((70.0 + 72.0 + 50.0 + 75.0) / 4.0));
        let minute = history(srv, &admin, id, t0, t0 + 24 * 3_600_000).await;
        assert_eq!(minute["source"], "minute");
        assert_eq!(total(&minute), 5);
        assert_eq!(minute["buckets"][0]["max"], 75.0);
        let hour = history(srv, &admin, id, t0 - 20 * 86_400_000, t0 + 3 * 86_400_000).await;
        assert_eq!(hour["source"], "hour");
        assert_eq!(total(&hour), 5);
        assert_eq!(hour["warning_threshold"], 80.0);
        let hb = hour["buckets"].as_array().unwrap();
        assert_eq!(hb.len(), 1);
        assert_eq!((hb[0]["min"].as_f64(), hb[0]["max"].as_f64()), (Some(50.0), Some(75.0)));

        let bad = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature/history?buckets=0"), &admin).await;
        assert_eq!(bad.error_fields(), ["buckets"]);
        let bad = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature/history?from=soon"), &admin).await;
        assert_eq!(bad.error_fields(), ["from"]);
        assert_eq!(srv.get(&format!("/api/v1/assets/{id}/metrics/nope/history"), &admin).await.status, 404);
    }

    async fn bad_points_store_nothing(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Mill").await;
        let now = chrono::Utc::now().timestamp_millis();
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            {"asset_id": id, "metric": "temperature", "ts": now, "value": 1.0},
            {"asset_id": 999999, "metric": "temperature", "ts": now, "value": 1.0},
            {"asset_id": id, "metric": "humidity", "ts": now, "value": 1.0},
            {"asset_id": id, "metric": "temperature", "ts": now + 600_000, "value": 1.0},
            {"asset_id": id, "metric": "temperature", "ts": "yesterday", "value": 1.0},
        ]})).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(res.error_fields(), ["points[1].asset_id", "points[2].metric", "points[3].ts", "points[4].ts"]);
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            {"asset_id": id, "metric": "temperature", "ts": now, "value": "hot"}]})).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.error_fields(), ["points[0].value"]);
        let res = srv.client().post(srv.url("/api/v1/telemetry")).bearer_auth(&admin)
            .header("content-type", "application/json").body("{\"points\": [").send().await.unwrap();
        assert_eq!(res.status(), 400);
        let h = history(srv, &admin, id, now - 3_600_000, now + 60_000).await;
        assert_eq!(total(&h), 0);

        let lines_res = lines(srv, &admin, "", &format!(
            "temperature,asset_id={id} value=1\ntemperature value=2\ntemperature,asset_id={id} value=\"hot\"\n\
             temperature,asset_id={id} value=inf\nhumidity,asset_id={id} value=3\n")).await;
        assert_eq!(lines_res.status, 422, "{:?}", lines_res.json);
        assert_eq!(lines_res.error_fields(), ["line 2", "line 3", "line 4"]);
        let lines_res = lines(srv, &admin, "", &format!("humidity,asset_id={id} value=3\n")).await;
        assert_eq!(lines_res.error_fields(), ["line 1"]);
        assert_eq!(lines(srv, &admin, "?precision=h", "x").await.error_fields(), ["precision"]);
        assert_eq!(total(&history(srv, &admin, id, now - 3_600_000, now + 600_000).await), 0);

        // Over the limit: 413, nothing stored.
        let many: Vec<Value> = (0..100_001).map(|i| json!({"asset_id": id, "metric": "temperature", "ts": now - i, "value": 1.0})).collect();
        assert_eq!(srv.post("/api/v1/telemetry", &admin, json!({"points": many})).await.status, 413);
        assert_eq!(total(&history(srv, &admin, id, now - 3_600_000, now + 60_000).await), 0);

        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let res = srv.post("/api/v1/telemetry", &guest, json!({"points": []})).await;
        assert_eq!(res.status, 403);
    }

    async fn line_protocol(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Compressor A").await;
        let vib = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "vibration", "unit": "mm/s"})).await;
        assert_eq!(vib.status, 201);
        let t0 = base_ms() / 1000;
        let body = format!(
            "temperature,asset_id={id} value=70.5 {t0}\n\
             machine,asset=Compressor\\ A temperature=71.5,vibration=0.4 {}\n\
             temperature,asset={id},site=north value=72i {}\n",
            t0 + 1, t0 + 2
        );
        let res = lines(srv, &admin, "?precision=s", &body).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!(res.json, json!({"received": 4, "stored": 4, "duplicates": 0}));
        let h = history(srv, &admin, id, t0 * 1000, t0 * 1000 + 60_000).await;
        assert_eq!(total(&h), 3);
        assert_eq!(h["buckets"][0]["max"], 72.0);
        let v = srv.get(&format!("/api/v1/assets/{id}/metrics/vibration"), &admin).await;
        assert_eq!(v.json["metric_value"], 0.4);
        // Nanoseconds by default; the same points again are duplicates.
        let ns = format!("temperature,asset_id={id} value=70.5 {}000000000\n", t0);
        assert_eq!(lines(srv, &admin, "", &ns).await.json["duplicates"], 1);
    }

    async fn retention_moves_raw_samples_to_files(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Boiler").await;
        let res = srv.call("PUT", "/api/v1/telemetry/settings", Some(&admin), Some(json!({"retention_days": 0}))).await;
        assert_eq!(res.error_fields(), ["retention_days"]);
        let res = srv.call("PUT", "/api/v1/telemetry/settings", Some(&admin), Some(json!({"retention_days": 2}))).await;
        assert_eq!(res.status, 200);
        // Forty days back: in a month wholly older than the two days kept.
        let t0 = (now_ms() - 40 * 86_400_000) / 3_600_000 * 3_600_000;
        let now = chrono::Utc::now().timestamp_millis();
        let body = json!({"points": [
            {"asset_id": id, "metric": "temperature", "ts": t0, "value": 10.0},
            {"asset_id": id, "metric": "temperature", "ts": t0 + 1, "value": 20.0},
            {"asset_id": id, "metric": "temperature", "ts": now, "value": 30.0},
        ]});
        assert_eq!(srv.post("/api/v1/telemetry", &admin, body).await.json["stored"], 3);
        let run = srv.archive_run("/api/v1/telemetry/archive", &admin).await;
        assert_eq!(run["status"], "done", "{run:?}");
        let moved = &run["report"]["counts"];
        assert_eq!((moved[0]["kind"].as_str(), moved[0]["archived"].as_i64()), (Some("metric_readings"), Some(2)));
        assert_eq!((moved[1]["kind"].as_str(), moved[1]["archived"].as_i64()), (Some("metric_files"), Some(1)));
        // Raw samples of forty days ago left the database for a file, and history reads
        // them there; the hour rollups still count them.
        let raw = history(srv, &admin, id, t0, t0 + 60_000).await;
        assert_eq!((raw["source"].as_str(), total(&raw)), (Some("raw"), 2));
        assert_eq!(figures(&raw)[0], (2, Some(10.0), Some(15.0), Some(20.0)));
        let hour = history(srv, &admin, id, t0 - 10 * 86_400_000, now + 1).await;
        assert_eq!(hour["source"], "hour");
        assert_eq!(total(&hour), 3);
        assert_eq!(total(&history(srv, &admin, id, now - 60_000, now + 1).await), 1);
    }
    async fn raw_samples_page_by_time(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Lathe").await;
        let t0 = base_ms();
        // 2,500 readings 70 ms apart over three minutes, sent newest first, with repeats.
        let points: Vec<Value> = (0..2_500).rev().chain(0..10)
            .map(|k| json!({"asset_id": id, "metric": "temperature", "ts": t0 + k * 70, "value": k as f64}))
            .collect();
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": points})).await;
        assert_eq!(res.json["stored"], 2_500, "{:?}", res.json);

        let path = format!("/api/v1/assets/{id}/metrics/temperature/samples");
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (mut seen, mut after, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let q = after.as_ref().map_or(String::new(), |a| format!("&after={}", a.replace('+', "%2B")));
            let page = srv.get(&format!("{path}?limit=1000{q}"), &guest).await;
            assert_eq!(page.status, 200, "{:?}", page.json);
            pages += 1;
            for s in page.json["items"].as_array().unwrap() {
                seen.push((s["ts"].as_str().unwrap().to_string(), s["value"].as_f64().unwrap()));
            }
            match page.json["next_after"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!((pages, seen.len()), (3, 2_500));
        let ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis();
        assert!(seen.iter().enumerate().all(|(k, (ts, v))| *v == k as f64 && ms(ts) == t0 + k as i64 * 70), "{:?}", &seen[..3]);

        // A window: after reading 10 (exclusive), before reading 20 (exclusive).
        let window = srv.get(&format!("{path}?after={}&before={}", rfc(t0 + 700), rfc(t0 + 1_400)), &admin).await;
        let values: Vec<f64> = window.json["items"].as_array().unwrap().iter().map(|s| s["value"].as_f64().unwrap()).collect();
        assert_eq!(values, (11..20).map(f64::from).collect::<Vec<_>>());
        assert_eq!(window.json["next_after"], Value::Null);

        assert_eq!(srv.get(&format!("{path}?limit=0"), &admin).await.error_fields(), ["limit"]);
        assert_eq!(srv.get(&format!("{path}?after=soon"), &admin).await.error_fields(), ["after"]);
        assert_eq!(srv.get(&format!("{path}?sort=ts"), &admin).await.status, 422);
        assert_eq!(srv.get(&format!("/api/v1/assets/{id}/metrics/nope/samples"), &admin).await.status, 404);
    }

    async fn stored_samples_survive_the_chunk_migration(srv) {
        use nexus_migration::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let admin = srv.admin_token().await;
        let oven = machine(srv, &admin, "Kiln").await;
        let press = machine(srv, &admin, "Press 9").await;
        let t0 = base_ms();
        // Two series over several minutes, sent out of order.
        let mut points = Vec::new();
        for k in (0..300).rev() {
            points.push(json!({"asset_id": oven, "metric": "temperature", "ts": t0 + k * 1_700, "value": 20.0 + (k % 17) as f64 * 0.25}));
            points.push(json!({"asset_id": press, "metric": "temperature", "ts": t0 + k * 3_100, "value": -(k as f64)}));
        }
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": points})).await;
        assert_eq!(res.json["stored"], 600, "{:?}", res.json);
        let before = [
            history(srv, &admin, oven, t0, t0 + 3_600_000).await,
            history(srv, &admin, press, t0, t0 + 3_600_000).await,
        ];
        assert_eq!(total(&before[0]), 300);

        // Back to one row per sample: every sample is there, with its value.
        let db = srv.state.db.write();
        let since_chunks = Migrator::migrations()
            .iter()
            .rev()
            .position(|m| m.name() == "m0010_sample_chunks")
            .unwrap() as u32
            + 1;
        Migrator::down(db, Some(since_chunks)).await.unwrap();
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(),
            "SELECT count(*) AS n, CAST(sum(value) AS DOUBLE PRECISION) AS total FROM metric_samples")).await.unwrap().unwrap();
        let expected: f64 = (0..300).map(|k| 20.0 + (k % 17) as f64 * 0.25 - k as f64).sum();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 600);
        assert!((row.try_get::<f64>("", "total").unwrap() - expected).abs() < 1e-6);

        // And packed again: the same history, and ingestion goes on.
        Migrator::up(db, None).await.unwrap();
        assert_eq!(history(srv, &admin, oven, t0, t0 + 3_600_000).await, before[0]);
        assert_eq!(history(srv, &admin, press, t0, t0 + 3_600_000).await, before[1]);
        let again = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            {"asset_id": oven, "metric": "temperature", "ts": t0, "value": 1.0},
            {"asset_id": oven, "metric": "temperature", "ts": t0 + 1, "value": 1.0}]})).await;
        assert_eq!(again.json, json!({"received": 2, "stored": 1, "duplicates": 1}));
    }

    async fn readings_beyond_the_range_are_refused(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Furnace").await;
        let now = now_ms();
        let point = |ts: i64, v: f64| json!({"asset_id": id, "metric": "temperature", "ts": ts, "value": v});
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            point(now, 1.0), point(now - 1, f64::MAX), point(now - 2, 1e15), point(now - 3, -1e308),
            point(now - 4, -1e15), point(now - 5, 1.000_000_000_000_1e15),
        ]})).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(res.error_fields(), ["points[1].value", "points[3].value", "points[5].value"]);
        let res = lines(srv, &admin, "?precision=ms", &format!(
            "temperature,asset_id={id} value=1 {now}\n\
             temperature,asset_id={id} value=1.7976931348623157e308 {}\n\
             temperature,asset_id={id} value=-1e15 {}\n\
             temperature,asset_id={id} value=1000000000000001i {}\n",
            now - 1, now - 2, now - 3)).await;
        assert_eq!(res.status, 422, "{:?}", res.json);
        assert_eq!(res.error_fields(), ["line 2", "line 4"]);
        assert_eq!(total(&history(srv, &admin, id, now - 60_000, now + 1).await), 0);
        let m = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature"), &admin).await;
        assert_eq!(m.json["metric_value"], Value::Null);

        // The bounds themselves are accepted.
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": [point(now, 1e15), point(now - 1, -1e15)]})).await;
        assert_eq!(res.json["stored"], 2, "{:?}", res.json);
    }

    async fn largest_readings_sum_to_finite_history(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Smelter").await;
        let t0 = base_ms();
        let point = |ts: i64, v: f64| json!({"asset_id": id, "metric": "temperature", "ts": ts, "value": v});
        // Every millisecond of the first minute at the top of the range, then 40,000
        // readings over the rest of the hour at the bottom.
        let minute: Vec<Value> = (0..60_000).map(|k| point(t0 + k, 1e15)).collect();
        let rest: Vec<Value> = (0..40_000).map(|k| point(t0 + 60_000 + k * 88, -1e15)).collect();
        for points in [minute, rest] {
            let res = srv.post("/api/v1/telemetry", &admin, json!({"points": points})).await;
            assert_eq!(res.status, 200, "{:?}", res.json);
        }
        let hour = Some(2e19 / 1e5);
        for (from, source) in [(t0, "raw"), (t0 - 3 * 3_600_000, "minute"), (t0 - 3 * 86_400_000, "hour")] {
            let h = history_in(srv, &admin, id, from, t0 + 3_600_000, 1).await;
            assert_eq!(h["source"], source);
            assert_eq!(figures(&h), [(100_000, Some(-1e15), hour, Some(1e15))], "{source}");
        }
        let first = history_in(srv, &admin, id, t0 - 3 * 3_600_000, t0 + 3_600_000, 240).await;
        assert_eq!(figures(&first)[0], (60_000, Some(1e15), Some(1e15), Some(1e15)));
    }

    async fn stored_extreme_readings_do_not_break_history(srv) {
        use nexus_telemetry::service::{Sample, write};
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Old kiln").await;
        let series = srv.get(&format!("/api/v1/assets/{id}/metrics/temperature"), &admin).await.json["id"].as_i64().unwrap();
        let t0 = base_ms();
        let h = 3_600_000;
        // As stored before the range was enforced: two hours of one huge reading each,
        // the largest double, two huge readings in one minute, then an ordinary minute.
        let samples = [(t0, 1e308), (t0 + h, 1e308), (t0 + 2 * h, f64::MAX), (t0 + 2 * h + 60_000, 1e308),
            (t0 + 2 * h + 60_001, 1e308), (t0 + 3 * h, 1.0), (t0 + 3 * h + 1, 3.0)];
        let samples = samples.iter().map(|&(ts, value)| Sample { series, ts, value }).collect();
        assert_eq!(write(&srv.state, samples).await.unwrap(), 7);

        let ok = (2, Some(1.0), Some(2.0), Some(3.0));
        let unknown = |n| (n, None, None, None);
        // Hours: summing the first two overflows a double.
        let hours = history_in(srv, &admin, id, t0 - 3 * 86_400_000, t0 + 2 * h, 1).await;
        assert_eq!(hours["source"], "hour");
        assert_eq!(figures(&hours), [unknown(2)]);
        let hours = history_in(srv, &admin, id, t0 - 3 * 86_400_000, t0 + 4 * h, 76).await;
        assert_eq!(figures(&hours), [unknown(1), unknown(1), unknown(3), ok]);
        let minutes = history_in(srv, &admin, id, t0, t0 + 4 * h, 240).await;
        assert_eq!(minutes["source"], "minute");
        assert_eq!(figures(&minutes), [unknown(1), unknown(1), unknown(1), unknown(2), ok]);
        let raw = history_in(srv, &admin, id, t0 + 2 * h, t0 + 4 * h, 120).await;
        assert_eq!(raw["source"], "raw");
        assert_eq!(figures(&raw), [unknown(1), unknown(2), ok]);
    }
}

/// Two nodes over one PostgreSQL database write into the same chunks at once, each batch
/// half new and half repeating the other node's points: every point is stored once, and
/// each is acknowledged as stored by exactly one of the answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_merge_into_the_same_chunks() {
    let Some(a) = TestServer::start(nexus_server::testing::Backend::Postgres).await else {
        return;
    };
    let b = a.second_node().await;
    let admin = a.admin_token().await;
    let id = machine(&a, &admin, "Shared press").await;
    let t0 = base_ms();
    // Node A sends even milliseconds and node B odd ones, each batch also repeating the
    // points the other node sends in its batch of the same round.
    let batch = |round: i64, odd: i64| {
        let points: Vec<Value> = (0..200)
            .map(|k| {
                let ts = t0 + round * 400 + 2 * (k % 100) + (odd + k / 100) % 2;
                json!({"asset_id": id, "metric": "temperature", "ts": ts, "value": ts as f64})
            })
            .collect();
        json!({ "points": points })
    };
    let send = async |srv: &TestServer, odd: i64| {
        let mut stored = 0;
        for round in 0..20 {
            let res = srv
                .post("/api/v1/telemetry", &admin, batch(round, odd))
                .await;
            assert_eq!(res.status, 200, "{:?}", res.json);
            stored += res.json["stored"].as_i64().unwrap();
        }
        stored
    };
    let (from_a, from_b) = tokio::join!(send(&a, 0), send(&b, 1));
    assert_eq!(from_a + from_b, 20 * 200);
    let h = history(&a, &admin, id, t0, t0 + 60_000).await;
    assert_eq!(total(&h), 20 * 200);
    let sum: f64 = h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["avg"].as_f64().unwrap() * b["count"].as_f64().unwrap())
        .sum();
    let expected: f64 = (0..20)
        .flat_map(|r| (0..200).map(move |j| (t0 + r * 400 + j) as f64))
        .sum();
    assert!(
        (sum - expected).abs() / expected < 1e-9,
        "{sum} != {expected}"
    );
    b.finish().await;
    a.finish().await;
}
