//! Faults under write load, through the `nexus` binary. PostgreSQL stopped and started
//! again (a disposable cluster of the test's own, made with `initdb` and run with
//! `pg_ctl`): while it is away every request fails fast with a 503 problem document and
//! `/readyz` says so; service returns within 5 s of its return. SIGTERM drains: a request
//! in flight finishes, live streams end, the process exits by itself. Either way every
//! acknowledged write is there afterwards. (SIGKILL: `durability`.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_server::testing::services::free_port;
use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How fast a request must fail while the database is away: the pool gives up on a
/// connection after 2 s.
const FAST: Duration = Duration::from_secs(3);
/// How soon after the database is back requests must succeed again.
const BACK_WITHIN: Duration = Duration::from_secs(5);
const WRITERS: usize = 4;

/// Polls `check` until it answers, for at most `limit`.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A PostgreSQL cluster of this test's own in a temporary folder, on a free port. As
/// root its commands run as the `postgres` user (initdb refuses root).
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// A new cluster, not started; `None` (said loudly) when PostgreSQL's server programs
    /// are not installed and PostgreSQL is not required.
    fn create() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|b| b.join("initdb").is_file())
            .max_by_key(|b| {
                let version = b.parent().and_then(|v| v.file_name());
                version.and_then(|v| v.to_str()?.parse::<u32>().ok())
            });
        let Some(bin) = bin else {
            if std::env::var("NEXUS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("PostgreSQL required but no initdb under /usr/lib/postgresql/*/bin");
            }
            eprintln!("SKIPPED (no initdb under /usr/lib/postgresql/*/bin)");
            return None;
        };
        let as_postgres = output(Command::new("id").arg("-u")) == "0";
        let dir =
            std::env::temp_dir().join(format!("nexus-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("cluster folder");
        if as_postgres {
            output(Command::new("chown").arg("postgres:").arg(&dir));
        }
        let cluster = Self {
            port: free_port(),
            dir,
            bin,
            as_postgres,
        };
        let data = cluster.dir.join("data");
        let data = data.to_str().expect("a UTF-8 path");
        cluster.run(
            "initdb",
            &[
                "-D", data, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8",
            ],
        );
        Some(cluster)
    }

    /// Runs PostgreSQL program `program` with `args`, failing the test if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        cmd.args(args).stdin(Stdio::null());
        output(&mut cmd);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().expect("a UTF-8 path")];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// Starts the cluster and waits until it takes connections.
    fn start(&self) {
        let log = self.dir.join("log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = log.to_str().expect("a UTF-8 path");
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", log, "-o", &options]);
    }

    /// A fast shutdown: sessions are ended, what was committed stays.
    fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(data)
            .args(["stop", "-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `nexus serve` on a free port over a data folder and, for PostgreSQL, a database.
struct Node {
    child: Child,
    port: u16,
    base: String,
}

impl Node {
    fn serve(dir: &Path, database_url: Option<&str>) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexus"));
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("NEXUS_DATA_DIR", dir)
            .env("NEXUS_LOG", "error")
            .env("NEXUS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        Self {
            child: cmd.spawn().expect("spawn nexus serve"),
            port,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `/readyz` answers 200, then signs in as admin: the access token.
    async fn ready(&self, http: &reqwest::Client) -> String {
        until("nexus to become ready", Duration::from_secs(60), || async {
            let res = http.get(self.url("/readyz")).send().await.ok()?;
            res.status().is_success().then_some(())
        })
        .await;
        let res = http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), 200, "admin signs in");
        let body: Value = res.json().await.expect("token");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// Waits (at most 30 s) for the process to exit by itself.
    async fn exits(&mut self) -> ExitStatus {
        until("nexus to exit", Duration::from_secs(30), || {
            let exited = self.child.try_wait().expect("wait");
            async move { exited }
        })
        .await
    }
}

/// Stopped however the test ends, so no server outlives it.
impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A write the server acknowledged: where to read it back, and a field it must have.
type Acked = Arc<Mutex<Vec<(String, Value)>>>;

/// An answer other than 201 that a writer got, and how long it took.
#[derive(Debug)]
struct Refusal {
    status: u16,
    took: Duration,
    content_type: String,
    retry_after: Option<String>,
    body: Value,
}

/// Writers creating production movements (through the batched writer) and work orders,
/// recording what was acknowledged and every other answer.
struct Load {
    acked: Acked,
    refusals: Arc<Mutex<Vec<Refusal>>>,
    stop: Arc<AtomicBool>,
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, token: &str) -> Self {
        let load = Self {
            acked: Acked::default(),
            refusals: Arc::default(),
            stop: Arc::default(),
            writers: Vec::new(),
        };
        let writers = (0..WRITERS)
            .map(|n| {
                let (base, token) = (base.to_string(), token.to_string());
                let (acked, refusals, stop) = (
                    load.acked.clone(),
                    load.refusals.clone(),
                    load.stop.clone(),
                );
                tokio::spawn(async move {
                    let http = reqwest::Client::builder()
                        .timeout(Duration::from_secs(30))
                        .build()
                        .expect("client");
                    for i in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let (path, body, key) = if i % 2 == 0 {
                            let order = format!("F-{n}-{i}");
                            let body = json!({"production_order": order, "workcenter_id": 1, "quantity": 1, "order_type": "IN"});
                            ("/api/v1/production-orders", body, ("production_order", order))
                        } else {
                            let title = format!("Fault load {n}-{i}");
                            ("/api/v1/work-orders", json!({"title": title}), ("title", title))
                        };
                        let sent = Instant::now();
                        let res = http
                            .post(format!("{base}{path}"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await;
                        // No answer: the server has stopped.
                        let Ok(res) = res else { return };
                        let status = res.status().as_u16();
                        let header = |name| {
                            res.headers()
                                .get(name)
                                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                                .map(String::from)
                        };
                        let content_type = header("content-type").unwrap_or_default();
                        let retry_after = header("retry-after");
                        let Ok(answer) = res.json::<Value>().await else {
                            return;
                        };
                        if status == 201 {
                            let id = answer["id"].as_i64().expect("id");
                            let record = (format!("{path}/{id}"), json!({ key.0: key.1 }));
                            acked.lock().unwrap().push(record);
                        } else {
                            refusals.lock().unwrap().push(Refusal {
                                status,
                                took: sent.elapsed(),
                                content_type,
                                retry_after,
                                body: answer,
                            });
                        }
                    }
                })
            })
            .collect();
        Self { writers, ..load }
    }

    fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits (at most a minute) until `n` writes in all were acknowledged.
    async fn until_acked(&self, n: usize) {
        until(
            &format!("{n} acknowledged writes"),
            Duration::from_secs(60),
            || async { (self.acked() >= n).then_some(()) },
        )
        .await;
    }

    /// Stops the writers (or waits for them to see the server gone): what was
    /// acknowledged, and the other answers.
    async fn finish(self) -> (Vec<(String, Value)>, Vec<Refusal>) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.writers {
            w.await.expect("writer");
        }
        let acked = std::mem::take(&mut *self.acked.lock().unwrap());
        let refusals = std::mem::take(&mut *self.refusals.lock().unwrap());
        (acked, refusals)
    }
}

/// The acknowledged writes (path, fields as acknowledged) not found as acknowledged at
/// the server `base`.
pub(crate) async fn lost(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    acked: &[(String, Value)],
) -> Vec<String> {
    let mut lost = Vec::new();
    for (path, expected) in acked {
        let res = http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("read back");
        let found = res.status() == 200
            && res.json::<Value>().await.is_ok_and(|v| {
                expected
                    .as_object()
                    .expect("fields")
                    .iter()
                    .all(|(k, want)| v[k] == *want)
            });
        if !found {
            lost.push(path.clone());
        }
    }
    lost
}

/// Checks a refusal sent while the database was away: a fast 503 problem document that
/// says why and when to retry.
fn assert_unavailable(what: &str, r: &Refusal) {
    assert_eq!(r.status, 503, "{what}: {r:?}");
    assert!(r.took < FAST, "{what} took {:?}", r.took);
    assert_eq!(r.content_type, "application/problem+json", "{what}");
    assert!(r.retry_after.is_some(), "{what}: no Retry-After");
    assert_eq!(r.body["status"], 503, "{what}");
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("database is unavailable"),
        "{what}: {detail}"
    );
}

/// One request while the database is away, as a refusal (or `None` if it succeeded).
async fn refused(req: reqwest::RequestBuilder) -> Option<Refusal> {
    let sent = Instant::now();
    let res = req.send().await.expect("an answer");
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let (content_type, retry_after) = (
        header("content-type").unwrap_or_default(),
        header("retry-after"),
    );
    let text = res.text().await.unwrap_or_default();
    (status != 200 && status != 201).then(|| Refusal {
        status,
        took: sent.elapsed(),
        content_type,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_fails_fast_and_loses_nothing() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    cluster.start();
    let node = Node::serve(&cluster.dir.join("nexus"), Some(&cluster.url("nexus")));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let token = node.ready(&http).await;
    let load = Load::start(&node.base, &token);
    load.until_acked(20).await;

    cluster.stop();
    // Requests fail fast with a problem document, pages with the error page, and the
    // readiness probe says the database is away.
    let post = http
        .post(node.url("/api/v1/work-orders"))
        .bearer_auth(&token)
        .json(&json!({"title": "During the outage"}));
    let refusal = refused(post).await.expect("refused while away");
    assert_unavailable("a write while away", &refusal);
    let list = http
        .get(node.url("/api/v1/work-orders"))
        .bearer_auth(&token);
    assert_unavailable("a read while away", &refused(list).await.expect("refused"));
    let sent = Instant::now();
    let page = http
        .get(node.url("/maintenance/work-orders"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), 503);
    assert!(sent.elapsed() < FAST, "the page took {:?}", sent.elapsed());
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<html") && html.contains("database is unavailable"),
        "{html}"
    );
    let sent = Instant::now();
    let ready = http.get(node.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 503);
    assert!(sent.elapsed() < FAST, "/readyz took {:?}", sent.elapsed());
    let outage = load.refusals.lock().unwrap().len();
    until(
        "the writers to be refused a few times",
        Duration::from_secs(30),
        || async { (load.refusals.lock().unwrap().len() >= outage + 2 * WRITERS).then_some(()) },
    )
    .await;

    cluster.start();
    let back = Instant::now();
    until("service to return", BACK_WITHIN * 2, || async {
        let res = http
            .get(node.url("/api/v1/work-orders?limit=1"))
            .bearer_auth(&token)
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    let returned = back.elapsed();
    assert!(
        returned < BACK_WITHIN,
        "service returned {returned:?} after the database"
    );
    let ready = http.get(node.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let before = load.acked();
    load.until_acked(before + 20).await;

    let (acked, refusals) = load.finish().await;
    assert!(refusals.len() >= 2 * WRITERS);
    for r in &refusals {
        assert_unavailable("a writer's request", r);
    }
    let lost = lost(&http, &node.base, &token, &acked).await;
    eprintln!(
        "PostgreSQL restart: {} acknowledged writes, {} refused with 503 (slowest {:?}), service back {returned:?} after the database, {} lost",
        acked.len(),
        refusals.len(),
        refusals.iter().map(|r| r.took).max().unwrap_or_default(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// A request whose headers and half its body are sent: in flight at the server.
struct HalfSent {
    stream: tokio::net::TcpStream,
    rest: Vec<u8>,
}

impl HalfSent {
    async fn begin(port: u16, path: &str, token: &str, body: &Value) -> Self {
        let body = body.to_string().into_bytes();
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("send head");
        stream.write_all(first).await.expect("send half");
        stream.flush().await.expect("flush");
        Self {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest: the status and body of the answer.
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(&self.rest).await.expect("send rest");
        let mut answer = Vec::new();
        self.stream
            .read_to_end(&mut answer)
            .await
            .expect("read the answer");
        let answer = String::from_utf8_lossy(&answer);
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

/// A sample of `/metrics` by its full name, when present.
async fn metric(http: &reqwest::Client, node: &Node, name: &str) -> Option<f64> {
    let text = http
        .get(node.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.parse().ok())
}

async fn sigterm_drains(backend: Backend) {
    let Some(mut srv) = TestServer::start(backend).await else {
        return;
    };
    srv.hand_over().await;
    let url = srv.state.config.database_url.clone();
    let mut node = Node::serve(&srv.data_dir, url.as_deref());
    let http = reqwest::Client::new();
    let token = node.ready(&http).await;

    let mut stream = http
        .get(node.url("/api/v1/events/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("a live stream");
    assert_eq!(stream.status(), 200);
    let title = "In flight at SIGTERM";
    let half = HalfSent::begin(
        node.port,
        "/api/v1/work-orders",
        &token,
        &json!({"title": title}),
    )
    .await;
    // The scrape itself is the other request in flight.
    until(
        "the half-sent request to be in flight",
        Duration::from_secs(30),
        || async {
            metric(&http, &node, "http_requests_in_flight")
                .await
                .filter(|&n| n >= 2.0)
        },
    )
    .await;
    let load = Load::start(&node.base, &token);
    load.until_acked(20).await;

    output(Command::new("kill").args(["-TERM", &node.child.id().to_string()]));
    let (status, created) = half.finish().await;
    assert_eq!(status, 201, "the request in flight finishes: {created}");
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream ends");
    let exit = node.exits().await;
    assert!(
        exit.success(),
        "nexus exits cleanly after SIGTERM: {exit:?}"
    );
    let (mut acked, refusals) = load.finish().await;
    assert!(refusals.is_empty(), "{refusals:?}");
    let id = created["id"].as_i64().expect("id");
    acked.push((
        format!("/api/v1/work-orders/{id}"),
        json!({ "title": title }),
    ));

    let node = Node::serve(&srv.data_dir, url.as_deref());
    let token = node.ready(&http).await;
    let lost = lost(&http, &node.base, &token, &acked).await;
    drop(node);
    eprintln!(
        "{backend:?}: {} acknowledged writes before SIGTERM drained, {} lost",
        acked.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_and_loses_nothing_sqlite() {
    sigterm_drains(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_and_loses_nothing_postgres() {
    sigterm_drains(Backend::Postgres).await;
}
