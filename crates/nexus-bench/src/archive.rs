//! Archiving at plant scale: the server's archive run moving about `--archive-work-orders` closed
//! work orders older than a year (from `nexus seed --work-orders`, which spreads orders
//! over two years) while writers record work orders and production movements; the run's
//! duration, and the writers' p99 during it against before it in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::load::{Request, Stats, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Writer connections: half create work orders, half record movements.
const WRITERS: usize = 8;

/// Of the work orders the seed writes, the share closed more than a year ago (a half are
/// that old, and 98 % of those are closed).
const ARCHIVABLE_PERCENT: u64 = 49;

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
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let make = writes(token.clone());
    run_load_with(nexus.addr, WRITERS, Duration::from_secs(1), make.clone()).await?;
    let before =
        run_load_with(nexus.addr, WRITERS, Duration::from_secs(secs), make.clone()).await?;

    // The archive runs in the server, as its schedule runs it (here asked for through the
    // API), its batches sharing the writer with the requests.
    let run = Request::post_json("/api/v1/maintenance/archive", "").bearer(&token);
    let started = Instant::now();
    let addr = nexus.addr;
    let archiving = tokio::spawn(async move { send_once(addr, &run).await });
    let mut windows = Vec::new();
    while !archiving.is_finished() {
        windows
            .push(run_load_with(nexus.addr, WRITERS, Duration::from_secs(1), make.clone()).await?);
    }
    let (status, body) = archiving.await??;
    let took = started.elapsed();
    anyhow::ensure!(status == 200, "the archive run failed: {status}");
    let report: serde_json::Value = serde_json::from_slice(&body)?;
    let moved = report["counts"]
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
        "  archive run: {moved} work orders moved in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        moved as f64 / took.as_secs_f64().max(1e-9)
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
