//! Maintenance, inventory and prevention: parts with stock per location, the stock ledger
//! through which alone stock changes (`001_fc7d4f68e8fe081f.txt`: Parts, WorkOrderParts),
//! and preventive maintenance schedules.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Locations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrders {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parts {
    Table,
    Id,
    Sku,
    Name,
    Description,
    Category,
    UnitCostCents,
    Supplier,
    ImageUrl,
    ReorderPoint,
    ReorderQuantity,
    QuantityInStock,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum PartStock {
    Table,
    PartId,
    LocationId,
    Quantity,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockMovements {
    Table,
    Id,
    PartId,
    LocationId,
    Kind,
    Quantity,
    BalanceAfter,
    UnitCostCents,
    WorkOrderId,
    TransferId,
    Reason,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assets {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum PmSchedules {
    Table,
    Id,
    AssetId,
    Title,
    Description,
    Type,
    Priority,
    AssignedToId,
    IntervalValue,
    IntervalUnit,
    Basis,
    StartDate,
    NextDue,
    LeadDays,
    EstimatedMinutes,
    Checklist,
    Active,
    LastWorkOrderId,
    LastGeneratedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// The kinds of stock movement.
const KINDS: [&str; 5] = [
    "receive",
    "consume",
    "adjust",
    "transfer_out",
    "transfer_in",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Parts as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(
                    ColumnDef::new(P::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(P::Sku).string_len(50).not_null())
                .col(ColumnDef::new(P::Name).string_len(100).not_null())
                .col(ColumnDef::new(P::Description).text())
                .col(ColumnDef::new(P::Category).string_len(50))
                .col(
                    ColumnDef::new(P::UnitCostCents)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(P::Supplier).string_len(100))
                .col(ColumnDef::new(P::ImageUrl).string_len(255))
                .col(ColumnDef::new(P::ReorderPoint).big_integer())
                .col(ColumnDef::new(P::ReorderQuantity).big_integer())
                .col(
                    ColumnDef::new(P::QuantityInStock)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(P::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(P::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(P::Version).integer().not_null().default(1))
                .check(Expr::col(P::UnitCostCents).gte(0))
                .check(Expr::col(P::ReorderPoint).gte(0))
                .check(Expr::col(P::ReorderQuantity).gte(0))
                .check(Expr::col(P::QuantityInStock).gte(0))
                .to_owned(),
        )
        .await?;
        // SKUs are unique regardless of case; an expression index, same text on both engines.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX idx_parts_sku_lower ON parts (lower(sku))")
            .await?;
        for (name, col) in [
            ("idx_parts_name", P::Name),
            ("idx_parts_category", P::Category),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(P::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }

        use PartStock as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(ColumnDef::new(S::PartId).big_integer().not_null())
                .col(ColumnDef::new(S::LocationId).big_integer().not_null())
                .col(ColumnDef::new(S::Quantity).big_integer().not_null())
                .col(ColumnDef::new(S::UpdatedAt).big_integer().not_null())
                .primary_key(Index::create().col(S::PartId).col(S::LocationId))
                .check(Expr::col(S::Quantity).gte(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::PartId)
                        .to(P::Table, P::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::LocationId)
                        .to(Locations::Table, Locations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_part_stock_location_id")
                .table(S::Table)
                .col(S::LocationId)
                .to_owned(),
        )
        .await?;

        use StockMovements as M;
        m.create_table(
            Table::create()
                .table(M::Table)
                .col(
                    ColumnDef::new(M::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(M::PartId).big_integer().not_null())
                .col(ColumnDef::new(M::LocationId).big_integer().not_null())
                .col(ColumnDef::new(M::Kind).string_len(20).not_null())
                .col(ColumnDef::new(M::Quantity).big_integer().not_null())
                .col(ColumnDef::new(M::BalanceAfter).big_integer().not_null())
                .col(ColumnDef::new(M::UnitCostCents).big_integer().not_null())
                .col(ColumnDef::new(M::WorkOrderId).big_integer())
                .col(ColumnDef::new(M::TransferId).big_integer())
                .col(ColumnDef::new(M::Reason).text())
                .col(ColumnDef::new(M::ActorId).big_integer())
                .col(ColumnDef::new(M::CreatedAt).big_integer().not_null())
                .check(Expr::col(M::Kind).is_in(KINDS))
                .check(Expr::col(M::Quantity).ne(0))
                .check(Expr::col(M::BalanceAfter).gte(0))
                .check(Expr::col(M::UnitCostCents).gte(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::PartId)
                        .to(P::Table, P::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::LocationId)
                        .to(Locations::Table, Locations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::WorkOrderId)
                        .to(WorkOrders::Table, WorkOrders::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::ActorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // The ledger pages newest first by id, under any one filter.
        for (name, col) in [
            ("idx_stock_movements_part_id", M::PartId),
            ("idx_stock_movements_location_id", M::LocationId),
            ("idx_stock_movements_work_order_id", M::WorkOrderId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(M::Table)
                    .col(col)
                    .col(M::Id)
                    .to_owned(),
            )
            .await?;
        }

        use PmSchedules as S2;
        m.create_table(
            Table::create()
                .table(S2::Table)
                .col(
                    ColumnDef::new(S2::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(S2::AssetId).big_integer().not_null())
                .col(ColumnDef::new(S2::Title).string_len(200).not_null())
                .col(ColumnDef::new(S2::Description).text())
                .col(ColumnDef::new(S2::Type).string_len(20).not_null())
                .col(ColumnDef::new(S2::Priority).string_len(20).not_null())
                .col(ColumnDef::new(S2::AssignedToId).big_integer())
                .col(ColumnDef::new(S2::IntervalValue).integer().not_null())
                .col(ColumnDef::new(S2::IntervalUnit).string_len(10).not_null())
                .col(ColumnDef::new(S2::Basis).string_len(12).not_null())
                .col(ColumnDef::new(S2::StartDate).string_len(10).not_null())
                .col(ColumnDef::new(S2::NextDue).string_len(10).not_null())
                .col(ColumnDef::new(S2::LeadDays).integer().not_null().default(0))
                .col(ColumnDef::new(S2::EstimatedMinutes).integer())
                .col(ColumnDef::new(S2::Checklist).text().not_null())
                .col(
                    ColumnDef::new(S2::Active)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(ColumnDef::new(S2::LastWorkOrderId).big_integer())
                .col(ColumnDef::new(S2::LastGeneratedAt).big_integer())
                .col(ColumnDef::new(S2::CreatedBy).big_integer())
                .col(ColumnDef::new(S2::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(S2::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(S2::Version).integer().not_null().default(1))
                .check(Expr::col(S2::IntervalValue).between(1, 1000))
                .check(Expr::col(S2::IntervalUnit).is_in(["days", "weeks", "months"]))
                .check(Expr::col(S2::Basis).is_in(["scheduled", "completion"]))
                .check(Expr::col(S2::LeadDays).between(0, 3650))
                .foreign_key(
                    ForeignKey::create()
                        .from(S2::Table, S2::AssetId)
                        .to(Assets::Table, Assets::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S2::Table, S2::AssignedToId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S2::Table, S2::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S2::Table, S2::LastWorkOrderId)
                        .to(WorkOrders::Table, WorkOrders::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_pm_schedules_asset_id", S2::AssetId),
            ("idx_pm_schedules_next_due", S2::NextDue),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(S2::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PmSchedules::Table.into_iden(),
            StockMovements::Table.into_iden(),
            PartStock::Table.into_iden(),
            Parts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
