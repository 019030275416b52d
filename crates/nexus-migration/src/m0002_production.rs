//! Production tracking: plant settings, work centers, production order movements (the
//! `production_orders` table of the source document), WIP per order and work center, and
//! the daily rollup that reports read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Departments {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkCenters {
    Table,
    Id,
    Code,
    Name,
    DepartmentId,
    IsActive,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductionOrders {
    Table,
    Id,
    ProductionOrder,
    WorkcenterId,
    Quantity,
    OrderType,
    ScrapQuantity,
    Shift,
    Note,
    UserId,
    ReversesId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Wip {
    Table,
    ProductionOrder,
    WorkcenterId,
    QtyIn,
    QtyOut,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductionDaily {
    Table,
    Day,
    WorkcenterId,
    OrderType,
    Movements,
    Quantity,
    Scrap,
}

fn index<T: IntoIden + Copy + 'static>(table: T, name: &str, cols: &[T]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(
                    ColumnDef::new(Settings::Key)
                        .string_len(100)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Settings::Value).text().not_null())
                .col(ColumnDef::new(Settings::UpdatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WorkCenters::Table)
                .col(id(WorkCenters::Id))
                .col(
                    ColumnDef::new(WorkCenters::Code)
                        .string_len(20)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(WorkCenters::Name).string_len(100).not_null())
                .col(ColumnDef::new(WorkCenters::DepartmentId).big_integer())
                .col(
                    ColumnDef::new(WorkCenters::IsActive)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(
                    ColumnDef::new(WorkCenters::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WorkCenters::UpdatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WorkCenters::Version)
                        .integer()
                        .not_null()
                        .default(1),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WorkCenters::Table, WorkCenters::DepartmentId)
                        .to(Departments::Table, Departments::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            WorkCenters::Table,
            "idx_work_centers_is_active",
            &[WorkCenters::IsActive],
        ))
        .await?;
        m.create_index(index(
            WorkCenters::Table,
            "idx_work_centers_department_id",
            &[WorkCenters::DepartmentId],
        ))
        .await?;

        use ProductionOrders as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ColumnDef::new(P::ProductionOrder).string_len(50).not_null())
                .col(ColumnDef::new(P::WorkcenterId).big_integer().not_null())
                .col(ColumnDef::new(P::Quantity).integer().not_null())
                .col(ColumnDef::new(P::OrderType).string_len(3).not_null())
                .col(
                    ColumnDef::new(P::ScrapQuantity)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(P::Shift).string_len(20))
                .col(ColumnDef::new(P::Note).string_len(500))
                .col(ColumnDef::new(P::UserId).big_integer().not_null())
                .col(ColumnDef::new(P::ReversesId).big_integer().unique_key())
                .col(ColumnDef::new(P::CreatedAt).big_integer().not_null())
                .check(Expr::col(P::Quantity).gt(0))
                .check(Expr::col(P::ScrapQuantity).gte(0))
                .check(Expr::col(P::OrderType).is_in(["IN", "OUT"]))
                .foreign_key(
                    ForeignKey::create()
                        .from(P::Table, P::WorkcenterId)
                        .to(WorkCenters::Table, WorkCenters::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(P::Table, P::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(P::Table, P::ReversesId)
                        .to(P::Table, P::Id),
                )
                .to_owned(),
        )
        .await?;
        // Every list is newest first, so each filter has an index ending in (created_at, id).
        for (name, cols) in [
            ("idx_production_orders_created", vec![P::CreatedAt, P::Id]),
            (
                "idx_production_orders_order",
                vec![P::ProductionOrder, P::CreatedAt, P::Id],
            ),
            (
                "idx_production_orders_workcenter",
                vec![P::WorkcenterId, P::CreatedAt, P::Id],
            ),
            (
                "idx_production_orders_user",
                vec![P::UserId, P::CreatedAt, P::Id],
            ),
        ] {
            m.create_index(index(P::Table, name, &cols)).await?;
        }

        m.create_table(
            Table::create()
                .table(Wip::Table)
                .col(
                    ColumnDef::new(Wip::ProductionOrder)
                        .string_len(50)
                        .not_null(),
                )
                .col(ColumnDef::new(Wip::WorkcenterId).big_integer().not_null())
                .col(
                    ColumnDef::new(Wip::QtyIn)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Wip::QtyOut)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Wip::UpdatedAt).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(Wip::ProductionOrder)
                        .col(Wip::WorkcenterId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Wip::Table, Wip::WorkcenterId)
                        .to(WorkCenters::Table, WorkCenters::Id),
                )
                .to_owned(),
        )
        .await?;

        use ProductionDaily as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(ColumnDef::new(D::Day).string_len(10).not_null())
                .col(ColumnDef::new(D::WorkcenterId).big_integer().not_null())
                .col(ColumnDef::new(D::OrderType).string_len(3).not_null())
                .col(
                    ColumnDef::new(D::Movements)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(D::Quantity)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(D::Scrap).big_integer().not_null().default(0))
                .primary_key(
                    Index::create()
                        .col(D::Day)
                        .col(D::WorkcenterId)
                        .col(D::OrderType),
                )
                .check(Expr::col(D::OrderType).is_in(["IN", "OUT"]))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProductionDaily::Table.into_iden(),
            Wip::Table.into_iden(),
            ProductionOrders::Table.into_iden(),
            WorkCenters::Table.into_iden(),
            Settings::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
