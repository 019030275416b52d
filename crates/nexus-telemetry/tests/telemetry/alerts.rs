//! Alert lifecycle and the one-work-order rule through real HTTP, on both engines.

use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

use crate::common::{asset_with_metric, ingest, now_ms};

/// An asset with `temperature` (warning 80, critical 90, hysteresis 2, above); its id.
async fn machine(srv: &TestServer, token: &str, name: &str) -> i64 {
    let metric = json!({"metric_name": "temperature", "warning_threshold": 80.0,
        "critical_threshold": 90.0, "hysteresis": 2.0});
    asset_with_metric(srv, token, name, metric).await
}

fn start_ms() -> i64 {
    now_ms() - 3_600_000
}

async fn read(srv: &TestServer, token: &str, asset: i64, ts: i64, value: f64) {
    ingest(srv, token, &[(asset, "temperature", ts, value)]).await;
}

async fn alerts(srv: &TestServer, token: &str, asset: i64) -> Vec<Value> {
    let res = srv
        .get(&format!("/api/v1/alerts?asset_id={asset}"), token)
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    res.json["items"].as_array().unwrap().clone()
}

fn state(a: &Value) -> (String, String) {
    (
        a["level"].as_str().unwrap().into(),
        a["status"].as_str().unwrap().into(),
    )
}

fn s(level: &str, status: &str) -> (String, String) {
    (level.into(), status.into())
}

backend_tests! {
    async fn alert_lifecycle(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Extruder").await;
        let t = start_ms();
        read(srv, &admin, id, t, 70.0).await;
        assert!(alerts(srv, &admin, id).await.is_empty());
        read(srv, &admin, id, t + 1000, 81.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 1);
        assert_eq!(state(&a[0]), s("warning", "open"));
        assert_eq!(a[0]["value"], 81.0);
        let alert = a[0]["id"].as_i64().unwrap();

        // Acknowledge: once; a guest may not.
        let guest = srv.user_token(&admin, "viewer", "guest").await;
        assert_eq!(srv.post(&format!("/api/v1/alerts/{alert}/acknowledge"), &guest, json!({})).await.status, 403);
        let ack = srv.post(&format!("/api/v1/alerts/{alert}/acknowledge"), &admin, json!({})).await;
        assert_eq!(ack.status, 200, "{:?}", ack.json);
        assert_eq!(ack.json["status"], "acknowledged");
        assert_eq!(srv.post(&format!("/api/v1/alerts/{alert}/acknowledge"), &admin, json!({})).await.status, 409);
        assert_eq!(srv.post("/api/v1/alerts/999999/acknowledge", &admin, json!({})).await.status, 404);

        // Escalates (and asks for attention again); stays critical inside the hysteresis band.
        read(srv, &admin, id, t + 2000, 85.0).await;
        read(srv, &admin, id, t + 3000, 91.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 1);
        assert_eq!(state(&a[0]), s("critical", "open"));
        read(srv, &admin, id, t + 4000, 88.5).await;
        read(srv, &admin, id, t + 5000, 95.0).await;
        // Back under critical - hysteresis: warning, still the same alert; a late point
        // from before does not move it.
        read(srv, &admin, id, t + 6000, 87.0).await;
        read(srv, &admin, id, t + 4500, 60.0).await;
        read(srv, &admin, id, t + 7000, 79.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 1);
        assert_eq!(a[0]["status"], "open");
        // Resolved only past warning - hysteresis.
        read(srv, &admin, id, t + 8000, 77.9).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 1);
        assert_eq!(state(&a[0]), s("critical", "resolved"));
        assert_eq!(a[0]["peak_value"], 95.0);
        assert_eq!(srv.post(&format!("/api/v1/alerts/{alert}/acknowledge"), &admin, json!({})).await.status, 409);

        // A new crossing is a new alert; resolving it by hand works once.
        read(srv, &admin, id, t + 9000, 92.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 2);
        assert_eq!(state(&a[0]), s("critical", "open"));
        let second = a[0]["id"].as_i64().unwrap();
        let r = srv.post(&format!("/api/v1/alerts/{second}/resolve"), &admin, json!({})).await;
        assert_eq!(r.json["status"], "resolved");
        assert_eq!(srv.post(&format!("/api/v1/alerts/{second}/resolve"), &admin, json!({})).await.status, 409);
        let active = srv.get("/api/v1/alerts?status=active", &admin).await;
        assert_eq!(active.json["total"], 0);
        assert_eq!(srv.get("/api/v1/alerts?status=sleeping", &admin).await.error_fields(), ["status"]);
        assert_eq!(srv.get("/api/v1/alerts?sort=metric", &admin).await.error_fields(), ["sort"]);
        let oldest = srv.get(&format!("/api/v1/alerts?asset_id={id}&sort=opened_at&limit=1"), &admin).await;
        assert_eq!((oldest.json["items"][0]["id"].as_i64(), &oldest.json["total"]), (Some(alert), &json!(2)));
        // Acting on an alert by hand is audited, by whoever did it.
        let trail = srv.get("/api/v1/audit-logs?entity_type=alert", &admin).await;
        let acts: Vec<_> = trail.json["items"].as_array().unwrap().iter()
            .map(|e| (e["action"].as_str().unwrap(), e["entity_id"].as_i64().unwrap(), e["actor_id"].is_i64())).collect();
        assert_eq!(acts, [("resolve", second, true), ("acknowledge", alert, true)]);

        // Below-thresholds mirror: pressure falling.
        let p = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({
            "metric_name": "pressure", "direction": "below", "warning_threshold": 5.0, "critical_threshold": 3.0})).await;
        assert_eq!(p.status, 201);
        let res = srv.post("/api/v1/telemetry", &admin, json!({"points": [
            {"asset_id": id, "metric": "pressure", "ts": t, "value": 6.0},
            {"asset_id": id, "metric": "pressure", "ts": t + 1000, "value": 2.5}]})).await;
        assert_eq!(res.status, 200);
        let a = srv.get(&format!("/api/v1/alerts?asset_id={id}&status=open"), &admin).await;
        assert_eq!(a.json["items"][0]["metric_name"], "pressure");
        assert_eq!(a.json["items"][0]["level"], "critical");
    }

    async fn rule_opens_one_work_order(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Chiller").await;
        let rules = format!("/api/v1/assets/{id}/metrics/temperature/rules");
        let bad = srv.post(&rules, &admin, json!({"critical_minutes": -1, "title": " ", "priority": "urgent"})).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.error_fields(), ["title", "critical_minutes", "priority"]);
        let staff = srv.user_token(&admin, "tech", "staff").await;
        assert_eq!(srv.post(&rules, &staff, json!({"critical_minutes": 5, "title": "x"})).await.status, 403);
        let rule = srv.post(&rules, &admin, json!({"critical_minutes": 5, "title": "Chiller overheating", "priority": "critical"})).await;
        assert_eq!(rule.status, 201, "{:?}", rule.json);
        let listed = srv.get(&rules, &admin).await.json;
        assert_eq!((listed["items"].as_array().unwrap().len(), listed["total"].as_u64()), (1, Some(1)));

        let t = start_ms();
        let count = |json: &Value| json["items"].as_array().unwrap().iter()
            .filter(|w| w["asset_id"] == id && w["title"] == "Chiller overheating").count();
        read(srv, &admin, id, t, 95.0).await;
        read(srv, &admin, id, t + 3 * 60_000, 96.0).await;
        assert_eq!(count(&srv.get("/api/v1/work-orders?limit=500", &admin).await.json), 0);
        read(srv, &admin, id, t + 5 * 60_000, 97.0).await;
        let list = srv.get("/api/v1/work-orders?limit=500", &admin).await;
        assert_eq!(count(&list.json), 1, "{:?}", list.json);
        read(srv, &admin, id, t + 12 * 60_000, 98.0).await;
        // Calm down, then a second long critical spell while the first work order is open.
        read(srv, &admin, id, t + 13 * 60_000, 50.0).await;
        read(srv, &admin, id, t + 14 * 60_000, 95.0).await;
        read(srv, &admin, id, t + 20 * 60_000, 95.0).await;
        let list = srv.get("/api/v1/work-orders?limit=500", &admin).await;
        assert_eq!(count(&list.json), 1);
        assert_eq!(alerts(srv, &admin, id).await.len(), 2);
        let rid = rule.json["id"].as_i64().unwrap();
        assert_eq!(srv.call("DELETE", &format!("{rules}/{rid}"), Some(&admin), None).await.status, 204);
        assert_eq!(srv.call("DELETE", &format!("{rules}/{rid}"), Some(&admin), None).await.status, 404);
    }
}

backend_tests! {
    async fn meter_schedule_opens_next_work_order(srv) {
        let admin = srv.admin_token().await;
        let res = srv.post("/api/v1/assets", &admin, json!({"name": "Press 9"})).await;
        let id = res.json["id"].as_i64().unwrap();
        let m = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "run_hours", "kind": "counter", "unit": "h"})).await;
        assert_eq!(m.status, 201);
        let g = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "temp"})).await;
        assert_eq!(g.status, 201);
        let on_gauge = srv.post(&format!("/api/v1/assets/{id}/metrics/temp/meter-schedules"), &admin, json!({"every_units": 100.0, "title": "x"})).await;
        assert_eq!(on_gauge.error_fields(), ["metric"]);
        let path = format!("/api/v1/assets/{id}/metrics/run_hours/meter-schedules");
        let bad = srv.post(&path, &admin, json!({"every_units": 0.0, "title": ""})).await;
        assert_eq!(bad.error_fields(), ["title", "every_units"]);
        let staff = srv.user_token(&admin, "tech2", "staff").await;
        assert_eq!(srv.post(&path, &staff, json!({"every_units": 100.0, "title": "x"})).await.status, 403);
        let s = srv.post(&path, &admin, json!({"every_units": 100.0, "title": "100-hour service"})).await;
        assert_eq!(s.status, 201, "{:?}", s.json);
        assert_eq!(s.json["next_at"], 100.0);

        let t = start_ms();
        let count = |json: &Value| json["items"].as_array().unwrap().iter()
            .filter(|w| w["asset_id"] == id && w["title"] == "100-hour service").count();
        let hours = |ts: i64, v: f64| json!({"points": [{"asset_id": id, "metric": "run_hours", "ts": ts, "value": v}]});
        assert_eq!(srv.post("/api/v1/telemetry", &admin, hours(t, 50.0)).await.status, 200);
        assert_eq!(count(&srv.get("/api/v1/work-orders?limit=500", &admin).await.json), 0);
        srv.post("/api/v1/telemetry", &admin, hours(t + 1000, 120.0)).await;
        let list = srv.get("/api/v1/work-orders?limit=500", &admin).await;
        assert_eq!(count(&list.json), 1, "{:?}", list.json);
        assert_eq!(srv.get(&path, &admin).await.json["items"][0]["next_at"], 200.0);
        // Past two more marks while the first order is open: still one open, the mark moves on.
        srv.post("/api/v1/telemetry", &admin, hours(t + 2000, 150.0)).await;
        srv.post("/api/v1/telemetry", &admin, hours(t + 3000, 310.0)).await;
        let list = srv.get("/api/v1/work-orders?limit=500", &admin).await;
        assert_eq!(count(&list.json), 1);
        assert_eq!(srv.get(&path, &admin).await.json["items"][0]["next_at"], 400.0);
        // ... and the open order says it covers the services that fell due meanwhile.
        let wo = list.json["items"].as_array().unwrap().iter().find(|w| w["title"] == "100-hour service").unwrap();
        let comments = srv.get(&format!("/api/v1/work-orders/{}/comments", wo["id"]), &admin).await;
        let notes: Vec<&str> = comments.json["items"].as_array().unwrap().iter().map(|c| c["content"].as_str().unwrap()).collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("due at 200, 300") && notes[0].contains("covers it too"), "{notes:?}");
    }
}

backend_tests! {
    async fn predictions_on_known_series(srv) {
        let admin = srv.admin_token().await;
        let res = srv.post("/api/v1/assets", &admin, json!({"name": "Bearing"})).await;
        let id = res.json["id"].as_i64().unwrap();
        for (name, crit) in [("temperature", 90.0), ("flat", 90.0)] {
            let m = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": name, "critical_threshold": crit})).await;
            assert_eq!(m.status, 201);
        }
        assert_eq!(srv.post(&format!("/api/v1/assets/{id}/predict"), &admin, json!({})).await.json["items"], json!([]));
        // 48 hourly readings: a drift of 0.5 per hour reaching 73.5, and a flat line.
        let last_hour = chrono::Utc::now().timestamp_millis() / 3_600_000 - 1;
        let points: Vec<Value> = (0..48).flat_map(|h| {
            let ts = (last_hour - 47 + h) * 3_600_000;
            [json!({"asset_id": id, "metric": "temperature", "ts": ts, "value": 50.0 + 0.5 * h as f64}),
             json!({"asset_id": id, "metric": "flat", "ts": ts, "value": 70.0})]
        }).collect();
        assert_eq!(srv.post("/api/v1/telemetry", &admin, json!({"points": points})).await.status, 200);
        let staff = srv.user_token(&admin, "tech3", "staff").await;
        assert_eq!(srv.post(&format!("/api/v1/assets/{id}/predict"), &staff, json!({})).await.status, 403);
        assert_eq!(srv.post("/api/v1/assets/999999/predict", &admin, json!({})).await.status, 404);
        let res = srv.post(&format!("/api/v1/assets/{id}/predict"), &admin, json!({})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        let items = res.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let by = |name: &str| items.iter().find(|p| p["input_features"]["metric_name"] == name).unwrap().clone();
        let drift = by("temperature");
        assert_eq!(drift["prediction_type"], "REMAINING_USEFUL_LIFE");
        assert_eq!(drift["model_version"], "theil-sen-1");
        let rul = drift["prediction_result"]["prediction"].as_f64().unwrap();
        assert!((rul - 33.0).abs() < 1e-6, "{rul}");
        assert_eq!(drift["prediction_result"]["probability"], 1.0);
        assert_eq!(drift["input_features"]["points"], 48);
        let flat = by("flat");
        assert_eq!(flat["prediction_result"]["prediction"], Value::Null);
        assert_eq!(flat["prediction_result"]["probability"], 0.0);
        let asset = srv.get(&format!("/api/v1/assets/{id}"), &admin).await;
        assert_eq!(asset.json["health_score"], 0);
        // The new score is an audited change of the asset, by whoever asked for it.
        let audit = srv.get(&format!("/api/v1/audit-logs?entity_type=asset&entity_id={id}"), &admin).await;
        let update = audit.json["items"].as_array().unwrap().iter().find(|e| e["action"] == "update").expect("an audit row");
        assert_eq!(update["new_state"]["health_score"], 0, "{update:?}");
        assert!(update["actor_id"].is_i64(), "{update:?}");
        let listed = srv.get(&format!("/api/v1/assets/{id}/predictions"), &staff).await;
        assert_eq!((listed.json["items"].as_array().unwrap().len(), listed.json["total"].as_u64()), (2, Some(2)));
        let one = srv.get(&format!("/api/v1/assets/{id}/predictions?limit=1&offset=1"), &staff).await;
        assert_eq!((one.json["items"].as_array().unwrap().len(), one.json["total"].as_u64()), (1, Some(2)));
        assert_eq!(srv.get(&format!("/api/v1/assets/{id}/predictions?sort=value"), &staff).await.status, 422);
        let z = drift["prediction_result"]["anomaly_score"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&z), "a score on 0-1: {z}");

        // Now past critical: the hourly averages are still below 90, the asset is not.
        let now = chrono::Utc::now().timestamp_millis();
        let hot = json!({"points": [{"asset_id": id, "metric": "temperature", "ts": now, "value": 96.0}]});
        assert_eq!(srv.post("/api/v1/telemetry", &admin, hot).await.status, 200);
        let res = srv.post(&format!("/api/v1/assets/{id}/predict"), &admin, json!({})).await;
        let items = res.json["items"].as_array().unwrap();
        let drift = items.iter().find(|p| p["input_features"]["metric_name"] == "temperature").unwrap();
        assert_eq!(drift["prediction_result"]["prediction"], 0.0, "{drift:?}");
        assert_eq!(drift["prediction_result"]["past_threshold"], true);
        assert_eq!(drift["prediction_result"]["probability"], 1.0);
        let (_, html) = srv.page("/telemetry/risk", &admin).await;
        assert!(html.contains("past the threshold"), "{html}");
    }
}

backend_tests! {
    async fn concurrent_readings_open_one_work_order_per_rule(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Boiler").await;
        let rules = format!("/api/v1/assets/{id}/metrics/temperature/rules");
        let rule = srv.post(&rules, &admin, json!({"critical_minutes": 5, "title": "Boiler overheating"})).await;
        assert_eq!(rule.status, 201, "{:?}", rule.json);
        let t = start_ms();
        read(srv, &admin, id, t, 95.0).await;
        // Ten batches past the rule's five minutes arrive at once.
        let batches = (0..10).map(|i| {
            let token = admin.clone();
            async move { read(srv, &token, id, t + (6 + i) * 60_000, 96.0).await }
        });
        futures_util::future::join_all(batches).await;
        let list = srv.get(&format!("/api/v1/work-orders?asset_id={id}&limit=500"), &admin).await;
        let opened = list.json["items"].as_array().unwrap().iter()
            .filter(|w| w["title"] == "Boiler overheating").count();
        assert_eq!(opened, 1, "{:?}", list.json);
    }
}

backend_tests! {
    async fn an_acknowledged_episode_stays_acknowledged(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Kiln").await;
        let t = start_ms();
        // Acknowledged as a warning: the first escalation asks for attention again.
        read(srv, &admin, id, t, 85.0).await;
        let alert = alerts(srv, &admin, id).await[0]["id"].as_i64().unwrap();
        let ack = format!("/api/v1/alerts/{alert}/acknowledge");
        assert_eq!(srv.post(&ack, &admin, json!({})).await.status, 200);
        read(srv, &admin, id, t + 1000, 95.0).await;
        assert_eq!(state(&alerts(srv, &admin, id).await[0]), s("critical", "open"));
        // Acknowledged at critical: dipping under critical and coming back is the same
        // episode, still acknowledged; only resolving ends it.
        assert_eq!(srv.post(&ack, &admin, json!({})).await.status, 200);
        read(srv, &admin, id, t + 2000, 86.0).await;
        read(srv, &admin, id, t + 3000, 96.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!(a.len(), 1);
        assert_eq!(state(&a[0]), s("critical", "acknowledged"));
        assert!(a[0]["escalated_at"].is_string());
        read(srv, &admin, id, t + 4000, 70.0).await;
        assert_eq!(state(&alerts(srv, &admin, id).await[0]), s("critical", "resolved"));
        read(srv, &admin, id, t + 5000, 95.0).await;
        let a = alerts(srv, &admin, id).await;
        assert_eq!((a.len(), state(&a[0])), (2, s("critical", "open")), "a new episode is a new alert");
    }
}

backend_tests! {
    async fn rules_and_meter_schedules_are_edited_with_versions(srv) {
        let admin = srv.admin_token().await;
        let id = machine(srv, &admin, "Compressor").await;
        let rules = format!("/api/v1/assets/{id}/metrics/temperature/rules");
        let rule = srv.post(&rules, &admin, json!({"critical_minutes": 5, "title": "Too hot"})).await;
        let one = format!("{rules}/{}", rule.json["id"]);
        assert_eq!(rule.json["version"], 1);
        let res = srv.patch_if(&one, &admin, 1, json!({"critical_minutes": 15, "priority": "critical", "description": "Check the fan"})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!((res.json["critical_minutes"].as_i64(), res.json["priority"].as_str(), res.json["version"].as_i64()), (Some(15), Some("critical"), Some(2)));
        assert_eq!(res.header("etag"), Some("\"2\""));
        let stale = srv.patch_if(&one, &admin, 1, json!({"title": "Lost"})).await;
        assert_eq!(stale.status, 412);
        let bad = srv.patch_if(&one, &admin, 2, json!({"critical_minutes": -1, "title": " "})).await;
        assert_eq!(bad.error_fields(), ["title", "critical_minutes"]);
        let staff = srv.user_token(&admin, "tech9", "staff").await;
        assert_eq!(srv.patch(&one, &staff, json!({"title": "x"})).await.status, 403);
        let listed = srv.get(&rules, &admin).await;
        assert_eq!((listed.json["items"][0]["title"].as_str(), listed.json["items"][0]["description"].as_str()), (Some("Too hot"), Some("Check the fan")));
        assert_eq!(srv.patch(&format!("{rules}/999999"), &admin, json!({"title": "x"})).await.status, 404);

        let m = srv.post(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "cycles", "kind": "counter"})).await;
        assert_eq!(m.status, 201);
        let schedules = format!("/api/v1/assets/{id}/metrics/cycles/meter-schedules");
        let s = srv.post(&schedules, &admin, json!({"every_units": 1000.0, "title": "Valve service"})).await;
        let one = format!("{schedules}/{}", s.json["id"]);
        let res = srv.patch_if(&one, &admin, 1, json!({"every_units": 500.0, "next_at": 750.0})).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        assert_eq!((res.json["every_units"].as_f64(), res.json["next_at"].as_f64(), res.json["version"].as_i64()), (Some(500.0), Some(750.0), Some(2)));
        let bad = srv.patch_if(&one, &admin, 2, json!({"every_units": 0.0})).await;
        assert_eq!(bad.error_fields(), ["every_units"]);
        let trail = srv.get("/api/v1/audit-logs?entity_type=meter_schedule", &admin).await;
        assert_eq!(trail.json["items"][0]["action"], "update");
        // The new mark is the one the counter is measured against.
        let hours = |v: f64| json!({"points": [{"asset_id": id, "metric": "cycles", "ts": now_ms() - 1000, "value": v}]});
        assert_eq!(srv.post("/api/v1/telemetry", &admin, hours(760.0)).await.status, 200);
        let list = srv.get(&format!("/api/v1/work-orders?asset_id={id}"), &admin).await;
        assert_eq!(list.json["items"][0]["title"], "Valve service", "{:?}", list.json);
        let stale = srv.call("DELETE", &one, Some(&admin), None).await;
        assert_eq!(stale.status, 204);
        assert_eq!(srv.get(&schedules, &admin).await.json["total"], 0);
        assert_eq!(srv.call("DELETE", &one, Some(&admin), None).await.status, 404);
    }
}
