//! Maintenance, first slice: the location tree, asset types and the asset registry (a
//! tree of machines and components) of `001_fc7d4f68e8fe081f.txt`.

use sea_orm_migration::prelude::*;

use crate::shapes::{id, index, stamps};

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
    Name,
    Description,
    Address,
    City,
    State,
    Country,
    PostalCode,
    Latitude,
    Longitude,
    ParentId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssetTypes {
    Table,
    Id,
    Name,
    Description,
    Icon,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assets {
    Table,
    Id,
    Name,
    Description,
    AssetTypeId,
    Status,
    HealthScore,
    LocationId,
    Manufacturer,
    Model,
    SerialNumber,
    InstallationDate,
    PurchaseCostCents,
    ExpectedLifetime,
    WarrantyExpiryDate,
    LastMaintenanceDate,
    NextMaintenanceDate,
    ParentAssetId,
    QrCode,
    ImageUrl,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Locations as L;
        let mut t = Table::create();
        t.table(L::Table)
            .col(id(L::Id))
            .col(ColumnDef::new(L::Name).string_len(100).not_null())
            .col(ColumnDef::new(L::Description).text())
            .col(ColumnDef::new(L::Address).text())
            .col(ColumnDef::new(L::City).string_len(100))
            .col(ColumnDef::new(L::State).string_len(100))
            .col(ColumnDef::new(L::Country).string_len(100))
            .col(ColumnDef::new(L::PostalCode).string_len(20))
            .col(ColumnDef::new(L::Latitude).double())
            .col(ColumnDef::new(L::Longitude).double())
            .col(ColumnDef::new(L::ParentId).big_integer())
            .check(Expr::col(L::Latitude).between(-90, 90))
            .check(Expr::col(L::Longitude).between(-180, 180))
            .foreign_key(
                ForeignKey::create()
                    .from(L::Table, L::ParentId)
                    .to(L::Table, L::Id),
            );
        stamps(&mut t, L::CreatedAt, L::UpdatedAt, L::Version);
        m.create_table(t.to_owned()).await?;
        m.create_index(index(L::Table, "idx_locations_parent_id", &[L::ParentId]))
            .await?;

        use AssetTypes as T;
        let mut t = Table::create();
        t.table(T::Table)
            .col(id(T::Id))
            .col(
                ColumnDef::new(T::Name)
                    .string_len(100)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(T::Description).text())
            .col(ColumnDef::new(T::Icon).string_len(50));
        stamps(&mut t, T::CreatedAt, T::UpdatedAt, T::Version);
        m.create_table(t.to_owned()).await?;

        use Assets as A;
        let mut t = Table::create();
        t.table(A::Table)
            .col(id(A::Id))
            .col(ColumnDef::new(A::Name).string_len(100).not_null())
            .col(ColumnDef::new(A::Description).text())
            .col(ColumnDef::new(A::AssetTypeId).big_integer())
            .col(
                ColumnDef::new(A::Status)
                    .string_len(20)
                    .not_null()
                    .default("operational"),
            )
            .col(ColumnDef::new(A::HealthScore).integer())
            .col(ColumnDef::new(A::LocationId).big_integer())
            .col(ColumnDef::new(A::Manufacturer).string_len(100))
            .col(ColumnDef::new(A::Model).string_len(100))
            .col(ColumnDef::new(A::SerialNumber).string_len(100))
            .col(ColumnDef::new(A::InstallationDate).string_len(10))
            .col(ColumnDef::new(A::PurchaseCostCents).big_integer())
            .col(ColumnDef::new(A::ExpectedLifetime).integer())
            .col(ColumnDef::new(A::WarrantyExpiryDate).string_len(10))
            .col(ColumnDef::new(A::LastMaintenanceDate).string_len(10))
            .col(ColumnDef::new(A::NextMaintenanceDate).string_len(10))
            .col(ColumnDef::new(A::ParentAssetId).big_integer())
            .col(
                ColumnDef::new(A::QrCode)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(A::ImageUrl).string_len(255))
            .col(ColumnDef::new(A::CreatedBy).big_integer())
            .col(ColumnDef::new(A::UpdatedBy).big_integer())
            .check(Expr::col(A::Status).is_in(["operational", "maintenance", "down", "retired"]))
            .check(Expr::col(A::HealthScore).between(0, 100))
            .check(Expr::col(A::PurchaseCostCents).gte(0))
            .check(Expr::col(A::ExpectedLifetime).gte(0))
            .foreign_key(
                ForeignKey::create()
                    .from(A::Table, A::AssetTypeId)
                    .to(AssetTypes::Table, AssetTypes::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(A::Table, A::LocationId)
                    .to(Locations::Table, Locations::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(A::Table, A::ParentAssetId)
                    .to(A::Table, A::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(A::Table, A::CreatedBy)
                    .to(Users::Table, Users::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(A::Table, A::UpdatedBy)
                    .to(Users::Table, Users::Id),
            );
        stamps(&mut t, A::CreatedAt, A::UpdatedAt, A::Version);
        m.create_table(t.to_owned()).await?;
        for (name, col) in [
            ("idx_assets_parent_asset_id", A::ParentAssetId),
            ("idx_assets_location_id", A::LocationId),
            ("idx_assets_status", A::Status),
            ("idx_assets_asset_type_id", A::AssetTypeId),
            ("idx_assets_name", A::Name),
            ("idx_assets_serial_number", A::SerialNumber),
        ] {
            m.create_index(index(A::Table, name, &[col])).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Assets::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AssetTypes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Locations::Table).to_owned())
            .await
    }
}
