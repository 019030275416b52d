use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// `number` is `WO-000123`; `due_date` is `YYYY-MM-DD` text; hours are kept in minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: String,
    pub title: String,
    pub description: Option<String>,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    #[sea_orm(column_name = "type")]
    pub work_order_type: String,
    pub priority: String,
    pub status: String,
    pub assigned_to_id: Option<i64>,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub due_date: Option<String>,
    pub estimated_minutes: Option<i32>,
    pub actual_minutes: Option<i32>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub parent_work_order_id: Option<i64>,
    pub pm_schedule_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
