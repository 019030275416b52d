use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A planned piece of plant work with a time, an owner and a status.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub description: String,
    #[sea_orm(column_name = "type")]
    pub activity_type: String,
    pub status: String,
    pub priority: String,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    pub assigned_to_id: i64,
    pub created_by_id: i64,
    pub series_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
