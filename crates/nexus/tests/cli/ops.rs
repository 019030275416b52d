//! `nexus backup`, `nexus restore` and `nexus copy-to` as an operator runs them: a backup
//! taken under write load restores every write acknowledged before it began, on SQLite and
//! PostgreSQL; damaged, newer or misdirected backups are refused and change nothing; a
//! seeded SQLite installation moves to PostgreSQL and serves from there. Scheduled backups
//! keep the newest few, and a failed one is told to the admins. Blobs on S3-compatible
//! storage (moto's server, from PyPI) are backed up and restored through the store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_server::testing::services::{Moto, free_port};
use nexus_server::testing::{ADMIN_PASSWORD, Backend, TestServer};
use sea_orm::sqlx::{self, Connection, PgConnection, SqliteConnection};
use serde_json::{Value, json};

/// The `nexus` binary over a data folder and, for PostgreSQL, a database.
pub(crate) fn nexus_command(dir: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexus"));
    cmd.args(args)
        .env("NEXUS_DATA_DIR", dir)
        .env("NEXUS_LOG", "warn")
        .env("NEXUS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

fn nexus(dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    nexus_command(dir, database_url, args)
        .output()
        .expect("run nexus")
}

pub(crate) fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "nexus failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a refused command said.
fn refused(out: Output) -> String {
    assert!(!out.status.success(), "expected a refusal: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nexus-ops-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) % 1_000_000
}

/// The one backup folder `nexus backup --to root` wrote.
fn backup_in(root: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("backup root")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].join("manifest.json").is_file());
    entries[0].clone()
}

fn pg_admin_url() -> String {
    std::env::var("NEXUS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database of its own (named so the test harness sweeps it up if the
/// test dies), or `None` when PostgreSQL is unreachable and not required; says so loudly.
pub(crate) struct PgDatabase {
    name: String,
    pub(crate) url: String,
}

impl PgDatabase {
    pub(crate) async fn create() -> Option<Self> {
        let admin = pg_admin_url();
        let mut conn = match PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("NEXUS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("PostgreSQL required but unreachable at {admin}: {e}");
                }
                eprintln!("SKIPPED (PostgreSQL unreachable at {admin}: {e})");
                return None;
            }
        };
        let name = format!("nexus_t_{}_ops{}", std::process::id(), rand_suffix());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').expect("database in URL").0;
        Some(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect")
    }

    pub(crate) async fn drop(self) {
        let mut conn = PgConnection::connect(&pg_admin_url())
            .await
            .expect("connect");
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("drop");
        let _ = conn.close().await;
    }
}

/// `nexus serve` over a data folder and database on a free port: (child, base URL).
fn serve(dir: &Path, database_url: Option<&str>) -> (Child, String) {
    serve_with(dir, database_url, &[])
}

/// [`serve`] with more settings in its environment.
fn serve_with(dir: &Path, database_url: Option<&str>, env: &[(&str, &str)]) -> (Child, String) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexus"));
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("NEXUS_DATA_DIR", dir)
        .env("NEXUS_LOG", "warn")
        .env_remove("NEXUS_ADMIN_PASSWORD")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .envs(env.iter().copied());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let child = cmd.spawn().expect("spawn nexus serve");
    (child, format!("http://127.0.0.1:{port}"))
}

/// Waits until `base` answers `/readyz`, then signs in as admin: the access token.
async fn sign_in(http: &reqwest::Client, base: &str) -> String {
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
    assert_eq!(res.status(), 200, "admin signs in");
    let body: Value = res.json().await.expect("token");
    body["access_token"].as_str().expect("token").to_string()
}

/// What the writers had acknowledged: (path of the record, the title it must have).
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// Creates work orders until told to stop, recording each one acknowledged.
async fn writer(srv_base: String, token: String, n: usize, acked: Acked, stop: Arc<Mutex<bool>>) {
    let http = reqwest::Client::new();
    for i in 0.. {
        if *stop.lock().unwrap() {
            return;
        }
        let title = format!("Backup load {n}-{i}");
        let res = http
            .post(format!("{srv_base}/api/v1/work-orders"))
            .bearer_auth(&token)
            .json(&json!({"title": title}))
            .send()
            .await
            .expect("write");
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.expect("body")["id"]
            .as_i64()
            .expect("id");
        acked
            .lock()
            .unwrap()
            .push((format!("/api/v1/work-orders/{id}"), title));
    }
}

async fn backup_under_load(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else {
        return;
    };
    let url = srv.state.config.database_url.clone();
    let token = srv.admin_token().await;
    // A blob, to come back with the database.
    let part = reqwest::multipart::Part::bytes(b"pump nameplate\n".to_vec())
        .file_name("nameplate.txt")
        .mime_str("text/plain")
        .unwrap();
    let res = srv
        .client()
        .post(srv.url("/api/v1/files"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 201);
    let file_id = res.json::<Value>().await.expect("file")["id"]
        .as_i64()
        .expect("file id");

    let acked: Acked = Arc::default();
    let stop = Arc::new(Mutex::new(false));
    let writers: Vec<_> = (0..3)
        .map(|n| {
            tokio::spawn(writer(
                srv.base_url.clone(),
                token.clone(),
                n,
                acked.clone(),
                stop.clone(),
            ))
        })
        .collect();
    while acked.lock().unwrap().len() < 30 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let root = temp_dir("backups");
    if backend == Backend::Postgres {
        // Without pg_dump the backup stops, naming it, and leaves nothing behind.
        let out = nexus_command(
            &srv.data_dir,
            url.as_deref(),
            &["backup", "--to", &root.display().to_string()],
        )
        .env("PATH", "/nonexistent")
        .output()
        .expect("run nexus");
        let err = refused(out);
        assert!(err.contains("pg_dump was not found"), "{err}");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }
    // Every write acknowledged by now must be in the backup.
    let before: Vec<(String, String)> = acked.lock().unwrap().clone();
    let dir = srv.data_dir.clone();
    let root_arg = root.display().to_string();
    let url_arg = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        nexus(&dir, url_arg.as_deref(), &["backup", "--to", &root_arg])
    })
    .await
    .expect("backup");
    let said = ok(out);
    *stop.lock().unwrap() = true;
    for w in writers {
        w.await.expect("writer");
    }
    let during = acked.lock().unwrap().len() - before.len();
    assert!(said.contains("backed up"), "{said}");
    let backup = backup_in(&root);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let engine = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(manifest["backend"], engine);
    assert_eq!(manifest["format_version"], 1);
    assert!(
        manifest["schema_version"]
            .as_str()
            .unwrap()
            .starts_with('m')
    );
    let files = manifest["files"].as_object().unwrap();
    assert!(files.keys().any(|k| k.starts_with("files/")), "{files:?}");

    // Restore into a fresh folder (and, on PostgreSQL, a fresh database) and serve it.
    let target = temp_dir("restored");
    let pg = match backend {
        Backend::Postgres => Some(PgDatabase::create().await.expect("PostgreSQL is up")),
        Backend::Sqlite => None,
    };
    let target_url = pg.as_ref().map(|p| p.url.clone());
    ok(nexus(
        &target,
        target_url.as_deref(),
        &["restore", &backup.display().to_string()],
    ));
    let (mut child, base) = serve(&target, target_url.as_deref());
    let http = reqwest::Client::new();
    let token = sign_in(&http, &base).await;
    let mut lost = Vec::new();
    for (path, title) in &before {
        let res = http
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read back");
        let found = res.status() == 200
            && res
                .json::<Value>()
                .await
                .is_ok_and(|v| v["title"] == *title);
        if !found {
            lost.push(path.clone());
        }
    }
    let blob = http
        .get(format!("{base}/api/v1/files/{file_id}/content"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(blob.status(), 200);
    assert_eq!(&blob.bytes().await.unwrap()[..], b"pump nameplate\n");
    child.kill().expect("stop");
    child.wait().expect("reap");
    eprintln!(
        "{backend:?}: {} writes acknowledged before the backup, {during} during it, {} lost",
        before.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "acknowledged before the backup but lost: {lost:?}"
    );

    // The same backup again into the now restored target: refused, nothing changed.
    let err = refused(nexus(
        &target,
        target_url.as_deref(),
        &["restore", &backup.display().to_string()],
    ));
    let expected = match backend {
        Backend::Sqlite => "already holds a database: restore into an empty data folder",
        Backend::Postgres => "restore into an empty database",
    };
    assert!(err.contains(expected), "{err}");

    if let Some(pg) = pg {
        pg.drop().await;
    }
    let _ = std::fs::remove_dir_all(root);
    let _ = std::fs::remove_dir_all(target);
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_every_acknowledged_write_sqlite() {
    backup_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_every_acknowledged_write_postgres() {
    backup_under_load(Backend::Postgres).await;
}

/// A blob as the store lays it out (named by a SHA-256 digest, not of its bytes here).
const BLOB: &str = "files/ab/cd/abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";

/// A backup of a freshly migrated SQLite installation with one blob: (its folder, the
/// data folder, the backup root).
fn small_backup(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let source = temp_dir(&format!("{name}-source"));
    ok(nexus(&source, None, &["migrate"]));
    let blob = source.join(BLOB);
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"blob bytes").unwrap();
    let root = temp_dir(&format!("{name}-backups"));
    ok(nexus(
        &source,
        None,
        &["backup", "--to", &root.display().to_string()],
    ));
    (backup_in(&root), source, root)
}

#[test]
fn a_damaged_backup_is_refused_naming_the_file_and_nothing_changes() {
    let (backup, source, root) = small_backup("damaged");
    let target = temp_dir("damaged-target");
    let arg = backup.display().to_string();

    // One byte flipped in the database.
    let db = backup.join("nexus.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[5000] ^= 0x01;
    std::fs::write(&db, &bytes).unwrap();
    let err = refused(nexus(&target, None, &["restore", &arg]));
    assert!(
        err.contains("nexus.db does not match its checksum"),
        "{err}"
    );
    assert!(!target.exists(), "a refused restore wrote nothing");
    bytes[5000] ^= 0x01;
    std::fs::write(&db, &bytes).unwrap();

    // A truncated blob.
    let blob = backup.join(BLOB);
    std::fs::write(&blob, b"blob").unwrap();
    let err = refused(nexus(&target, None, &["restore", &arg]));
    assert!(err.contains(&format!("{BLOB} does not match")), "{err}");
    // A missing one.
    std::fs::remove_file(&blob).unwrap();
    let err = refused(nexus(&target, None, &["restore", &arg]));
    assert!(err.contains(&format!("{BLOB} is missing")), "{err}");
    assert!(!target.exists(), "a refused restore wrote nothing");

    // Not a backup at all.
    let err = refused(nexus(
        &target,
        None,
        &["restore", &source.display().to_string()],
    ));
    assert!(err.contains("is not a Nexus backup"), "{err}");
    for dir in [source, root, target] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_backup_of_a_newer_schema_is_refused() {
    let (backup, source, root) = small_backup("newer");
    let path = backup.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["schema_version"] = json!("m9999_from_the_future");
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let target = temp_dir("newer-target");
    let err = refused(nexus(
        &target,
        None,
        &["restore", &backup.display().to_string()],
    ));
    assert!(
        err.contains("schema version m9999_from_the_future is newer than this nexus knows"),
        "{err}"
    );
    assert!(!target.exists());
    for dir in [source, root, target] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_restore_into_a_used_folder_is_refused_and_changes_nothing() {
    let (backup, source, root) = small_backup("used");
    let arg = backup.display().to_string();
    // A folder with a database.
    let target = temp_dir("used-target");
    ok(nexus(&target, None, &["user", "list"]));
    let before = std::fs::read(target.join("nexus.db")).unwrap();
    let err = refused(nexus(&target, None, &["restore", &arg]));
    assert!(err.contains("already holds a database"), "{err}");
    assert_eq!(std::fs::read(target.join("nexus.db")).unwrap(), before);
    // A folder with files but no database.
    let files_only = temp_dir("used-files");
    std::fs::create_dir_all(files_only.join("files")).unwrap();
    std::fs::write(files_only.join("files/blob"), b"x").unwrap();
    let err = refused(nexus(&files_only, None, &["restore", &arg]));
    assert!(err.contains("files is not empty"), "{err}");
    assert!(!files_only.join("nexus.db").exists());
    // A SQLite backup is not restored into PostgreSQL.
    let err = refused(nexus(
        &files_only,
        Some("postgres://postgres@127.0.0.1:5432/nexus_never_created"),
        &["restore", &arg],
    ));
    assert!(err.contains("nexus copy-to"), "{err}");
    for dir in [source, root, target, files_only] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_moves_a_seeded_installation_to_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let source = temp_dir("copy-source");
    let dir = source.clone();
    let seeded = tokio::task::spawn_blocking(move || {
        let seed_args = [
            "seed",
            "--assets",
            "1011",
            "--work-orders",
            "200",
            "--activities",
            "200",
        ];
        ok(nexus(&dir, None, &seed_args))
    })
    .await
    .unwrap();
    assert!(seeded.contains("seeded 1011 asset(s)"), "{seeded}");
    // The newest work order, with a checklist step, labor and a comment, goes to the
    // archive: the archive tables then hold the highest ids of all four tables.
    let (mut child, base) = serve(&source, None);
    let http = reqwest::Client::new();
    let token = sign_in(&http, &base).await;
    let archived = full_work_order(&http, &base, &token).await;
    let closed = http
        .post(format!("{base}/api/v1/work-orders/{}/status", archived[0]))
        .bearer_auth(&token)
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    child.kill().expect("stop");
    child.wait().expect("reap");
    let mut sqlite =
        SqliteConnection::connect(&format!("sqlite://{}", source.join("nexus.db").display()))
            .await
            .unwrap();
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(400)).timestamp_micros();
    sqlx::query("UPDATE work_orders SET completed_at = ?, updated_at = ? WHERE id = ?")
        .bind(long_ago)
        .bind(long_ago)
        .bind(archived[0])
        .execute(&mut sqlite)
        .await
        .unwrap();
    let dir = source.clone();
    let url = pg.url.clone();
    let (moved, copied) = tokio::task::spawn_blocking(move || {
        let moved = ok(nexus(&dir, None, &["archive"]));
        (moved, nexus(&dir, None, &["copy-to", &url]))
    })
    .await
    .unwrap();
    assert!(moved.contains("work_order_comments"), "{moved}");
    for (k, table) in ARCHIVED_WITH_WORK_ORDERS.iter().enumerate() {
        let top: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT MAX(id) FROM {table}_archive"
        )))
        .fetch_one(&mut sqlite)
        .await
        .unwrap();
        assert_eq!(top, Some(archived[k]), "{table}: {moved}");
    }
    let printed = ok(copied);
    assert!(printed.contains("every count verified"), "{printed}");

    // Every table, counted on both sides, as the command printed it.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite%' AND name <> 'seaql_migrations'",
    )
    .fetch_all(&mut sqlite)
    .await
    .unwrap();
    assert!(tables.len() > 50, "{tables:?}");
    let mut target = pg.connect().await;
    for table in &tables {
        let sql = format!("SELECT count(*) FROM \"{table}\"");
        let here: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_one(&mut sqlite)
            .await
            .unwrap();
        let there: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_one(&mut target)
            .await
            .unwrap();
        assert_eq!(here, there, "rows of {table}");
        let line = printed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table.as_str()))
            .unwrap_or_else(|| panic!("{table} printed: {printed}"));
        assert!(line.ends_with(&format!(" {here}")), "{line}");
    }
    let assets: i64 = sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(&mut target)
        .await
        .unwrap();
    assert_eq!(assets, 1011);
    // Booleans arrived as booleans, and new rows get fresh ids.
    let active: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE is_active")
        .fetch_one(&mut target)
        .await
        .unwrap();
    assert!(active > 0);
    let _ = target.close().await;
    let _ = sqlite.close().await;

    // Ids continue past the copied ones, the archived ones included.
    let (mut child, base) = serve(&source, Some(&pg.url));
    let token = sign_in(&http, &base).await;
    let fresh = full_work_order(&http, &base, &token).await;
    for (k, table) in ARCHIVED_WITH_WORK_ORDERS.iter().enumerate() {
        assert!(
            fresh[k] > archived[k],
            "{table}: {} after {}",
            fresh[k],
            archived[k]
        );
    }
    child.kill().expect("stop");
    child.wait().expect("reap");

    // A second copy into the now used database is refused.
    let dir = source.clone();
    let url = pg.url.clone();
    let out = tokio::task::spawn_blocking(move || nexus(&dir, None, &["copy-to", &url]))
        .await
        .unwrap();
    let err = refused(out);
    assert!(err.contains("the target database is not empty"), "{err}");
    pg.drop().await;
    let _ = std::fs::remove_dir_all(source);
}

/// The tables whose rows move to an `_archive` table with their work order, keeping ids.
const ARCHIVED_WITH_WORK_ORDERS: [&str; 4] = [
    "work_orders",
    "work_order_checklist_items",
    "work_order_labor",
    "work_order_comments",
];

/// A new work order with a checklist step, a labor entry and a comment: their ids, in the
/// order of [`ARCHIVED_WITH_WORK_ORDERS`].
async fn full_work_order(http: &reqwest::Client, base: &str, token: &str) -> [i64; 4] {
    let post = |path: String, body: Value| async move {
        let res = http
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{path}");
        res.json::<Value>().await.unwrap()
    };
    let order = post(
        "/api/v1/work-orders".into(),
        json!({"title": "Replace seal", "checklist": [{"task": "Lock out"}]}),
    )
    .await;
    let id = order["id"].as_i64().unwrap();
    let labor = post(
        format!("/api/v1/work-orders/{id}/labor"),
        json!({"started_at": "2025-01-01T08:00:00Z", "ended_at": "2025-01-01T09:00:00Z"}),
    )
    .await;
    let comment = post(
        format!("/api/v1/work-orders/{id}/comments"),
        json!({"content": "Seal was cracked"}),
    )
    .await;
    [
        id,
        order["checklist"][0]["id"].as_i64().unwrap(),
        labor["id"].as_i64().unwrap(),
        comment["id"].as_i64().unwrap(),
    ]
}

/// A sample of `/metrics` by its full name (`name` or `name{labels}`), when present.
async fn metric(http: &reqwest::Client, base: &str, name: &str) -> Option<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics");
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().parse().expect("a number"))
}

/// Polls `check` until it answers, for at most a minute.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    check: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The complete backups (with a manifest) in `root`, oldest first.
fn complete_backups(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .expect("backup root")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("manifest.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_run_and_keep_the_newest_sqlite() {
    let dir = temp_dir("scheduled");
    ok(nexus(&dir, None, &["user", "list"]));
    let root = dir.join("kept");
    let root_arg = root.to_string_lossy().into_owned();
    let (mut child, base) = serve_with(
        &dir,
        None,
        &[
            ("NEXUS_BACKUP_EVERY", "2s"),
            ("NEXUS_BACKUP_KEEP", "2"),
            ("NEXUS_BACKUP_DIR", &root_arg),
        ],
    );
    let http = reqwest::Client::new();
    sign_in(&http, &base).await;
    assert_eq!(
        metric(&http, &base, "backup_failures_total").await,
        Some(0.0)
    );
    until("three scheduled backups", || async {
        metric(&http, &base, "backup_runs_total")
            .await
            .filter(|&n| n >= 3.0)
    })
    .await;
    // The next run starts at the next two-second boundary: the third one is pruned after.
    let kept = complete_backups(&root);
    assert_eq!(kept.len(), 2, "only the newest two are kept: {kept:?}");
    assert_eq!(
        metric(&http, &base, "backup_failures_total").await,
        Some(0.0)
    );
    assert!(metric(&http, &base, "backup_age_seconds").await.is_some());
    child.kill().expect("stop");
    child.wait().expect("reap");

    // A kept backup restores like any other.
    let restored = temp_dir("scheduled-restored");
    let from = root.join(&kept[1]).to_string_lossy().into_owned();
    ok(nexus(&restored, None, &["restore", &from]));
    let _ = std::fs::remove_dir_all(restored);
    let _ = std::fs::remove_dir_all(dir);
}

/// A scheduled backup into a folder that is a file fails; the admins get an error message.
async fn failed_backup_tells_the_admins(backend: Backend) {
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match PgDatabase::create().await {
            Some(pg) => Some(pg),
            None => return,
        },
    };
    let url = pg.as_ref().map(|p| p.url.clone());
    let dir = temp_dir("failing");
    ok(nexus(&dir, url.as_deref(), &["user", "list"]));
    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, b"in the way").unwrap();
    let blocker_arg = blocker.to_string_lossy().into_owned();
    let (mut child, base) = serve_with(
        &dir,
        url.as_deref(),
        &[
            ("NEXUS_BACKUP_EVERY", "1s"),
            ("NEXUS_BACKUP_DIR", &blocker_arg),
        ],
    );
    let http = reqwest::Client::new();
    let token = sign_in(&http, &base).await;
    let message = until("the admins' system message", || async {
        let res = http
            .get(format!("{base}/api/v1/system-messages/active"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("active messages");
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await.expect("messages");
        list.as_array()
            .expect("a list")
            .iter()
            .find(|m| m["title"] == "Scheduled backup failed")
            .cloned()
    })
    .await;
    assert_eq!(message["message_type"], "error");
    let content = message["content"].as_str().unwrap();
    assert!(content.contains(&blocker_arg), "{content}");
    assert!(content.contains("creating"), "says what failed: {content}");
    let failures = metric(&http, &base, "backup_failures_total").await;
    assert!(failures.is_some_and(|n| n >= 1.0), "{failures:?}");
    assert_eq!(metric(&http, &base, "backup_age_seconds").await, None);
    child.kill().expect("stop");
    child.wait().expect("reap");
    if let Some(pg) = pg {
        pg.drop().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_backup_tells_the_admins_sqlite() {
    failed_backup_tells_the_admins(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_backup_tells_the_admins_postgres() {
    failed_backup_tells_the_admins(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_on_s3_are_backed_up_and_restored_through_the_store() {
    let moto = Moto::start();
    moto.bucket("plant").await;
    moto.bucket("restored").await;
    let env = moto.env("s3://plant/blobs");
    let dir = temp_dir("s3");
    ok(nexus_command(&dir, None, &["user", "list"])
        .envs(env)
        .output()
        .unwrap());
    let (mut child, base) = serve_with(&dir, None, &env);
    let http = reqwest::Client::new();
    let token = sign_in(&http, &base).await;
    let part = reqwest::multipart::Part::bytes(b"pump nameplate\n".to_vec())
        .file_name("nameplate.txt")
        .mime_str("text/plain")
        .unwrap();
    let res = http
        .post(format!("{base}/api/v1/files"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 201);
    let file: Value = res.json().await.unwrap();
    let hash = file["file_hash"].as_str().unwrap().to_string();
    child.kill().expect("stop");
    child.wait().expect("reap");
    assert!(!dir.join("files").exists(), "the blob went to S3");

    let root = temp_dir("s3-backups");
    let root_arg = root.to_string_lossy().into_owned();
    let out = nexus_command(&dir, None, &["backup", "--to", &root_arg])
        .envs(env)
        .output()
        .unwrap();
    ok(out);
    let backup = backup_in(&root);
    let blob = backup
        .join("files")
        .join(&hash[..2])
        .join(&hash[2..4])
        .join(&hash);
    assert_eq!(std::fs::read(&blob).unwrap(), b"pump nameplate\n");

    // Restored into another bucket, the file downloads from there.
    let restored = temp_dir("s3-restored");
    let env = moto.env("s3://restored/blobs");
    let from = backup.to_string_lossy().into_owned();
    ok(nexus_command(&restored, None, &["restore", &from])
        .envs(env)
        .output()
        .unwrap());
    let (mut child, base) = serve_with(&restored, None, &env);
    let token = sign_in(&http, &base).await;
    let res = http
        .get(format!("{base}/api/v1/files/{}/content", file["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(&res.bytes().await.unwrap()[..], b"pump nameplate\n");
    child.kill().expect("stop");
    child.wait().expect("reap");

    // An unreachable endpoint stops the backup with the reason, leaving no folder behind.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let err = refused(
        nexus_command(&dir, None, &["backup", "--to", &root_arg])
            .envs(moto.env("s3://plant/blobs"))
            .env("AWS_ENDPOINT_URL", &nowhere)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("opening the file store: NEXUS_FILES_URL s3://plant/blobs"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
    for d in [dir, root, restored] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The slot (of `every`) a scheduled backup's folder name falls in.
fn slot_of(name: &str, every: i64) -> i64 {
    let time = name.trim_start_matches("nexus-");
    let at =
        chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%.3fZ").expect("a backup name");
    at.and_utc().timestamp() / every
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_take_each_scheduled_backup_once() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let http = reqwest::Client::new();
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b"] {
        let dir = temp_dir(name);
        ok(nexus(&dir, Some(&pg.url), &["user", "list"]));
        let (child, base) = serve_with(
            &dir,
            Some(&pg.url),
            &[("NEXUS_BACKUP_EVERY", "2s"), ("NEXUS_BACKUP_KEEP", "100")],
        );
        nodes.push((dir, child, base));
    }
    for (_, _, base) in &nodes {
        sign_in(&http, base).await;
    }
    until("four scheduled backups over both nodes", || async {
        let mut runs = 0.0;
        for (_, _, base) in &nodes {
            runs += metric(&http, base, "backup_runs_total")
                .await
                .unwrap_or(0.0);
        }
        (runs >= 4.0).then_some(())
    })
    .await;
    let mut slots = Vec::new();
    for (dir, child, base) in &mut nodes {
        assert_eq!(
            metric(&http, base, "backup_failures_total").await,
            Some(0.0)
        );
        child.kill().expect("stop");
        child.wait().expect("reap");
        let root = dir.join("backups");
        if root.exists() {
            slots.extend(complete_backups(&root).iter().map(|n| slot_of(n, 2)));
        }
    }
    let taken = slots.len();
    slots.sort();
    slots.dedup();
    assert!(taken >= 4, "{slots:?}");
    assert_eq!(slots.len(), taken, "one backup per period across the nodes");
    pg.drop().await;
    for (dir, _, _) in nodes {
        let _ = std::fs::remove_dir_all(dir);
    }
}
