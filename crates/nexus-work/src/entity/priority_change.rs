use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One priority an activity took: who, when and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_priority_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub priority: String,
    pub changed_by_id: Option<i64>,
    pub changed_at: Timestamp,
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
