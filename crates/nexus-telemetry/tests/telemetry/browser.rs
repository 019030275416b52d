//! Drives Debian's headless Chromium on a phone-sized screen: a technician opens a
//! press's metrics, readings pushed through the API show up on the page without a reload
//! (value, state and chart), and they acknowledge the alert the readings raised.
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

async fn scenario(phone: &Client, srv: &TestServer, token: &str, asset: i64) -> Step {
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
    screenshot(phone, "/tmp/telemetry-metrics-phone.png").await?;

    // The badge leads to the alert, which is acknowledged there.
    click(phone, "#metric-pressure a.badge").await?;
    click(phone, "#alerts button[id^='ack-']").await?;
    flash(phone, "Acknowledged.").await?;
    appears_at(
        phone,
        Locator::XPath(
            "//ul[@id='alerts']//strong[contains(@class, 'status') and .='acknowledged']",
        ),
    )
    .await?;
    screenshot(phone, "/tmp/telemetry-alerts-phone.png").await
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

    let srv = driver
        .run(srv, &[("phone", Screen::Phone)], async |c, srv| {
            scenario(&c[0], srv, &admin, asset).await
        })
        .await;
    let alerts = srv
        .get(&format!("/api/v1/alerts?asset_id={asset}"), &admin)
        .await;
    assert_eq!(alerts.json["items"][0]["status"], "acknowledged");
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
