//! Notifications, follows, announcements (updates) and system messages
//! (`000_c229cfaa0d2d7bf6.txt`, `001_fc7d4f68e8fe081f.txt`): notifications with read and
//! dismissed flags and the related entity, per-user preferences, what each user follows
//! (the activity feed reads the audit log through it), updates with their audience,
//! recipients, attachments, media, comments and likes, and system messages with targets
//! and dismissals.

use sea_orm_migration::prelude::*;

use crate::shapes::{fk, id, index, stamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Files {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Type,
    Title,
    Message,
    EntityType,
    EntityId,
    Link,
    IsRead,
    ReadAt,
    IsDismissed,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum NotificationPreferences {
    Table,
    UserId,
    Kind,
    Enabled,
    Email,
}

#[derive(DeriveIden, Clone, Copy)]
enum Follows {
    Table,
    UserId,
    EntityType,
    EntityId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Updates {
    Table,
    Id,
    Title,
    Content,
    Type,
    Priority,
    CreatedById,
    TargetAll,
    AckRequired,
    Status,
    PublishAt,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateTargets {
    Table,
    UpdateId,
    TargetType,
    TargetId,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateRecipients {
    Table,
    UpdateId,
    UserId,
    DepartmentId,
    PublishedAt,
    ReadAt,
    AcknowledgedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateAttachments {
    Table,
    Id,
    UpdateId,
    FileId,
    Filename,
    FileSize,
    MimeType,
    UploadedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateMedia {
    Table,
    Id,
    UpdateId,
    FileId,
    MediaType,
    Caption,
    UploadedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateComments {
    Table,
    Id,
    UpdateId,
    AuthorId,
    Content,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UpdateLikes {
    Table,
    UpdateId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SystemMessages {
    Table,
    Id,
    Title,
    Content,
    MessageType,
    IsBroadcast,
    ExpiresAt,
    CreatedById,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum SystemMessageTargets {
    Table,
    MessageId,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum SystemMessageDismissals {
    Table,
    MessageId,
    UserId,
    DismissedAt,
}

/// The notification types of `001_fc7d4f68e8fe081f.txt`, with success for completions.
const NOTIFICATION_TYPES: [&str; 4] = ["info", "warning", "alert", "success"];
const UPDATE_TYPES: [&str; 5] = ["announcement", "alert", "maintenance", "update", "news"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const UPDATE_STATUSES: [&str; 4] = ["draft", "scheduled", "published", "unpublished"];
const TARGET_TYPES: [&str; 3] = ["user", "department", "role"];
const MEDIA_TYPES: [&str; 3] = ["image", "video", "audio"];
const MESSAGE_TYPES: [&str; 4] = ["info", "warning", "error", "success"];

fn flag(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn when(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn user_fk<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    fk(table, col, Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Notifications as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(id(N::Id))
                .col(ColumnDef::new(N::UserId).big_integer().not_null())
                .col(ColumnDef::new(N::Kind).string_len(40).not_null())
                .col(ColumnDef::new(N::Type).string_len(20).not_null())
                .col(ColumnDef::new(N::Title).string_len(200).not_null())
                .col(ColumnDef::new(N::Message).text().not_null())
                .col(ColumnDef::new(N::EntityType).string_len(40))
                .col(ColumnDef::new(N::EntityId).big_integer())
                .col(ColumnDef::new(N::Link).string_len(300))
                .col(flag(N::IsRead))
                .col(ColumnDef::new(N::ReadAt).big_integer())
                .col(flag(N::IsDismissed))
                .col(when(N::CreatedAt))
                .check(Expr::col(N::Type).is_in(NOTIFICATION_TYPES))
                .foreign_key(&mut user_fk(N::Table, N::UserId))
                .to_owned(),
        )
        .await?;
        // `notifications_user_id_read` of 001: the unread count and the unread first page.
        m.create_index(index(
            N::Table,
            "idx_notifications_user_read",
            &[N::UserId, N::IsRead, N::Id],
        ))
        .await?;
        m.create_index(index(
            N::Table,
            "idx_notifications_user_dismissed",
            &[N::UserId, N::IsDismissed, N::Id],
        ))
        .await?;

        use NotificationPreferences as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(ColumnDef::new(P::UserId).big_integer().not_null())
                .col(ColumnDef::new(P::Kind).string_len(40).not_null())
                .col(flag(P::Enabled))
                .col(flag(P::Email))
                .primary_key(Index::create().col(P::UserId).col(P::Kind))
                .foreign_key(&mut user_fk(P::Table, P::UserId))
                .to_owned(),
        )
        .await?;

        use Follows as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(ColumnDef::new(F::UserId).big_integer().not_null())
                .col(ColumnDef::new(F::EntityType).string_len(40).not_null())
                .col(ColumnDef::new(F::EntityId).big_integer().not_null())
                .col(ColumnDef::new(F::Reason).string_len(20).not_null())
                .col(when(F::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(F::UserId)
                        .col(F::EntityType)
                        .col(F::EntityId),
                )
                .foreign_key(&mut user_fk(F::Table, F::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            F::Table,
            "idx_follows_entity",
            &[F::EntityType, F::EntityId, F::UserId],
        ))
        .await?;

        use Updates as U;
        let mut t = Table::create();
        t.table(U::Table)
            .col(id(U::Id))
            .col(ColumnDef::new(U::Title).string_len(200).not_null())
            .col(ColumnDef::new(U::Content).text().not_null())
            .col(ColumnDef::new(U::Type).string_len(20).not_null())
            .col(ColumnDef::new(U::Priority).string_len(20).not_null())
            .col(ColumnDef::new(U::CreatedById).big_integer().not_null())
            .col(flag(U::TargetAll))
            .col(flag(U::AckRequired))
            .col(ColumnDef::new(U::Status).string_len(20).not_null())
            .col(ColumnDef::new(U::PublishAt).big_integer())
            .col(ColumnDef::new(U::PublishedAt).big_integer())
            .check(Expr::col(U::Type).is_in(UPDATE_TYPES))
            .check(Expr::col(U::Priority).is_in(PRIORITIES))
            .check(Expr::col(U::Status).is_in(UPDATE_STATUSES))
            .foreign_key(&mut user_fk(U::Table, U::CreatedById));
        stamps(&mut t, U::CreatedAt, U::UpdatedAt, U::Version);
        m.create_table(t.to_owned()).await?;
        for (name, cols) in [
            // `idx_update_type_priority` of 000.
            ("idx_update_type_priority", &[U::Type, U::Priority][..]),
            ("idx_update_status_publish_at", &[U::Status, U::PublishAt]),
            ("idx_update_author", &[U::CreatedById, U::Id]),
        ] {
            m.create_index(index(U::Table, name, cols)).await?;
        }

        use UpdateTargets as UT;
        m.create_table(
            Table::create()
                .table(UT::Table)
                .col(ColumnDef::new(UT::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(UT::TargetType).string_len(20).not_null())
                .col(ColumnDef::new(UT::TargetId).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(UT::UpdateId)
                        .col(UT::TargetType)
                        .col(UT::TargetId),
                )
                .check(Expr::col(UT::TargetType).is_in(TARGET_TYPES))
                .foreign_key(
                    fk(UT::Table, UT::UpdateId, U::Table, U::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        use UpdateRecipients as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(ColumnDef::new(R::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(R::UserId).big_integer().not_null())
                .col(ColumnDef::new(R::DepartmentId).big_integer())
                .col(when(R::PublishedAt))
                .col(ColumnDef::new(R::ReadAt).big_integer())
                .col(ColumnDef::new(R::AcknowledgedAt).big_integer())
                .primary_key(Index::create().col(R::UpdateId).col(R::UserId))
                .foreign_key(
                    fk(R::Table, R::UpdateId, U::Table, U::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut user_fk(R::Table, R::UserId))
                .to_owned(),
        )
        .await?;
        // A reader's feed, newest first, and their unread count.
        m.create_index(index(
            R::Table,
            "idx_update_recipients_feed",
            &[R::UserId, R::PublishedAt, R::UpdateId],
        ))
        .await?;
        m.create_index(index(
            R::Table,
            "idx_update_recipients_unread",
            &[R::UserId, R::ReadAt],
        ))
        .await?;

        use UpdateAttachments as UA;
        m.create_table(
            Table::create()
                .table(UA::Table)
                .col(id(UA::Id))
                .col(ColumnDef::new(UA::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(UA::FileId).big_integer().not_null())
                .col(ColumnDef::new(UA::Filename).string_len(255).not_null())
                .col(ColumnDef::new(UA::FileSize).big_integer().not_null())
                .col(ColumnDef::new(UA::MimeType).string_len(100).not_null())
                .col(when(UA::UploadedAt))
                .foreign_key(
                    fk(UA::Table, UA::UpdateId, U::Table, U::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(UA::Table, UA::FileId, Files::Table, Files::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            UA::Table,
            "idx_update_attachments_update",
            &[UA::UpdateId],
        ))
        .await?;

        use UpdateMedia as UM;
        m.create_table(
            Table::create()
                .table(UM::Table)
                .col(id(UM::Id))
                .col(ColumnDef::new(UM::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(UM::FileId).big_integer().not_null())
                .col(ColumnDef::new(UM::MediaType).string_len(20).not_null())
                .col(ColumnDef::new(UM::Caption).text().not_null().default(""))
                .col(when(UM::UploadedAt))
                .check(Expr::col(UM::MediaType).is_in(MEDIA_TYPES))
                .foreign_key(
                    fk(UM::Table, UM::UpdateId, U::Table, U::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(UM::Table, UM::FileId, Files::Table, Files::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(UM::Table, "idx_update_media_update", &[UM::UpdateId]))
            .await?;

        use UpdateComments as UC;
        m.create_table(
            Table::create()
                .table(UC::Table)
                .col(id(UC::Id))
                .col(ColumnDef::new(UC::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(UC::AuthorId).big_integer().not_null())
                .col(ColumnDef::new(UC::Content).text().not_null())
                .col(when(UC::CreatedAt))
                .foreign_key(
                    fk(UC::Table, UC::UpdateId, U::Table, U::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut user_fk(UC::Table, UC::AuthorId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            UC::Table,
            "idx_update_comments_update",
            &[UC::UpdateId, UC::Id],
        ))
        .await?;

        use UpdateLikes as UL;
        m.create_table(
            Table::create()
                .table(UL::Table)
                .col(ColumnDef::new(UL::UpdateId).big_integer().not_null())
                .col(ColumnDef::new(UL::UserId).big_integer().not_null())
                .col(when(UL::CreatedAt))
                .primary_key(Index::create().col(UL::UpdateId).col(UL::UserId))
                .foreign_key(
                    fk(UL::Table, UL::UpdateId, U::Table, U::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut user_fk(UL::Table, UL::UserId))
                .to_owned(),
        )
        .await?;

        use SystemMessages as S;
        let mut t = Table::create();
        t.table(S::Table)
            .col(id(S::Id))
            .col(ColumnDef::new(S::Title).string_len(200).not_null())
            .col(ColumnDef::new(S::Content).text().not_null())
            .col(ColumnDef::new(S::MessageType).string_len(20).not_null())
            .col(flag(S::IsBroadcast))
            .col(ColumnDef::new(S::ExpiresAt).big_integer())
            .col(ColumnDef::new(S::CreatedById).big_integer())
            .check(Expr::col(S::MessageType).is_in(MESSAGE_TYPES))
            .foreign_key(
                fk(S::Table, S::CreatedById, Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            );
        stamps(&mut t, S::CreatedAt, S::UpdatedAt, S::Version);
        m.create_table(t.to_owned()).await?;
        m.create_index(index(
            S::Table,
            "idx_system_messages_expires",
            &[S::ExpiresAt],
        ))
        .await?;

        use SystemMessageTargets as ST;
        m.create_table(
            Table::create()
                .table(ST::Table)
                .col(ColumnDef::new(ST::MessageId).big_integer().not_null())
                .col(ColumnDef::new(ST::UserId).big_integer().not_null())
                .primary_key(Index::create().col(ST::MessageId).col(ST::UserId))
                .foreign_key(
                    fk(ST::Table, ST::MessageId, S::Table, S::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut user_fk(ST::Table, ST::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            ST::Table,
            "idx_system_message_targets_user",
            &[ST::UserId, ST::MessageId],
        ))
        .await?;

        use SystemMessageDismissals as SD;
        m.create_table(
            Table::create()
                .table(SD::Table)
                .col(ColumnDef::new(SD::MessageId).big_integer().not_null())
                .col(ColumnDef::new(SD::UserId).big_integer().not_null())
                .col(when(SD::DismissedAt))
                .primary_key(Index::create().col(SD::MessageId).col(SD::UserId))
                .foreign_key(
                    fk(SD::Table, SD::MessageId, S::Table, S::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut user_fk(SD::Table, SD::UserId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SystemMessageDismissals::Table.into_iden(),
            SystemMessageTargets::Table.into_iden(),
            SystemMessages::Table.into_iden(),
            UpdateLikes::Table.into_iden(),
            UpdateComments::Table.into_iden(),
            UpdateMedia::Table.into_iden(),
            UpdateAttachments::Table.into_iden(),
            UpdateRecipients::Table.into_iden(),
            UpdateTargets::Table.into_iden(),
            Updates::Table.into_iden(),
            Follows::Table.into_iden(),
            NotificationPreferences::Table.into_iden(),
            Notifications::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
