use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A project: dates, manager, team, budget; completion comes from its tasks.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub start_date: String,
    pub end_date: String,
    pub manager_id: i64,
    pub budget_minor: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
