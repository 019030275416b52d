//! Activities, tags, projects and tasks (`000_c229cfaa0d2d7bf6.txt`, `002_62df140f2ee747f7.txt`):
//! activities with their status and priority history, recurring series, tags, projects
//! with teams and costs, tasks with dependencies and worklogs, and calendar feed tokens.

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
enum Tags {
    Table,
    Id,
    Name,
    Description,
    Color,
    Category,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivitySeries {
    Table,
    Id,
    Title,
    Description,
    Type,
    Priority,
    AssignedToId,
    CreatedById,
    FirstStart,
    DurationSeconds,
    IntervalValue,
    IntervalUnit,
    UntilDate,
    TagIds,
    GeneratedUntil,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Activities {
    Table,
    Id,
    Title,
    Description,
    Type,
    Status,
    Priority,
    StartTime,
    EndTime,
    AssignedToId,
    CreatedById,
    SeriesId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivityStatusHistory {
    Table,
    Id,
    ActivityId,
    Status,
    ChangedById,
    ChangedAt,
    Notes,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivityPriorityHistory {
    Table,
    Id,
    ActivityId,
    Priority,
    ChangedById,
    ChangedAt,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivityTags {
    Table,
    ActivityId,
    TagId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    Id,
    Name,
    Description,
    Status,
    Priority,
    StartDate,
    EndDate,
    ManagerId,
    BudgetMinor,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectMembers {
    Table,
    ProjectId,
    UserId,
    AddedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectActivities {
    Table,
    ProjectId,
    ActivityId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectCosts {
    Table,
    Id,
    ProjectId,
    AmountMinor,
    Description,
    BookedOn,
    BookedById,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    ProjectId,
    Title,
    Description,
    Status,
    Priority,
    AssigneeId,
    StartDate,
    DueDate,
    EstimatedMinutes,
    ActualMinutes,
    CreatedById,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskTags {
    Table,
    TaskId,
    TagId,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskDependencies {
    Table,
    Id,
    ProjectId,
    PredecessorId,
    SuccessorId,
    Kind,
    LagDays,
    CreatedById,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskWorklogs {
    Table,
    Id,
    TaskId,
    UserId,
    WorkedOn,
    Minutes,
    Note,
    CreatedById,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CalendarFeeds {
    Table,
    UserId,
    TokenHash,
    CreatedAt,
}

const ACTIVITY_TYPES: [&str; 10] = [
    "Production",
    "Maintenance",
    "Inspection & Audit",
    "Engineering",
    "Logistics",
    "Quality",
    "Meetings",
    "Projects",
    "Training",
    "Admin & Systems",
];
const ACTIVITY_STATUSES: [&str; 5] = [
    "planned",
    "in-progress",
    "completed",
    "cancelled",
    "overdue",
];
const ACTIVITY_PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];
const PROJECT_STATUSES: [&str; 5] = ["planning", "active", "on-hold", "completed", "cancelled"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const TASK_STATUSES: [&str; 5] = ["todo", "in-progress", "blocked", "done", "cancelled"];
const DEPENDENCY_KINDS: [&str; 4] = [
    "finish-to-start",
    "start-to-start",
    "finish-to-finish",
    "start-to-finish",
];

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .text()
        .not_null()
        .default("")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Tags as G;
        let mut t = Table::create();
        t.table(G::Table)
            .col(id(G::Id))
            .col(ColumnDef::new(G::Name).string_len(50).not_null())
            .col(text(G::Description))
            .col(ColumnDef::new(G::Color).string_len(7).not_null())
            .col(ColumnDef::new(G::Category).string_len(50));
        stamps(&mut t, G::CreatedAt, G::UpdatedAt, G::Version);
        m.create_table(t.to_owned()).await?;
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX uq_tags_name ON tags (LOWER(name))")
            .await?;

        use ActivitySeries as S;
        let mut t = Table::create();
        t.table(S::Table)
            .col(id(S::Id))
            .col(ColumnDef::new(S::Title).string_len(200).not_null())
            .col(text(S::Description))
            .col(ColumnDef::new(S::Type).string_len(50).not_null())
            .col(ColumnDef::new(S::Priority).string_len(20).not_null())
            .col(ColumnDef::new(S::AssignedToId).big_integer().not_null())
            .col(ColumnDef::new(S::CreatedById).big_integer().not_null())
            .col(ColumnDef::new(S::FirstStart).big_integer().not_null())
            .col(ColumnDef::new(S::DurationSeconds).big_integer().not_null())
            .col(ColumnDef::new(S::IntervalValue).integer().not_null())
            .col(ColumnDef::new(S::IntervalUnit).string_len(10).not_null())
            .col(ColumnDef::new(S::UntilDate).string_len(10))
            .col(ColumnDef::new(S::TagIds).text().not_null().default("[]"))
            .col(ColumnDef::new(S::GeneratedUntil).big_integer().not_null())
            .check(Expr::col(S::IntervalUnit).is_in(["days", "weeks", "months"]))
            .check(Expr::col(S::IntervalValue).gt(0))
            .check(Expr::col(S::DurationSeconds).gte(0))
            .foreign_key(&mut fk(S::Table, S::AssignedToId, Users::Table, Users::Id))
            .foreign_key(&mut fk(S::Table, S::CreatedById, Users::Table, Users::Id));
        stamps(&mut t, S::CreatedAt, S::UpdatedAt, S::Version);
        m.create_table(t.to_owned()).await?;

        use Activities as A;
        let mut t = Table::create();
        t.table(A::Table)
            .col(id(A::Id))
            .col(ColumnDef::new(A::Title).string_len(200).not_null())
            .col(text(A::Description))
            .col(ColumnDef::new(A::Type).string_len(50).not_null())
            .col(ColumnDef::new(A::Status).string_len(20).not_null())
            .col(ColumnDef::new(A::Priority).string_len(20).not_null())
            .col(ColumnDef::new(A::StartTime).big_integer().not_null())
            .col(ColumnDef::new(A::EndTime).big_integer().not_null())
            .col(ColumnDef::new(A::AssignedToId).big_integer().not_null())
            .col(ColumnDef::new(A::CreatedById).big_integer().not_null())
            .col(ColumnDef::new(A::SeriesId).big_integer())
            .check(Expr::col(A::Type).is_in(ACTIVITY_TYPES))
            .check(Expr::col(A::Status).is_in(ACTIVITY_STATUSES))
            .check(Expr::col(A::Priority).is_in(ACTIVITY_PRIORITIES))
            .check(Expr::col(A::EndTime).gte(Expr::col(A::StartTime)))
            .foreign_key(&mut fk(A::Table, A::AssignedToId, Users::Table, Users::Id))
            .foreign_key(&mut fk(A::Table, A::CreatedById, Users::Table, Users::Id))
            .foreign_key(&mut fk(A::Table, A::SeriesId, S::Table, S::Id));
        stamps(&mut t, A::CreatedAt, A::UpdatedAt, A::Version);
        m.create_table(t.to_owned()).await?;
        // The document's indexes, each with the start time after it so a filtered list
        // sorted by start (the default) walks one index; the overdue sweep reads
        // (status, end_time); "my work" reads (assigned_to_id, start_time).
        for (name, cols) in [
            ("idx_activity_status", &[A::Status, A::StartTime][..]),
            ("idx_activity_type", &[A::Type, A::StartTime]),
            ("idx_activity_assigned_to", &[A::AssignedToId, A::StartTime]),
            ("idx_activity_start_time", &[A::StartTime]),
            ("idx_activity_priority", &[A::Priority, A::StartTime]),
            ("idx_activity_created_by", &[A::CreatedById, A::StartTime]),
            (
                "idx_activity_status_priority",
                &[A::Status, A::Priority, A::StartTime],
            ),
            (
                "idx_activity_type_status",
                &[A::Type, A::Status, A::StartTime],
            ),
            ("idx_activity_status_end", &[A::Status, A::EndTime]),
            ("idx_activity_series", &[A::SeriesId, A::StartTime]),
        ] {
            m.create_index(index(A::Table, name, cols)).await?;
        }

        use ActivityStatusHistory as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(id(H::Id))
                .col(ColumnDef::new(H::ActivityId).big_integer().not_null())
                .col(ColumnDef::new(H::Status).string_len(20).not_null())
                .col(ColumnDef::new(H::ChangedById).big_integer())
                .col(ColumnDef::new(H::ChangedAt).big_integer().not_null())
                .col(text(H::Notes))
                .check(Expr::col(H::Status).is_in(ACTIVITY_STATUSES))
                .foreign_key(
                    fk(H::Table, H::ActivityId, A::Table, A::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(H::Table, H::ChangedById, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            H::Table,
            "idx_activity_status_history",
            &[H::ActivityId, H::ChangedAt],
        ))
        .await?;

        use ActivityPriorityHistory as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ColumnDef::new(P::ActivityId).big_integer().not_null())
                .col(ColumnDef::new(P::Priority).string_len(20).not_null())
                .col(ColumnDef::new(P::ChangedById).big_integer())
                .col(ColumnDef::new(P::ChangedAt).big_integer().not_null())
                .col(text(P::Reason))
                .check(Expr::col(P::Priority).is_in(ACTIVITY_PRIORITIES))
                .foreign_key(
                    fk(P::Table, P::ActivityId, A::Table, A::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(P::Table, P::ChangedById, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            P::Table,
            "idx_activity_priority_history",
            &[P::ActivityId, P::ChangedAt],
        ))
        .await?;

        use ActivityTags as AT;
        m.create_table(
            Table::create()
                .table(AT::Table)
                .col(ColumnDef::new(AT::ActivityId).big_integer().not_null())
                .col(ColumnDef::new(AT::TagId).big_integer().not_null())
                .primary_key(Index::create().col(AT::ActivityId).col(AT::TagId))
                .foreign_key(
                    fk(AT::Table, AT::ActivityId, A::Table, A::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(AT::Table, AT::TagId, G::Table, G::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            AT::Table,
            "idx_activity_tags_tag",
            &[AT::TagId, AT::ActivityId],
        ))
        .await?;

        use Projects as J;
        let mut t = Table::create();
        t.table(J::Table)
            .col(id(J::Id))
            .col(ColumnDef::new(J::Name).string_len(200).not_null())
            .col(text(J::Description))
            .col(ColumnDef::new(J::Status).string_len(20).not_null())
            .col(ColumnDef::new(J::Priority).string_len(20).not_null())
            .col(ColumnDef::new(J::StartDate).string_len(10).not_null())
            .col(ColumnDef::new(J::EndDate).string_len(10).not_null())
            .col(ColumnDef::new(J::ManagerId).big_integer().not_null())
            .col(
                ColumnDef::new(J::BudgetMinor)
                    .big_integer()
                    .not_null()
                    .default(0),
            )
            .check(Expr::col(J::Status).is_in(PROJECT_STATUSES))
            .check(Expr::col(J::Priority).is_in(PRIORITIES))
            .check(Expr::col(J::EndDate).gte(Expr::col(J::StartDate)))
            .check(Expr::col(J::BudgetMinor).gte(0))
            .foreign_key(&mut fk(J::Table, J::ManagerId, Users::Table, Users::Id));
        stamps(&mut t, J::CreatedAt, J::UpdatedAt, J::Version);
        m.create_table(t.to_owned()).await?;
        for (name, cols) in [
            ("idx_project_status", &[J::Status][..]),
            ("idx_project_manager", &[J::ManagerId]),
            ("idx_project_start_date", &[J::StartDate]),
            (
                "idx_project_status_dates",
                &[J::Status, J::StartDate, J::EndDate],
            ),
        ] {
            m.create_index(index(J::Table, name, cols)).await?;
        }

        use ProjectMembers as PM;
        m.create_table(
            Table::create()
                .table(PM::Table)
                .col(ColumnDef::new(PM::ProjectId).big_integer().not_null())
                .col(ColumnDef::new(PM::UserId).big_integer().not_null())
                .col(ColumnDef::new(PM::AddedAt).big_integer().not_null())
                .primary_key(Index::create().col(PM::ProjectId).col(PM::UserId))
                .foreign_key(
                    fk(PM::Table, PM::ProjectId, J::Table, J::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(PM::Table, PM::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            PM::Table,
            "idx_project_members_user",
            &[PM::UserId, PM::ProjectId],
        ))
        .await?;

        use ProjectActivities as PA;
        m.create_table(
            Table::create()
                .table(PA::Table)
                .col(ColumnDef::new(PA::ProjectId).big_integer().not_null())
                .col(ColumnDef::new(PA::ActivityId).big_integer().not_null())
                .primary_key(Index::create().col(PA::ProjectId).col(PA::ActivityId))
                .foreign_key(
                    fk(PA::Table, PA::ProjectId, J::Table, J::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(PA::Table, PA::ActivityId, A::Table, A::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            PA::Table,
            "idx_project_activities_activity",
            &[PA::ActivityId, PA::ProjectId],
        ))
        .await?;

        use ProjectCosts as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ColumnDef::new(C::ProjectId).big_integer().not_null())
                .col(ColumnDef::new(C::AmountMinor).big_integer().not_null())
                .col(ColumnDef::new(C::Description).string_len(200).not_null())
                .col(ColumnDef::new(C::BookedOn).string_len(10).not_null())
                .col(ColumnDef::new(C::BookedById).big_integer())
                .col(ColumnDef::new(C::CreatedAt).big_integer().not_null())
                .foreign_key(
                    fk(C::Table, C::ProjectId, J::Table, J::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(C::Table, C::BookedById, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            C::Table,
            "idx_project_costs_project",
            &[C::ProjectId, C::BookedOn],
        ))
        .await?;

        use Tasks as T;
        let mut t = Table::create();
        t.table(T::Table)
            .col(id(T::Id))
            .col(ColumnDef::new(T::ProjectId).big_integer().not_null())
            .col(ColumnDef::new(T::Title).string_len(200).not_null())
            .col(text(T::Description))
            .col(ColumnDef::new(T::Status).string_len(20).not_null())
            .col(ColumnDef::new(T::Priority).string_len(20).not_null())
            .col(ColumnDef::new(T::AssigneeId).big_integer())
            .col(ColumnDef::new(T::StartDate).string_len(10).not_null())
            .col(ColumnDef::new(T::DueDate).string_len(10).not_null())
            .col(
                ColumnDef::new(T::EstimatedMinutes)
                    .big_integer()
                    .not_null()
                    .default(0),
            )
            .col(
                ColumnDef::new(T::ActualMinutes)
                    .big_integer()
                    .not_null()
                    .default(0),
            )
            .col(ColumnDef::new(T::CreatedById).big_integer())
            .check(Expr::col(T::Status).is_in(TASK_STATUSES))
            .check(Expr::col(T::Priority).is_in(PRIORITIES))
            .check(Expr::col(T::DueDate).gte(Expr::col(T::StartDate)))
            .check(Expr::col(T::EstimatedMinutes).gte(0))
            .check(Expr::col(T::ActualMinutes).gte(0))
            .foreign_key(
                fk(T::Table, T::ProjectId, J::Table, J::Id).on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(&mut fk(T::Table, T::AssigneeId, Users::Table, Users::Id))
            .foreign_key(&mut fk(T::Table, T::CreatedById, Users::Table, Users::Id));
        stamps(&mut t, T::CreatedAt, T::UpdatedAt, T::Version);
        m.create_table(t.to_owned()).await?;
        for (name, cols) in [
            ("idx_tasks_project_status", &[T::ProjectId, T::Status][..]),
            ("idx_tasks_assignee_due", &[T::AssigneeId, T::DueDate]),
            ("idx_tasks_due_date", &[T::DueDate]),
        ] {
            m.create_index(index(T::Table, name, cols)).await?;
        }

        use TaskTags as TT;
        m.create_table(
            Table::create()
                .table(TT::Table)
                .col(ColumnDef::new(TT::TaskId).big_integer().not_null())
                .col(ColumnDef::new(TT::TagId).big_integer().not_null())
                .primary_key(Index::create().col(TT::TaskId).col(TT::TagId))
                .foreign_key(
                    fk(TT::Table, TT::TaskId, T::Table, T::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(TT::Table, TT::TagId, G::Table, G::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            TT::Table,
            "idx_task_tags_tag",
            &[TT::TagId, TT::TaskId],
        ))
        .await?;

        use TaskDependencies as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(id(D::Id))
                .col(ColumnDef::new(D::ProjectId).big_integer().not_null())
                .col(ColumnDef::new(D::PredecessorId).big_integer().not_null())
                .col(ColumnDef::new(D::SuccessorId).big_integer().not_null())
                .col(ColumnDef::new(D::Kind).string_len(20).not_null())
                .col(ColumnDef::new(D::LagDays).integer().not_null().default(0))
                .col(ColumnDef::new(D::CreatedById).big_integer())
                .col(ColumnDef::new(D::CreatedAt).big_integer().not_null())
                .check(Expr::col(D::Kind).is_in(DEPENDENCY_KINDS))
                .check(Expr::col(D::PredecessorId).ne(Expr::col(D::SuccessorId)))
                .foreign_key(
                    fk(D::Table, D::ProjectId, J::Table, J::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(D::Table, D::PredecessorId, T::Table, T::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(D::Table, D::SuccessorId, T::Table, T::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(D::Table, D::CreatedById, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                D::Table,
                "uq_task_dependencies_pair",
                &[D::PredecessorId, D::SuccessorId],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            D::Table,
            "idx_task_dependencies_successor",
            &[D::SuccessorId],
        ))
        .await?;
        m.create_index(index(
            D::Table,
            "idx_task_dependencies_project",
            &[D::ProjectId],
        ))
        .await?;

        use TaskWorklogs as W;
        m.create_table(
            Table::create()
                .table(W::Table)
                .col(id(W::Id))
                .col(ColumnDef::new(W::TaskId).big_integer().not_null())
                .col(ColumnDef::new(W::UserId).big_integer().not_null())
                .col(ColumnDef::new(W::WorkedOn).string_len(10).not_null())
                .col(ColumnDef::new(W::Minutes).big_integer().not_null())
                .col(text(W::Note))
                .col(ColumnDef::new(W::CreatedById).big_integer())
                .col(ColumnDef::new(W::CreatedAt).big_integer().not_null())
                .check(Expr::col(W::Minutes).gt(0))
                .foreign_key(
                    fk(W::Table, W::TaskId, T::Table, T::Id).on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk(W::Table, W::UserId, Users::Table, Users::Id))
                .foreign_key(&mut fk(W::Table, W::CreatedById, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            W::Table,
            "idx_task_worklogs_task",
            &[W::TaskId, W::WorkedOn],
        ))
        .await?;
        m.create_index(index(
            W::Table,
            "idx_task_worklogs_user",
            &[W::UserId, W::WorkedOn],
        ))
        .await?;

        use CalendarFeeds as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(
                    ColumnDef::new(F::UserId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(F::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(F::CreatedAt).big_integer().not_null())
                .foreign_key(
                    fk(F::Table, F::UserId, Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CalendarFeeds::Table.into_iden(),
            TaskWorklogs::Table.into_iden(),
            TaskDependencies::Table.into_iden(),
            TaskTags::Table.into_iden(),
            Tasks::Table.into_iden(),
            ProjectCosts::Table.into_iden(),
            ProjectActivities::Table.into_iden(),
            ProjectMembers::Table.into_iden(),
            Projects::Table.into_iden(),
            ActivityTags::Table.into_iden(),
            ActivityPriorityHistory::Table.into_iden(),
            ActivityStatusHistory::Table.into_iden(),
            Activities::Table.into_iden(),
            ActivitySeries::Table.into_iden(),
            Tags::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
