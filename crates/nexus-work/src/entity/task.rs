use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A task in a project; actual minutes are the sum of its worklog.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub start_date: String,
    pub due_date: String,
    pub estimated_minutes: i64,
    pub actual_minutes: i64,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
