//! Starting and stopping a `nexus serve` child process on a free port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::load::{Request, send_once};

pub const ADMIN_PASSWORD: &str = "bench-admin-password";

pub struct Nexus {
    pub addr: SocketAddr,
    pub ready_after: Duration,
    child: Child,
    dir: Option<PathBuf>,
    postgres: bool,
}

/// A new empty data folder under the system temp folder.
pub fn fresh_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "nexus-bench-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ u128::from(rand_u32())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// The machine's load averages over 1, 5 and 15 minutes (`/proc/loadavg`).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A database URL naming a fresh database on the same server as `url`.
fn fresh_pg_url(url: &str) -> String {
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    format!("{base}/nexus_bench_{}_{}", std::process::id(), rand_u32())
}

impl Nexus {
    /// Starts on a fresh data folder (and fresh PostgreSQL database when given a URL).
    pub async fn start(binary: &str, database_url: Option<&str>) -> anyhow::Result<Self> {
        let dir = fresh_dir()?;
        let mut n = Self::start_in(binary, database_url, &dir).await?;
        n.dir = Some(dir);
        Ok(n)
    }

    /// Starts on `dir`, waiting until `/readyz` answers 200. Started again on the same
    /// `dir` while the first runs, it is a second node: the same PostgreSQL database,
    /// token secret and files.
    pub async fn start_in(
        binary: &str,
        database_url: Option<&str>,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut cmd = command(binary, database_url, dir)?;
        cmd.arg("serve")
            .env("NEXUS_BIND", addr.to_string())
            .env("NEXUS_LOGIN_RATE_PER_MINUTE", "100000000")
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let started = Instant::now();
        let child = cmd.spawn().with_context(|| format!("starting {binary}"))?;
        let ready = Request::get("/readyz");
        loop {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("nexus did not become ready in 30 s");
            }
            if let Ok((200, _)) = send_once(addr, &ready).await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Self {
            addr,
            ready_after: started.elapsed(),
            child,
            dir: None,
            postgres: database_url.is_some(),
        })
    }

    pub fn backend(&self) -> &'static str {
        if self.postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        let (status, body) =
            send_once(self.addr, &Request::post_json("/api/v1/auth/login", &body)).await?;
        anyhow::ensure!(status == 200, "login failed: {status}");
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(v["access_token"].as_str().context("token")?.to_string())
    }

    /// Resident set size of the server process, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// Peak resident set size of the server process, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// A KiB figure from `/proc/<pid>/status`.
    fn status_kib(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// Stops the server and removes its data folder and PostgreSQL database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(dir) = self.dir.take() {
            remove_data(&dir).await;
        }
    }

    /// Stops the server, keeping its data for another start.
    pub async fn halt(&mut self) {
        if let Some(pid) = self.child.id() {
            // SIGTERM for a graceful stop, as an operator would.
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// The PostgreSQL database of a data folder: the same folder keeps the same (fresh)
/// database across starts of one scenario. `None` on SQLite.
pub fn database_url_for(dir: &Path, database_url: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(url) = database_url else {
        return Ok(None);
    };
    let marker = dir.join("bench-database-url");
    Ok(Some(match std::fs::read_to_string(&marker) {
        Ok(u) => u,
        Err(_) => {
            let u = fresh_pg_url(url);
            std::fs::write(&marker, &u)?;
            u
        }
    }))
}

/// Removes a data folder and the PostgreSQL database a run created in it, if any.
pub async fn remove_data(dir: &Path) {
    use sea_orm::sqlx::{Connection, Executor, PgConnection};
    if let Ok(url) = std::fs::read_to_string(dir.join("bench-database-url"))
        && let Some((base, name)) = url.rsplit_once('/')
        && let Ok(mut conn) = PgConnection::connect(&format!("{base}/postgres")).await
    {
        let _ = conn
            .execute(sea_orm::sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .await;
        let _ = conn.close().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A `nexus` command (its subcommand still to add) on the data folder `dir` and its
/// PostgreSQL database, as the server started there sees them; stdout discarded.
pub fn command(binary: &str, database_url: Option<&str>, dir: &Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(binary);
    cmd.env("NEXUS_DATA_DIR", dir)
        .env("NEXUS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("NEXUS_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    if let Some(url) = database_url_for(dir, database_url)? {
        cmd.env("DATABASE_URL", url);
    }
    Ok(cmd)
}

/// Runs `nexus seed` with `flags` (`("--assets", n)`, ...) on `dir`; returns how long it took.
pub async fn seed(
    binary: &str,
    database_url: Option<&str>,
    dir: &Path,
    flags: &[(&str, u64)],
) -> anyhow::Result<Duration> {
    let mut cmd = command(binary, database_url, dir)?;
    cmd.arg("seed").stderr(Stdio::null());
    for (flag, n) in flags {
        cmd.arg(flag).arg(n.to_string());
    }
    let started = Instant::now();
    let status = cmd.status().await.context("running nexus seed")?;
    anyhow::ensure!(status.success(), "nexus seed failed");
    Ok(started.elapsed())
}
