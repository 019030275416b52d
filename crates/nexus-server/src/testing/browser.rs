//! Browser tests: a chromedriver of the test's own and Debian's headless Chromium
//! sessions at phone or desk size. Skipped loudly when chromedriver is missing, unless
//! `NEXUS_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

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
pub enum Screen {
    /// 390×844 with touch, emulated: desktop Chromium keeps windows at least 500px wide.
    Phone,
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
            Screen::Desk => args.push("--window-size=1280,900".into()),
        }
        options["args"] = serde_json::json!(args);
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
        let _ = std::fs::remove_dir_all(&self.profiles);
    }
}
