use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A preventive schedule; dates are `YYYY-MM-DD` text, `checklist` is JSON text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pm_schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    pub title: String,
    pub description: Option<String>,
    #[sea_orm(column_name = "type")]
    pub work_order_type: String,
    pub priority: String,
    pub assigned_to_id: Option<i64>,
    pub interval_value: i32,
    pub interval_unit: String,
    pub basis: String,
    /// The anchor every `scheduled` occurrence is counted from, so months do not drift.
    pub start_date: String,
    pub next_due: String,
    pub lead_days: i32,
    pub estimated_minutes: Option<i32>,
    pub checklist: String,
    pub active: bool,
    pub last_work_order_id: Option<i64>,
    pub last_generated_at: Option<Timestamp>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
