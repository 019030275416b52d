//! A covering index for the daily summary: a 31-day report reads ~3,000 rollup rows from
//! the index alone instead of visiting the table for each.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProductionDaily {
    Table,
    Day,
    WorkcenterId,
    OrderType,
    Movements,
    Quantity,
    Scrap,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_production_daily_cover")
                .table(ProductionDaily::Table)
                .col(ProductionDaily::Day)
                .col(ProductionDaily::WorkcenterId)
                .col(ProductionDaily::OrderType)
                .col(ProductionDaily::Movements)
                .col(ProductionDaily::Quantity)
                .col(ProductionDaily::Scrap)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_production_daily_cover")
                .table(ProductionDaily::Table)
                .to_owned(),
        )
        .await
    }
}
