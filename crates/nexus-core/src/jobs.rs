//! Background jobs: every periodic pass of every domain (PM generation, overdue sweeps,
//! digests, retention, scheduled backups, ...) runs through [`every`], which owns the
//! timing, running once across nodes, error logging and the metrics.
//!
//! Runs are aligned on wall-clock periods (the `every`-long slots since the Unix epoch),
//! so every node's timer fires at the same instants; a slot missed while a pass ran long
//! is skipped, not made up. On PostgreSQL a job that runs once across nodes runs a slot
//! only on the node that takes the session advisory lock `(job, slot)` on its
//! [`LockSession`](crate::db::LockSession), and that node keeps the lock until it has
//! taken the next slot's, so a node whose timer fires late still finds the slot taken.
//! While a pass runs its node also holds `(job, RUNNING)`: a node that claims the next
//! slot while the pass still runs elsewhere skips it, as a single node would. A node that
//! dies closes its session, which frees its locks. SQLite serves one node: no locks.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::state::AppState;

/// A periodic pass.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Stable and unique, `domain.what` (`work.overdue_sweep`): the metrics' `job` label
    /// and, hashed, the key of the job's advisory locks.
    pub name: &'static str,
    /// The period; runs start on its wall-clock boundaries.
    pub every: Duration,
    /// One node runs each period (every pass that writes), rather than each node.
    pub once_across_nodes: bool,
    /// Also run in the period under way at start, not only from the next boundary on.
    pub at_start: bool,
}

/// The second key of the lock a node holds while a pass of the job runs: slot keys are
/// never negative.
const RUNNING: i32 = -1;

/// Runs `pass` every `job.every` for as long as the database is open. A pass that fails
/// is logged and counted, and the job carries on with the next period.
pub fn every<F, Fut, T, E>(state: &AppState, job: Job, mut pass: F)
where
    F: FnMut(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    E: Display + Send,
{
    // Present from the start, so a scraper can tell "no failures" from "not reported".
    metrics::counter!("job_runs_total", "job" => job.name).increment(0);
    metrics::counter!("job_failures_total", "job" => job.name).increment(0);
    let state = state.clone();
    tokio::spawn(async move {
        let mut claims = Claims::new(job);
        let mut slot = job.at_start.then(|| slot_at(job.every, now_ms()));
        loop {
            let this = match slot.take() {
                Some(slot) => slot,
                None => next_slot(job.every).await,
            };
            if state.db.is_closed() {
                break;
            }
            let started = Instant::now();
            let outcome = match claims.claim(&state, this).await {
                Ok(false) => continue,
                Ok(true) => {
                    let outcome = pass(state.clone()).await.map(|_| ());
                    claims.finished(&state).await;
                    outcome.map_err(|e| e.to_string())
                }
                Err(e) => Err(format!("period not claimed: {e}")),
            };
            // Counted once finished, so a scraper seeing a run sees its outcome too.
            metrics::histogram!("job_duration_seconds", "job" => job.name)
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("job_runs_total", "job" => job.name).increment(1);
            if let Err(e) = outcome {
                metrics::counter!("job_failures_total", "job" => job.name).increment(1);
                tracing::warn!(job = job.name, error = %e, "background job failed");
            }
        }
    });
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn period_ms(every: Duration) -> i64 {
    i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// The number of the slot of `every` that `at_ms` falls in.
fn slot_at(every: Duration, at_ms: i64) -> i64 {
    at_ms.div_euclid(period_ms(every))
}

/// Sleeps until the next slot begins; its number. A slot already over on waking (the
/// process was paused, the clock jumped) is skipped.
async fn next_slot(every: Duration) -> i64 {
    let every_ms = period_ms(every);
    loop {
        let now = now_ms();
        let slot = slot_at(every, now) + 1;
        let wait = u64::try_from(slot.saturating_mul(every_ms) - now).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if slot_at(every, now_ms()) == slot {
            return slot;
        }
    }
}

/// The first key of a job's advisory locks: FNV-1a of its name, the same on every node
/// and every build.
fn lock_class(name: &str) -> i32 {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// Slot numbers as lock keys: only neighbours need to differ, so wrapping is harmless.
fn slot_key(slot: i64) -> i32 {
    (slot & 0x7fff_ffff) as i32
}

/// What a node holds of one job's locks (PostgreSQL).
struct Claims {
    job: Job,
    class: i32,
    /// The key of the last slot this node took.
    held: Option<i32>,
}

impl Claims {
    fn new(job: Job) -> Self {
        Self {
            job,
            class: lock_class(job.name),
            held: None,
        }
    }

    /// Whether this node runs `slot`: always on SQLite or for a job of every node; on
    /// PostgreSQL when it took the slot's lock (then the previous slot's is let go) and
    /// no pass of the job runs elsewhere.
    async fn claim(&mut self, state: &AppState, slot: i64) -> Result<bool, sea_orm::DbErr> {
        let Some(locks) = state
            .db
            .lock_session()
            .filter(|_| self.job.once_across_nodes)
        else {
            return Ok(true);
        };
        let key = slot_key(slot);
        let taken = locks.try_lock(self.class, key).await;
        if taken.is_err() {
            // The session may be gone, and the lock it held with it.
            self.held = None;
        }
        if !taken? {
            return Ok(false);
        }
        if let Some(previous) = self.held.replace(key).filter(|&p| p != key) {
            locks.unlock(self.class, previous).await?;
        }
        locks.try_lock(self.class, RUNNING).await
    }

    /// Lets go of the running lock after a pass.
    async fn finished(&self, state: &AppState) {
        let Some(locks) = state
            .db
            .lock_session()
            .filter(|_| self.job.once_across_nodes)
        else {
            return;
        };
        if let Err(e) = locks.unlock(self.class, RUNNING).await {
            // The session is gone, and the lock with it.
            tracing::debug!(job = self.job.name, error = %e, "running lock not released");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_wall_clock() {
        let minute = Duration::from_secs(60);
        assert_eq!(slot_at(minute, 0), 0);
        assert_eq!(slot_at(minute, 59_999), 0);
        assert_eq!(slot_at(minute, 60_000), 1);
        assert_eq!(
            slot_at(Duration::ZERO, 5),
            5,
            "a zero period counts milliseconds"
        );
        assert!(slot_key(i64::MAX) >= 0 && slot_key(-1) >= 0);
    }

    #[test]
    fn lock_keys_are_stable_and_differ_by_name() {
        // FNV-1a's published value for "a".
        assert_eq!(lock_class("a") as u32, 0xe40c_292c);
        assert_ne!(lock_class("work.overdue_sweep"), lock_class("work.series"));
    }
}
