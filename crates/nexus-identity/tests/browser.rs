//! Drives Debian's headless Chromium through the identity pages at phone size: sign in
//! through the real form, create a user (refused once for a short password), and find
//! them in the list. Skipped loudly without chromedriver unless `NEXUS_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long any one page state may take to appear.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running chromedriver; dropping it kills the driver and removes the browser profile,
/// also when the test fails. The browser itself is ended by closing the session, which
/// the test does whatever the outcome of its steps.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let profile =
            std::env::temp_dir().join(format!("nexus-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Self {
            child,
            port,
            profile,
        };
        driver.wait_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/status` until the driver says it is ready, within `PATIENCE`.
    async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = match http.get(format!("{}/status", self.url())).send().await {
                Ok(res) => res
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn browser(&self) -> Client {
        let options = serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", self.profile.display()),
                "--window-size=390,844",
            ],
            // Desktop Chromium keeps windows at least 500px wide; emulate the phone's
            // viewport so the layout is really tried at 390px.
            "mobileEmulation": {
                "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 1.0, "touch": true },
            },
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url())
            .await
            .expect("browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

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
    if !Path::new(CHROMEDRIVER).exists() {
        if std::env::var("NEXUS_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("NEXUS_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing");
        }
        eprintln!("SKIPPED: browser test needs {CHROMEDRIVER} (apt install chromium-driver)");
        return;
    }
    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    let driver = Driver::start().await;
    let client = driver.browser().await;
    let outcome = scenario(&client, &server.base_url, Path::new("/tmp/users.png")).await;
    let _ = client.close().await;
    drop(driver);
    server.finish().await;
    if let Err(failure) = outcome {
        panic!("browser scenario failed: {failure}");
    }
}
