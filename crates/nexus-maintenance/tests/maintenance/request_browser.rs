//! Drives Debian's headless Chromium: someone without an account scans an asset's code
//! on a phone and reports a problem with a photo; a manager at a desk approves it into a
//! work order. Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{
    Screen, Step, appears, attach, check, click, fill, fits, goto, run_on_sqlite, screenshot,
    sign_in, text, value,
};
use nexus_server::testing::{ADMIN_PASSWORD, TestServer};
use serde_json::json;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn scenario(phone: &Client, desk: &Client, srv: &TestServer) -> Step {
    let base = &srv.base_url;
    let admin = srv.admin_token().await;
    let asset = srv
        .call(
            "POST",
            "/api/v1/assets",
            Some(&admin),
            Some(json!({"name": "Conveyor 3"})),
        )
        .await;
    let asset_id = asset.json["id"].as_i64().unwrap();
    let belt = json!({"name": "Drive belt", "parent_asset_id": asset_id});
    let belt = srv
        .call("POST", "/api/v1/assets", Some(&admin), Some(belt))
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let tensioner = json!({"name": "Belt tensioner", "parent_asset_id": belt});
    srv.call("POST", "/api/v1/assets", Some(&admin), Some(tensioner))
        .await;
    let qr = asset.json["qr_code"].as_str().unwrap().to_string();

    // The phone opens the code's address without signing in and gets the form.
    goto(phone, &format!("{base}/a/{qr}")).await?;
    let name = text(phone, "#asset-name").await?;
    check(name == "Conveyor 3", format!("asset on the form: {name}"))?;
    fits(phone).await?;

    // A missing title is refused next to its field; what was typed stays.
    fill(phone, "requester_name", "Pat from shift B").await?;
    click(phone, "#send").await?;
    let error = text(phone, "#title-error").await?;
    check(error == "is required", format!("title error: {error}"))?;
    check(
        value(phone, "#requester_name").await? == "Pat from shift B",
        "name kept after a refusal",
    )?;

    fill(phone, "title", "Belt slipping").await?;
    fill(phone, "description", "Stops every few minutes").await?;
    let photo = srv.data_dir.join("belt.png");
    std::fs::write(&photo, PNG).map_err(|e| e.to_string())?;
    attach(phone, "photo", &photo).await?;
    click(phone, "#send").await?;
    let sent = text(phone, "#sent").await?;
    check(sent.contains("request #1"), format!("confirmation: {sent}"))?;
    fits(phone).await?;
    screenshot(phone, "/tmp/request-phone.png").await?;

    // The manager signs in at the desk and approves it with a priority.
    goto(desk, &format!("{base}/maintenance/requests")).await?;
    sign_in(desk, "admin", ADMIN_PASSWORD).await?;
    let card = text(desk, "#request-1").await?;
    check(
        card.contains("Belt slipping")
            && card.contains("Conveyor 3")
            && card.contains("Pat from shift B"),
        format!("request card: {card}"),
    )?;
    appears(desk, "#request-1 img").await?;
    desk.find(Locator::Id("priority-1"))
        .await
        .map_err(|e| e.to_string())?
        .select_by_value("high")
        .await
        .map_err(|e| format!("choose a priority: {e}"))?;
    click(desk, "#request-1 form[action$='/approve'] button").await?;
    let flash = text(desk, ".flash").await?;
    check(
        flash == "Approved: the work order is open.",
        format!("flash: {flash}"),
    )?;
    screenshot(desk, "/tmp/requests-desk.png").await?;

    // The work order is open on the asset's page.
    goto(desk, &format!("{base}/maintenance/assets/{asset_id}")).await?;
    let open = text(desk, "#open-work-orders").await?;
    check(
        open.contains("Belt slipping") && open.contains("High"),
        format!("open work orders: {open}"),
    )?;
    screenshot(desk, "/tmp/asset-desk.png").await?;

    // Its components open on demand, below their machine.
    let components = text(desk, "#components").await?;
    check(
        components.contains("Drive belt") && !components.contains("Belt tensioner"),
        format!("direct components only: {components}"),
    )?;
    click(
        desk,
        &format!("button[aria-controls='asset-{belt}-components']"),
    )
    .await?;
    appears(desk, &format!("#asset-{belt}-components a")).await?;
    let opened = text(desk, &format!("#asset-{belt}-components")).await?;
    check(
        opened.contains("Belt tensioner"),
        format!("opened branch: {opened}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_from_a_phone_and_approve_at_a_desk_in_chromium() {
    let sessions = [("phone", Screen::Phone), ("desk", Screen::Desk)];
    run_on_sqlite(&sessions, async |c, srv| scenario(&c[0], &c[1], srv).await).await;
}
