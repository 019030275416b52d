//! `nexus archive`: one archiving run of every domain that archives (work orders, metric
//! readings), or with `--dry-run` what one would do, printed as counts per kind of record.
//! The settings every node shares: how long closed work orders stay live, and how long
//! archived records are kept.

use clap::Args;
use nexus_core::archive::ArchiveReport;
use nexus_core::{AppState, Config};

/// Ages of archiving and retention, in days. (Raw metric readings leave the database
/// after the telemetry setting `retention_days`, changed at `/telemetry/settings`.)
#[derive(Args)]
pub struct ArchiveSettings {
    /// Completed and cancelled work orders move to the archive tables this many days after
    /// they closed (read-only there, still listed with `?archived=true` and in the KPIs).
    #[arg(long, env = "NEXUS_ARCHIVE_WORK_ORDERS_AFTER_DAYS", default_value_t = 365,
        value_parser = clap::value_parser!(u32).range(1..), global = true)]
    archive_work_orders_after_days: u32,
    /// Archived work orders, archived metric files and metric rollups are deleted this many
    /// days after they closed or were recorded (seven years by default).
    #[arg(long, env = "NEXUS_RETENTION_DAYS", default_value_t = 7 * 365,
        value_parser = clap::value_parser!(u32).range(1..), global = true)]
    retention_days: u32,
}

impl ArchiveSettings {
    /// Puts these settings into `config`.
    pub fn apply(&self, config: &mut Config) {
        config.archive_work_orders_after_days = self.archive_work_orders_after_days;
        config.retention_days = self.retention_days;
    }
}

/// Runs (or, `dry_run`, counts) the archiving of every domain; each domain's run is
/// audited with its counts unless dry, and refused while one of it runs in a server.
pub async fn archive(state: AppState, dry_run: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let describe = |e: nexus_core::ApiError| anyhow::anyhow!("{}", e.problem().detail);
    let mut reports: Vec<ArchiveReport> = Vec::new();
    for archiver in [
        &nexus_maintenance::service::archive::ARCHIVER,
        &nexus_telemetry::archive::ARCHIVER,
    ] {
        let report = match dry_run {
            true => archiver.dry_run(&state).await,
            false => archiver.run_now(&state).await,
        };
        reports.push(report.map_err(describe)?);
    }
    state.db.close().await;
    let (moved, deleted) = match dry_run {
        true => ("WOULD MOVE", "WOULD DELETE"),
        false => ("MOVED", "DELETED"),
    };
    println!("{:<24} {:>14} {:>14}", "KIND", moved, deleted);
    for r in &reports {
        for c in &r.counts {
            println!("{:<24} {:>14} {:>14}", c.kind, c.archived, c.deleted);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    match dry_run {
        true => println!("dry run: nothing was changed ({secs:.1} s)"),
        false => {
            println!("archived in {secs:.1} s; each domain's run is in the audit log (archive.run)")
        }
    }
    Ok(())
}
