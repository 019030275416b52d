//! Asset tags: the plant's own asset numbers, unique regardless of case when set.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assets {
    Table,
    Tag,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Assets::Table)
                .add_column(ColumnDef::new(Assets::Tag).string_len(50).null())
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX uq_assets_tag ON assets (LOWER(tag))")
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("uq_assets_tag")
                .table(Assets::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Assets::Table)
                .drop_column(Assets::Tag)
                .to_owned(),
        )
        .await
    }
}
