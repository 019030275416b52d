//! Telemetry (issue 5): metric definitions with the current value of each series
//! (`AssetMetrics` of `001_fc7d4f68e8fe081f.txt`), raw samples, per-minute and per-hour
//! rollups, alerts and predictive-maintenance results.
//!
//! Samples are kept small: `(series_id, ts, value)` keyed by series then time, `ts` in
//! milliseconds (six bytes in a SQLite record, where microseconds need eight), and on
//! SQLite `WITHOUT ROWID` so the key is the table (no second b-tree).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each statement with `{id}` (an auto-increment key), `{int}`, `{real}` and `{wr}`
/// (`WITHOUT ROWID` on SQLite) filled in per engine.
const TABLES: &[&str] = &[
    "CREATE TABLE asset_metrics (
        id {id},
        asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        metric_name TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'gauge' CHECK (kind IN ('gauge', 'counter')),
        min_threshold {real},
        max_threshold {real},
        warning_threshold {real},
        critical_threshold {real},
        direction TEXT NOT NULL DEFAULT 'above' CHECK (direction IN ('above', 'below')),
        hysteresis {real} NOT NULL DEFAULT 0 CHECK (hysteresis >= 0),
        metric_value {real},
        value_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        UNIQUE (asset_id, metric_name)
    )",
    "CREATE TABLE metric_samples (
        series_id {int} NOT NULL,
        ts {int} NOT NULL,
        value {real} NOT NULL,
        PRIMARY KEY (series_id, ts){cover_value}
    ){wr}",
    "CREATE TABLE metric_rollups_minute (
        series_id {int} NOT NULL,
        bucket {int} NOT NULL,
        min_value {real} NOT NULL,
        max_value {real} NOT NULL,
        sum_value {real} NOT NULL,
        samples {int} NOT NULL,
        PRIMARY KEY (series_id, bucket){cover_rollup}
    ){wr}",
    "CREATE TABLE metric_rollups_hour (
        series_id {int} NOT NULL,
        bucket {int} NOT NULL,
        min_value {real} NOT NULL,
        max_value {real} NOT NULL,
        sum_value {real} NOT NULL,
        samples {int} NOT NULL,
        PRIMARY KEY (series_id, bucket){cover_rollup}
    ){wr}",
    "CREATE TABLE metric_alerts (
        id {id},
        series_id BIGINT NOT NULL REFERENCES asset_metrics(id) ON DELETE CASCADE,
        asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        metric_name TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('warning', 'critical')),
        status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        value {real} NOT NULL,
        peak_value {real} NOT NULL,
        opened_at BIGINT NOT NULL,
        critical_since BIGINT,
        escalated_at BIGINT,
        acknowledged_at BIGINT,
        acknowledged_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
        resolved_at BIGINT,
        version INTEGER NOT NULL DEFAULT 1
    )",
    // One unresolved alert per series, enforced by the database too.
    "CREATE UNIQUE INDEX metric_alerts_one_open ON metric_alerts (series_id) WHERE status <> 'resolved'",
    "CREATE INDEX metric_alerts_opened ON metric_alerts (opened_at, id)",
    "CREATE TABLE alert_rules (
        id {id},
        series_id BIGINT NOT NULL REFERENCES asset_metrics(id) ON DELETE CASCADE,
        critical_minutes BIGINT NOT NULL CHECK (critical_minutes >= 0),
        title TEXT NOT NULL,
        description TEXT,
        priority TEXT NOT NULL,
        work_order_type TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
    "CREATE INDEX alert_rules_series ON alert_rules (series_id)",
    "CREATE TABLE meter_schedules (
        id {id},
        series_id BIGINT NOT NULL REFERENCES asset_metrics(id) ON DELETE CASCADE,
        every_units {real} NOT NULL CHECK (every_units > 0),
        next_at {real} NOT NULL,
        title TEXT NOT NULL,
        description TEXT,
        priority TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
    "CREATE INDEX meter_schedules_series ON meter_schedules (series_id, next_at)",
    "CREATE TABLE predictive_maintenance_results (
        id {id},
        asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        series_id BIGINT NOT NULL REFERENCES asset_metrics(id) ON DELETE CASCADE,
        prediction_type TEXT NOT NULL,
        prediction_result TEXT NOT NULL,
        confidence_lower {real},
        confidence_upper {real},
        input_features TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
    "CREATE INDEX predictive_results_asset ON predictive_maintenance_results (asset_id, created_at)",
];

const DROP: &[&str] = &[
    "predictive_maintenance_results",
    "meter_schedules",
    "alert_rules",
    "metric_alerts",
    "metric_rollups_hour",
    "metric_rollups_minute",
    "metric_samples",
    "asset_metrics",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite keeps samples and rollups in their key's b-tree (WITHOUT ROWID); on
        // PostgreSQL their keys carry the values (INCLUDE), so a history query reads one
        // index range instead of heap pages spread over the table.
        let (id, int, real, wr, cover_value, cover_rollup) = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => (
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                "INTEGER",
                "REAL",
                " WITHOUT ROWID",
                "",
                "",
            ),
            _ => (
                "BIGSERIAL PRIMARY KEY",
                "BIGINT",
                "DOUBLE PRECISION",
                "",
                " INCLUDE (value)",
                " INCLUDE (min_value, max_value, sum_value, samples)",
            ),
        };
        let conn = manager.get_connection();
        for sql in TABLES {
            let sql = sql
                .replace("{id}", id)
                .replace("{int}", int)
                .replace("{real}", real)
                .replace("{wr}", wr)
                .replace("{cover_value}", cover_value)
                .replace("{cover_rollup}", cover_rollup);
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in DROP {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
                .await?;
        }
        Ok(())
    }
}
