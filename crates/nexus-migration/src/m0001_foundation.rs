//! Identity and kernel tables: departments, roles, permissions, users, sessions, refresh
//! tokens and the audit trail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Departments {
    Table,
    Id,
    Name,
    Description,
    IsActive,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    Name,
    Description,
    IsBuiltin,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Permissions {
    Table,
    Id,
    Name,
    Resource,
    Action,
    Description,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    PasswordHash,
    FirstName,
    LastName,
    Phone,
    DepartmentId,
    Position,
    AvatarUrl,
    Preferences,
    RoleId,
    IsActive,
    EmailVerified,
    FailedLogins,
    LockedUntil,
    LastLogin,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    IpAddress,
    UserAgent,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLogs {
    Table,
    Id,
    ActorId,
    Action,
    EntityType,
    EntityId,
    PreviousState,
    NewState,
    IpAddress,
    UserAgent,
    CreatedAt,
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn index<T: IntoIden + Clone + 'static>(
    table: T,
    name: &str,
    cols: Vec<T>,
) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Departments::Table)
                .col(id(Departments::Id))
                .col(
                    ColumnDef::new(Departments::Name)
                        .string_len(100)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Departments::Description).text())
                .col(
                    ColumnDef::new(Departments::IsActive)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(
                    ColumnDef::new(Departments::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Departments::UpdatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Departments::Version)
                        .integer()
                        .not_null()
                        .default(1),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            Departments::Table,
            "idx_departments_is_active",
            vec![Departments::IsActive],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Roles::Table)
                .col(id(Roles::Id))
                .col(
                    ColumnDef::new(Roles::Name)
                        .string_len(50)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Roles::Description).text())
                .col(
                    ColumnDef::new(Roles::IsBuiltin)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ColumnDef::new(Roles::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Roles::UpdatedAt).big_integer().not_null())
                .col(
                    ColumnDef::new(Roles::Version)
                        .integer()
                        .not_null()
                        .default(1),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Permissions::Table)
                .col(id(Permissions::Id))
                .col(
                    ColumnDef::new(Permissions::Name)
                        .string_len(100)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Permissions::Resource)
                        .string_len(50)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Permissions::Action)
                        .string_len(20)
                        .not_null(),
                )
                .col(ColumnDef::new(Permissions::Description).text())
                .col(
                    ColumnDef::new(Permissions::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RolePermissions::Table)
                .col(
                    ColumnDef::new(RolePermissions::RoleId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RolePermissions::PermissionId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RolePermissions::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(RolePermissions::RoleId)
                        .col(RolePermissions::PermissionId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RolePermissions::Table, RolePermissions::RoleId)
                        .to(Roles::Table, Roles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RolePermissions::Table, RolePermissions::PermissionId)
                        .to(Permissions::Table, Permissions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(
                    ColumnDef::new(Users::Username)
                        .string_len(80)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Users::Email).string_len(255).unique_key())
                .col(
                    ColumnDef::new(Users::PasswordHash)
                        .string_len(256)
                        .not_null(),
                )
                .col(ColumnDef::new(Users::FirstName).string_len(50))
                .col(ColumnDef::new(Users::LastName).string_len(50))
                .col(ColumnDef::new(Users::Phone).string_len(20))
                .col(ColumnDef::new(Users::DepartmentId).big_integer())
                .col(ColumnDef::new(Users::Position).string_len(100))
                .col(ColumnDef::new(Users::AvatarUrl).string_len(255))
                .col(
                    ColumnDef::new(Users::Preferences)
                        .text()
                        .not_null()
                        .default("{}"),
                )
                .col(ColumnDef::new(Users::RoleId).big_integer().not_null())
                .col(
                    ColumnDef::new(Users::IsActive)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(
                    ColumnDef::new(Users::EmailVerified)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(
                    ColumnDef::new(Users::FailedLogins)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Users::LockedUntil).big_integer())
                .col(ColumnDef::new(Users::LastLogin).big_integer())
                .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Users::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(Users::CreatedBy).big_integer())
                .col(ColumnDef::new(Users::UpdatedBy).big_integer())
                .col(
                    ColumnDef::new(Users::Version)
                        .integer()
                        .not_null()
                        .default(1),
                )
                .check(Expr::col(Users::FailedLogins).gte(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, Users::RoleId)
                        .to(Roles::Table, Roles::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, Users::DepartmentId)
                        .to(Departments::Table, Departments::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_users_role_id", Users::RoleId),
            ("idx_users_department_id", Users::DepartmentId),
            ("idx_users_is_active", Users::IsActive),
            ("idx_users_created_at", Users::CreatedAt),
        ] {
            m.create_index(index(Users::Table, name, vec![col])).await?;
        }

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(id(Sessions::Id))
                .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
                .col(ColumnDef::new(Sessions::Kind).string_len(10).not_null())
                .col(ColumnDef::new(Sessions::IpAddress).string_len(64))
                .col(ColumnDef::new(Sessions::UserAgent).string_len(255))
                .col(ColumnDef::new(Sessions::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::RevokedAt).big_integer())
                .col(ColumnDef::new(Sessions::RevokedReason).string_len(50))
                .check(Expr::col(Sessions::Kind).is_in(["api", "web"]))
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            Sessions::Table,
            "idx_sessions_user_id",
            vec![Sessions::UserId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(id(RefreshTokens::Id))
                .col(
                    ColumnDef::new(RefreshTokens::SessionId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(RefreshTokens::UsedAt).big_integer())
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshTokens::Table, RefreshTokens::SessionId)
                        .to(Sessions::Table, Sessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            RefreshTokens::Table,
            "idx_refresh_tokens_session_id",
            vec![RefreshTokens::SessionId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLogs::Table)
                .col(id(AuditLogs::Id))
                .col(ColumnDef::new(AuditLogs::ActorId).big_integer())
                .col(ColumnDef::new(AuditLogs::Action).string_len(50).not_null())
                .col(
                    ColumnDef::new(AuditLogs::EntityType)
                        .string_len(50)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditLogs::EntityId).big_integer())
                .col(ColumnDef::new(AuditLogs::PreviousState).text())
                .col(ColumnDef::new(AuditLogs::NewState).text())
                .col(ColumnDef::new(AuditLogs::IpAddress).string_len(64))
                .col(ColumnDef::new(AuditLogs::UserAgent).string_len(255))
                .col(
                    ColumnDef::new(AuditLogs::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            AuditLogs::Table,
            "idx_audit_logs_entity",
            vec![AuditLogs::EntityType, AuditLogs::EntityId, AuditLogs::Id],
        ))
        .await?;
        m.create_index(index(
            AuditLogs::Table,
            "idx_audit_logs_actor",
            vec![AuditLogs::ActorId, AuditLogs::Id],
        ))
        .await?;
        m.create_index(index(
            AuditLogs::Table,
            "idx_audit_logs_created_at",
            vec![AuditLogs::CreatedAt],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLogs::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            RolePermissions::Table.into_iden(),
            Permissions::Table.into_iden(),
            Roles::Table.into_iden(),
            Departments::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
