//! "My work" reads what is assigned to a user by status and time: these indexes answer
//! each of its parts (overdue, today, this week) and their counts from the index alone.

use sea_orm_migration::prelude::*;

use crate::shapes::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Activities {
    Table,
    AssignedToId,
    Status,
    StartTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    AssigneeId,
    Status,
    DueDate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Activities as A;
        m.create_index(index(
            A::Table,
            "idx_activity_assigned_status",
            &[A::AssignedToId, A::Status, A::StartTime],
        ))
        .await?;
        use Tasks as T;
        m.create_index(index(
            T::Table,
            "idx_tasks_assignee_status",
            &[T::AssigneeId, T::Status, T::DueDate],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_tasks_assignee_status")
                .table(Tasks::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_activity_assigned_status")
                .table(Activities::Table)
                .to_owned(),
        )
        .await
    }
}
