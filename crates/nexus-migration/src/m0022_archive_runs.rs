//! Archiving runs (`nexus_core::archive`): one row per run of a domain's archiving, so any
//! node answers where a run stands, and at most one runs per domain (the unique index over
//! running rows). A running row's heartbeat tells a live run from one whose node died.

use sea_orm_migration::prelude::*;

use crate::shapes::id;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ArchiveRuns {
    Table,
    Id,
    Domain,
    Status,
    StartedBy,
    StartedAt,
    HeartbeatAt,
    FinishedAt,
    Report,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ArchiveRuns as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ColumnDef::new(R::Domain).text().not_null())
                .col(
                    ColumnDef::new(R::Status)
                        .text()
                        .not_null()
                        .check(Expr::col(R::Status).is_in(["running", "done", "failed"])),
                )
                .col(ColumnDef::new(R::StartedBy).big_integer().null())
                .col(ColumnDef::new(R::StartedAt).big_integer().not_null())
                .col(ColumnDef::new(R::HeartbeatAt).big_integer().not_null())
                .col(ColumnDef::new(R::FinishedAt).big_integer().null())
                .col(ColumnDef::new(R::Report).text().null())
                .col(ColumnDef::new(R::Error).text().null())
                .to_owned(),
        )
        .await?;
        // Also what finds a domain's running run.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_archive_runs_running ON archive_runs (domain) \
                 WHERE status = 'running'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ArchiveRuns::Table).to_owned())
            .await
    }
}
