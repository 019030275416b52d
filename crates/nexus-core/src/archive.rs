//! Archiving runs: what a run reports, its one audit row, and the run itself. Each domain
//! archives and deletes its own records ([`crate::Config::archive_work_orders_after_days`],
//! [`crate::Config::retention_days`]) in a pass that says how many of each kind it moved;
//! an [`Archiver`] runs that pass in the background for the API (202, then polled), in
//! place for the schedule and `nexus archive`, and one at a time per domain.
//!
//! Runs are rows of `archive_runs`, so any node answers for any run and the one-run rule
//! holds across nodes (a unique index over the running rows of a domain). A running run
//! writes a heartbeat every 10 s; one silent for a minute lost its node (killed,
//! restarted) and counts as failed, so it does not block the next run forever.

use std::time::Duration;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    SqlErr, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, AuditCtx};
use crate::auth::BoxFuture;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::Timestamp;

/// How often a running run says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a running run may go unheard before it counts as failed.
const STALE: Duration = Duration::from_secs(60);
/// Why such a run failed.
const LOST: &str = "stopped: its node stopped while it ran";

/// How many records of one kind a run moved to the archive and deleted past the
/// retention (on a dry run: would move, would delete).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveCount {
    /// `work_orders`, `metric_readings`, ...
    pub kind: String,
    pub archived: u64,
    pub deleted: u64,
}

/// The query of the endpoints that run a domain's archiving now.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveQuery {
    /// `true`: change nothing, count what a run would move and delete (answered at once).
    pub dry_run: Option<bool>,
}

/// What one archiving pass of one domain did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveReport {
    pub domain: String,
    /// Nothing was changed: the counts say what a run would do now.
    pub dry_run: bool,
    pub counts: Vec<ArchiveCount>,
}

impl ArchiveReport {
    pub fn new(domain: &str, dry_run: bool) -> Self {
        Self {
            domain: domain.into(),
            dry_run,
            counts: Vec::new(),
        }
    }

    /// Adds `archived` and `deleted` to the counts of `kind`.
    pub fn add(&mut self, kind: &str, archived: u64, deleted: u64) {
        match self.counts.iter_mut().find(|c| c.kind == kind) {
            Some(c) => {
                c.archived += archived;
                c.deleted += deleted;
            }
            None => self.counts.push(ArchiveCount {
                kind: kind.into(),
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

    /// Writes the pass's audit row: `archive.run` on entity type `archive` (id: the run's,
    /// when it is one), by `actor`, the report as its new state. A dry run writes none.
    pub async fn audit(
        &self,
        conn: &impl ConnectionTrait,
        run: Option<i64>,
        actor: Option<i64>,
    ) -> ApiResult<()> {
        if self.dry_run {
            return Ok(());
        }
        let ctx = AuditCtx {
            actor_id: actor,
            user_agent: Some("nexus archive".into()),
            ..AuditCtx::default()
        };
        let new = serde_json::to_value(self).unwrap_or_default();
        audit::record(conn, &ctx, "archive.run", "archive", run, None, Some(new)).await
    }
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    use crate::time::Timestamp;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "archive_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain: String,
        /// `running`, `done` or `failed`.
        pub status: String,
        pub started_by: Option<i64>,
        pub started_at: Timestamp,
        pub heartbeat_at: Timestamp,
        pub finished_at: Option<Timestamp>,
        /// The [`super::ArchiveReport`] as JSON, once done.
        pub report: Option<String>,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveRunStatus {
    Running,
    Done,
    Failed,
}

/// One archiving run of one domain, as its poll endpoint answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArchiveRun {
    pub id: i64,
    pub domain: String,
    pub status: ArchiveRunStatus,
    /// The user who asked for it; none for the schedule and `nexus archive`.
    pub started_by: Option<i64>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// From start to finish; while running, so far.
    pub seconds: f64,
    /// What it moved and deleted, once done (also in its `archive.run` audit row).
    pub report: Option<ArchiveReport>,
    /// Why it failed (an internal failure's details are in the server's log).
    pub error: Option<String>,
}

impl ArchiveRun {
    fn of(row: entity::Model, now: Timestamp) -> Self {
        let stale = now.0 - row.heartbeat_at.0 > STALE.as_micros() as i64;
        let (status, error) = match row.status.as_str() {
            "running" if stale => (ArchiveRunStatus::Failed, Some(LOST.to_string())),
            "running" => (ArchiveRunStatus::Running, None),
            "done" => (ArchiveRunStatus::Done, None),
            _ => (ArchiveRunStatus::Failed, row.error),
        };
        let end = row.finished_at.unwrap_or(match stale {
            true => row.heartbeat_at,
            false => now,
        });
        Self {
            id: row.id,
            domain: row.domain,
            status,
            started_by: row.started_by,
            started_at: row.started_at,
            finished_at: row.finished_at,
            seconds: (end.0 - row.started_at.0).max(0) as f64 / 1e6,
            report: row.report.and_then(|r| serde_json::from_str(&r).ok()),
            error,
        }
    }
}

/// A domain's archiving pass: with `dry_run` it only counts.
pub type ArchivePass = for<'a> fn(&'a AppState, bool) -> BoxFuture<'a, ApiResult<ArchiveReport>>;

/// A domain's archiving, run through the API, its schedule and `nexus archive` alike.
pub struct Archiver {
    pub domain: &'static str,
    /// Where the API serves its runs, `{runs}/{id}`.
    pub runs: &'static str,
    pub pass: ArchivePass,
}

impl Archiver {
    /// The archive endpoint's answer: a dry run's report at once (200), else the run
    /// started in the background (202, `Location` its poll address); 409 naming the run
    /// under way when there is one.
    pub async fn answer(
        &'static self,
        state: &AppState,
        by: i64,
        query: ArchiveQuery,
    ) -> ApiResult<Response> {
        if query.dry_run.unwrap_or(false) {
            return Ok(Json(self.dry_run(state).await?).into_response());
        }
        let run = self.claim(state, Some(by)).await?;
        let location = format!("{}/{}", self.runs, run.id);
        let background = state.clone();
        let id = run.id;
        tokio::spawn(async move {
            // The outcome goes to the run's row (and to the log when it failed).
            let _ = self.execute(&background, id, Some(by)).await;
        });
        Ok((
            StatusCode::ACCEPTED,
            [(header::LOCATION, location)],
            Json(run),
        )
            .into_response())
    }

    /// What a run would move and delete now, changing nothing.
    pub async fn dry_run(&self, state: &AppState) -> ApiResult<ArchiveReport> {
        (self.pass)(state, true).await
    }

    /// One run in place (`nexus archive`): its report; 409 when one is under way.
    pub async fn run_now(&self, state: &AppState) -> ApiResult<ArchiveReport> {
        let run = self.claim(state, None).await?;
        self.execute(state, run.id, None).await
    }

    /// The schedule's run: skipped when there is nothing to move or delete (no run, no
    /// audit row), and when another is under way, which does the work.
    pub async fn scheduled(&self, state: &AppState) -> ApiResult<()> {
        let due = self.dry_run(state).await?;
        if due.counts.iter().all(|c| c.archived == 0 && c.deleted == 0) {
            return Ok(());
        }
        match self.claim(state, None).await {
            Ok(run) => self.execute(state, run.id, None).await.map(drop),
            Err(ApiError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Run `id` of this domain (404 when there is none).
    pub async fn get(&self, conn: &impl ConnectionTrait, id: i64) -> ApiResult<ArchiveRun> {
        entity::Entity::find_by_id(id)
            .filter(entity::Column::Domain.eq(self.domain))
            .one(conn)
            .await?
            .map(|row| ArchiveRun::of(row, Timestamp::now()))
            .ok_or_else(|| ApiError::not_found("archive run"))
    }

    /// Records a new running run, after marking failed any whose node went silent; 409
    /// naming the one under way when there is one.
    async fn claim(&self, state: &AppState, by: Option<i64>) -> ApiResult<ArchiveRun> {
        let now = Timestamp::now();
        let silent = Timestamp(now.0 - STALE.as_micros() as i64);
        let txn = state.db.write().begin().await?;
        entity::Entity::update_many()
            .col_expr(entity::Column::Status, Expr::value("failed"))
            .col_expr(
                entity::Column::FinishedAt,
                Expr::col(entity::Column::HeartbeatAt),
            )
            .col_expr(entity::Column::Error, Expr::value(LOST))
            .filter(entity::Column::Domain.eq(self.domain))
            .filter(entity::Column::Status.eq("running"))
            .filter(entity::Column::HeartbeatAt.lt(silent))
            .exec(&txn)
            .await?;
        let inserted = entity::ActiveModel {
            domain: Set(self.domain.into()),
            status: Set("running".into()),
            started_by: Set(by),
            started_at: Set(now),
            heartbeat_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(row) => {
                txn.commit().await?;
                Ok(ArchiveRun::of(row, now))
            }
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await?;
                Err(self.busy(state).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The refusal of a second run while one is under way.
    async fn busy(&self, state: &AppState) -> ApiError {
        let running = entity::Entity::find()
            .filter(entity::Column::Domain.eq(self.domain))
            .filter(entity::Column::Status.eq("running"))
            .one(state.db.write())
            .await;
        match running {
            Ok(Some(run)) => ApiError::conflict(format!(
                "archive run {} of {} is under way since {}: follow it at {}/{}",
                run.id, self.domain, run.started_at, self.runs, run.id
            )),
            Ok(None) => {
                ApiError::conflict(format!("an archive run of {} is under way", self.domain))
            }
            Err(e) => e.into(),
        }
    }

    /// Runs the pass of run `id`, its heartbeat beside it, and records the outcome: done
    /// with the report and its audit row (in one transaction), or failed with the reason.
    async fn execute(
        &self,
        state: &AppState,
        id: i64,
        by: Option<i64>,
    ) -> ApiResult<ArchiveReport> {
        let beat = tokio::spawn(heartbeat(state.clone(), id));
        let outcome = (self.pass)(state, false).await;
        beat.abort();
        let recorded = match &outcome {
            Ok(report) => finish_done(state, id, by, report).await,
            Err(e) => {
                tracing::warn!(run = id, domain = self.domain, error = %e, "archive run failed");
                finish(
                    state.db.write(),
                    id,
                    "failed",
                    None,
                    Some(e.problem().detail),
                )
                .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(run = id, domain = self.domain, error = %e, "archive run not recorded");
        }
        outcome
    }
}

/// Records run `id` as done with `report`, and its audit row, in one transaction.
async fn finish_done(
    state: &AppState,
    id: i64,
    by: Option<i64>,
    report: &ArchiveReport,
) -> ApiResult<()> {
    let txn = state.db.write().begin().await?;
    let json = serde_json::to_string(report).map_err(ApiError::internal)?;
    finish(&txn, id, "done", Some(json), None).await?;
    report.audit(&txn, Some(id), by).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets the final status of run `id`.
async fn finish(
    conn: &impl ConnectionTrait,
    id: i64,
    status: &str,
    report: Option<String>,
    error: Option<String>,
) -> ApiResult<()> {
    entity::ActiveModel {
        id: Set(id),
        status: Set(status.into()),
        finished_at: Set(Some(Timestamp::now())),
        report: Set(report),
        error: Set(error),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Tells every node that run `id` is alive, every `HEARTBEAT`, until aborted.
async fn heartbeat(state: AppState, id: i64) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let beat = entity::Entity::update_many()
            .col_expr(entity::Column::HeartbeatAt, Expr::value(Timestamp::now()))
            .filter(entity::Column::Id.eq(id))
            .exec(state.db.write())
            .await;
        if let Err(e) = beat {
            tracing::debug!(run = id, error = %e, "archive heartbeat not written");
        }
    }
}
