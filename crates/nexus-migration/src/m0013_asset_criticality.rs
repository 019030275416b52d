//! What a plant ranks its machines by besides the source document's fields: criticality
//! (A: stops production, B: slows it, C: neither) and the purchase date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assets {
    Table,
    Criticality,
    PurchaseDate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Assets::Criticality)
                .string_len(1)
                .null()
                .to_owned(),
            ColumnDef::new(Assets::PurchaseDate)
                .string_len(10)
                .null()
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Assets::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Assets::Criticality, Assets::PurchaseDate] {
            m.alter_table(
                Table::alter()
                    .table(Assets::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
