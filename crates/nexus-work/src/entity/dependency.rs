use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A task following another (finish-to-start and the rest), `lag_days` after.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_dependencies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub predecessor_id: i64,
    pub successor_id: i64,
    pub kind: String,
    pub lag_days: i32,
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
