use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// Time a person worked on a task on one day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_worklogs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub user_id: i64,
    pub worked_on: String,
    pub minutes: i64,
    pub note: String,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
