use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// An interval in which an asset was down; `ended_at` is NULL while it still is.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_downtime")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub reason: Option<String>,
    pub work_order_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
