//! The telemetry pages through real HTTP (HTML answers; forms posted with the page's CSRF
//! token): an asset's metric charts, the alert list with acknowledge, the risk ranking.

use nexus_server::backend_tests;
use nexus_server::testing::{TestServer, csrf};
use serde_json::json;

use crate::common::{ingest, now_ms};

/// The HTML of one metric's card.
fn card<'a>(html: &'a str, metric: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"metric-{metric}\""))
        .unwrap_or_else(|| panic!("no card of {metric}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// An extruder with `temperature` (°C, warning 80, critical 90, hysteresis 2) and
/// `vibration` (no thresholds), read four and once in the last half hour: the
/// temperature ends critical.
async fn extruder(srv: &TestServer, admin: &str) -> i64 {
    let id = srv
        .create("/api/v1/assets", admin, json!({"name": "Extruder"}))
        .await;
    let metrics = format!("/api/v1/assets/{id}/metrics");
    srv.create(
        &metrics,
        admin,
        json!({"metric_name": "temperature", "unit": "°C",
        "warning_threshold": 80.0, "critical_threshold": 90.0, "hysteresis": 2.0}),
    )
    .await;
    srv.create(
        &metrics,
        admin,
        json!({"metric_name": "vibration", "unit": "mm/s"}),
    )
    .await;
    let t = now_ms() - 30 * 60_000;
    ingest(
        srv,
        admin,
        &[
            (id, "temperature", t, 70.0),
            (id, "temperature", t + 60_000, 75.0),
            (id, "temperature", t + 120_000, 85.0),
            (id, "temperature", t + 180_000, 92.5),
            (id, "vibration", t, 1.5),
        ],
    )
    .await;
    id
}

backend_tests! {
    async fn metric_charts_show_thresholds_and_data(srv) {
        let admin = srv.admin_token().await;
        let id = extruder(srv, &admin).await;
        let path = format!("/assets/{id}/metrics");

        let (status, html) = srv.page(&format!("{path}?range=1h"), &admin).await;
        assert_eq!(status, 200, "{html}");
        let temp = card(&html, "temperature");
        assert!(temp.contains("data-state=\"critical\"") && temp.contains(">Critical</a>"), "{temp}");
        assert!(temp.contains("<strong class=\"value\">92.5</strong> °C"), "{temp}");
        assert!(temp.contains("warning ≥ 80 · critical ≥ 90 · hysteresis 2"), "{temp}");
        // Both zones, their threshold lines, and the four readings in four buckets.
        for part in ["class=\"band-warning\"", "class=\"band-critical\"", "class=\"threshold-warning\"",
            "class=\"threshold-critical\"", ">warning 80</text>", ">critical 90</text>",
            "data-buckets=\"4\"", "data-samples=\"4\""] {
            assert!(temp.contains(part), "{part} in {temp}");
        }
        let band = temp.split("class=\"minmax\" d=\"").nth(1).unwrap();
        assert_eq!(band.split('"').next().unwrap().matches('Z').count(), 1, "one run of buckets");
        let vib = card(&html, "vibration");
        assert!(vib.contains("data-state=\"plain\"") && vib.contains("data-samples=\"1\""), "{vib}");
        assert!(!vib.contains("band-warning") && !vib.contains("band-critical"), "{vib}");
        assert!(html.contains(&format!("data-panel=\"/assets/{id}/metrics/panel?range=1h\"")), "{html}");
        assert!(html.contains("title=\"Last hour\" class=\"active\""), "the preset is marked: {html}");
        assert!(html.contains("href=\"/alerts\""), "the nav leads to the alerts");

        // The default range, a year (hour rollups), and a range before any reading.
        let (status, html) = srv.page(&path, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Last 24 hours") && card(&html, "temperature").contains("data-samples=\"4\""));
        let (_, html) = srv.page(&format!("{path}?range=1y"), &admin).await;
        assert!(card(&html, "temperature").contains("data-samples=\"4\""), "{html}");
        let (status, html) = srv.page(&format!("{path}?from=2020-01-01T00:00&to=2020-01-02"), &admin).await;
        assert_eq!(status, 200);
        let temp = card(&html, "temperature");
        assert!(temp.contains("data-buckets=\"0\"") && temp.contains("No readings in this range"), "{temp}");
        assert!(temp.contains("class=\"band-critical\""), "zones are drawn without data too");
        assert!(html.contains("value=\"2020-01-01T00:00\""), "the range stays in the form");
        assert!(!html.contains("class=\"active\" aria-current=\"true\""), "no preset is marked");

        // Refused ranges are marked at their fields.
        let (status, html) = srv.page(&format!("{path}?from=soon"), &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"from-error\"") && !html.contains("id=\"metrics\""), "{html}");
        let (status, html) = srv.page(&format!("{path}?from=2026-01-02T00:00&to=2026-01-01T00:00"), &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"from-error\""));
        let (status, html) = srv.page(&format!("{path}?range=2w"), &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"range-error\""));

        // The live script's fragment: the cards alone.
        let (status, html) = srv.page(&format!("{path}/panel?range=1h"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"metric-temperature\"") && !html.contains("<html"), "{html}");

        assert_eq!(srv.page("/assets/999999/metrics", &admin).await.0, 404);
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(srv.page(&path, &guest).await.0, 200);
        srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "clerk", "permissions": ["users:read"]}))).await;
        let clerk = srv.user_token(&admin, "clerk1", "clerk").await;
        assert_eq!(srv.page(&path, &clerk).await.0, 403);
        assert_eq!(srv.page(&format!("{path}/panel"), &clerk).await.0, 403);
        assert_eq!(srv.page("/alerts", &clerk).await.0, 403);
        assert_eq!(srv.page("/telemetry/risk", &clerk).await.0, 403);
        let (_, html) = srv.page(&format!("/maintenance/assets/{id}"), &admin).await;
        assert!(html.contains(&format!("href=\"/assets/{id}/metrics\"")), "the asset page links here");
    }

    async fn metrics_are_defined_from_the_web(srv) {
        let admin = srv.admin_token().await;
        let id = srv.create("/api/v1/assets", &admin, json!({"name": "Chiller"})).await;
        let (status, html) = srv.page(&format!("/assets/{id}/metrics"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("href=\"/assets/{id}/metrics/new\"")), "{html}");
        let new = format!("/assets/{id}/metrics/new");
        let (status, html) = srv.page(&new, &admin).await;
        assert_eq!(status, 200);
        let token = csrf(&html);

        // Refused: the form comes back with each fault under its field, nothing stored.
        let (status, _, html) = srv.submit(&new, &admin, &[("csrf", &token), ("metric_name", "supply temp"),
            ("kind", "gauge"), ("direction", "below"), ("warning_threshold", "cold"), ("hysteresis", "-1")]).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("id=\"warning_threshold-error\""), "{html}");
        assert!(!html.contains("id=\"critical_threshold-error\""), "{html}");
        let (status, _, html) = srv.submit(&new, &admin, &[("csrf", &token), ("metric_name", "supply temp"),
            ("kind", "gauge"), ("direction", "below"), ("warning_threshold", "5"), ("hysteresis", "-1")]).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("id=\"metric_name-error\"") && html.contains("id=\"hysteresis-error\""), "{html}");
        assert!(html.contains("value=\"supply temp\""), "what was typed stays: {html}");
        let list = srv.get(&format!("/api/v1/assets/{id}/metrics"), &admin).await;
        assert_eq!(list.json["items"], json!([]));

        let (status, to, _) = srv.submit(&new, &admin, &[("csrf", &token), ("metric_name", "supply_temp"),
            ("unit", "°C"), ("kind", "gauge"), ("direction", "below"), ("warning_threshold", "5"),
            ("critical_threshold", "2.5"), ("hysteresis", "0.5"), ("min_threshold", ""), ("max_threshold", "")]).await;
        assert_eq!(status, 303);
        assert_eq!(to, format!("/assets/{id}/metrics?done=saved"));
        let m = srv.get(&format!("/api/v1/assets/{id}/metrics/supply_temp"), &admin).await;
        assert_eq!((&m.json["direction"], &m.json["critical_threshold"], &m.json["min_threshold"]),
            (&json!("below"), &json!(2.5), &serde_json::Value::Null));
        let (_, html) = srv.page(&to, &admin).await;
        assert!(html.contains("Saved.") && html.contains("id=\"metric-supply_temp\""), "{html}");
        let edit = format!("/assets/{id}/metrics/supply_temp/edit");
        assert!(html.contains(&format!("href=\"{edit}\"")), "{html}");

        // Edited: a blank threshold is cleared; an edit of a version since changed is
        // refused with the values stored now.
        let (status, html) = srv.page(&edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"2.5\"") && html.contains("name=\"version\" value=\"1\""), "{html}");
        let form = |version: &'static str, warning: &'static str| [("csrf", token.as_str()), ("version", version),
            ("unit", "K"), ("kind", "gauge"), ("direction", "below"), ("warning_threshold", warning),
            ("critical_threshold", ""), ("hysteresis", "1")];
        let (status, to, _) = srv.submit(&edit, &admin, &form("1", "4")).await;
        assert_eq!((status, to.as_str()), (303, format!("/assets/{id}/metrics?done=saved").as_str()));
        let m = srv.get(&format!("/api/v1/assets/{id}/metrics/supply_temp"), &admin).await;
        assert_eq!((&m.json["unit"], &m.json["warning_threshold"], &m.json["critical_threshold"], &m.json["version"]),
            (&json!("K"), &json!(4.0), &serde_json::Value::Null, &json!(2)));
        let (status, _, html) = srv.submit(&edit, &admin, &form("1", "3")).await;
        assert_eq!(status, 412, "{html}");
        assert!(html.contains("Someone else changed this record after you opened the form") && html.contains("name=\"version\" value=\"2\""), "{html}");
        assert_eq!(srv.get(&format!("/api/v1/assets/{id}/metrics/supply_temp"), &admin).await.json["warning_threshold"], 4.0);

        // Readers see no links and are refused; forged forms change nothing.
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (_, html) = srv.page(&format!("/assets/{id}/metrics"), &guest).await;
        assert!(!html.contains("/metrics/new") && !html.contains(&edit), "{html}");
        assert_eq!(srv.page(&new, &guest).await.0, 403);
        assert_eq!(srv.page(&edit, &guest).await.0, 403);
        assert_eq!(srv.submit(&edit, &admin, &[("csrf", "forged"), ("version", "2")]).await.0, 403);
        assert_eq!(srv.page(&format!("/assets/{id}/metrics/nope/edit"), &admin).await.0, 404);
        assert_eq!(srv.page("/assets/999999/metrics/new", &admin).await.0, 404);
    }

    async fn alerts_are_listed_filtered_and_acknowledged(srv) {
        let admin = srv.admin_token().await;
        let id = extruder(srv, &admin).await;
        let alerts = srv.call("GET", &format!("/api/v1/alerts?asset_id={id}"), Some(&admin), None).await;
        let alert = alerts.json["items"][0]["id"].as_i64().unwrap();
        let row = format!("id=\"alert-{alert}\"");

        let (status, html) = srv.page("/alerts", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(&row) && html.contains(&format!("id=\"ack-{alert}\"")), "{html}");
        assert!(html.contains("Reading 85, worst 92.5") && html.contains(">Extruder</a>"), "{html}");
        for (query, shown) in [
            ("level=critical", true), ("level=warning", false), ("metric=temperature", true),
            ("metric=vibration", false), ("status=resolved", false), ("status=all", true),
            (&format!("asset_id={id}") as &str, true), ("since=2020-01-01", true), ("since=2999-01-01", false),
        ] {
            let (status, html) = srv.page(&format!("/alerts?{query}"), &admin).await;
            assert_eq!(status, 200, "{query}");
            assert_eq!(html.contains(&row), shown, "{query}: {html}");
        }
        let (status, html) = srv.page("/alerts?since=soon&level=loud", &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"since-error\"") && html.contains("id=\"level-error\""), "{html}");

        // A guest sees the alert but no button, and is refused with a message.
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (_, html) = srv.page("/alerts", &guest).await;
        assert!(html.contains(&row) && !html.contains(&format!("id=\"ack-{alert}\"")));
        assert!(!html.contains("/maintenance/work-orders/new"), "a guest opens no work orders: {html}");
        let token = csrf(&html);
        let ack = format!("/alerts/{alert}/acknowledge");
        let (status, _, html) = srv.submit(&ack, &guest, &[("csrf", &token)]).await;
        assert_eq!(status, 403);
        assert!(html.contains("You may not acknowledge alerts") && html.contains(&row), "{html}");
        let (status, _, _) = srv.submit(&ack, &admin, &[("csrf", "forged")]).await;
        assert_eq!(status, 403);
        let open = srv.call("GET", &format!("/api/v1/alerts/{alert}"), Some(&admin), None).await;
        assert_eq!(open.json["status"], "open");

        // Acknowledged: back to the same filters with a message.
        let (_, html) = srv.page("/alerts", &admin).await;
        assert!(html.contains(&format!("/maintenance/work-orders/new?asset_id={id}&#38;title=Critical%20temperature%20on%20")), "a work order starts from the alert: {html}");
        let token = csrf(&html);
        let (status, to, _) = srv.submit(&ack, &admin, &[("csrf", &token), ("status", "active"), ("level", "critical")]).await;
        assert_eq!(status, 303);
        assert_eq!(to, format!("/alerts?status=active&level=critical&done=acknowledged#alert-{alert}"));
        let (_, html) = srv.page(&to, &admin).await;
        assert!(html.contains("<p class=\"flash\" role=\"status\">Acknowledged.</p>"), "{html}");
        assert!(html.contains(">Acknowledged</strong>") && html.contains("by admin"), "{html}");
        assert!(!html.contains(&format!("id=\"ack-{alert}\"")));
        let (status, _, html) = srv.submit(&ack, &admin, &[("csrf", &token)]).await;
        assert_eq!(status, 409);
        assert!(html.contains(&format!("Alert {alert} is acknowledged already.")), "{html}");
        let (status, _, html) = srv.submit("/alerts/999999/acknowledge", &admin, &[("csrf", &token)]).await;
        assert_eq!(status, 404);
        assert!(html.contains("class=\"alert\""), "{html}");

        // The metrics page says so too.
        let (_, html) = srv.page(&format!("/assets/{id}/metrics"), &admin).await;
        assert!(card(&html, "temperature").contains("Critical · acknowledged"), "{html}");
    }

    async fn risk_ranks_assets_by_predicted_failure(srv) {
        let admin = srv.admin_token().await;
        // (name, rise per hour, start): hot and rising will cross 90 within 30 days, hot
        // sooner; slow would in about 33 days; flat never.
        let mut ids = Vec::new();
        let now = now_ms();
        for (name, slope, start) in [("Flat", 0.0, 40.0), ("Slow", 0.05, 50.0), ("Hot", 3.0, 50.0), ("Rising", 1.0, 50.0)] {
            let id = srv.create("/api/v1/assets", &admin, json!({"name": name})).await;
            srv.create(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "temperature", "critical_threshold": 90.0})).await;
            let points: Vec<(i64, &str, i64, f64)> = (0..12)
                .map(|h| (id, "temperature", now - (12 - h) * 3_600_000, start + slope * h as f64))
                .collect();
            ingest(srv, &admin, &points).await;
            let res = srv.call("POST", &format!("/api/v1/assets/{id}/predict"), Some(&admin), None).await;
            assert_eq!(res.status, 200, "{:?}", res.json);
            assert_eq!(res.json["items"].as_array().unwrap().len(), 1, "{name}: {:?}", res.json);
            ids.push(id);
        }
        // Metrics but no critical threshold: no prediction, not ranked.
        let idle = srv.create("/api/v1/assets", &admin, json!({"name": "Idle"})).await;
        srv.create(&format!("/api/v1/assets/{idle}/metrics"), &admin, json!({"metric_name": "load"})).await;

        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (status, html) = srv.page("/telemetry/risk", &guest).await;
        assert_eq!(status, 200, "{html}");
        let at = |id: i64| html.find(&format!("data-asset=\"{id}\"")).unwrap_or_else(|| panic!("{id} in {html}"));
        let (flat, slow, hot, rising) = (ids[0], ids[1], ids[2], ids[3]);
        assert!(at(hot) < at(rising) && at(rising) < at(slow) && at(slow) < at(flat), "{html}");
        assert!(!html.contains(&format!("data-asset=\"{idle}\"")));
        let hot_row = &html[at(hot)..at(rising)];
        assert!(hot_row.contains(&format!("href=\"/assets/{hot}/metrics\"")) && hot_row.contains(">100%<"), "{hot_row}");
        assert!(hot_row.contains("2.3 h") && hot_row.contains(">0<"), "RUL 2.3 h, health 0: {hot_row}");
        let flat_row = &html[at(flat)..];
        assert!(flat_row.contains(">0%<") && flat_row.contains("never"), "{flat_row}");
        assert!(html[at(slow)..at(flat)].contains("32.9 days"), "{html}");

        // The same ranking as JSON, paged.
        let api = srv.get("/api/v1/telemetry/risk", &guest).await;
        assert_eq!(api.status, 200, "{:?}", api.json);
        let ranked = |json: &serde_json::Value| -> Vec<i64> { json["items"].as_array().unwrap().iter().map(|r| r["asset_id"].as_i64().unwrap()).collect() };
        assert_eq!(ranked(&api.json), [hot, rising, slow, flat]);
        assert_eq!(api.json["total"], 4);
        let items = &api.json["items"];
        assert_eq!(items[0]["probability"], 1.0);
        assert_eq!(items[0]["health_score"], 0);
        assert_eq!(items[3]["rul_hours"], serde_json::Value::Null);
        let second = srv.get("/api/v1/telemetry/risk?limit=2&offset=1", &guest).await;
        assert_eq!((ranked(&second.json), &second.json["total"]), (vec![rising, slow], &json!(4)));
        assert_eq!(ranked(&srv.get("/api/v1/telemetry/risk?sort=-risk&limit=1", &guest).await.json), [flat]);
        assert_eq!(srv.get("/api/v1/telemetry/risk?sort=name", &guest).await.status, 422);
        srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "clerk", "permissions": ["users:read"]}))).await;
        let clerk = srv.user_token(&admin, "clerk1", "clerk").await;
        assert_eq!(srv.get("/api/v1/telemetry/risk", &clerk).await.status, 403);
    }
}

backend_tests! {
    async fn rules_and_schedules_are_managed_in_the_pages(srv) {
        let admin = srv.admin_token().await;
        let id = srv.create("/api/v1/assets", &admin, json!({"name": "Mixer"})).await;
        srv.create(&format!("/api/v1/assets/{id}/metrics"), &admin, json!({"metric_name": "hours", "kind": "counter", "unit": "h", "critical_threshold": 9000.0})).await;
        let base = format!("/assets/{id}/metrics/hours");
        let (status, html) = srv.page(&format!("{base}/automation"), &admin).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("No rule yet.") && html.contains("No schedule yet."), "{html}");
        let token = csrf(&html);
        // A refused rule keeps what was typed.
        let (status, _, html) = srv.submit(&format!("{base}/rules"), &admin, &[("csrf", &token), ("title", "Overrun"), ("critical_minutes", "soon"), ("priority", "high"), ("type", "corrective")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("value=\"Overrun\"") && html.contains("id=\"critical_minutes-error\""), "{html}");
        let (status, to, _) = srv.submit(&format!("{base}/rules"), &admin, &[("csrf", &token), ("title", "Overrun"), ("critical_minutes", "30"), ("priority", "high"), ("type", "corrective")]).await;
        assert_eq!((status, to.as_str()), (303, format!("{base}/automation?done=rule").as_str()));
        let rule = srv.get(&format!("/api/v1/assets/{id}/metrics/hours/rules"), &admin).await.json["items"][0].clone();
        let path = format!("{base}/rules/{}", rule["id"]);
        let (status, _, _) = srv.submit(&path, &admin, &[("csrf", &token), ("version", "1"), ("title", "Overrun check"), ("critical_minutes", "45"), ("priority", "critical"), ("type", "inspection"), ("action", "save")]).await;
        assert_eq!(status, 303);
        let rule = srv.get(&format!("/api/v1/assets/{id}/metrics/hours/rules"), &admin).await.json["items"][0].clone();
        assert_eq!((rule["title"].as_str(), rule["critical_minutes"].as_i64(), rule["type"].as_str()), (Some("Overrun check"), Some(45), Some("inspection")));
        // A stale form changes nothing and says why.
        let (status, _, html) = srv.submit(&path, &admin, &[("csrf", &token), ("version", "1"), ("title", "Lost"), ("critical_minutes", "5"), ("priority", "low"), ("type", "other"), ("action", "save")]).await;
        assert_eq!(status, 412, "{html}");
        assert!(html.contains("Someone else changed this record"), "{html}");

        let (status, _, _) = srv.submit(&format!("{base}/meter-schedules"), &admin, &[("csrf", &token), ("title", "500 h service"), ("every_units", "500"), ("next_at", ""), ("priority", "medium")]).await;
        assert_eq!(status, 303);
        let s = srv.get(&format!("/api/v1/assets/{id}/metrics/hours/meter-schedules"), &admin).await.json["items"][0].clone();
        assert_eq!((s["every_units"].as_f64(), s["next_at"].as_f64()), (Some(500.0), Some(500.0)));
        let path = format!("{base}/meter-schedules/{}", s["id"]);
        let (status, _, _) = srv.submit(&path, &admin, &[("csrf", &token), ("version", "1"), ("title", "500 h service"), ("every_units", "250"), ("next_at", "750"), ("priority", "high"), ("action", "save")]).await;
        assert_eq!(status, 303);
        let s = srv.get(&format!("/api/v1/assets/{id}/metrics/hours/meter-schedules"), &admin).await.json["items"][0].clone();
        assert_eq!((s["every_units"].as_f64(), s["next_at"].as_f64(), s["priority"].as_str()), (Some(250.0), Some(750.0), Some("high")));
        let (status, _, _) = srv.submit(&path, &admin, &[("csrf", &token), ("version", "2"), ("action", "delete")]).await;
        assert_eq!(status, 303);
        let (_, html) = srv.page(&format!("{base}/automation"), &admin).await;
        assert!(html.contains("No schedule yet.") && html.contains("Overrun check"), "{html}");
        // Only managers.
        let staff = srv.user_token(&admin, "stan", "staff").await;
        assert_eq!(srv.page(&format!("{base}/automation"), &staff).await.0, 403);
    }
}
