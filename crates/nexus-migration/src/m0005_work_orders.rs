//! Maintenance, work orders (issue 4): work orders with gap-free numbers, their checklists,
//! labor, comments, and asset downtime intervals. Names follow `001_fc7d4f68e8fe081f.txt`
//! (`assigned_to_id`, checklist `task`/`sequence`/`is_completed`, comment `content`).

use sea_orm_migration::prelude::*;

use crate::shapes::{fk, id, index, stamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assets {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Locations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderCounter {
    Table,
    Id,
    LastNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrders {
    Table,
    Id,
    Number,
    Title,
    Description,
    AssetId,
    LocationId,
    Type,
    Priority,
    Status,
    AssignedToId,
    CreatedBy,
    UpdatedBy,
    DueDate,
    EstimatedMinutes,
    ActualMinutes,
    StartedAt,
    CompletedAt,
    ParentWorkOrderId,
    PmScheduleId,
    DedupeKey,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderChecklistItems {
    Table,
    Id,
    WorkOrderId,
    Sequence,
    Kind,
    Task,
    Required,
    MinValue,
    MaxValue,
    Unit,
    CreateFollowUp,
    IsCompleted,
    Checked,
    NumberValue,
    TextValue,
    Passed,
    Notes,
    CompletedBy,
    CompletedAt,
    FollowUpWorkOrderId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderLabor {
    Table,
    Id,
    WorkOrderId,
    UserId,
    StartedAt,
    EndedAt,
    Minutes,
    HourlyRateCents,
    Note,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderComments {
    Table,
    Id,
    WorkOrderId,
    UserId,
    Content,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssetDowntime {
    Table,
    Id,
    AssetId,
    StartedAt,
    EndedAt,
    Reason,
    WorkOrderId,
    CreatedBy,
    CreatedAt,
}

/// The statuses in which a work order counts as open: at most one such work order per
/// `dedupe_key`, and the status list the partial unique index is written with.
const OPEN: &str = "('open', 'in_progress', 'on_hold')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A one-row counter: taking the next number in the creating transaction keeps the
        // numbers gap-free (a rolled-back creation gives its number back) on both engines.
        use WorkOrderCounter as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(ColumnDef::new(N::Id).integer().not_null().primary_key())
                .col(ColumnDef::new(N::LastNumber).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(N::Table)
                .columns([N::Id, N::LastNumber])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await?;

        use WorkOrders as W;
        let mut t = Table::create();
        t.table(W::Table)
            .col(id(W::Id))
            .col(
                ColumnDef::new(W::Number)
                    .string_len(20)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(W::Title).string_len(200).not_null())
            .col(ColumnDef::new(W::Description).text())
            .col(ColumnDef::new(W::AssetId).big_integer())
            .col(ColumnDef::new(W::LocationId).big_integer())
            .col(ColumnDef::new(W::Type).string_len(20).not_null())
            .col(ColumnDef::new(W::Priority).string_len(10).not_null())
            .col(ColumnDef::new(W::Status).string_len(20).not_null())
            .col(ColumnDef::new(W::AssignedToId).big_integer())
            .col(ColumnDef::new(W::CreatedBy).big_integer())
            .col(ColumnDef::new(W::UpdatedBy).big_integer())
            .col(ColumnDef::new(W::DueDate).string_len(10))
            .col(ColumnDef::new(W::EstimatedMinutes).integer())
            .col(ColumnDef::new(W::ActualMinutes).integer())
            .col(ColumnDef::new(W::StartedAt).big_integer())
            .col(ColumnDef::new(W::CompletedAt).big_integer())
            .col(ColumnDef::new(W::ParentWorkOrderId).big_integer())
            .col(ColumnDef::new(W::PmScheduleId).big_integer())
            .col(ColumnDef::new(W::DedupeKey).string_len(200))
            .check(Expr::col(W::Type).is_in([
                "corrective",
                "preventive",
                "inspection",
                "emergency",
                "predictive",
                "safety",
                "other",
            ]))
            .check(Expr::col(W::Priority).is_in(["low", "medium", "high", "critical"]))
            .check(Expr::col(W::Status).is_in([
                "open",
                "in_progress",
                "on_hold",
                "completed",
                "cancelled",
            ]))
            .check(Expr::col(W::EstimatedMinutes).gte(0))
            .check(Expr::col(W::ActualMinutes).gte(0))
            .foreign_key(&mut fk(W::Table, W::AssetId, Assets::Table, Assets::Id))
            .foreign_key(&mut fk(
                W::Table,
                W::LocationId,
                Locations::Table,
                Locations::Id,
            ))
            .foreign_key(&mut fk(W::Table, W::AssignedToId, Users::Table, Users::Id))
            .foreign_key(&mut fk(W::Table, W::CreatedBy, Users::Table, Users::Id))
            .foreign_key(&mut fk(W::Table, W::UpdatedBy, Users::Table, Users::Id))
            .foreign_key(&mut fk(W::Table, W::ParentWorkOrderId, W::Table, W::Id));
        stamps(&mut t, W::CreatedAt, W::UpdatedAt, W::Version);
        m.create_table(t.to_owned()).await?;
        // The list filters (status, assignee, priority, due range) are covered: whichever
        // of them a request combines, one index holds every column it filters on in a
        // useful order, so counting and picking a page never visit the table.
        for (name, cols) in [
            (
                "idx_work_orders_status_due",
                &[W::Status, W::DueDate, W::Priority, W::AssignedToId][..],
            ),
            ("idx_work_orders_asset_status", &[W::AssetId, W::Status]),
            (
                "idx_work_orders_assigned_status",
                &[W::AssignedToId, W::Status, W::Priority, W::DueDate],
            ),
            (
                "idx_work_orders_assigned_priority",
                &[W::AssignedToId, W::Priority, W::Status, W::DueDate],
            ),
            (
                "idx_work_orders_assigned_due",
                &[W::AssignedToId, W::DueDate, W::Priority, W::Status],
            ),
            (
                "idx_work_orders_priority_status",
                &[W::Priority, W::Status, W::DueDate, W::AssignedToId],
            ),
            (
                "idx_work_orders_priority_due",
                &[W::Priority, W::DueDate, W::Status, W::AssignedToId],
            ),
            (
                "idx_work_orders_due_date",
                &[W::DueDate, W::Priority, W::AssignedToId, W::Status],
            ),
            (
                "idx_work_orders_location_status",
                &[W::LocationId, W::Status],
            ),
            ("idx_work_orders_type", &[W::Type]),
            ("idx_work_orders_parent", &[W::ParentWorkOrderId]),
            ("idx_work_orders_pm_schedule", &[W::PmScheduleId]),
            ("idx_work_orders_completed_at", &[W::CompletedAt]),
        ] {
            // The id rides along (SQLite's indexes hold the rowid anyway), so a page's ids
            // come from the index alone.
            let mut i = index(W::Table, name, cols);
            m.create_index(i.include(W::Id).to_owned()).await?;
        }
        // "Never two open work orders for one schedule / one alert rule and asset" is the
        // database's rule, not only the services'.
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX uq_work_orders_open_dedupe_key ON work_orders (dedupe_key) \
                 WHERE status IN {OPEN}"
            ))
            .await?;

        use WorkOrderChecklistItems as C;
        let mut t = Table::create();
        t.table(C::Table)
            .col(id(C::Id))
            .col(ColumnDef::new(C::WorkOrderId).big_integer().not_null())
            .col(ColumnDef::new(C::Sequence).integer().not_null())
            .col(ColumnDef::new(C::Kind).string_len(20).not_null())
            .col(ColumnDef::new(C::Task).string_len(255).not_null())
            .col(
                ColumnDef::new(C::Required)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(ColumnDef::new(C::MinValue).double())
            .col(ColumnDef::new(C::MaxValue).double())
            .col(ColumnDef::new(C::Unit).string_len(20))
            .col(
                ColumnDef::new(C::CreateFollowUp)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(
                ColumnDef::new(C::IsCompleted)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(ColumnDef::new(C::Checked).boolean())
            .col(ColumnDef::new(C::NumberValue).double())
            .col(ColumnDef::new(C::TextValue).text())
            .col(ColumnDef::new(C::Passed).boolean())
            .col(ColumnDef::new(C::Notes).text())
            .col(ColumnDef::new(C::CompletedBy).big_integer())
            .col(ColumnDef::new(C::CompletedAt).big_integer())
            .col(ColumnDef::new(C::FollowUpWorkOrderId).big_integer())
            .check(Expr::col(C::Kind).is_in(["checkbox", "number", "text", "pass_fail"]))
            .check(Expr::col(C::Sequence).gte(1))
            .foreign_key(&mut fk(C::Table, C::WorkOrderId, W::Table, W::Id))
            .foreign_key(&mut fk(C::Table, C::CompletedBy, Users::Table, Users::Id))
            .foreign_key(&mut fk(C::Table, C::FollowUpWorkOrderId, W::Table, W::Id));
        stamps(&mut t, C::CreatedAt, C::UpdatedAt, C::Version);
        m.create_table(t.to_owned()).await?;
        m.create_index(
            index(
                C::Table,
                "uq_checklist_items_work_order_sequence",
                &[C::WorkOrderId, C::Sequence],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        use WorkOrderLabor as L;
        let mut t = Table::create();
        t.table(L::Table)
            .col(id(L::Id))
            .col(ColumnDef::new(L::WorkOrderId).big_integer().not_null())
            .col(ColumnDef::new(L::UserId).big_integer().not_null())
            .col(ColumnDef::new(L::StartedAt).big_integer().not_null())
            .col(ColumnDef::new(L::EndedAt).big_integer())
            .col(ColumnDef::new(L::Minutes).integer())
            .col(ColumnDef::new(L::HourlyRateCents).big_integer())
            .col(ColumnDef::new(L::Note).text())
            .check(Expr::col(L::Minutes).gte(0))
            .check(Expr::col(L::HourlyRateCents).gte(0))
            .foreign_key(&mut fk(L::Table, L::WorkOrderId, W::Table, W::Id))
            .foreign_key(&mut fk(L::Table, L::UserId, Users::Table, Users::Id));
        stamps(&mut t, L::CreatedAt, L::UpdatedAt, L::Version);
        m.create_table(t.to_owned()).await?;
        m.create_index(index(
            L::Table,
            "idx_work_order_labor_work_order",
            &[L::WorkOrderId, L::StartedAt],
        ))
        .await?;
        m.create_index(index(
            L::Table,
            "idx_work_order_labor_user",
            &[L::UserId, L::StartedAt],
        ))
        .await?;
        // One running timer per person and work order.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_work_order_labor_running ON work_order_labor \
                 (work_order_id, user_id) WHERE ended_at IS NULL",
            )
            .await?;

        use WorkOrderComments as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(id(K::Id))
                .col(ColumnDef::new(K::WorkOrderId).big_integer().not_null())
                .col(ColumnDef::new(K::UserId).big_integer())
                .col(ColumnDef::new(K::Content).text().not_null())
                .col(ColumnDef::new(K::CreatedAt).big_integer().not_null())
                .foreign_key(&mut fk(K::Table, K::WorkOrderId, W::Table, W::Id))
                .foreign_key(&mut fk(K::Table, K::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            K::Table,
            "idx_work_order_comments_work_order",
            &[K::WorkOrderId, K::CreatedAt],
        ))
        .await?;

        use AssetDowntime as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(id(D::Id))
                .col(ColumnDef::new(D::AssetId).big_integer().not_null())
                .col(ColumnDef::new(D::StartedAt).big_integer().not_null())
                .col(ColumnDef::new(D::EndedAt).big_integer())
                .col(ColumnDef::new(D::Reason).text())
                .col(ColumnDef::new(D::WorkOrderId).big_integer())
                .col(ColumnDef::new(D::CreatedBy).big_integer())
                .col(ColumnDef::new(D::CreatedAt).big_integer().not_null())
                .foreign_key(&mut fk(D::Table, D::AssetId, Assets::Table, Assets::Id))
                .foreign_key(&mut fk(D::Table, D::WorkOrderId, W::Table, W::Id))
                .foreign_key(&mut fk(D::Table, D::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            D::Table,
            "idx_asset_downtime_asset_started",
            &[D::AssetId, D::StartedAt],
        ))
        .await?;
        // At most one open interval per asset.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_asset_downtime_open ON asset_downtime (asset_id) \
                 WHERE ended_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AssetDowntime::Table.into_iden(),
            WorkOrderComments::Table.into_iden(),
            WorkOrderLabor::Table.into_iden(),
            WorkOrderChecklistItems::Table.into_iden(),
            WorkOrders::Table.into_iden(),
            WorkOrderCounter::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
