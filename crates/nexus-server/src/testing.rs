//! Test support: start the real server on an ephemeral port over a fresh SQLite or
//! PostgreSQL database, for integration tests of every domain, and talk to it as they do
//! (the JSON API, pages and their forms).

use std::path::PathBuf;

#[cfg(feature = "browser")]
pub mod browser;
pub mod services;

use nexus_core::{AppState, Config};
use nexus_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, Connection, Executor, PgConnection};
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, oneshot};

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running test server; dropping it stops the server.
pub struct TestServer {
    pub base_url: String,
    pub state: AppState,
    pub backend: Backend,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    pg_database: Option<String>,
}

fn pg_url() -> String {
    std::env::var("NEXUS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{db}{query}")
}

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        nexus_core::auth::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    )
}

/// Prepares and serves `config` on an ephemeral port: (base URL, state, stop switch).
async fn launch(config: Config) -> (String, AppState, oneshot::Sender<()>) {
    let prepared = crate::prepare(config).await.expect("server prepares");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let state = prepared.state.clone();
    tokio::spawn(async move {
        let _ = crate::serve(prepared.state, listener, async {
            let _ = stopped.await;
        })
        .await;
    });
    (format!("http://{addr}"), state, stop)
}

/// Drops test databases left by test processes that are gone (a panicking test skips
/// `finish`).
async fn sweep_orphans(conn: &mut PgConnection) {
    let names: Vec<(String,)> = sea_orm::sqlx::query_as(
        "SELECT datname FROM pg_database WHERE datname LIKE 'nexus\\_t\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for (name,) in names {
        let pid = name.split('_').nth(2).unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// Advisory lock (in the admin database) under which templates are checked, built and dropped.
const TEMPLATE_LOCK: i64 = 0x6e65_7875_735f_7470;

/// This process's template, ready and held in use.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The template of the current migration set: `nexus_tpl_` and a hash of the migration
/// names, so a new migration makes a new template (and the orphan sweep's `nexus_t_` misses it).
fn template_name() -> String {
    let migrations = Migrator::migrations();
    let names: Vec<&str> = migrations.iter().map(|m| m.name()).collect();
    let hash = nexus_core::auth::sha256_hex(&names.join("\n"));
    format!("nexus_tpl_{}", &hash[..15])
}

/// The advisory lock key that processes using template `name` hold shared: its hash.
fn use_key(name: &str) -> Option<i64> {
    i64::from_str_radix(name.strip_prefix("nexus_tpl_")?, 16).ok()
}

/// Runs `sql`, failing the test with it.
async fn run(conn: &mut PgConnection, sql: String) {
    if let Err(e) = conn.execute(sqlx::AssertSqlSafe(sql.as_str())).await {
        panic!("{sql}: {e}");
    }
}

/// Calls the advisory lock `function` on `key`.
async fn advisory(conn: &mut PgConnection, function: &str, key: i64) {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {function}($1)")))
        .bind(key)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{function}: {e}"));
}

/// The migrated template test databases are copied from: found or built once per
/// migration set, shared by all test processes, and held in use while this process lives.
async fn template(admin_url: &str) -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let key = use_key(&name).expect("template key");
            let mut conn = PgConnection::connect(admin_url).await.expect("connect");
            advisory(&mut conn, "pg_advisory_lock_shared", key).await;
            advisory(&mut conn, "pg_advisory_lock", TEMPLATE_LOCK).await;
            drop_unused_templates(&mut conn, &name).await;
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .expect("look for the template");
            if !exists {
                build_template(&mut conn, admin_url, &name).await;
            }
            advisory(&mut conn, "pg_advisory_unlock", TEMPLATE_LOCK).await;
            // Never closed: the session, and the shared lock marking the template in use,
            // end with the process.
            std::mem::forget(conn);
            name
        })
        .await
}

/// Migrates a template under a temporary name, so a builder that dies halfway leaves no
/// half-migrated template behind, then renames it into place.
async fn build_template(conn: &mut PgConnection, admin_url: &str, name: &str) {
    let building = name.replacen("nexus_tpl_", "nexus_tplnew_", 1);
    run(conn, format!("CREATE DATABASE \"{building}\"")).await;
    let config = Config {
        database_url: Some(with_database(admin_url, &building)),
        db_pool_size: 1,
        ..Config::default()
    };
    let db = crate::migrate(&config).await.expect("migrate the template");
    db.close().await;
    // PostgreSQL refuses to rename or copy a database anyone is connected to, and a pool
    // connection on its way back while the pool closes is left open.
    let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname =";
    run(conn, format!("{sql} '{building}'")).await;
    run(
        conn,
        format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    )
    .await;
    let sql = format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
    run(conn, sql).await;
}

/// Under `TEMPLATE_LOCK`: drops half-built templates and templates of other migration sets
/// that no live process holds in use.
async fn drop_unused_templates(conn: &mut PgConnection, current: &str) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'nexus\\_tpl%'")
            .fetch_all(&mut *conn)
            .await
            .expect("list templates");
    for name in names.into_iter().filter(|n| n != current) {
        if name.starts_with("nexus_tplnew_") {
            run(conn, format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
            continue;
        }
        let Some(key) = use_key(&name) else { continue };
        let unused: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .expect("try the template's lock");
        if unused {
            run(
                conn,
                format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false"),
            )
            .await;
            run(conn, format!("DROP DATABASE \"{name}\"")).await;
            advisory(conn, "pg_advisory_unlock", key).await;
        }
    }
}

impl TestServer {
    /// Starts a server on `backend`, or returns `None` when PostgreSQL is unreachable and
    /// not required (`NEXUS_REQUIRE_POSTGRES` unset); says so loudly.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let data_dir = std::env::temp_dir().join(unique_name("nexus-test"));
        let mut config = Config {
            data_dir: data_dir.clone(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            secret: Some("test-secret-test-secret-test-secret-0123".into()),
            db_pool_size: 4,
            ..Config::default()
        };
        let mut pg_database = None;
        if backend == Backend::Postgres {
            let admin_url = pg_url();
            let mut conn = match PgConnection::connect(&admin_url).await {
                Ok(c) => c,
                Err(e) => {
                    if std::env::var("NEXUS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                        panic!("PostgreSQL required but unreachable at {admin_url}: {e}");
                    }
                    eprintln!("SKIPPED (PostgreSQL unreachable at {admin_url}: {e})");
                    return None;
                }
            };
            sweep_orphans(&mut conn).await;
            let template = template(&admin_url).await;
            let name = unique_name("nexus_t");
            run(
                &mut conn,
                format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            )
            .await;
            let _ = conn.close().await;
            config.database_url = Some(with_database(&admin_url, &name));
            pg_database = Some(name);
        }
        tweak(&mut config);
        let (base_url, state, stop) = launch(config).await;
        Some(Self {
            base_url,
            state,
            backend,
            data_dir,
            stop: Some(stop),
            pg_database,
        })
    }

    /// Another node over the same database (and secret), as a second `nexus serve`.
    pub async fn second_node(&self) -> Self {
        let mut config = (*self.state.config).clone();
        config.data_dir = std::env::temp_dir().join(unique_name("nexus-test"));
        let (base_url, state, stop) = launch(config).await;
        Self {
            base_url,
            data_dir: state.config.data_dir.clone(),
            state,
            backend: self.backend,
            stop: Some(stop),
            pg_database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Stops serving and closes the database, keeping it and the data folder for another
    /// process (the `nexus` binary, say) to open; `finish` still drops them.
    pub async fn hand_over(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.db.close().await;
    }

    /// Stops the server and drops its database.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.db.close().await;
        if let Some(name) = self.pg_database.take()
            && let Ok(mut conn) = PgConnection::connect(&pg_url()).await
        {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await;
            let _ = conn.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Declares one async test per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($srv:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($srv: &$crate::testing::TestServer) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(srv) = $crate::testing::TestServer::start($crate::testing::Backend::Sqlite).await {
                        body(&srv).await;
                        srv.finish().await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(srv) = $crate::testing::TestServer::start($crate::testing::Backend::Postgres).await {
                        body(&srv).await;
                        srv.finish().await;
                    }
                }
            }
        )*
    };
}

/// A posted form's answer: (status, `Location` header or "", HTML).
pub type Answer = (u16, String, String);

/// The CSRF token a page's forms carry.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..].split('"').next().expect("token").to_string()
}

/// A response as tests look at it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Null` when empty or not JSON).
    pub json: serde_json::Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field` of each entry of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestServer {
    /// A client without cookies or redirects, so each request says what it means.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client().request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request")).await
    }

    /// The counts of the home page and navigation (`/auth/me/attention`) of the user of
    /// `token`, by key.
    pub async fn attention(
        &self,
        token: &str,
    ) -> std::collections::HashMap<String, serde_json::Value> {
        let res = self.get("/api/v1/auth/me/attention", token).await;
        assert_eq!(res.status, 200, "{:?}", res.json);
        res.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| (c["key"].as_str().expect("key").to_string(), c.clone()))
            .collect()
    }

    /// PATCHes `path` with `If-Match: "version"`: the edit of one who read `version`.
    pub async fn patch_if(
        &self,
        path: &str,
        token: &str,
        version: i64,
        body: serde_json::Value,
    ) -> Resp {
        let req = self
            .client()
            .patch(self.url(path))
            .bearer_auth(token)
            .header("if-match", format!("\"{version}\""))
            .json(&body);
        Self::read(req.send().await.expect("request")).await
    }

    /// GETs `path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None).await
    }

    /// POSTs the JSON `body` to `path` with a bearer token.
    pub async fn post(&self, path: &str, token: &str, body: serde_json::Value) -> Resp {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// Starts an archiving run through `path` (`/api/v1/maintenance/archive`), which
    /// answers 202 at once, and polls the run's `Location` until it is over: the run as
    /// it last answered (status `done` or `failed`, its report, its timings).
    pub async fn archive_run(&self, path: &str, token: &str) -> serde_json::Value {
        let started = self.call("POST", path, Some(token), None).await;
        assert_eq!(started.status, 202, "{:?}", started.json);
        assert_eq!(started.json["status"], "running", "{:?}", started.json);
        let location = started.header("location").expect("a Location").to_string();
        assert_eq!(location, format!("{path}/runs/{}", started.json["id"]));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let run = self.get(&location, token).await;
            assert_eq!(run.status, 200, "{:?}", run.json);
            if run.json["status"] != "running" {
                return run.json;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the run did not end: {:?}",
                run.json
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// PATCHes `path` with the JSON `body` and a bearer token.
    pub async fn patch(&self, path: &str, token: &str, body: serde_json::Value) -> Resp {
        self.call("PATCH", path, Some(token), Some(body)).await
    }

    /// POSTs `body` and returns the new row's id, failing the test unless the answer is 201.
    pub async fn create(&self, path: &str, token: &str, body: serde_json::Value) -> i64 {
        let res = self.post(path, token, body).await;
        assert_eq!(res.status, 201, "POST {path}: {:?}", res.json);
        res.json["id"].as_i64().expect("id")
    }

    /// Posts a CSV body (`text/csv`) with a bearer token.
    pub async fn post_csv(&self, path: &str, token: &str, csv: &str) -> Resp {
        self.post_body(path, token, "text/csv", csv).await
    }

    /// Posts `body` as `content_type` with a bearer token.
    pub async fn post_body(&self, path: &str, token: &str, content_type: &str, body: &str) -> Resp {
        let req = self.client().post(self.url(path)).bearer_auth(token);
        let req = req
            .header("content-type", content_type)
            .body(body.to_string());
        Self::read(req.send().await.expect("request")).await
    }

    /// GETs `path` with a bearer token: (status, body as text), e.g. a page's HTML.
    pub async fn page(&self, path: &str, token: &str) -> (u16, String) {
        let res = self.client().get(self.url(path)).bearer_auth(token);
        let res = res.send().await.expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// GETs `path` with an optional bearer token: (status, content type, body bytes).
    pub async fn download(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut req = self.client().get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let ct = res.headers().get("content-type");
        let ct = ct.map(|v| v.to_str().expect("content type").to_string());
        let body = res.bytes().await.expect("body").to_vec();
        (status, ct.unwrap_or_default(), body)
    }

    /// Posts a form with a bearer token: (status, `Location` header or "", HTML).
    pub async fn submit(&self, path: &str, token: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.client().post(self.url(path)).bearer_auth(token);
        Self::answer(req.form(form)).await
    }

    /// Posts a multipart form with a bearer token: (status, `Location` header or "", HTML).
    pub async fn submit_multipart(
        &self,
        path: &str,
        token: &str,
        form: reqwest::multipart::Form,
    ) -> Answer {
        let req = self.client().post(self.url(path)).bearer_auth(token);
        Self::answer(req.multipart(form)).await
    }

    /// Sends a form's request: (status, `Location` header or "", HTML).
    async fn answer(req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let to = res.headers().get("location");
        let to = to.map(|l| l.to_str().expect("location").to_string());
        (
            status,
            to.unwrap_or_default(),
            res.text().await.expect("body"),
        )
    }

    /// Reads a response into a `Resp`.
    pub async fn read(res: reqwest::Response) -> Resp {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        Resp {
            status,
            headers,
            json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Signs in and returns the whole token response.
    pub async fn login_response(&self, username: &str, password: &str) -> Resp {
        self.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"username": username, "password": password})),
        )
        .await
    }

    /// Signs in and returns the access token; panics when sign-in fails.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self.login_response(username, password).await;
        assert_eq!(
            res.status, 200,
            "login of {username} failed: {:?}",
            res.json
        );
        res.json["access_token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` and password `<username>-password`; returns its id.
    pub async fn create_user(&self, admin_token: &str, username: &str, role: &str) -> i64 {
        let res = self
            .call(
                "POST",
                "/api/v1/users",
                Some(admin_token),
                Some(serde_json::json!({
                    "username": username,
                    "password": format!("{username}-password"),
                    "role": role,
                })),
            )
            .await;
        assert_eq!(res.status, 201, "create user {username}: {:?}", res.json);
        res.json["id"].as_i64().expect("id")
    }

    /// Creates a user with `role` and signs them in; returns the token.
    pub async fn user_token(&self, admin_token: &str, username: &str, role: &str) -> String {
        self.create_user(admin_token, username, role).await;
        self.login(username, &format!("{username}-password")).await
    }
}
