//! Drives Debian's headless Chromium on a phone-sized screen: a technician opens a
//! press's metrics, readings pushed through the API show up on the page without a reload
//! (value, state and chart), and they acknowledge the alert the readings raised.
//! Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{Driver, PATIENCE, Screen};
use nexus_server::testing::{Backend, TestServer};
use serde_json::json;

type Step<T = ()> = Result<T, String>;

async fn appears(c: &Client, css: &str) -> Step<Element> {
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("waiting for {css}: {e}"))
}

async fn appears_xpath(c: &Client, xpath: &str) -> Step<Element> {
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(xpath))
        .await
        .map_err(|e| format!("waiting for {xpath}: {e}"))
}

async fn fill(c: &Client, id: &str, value: &str) -> Step {
    let field = appears(c, &format!("#{id}")).await?;
    field.clear().await.map_err(|e| e.to_string())?;
    field.send_keys(value).await.map_err(|e| e.to_string())
}

async fn click(c: &Client, css: &str) -> Step {
    appears(c, css)
        .await?
        .click()
        .await
        .map_err(|e| format!("click {css}: {e}"))
}

/// Pushes one reading of the press's pressure, taken now.
async fn push(srv: &TestServer, token: &str, asset: i64, value: f64) {
    let ts = chrono::Utc::now().timestamp_millis();
    let res = srv
        .call(
            "POST",
            "/api/v1/telemetry",
            Some(token),
            Some(json!({"points": [{"asset_id": asset, "metric": "pressure", "ts": ts, "value": value}]})),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
}

async fn scenario(phone: &Client, srv: &TestServer, token: &str, asset: i64) -> Step {
    let base = &srv.base_url;
    // Signing in brings the technician back to the press's metrics.
    phone
        .goto(&format!("{base}/assets/{asset}/metrics?range=1h"))
        .await
        .map_err(|e| e.to_string())?;
    appears(phone, "form[action='/login']").await?;
    fill(phone, "username", "sam").await?;
    fill(phone, "password", "sam-password").await?;
    click(phone, "main form button.primary").await?;
    appears_xpath(
        phone,
        "//section[@id='metric-pressure']//strong[@class='value' and .='5']",
    )
    .await?;
    appears(phone, "#metric-pressure svg[data-samples='1']").await?;
    // The page listens before anything is pushed.
    appears(phone, "#live[data-state='on']").await?;

    push(srv, token, asset, 11.5).await;
    appears_xpath(
        phone,
        "//section[@id='metric-pressure' and @data-state='critical']//strong[@class='value' and .='11.5']",
    )
    .await?;
    appears(phone, "#metric-pressure svg[data-samples='2']").await?;
    appears(phone, "#metric-pressure rect.band-critical").await?;
    screenshot(phone, "/tmp/telemetry-metrics-phone.png").await?;

    // The badge leads to the alert, which is acknowledged there.
    click(phone, "#metric-pressure a.badge").await?;
    click(phone, "#alerts button[id^='ack-']").await?;
    appears_xpath(
        phone,
        "//p[@class='flash' and normalize-space()='Acknowledged.']",
    )
    .await?;
    appears_xpath(
        phone,
        "//ul[@id='alerts']//strong[contains(@class, 'status') and .='acknowledged']",
    )
    .await?;
    screenshot(phone, "/tmp/telemetry-alerts-phone.png").await
}

async fn screenshot(c: &Client, path: &str) -> Step {
    let png = c.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(path, png).map_err(|e| format!("{path}: {e}"))
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
    let press = srv
        .call(
            "POST",
            "/api/v1/assets",
            Some(&admin),
            Some(json!({"name": "Press 4"})),
        )
        .await;
    let asset = press.json["id"].as_i64().unwrap();
    let metric = srv
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/metrics"),
            Some(&admin),
            Some(json!({"metric_name": "pressure", "unit": "bar", "warning_threshold": 8.0, "critical_threshold": 10.0})),
        )
        .await;
    assert_eq!(metric.status, 201, "{:?}", metric.json);
    push(&srv, &admin, asset, 5.0).await;

    let phone = driver.browser("phone", Screen::Phone).await;
    let outcome = scenario(&phone, &srv, &admin, asset).await;
    let _ = phone.close().await;
    drop(driver);
    if let Err(e) = outcome {
        srv.finish().await;
        panic!("{e}");
    }
    let alerts = srv
        .call(
            "GET",
            &format!("/api/v1/alerts?asset_id={asset}"),
            Some(&admin),
            None,
        )
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
