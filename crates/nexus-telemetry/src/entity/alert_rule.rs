use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A rule turning a critical spell of a series into a work order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub series_id: i64,
    pub critical_minutes: i64,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub work_order_type: String,
    pub created_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
