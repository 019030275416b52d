//! Durability: the `nexus` binary is killed with SIGKILL in the middle of a write load,
//! on SQLite and on PostgreSQL; after a restart every write it acknowledged is there.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};
use serde_json::{Value, json};

/// How long the writers run before the kill.
const LOAD: Duration = Duration::from_millis(1500);
const WRITERS: usize = 4;

/// `nexus serve` on `port` over the test server's database and data folder.
fn serve(srv: &TestServer, port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexus"));
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("NEXUS_DATA_DIR", &srv.data_dir)
        .env("NEXUS_LOG", "warn")
        .env_remove("NEXUS_ADMIN_PASSWORD")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = &srv.state.config.database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.spawn().expect("spawn nexus serve")
}

/// Waits until the server answers `/readyz`, and signs in as admin.
async fn ready(http: &reqwest::Client, base: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{base}/readyz")).send().await
            && res.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "nexus did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("sign in");
    let body: Value = res.json().await.expect("token");
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// What a writer had acknowledged: (path of the record, what it must say).
type Acked = Arc<Mutex<Vec<(String, Value)>>>;

/// Writes production movements and work orders until the server stops answering.
async fn writer(http: reqwest::Client, base: String, token: String, n: usize, acked: Acked) {
    for i in 0.. {
        let (path, body, key) = if i % 2 == 0 {
            let order = format!("K-{n}-{i}");
            let body = json!({"production_order": order, "workcenter_id": 1, "quantity": 1, "order_type": "IN"});
            (
                "/api/v1/production-orders",
                body,
                ("production_order", order),
            )
        } else {
            let title = format!("Kill test {n}-{i}");
            (
                "/api/v1/work-orders",
                json!({"title": title}),
                ("title", title),
            )
        };
        let sent = http
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let Ok(res) = sent else { return };
        if res.status() != 201 {
            return;
        }
        let Ok(out) = res.json::<Value>().await else {
            return;
        };
        let id = out["id"].as_i64().expect("id");
        acked
            .lock()
            .unwrap()
            .push((format!("{path}/{id}"), json!({ key.0: key.1 })));
    }
}

async fn survives_kill(backend: Backend) {
    let Some(mut srv) = TestServer::start(backend).await else {
        return;
    };
    srv.hand_over().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let mut child = serve(&srv, port);
    let token = ready(&http, &base).await;
    let acked: Acked = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            tokio::spawn(writer(
                http.clone(),
                base.clone(),
                token.clone(),
                n,
                acked.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(LOAD).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    for w in writers {
        w.await.expect("writer");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() >= 20,
        "only {} writes before the kill",
        acked.len()
    );

    let mut child = serve(&srv, port);
    let token = ready(&http, &base).await;
    let lost = super::faults::lost(&http, &base, &token, &acked).await;
    child.kill().expect("stop");
    child.wait().expect("reap");
    eprintln!(
        "{backend:?}: {} acknowledged writes before SIGKILL, {} lost",
        acked.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_sqlite() {
    survives_kill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_postgres() {
    survives_kill(Backend::Postgres).await;
}
