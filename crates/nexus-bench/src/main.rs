//! `nexus-bench`: starts the real `nexus` binary and measures it from outside, over HTTP
//! on loopback. Each scenario prints its figures; BENCHMARKS.md records them.

mod archive;
mod backup;
mod comms;
mod inventory;
mod load;
mod maintenance;
mod nodes;
mod pages;
mod production;
mod server;
mod telemetry;
mod work;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::load::{Request, run_load, send_once};
use crate::server::Nexus;

#[derive(Parser)]
#[command(about = "Benchmarks of the nexus binary")]
struct Cli {
    /// The nexus binary to measure (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/nexus")]
    nexus: String,
    /// PostgreSQL URL to run on instead of SQLite (a fresh database is created per run).
    #[arg(long)]
    database_url: Option<String>,
    /// Seconds each load phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rows of the CSV the import scenario sends.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Movements the reports, pages and backup scenarios seed.
    #[arg(long, default_value_t = 10_000_000)]
    movements: u64,
    /// Assets the maintenance scenario seeds.
    #[arg(long, default_value_t = 50_000)]
    assets: u64,
    /// Work orders the maintenance scenario seeds.
    #[arg(long, default_value_t = 500_000)]
    work_orders: u64,
    /// Activities the work scenario seeds.
    #[arg(long, default_value_t = 1_000_000)]
    activities: u64,
    /// Projects (50 tasks each) the work scenario seeds.
    #[arg(long, default_value_t = 2_000)]
    projects: u64,
    /// Readers the comms scenario seeds.
    #[arg(long, default_value_t = 10_000)]
    people: u64,
    /// Notifications the comms scenario seeds.
    #[arg(long, default_value_t = 1_000_000)]
    notifications: u64,
    /// Event streams the comms scenario opens (0: skip that phase).
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    /// Closed work orders older than a year the archive scenario moves (about; the seed
    /// writes twice as many, over two years).
    #[arg(long, default_value_t = 1_000_000)]
    archive_work_orders: u64,
    /// Samples the telemetry-query and backup scenarios store.
    #[arg(long, default_value_t = 100_000_000)]
    samples: u64,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand, Clone, Copy)]
enum Scenario {
    /// `GET /api/v1/auth/me` with a valid token at 64 connections.
    AuthMe,
    /// Sign-in rate under a flood, and `/auth/me` p99 with and without the flood.
    LoginFlood,
    /// Time from start to `/readyz`, first and later starts, and idle RSS.
    Startup,
    /// Idle RSS before and after 100 concurrent sign-ins.
    Memory,
    /// `POST /api/v1/production-orders` at 64 connections.
    Record,
    /// A CSV of `--rows` movements imported in one request.
    Import,
    /// Reports and lists over `--movements` seeded movements.
    Reports,
    /// Work order lists and asset subtrees over `--assets` and `--work-orders`.
    Maintenance,
    /// 100 concurrent consumptions of a part's last 10 units (20 rounds), then
    /// consumption throughput at 64 connections.
    Consume,
    /// Telemetry ingest over HTTP (JSON, line protocol) against a bare insert loop;
    /// bytes per sample.
    TelemetryIngest,
    /// 500-bucket history queries over a store of `--samples` samples.
    TelemetryQuery,
    /// Activity list filters and my work over `--activities`, a 2,000-task Gantt chart,
    /// dependency inserts, and the overdue sweep against concurrent writes.
    Work,
    /// A reader's notifications over `--notifications`, announcements published to
    /// `--people` readers while they read, and broadcasts to `--streams` event streams.
    Comms,
    /// Home, every navigation page and the records and next pages they link to first,
    /// as an admin, over `--assets`, `--work-orders` and `--movements` (and some of every
    /// other domain).
    Pages,
    /// `nexus archive` over about `--archive-work-orders` old closed work orders while
    /// writers record work orders and movements: its duration and their p99 against
    /// before it.
    Archive,
    /// `record` without a backup and while `nexus backup` runs, in alternating rounds,
    /// over `--movements` movements and `--samples` samples: the backup's duration and
    /// size, and `record` p50/p99 during against without.
    Backup,
    /// Two nodes on one PostgreSQL database (`--database-url` required): a write on node
    /// A to its event on a stream on node B and on node A, p50/p99/max; and an event over
    /// NOTIFY's 8,000-byte limit.
    Nodes,
    /// Every scenario above (`nodes` only with `--database-url`).
    All,
}

/// What `all` runs, in order; `nodes` last, as it needs PostgreSQL.
const ALL: [Scenario; 17] = [
    Scenario::Startup,
    Scenario::Memory,
    Scenario::AuthMe,
    Scenario::LoginFlood,
    Scenario::Record,
    Scenario::Import,
    Scenario::Reports,
    Scenario::Maintenance,
    Scenario::Consume,
    Scenario::TelemetryIngest,
    Scenario::TelemetryQuery,
    Scenario::Work,
    Scenario::Comms,
    Scenario::Pages,
    Scenario::Archive,
    Scenario::Backup,
    Scenario::Nodes,
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let scenarios: &[Scenario] = match cli.scenario {
        Scenario::All if cli.database_url.is_none() => &ALL[..ALL.len() - 1],
        Scenario::All => &ALL,
        ref one => std::slice::from_ref(one),
    };
    for s in scenarios {
        match s {
            Scenario::AuthMe => auth_me(&cli).await?,
            Scenario::LoginFlood => login_flood(&cli).await?,
            Scenario::Startup => startup(&cli).await?,
            Scenario::Memory => memory(&cli).await?,
            Scenario::Record => {
                production::record(&cli.nexus, cli.database_url.as_deref(), cli.seconds).await?
            }
            Scenario::Import => {
                production::import(&cli.nexus, cli.database_url.as_deref(), cli.rows).await?
            }
            Scenario::Reports => {
                production::reports(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.movements,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Maintenance => {
                maintenance::run(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.assets,
                    cli.work_orders,
                    cli.seconds,
                )
                .await?
            }
            Scenario::TelemetryIngest => {
                telemetry::ingest(&cli.nexus, cli.database_url.as_deref(), cli.seconds).await?
            }
            Scenario::TelemetryQuery => {
                telemetry::query(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.samples,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Consume => {
                inventory::consume(&cli.nexus, cli.database_url.as_deref(), 20, cli.seconds).await?
            }
            Scenario::Work => {
                work::run(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.activities,
                    cli.projects,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Comms => {
                comms::run(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    (cli.people, cli.notifications),
                    cli.streams,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Pages => {
                let sizes = [
                    ("--assets", cli.assets),
                    ("--work-orders", cli.work_orders),
                    ("--movements", cli.movements),
                    ("--activities", cli.activities),
                    ("--projects", cli.projects),
                    ("--people", cli.people),
                    ("--notifications", cli.notifications),
                    ("--announcements", 100),
                ];
                pages::run(&cli.nexus, cli.database_url.as_deref(), &sizes, cli.seconds).await?
            }
            Scenario::Archive => {
                archive::run(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.archive_work_orders,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Backup => {
                backup::run(
                    &cli.nexus,
                    cli.database_url.as_deref(),
                    cli.movements,
                    cli.samples,
                    cli.seconds,
                )
                .await?
            }
            Scenario::Nodes => nodes::run(&cli.nexus, cli.database_url.as_deref()).await?,
            Scenario::All => unreachable!("expanded above"),
        }
    }
    Ok(())
}

async fn auth_me(cli: &Cli) -> anyhow::Result<()> {
    let nexus = Nexus::start(&cli.nexus, cli.database_url.as_deref()).await?;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let req = Request::get("/api/v1/auth/me").bearer(&token);
    // Warm up connections and caches.
    run_load(nexus.addr, &req, 64, Duration::from_secs(1)).await?;
    let stats = run_load(nexus.addr, &req, 64, Duration::from_secs(cli.seconds)).await?;
    println!(
        "auth-me ({}): 64 connections, {}s",
        nexus.backend(),
        cli.seconds
    );
    println!("  {}", stats.summary());
    nexus.stop().await;
    Ok(())
}

async fn login_flood(cli: &Cli) -> anyhow::Result<()> {
    let nexus = Nexus::start(&cli.nexus, cli.database_url.as_deref()).await?;
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let me = Request::get("/api/v1/auth/me").bearer(&token);
    let login = Request::post_json(
        "/api/v1/auth/login",
        &serde_json::json!({"username": "admin", "password": server::ADMIN_PASSWORD}).to_string(),
    );
    let secs = Duration::from_secs(cli.seconds);
    run_load(nexus.addr, &me, 8, Duration::from_secs(1)).await?;
    let quiet = run_load(nexus.addr, &me, 8, secs).await?;
    let (flood, during) = tokio::join!(
        run_load(nexus.addr, &login, 32, secs),
        run_load(nexus.addr, &me, 8, secs)
    );
    let (flood, during) = (flood?, during?);
    println!(
        "login-flood ({}): {}s per phase",
        nexus.backend(),
        cli.seconds
    );
    println!("  sign-ins, 32 connections:      {}", flood.summary());
    println!("  /auth/me, 8 connections, quiet: {}", quiet.summary());
    println!("  /auth/me, 8 connections, flood: {}", during.summary());
    println!(
        "  /auth/me p99 during flood / quiet: {:.2}",
        during.p99_ms() / quiet.p99_ms().max(0.001)
    );
    nexus.stop().await;
    Ok(())
}

async fn startup(cli: &Cli) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let mut first = Nexus::start_in(&cli.nexus, cli.database_url.as_deref(), &dir).await?;
    let first_ready = first.ready_after;
    first.halt().await;
    let again = Nexus::start_in(&cli.nexus, cli.database_url.as_deref(), &dir).await?;
    let ready = again.ready_after;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = again.rss_kib().context("reading RSS")?;
    let token = again.login("admin", server::ADMIN_PASSWORD).await?;
    run_load(
        again.addr,
        &Request::get("/api/v1/auth/me").bearer(&token),
        64,
        Duration::from_secs(3),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_load = again.rss_kib().context("reading RSS")?;
    println!("startup ({}):", again.backend());
    println!(
        "  first start to /readyz: {:.0} ms (migrations, defaults, admin password hash)",
        first_ready.as_secs_f64() * 1e3
    );
    println!(
        "  later start to /readyz: {:.0} ms",
        ready.as_secs_f64() * 1e3
    );
    println!("  idle RSS after start:   {:.1} MiB", idle as f64 / 1024.0);
    println!(
        "  idle RSS after load:    {:.1} MiB",
        after_load as f64 / 1024.0
    );
    again.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}

async fn memory(cli: &Cli) -> anyhow::Result<()> {
    const SIGN_INS: usize = 100;
    // A later start, so the idle figure comes before any password was hashed.
    let dir = server::fresh_dir()?;
    Nexus::start_in(&cli.nexus, cli.database_url.as_deref(), &dir)
        .await?
        .halt()
        .await;
    let nexus = Nexus::start_in(&cli.nexus, cli.database_url.as_deref(), &dir).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = nexus.rss_kib().context("reading RSS")?;
    let login = Request::post_json(
        "/api/v1/auth/login",
        &serde_json::json!({"username": "admin", "password": server::ADMIN_PASSWORD}).to_string(),
    );
    let started = Instant::now();
    let burst: Vec<_> = (0..SIGN_INS)
        .map(|_| {
            let (addr, login) = (nexus.addr, login.clone());
            tokio::spawn(async move { send_once(addr, &login).await })
        })
        .collect();
    for sign_in in burst {
        let (status, _) = sign_in.await??;
        anyhow::ensure!(status == 200, "sign-in failed: {status}");
    }
    let took = started.elapsed();
    let peak = nexus.peak_rss_kib().context("reading RSS")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = nexus.rss_kib().context("reading RSS")?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "memory ({}): {SIGN_INS} concurrent sign-ins",
        nexus.backend()
    );
    println!("  idle RSS before:        {:.1} MiB", mib(idle));
    println!("  peak RSS (VmHWM):       {:.1} MiB", mib(peak));
    println!("  idle RSS after burst:   {:.1} MiB", mib(after));
    println!(
        "  after / before:         {:.2}",
        after as f64 / idle as f64
    );
    println!(
        "  sign-ins:               {:.0}/s ({:.2} s for {SIGN_INS})",
        SIGN_INS as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}
