//! Drives Debian's headless Chromium through the identity pages at phone size: sign in
//! through the real form, create a user (refused once for a short password), and find
//! them in the list. Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use std::path::Path;

use fantoccini::{Client, Locator};
use nexus_server::testing::ADMIN_PASSWORD;
use nexus_server::testing::browser::{
    Screen, Step, appears, appears_at, check, click, fill, goto, run_on_sqlite, screenshot, select,
    sign_in, text, value,
};

async fn scenario(c: &Client, base: &str, shot: &Path) -> Step {
    // Signed out: any page leads to the sign-in form, which brings you back afterwards.
    goto(c, &format!("{base}/")).await?;
    appears(c, "form[action='/login']").await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(
        url.path() == "/login",
        format!("expected /login, got {url}"),
    )?;

    sign_in(c, "admin", ADMIN_PASSWORD).await?;
    // Wait for what only the next page has: the old page's elements go stale.
    appears_at(
        c,
        Locator::XPath("//h1[starts-with(normalize-space(), 'Welcome')]"),
    )
    .await?;
    let url = c.current_url().await.map_err(|e| e.to_string())?;
    check(url.path() == "/", format!("expected home, got {url}"))?;

    // A password that is too short is refused next to its field; the rest is kept.
    goto(c, &format!("{base}/admin/users/new")).await?;
    appears(c, "form[action='/admin/users']").await?;
    fill(c, "username", "jdoe").await?;
    fill(c, "password", "short").await?;
    fill(c, "first_name", "Jane").await?;
    fill(c, "last_name", "Doe").await?;
    fill(c, "email", "jane.doe@example.com").await?;
    select(c, "department_id", "Production").await?;
    select(c, "role", "staff").await?;
    click(c, "main form button.primary").await?;
    let error = text(c, "#password-error").await?;
    check(
        error.contains("at least 10 characters"),
        format!("password field error: {error}"),
    )?;
    let kept = value(c, "#username").await?;
    check(kept == "jdoe", format!("username kept: {kept:?}"))?;

    // Fixed, the user is created and shows up in the list.
    fill(c, "password", "a-long-enough-password").await?;
    click(c, "main form button.primary").await?;
    appears_at(c, Locator::XPath("//table//a[normalize-space()='jdoe']")).await?;
    let flash = text(c, ".flash").await?;
    check(flash == "Created.", format!("flash: {flash}"))?;
    let table = text(c, "table").await?;
    check(table.contains("Jane Doe"), format!("user list: {table}"))?;

    screenshot(c, shot).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_create_a_user_in_chromium() {
    let shot = Path::new("/tmp/users.png");
    run_on_sqlite(&[("admin", Screen::Phone)], async |c, srv| {
        scenario(&c[0], &srv.base_url, shot).await
    })
    .await;
}
