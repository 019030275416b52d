//! Events too big for one PostgreSQL NOTIFY (8,000 bytes) cross between nodes through this
//! table: the sending node stores the envelope, the notice names its row, the others read
//! it (`nexus_core::events`). Rows older than ten minutes are deleted as new ones come.

use sea_orm_migration::prelude::*;

use crate::shapes::id;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum EventPayloads {
    Table,
    Id,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use EventPayloads as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ColumnDef::new(P::Payload).text().not_null())
                .col(ColumnDef::new(P::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EventPayloads::Table).to_owned())
            .await
    }
}
