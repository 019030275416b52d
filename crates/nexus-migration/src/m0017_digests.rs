//! Email digests of unread notifications: per user, when the last one went out, the newest
//! notification it covered, and which node is sending one now (a claim that expires, so a
//! node that dies mid-send holds nobody's digest for long).

use sea_orm_migration::prelude::*;

use crate::shapes::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum NotificationDigests {
    Table,
    UserId,
    LastSentAt,
    LastNotificationId,
    ClaimedUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum NotificationPreferences {
    Table,
    Enabled,
    Email,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use NotificationDigests as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(
                    ColumnDef::new(D::UserId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(D::LastSentAt).big_integer().not_null())
                .col(
                    ColumnDef::new(D::LastNotificationId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(D::ClaimedUntil).big_integer().null())
                .foreign_key(
                    &mut fk(D::Table, D::UserId, Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        // Until now `email` was written false whatever the user chose: a saved choice now
        // also takes email for the kinds it receives, as the role defaults do.
        use NotificationPreferences as P;
        m.exec_stmt(
            Query::update()
                .table(P::Table)
                .value(P::Email, Expr::col(P::Enabled))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NotificationDigests::Table).to_owned())
            .await
    }
}
