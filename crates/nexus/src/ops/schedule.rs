//! Scheduled backups under `nexus serve` (`NEXUS_BACKUP_EVERY`): one backup per period,
//! the newest `NEXUS_BACKUP_KEEP` kept, a failure told to the admins as a system message.
//!
//! A background job (`nexus_core::jobs`, named `backup`): runs start on wall-clock
//! boundaries, and with several nodes on PostgreSQL one node takes each period's backup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use nexus_comms::model::NewSystemMessage;
use nexus_core::AppState;
use nexus_core::jobs::{self, Job};
use nexus_identity::entity::{role, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{MANIFEST, Manifest};

/// Longest text a system message takes.
const MAX_MESSAGE_CHARS: usize = 5000;

/// When and where `nexus serve` takes backups.
pub struct Schedule {
    pub every: Duration,
    /// Backups kept in `dir`; older ones are deleted after each successful run.
    pub keep: usize,
    pub dir: PathBuf,
}

/// Parses a period: a whole number and a unit, `s`, `m`, `h` or `d` (`90s`, `30m`, `6h`).
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "'{text}': expected a number and s, m, h or d (6h, 30m)"
            ));
        }
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n * unit)),
        _ => Err(format!(
            "'{text}': expected a positive whole number before the unit"
        )),
    }
}

/// Starts taking backups on `schedule` for as long as the process runs.
pub fn spawn(state: AppState, schedule: Schedule) {
    let last_success = Arc::new(AtomicI64::new(
        newest(&schedule.dir).map_or(-1, |m| m.timestamp()),
    ));
    tokio::spawn(report_age(last_success.clone()));
    let job = Job {
        name: "backup",
        every: schedule.every,
        once_across_nodes: true,
        at_start: false,
    };
    let schedule = Arc::new(schedule);
    jobs::every(&state, job, move |state| {
        let (schedule, last_success) = (schedule.clone(), last_success.clone());
        async move { scheduled(&state, &schedule, &last_success).await }
    });
}

/// One scheduled backup, counted; a failure is told to the admins, and answered with its
/// whole chain of causes for the job's log.
async fn scheduled(
    state: &AppState,
    schedule: &Schedule,
    last_success: &AtomicI64,
) -> Result<(), String> {
    let outcome = run(state, schedule).await;
    // Counted once finished, so a scraper seeing a run sees its outcome too.
    metrics::counter!("backup_runs_total").increment(1);
    match outcome {
        Ok(path) => {
            last_success.store(Utc::now().timestamp(), Ordering::Relaxed);
            tracing::info!(path = %path.display(), "scheduled backup taken");
            Ok(())
        }
        Err(e) => {
            metrics::counter!("backup_failures_total").increment(1);
            if let Err(e) = tell_admins(state, &schedule.dir, &e).await {
                tracing::error!(error = %format!("{e:#}"), "admins not told of the failed backup");
            }
            Err(format!("{e:#}"))
        }
    }
}

/// Keeps `backup_age_seconds` current (absent until a backup succeeded).
async fn report_age(last_success: Arc<AtomicI64>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let last = last_success.load(Ordering::Relaxed);
        if last >= 0 {
            metrics::gauge!("backup_age_seconds").set((Utc::now().timestamp() - last) as f64);
        }
    }
}

/// One backup into the schedule's folder, then the oldest beyond `keep` deleted.
async fn run(state: &AppState, schedule: &Schedule) -> anyhow::Result<PathBuf> {
    let done = super::backup::backup(&state.config, Some(schedule.dir.clone())).await?;
    let (dir, keep) = (schedule.dir.clone(), schedule.keep);
    tokio::task::spawn_blocking(move || prune(&dir, keep)).await??;
    Ok(done.path)
}

/// Complete backups in `dir` (those with a manifest), oldest first: their names hold
/// their UTC time, so they sort by it.
fn complete(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("nexus-")
            && !name.ends_with(".partial")
            && path.join(MANIFEST).is_file()
        {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes the oldest complete backups in `dir` beyond the newest `keep`.
fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let found = complete(dir)?;
    let excess = found.len().saturating_sub(keep);
    for old in &found[..excess] {
        std::fs::remove_dir_all(old).with_context(|| format!("deleting {}", old.display()))?;
    }
    Ok(())
}

/// When the newest complete backup in `dir` was taken, if there is one.
fn newest(dir: &Path) -> Option<chrono::DateTime<Utc>> {
    let path = complete(dir).ok()?.pop()?;
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(path.join(MANIFEST)).ok()?).ok()?;
    chrono::DateTime::parse_from_rfc3339(&manifest.created_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Posts an error system message to every active admin saying what failed.
async fn tell_admins(state: &AppState, dir: &Path, err: &anyhow::Error) -> anyhow::Result<()> {
    let admins: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::IsActive.eq(true))
        .filter(
            user::Column::RoleId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(role::Column::Id)
                    .from(role::Entity)
                    .and_where(role::Column::Name.eq("admin"))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(state.db.read())
        .await
        .context("finding the admins")?;
    if admins.is_empty() {
        return Ok(());
    }
    let content: String = format!(
        "The scheduled backup into {} at {} failed: {err:#}",
        dir.display(),
        Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )
    .chars()
    .take(MAX_MESSAGE_CHARS)
    .collect();
    nexus_comms::service::messages::post_system_message(
        state,
        NewSystemMessage {
            title: "Scheduled backup failed".into(),
            content,
            message_type: Some("error".into()),
            is_broadcast: false,
            target_users: admins,
            expires_at: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("posting the system message: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_take_a_whole_number_and_a_unit() {
        assert_eq!(parse_every("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_every("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_every(" 6h "), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_every("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "6", "h", "0h", "1.5h", "-1m", "6 hours"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }
}
