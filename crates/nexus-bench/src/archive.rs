//! Archiving at plant scale: the server's archive run moving about `--archive-work-orders` closed
//! work orders older than a year (from `nexus seed --work-orders`, which spreads orders
//! over two years) while writers record work orders and production movements; the run's
//! duration (as the server timed it, polled until done), and the writers' p99 during it
//! against before it in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::load::{Request, Stats, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Where the archiving of work orders is started; its runs are at `{ARCHIVE}/runs/{id}`.
const ARCHIVE: &str = "/api/v1/maintenance/archive";

/// Writer connections: half create work orders, half record movements.
const WRITERS: usize = 8;

/// Of the work orders the seed writes, the share closed more than a year ago (a half are
/// that old, and 98 % of those are closed).
const ARCHIVABLE_PERCENT: u64 = 49;

/// How long the bench keeps one access token (the server's default lasts 15 minutes).
const RELOGIN: Duration = Duration::from_secs(600);

/// The writers' requests: a new work order on one of the seeded assets, or a movement of
/// the connection's own production order IN and OUT in turn.
fn writes(token: String) -> crate::load::MakeRequest {
    Arc::new(move |conn: usize, i: u64| {
        if conn.is_multiple_of(2) {
            let body = serde_json::json!({
                "title": format!("Bench order {conn}-{i}"),
                "asset_id": 1 + (i % 1000),
                "type": "corrective",
            });
            Request::post_json("/api/v1/work-orders", &body.to_string()).bearer(&token)
        } else {
            let body = serde_json::json!({
                "production_order": format!("ARCH-{conn}"),
                "workcenter_id": 1 + conn % 5,
                "quantity": 1,
                "order_type": if i.is_multiple_of(2) { "IN" } else { "OUT" },
            });
            Request::post_json("/api/v1/production-orders", &body.to_string()).bearer(&token)
        }
    })
}

pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    archivable: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let orders = archivable * 100 / ARCHIVABLE_PERCENT + 1;
    let flags = [("--assets", 1011), ("--work-orders", orders)];
    let seeded = server::seed(binary, database_url, &dir, &flags).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "archive ({backend}): {orders} work orders seeded in {:.1} s",
        seeded.as_secs_f64()
    );
    let mut token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let mut logged_in = Instant::now();
    let mut make = writes(token.clone());
    run_load_with(nexus.addr, WRITERS, Duration::from_secs(1), make.clone()).await?;
    let before =
        run_load_with(nexus.addr, WRITERS, Duration::from_secs(secs), make.clone()).await?;

    // The archive runs in the server, as its schedule runs it (here asked for through the
    // API, which starts it in the background), its batches sharing the writer with the
    // requests; the run is polled between one-second windows of writes.
    let start = Request::post_json(ARCHIVE, "").bearer(&token);
    let (status, body) = send_once(nexus.addr, &start).await?;
    anyhow::ensure!(
        status == 202,
        "the archive run did not start: {status} {}",
        String::from_utf8_lossy(&body)
    );
    let started: serde_json::Value = serde_json::from_slice(&body)?;
    let id = started["id"]
        .as_i64()
        .context("the started run has no id")?;
    let mut windows = Vec::new();
    let run = loop {
        // A run of a million outlasts an access token: log in again, as a client would.
        if logged_in.elapsed() > RELOGIN {
            token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
            logged_in = Instant::now();
            make = writes(token.clone());
        }
        windows
            .push(run_load_with(nexus.addr, WRITERS, Duration::from_secs(1), make.clone()).await?);
        let poll = Request::get(&format!("{ARCHIVE}/runs/{id}")).bearer(&token);
        let (status, body) = send_once(nexus.addr, &poll).await?;
        anyhow::ensure!(status == 200, "polling the archive run: {status}");
        let run: serde_json::Value = serde_json::from_slice(&body)?;
        if run["status"] != "running" {
            break run;
        }
    };
    anyhow::ensure!(
        run["status"] == "done",
        "the archive run failed: {}",
        run["error"]
    );
    // The server's own timing of the run, from start to finish.
    let took = run["seconds"].as_f64().context("the run has no duration")?;
    let moved = run["report"]["counts"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["kind"] == "work_orders"))
        .and_then(|c| c["archived"].as_u64())
        .context("the archive run reported no work orders")?;
    let worst = windows.iter().map(Stats::p99_ms).fold(0.0, f64::max);
    let during = Stats::merged(windows);

    println!(
        "  writes, {WRITERS} conns (work orders, movements), before: {}",
        before.summary()
    );
    println!(
        "  archive run: {moved} work orders moved in {took:.1} s ({:.0}/s)",
        moved as f64 / took.max(1e-9)
    );
    println!(
        "  writes, {WRITERS} conns, during the archive: {}",
        during.summary()
    );
    println!(
        "  writes p99 during / before: {:.2} (worst one-second window {worst:.2} ms)",
        during.p99_ms() / before.p99_ms().max(0.001)
    );
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}
