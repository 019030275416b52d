//! Maintenance at plant scale: the work order list under every combination of its filters
//! and asset subtrees, over a seeded registry (`nexus seed --assets --work-orders`).

use nexus_core::seeding::Rng;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::load::{Request, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Assets in a generated plant (`nexus_maintenance::service::seed::PLANT_SIZE`).
const PLANT_SIZE: u64 = 1011;
const STATUSES: [&str; 5] = ["open", "in_progress", "on_hold", "completed", "cancelled"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// A random filter combination of the work order list: each of status, asset, assignee,
/// priority and due range present or not.
fn filters(rng: &mut Rng, assets: u64, techs: &[i64]) -> String {
    let mask = rng.below(32);
    let mut q = vec!["limit=50".to_string()];
    if mask & 1 != 0 {
        let a = STATUSES[rng.below(5) as usize];
        let b = STATUSES[rng.below(5) as usize];
        q.push(if a == b {
            format!("status={a}")
        } else {
            format!("status={a},{b}")
        });
    }
    if mask & 2 != 0 {
        q.push(format!("asset_id={}", 1 + rng.below(assets)));
    }
    if mask & 4 != 0 {
        q.push(format!(
            "assigned_to_id={}",
            techs[rng.below(techs.len() as u64) as usize]
        ));
    }
    if mask & 8 != 0 {
        q.push(format!("priority={}", PRIORITIES[rng.below(4) as usize]));
    }
    if mask & 16 != 0 {
        let today = chrono::Utc::now().date_naive();
        let from = today - chrono::Duration::days(rng.below(720) as i64);
        let to = from + chrono::Duration::days(30);
        q.push(format!("due_from={from}&due_to={to}"));
    }
    q.join("&")
}

/// Seeds `assets` assets and `work_orders` work orders, then measures the list under
/// random filter combinations and plant subtrees (1,011 assets each).
pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    assets: u64,
    work_orders: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let flags = [("--assets", assets), ("--work-orders", work_orders)];
    let seeded = server::seed(binary, database_url, &dir, &flags).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    let plants = assets.div_ceil(PLANT_SIZE);
    let assets = plants * PLANT_SIZE;
    println!(
        "maintenance ({backend}): {assets} assets and {work_orders} work orders seeded in {:.1} s",
        seeded.as_secs_f64()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let (_, body) = send_once(
        nexus.addr,
        &Request::get("/api/v1/users?q=tech&limit=100").bearer(&token),
    )
    .await?;
    let users: serde_json::Value = serde_json::from_slice(&body)?;
    let techs: Arc<Vec<i64>> = Arc::new(
        users["items"]
            .as_array()
            .context("users")?
            .iter()
            .filter_map(|u| u["id"].as_i64())
            .collect(),
    );
    anyhow::ensure!(!techs.is_empty(), "the seed made no technicians");
    let phase = Duration::from_secs(secs);

    let named: [(&str, &str); 6] = [
        ("none", ""),
        ("status=open", "status=open"),
        ("status=completed", "status=completed"),
        ("priority=high,critical", "priority=high,critical"),
        (
            "status+priority",
            "status=open,in_progress&priority=critical",
        ),
        ("sort=due_date", "status=open&sort=due_date"),
    ];
    for (name, q) in named {
        let t = token.clone();
        let stats = run_load_with(
            nexus.addr,
            1,
            phase / 2,
            Arc::new(move |_, _| {
                Request::get(&format!("/api/v1/work-orders?limit=50&{q}")).bearer(&t)
            }),
        )
        .await?;
        println!("  list, {name:<24} {}", stats.summary());
    }
    for conns in [1, 4] {
        let (t, techs) = (token.clone(), techs.clone());
        let stats = run_load_with(
            nexus.addr,
            conns,
            phase,
            Arc::new(move |c, i| {
                let mut rng = Rng((c as u64) << 32 ^ i);
                Request::get(&format!(
                    "/api/v1/work-orders?{}",
                    filters(&mut rng, assets, &techs)
                ))
                .bearer(&t)
            }),
        )
        .await?;
        println!(
            "  list, random combination of status/asset/assignee/priority/due, {conns} conn: {}",
            stats.summary()
        );
    }
    let t = token.clone();
    let stats = run_load_with(
        nexus.addr,
        1,
        phase,
        Arc::new(move |_, i| {
            let root = 1 + Rng(i).below(plants) * PLANT_SIZE;
            Request::get(&format!("/api/v1/assets/{root}/subtree")).bearer(&t)
        }),
    )
    .await?;
    println!(
        "  subtree of a plant ({PLANT_SIZE} assets), 1 conn: {}",
        stats.summary()
    );
    // Home as an admin sees it: every domain's panels (alerts, my work, production,
    // backlog and availability, parts to reorder), and the navigation's counts.
    for (name, path) in [
        ("home page", "/"),
        ("attention counts", "/api/v1/auth/me/attention"),
    ] {
        let t = token.clone();
        let stats = run_load_with(
            nexus.addr,
            1,
            phase / 2,
            Arc::new(move |_, _| Request::get(path).bearer(&t)),
        )
        .await?;
        println!("  {name}, 1 conn: {}", stats.summary());
    }
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}
