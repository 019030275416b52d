//! What an archiving run reports, and its one audit row: each domain archives and deletes
//! its own records ([`crate::Config::archive_work_orders_after_days`],
//! [`crate::Config::retention_days`]) and says how many of each kind it moved.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, AuditCtx};
use crate::error::ApiResult;
use crate::state::AppState;

/// How many records of one kind a run moved to the archive and deleted past the
/// retention (on a dry run: would move, would delete).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArchiveCount {
    /// `work_orders`, `metric_readings`, ...
    pub kind: &'static str,
    pub archived: u64,
    pub deleted: u64,
}

/// The query of the endpoints that run a domain's archiving now.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveQuery {
    /// `true`: change nothing, count what a run would move and delete.
    pub dry_run: Option<bool>,
}

/// One archiving run of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArchiveReport {
    pub domain: &'static str,
    /// Nothing was changed: the counts say what a run would do now.
    pub dry_run: bool,
    pub counts: Vec<ArchiveCount>,
}

impl ArchiveReport {
    pub fn new(domain: &'static str, dry_run: bool) -> Self {
        Self {
            domain,
            dry_run,
            counts: Vec::new(),
        }
    }

    /// Adds `archived` and `deleted` to the counts of `kind`.
    pub fn add(&mut self, kind: &'static str, archived: u64, deleted: u64) {
        match self.counts.iter_mut().find(|c| c.kind == kind) {
            Some(c) => {
                c.archived += archived;
                c.deleted += deleted;
            }
            None => self.counts.push(ArchiveCount {
                kind,
                archived,
                deleted,
            }),
        }
    }

    /// The counts of `kind` (zero when the run met none).
    pub fn of(&self, kind: &str) -> ArchiveCount {
        self.counts
            .iter()
            .find(|c| c.kind == kind)
            .cloned()
            .unwrap_or_default()
    }

    /// Writes the run's audit row (`archive.run` on entity type `archive`, the report as
    /// its new state); a dry run changes nothing and writes none.
    pub async fn audit(&self, state: &AppState) -> ApiResult<()> {
        if self.dry_run {
            return Ok(());
        }
        let ctx = AuditCtx {
            user_agent: Some("nexus archive".into()),
            ..AuditCtx::default()
        };
        let new = serde_json::to_value(self).unwrap_or_default();
        audit::record(
            state.db.write(),
            &ctx,
            "archive.run",
            "archive",
            None,
            None,
            Some(new),
        )
        .await
    }
}
