//! Maintenance scenarios: the last units of a part taken by many technicians at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use crate::load::{Request, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Sends one JSON request and parses the answer: (status, body).
async fn call(addr: SocketAddr, req: Request) -> anyhow::Result<(u16, Value)> {
    let (status, body) = send_once(addr, &req).await?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn create(addr: SocketAddr, token: &str, path: &str, body: Value) -> anyhow::Result<i64> {
    let (status, v) = call(
        addr,
        Request::post_json(path, &body.to_string()).bearer(token),
    )
    .await?;
    ensure!(status == 201, "POST {path}: {status} {v}");
    v["id"].as_i64().context("id")
}

/// `rounds` times: a part with 10 units at one location, and 100 requests at once each
/// consuming 1 of them. Checks that exactly 10 succeed, the stock ends at 0 and the
/// ledger adds up; then consumption throughput at 64 connections for `secs`.
pub async fn consume(
    binary: &str,
    database_url: Option<&str>,
    rounds: usize,
    secs: u64,
) -> anyhow::Result<()> {
    let nexus = Nexus::start(binary, database_url).await?;
    let addr = nexus.addr;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let site = create(addr, &token, "/api/v1/locations", json!({"name": "Stores"})).await?;
    let mut walls = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let part = create(
            addr,
            &token,
            "/api/v1/parts",
            json!({"sku": format!("LAST-{round}"), "name": "Scarce part", "unit_cost_cents": 100}),
        )
        .await?;
        let receive = json!({"location_id": site, "quantity": 10}).to_string();
        let (status, _) = call(
            addr,
            Request::post_json(&format!("/api/v1/parts/{part}/receive"), &receive).bearer(&token),
        )
        .await?;
        ensure!(status == 201, "receive: {status}");
        let req = Request::post_json(
            &format!("/api/v1/parts/{part}/consume"),
            &json!({"location_id": site, "quantity": 1}).to_string(),
        )
        .bearer(&token);
        let started = Instant::now();
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let req = req.clone();
                tokio::spawn(async move { send_once(addr, &req).await.map(|(s, _)| s) })
            })
            .collect();
        let mut statuses = Vec::with_capacity(100);
        for t in tasks {
            statuses.push(t.await??);
        }
        walls.push(started.elapsed());
        let ok = statuses.iter().filter(|s| **s == 201).count();
        let short = statuses.iter().filter(|s| **s == 409).count();
        ensure!(
            ok == 10 && short == 90,
            "round {round}: {ok} succeeded, {short} refused"
        );
        let (_, stock) = call(
            addr,
            Request::get(&format!("/api/v1/parts/{part}/stock")).bearer(&token),
        )
        .await?;
        ensure!(stock["quantity_in_stock"] == 0, "stock left: {stock}");
        let (_, ledger) = call(
            addr,
            Request::get(&format!("/api/v1/stock-movements?part_id={part}&limit=500"))
                .bearer(&token),
        )
        .await?;
        let lines = ledger["items"].as_array().context("ledger")?;
        let sum: i64 = lines.iter().filter_map(|l| l["quantity"].as_i64()).sum();
        ensure!(
            lines.len() == 11 && sum == 0,
            "ledger: {} lines summing to {sum}",
            lines.len()
        );
    }
    walls.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "consume ({}): {rounds} rounds of 100 concurrent consumptions of the last 10 units",
        nexus.backend()
    );
    println!(
        "  every round: exactly 10 succeeded, 90 refused with 409, stock 0, 11 ledger lines summing to 0"
    );
    println!(
        "  round wall time: median {:.1} ms, max {:.1} ms",
        ms(walls[walls.len() / 2]),
        ms(walls[walls.len() - 1])
    );

    let part = create(
        addr,
        &token,
        "/api/v1/parts",
        json!({"sku": "BULK", "name": "Plentiful part", "unit_cost_cents": 5}),
    )
    .await?;
    let receive = json!({"location_id": site, "quantity": 1_000_000_000}).to_string();
    let (status, _) = call(
        addr,
        Request::post_json(&format!("/api/v1/parts/{part}/receive"), &receive).bearer(&token),
    )
    .await?;
    ensure!(status == 201, "receive: {status}");
    let req = Request::post_json(
        &format!("/api/v1/parts/{part}/consume"),
        &json!({"location_id": site, "quantity": 1}).to_string(),
    )
    .bearer(&token);
    let make = Arc::new(move |_: usize, _: u64| req.clone());
    run_load_with(addr, 64, Duration::from_secs(1), make.clone()).await?;
    let stats = run_load_with(addr, 64, Duration::from_secs(secs), make).await?;
    println!(
        "  one part, one location, 64 connections, {secs}s: {}",
        stats.summary()
    );
    nexus.stop().await;
    Ok(())
}
