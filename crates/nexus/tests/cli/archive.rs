//! `nexus archive` as an operator runs it, on SQLite and on PostgreSQL: `--dry-run` prints
//! what would move and changes nothing; a run moves exactly the closed work orders past
//! the configured age and prints the counts; a run under way elsewhere and a bad setting
//! are refused naming them.

use std::path::{Path, PathBuf};
use std::process::Output;

use nexus_server::testing::{Backend, TestServer};
use sea_orm::sqlx::{self, Connection, PgConnection, SqliteConnection};

use crate::ops::{PgDatabase, nexus_command, ok};

fn archive_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexus-archive-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(dir: &Path, url: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
    nexus_command(dir, url, args)
        .envs(env.iter().copied())
        .output()
        .expect("run nexus")
}

/// The two counts printed for `kind`.
fn counts(out: &str, kind: &str) -> (u64, u64) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} in {out}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.parse().expect("a count"))
        .collect();
    (n[0], n[1])
}

/// One number the database answers.
async fn query(dir: &Path, url: Option<&str>, sql: &str) -> i64 {
    match url {
        Some(url) => {
            let mut c = PgConnection::connect(url).await.expect("connect");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .expect(sql);
            let _ = c.close().await;
            n
        }
        None => {
            let path = format!("sqlite://{}", dir.join("nexus.db").display());
            let mut c = SqliteConnection::connect(&path).await.expect("connect");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .expect(sql);
            let _ = c.close().await;
            n
        }
    }
}

const OLD_CLOSED: &str = "SELECT COUNT(*) FROM work_orders WHERE status IN ('completed', \
    'cancelled') AND COALESCE(completed_at, updated_at) < ";

async fn archive_moves_what_the_dry_run_said(dir: &Path, url: Option<&str>) {
    ok(run(
        dir,
        url,
        &[],
        &["seed", "--assets", "1011", "--work-orders", "400"],
    ));
    let year_ago = chrono::Utc::now().timestamp_micros() - 365 * 86_400_000_000;
    let old = query(dir, url, &format!("{OLD_CLOSED}{year_ago}")).await;
    assert!(
        old > 100,
        "the seed spreads work orders over two years: {old}"
    );
    let total = query(dir, url, "SELECT COUNT(*) FROM work_orders").await;

    let dry = ok(run(dir, url, &[], &["archive", "--dry-run"]));
    assert!(
        dry.contains("WOULD MOVE") && dry.contains("nothing was changed"),
        "{dry}"
    );
    assert_eq!(counts(&dry, "work_orders"), (old as u64, 0));
    assert_eq!(counts(&dry, "metric_readings"), (0, 0));
    assert_eq!(
        query(dir, url, "SELECT COUNT(*) FROM work_orders").await,
        total
    );
    assert_eq!(
        query(
            dir,
            url,
            "SELECT COUNT(*) FROM audit_logs WHERE entity_type = 'archive'"
        )
        .await,
        0
    );

    // Another age is honoured (here as a flag's variable).
    let sooner = ok(run(
        dir,
        url,
        &[("NEXUS_ARCHIVE_WORK_ORDERS_AFTER_DAYS", "30")],
        &["archive", "--dry-run"],
    ));
    assert!(counts(&sooner, "work_orders").0 > old as u64, "{sooner}");

    let done = ok(run(dir, url, &[], &["archive"]));
    assert!(done.contains("MOVED"), "{done}");
    assert_eq!(counts(&done, "work_orders"), (old as u64, 0));
    assert_eq!(
        query(dir, url, "SELECT COUNT(*) FROM work_orders_archive").await,
        old
    );
    assert_eq!(
        query(dir, url, "SELECT COUNT(*) FROM work_orders").await,
        total - old
    );
    assert_eq!(query(dir, url, &format!("{OLD_CLOSED}{year_ago}")).await, 0);
    let audited =
        "SELECT COUNT(*) FROM audit_logs WHERE entity_type = 'archive' AND action = 'archive.run'";
    assert_eq!(query(dir, url, audited).await, 2, "one row per domain");
    // While a server runs one (here, one started this minute), another is refused.
    let now = chrono::Utc::now().timestamp_micros();
    let busy = query(
        dir,
        url,
        &format!(
            "INSERT INTO archive_runs (domain, status, started_at, heartbeat_at) \
             VALUES ('maintenance', 'running', {now}, {now}) RETURNING id"
        ),
    )
    .await;
    let refused = run(dir, url, &[], &["archive"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!("archive run {busy} of maintenance is under way")),
        "{said}"
    );
    let over = format!("UPDATE archive_runs SET status = 'done' WHERE id = {busy} RETURNING id");
    assert_eq!(query(dir, url, &over).await, busy);
    let again = ok(run(dir, url, &[], &["archive"]));
    assert_eq!(counts(&again, "work_orders"), (0, 0));

    let bad = run(dir, url, &[("NEXUS_RETENTION_DAYS", "0")], &["archive"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("retention-days"),
        "{bad:?}"
    );
}

#[tokio::test]
async fn archive_moves_what_the_dry_run_said_sqlite() {
    let dir = archive_dir("sqlite");
    archive_moves_what_the_dry_run_said(&dir, None).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn archive_moves_what_the_dry_run_said_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = archive_dir("postgres");
    archive_moves_what_the_dry_run_said(&dir, Some(&db.url)).await;
    db.drop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_backup_carries_the_metric_archive_files() {
    let Some(mut srv) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let asset = srv
        .create("/api/v1/assets", &admin, serde_json::json!({"name": "Fan"}))
        .await;
    let metric = serde_json::json!({"metric_name": "vibration"});
    srv.create(&format!("/api/v1/assets/{asset}/metrics"), &admin, metric)
        .await;
    let old = chrono::Utc::now().timestamp_millis() - 200 * 86_400_000;
    let points: Vec<serde_json::Value> = (0..50)
        .map(|k| serde_json::json!({"asset_id": asset, "metric": "vibration", "ts": old + k * 1000, "value": k}))
        .collect();
    let res = srv
        .post(
            "/api/v1/telemetry",
            &admin,
            serde_json::json!({"points": points}),
        )
        .await;
    assert_eq!(res.json["stored"], 50, "{:?}", res.json);
    let run = nexus_telemetry::archive::run(&srv.state, false)
        .await
        .unwrap();
    assert!(run.of("metric_files").archived >= 1, "{run:?}");
    let archived = tree(&srv.data_dir.join("files").join("archive"));
    assert!(!archived.is_empty());
    srv.hand_over().await;

    let root = archive_dir("backups");
    ok(run_in(
        &srv.data_dir,
        &["backup", "--to", root.to_str().unwrap()],
    ));
    let backup = std::fs::read_dir(&root)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let restored = archive_dir("restored");
    ok(run_in(&restored, &["restore", backup.to_str().unwrap()]));
    assert_eq!(tree(&restored.join("files").join("archive")), archived);
    srv.finish().await;
    let _ = std::fs::remove_dir_all(root);
    let _ = std::fs::remove_dir_all(restored);
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    run(dir, None, &[], args)
}
