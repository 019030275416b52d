//! Browser tests: a chromedriver of the test's own and Debian's headless Chromium
//! sessions at phone or desk size, and the steps scenarios are written in. Skipped loudly
//! when chromedriver is missing, unless `NEXUS_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::{Backend, TestServer};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long any one page state may take to appear.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A running chromedriver; dropping it kills the driver and removes the browser
/// profiles, also when the test fails. The browsers themselves are ended by closing
/// their sessions, which the test does whatever the outcome of its steps.
pub struct Driver {
    child: Child,
    port: u16,
    profiles: PathBuf,
}

/// The size a browser session is tried at.
#[derive(Debug, Clone, Copy)]
pub enum Screen {
    /// 390×844 with touch, emulated: desktop Chromium keeps windows at least 500px wide.
    Phone,
    /// A 1440×900 window.
    Desk,
}

impl Driver {
    /// Starts chromedriver; `None` (said loudly) when it is not installed and not required.
    pub async fn start() -> Option<Self> {
        if !Path::new(CHROMEDRIVER).exists() {
            if std::env::var("NEXUS_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("NEXUS_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing");
            }
            eprintln!("SKIPPED: browser test needs {CHROMEDRIVER} (apt install chromium-driver)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let profiles =
            std::env::temp_dir().join(format!("nexus-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profiles).expect("profile dir");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Self {
            child,
            port,
            profiles,
        };
        driver.wait_ready().await;
        Some(driver)
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

    /// A browser session with its own profile (Chromium locks a profile to one browser).
    pub async fn browser(&self, name: &str, screen: Screen) -> Client {
        let profile = self.profiles.join(name);
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = serde_json::json!({ "binary": CHROMIUM });
        match screen {
            Screen::Phone => {
                args.push("--window-size=390,844".into());
                options["mobileEmulation"] = serde_json::json!({
                    "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 1.0, "touch": true },
                });
            }
            Screen::Desk => args.push("--window-size=1440,900".into()),
        }
        options["args"] = serde_json::json!(args);
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        // Keeps what pages write to the console (and failed loads) for `console_errors`.
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "browser": "ALL" }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url())
            .await
            .expect("browser session")
    }
}

impl Driver {
    /// Opens one browser session per (name, screen), runs `scenario` in them against
    /// `server`, then closes them and stops chromedriver. A failed scenario stops the
    /// server and fails the test; else the server is handed back.
    pub async fn run(
        self,
        server: TestServer,
        sessions: &[(&str, Screen)],
        scenario: impl AsyncFnOnce(&[Client], &TestServer) -> Step,
    ) -> TestServer {
        let mut clients = Vec::new();
        for (name, screen) in sessions {
            clients.push(self.browser(name, *screen).await);
        }
        let outcome = scenario(&clients, &server).await;
        for client in clients {
            let _ = client.close().await;
        }
        drop(self);
        if let Err(failure) = outcome {
            server.finish().await;
            panic!("browser scenario failed: {failure}");
        }
        server
    }
}

/// A browser test on SQLite: runs `scenario` in the `sessions` as `Driver::run` does, then
/// stops the server; skipped like `Driver::start`.
pub async fn run_on_sqlite(
    sessions: &[(&str, Screen)],
    scenario: impl AsyncFnOnce(&[Client], &TestServer) -> Step,
) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    driver.run(server, sessions, scenario).await.finish().await;
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profiles);
    }
}

/// What a browser step gives, or what went wrong, in words for the test's panic.
pub type Step<T = ()> = Result<T, String>;

/// `Ok` when `ok`, else the failure `what`.
pub fn check(ok: bool, what: impl Into<String>) -> Step {
    if ok { Ok(()) } else { Err(what.into()) }
}

/// Waits for an element matching `css` to appear, within `PATIENCE`.
pub async fn appears(c: &Client, css: &str) -> Step<Element> {
    appears_at(c, Locator::Css(css)).await
}

/// Waits for an element at `locator` to appear (the page after a navigation), within
/// `PATIENCE`.
pub async fn appears_at(c: &Client, locator: Locator<'_>) -> Step<Element> {
    c.wait()
        .at_most(PATIENCE)
        .for_element(locator)
        .await
        .map_err(|e| format!("waiting for {locator:?}: {e}"))
}

/// Waits for the flash message `expected` that a redirect after a form brings.
pub async fn flash(c: &Client, expected: &str) -> Step {
    let xpath = format!("//p[@class='flash' and normalize-space()='{expected}']");
    appears_at(c, Locator::XPath(&xpath)).await.map(|_| ())
}

/// Opens `url`.
pub async fn goto(c: &Client, url: &str) -> Step {
    c.goto(url).await.map_err(|e| format!("{url}: {e}"))
}

/// The element matching `css` as the page is now, without waiting.
pub async fn find(c: &Client, css: &str) -> Step<Element> {
    c.find(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))
}

/// Waits for the field with id `id` and replaces what it holds with `value`.
pub async fn fill(c: &Client, id: &str, value: &str) -> Step {
    let field = appears_at(c, Locator::Id(id)).await?;
    field.clear().await.map_err(|e| e.to_string())?;
    field.send_keys(value).await.map_err(|e| e.to_string())
}

/// Chooses the option labelled `label` of the select with id `id`.
pub async fn select(c: &Client, id: &str, label: &str) -> Step {
    c.find(Locator::Id(id))
        .await
        .map_err(|e| format!("select #{id}: {e}"))?
        .select_by_label(label)
        .await
        .map_err(|e| format!("option {label} of #{id}: {e}"))
}

/// Chooses the file at `path` in the file input with id `id`.
pub async fn attach(c: &Client, id: &str, path: impl AsRef<Path>) -> Step {
    let path = path.as_ref();
    c.find(Locator::Id(id))
        .await
        .map_err(|e| format!("file input #{id}: {e}"))?
        .send_keys(&path.display().to_string())
        .await
        .map_err(|e| format!("choose {} in #{id}: {e}", path.display()))
}

/// Waits for the element matching `css` and clicks it.
pub async fn click(c: &Client, css: &str) -> Step {
    appears(c, css)
        .await?
        .click()
        .await
        .map_err(|e| format!("click {css}: {e}"))
}

/// Waits for the element matching `css`; its text.
pub async fn text(c: &Client, css: &str) -> Step<String> {
    appears(c, css)
        .await?
        .text()
        .await
        .map_err(|e| format!("text of {css}: {e}"))
}

/// The `value` of the element matching `css` as the page is now ("" when it has none).
pub async fn value(c: &Client, css: &str) -> Step<String> {
    let v = find(c, css)
        .await?
        .prop("value")
        .await
        .map_err(|e| e.to_string())?;
    Ok(v.unwrap_or_default())
}

/// Runs the script `js` in the page; what it returns.
pub async fn script(c: &Client, js: &str) -> Step<serde_json::Value> {
    c.execute(js, Vec::new())
        .await
        .map_err(|e| format!("script {js}: {e}"))
}

/// Waits until the element's text is `expected` (it changes in place), within `PATIENCE`.
pub async fn eventually(c: &Client, css: &str, expected: &str) -> Step {
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

/// Saves what the browser shows as a PNG at `path`.
pub async fn screenshot(c: &Client, path: impl AsRef<Path>) -> Step {
    let path = path.as_ref();
    let png = c.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
}

/// Nothing sticks out sideways: the page fits the screen's width. Measured against the
/// layout viewport (`clientWidth`): an emulated phone widens `innerWidth` to the content.
pub async fn fits(c: &Client) -> Step {
    let narrow = script(
        c,
        "const root = document.documentElement; return root.scrollWidth <= root.clientWidth;",
    )
    .await?;
    check(narrow == true, "the page is wider than the phone")
}

/// Waits for the sign-in form, fills in `username` and `password` and sends it.
pub async fn sign_in(c: &Client, username: &str, password: &str) -> Step {
    appears(c, "form[action='/login']").await?;
    fill(c, "username", username).await?;
    fill(c, "password", password).await?;
    click(c, "main form button.primary").await
}

/// chromedriver's log of the browser's console: what was logged since the last asking.
#[derive(Debug)]
struct BrowserLog;

type UrlResult = Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err>;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &reqwest::Url, session: Option<&str>) -> UrlResult {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// The errors the browser's console received since the last call (script errors, failed
/// loads, refused by the content security policy), each as its message; draining them.
pub async fn console_errors(c: &Client) -> Step<Vec<String>> {
    let log = c
        .issue_cmd(BrowserLog)
        .await
        .map_err(|e| format!("reading the browser log: {e}"))?;
    let entries = log.as_array().cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect())
}

/// The HTTP status the current page was served with.
pub async fn status(c: &Client) -> Step<u16> {
    let status = script(
        c,
        "const [nav] = performance.getEntriesByType('navigation'); return nav ? nav.responseStatus : 0;",
    )
    .await?;
    Ok(status.as_u64().unwrap_or_default() as u16)
}

/// Signs out through the header's button and waits for the sign-in form.
pub async fn sign_out(c: &Client) -> Step {
    click(c, "form.signout button").await?;
    appears(c, "form[action='/login']").await.map(|_| ())
}

/// axe-core's script (`axe.min.js`): the file at `NEXUS_AXE`, else `axe-core@4` installed
/// with npm into the temporary folder once (nothing is copied into the repository).
/// `None` (said loudly) when neither works, a failure under `NEXUS_REQUIRE_BROWSER=1`.
pub fn axe_source() -> Option<String> {
    let required = std::env::var("NEXUS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let missing = |why: String| {
        if required {
            panic!("NEXUS_REQUIRE_BROWSER=1 but axe-core is missing: {why}");
        }
        eprintln!("SKIPPED: accessibility checks need axe-core: {why}");
        None
    };
    let path = match std::env::var_os("NEXUS_AXE") {
        Some(path) => PathBuf::from(path),
        None => {
            let prefix = std::env::temp_dir().join("nexus-axe-core-4");
            let path = prefix.join("node_modules/axe-core/axe.min.js");
            if !path.exists() {
                let installed = Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(&prefix)
                    .arg("axe-core@4")
                    .stdout(Stdio::null())
                    .status();
                match installed {
                    Ok(s) if s.success() => {}
                    Ok(s) => return missing(format!("npm install axe-core@4 failed ({s})")),
                    Err(e) => return missing(format!("npm: {e}")),
                }
            }
            path
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => missing(format!("{}: {e}", path.display())),
    }
}

/// One kind of accessibility fault axe-core found on a page.
#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    /// How many elements have it.
    pub count: usize,
    /// The first few of them, as CSS selectors.
    pub targets: Vec<String>,
}

/// Runs axe-core (its script `axe`, from `axe_source`) on the page as it is now: every
/// violation, most serious first.
pub async fn axe(c: &Client, axe: &str) -> Step<Vec<Violation>> {
    c.execute(&format!("{axe}\n;return true;"), Vec::new())
        .await
        .map_err(|e| format!("loading axe-core: {e}"))?;
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const rank = { critical: 0, serious: 1, moderate: 2, minor: 3 };
            axe.run(document, { resultTypes: ["violations"] })
              .then((r) => done(r.violations
                .map((v) => ({
                  id: v.id, impact: v.impact || "minor", help: v.help, count: v.nodes.length,
                  targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
                }))
                .sort((a, b) => rank[a.impact] - rank[b.impact])))
              .catch((e) => done(String(e)));"#,
            Vec::new(),
        )
        .await
        .map_err(|e| format!("running axe-core: {e}"))?;
    serde_json::from_value(found.clone()).map_err(|_| format!("axe-core: {found}"))
}
