//! Alert rules and meter schedules become editable: a version each, so a change made from
//! a stale copy is refused (412) rather than lost.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AlertRules {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum MeterSchedules {
    Table,
    Version,
}

fn version() -> ColumnDef {
    ColumnDef::new(Alias::new("version"))
        .integer()
        .not_null()
        .default(1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AlertRules::Table)
                .add_column(version())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MeterSchedules::Table)
                .add_column(version())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AlertRules::Table)
                .drop_column(AlertRules::Version)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MeterSchedules::Table)
                .drop_column(MeterSchedules::Version)
                .to_owned(),
        )
        .await
    }
}
