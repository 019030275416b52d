//! Current WIP of one work center, by order: the WIP list's filter reads this index
//! instead of the whole table. Neither column changes after a row is made, so recording a
//! movement does not touch it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Wip {
    Table,
    WorkcenterId,
    ProductionOrder,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_wip_workcenter_order")
                .table(Wip::Table)
                .col(Wip::WorkcenterId)
                .col(Wip::ProductionOrder)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_wip_workcenter_order")
                .table(Wip::Table)
                .to_owned(),
        )
        .await
    }
}
