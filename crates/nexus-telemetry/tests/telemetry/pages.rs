//! The telemetry pages through real HTTP (HTML answers; forms posted with the page's CSRF
//! token): an asset's metric charts, the alert list with acknowledge, the risk ranking.

use nexus_server::backend_tests;
use nexus_server::testing::TestServer;
use serde_json::{Value, json};

/// (status, HTML) of a page.
async fn page(srv: &TestServer, token: &str, path: &str) -> (u16, String) {
    srv.text(path, token).await
}

/// Posts a form: (status, Location header, HTML).
async fn submit(
    srv: &TestServer,
    token: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let res = srv
        .client()
        .post(srv.url(path))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let to = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to, res.text().await.unwrap())
}

fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// The HTML of one metric's card.
fn card<'a>(html: &'a str, metric: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"metric-{metric}\""))
        .unwrap_or_else(|| panic!("no card of {metric}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

async fn create(srv: &TestServer, token: &str, path: &str, body: Value) -> i64 {
    let res = srv.call("POST", path, Some(token), Some(body)).await;
    assert_eq!(res.status, 201, "POST {path}: {:?}", res.json);
    res.json["id"].as_i64().unwrap()
}

/// Stores `points` (asset, metric, ms since the epoch, value).
async fn ingest(srv: &TestServer, token: &str, points: &[(i64, &str, i64, f64)]) {
    let points: Vec<Value> = points
        .iter()
        .map(|(a, m, ts, v)| json!({"asset_id": a, "metric": m, "ts": ts, "value": v}))
        .collect();
    let res = srv
        .call(
            "POST",
            "/api/v1/telemetry",
            Some(token),
            Some(json!({ "points": points })),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An extruder with `temperature` (°C, warning 80, critical 90, hysteresis 2) and
/// `vibration` (no thresholds), read four and once in the last half hour: the
/// temperature ends critical.
async fn extruder(srv: &TestServer, admin: &str) -> i64 {
    let id = create(srv, admin, "/api/v1/assets", json!({"name": "Extruder"})).await;
    let metrics = format!("/api/v1/assets/{id}/metrics");
    create(
        srv,
        admin,
        &metrics,
        json!({"metric_name": "temperature", "unit": "°C",
        "warning_threshold": 80.0, "critical_threshold": 90.0, "hysteresis": 2.0}),
    )
    .await;
    create(
        srv,
        admin,
        &metrics,
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

        let (status, html) = page(srv, &admin, &format!("{path}?range=1h")).await;
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
        let (status, html) = page(srv, &admin, &path).await;
        assert_eq!(status, 200);
        assert!(html.contains("Last 24 hours") && card(&html, "temperature").contains("data-samples=\"4\""));
        let (_, html) = page(srv, &admin, &format!("{path}?range=1y")).await;
        assert!(card(&html, "temperature").contains("data-samples=\"4\""), "{html}");
        let (status, html) = page(srv, &admin, &format!("{path}?from=2020-01-01T00:00&to=2020-01-02")).await;
        assert_eq!(status, 200);
        let temp = card(&html, "temperature");
        assert!(temp.contains("data-buckets=\"0\"") && temp.contains("No readings in this range"), "{temp}");
        assert!(temp.contains("class=\"band-critical\""), "zones are drawn without data too");
        assert!(html.contains("value=\"2020-01-01T00:00\""), "the range stays in the form");
        assert!(!html.contains("class=\"active\" aria-current=\"true\""), "no preset is marked");

        // Refused ranges are marked at their fields.
        let (status, html) = page(srv, &admin, &format!("{path}?from=soon")).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"from-error\"") && !html.contains("id=\"metrics\""), "{html}");
        let (status, html) = page(srv, &admin, &format!("{path}?from=2026-01-02T00:00&to=2026-01-01T00:00")).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"from-error\""));
        let (status, html) = page(srv, &admin, &format!("{path}?range=2w")).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"range-error\""));

        // The live script's fragment: the cards alone.
        let (status, html) = page(srv, &admin, &format!("{path}/panel?range=1h")).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"metric-temperature\"") && !html.contains("<html"), "{html}");

        assert_eq!(page(srv, &admin, "/assets/999999/metrics").await.0, 404);
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        assert_eq!(page(srv, &guest, &path).await.0, 200);
        srv.call("POST", "/api/v1/roles", Some(&admin), Some(json!({"name": "clerk", "permissions": ["users:read"]}))).await;
        let clerk = srv.user_token(&admin, "clerk1", "clerk").await;
        assert_eq!(page(srv, &clerk, &path).await.0, 403);
        assert_eq!(page(srv, &clerk, &format!("{path}/panel")).await.0, 403);
        assert_eq!(page(srv, &clerk, "/alerts").await.0, 403);
        assert_eq!(page(srv, &clerk, "/telemetry/risk").await.0, 403);
        let (_, html) = page(srv, &admin, &format!("/maintenance/assets/{id}")).await;
        assert!(html.contains(&format!("href=\"/assets/{id}/metrics\"")), "the asset page links here");
    }

    async fn alerts_are_listed_filtered_and_acknowledged(srv) {
        let admin = srv.admin_token().await;
        let id = extruder(srv, &admin).await;
        let alerts = srv.call("GET", &format!("/api/v1/alerts?asset_id={id}"), Some(&admin), None).await;
        let alert = alerts.json["items"][0]["id"].as_i64().unwrap();
        let row = format!("id=\"alert-{alert}\"");

        let (status, html) = page(srv, &admin, "/alerts").await;
        assert_eq!(status, 200);
        assert!(html.contains(&row) && html.contains(&format!("id=\"ack-{alert}\"")), "{html}");
        assert!(html.contains("Reading 85, worst 92.5") && html.contains(">Extruder</a>"), "{html}");
        for (query, shown) in [
            ("level=critical", true), ("level=warning", false), ("metric=temperature", true),
            ("metric=vibration", false), ("status=resolved", false), ("status=all", true),
            (&format!("asset_id={id}") as &str, true), ("since=2020-01-01", true), ("since=2999-01-01", false),
        ] {
            let (status, html) = page(srv, &admin, &format!("/alerts?{query}")).await;
            assert_eq!(status, 200, "{query}");
            assert_eq!(html.contains(&row), shown, "{query}: {html}");
        }
        let (status, html) = page(srv, &admin, "/alerts?since=soon&level=loud").await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"since-error\"") && html.contains("id=\"level-error\""), "{html}");

        // A guest sees the alert but no button, and is refused with a message.
        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (_, html) = page(srv, &guest, "/alerts").await;
        assert!(html.contains(&row) && !html.contains(&format!("id=\"ack-{alert}\"")));
        let token = csrf(&html);
        let ack = format!("/alerts/{alert}/acknowledge");
        let (status, _, html) = submit(srv, &guest, &ack, &[("csrf", &token)]).await;
        assert_eq!(status, 403);
        assert!(html.contains("You may not acknowledge alerts") && html.contains(&row), "{html}");
        let (status, _, _) = submit(srv, &admin, &ack, &[("csrf", "forged")]).await;
        assert_eq!(status, 403);
        let open = srv.call("GET", &format!("/api/v1/alerts/{alert}"), Some(&admin), None).await;
        assert_eq!(open.json["status"], "open");

        // Acknowledged: back to the same filters with a message.
        let (_, html) = page(srv, &admin, "/alerts").await;
        let token = csrf(&html);
        let (status, to, _) = submit(srv, &admin, &ack, &[("csrf", &token), ("status", "active"), ("level", "critical")]).await;
        assert_eq!(status, 303);
        assert_eq!(to, format!("/alerts?status=active&level=critical&done=acknowledged#alert-{alert}"));
        let (_, html) = page(srv, &admin, &to).await;
        assert!(html.contains("<p class=\"flash\" role=\"status\">Acknowledged.</p>"), "{html}");
        assert!(html.contains(">acknowledged</strong>") && html.contains("by admin"), "{html}");
        assert!(!html.contains(&format!("id=\"ack-{alert}\"")));
        let (status, _, html) = submit(srv, &admin, &ack, &[("csrf", &token)]).await;
        assert_eq!(status, 409);
        assert!(html.contains(&format!("Alert {alert} is acknowledged already.")), "{html}");
        let (status, _, html) = submit(srv, &admin, "/alerts/999999/acknowledge", &[("csrf", &token)]).await;
        assert_eq!(status, 404);
        assert!(html.contains("class=\"alert\""), "{html}");

        // The metrics page says so too.
        let (_, html) = page(srv, &admin, &format!("/assets/{id}/metrics")).await;
        assert!(card(&html, "temperature").contains("Critical · acknowledged"), "{html}");
    }

    async fn risk_ranks_assets_by_predicted_failure(srv) {
        let admin = srv.admin_token().await;
        // (name, rise per hour, start): hot and rising will cross 90 within 30 days, hot
        // sooner; slow would in about 33 days; flat never.
        let mut ids = Vec::new();
        let now = now_ms();
        for (name, slope, start) in [("Flat", 0.0, 40.0), ("Slow", 0.05, 50.0), ("Hot", 3.0, 50.0), ("Rising", 1.0, 50.0)] {
            let id = create(srv, &admin, "/api/v1/assets", json!({"name": name})).await;
            create(srv, &admin, &format!("/api/v1/assets/{id}/metrics"),
                json!({"metric_name": "temperature", "critical_threshold": 90.0})).await;
            let points: Vec<(i64, &str, i64, f64)> = (0..12)
                .map(|h| (id, "temperature", now - (12 - h) * 3_600_000, start + slope * h as f64))
                .collect();
            ingest(srv, &admin, &points).await;
            let res = srv.call("POST", &format!("/api/v1/assets/{id}/predict"), Some(&admin), None).await;
            assert_eq!(res.status, 200, "{:?}", res.json);
            assert_eq!(res.json.as_array().unwrap().len(), 1, "{name}: {:?}", res.json);
            ids.push(id);
        }
        // Metrics but no critical threshold: no prediction, not ranked.
        let idle = create(srv, &admin, "/api/v1/assets", json!({"name": "Idle"})).await;
        create(srv, &admin, &format!("/api/v1/assets/{idle}/metrics"), json!({"metric_name": "load"})).await;

        let guest = srv.user_token(&admin, "visitor", "guest").await;
        let (status, html) = page(srv, &guest, "/telemetry/risk").await;
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
    }
}
