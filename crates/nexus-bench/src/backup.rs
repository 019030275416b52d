//! Backup while the server takes writes (issue 16): a store of `--movements` movements
//! (`nexus seed`) and `--samples` telemetry samples (written straight into the database),
//! then the `record` load without a backup and while `nexus backup --to DIR` runs beside
//! the server, in alternating rounds so the machine's noise falls on both; each backup's
//! duration, size and manifest, and the load's p50/p99 during against without.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::sqlx::{self, Connection, PgConnection};

use crate::load::{MakeRequest, Stats, run_load_with};
use crate::production::{RECORD_CONNS, record_requests};
use crate::server::{self, Nexus};
use crate::telemetry;

/// Rounds, each the load without a backup for `--seconds`, then with one.
const ROUNDS: usize = 3;
/// The load runs in windows of this length both without and during a backup; the last
/// window of a backup ends within this of the backup's end.
const WINDOW: Duration = Duration::from_secs(1);

/// Seeds, then measures `record` without and during backups.
pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    movements: u64,
    samples: u64,
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let seeded = server::seed(binary, database_url, &dir, &[("--movements", movements)]).await?;
    let (_, generated) = telemetry::generate_store(binary, database_url, &dir, samples).await?;
    let (stored, _) = telemetry::stored_size(&dir, database_url).await?;
    let size = database_bytes(&dir, database_url).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    println!(
        "backup ({backend}): {movements} movements seeded in {:.0} s, {stored} samples generated in {:.0} s; database {:.2} GB; load average {}",
        seeded.as_secs_f64(),
        generated.as_secs_f64(),
        size as f64 / 1e9,
        server::load_average()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let make = record_requests(token);
    run_load_with(nexus.addr, RECORD_CONNS, WINDOW, make.clone()).await?;

    let (mut without, mut during) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let mut quiet = Vec::new();
        for _ in 0..secs {
            quiet.push(run_load_with(nexus.addr, RECORD_CONNS, WINDOW, make.clone()).await?);
        }
        let (quiet_worst, _) = worst_p99(&quiet);
        let quiet = Stats::merged(quiet);
        let b = during_backup(binary, database_url, &dir, &nexus, &make)
            .await
            .with_context(|| format!("round {round}"))?;
        println!(
            "  round {round}: backup {:.1} s, {:.2} GB in {} files, exit 0 and manifest present",
            b.took.as_secs_f64(),
            b.bytes as f64 / 1e9,
            b.files
        );
        println!(
            "    record without: {}; worst window p99 {quiet_worst:.2} ms",
            quiet.summary()
        );
        println!(
            "    record during:  {}; worst window p99 {:.2} ms (window {} of {})",
            b.load.summary(),
            b.worst_p99.0,
            b.worst_p99.1,
            b.worst_p99.2
        );
        without.push(quiet);
        during.push(b.load);
    }
    let (without, during) = (Stats::merged(without), Stats::merged(during));
    println!("  record, {RECORD_CONNS} conns, all {ROUNDS} rounds:");
    println!("    without a backup: {}", without.summary());
    println!("    during backups:   {}", during.summary());
    println!(
        "    during / without: p50 {:.2}, p99 {:.2} (issue target p99 <= 2); load average {}",
        during.p50_ms() / without.p50_ms().max(0.001),
        during.p99_ms() / without.p99_ms().max(0.001),
        server::load_average()
    );
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}

/// One backup and the load while it ran.
struct BackupRound {
    load: Stats,
    /// The highest p99 of one window, which window it was, and how many there were.
    worst_p99: (f64, usize, usize),
    took: Duration,
    bytes: u64,
    files: usize,
}

/// The highest p99 among load windows, and which window (from 1) it was.
fn worst_p99(windows: &[Stats]) -> (f64, usize) {
    windows
        .iter()
        .map(Stats::p99_ms)
        .enumerate()
        .fold(
            (0.0, 0),
            |worst, (i, p99)| {
                if p99 > worst.0 { (p99, i + 1) } else { worst }
            },
        )
}

/// Runs `nexus backup` into a fresh folder while the load runs in windows until it ends;
/// checks it succeeded and left a complete backup, then removes it.
async fn during_backup(
    binary: &str,
    database_url: Option<&str>,
    dir: &Path,
    nexus: &Nexus,
    make: &MakeRequest,
) -> anyhow::Result<BackupRound> {
    let to = server::fresh_dir()?;
    let mut cmd = server::command(binary, database_url, dir)?;
    cmd.arg("backup")
        .arg("--to")
        .arg(&to)
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd.spawn().context("starting nexus backup")?;
    let backup = tokio::spawn(async move {
        let out = child.wait_with_output().await;
        (out, started.elapsed())
    });
    let mut windows = Vec::new();
    while !backup.is_finished() {
        windows.push(run_load_with(nexus.addr, RECORD_CONNS, WINDOW, make.clone()).await?);
    }
    let (out, took) = backup.await?;
    let out = out.context("waiting for nexus backup")?;
    anyhow::ensure!(
        out.status.success(),
        "nexus backup failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let checked = check_backup(&to);
    let _ = std::fs::remove_dir_all(&to);
    let (bytes, files) = checked?;
    Ok(BackupRound {
        worst_p99: {
            let (p99, at) = worst_p99(&windows);
            (p99, at, windows.len())
        },
        load: Stats::merged(windows),
        took,
        bytes,
        files,
    })
}

/// The one complete backup folder in `to` (no `.partial` left) with its `manifest.json`:
/// its size in bytes and the number of files the manifest lists.
fn check_backup(to: &Path) -> anyhow::Result<(u64, usize)> {
    let folders: Vec<_> = std::fs::read_dir(to)?.collect::<Result<_, _>>()?;
    anyhow::ensure!(
        folders.len() == 1,
        "expected one backup folder in {}, found {}",
        to.display(),
        folders.len()
    );
    let folder = folders[0].path();
    anyhow::ensure!(
        folder.extension().is_none_or(|e| e != "partial"),
        "the backup was left partial: {}",
        folder.display()
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(folder.join("manifest.json")).context("reading the backup's manifest")?,
    )?;
    let files = manifest["files"]
        .as_object()
        .context("the manifest lists no files")?
        .len();
    Ok((bytes_under(&folder)?, files))
}

/// Bytes of the files under `path`.
fn bytes_under(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            bytes_under(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Size of the database: the SQLite file with its WAL, or `pg_database_size`.
async fn database_bytes(dir: &Path, database_url: Option<&str>) -> anyhow::Result<u64> {
    match server::database_url_for(dir, database_url)? {
        Some(url) => {
            let mut conn = PgConnection::connect(&url).await?;
            let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            Ok(bytes as u64)
        }
        None => Ok(["nexus.db", "nexus.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum()),
    }
}
