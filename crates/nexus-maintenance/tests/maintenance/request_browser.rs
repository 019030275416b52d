//! Drives Debian's headless Chromium: someone without an account scans an asset's code
//! on a phone and reports a problem with a photo; a manager at a desk approves it into a
//! work order. Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{Driver, PATIENCE, Screen};
use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};
use serde_json::json;

type Step<T = ()> = Result<T, String>;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn check(ok: bool, what: impl Into<String>) -> Step {
    if ok { Ok(()) } else { Err(what.into()) }
}

async fn appears(c: &Client, css: &str) -> Step<Element> {
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("waiting for {css}: {e}"))
}

async fn goto(c: &Client, url: &str) -> Step {
    c.goto(url).await.map_err(|e| format!("{url}: {e}"))
}

async fn fill(c: &Client, id: &str, value: &str) -> Step {
    let field = c
        .find(Locator::Id(id))
        .await
        .map_err(|e| format!("field #{id}: {e}"))?;
    field.clear().await.map_err(|e| e.to_string())?;
    field.send_keys(value).await.map_err(|e| e.to_string())
}

async fn click(c: &Client, css: &str) -> Step {
    c.find(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click {css}: {e}"))
}

async fn text(c: &Client, css: &str) -> Step<String> {
    appears(c, css)
        .await?
        .text()
        .await
        .map_err(|e| format!("text of {css}: {e}"))
}

async fn screenshot(c: &Client, path: &str) -> Step {
    let png = c.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(path, png).map_err(|e| format!("{path}: {e}"))
}

/// Nothing sticks out sideways: the page fits the phone's width.
async fn fits(c: &Client) -> Step {
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            Vec::new(),
        )
        .await
        .map_err(|e| e.to_string())?;
    check(wide == true, "the page is wider than the phone")
}

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
    let kept = phone
        .find(Locator::Id("requester_name"))
        .await
        .map_err(|e| e.to_string())?
        .prop("value")
        .await
        .map_err(|e| e.to_string())?;
    check(
        kept.as_deref() == Some("Pat from shift B"),
        "name kept after a refusal",
    )?;

    fill(phone, "title", "Belt slipping").await?;
    fill(phone, "description", "Stops every few minutes").await?;
    let photo = srv.data_dir.join("belt.png");
    std::fs::write(&photo, PNG).map_err(|e| e.to_string())?;
    phone
        .find(Locator::Id("photo"))
        .await
        .map_err(|e| e.to_string())?
        .send_keys(photo.to_str().unwrap())
        .await
        .map_err(|e| format!("attach the photo: {e}"))?;
    click(phone, "#send").await?;
    let sent = text(phone, "#sent").await?;
    check(sent.contains("request #1"), format!("confirmation: {sent}"))?;
    fits(phone).await?;
    screenshot(phone, "/tmp/request-phone.png").await?;

    // The manager signs in at the desk and approves it with a priority.
    goto(desk, &format!("{base}/maintenance/requests")).await?;
    appears(desk, "form[action='/login']").await?;
    fill(desk, "username", "admin").await?;
    fill(desk, "password", ADMIN_PASSWORD).await?;
    click(desk, "main form button.primary").await?;
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
        open.contains("Belt slipping") && open.contains("high"),
        format!("open work orders: {open}"),
    )?;
    screenshot(desk, "/tmp/asset-desk.png").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_from_a_phone_and_approve_at_a_desk_in_chromium() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    let phone = driver.browser("phone", Screen::Phone).await;
    let desk = driver.browser("desk", Screen::Desk).await;
    let outcome = scenario(&phone, &desk, &server).await;
    let _ = phone.close().await;
    let _ = desk.close().await;
    drop(driver);
    server.finish().await;
    if let Err(failure) = outcome {
        panic!("browser scenario failed: {failure}");
    }
}
