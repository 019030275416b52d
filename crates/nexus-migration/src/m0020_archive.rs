//! Archiving (issue 16, "Data Archiving Strategy" of `001_fc7d4f68e8fe081f.txt`): closed
//! work orders older than a year move, with their checklist, labor and comments, into
//! `*_archive` tables of the same shape (ids kept); metric readings older than the raw
//! retention move into Parquet files in the file store, listed in `metric_archive_files`.
//!
//! Rows that stay where they are keep naming an archived work order by its id: the stock
//! ledger, downtime intervals and work requests lose their foreign key to `work_orders`
//! (the id is in `work_orders` or `work_orders_archive`). References the archiver will
//! not break (a live order's parent, a live step's follow-up, a schedule's last order)
//! keep theirs, and get the indexes their checks need when a work order is deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult};

use crate::shapes::{fk, index};

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
enum WorkOrdersArchive {
    Table,
    Id,
    Number,
    Title,
    Description,
    AssetId,
    LocationId,
    Type,
    Priority,
    Status,
    AssignedToId,
    CreatedBy,
    UpdatedBy,
    DueDate,
    EstimatedMinutes,
    ActualMinutes,
    StartedAt,
    CompletedAt,
    ParentWorkOrderId,
    PmScheduleId,
    DedupeKey,
    CreatedAt,
    UpdatedAt,
    Version,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderChecklistItemsArchive {
    Table,
    Id,
    WorkOrderId,
    Sequence,
    Kind,
    Task,
    Required,
    MinValue,
    MaxValue,
    Unit,
    CreateFollowUp,
    IsCompleted,
    Checked,
    NumberValue,
    TextValue,
    Passed,
    Notes,
    CompletedBy,
    CompletedAt,
    FollowUpWorkOrderId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderLaborArchive {
    Table,
    Id,
    WorkOrderId,
    UserId,
    StartedAt,
    EndedAt,
    Minutes,
    HourlyRateCents,
    Note,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkOrderCommentsArchive {
    Table,
    Id,
    WorkOrderId,
    UserId,
    Content,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MetricArchiveFiles {
    Table,
    Id,
    SeriesId,
    FirstTs,
    LastTs,
    Samples,
    Path,
    Bytes,
    CreatedAt,
}

/// A BIGINT primary key that is not generated: an archived row keeps its id.
fn kept_id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .primary_key()
        .to_owned()
}

fn big<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().to_owned()
}

/// Tables that keep their rows and drop their foreign key to `work_orders`.
const UNLINKED: [&str; 3] = ["stock_movements", "asset_downtime", "work_requests"];

/// Their foreign key to `work_orders`, as SQLite keeps it.
const WORK_ORDER_FK: &str = r#"FOREIGN KEY ("work_order_id") REFERENCES "work_orders" ("id")"#;

#[derive(FromQueryResult)]
struct Sql {
    sql: String,
}

/// The parts of a table definition (`CREATE TABLE name (part, part, ...)`) between its
/// outer parentheses, split at the commas that separate them.
fn definition_parts(create: &str) -> Option<Vec<String>> {
    let open = create.find('(')?;
    let close = create.rfind(')')?;
    let (mut parts, mut depth, mut current) = (Vec::new(), 0i32, String::new());
    for ch in create.get(open + 1..close)?.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current.trim().to_string());
    Some(parts)
}

/// Whether a part of a table definition is the foreign key of `work_order_id`.
fn is_work_order_fk(part: &str) -> bool {
    let plain = part.replace(['"', '`', ' '], "").to_ascii_lowercase();
    plain.starts_with("foreignkey(work_order_id)references")
}

/// SQLite cannot add or drop a constraint: `table` is rebuilt with its foreign key to
/// `work_orders` dropped (`linked` false) or put back, its rows copied and its indexes
/// made again. Nothing refers to these tables, so dropping the old one checks nothing.
async fn relink_sqlite(c: &impl ConnectionTrait, table: &str, linked: bool) -> Result<(), DbErr> {
    let find = |kind: &str| {
        sea_orm_migration::sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL",
            [kind.into(), table.into()],
        )
    };
    let create = Sql::find_by_statement(find("table"))
        .one(c)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no table {table}")))?
        .sql;
    let unexpected = || DbErr::Custom(format!("{table} is not as expected: {create}"));
    let mut parts = definition_parts(&create).ok_or_else(unexpected)?;
    let had = parts.iter().filter(|p| is_work_order_fk(p)).count();
    match (linked, had) {
        (false, 1) => parts.retain(|p| !is_work_order_fk(p)),
        (true, 0) => parts.push(WORK_ORDER_FK.into()),
        _ => return Err(unexpected()),
    }
    let indexes = Sql::find_by_statement(find("index")).all(c).await?;
    let new = format!("\"{table}_rebuilt\"");
    c.execute_unprepared(&format!("CREATE TABLE {new} ({})", parts.join(", ")))
        .await?;
    c.execute_unprepared(&format!("INSERT INTO {new} SELECT * FROM \"{table}\""))
        .await?;
    c.execute_unprepared(&format!("DROP TABLE \"{table}\""))
        .await?;
    c.execute_unprepared(&format!("ALTER TABLE {new} RENAME TO \"{table}\""))
        .await?;
    for i in indexes {
        c.execute_unprepared(&i.sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The SQLite rebuilds and the new tables land together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use WorkOrdersArchive as W;
        let mut t = Table::create();
        t.table(W::Table)
            .col(kept_id(W::Id))
            .col(ColumnDef::new(W::Number).string_len(20).not_null())
            .col(ColumnDef::new(W::Title).string_len(200).not_null())
            .col(ColumnDef::new(W::Description).text())
            .col(big(W::AssetId))
            .col(big(W::LocationId))
            .col(ColumnDef::new(W::Type).string_len(20).not_null())
            .col(ColumnDef::new(W::Priority).string_len(10).not_null())
            .col(ColumnDef::new(W::Status).string_len(20).not_null())
            .col(big(W::AssignedToId))
            .col(big(W::CreatedBy))
            .col(big(W::UpdatedBy))
            .col(ColumnDef::new(W::DueDate).string_len(10))
            .col(ColumnDef::new(W::EstimatedMinutes).integer())
            .col(ColumnDef::new(W::ActualMinutes).integer())
            .col(big(W::StartedAt))
            .col(big(W::CompletedAt))
            .col(big(W::ParentWorkOrderId))
            .col(big(W::PmScheduleId))
            .col(ColumnDef::new(W::DedupeKey).string_len(200))
            .col(ColumnDef::new(W::CreatedAt).big_integer().not_null())
            .col(ColumnDef::new(W::UpdatedAt).big_integer().not_null())
            .col(ColumnDef::new(W::Version).integer().not_null())
            .col(ColumnDef::new(W::ArchivedAt).big_integer().not_null())
            .check(Expr::col(W::Status).is_in(["completed", "cancelled"]))
            .foreign_key(&mut fk(W::Table, W::AssetId, Assets::Table, Assets::Id))
            .foreign_key(&mut fk(
                W::Table,
                W::LocationId,
                Locations::Table,
                Locations::Id,
            ))
            .foreign_key(&mut fk(W::Table, W::AssignedToId, Users::Table, Users::Id))
            .foreign_key(&mut fk(W::Table, W::CreatedBy, Users::Table, Users::Id))
            .foreign_key(&mut fk(W::Table, W::UpdatedBy, Users::Table, Users::Id));
        m.create_table(t.to_owned()).await?;
        // The archived list's filters (status, assignee, priority, due range, asset,
        // location, type) and sorts, and the KPIs' and the retention's completion times.
        for (name, cols) in [
            ("uq_work_orders_archive_number", &[W::Number][..]),
            (
                "idx_work_orders_archive_status_due",
                &[W::Status, W::DueDate, W::Priority, W::AssignedToId],
            ),
            (
                "idx_work_orders_archive_assigned",
                &[W::AssignedToId, W::Status, W::DueDate],
            ),
            (
                "idx_work_orders_archive_priority",
                &[W::Priority, W::Status, W::DueDate],
            ),
            ("idx_work_orders_archive_due", &[W::DueDate]),
            (
                "idx_work_orders_archive_asset",
                &[W::AssetId, W::CompletedAt],
            ),
            (
                "idx_work_orders_archive_location",
                &[W::LocationId, W::Status],
            ),
            ("idx_work_orders_archive_type", &[W::Type]),
            ("idx_work_orders_archive_completed", &[W::CompletedAt]),
            ("idx_work_orders_archive_updated", &[W::UpdatedAt]),
        ] {
            let mut i = index(W::Table, name, cols);
            if name.starts_with("uq_") {
                i.unique();
            }
            m.create_index(i).await?;
        }

        use WorkOrderChecklistItemsArchive as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(kept_id(C::Id))
                .col(ColumnDef::new(C::WorkOrderId).big_integer().not_null())
                .col(ColumnDef::new(C::Sequence).integer().not_null())
                .col(ColumnDef::new(C::Kind).string_len(20).not_null())
                .col(ColumnDef::new(C::Task).string_len(255).not_null())
                .col(ColumnDef::new(C::Required).boolean().not_null())
                .col(ColumnDef::new(C::MinValue).double())
                .col(ColumnDef::new(C::MaxValue).double())
                .col(ColumnDef::new(C::Unit).string_len(20))
                .col(ColumnDef::new(C::CreateFollowUp).boolean().not_null())
                .col(ColumnDef::new(C::IsCompleted).boolean().not_null())
                .col(ColumnDef::new(C::Checked).boolean())
                .col(ColumnDef::new(C::NumberValue).double())
                .col(ColumnDef::new(C::TextValue).text())
                .col(ColumnDef::new(C::Passed).boolean())
                .col(ColumnDef::new(C::Notes).text())
                .col(big(C::CompletedBy))
                .col(big(C::CompletedAt))
                .col(big(C::FollowUpWorkOrderId))
                .col(ColumnDef::new(C::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(C::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(C::Version).integer().not_null())
                .foreign_key(&mut fk(C::Table, C::WorkOrderId, W::Table, W::Id))
                .foreign_key(&mut fk(C::Table, C::CompletedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            C::Table,
            "idx_checklist_items_archive_work_order",
            &[C::WorkOrderId, C::Sequence],
        ))
        .await?;

        use WorkOrderLaborArchive as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(kept_id(L::Id))
                .col(ColumnDef::new(L::WorkOrderId).big_integer().not_null())
                .col(ColumnDef::new(L::UserId).big_integer().not_null())
                .col(ColumnDef::new(L::StartedAt).big_integer().not_null())
                .col(big(L::EndedAt))
                .col(ColumnDef::new(L::Minutes).integer())
                .col(big(L::HourlyRateCents))
                .col(ColumnDef::new(L::Note).text())
                .col(ColumnDef::new(L::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(L::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(L::Version).integer().not_null())
                .foreign_key(&mut fk(L::Table, L::WorkOrderId, W::Table, W::Id))
                .foreign_key(&mut fk(L::Table, L::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            L::Table,
            "idx_work_order_labor_archive_work_order",
            &[L::WorkOrderId, L::StartedAt],
        ))
        .await?;
        // The KPIs' labor cost reads labor by when it was worked.
        m.create_index(index(
            L::Table,
            "idx_work_order_labor_archive_started",
            &[L::StartedAt],
        ))
        .await?;

        use WorkOrderCommentsArchive as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(kept_id(K::Id))
                .col(ColumnDef::new(K::WorkOrderId).big_integer().not_null())
                .col(big(K::UserId))
                .col(ColumnDef::new(K::Content).text().not_null())
                .col(ColumnDef::new(K::CreatedAt).big_integer().not_null())
                .foreign_key(&mut fk(K::Table, K::WorkOrderId, W::Table, W::Id))
                .foreign_key(&mut fk(K::Table, K::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            K::Table,
            "idx_work_order_comments_archive_work_order",
            &[K::WorkOrderId, K::CreatedAt],
        ))
        .await?;

        use MetricArchiveFiles as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(
                    ColumnDef::new(F::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(F::SeriesId).big_integer().not_null())
                .col(ColumnDef::new(F::FirstTs).big_integer().not_null())
                .col(ColumnDef::new(F::LastTs).big_integer().not_null())
                .col(ColumnDef::new(F::Samples).big_integer().not_null())
                .col(ColumnDef::new(F::Path).string_len(400).not_null())
                .col(ColumnDef::new(F::Bytes).big_integer().not_null())
                .col(ColumnDef::new(F::CreatedAt).big_integer().not_null())
                .check(Expr::col(F::FirstTs).lte(Expr::col(F::LastTs)))
                .check(Expr::col(F::Samples).gt(0))
                .to_owned(),
        )
        .await?;
        for (name, cols, unique) in [
            ("uq_metric_archive_files_path", &[F::Path][..], true),
            (
                "idx_metric_archive_files_series",
                &[F::SeriesId, F::FirstTs],
                false,
            ),
            ("idx_metric_archive_files_last", &[F::LastTs], false),
        ] {
            let mut i = index(F::Table, name, cols);
            if unique {
                i.unique();
            }
            m.create_index(i).await?;
        }

        // Deleting a work order checks that no live step names it as its follow-up and no
        // schedule as its last order: without these indexes, each check reads the table.
        let c = m.get_connection();
        c.execute_unprepared(
            "CREATE INDEX idx_checklist_items_follow_up ON work_order_checklist_items \
             (follow_up_work_order_id)",
        )
        .await?;
        c.execute_unprepared(
            "CREATE INDEX idx_pm_schedules_last_work_order ON pm_schedules (last_work_order_id)",
        )
        .await?;

        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for table in UNLINKED {
                    relink_sqlite(c, table, false).await?;
                }
            }
            _ => {
                c.execute_unprepared(
                    "DO $$ DECLARE r record; BEGIN \
                     FOR r IN SELECT conname, conrelid::regclass AS t FROM pg_constraint \
                       WHERE contype = 'f' AND confrelid = 'work_orders'::regclass \
                       AND conrelid IN ('stock_movements'::regclass, 'asset_downtime'::regclass, \
                                        'work_requests'::regclass) \
                     LOOP EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname); \
                     END LOOP; END $$",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Puts archived work orders back where they came from (their references then hold
    /// again: ids of orders past the retention are cleared), restores the foreign keys and
    /// drops the archive tables. Metric readings already in Parquet files stay there.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        for sql in [
            "INSERT INTO work_orders SELECT id, number, title, description, asset_id, \
             location_id, type, priority, status, assigned_to_id, created_by, updated_by, \
             due_date, estimated_minutes, actual_minutes, started_at, completed_at, \
             parent_work_order_id, pm_schedule_id, dedupe_key, created_at, updated_at, version \
             FROM work_orders_archive",
            "INSERT INTO work_order_checklist_items SELECT id, work_order_id, sequence, kind, \
             task, required, min_value, max_value, unit, create_follow_up, is_completed, \
             checked, number_value, text_value, passed, notes, completed_by, completed_at, \
             follow_up_work_order_id, created_at, updated_at, version \
             FROM work_order_checklist_items_archive",
            "INSERT INTO work_order_labor SELECT id, work_order_id, user_id, started_at, \
             ended_at, minutes, hourly_rate_cents, note, created_at, updated_at, version \
             FROM work_order_labor_archive",
            "INSERT INTO work_order_comments SELECT id, work_order_id, user_id, content, \
             created_at FROM work_order_comments_archive",
        ] {
            c.execute_unprepared(sql).await?;
        }
        for table in UNLINKED {
            c.execute_unprepared(&format!(
                "UPDATE {table} SET work_order_id = NULL WHERE work_order_id IS NOT NULL \
                 AND work_order_id NOT IN (SELECT id FROM work_orders)"
            ))
            .await?;
        }
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for table in UNLINKED {
                    relink_sqlite(c, table, true).await?;
                }
            }
            _ => {
                for table in UNLINKED {
                    c.execute_unprepared(&format!(
                        "ALTER TABLE {table} ADD FOREIGN KEY (work_order_id) \
                         REFERENCES work_orders (id)"
                    ))
                    .await?;
                }
            }
        }
        c.execute_unprepared("DROP INDEX idx_pm_schedules_last_work_order")
            .await?;
        c.execute_unprepared("DROP INDEX idx_checklist_items_follow_up")
            .await?;
        for table in [
            MetricArchiveFiles::Table.into_iden(),
            WorkOrderCommentsArchive::Table.into_iden(),
            WorkOrderLaborArchive::Table.into_iden(),
            WorkOrderChecklistItemsArchive::Table.into_iden(),
            WorkOrdersArchive::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
