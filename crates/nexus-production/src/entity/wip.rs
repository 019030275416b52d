use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// Work in progress of one order at one work center: units in minus units out.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wip")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub production_order: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub workcenter_id: i64,
    pub qty_in: i64,
    pub qty_out: i64,
    pub updated_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
