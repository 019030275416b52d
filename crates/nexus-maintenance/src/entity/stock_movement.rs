use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One line of the stock ledger: append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub part_id: i64,
    pub location_id: i64,
    pub kind: String,
    /// Signed: what the movement added to (or took from) the location's stock.
    pub quantity: i64,
    pub balance_after: i64,
    pub unit_cost_cents: i64,
    pub work_order_id: Option<i64>,
    pub transfer_id: Option<i64>,
    pub reason: Option<String>,
    pub actor_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
