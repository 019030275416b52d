//! Production tracking scenarios: recording under load, CSV import, and reports and lists
//! over a large seeded history, with the rollup compared against a plain GROUP BY.

use nexus_core::seeding::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::load::{MakeRequest, Request, run_load_with, send_once};
use crate::server::{self, Nexus};

const DAY_MICROS: i64 = 86_400_000_000;

/// Builds the query string of the `i`-th request of a list scenario.
type QueryFor = Box<dyn Fn(u64) -> String + Send + Sync>;

/// Connections of the `record` load.
pub(crate) const RECORD_CONNS: usize = 64;

/// The `record` load's requests: each connection moves its own order IN and OUT in turn,
/// so every OUT takes the WIP-guarded path.
pub(crate) fn record_requests(token: String) -> MakeRequest {
    Arc::new(move |conn: usize, i: u64| {
        let body = serde_json::json!({
            "production_order": format!("BENCH-{conn}"),
            "workcenter_id": 1 + conn % 5,
            "quantity": 1,
            "order_type": if i.is_multiple_of(2) { "IN" } else { "OUT" },
        });
        Request::post_json("/api/v1/production-orders", &body.to_string()).bearer(&token)
    })
}

/// Movements recorded through the API at [`RECORD_CONNS`] connections.
pub async fn record(binary: &str, database_url: Option<&str>, secs: u64) -> anyhow::Result<()> {
    let nexus = Nexus::start(binary, database_url).await?;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let make = record_requests(token);
    run_load_with(
        nexus.addr,
        RECORD_CONNS,
        Duration::from_secs(1),
        make.clone(),
    )
    .await?;
    let stats = run_load_with(nexus.addr, RECORD_CONNS, Duration::from_secs(secs), make).await?;
    println!(
        "record ({}): POST /api/v1/production-orders, {RECORD_CONNS} connections, {secs}s",
        nexus.backend()
    );
    println!("  {}", stats.summary());
    nexus.stop().await;
    Ok(())
}

/// A CSV of `rows` movements: orders moving IN then OUT across the five default centers.
fn movements_csv(rows: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows as usize * 40);
    out.extend_from_slice(b"production_order,workcenter_code,quantity,order_type\n");
    for i in 0..rows {
        let order = i / 2;
        let line = format!(
            "IMP-{order:08},WC00{},{},{}\n",
            1 + order % 5,
            1 + order % 50,
            if i % 2 == 0 { "IN" } else { "OUT" }
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// A CSV file of `rows` movements imported through the API in one request.
pub async fn import(binary: &str, database_url: Option<&str>, rows: u64) -> anyhow::Result<()> {
    let nexus = Nexus::start(binary, database_url).await?;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let csv = movements_csv(rows);
    let size = csv.len();
    let req = Request::post_csv("/api/v1/production-orders/import", csv).bearer(&token);
    let started = Instant::now();
    let (status, body) = send_once(nexus.addr, &req).await?;
    let elapsed = started.elapsed();
    if status != 201 {
        bail!(
            "import answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    println!(
        "import ({}): {rows} rows, {:.1} MiB CSV over HTTP",
        nexus.backend(),
        size as f64 / 1048576.0
    );
    println!(
        "  {:.2} s, {:.0} rows/s (validation, WIP check and one transaction)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64()
    );
    nexus.stop().await;
    Ok(())
}

async fn time_query(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await?;
    Ok(started.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Reports and lists over `movements` seeded movements spread over two years across 50
/// work centers; the 31-day daily summary from the rollup against a GROUP BY scan.
pub async fn reports(
    binary: &str,
    database_url: Option<&str>,
    movements: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let seeded = server::seed(binary, database_url, &dir, &[("--movements", movements)]).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "reports ({backend}): {movements} movements seeded in {:.1} s ({:.0} rows/s)",
        seeded.as_secs_f64(),
        movements as f64 / seeded.as_secs_f64()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let now = chrono::Utc::now();
    let first_day = (now - chrono::Duration::days(729)).date_naive();
    let phase = Duration::from_secs(secs);

    let t = token.clone();
    let summary = run_load_with(
        nexus.addr,
        1,
        phase,
        Arc::new(move |_, i| {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i + 1));
            let from = first_day + chrono::Duration::days(rng.below(698) as i64);
            let to = from + chrono::Duration::days(30);
            Request::get(&format!(
                "/api/v1/reports/production/daily?from={from}&to={to}"
            ))
            .bearer(&t)
        }),
    )
    .await?;
    println!(
        "  daily summary, random 31-day range, HTTP: {}",
        summary.summary()
    );

    let (_, body) = send_once(
        nexus.addr,
        &Request::get("/api/v1/production-orders?limit=1").bearer(&token),
    )
    .await?;
    let latest: serde_json::Value = serde_json::from_slice(&body)?;
    let order = latest["items"][0]["production_order"]
        .as_str()
        .context("an order")?
        .to_string();
    let order_prefix = order
        .rsplit_once('-')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default();
    let pairs = movements / 2;
    let filters: [(&str, QueryFor); 6] = [
        ("none", Box::new(|_| String::new())),
        (
            "workcenter_id",
            Box::new(|i| format!("workcenter_id={}", 1 + Rng(i + 7).below(50))),
        ),
        (
            "production_order",
            Box::new(move |i| {
                format!(
                    "production_order={order_prefix}-{:08}",
                    Rng(i + 11).below(pairs.max(1))
                )
            }),
        ),
        ("order_type", Box::new(|_| "order_type=OUT".into())),
        ("user_id", Box::new(|_| "user_id=1".into())),
        (
            "from/to (one day)",
            Box::new(move |i| {
                let day = now - chrono::Duration::days(1 + Rng(i + 13).below(700) as i64);
                let from = day.format("%Y-%m-%dT00:00:00Z");
                let to = (day + chrono::Duration::days(1)).format("%Y-%m-%dT00:00:00Z");
                format!("from={from}&to={to}")
            }),
        ),
    ];
    for (name, make) in filters {
        let t = token.clone();
        let make = Arc::new(make);
        let stats = run_load_with(
            nexus.addr,
            1,
            phase,
            Arc::new(move |_, i| {
                Request::get(&format!("/api/v1/production-orders?limit=50&{}", make(i))).bearer(&t)
            }),
        )
        .await?;
        println!("  list, filter {name:<18} HTTP: {}", stats.summary());
    }
    nexus.stop().await;

    // The same 31-day summary straight from the database: the rollup against GROUP BY.
    let url = match server::database_url_for(&dir, database_url)? {
        Some(url) => url,
        None => format!("sqlite://{}?mode=ro", dir.join("nexus.db").display()),
    };
    let db = Database::connect(url).await?;
    let mut rollup = Vec::new();
    let mut scan = Vec::new();
    let mut rng = Rng(42);
    for _ in 0..15 {
        let from = first_day + chrono::Duration::days(rng.below(698) as i64);
        let to = from + chrono::Duration::days(30);
        let start = from
            .and_hms_opt(0, 0, 0)
            .context("midnight")?
            .and_utc()
            .timestamp_micros();
        let end = start + 31 * DAY_MICROS;
        rollup.push(
            time_query(
                &db,
                &format!("SELECT day, workcenter_id, order_type, movements, quantity, scrap FROM production_daily WHERE day >= '{from}' AND day <= '{to}' ORDER BY day, workcenter_id, order_type"),
            )
            .await?,
        );
        scan.push(
            time_query(
                &db,
                &format!("SELECT workcenter_id, order_type, COUNT(*), SUM(quantity) FROM production_orders WHERE created_at >= {start} AND created_at < {end} GROUP BY workcenter_id, order_type"),
            )
            .await?,
        );
    }
    let (r, s) = (median(rollup), median(scan));
    println!(
        "  31-day summary in the database: rollup {:.2} ms, GROUP BY over movements {:.2} ms (medians of 15): GROUP BY / rollup = {:.0}x",
        r.as_secs_f64() * 1e3,
        s.as_secs_f64() * 1e3,
        s.as_secs_f64() / r.as_secs_f64().max(1e-9)
    );
    db.close().await?;
    server::remove_data(&dir).await;
    Ok(())
}
