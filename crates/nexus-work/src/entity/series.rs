use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A recurring activity: the template its occurrences are created from.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub description: String,
    #[sea_orm(column_name = "type")]
    pub activity_type: String,
    pub priority: String,
    pub assigned_to_id: i64,
    pub created_by_id: i64,
    pub first_start: Timestamp,
    pub duration_seconds: i64,
    pub interval_value: i32,
    pub interval_unit: String,
    pub until_date: Option<String>,
    /// JSON array of tag ids given to each occurrence.
    pub tag_ids: String,
    /// Start of the latest occurrence created.
    pub generated_until: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
