use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A work order every `every_units` of a counter series.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meter_schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub series_id: i64,
    pub every_units: f64,
    pub next_at: f64,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub created_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
