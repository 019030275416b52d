use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One status an activity took: who (none for the system), when and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_status_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub status: String,
    pub changed_by_id: Option<i64>,
    pub changed_at: Timestamp,
    pub notes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
