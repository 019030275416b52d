//! Drives Debian's headless Chromium through the production pages in two sessions: a
//! phone records movements on the entry page while a desk browser watches the board
//! update without reloading. Skipped loudly without chromedriver unless
//! `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use nexus_server::testing::ADMIN_PASSWORD;
use nexus_server::testing::browser::{
    Screen, Step, appears, appears_at, check, click, eventually, fill, find, flash, goto,
    run_on_sqlite, screenshot, script, select, sign_in, text, value,
};

/// Opens `path`, which sends a visitor to the sign-in form, signs in as admin there and
/// waits to be brought back.
async fn open_as_admin(c: &Client, base: &str, path: &str, arrived: &str) -> Step {
    goto(c, &format!("{base}{path}")).await?;
    sign_in(c, "admin", ADMIN_PASSWORD).await?;
    appears(c, arrived).await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(url.path() == path, format!("expected {path}, got {url}"))
}

async fn scenario(phone: &Client, desk: &Client, base: &str) -> Step {
    open_as_admin(desk, base, "/production/board", "#board").await?;
    open_as_admin(phone, base, "/production/entry", "form.entry-form").await?;

    // The board listens before anything is recorded; a marker shows it never reloads.
    appears(desk, "#live[data-state='on']").await?;
    script(desk, "window.nexusNoReload = true; return null;").await?;

    // The scanner types the order number and Enter: focus moves on to the quantity.
    select(phone, "workcenter_id", "WC001 · Assembly").await?;
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
    let note = text(desk, ".flash").await?;
    check(note.starts_with("Reversed."), format!("flash: {note}"))?;
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
    select(desk, "department_id", "Production").await?;
    click(
        desk,
        "form[action='/admin/work-centers#new'] button.primary",
    )
    .await?;
    let note = text(desk, ".flash").await?;
    check(note == "Created.", format!("flash: {note}"))?;
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
    flash(desk, "Saved.").await?;
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
    let sessions = [("phone", Screen::Phone), ("desk", Screen::Desk)];
    run_on_sqlite(&sessions, async |c, srv| {
        scenario(&c[0], &c[1], &srv.base_url).await
    })
    .await;
}
