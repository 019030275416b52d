//! Drives Debian's headless Chromium on a phone-sized screen: a technician opens a
//! press's metrics, readings pushed through the API show up on the page without a reload
//! (value, state and chart), and they acknowledge the alert the readings raised; the alert
//! list and the risk ranking follow new alerts and predictions without a reload.
//! Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{
    Driver, Screen, Step, appears, appears_at, click, flash, goto, screenshot, sign_in,
};
use nexus_server::testing::{Backend, TestServer};
use serde_json::json;

use crate::common::{asset_with_metric, ingest, now_ms};

/// Pushes one reading of the press's pressure, taken now.
async fn push(srv: &TestServer, token: &str, asset: i64, value: f64) {
    ingest(srv, token, &[(asset, "pressure", now_ms(), value)]).await;
}

async fn scenario(phone: &Client, srv: &TestServer, token: &str, asset: i64, pump: i64) -> Step {
    let base = &srv.base_url;
    // Signing in brings the technician back to the press's metrics.
    goto(phone, &format!("{base}/assets/{asset}/metrics?range=1h")).await?;
    sign_in(phone, "sam", "sam-password").await?;
    appears_at(
        phone,
        Locator::XPath("//section[@id='metric-pressure']//strong[@class='value' and .='5']"),
    )
    .await?;
    appears(phone, "#metric-pressure svg[data-samples='1']").await?;
    // The page listens before anything is pushed.
    appears(phone, "#live[data-state='on']").await?;

    push(srv, token, asset, 11.5).await;
    appears_at(
        phone,
        Locator::XPath("//section[@id='metric-pressure' and @data-state='critical']//strong[@class='value' and .='11.5']"),
    )
    .await?;
    appears(phone, "#metric-pressure svg[data-samples='2']").await?;
    appears(phone, "#metric-pressure rect.band-critical").await?;
    // The navigation counts the critical alert without a reload.
    appears(
        phone,
        "#sidebar [data-count-for='/alerts'].tone-critical:not([hidden])",
    )
    .await?;
    screenshot(phone, "/tmp/telemetry-metrics-phone.png").await?;

    // The badge leads to the alert, which is acknowledged there.
    click(phone, "#metric-pressure a.badge").await?;
    click(phone, "#alerts button[id^='ack-']").await?;
    flash(phone, "Acknowledged.").await?;
    appears_at(
        phone,
        Locator::XPath(
            "//ul[@id='alerts']//strong[contains(@class, 'status') and .='Acknowledged']",
        ),
    )
    .await?;
    screenshot(phone, "/tmp/telemetry-alerts-phone.png").await?;

    // The list follows along: back to normal, the alert is resolved and leaves the active
    // list; a new excursion opens a new alert; neither needs a reload.
    appears(phone, "#live[data-state='on']").await?;
    push(srv, token, asset, 5.0).await;
    appears(phone, "#alerts li.empty").await?;
    push(srv, token, asset, 9.0).await;
    appears(phone, "#alerts li.alert-card.level-warning").await?;

    // The risk ranking shows a prediction as soon as it is made.
    goto(phone, &format!("{base}/telemetry/risk")).await?;
    appears(phone, "#live[data-state='on']").await?;
    let res = srv
        .call(
            "POST",
            &format!("/api/v1/assets/{pump}/predict"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    appears(phone, &format!("#risk tr[data-asset='{pump}']")).await?;
    screenshot(phone, "/tmp/telemetry-risk-phone.png").await
}

async fn live_metrics_and_acknowledge(backend: Backend) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let Some(srv) = TestServer::start(backend).await else {
        return;
    };
    let admin = srv.admin_token().await;
    srv.create_user(&admin, "sam", "staff").await;
    let pressure = json!({"metric_name": "pressure", "unit": "bar",
        "warning_threshold": 8.0, "critical_threshold": 10.0});
    let asset = asset_with_metric(&srv, &admin, "Press 4", pressure).await;
    push(&srv, &admin, asset, 5.0).await;
    // A pump with twelve hours of rising temperature, not predicted yet.
    let temperature = json!({"metric_name": "temperature", "critical_threshold": 90.0});
    let pump = asset_with_metric(&srv, &admin, "Pump 2", temperature).await;
    let now = now_ms();
    let history: Vec<_> = (0..12)
        .map(|h| {
            (
                pump,
                "temperature",
                now - (12 - h) * 3_600_000,
                50.0 + h as f64,
            )
        })
        .collect();
    ingest(&srv, &admin, &history).await;

    let srv = driver
        .run(srv, &[("phone", Screen::Phone)], async |c, srv| {
            scenario(&c[0], srv, &admin, asset, pump).await
        })
        .await;
    let alerts = srv
        .get(&format!("/api/v1/alerts?asset_id={asset}"), &admin)
        .await;
    // Newest first: the warning opened last, then the acknowledged one, since resolved.
    let items = &alerts.json["items"];
    assert_eq!(
        (&items[0]["level"], &items[0]["status"]),
        (&json!("warning"), &json!("open"))
    );
    assert_eq!(items[1]["status"], "resolved", "{alerts:?}");
    assert!(items[1]["acknowledged_at"].is_string(), "{alerts:?}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_update_live_and_alert_is_acknowledged_sqlite() {
    live_metrics_and_acknowledge(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_update_live_and_alert_is_acknowledged_postgres() {
    live_metrics_and_acknowledge(Backend::Postgres).await;
}
