//! Files stored once by content hash and their attachments to any entity (the `files`
//! table of `002_62df140f2ee747f7.txt`), and the public work requests of maintenance.

use sea_orm_migration::prelude::*;

use crate::shapes::{fk, id};

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
enum WorkOrders {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Files {
    Table,
    Id,
    Filename,
    MimeType,
    FileSize,
    FileHash,
    IsPublic,
    DownloadCount,
    Description,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Attachments {
    Table,
    Id,
    FileId,
    EntityType,
    EntityId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkRequests {
    Table,
    Id,
    AssetId,
    LocationId,
    Title,
    Description,
    RequesterName,
    RequesterContact,
    PhotoFileId,
    Status,
    WorkOrderId,
    DecidedBy,
    DecidedAt,
    RejectionReason,
    ClientIp,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Files as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(id(F::Id))
                .col(ColumnDef::new(F::Filename).string_len(255).not_null())
                .col(ColumnDef::new(F::MimeType).string_len(100).not_null())
                .col(ColumnDef::new(F::FileSize).big_integer().not_null())
                .col(ColumnDef::new(F::FileHash).string_len(64).not_null())
                .col(
                    ColumnDef::new(F::IsPublic)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(
                    ColumnDef::new(F::DownloadCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(F::Description).text())
                .col(ColumnDef::new(F::UploadedBy).big_integer())
                .col(ColumnDef::new(F::CreatedAt).big_integer().not_null())
                .check(Expr::col(F::FileSize).gte(0))
                .check(Expr::col(F::DownloadCount).gte(0))
                .foreign_key(&mut fk(F::Table, F::UploadedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_files_file_hash")
                .table(F::Table)
                .col(F::FileHash)
                .to_owned(),
        )
        .await?;

        use Attachments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ColumnDef::new(A::FileId).big_integer().not_null())
                .col(ColumnDef::new(A::EntityType).string_len(40).not_null())
                .col(ColumnDef::new(A::EntityId).big_integer().not_null())
                .col(ColumnDef::new(A::CreatedBy).big_integer())
                .col(ColumnDef::new(A::CreatedAt).big_integer().not_null())
                .foreign_key(
                    fk(A::Table, A::FileId, F::Table, F::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(A::Table, A::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        // One file once per entity; the index also serves "the files of this entity".
        m.create_index(
            Index::create()
                .name("idx_attachments_entity")
                .table(A::Table)
                .col(A::EntityType)
                .col(A::EntityId)
                .col(A::FileId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_attachments_file_id")
                .table(A::Table)
                .col(A::FileId)
                .to_owned(),
        )
        .await?;

        use WorkRequests as W;
        m.create_table(
            Table::create()
                .table(W::Table)
                .col(id(W::Id))
                .col(ColumnDef::new(W::AssetId).big_integer())
                .col(ColumnDef::new(W::LocationId).big_integer())
                .col(ColumnDef::new(W::Title).string_len(200).not_null())
                .col(ColumnDef::new(W::Description).text())
                .col(ColumnDef::new(W::RequesterName).string_len(100).not_null())
                .col(ColumnDef::new(W::RequesterContact).string_len(255))
                .col(ColumnDef::new(W::PhotoFileId).big_integer())
                .col(
                    ColumnDef::new(W::Status)
                        .string_len(20)
                        .not_null()
                        .default("pending"),
                )
                .col(ColumnDef::new(W::WorkOrderId).big_integer())
                .col(ColumnDef::new(W::DecidedBy).big_integer())
                .col(ColumnDef::new(W::DecidedAt).big_integer())
                .col(ColumnDef::new(W::RejectionReason).text())
                .col(ColumnDef::new(W::ClientIp).string_len(45))
                .col(ColumnDef::new(W::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(W::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(W::Version).integer().not_null().default(1))
                .check(Expr::col(W::Status).is_in(["pending", "approved", "rejected"]))
                .foreign_key(&mut fk(W::Table, W::AssetId, Assets::Table, Assets::Id))
                .foreign_key(&mut fk(
                    W::Table,
                    W::LocationId,
                    Locations::Table,
                    Locations::Id,
                ))
                .foreign_key(&mut fk(W::Table, W::PhotoFileId, F::Table, F::Id))
                .foreign_key(&mut fk(W::Table, W::DecidedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(
                    W::Table,
                    W::WorkOrderId,
                    WorkOrders::Table,
                    WorkOrders::Id,
                ))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_work_requests_status", W::Status),
            ("idx_work_requests_asset_id", W::AssetId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(W::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WorkRequests::Table.into_iden(),
            Attachments::Table.into_iden(),
            Files::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
