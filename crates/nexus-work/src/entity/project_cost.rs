use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A cost booked against a project's budget, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_costs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub amount_minor: i64,
    pub description: String,
    pub booked_on: String,
    pub booked_by_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
