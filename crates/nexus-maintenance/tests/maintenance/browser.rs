//! Drives Debian's headless Chromium on a phone-sized screen: a technician signs in, finds
//! the work order assigned to them, starts it and its labor timer, answers its checklist
//! (a reading out of limits is kept and the step marked failed), adds a photo from the camera
//! input, comments and completes it.
//! Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use fantoccini::{Client, Locator};
use nexus_server::testing::browser::{
    Driver, Screen, Step, appears, appears_at, attach, check, click, fill, find, fits, flash, goto,
    screenshot, sign_in, text,
};
use nexus_server::testing::{Backend, TestServer};
use serde_json::json;

use crate::common::photo_png;

/// Waits until the thumbnail `css` has loaded; its width as drawn, 0 when the image is
/// broken.
async fn thumbnail(c: &Client, css: &str) -> Step<f64> {
    appears(c, css).await?;
    let script = "const [css, done] = arguments; const img = document.querySelector(css); \
        const drawn = () => done(img.naturalWidth > 0 ? img.getBoundingClientRect().width : 0); \
        if (img.complete) { drawn(); } else { img.onload = drawn; img.onerror = drawn; }";
    c.execute_async(script, vec![json!(css)])
        .await
        .map_err(|e| format!("thumbnail {css}: {e}"))?
        .as_f64()
        .ok_or_else(|| format!("thumbnail {css}: no width"))
}

async fn scenario(phone: &Client, base: &str, wo: i64, steps: &[i64], photo: &str) -> Step {
    // Signing in brings the technician back to their own work orders.
    goto(
        phone,
        &format!("{base}/maintenance/work-orders?assigned=me"),
    )
    .await?;
    sign_in(phone, "tina", "tina-password").await?;
    let list = text(phone, "#work-orders").await?;
    check(
        list.contains("WO-000001")
            && list.contains("Monthly pump check")
            && !list.contains("Someone else's job"),
        format!("my work orders: {list}"),
    )?;
    click(phone, &format!("a[href='/maintenance/work-orders/{wo}']")).await?;
    appears(phone, "#checklist").await?;

    click(phone, "#to-in_progress").await?;
    flash(phone, "Status changed.").await?;
    check(
        text(phone, "#wo-status").await? == "In progress",
        "status after start",
    )?;
    click(phone, "#timer-start").await?;
    flash(phone, "Timer started.").await?;
    appears(phone, "#timer-stop").await?;

    // Completing too early names the steps still to do.
    click(phone, "#to-completed").await?;
    let alert = text(phone, ".alert").await?;
    check(
        alert.contains("1. Guard in place") && alert.contains("2. Discharge pressure"),
        format!("early completion: {alert}"),
    )?;

    // Each answer reloads the page with the step marked done.
    click(phone, &format!("#step-{} button.primary", steps[0])).await?;
    appears(phone, &format!("#step-{}.done", steps[0])).await?;
    // A reading outside the limits is kept, and the step says it failed.
    fill(phone, &format!("number-{}", steps[1]), "7.2").await?;
    click(phone, &format!("#step-{} button.primary", steps[1])).await?;
    appears(phone, &format!("#step-{}.done .fail", steps[1])).await?;
    fill(phone, &format!("number-{}", steps[1]), "4,5").await?;
    click(phone, &format!("#step-{} button.primary", steps[1])).await?;
    // The step was done already (out of limits): wait for the page with the new reading.
    let answered = format!(
        "//li[@id='step-{}' and contains(@class, 'done')]//p[contains(., '4.5')]",
        steps[1]
    );
    appears_at(phone, Locator::XPath(&answered)).await?;
    check(
        text(phone, &format!("#step-{}", steps[1]))
            .await?
            .contains("✓ 4.5 bar"),
        "reading shown as done",
    )?;
    click(phone, &format!("#step-{} button[value='pass']", steps[2])).await?;
    appears(phone, &format!("#step-{}.done", steps[2])).await?;
    check(
        text(phone, "#checklist h2").await?.contains("3 of 3 done"),
        "all steps done",
    )?;

    // A photo from the camera input shows as a thumbnail, sized for the phone.
    attach(phone, "file", photo).await?;
    click(phone, "#add-photo").await?;
    flash(phone, "Photo added.").await?;
    let width = thumbnail(phone, "#attachments .wo-thumb img").await?;
    check(
        width > 40.0 && width < 200.0,
        format!("thumbnail width {width}"),
    )?;
    fits(phone).await?;

    fill(phone, "content", "Impeller worn, order a spare.").await?;
    click(phone, "#comments button").await?;
    flash(phone, "Comment added.").await?;
    check(
        text(phone, "#comments").await?.contains("Impeller worn"),
        "comment listed",
    )?;
    screenshot(phone, "/tmp/work-order-phone.png").await?;

    click(phone, "#to-completed").await?;
    flash(phone, "Status changed.").await?;
    check(
        text(phone, "#wo-status").await? == "Completed",
        "status after completing",
    )?;
    // Completion stopped the timer; a closed work order offers no more changes.
    let labor = text(phone, "#labor").await?;
    check(
        !labor.contains("running") && labor.contains("tina"),
        format!("labor after completing: {labor}"),
    )?;
    check(
        find(phone, "#timer-start").await.is_err() && find(phone, ".wo-answer-form").await.is_err(),
        "closed work order still offers changes",
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technician_completes_a_work_order_with_a_checklist_on_a_phone() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let srv = TestServer::start(Backend::Sqlite).await.expect("server");
    let admin = srv.admin_token().await;
    let tina = srv.create_user(&admin, "tina", "staff").await;
    let pump = srv
        .create("/api/v1/assets", &admin, json!({"name": "Cooling pump"}))
        .await;
    let created = srv
        .call(
            "POST",
            "/api/v1/work-orders",
            Some(&admin),
            Some(json!({
                "title": "Monthly pump check", "type": "preventive", "assigned_to_id": tina,
                "asset_id": pump,
                "checklist": [
                    {"task": "Guard in place", "required": true},
                    {"task": "Discharge pressure", "kind": "number", "min_value": 1.5, "max_value": 6, "unit": "bar", "required": true},
                    {"task": "Seal tight", "kind": "pass_fail", "create_follow_up": true}
                ]
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let other = srv
        .call(
            "POST",
            "/api/v1/work-orders",
            Some(&admin),
            Some(json!({"title": "Someone else's job"})),
        )
        .await;
    assert_eq!(other.status, 201);
    let wo = created.json["id"].as_i64().unwrap();
    let steps: Vec<i64> = created.json["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();

    let photo = srv.data_dir.join("pump.png");
    std::fs::write(&photo, photo_png()).expect("photo file");

    let photo = photo.to_str().unwrap();
    let srv = driver
        .run(srv, &[("phone", Screen::Phone)], async |c, srv| {
            scenario(&c[0], &srv.base_url, wo, &steps, photo).await
        })
        .await;
    let done = srv.get(&format!("/api/v1/work-orders/{wo}"), &admin).await;
    assert_eq!(done.json["status"], "completed");
    assert_eq!(done.json["checklist"][1]["number_value"], 4.5);
    let photos = srv
        .get(&format!("/api/v1/attachments/work_order/{wo}"), &admin)
        .await;
    assert_eq!(photos.json["items"][0]["file"]["filename"], "pump.png");
    srv.finish().await;
}
