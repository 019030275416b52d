//! Drives Debian's headless Chromium through the identity pages at phone size: sign in
//! through the real form, create a user (refused once for a short password), and find
//! them in the list. Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use std::path::Path;

use fantoccini::elements::Element;
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

async fn fill(c: &Client, id: &str, value: &str) -> Step {
    let field = c
        .find(Locator::Id(id))
        .await
        .map_err(|e| format!("field #{id}: {e}"))?;
    field.clear().await.map_err(|e| e.to_string())?;
    field.send_keys(value).await.map_err(|e| e.to_string())
}

async fn select(c: &Client, id: &str, label: &str) -> Step {
    c.find(Locator::Id(id))
        .await
        .map_err(|e| format!("select #{id}: {e}"))?
        .select_by_label(label)
        .await
        .map_err(|e| format!("option {label} of #{id}: {e}"))
}

async fn submit(c: &Client) -> Step {
    c.find(Locator::Css("main form button.primary"))
        .await
        .map_err(|e| format!("submit button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())
}

async fn text(c: &Client, css: &str) -> Step<String> {
    appears(c, css)
        .await?
        .text()
        .await
        .map_err(|e| e.to_string())
}

async fn scenario(c: &Client, base: &str, screenshot: &Path) -> Step {
    // Signed out: any page leads to the sign-in form, which brings you back afterwards.
    c.goto(&format!("{base}/"))
        .await
        .map_err(|e| e.to_string())?;
    appears(c, "form[action='/login']").await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(
        url.path() == "/login",
        format!("expected /login, got {url}"),
    )?;

    fill(c, "username", "admin").await?;
    fill(c, "password", ADMIN_PASSWORD).await?;
    submit(c).await?;
    // Wait for what only the next page has: the old page's elements go stale.
    appears_at(
        c,
        Locator::XPath("//h1[starts-with(normalize-space(), 'Welcome')]"),
    )
    .await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(url.path() == "/", format!("expected home, got {url}"))?;

    // A password that is too short is refused next to its field; the rest is kept.
    c.goto(&format!("{base}/admin/users/new"))
        .await
        .map_err(|e| e.to_string())?;
    appears(c, "form[action='/admin/users']").await?;
    fill(c, "username", "jdoe").await?;
    fill(c, "password", "short").await?;
    fill(c, "first_name", "Jane").await?;
    fill(c, "last_name", "Doe").await?;
    fill(c, "email", "jane.doe@example.com").await?;
    select(c, "department_id", "Production").await?;
    select(c, "role", "staff").await?;
    submit(c).await?;
    let error = text(c, "#password-error").await?;
    check(
        error.contains("at least 10 characters"),
        format!("password field error: {error}"),
    )?;
    let kept = c
        .find(Locator::Id("username"))
        .await
        .map_err(|e| e.to_string())?
        .prop("value")
        .await
        .map_err(|e| e.to_string())?;
    check(
        kept.as_deref() == Some("jdoe"),
        format!("username kept: {kept:?}"),
    )?;

    // Fixed, the user is created and shows up in the list.
    fill(c, "password", "a-long-enough-password").await?;
    submit(c).await?;
    appears_at(c, Locator::XPath("//table//a[normalize-space()='jdoe']")).await?;
    let flash = text(c, ".flash").await?;
    check(flash == "Created.", format!("flash: {flash}"))?;
    let table = text(c, "table").await?;
    check(table.contains("Jane Doe"), format!("user list: {table}"))?;

    let png = c.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(screenshot, png).map_err(|e| e.to_string())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_create_a_user_in_chromium() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    let client = driver.browser("admin", Screen::Phone).await;
    let outcome = scenario(&client, &server.base_url, Path::new("/tmp/users.png")).await;
    let _ = client.close().await;
    drop(driver);
    server.finish().await;
    if let Err(failure) = outcome {
        panic!("browser scenario failed: {failure}");
    }
}
