//! Drives Debian's headless Chromium through the production pages in two sessions: a
//! phone records movements on the entry page while a desk browser watches the board
//! update without reloading. Skipped loudly without chromedriver unless
//! `NEXUS_REQUIRE_BROWSER=1`.

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{Driver, PATIENCE, Screen};
use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};

type Step<T = ()> = Result<T, String>;

fn check(ok: bool, what: impl Into<String>) -> Step {
    if ok { Ok(()) } else { Err(what.into()) }
}

/// Waits for an element to appear (the page after a navigation), within `PATIENCE`.
async fn appears(c: &Client, css: &str) -> Step<Element> {
    appears_at(c, Locator::Css(css)).await
}

async fn appears_at(c: &Client, locator: Locator<'_>) -> Step<Element> {
    c.wait()
        .at_most(PATIENCE)
        .for_element(locator)
        .await
        .map_err(|e| format!("waiting for {locator:?}: {e}"))
}

async fn goto(c: &Client, url: &str) -> Step {
    c.goto(url).await.map_err(|e| format!("{url}: {e}"))
}

async fn find(c: &Client, css: &str) -> Step<Element> {
    c.find(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))
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
    find(c, css)
        .await?
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

async fn value(c: &Client, css: &str) -> Step<String> {
    let v = find(c, css)
        .await?
        .prop("value")
        .await
        .map_err(|e| e.to_string())?;
    Ok(v.unwrap_or_default())
}

async fn script(c: &Client, js: &str) -> Step<serde_json::Value> {
    c.execute(js, Vec::new())
        .await
        .map_err(|e| format!("script {js}: {e}"))
}

/// Waits until the element's text is `expected` (it changes in place), within `PATIENCE`.
async fn eventually(c: &Client, css: &str, expected: &str) -> Step {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = text(c, css).await?;
        if now == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{css} shows {now:?}, expected {expected:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(c: &Client, path: &str) -> Step {
    let png = c.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(path, png).map_err(|e| format!("{path}: {e}"))
}

/// Opens `path`, which sends a visitor to the sign-in form, signs in as admin there and
/// waits to be brought back.
async fn sign_in(c: &Client, base: &str, path: &str, arrived: &str) -> Step {
    goto(c, &format!("{base}{path}")).await?;
    appears(c, "form[action='/login']").await?;
    fill(c, "username", "admin").await?;
    fill(c, "password", ADMIN_PASSWORD).await?;
    click(c, "main form button.primary").await?;
    appears(c, arrived).await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(url.path() == path, format!("expected {path}, got {url}"))
}

async fn scenario(phone: &Client, desk: &Client, base: &str) -> Step {
    sign_in(desk, base, "/production/board", "#board").await?;
    sign_in(phone, base, "/production/entry", "form.entry-form").await?;

    // The board listens before anything is recorded; a marker shows it never reloads.
    appears(desk, "#live[data-state='on']").await?;
    script(desk, "window.nexusNoReload = true; return null;").await?;

    // The scanner types the order number and Enter: focus moves on to the quantity.
    let phone_wc = find(phone, "#workcenter_id").await?;
    phone_wc
        .select_by_label("WC001 · Assembly")
        .await
        .map_err(|e| format!("choose WC001: {e}"))?;
    let order = find(phone, "#production_order").await?;
    order
        .send_keys(&format!("PO-TEST-1{}", char::from(Key::Enter)))
        .await
        .map_err(|e| e.to_string())?;
    let focused = script(phone, "return document.activeElement.id;").await?;
    check(
        focused == "quantity",
        format!("Enter in the order field should focus the quantity, focused {focused}"),
    )?;
    check(
        find(phone, "#recorded").await.is_err(),
        "Enter alone must not record",
    )?;
    // Enter in the quantity records nothing either (WIP below would be 10): the
    // operator taps IN or OUT.
    fill(phone, "quantity", &format!("5{}", char::from(Key::Enter))).await?;
    click(phone, "button[value='IN']").await?;

    let wip = text(phone, "#recorded .wip").await?;
    check(wip == "5", format!("WIP after IN 5: {wip}"))?;
    let recorded = text(phone, "#recorded").await?;
    check(
        recorded.contains("PO-TEST-1") && recorded.contains("WC001") && recorded.contains("IN"),
        format!("success message: {recorded}"),
    )?;
    check(
        value(phone, "#production_order").await?.is_empty(),
        "order field cleared for the next scan",
    )?;
    let focused = script(phone, "return document.activeElement.id;").await?;
    check(
        focused == "production_order",
        format!("order field focused for the next scan, focused {focused}"),
    )?;
    let wc_id = value(phone, "#workcenter_id").await?;
    check(!wc_id.is_empty(), "work center still selected")?;
    screenshot(phone, "/tmp/entry.png").await?;

    // The board shows the movement without reloading, and its totals follow.
    let row = appears_at(
        desk,
        Locator::XPath("//table[@id='movements']//tr[td/strong[normalize-space()='PO-TEST-1']]"),
    )
    .await?;
    let row_text = row.text().await.map_err(|e| e.to_string())?;
    check(
        row_text.contains("WC001") && row_text.contains("IN") && row_text.contains('5'),
        format!("board row: {row_text}"),
    )?;
    let marker = script(desk, "return window.nexusNoReload === true;").await?;
    check(marker == true, "the board reloaded instead of updating")?;
    let total = text(desk, "#totals tr[data-code='WC001'] [data-k='in_quantity']").await?;
    check(
        total == "5",
        format!("WC001 IN total on the board: {total}"),
    )?;
    screenshot(desk, "/tmp/board.png").await?;

    // More out than is there: refused in plain words, next to the quantity, values kept.
    fill(phone, "production_order", "PO-TEST-1").await?;
    fill(phone, "quantity", "9").await?;
    click(phone, "button[value='OUT']").await?;
    let error = text(phone, "#quantity-error").await?;
    check(
        error.contains("only 5") && error.contains("cannot move 9 out"),
        format!("quantity error: {error}"),
    )?;
    let banner = text(phone, ".alert").await?;
    check(
        banner.contains("Nothing was recorded"),
        format!("banner: {banner}"),
    )?;
    check(
        value(phone, "#production_order").await? == "PO-TEST-1",
        "order kept after a refusal",
    )?;
    check(
        value(phone, "#quantity").await? == "9",
        "quantity kept after a refusal",
    )?;
    screenshot(phone, "/tmp/entry-error.png").await?;

    // The device remembers its work center.
    goto(phone, &format!("{base}/production/entry")).await?;
    appears(phone, "form.entry-form").await?;
    check(
        value(phone, "#workcenter_id").await? == wc_id,
        "work center remembered on a fresh page",
    )?;

    // Reports: the chart has bars and the totals list WC001.
    for (c, shot) in [
        (desk, "/tmp/reports.png"),
        (phone, "/tmp/reports-phone.png"),
    ] {
        goto(c, &format!("{base}/production/reports")).await?;
        appears(c, "figure.chart svg rect.bar-in").await?;
        let page = text(c, "main").await?;
        check(
            page.contains("WC001") && page.contains("PO-TEST-1"),
            format!("reports page: {page}"),
        )?;
        let csv = find(c, ".downloads a")
            .await?
            .attr("href")
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        check(
            csv.starts_with("/api/v1/reports/production/daily?format=csv&from="),
            format!("CSV link: {csv}"),
        )?;
        screenshot(c, shot).await?;
    }
    // The CSV link works with the session cookie alone.
    let csv = find(desk, ".downloads a")
        .await?
        .attr("href")
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let body = desk
        .execute_async(
            "const [href, done] = arguments; fetch(href).then((r) => r.text()).then(done);",
            vec![serde_json::json!(csv)],
        )
        .await
        .map_err(|e| format!("fetch {csv}: {e}"))?;
    let body = body.as_str().unwrap_or_default();
    check(
        body.starts_with("day,workcenter_code,order_type") && body.contains("WC001,IN,1,5"),
        format!("daily CSV: {body}"),
    )?;
    // A backwards range is refused next to its field.
    goto(
        desk,
        &format!("{base}/production/reports?from=2026-02-10&to=2026-02-01"),
    )
    .await?;
    let error = text(desk, "#to-error").await?;
    check(error.contains("before"), format!("range error: {error}"))?;
    check(
        value(desk, "#from").await? == "2026-02-10",
        "range kept after a refusal",
    )?;

    // A reversal from the desk reaches the board open on the phone: its row appears and
    // the totals are counted again.
    goto(phone, &format!("{base}/production/board")).await?;
    appears(phone, "#live[data-state='on']").await?;
    goto(desk, &format!("{base}/production/board")).await?;
    click(desk, "#movements button[data-confirm]").await?;
    desk.accept_alert()
        .await
        .map_err(|e| format!("confirm the reversal: {e}"))?;
    let flash = text(desk, ".flash").await?;
    check(flash.starts_with("Reversed."), format!("flash: {flash}"))?;
    appears_at(
        phone,
        Locator::XPath(
            "//table[@id='movements']//span[starts-with(normalize-space(), 'reversal of #')]",
        ),
    )
    .await?;
    eventually(
        phone,
        "#totals tr[data-code='WC001'] [data-k='in_quantity']",
        "0",
    )
    .await?;
    screenshot(phone, "/tmp/board-phone.png").await?;

    // Work centers: a blank name is refused next to its field; then the new one is listed.
    goto(desk, &format!("{base}/admin/work-centers")).await?;
    fill(desk, "code", "wc009").await?;
    click(
        desk,
        "form[action='/admin/work-centers#new'] button.primary",
    )
    .await?;
    let error = text(desk, "#name-error").await?;
    check(!error.is_empty(), "name error shown")?;
    check(value(desk, "#code").await? == "wc009", "code kept")?;
    fill(desk, "name", "Packing").await?;
    find(desk, "#department_id")
        .await?
        .select_by_label("Production")
        .await
        .map_err(|e| format!("choose a department: {e}"))?;
    click(
        desk,
        "form[action='/admin/work-centers#new'] button.primary",
    )
    .await?;
    let flash = text(desk, ".flash").await?;
    check(flash == "Created.", format!("flash: {flash}"))?;
    let cards = text(desk, "ul.cards").await?;
    check(
        cards.contains("WC009 Packing") && cards.contains("Production"),
        format!("work centers: {cards}"),
    )?;
    screenshot(desk, "/tmp/work-centers.png").await?;

    // Edited in its row (sent with the version it showed): renamed and made inactive.
    let card = appears_at(
        desk,
        Locator::XPath("//li[contains(@class, 'card')][.//span[@class='code' and text()='WC009']]"),
    )
    .await?;
    let within = |css: &'static str| {
        let card = card.clone();
        async move {
            card.find(Locator::Css(css))
                .await
                .map_err(|e| format!("{css} in the WC009 card: {e}"))
        }
    };
    within("summary")
        .await?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let name = within("input[name='name']").await?;
    name.clear().await.map_err(|e| e.to_string())?;
    name.send_keys("Packing line")
        .await
        .map_err(|e| e.to_string())?;
    within("input[name='is_active']")
        .await?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    within("button.primary")
        .await?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    // The page before already had a flash ("Created."): wait for the new one.
    appears_at(
        desk,
        Locator::XPath("//p[@class='flash' and normalize-space()='Saved.']"),
    )
    .await?;
    let card = text(desk, "li.card:target").await?;
    check(
        card.contains("WC009 Packing line") && card.contains("inactive"),
        format!("edited card: {card}"),
    )?;
    goto(desk, &format!("{base}/production/entry")).await?;
    let choices = text(desk, "#workcenter_id").await?;
    check(
        choices.contains("WC001") && !choices.contains("WC009"),
        format!("an inactive work center is not offered: {choices}"),
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_on_a_phone_and_watch_the_board_in_chromium() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    let phone = driver.browser("phone", Screen::Phone).await;
    let desk = driver.browser("desk", Screen::Desk).await;
    let outcome = scenario(&phone, &desk, &server.base_url).await;
    let _ = phone.close().await;
    let _ = desk.close().await;
    drop(driver);
    server.finish().await;
    if let Err(failure) = outcome {
        panic!("browser scenario failed: {failure}");
    }
}
