use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One production order moving IN to or OUT of a work center (the source document's
/// `production_orders` table). Never edited or deleted; a reversal row undoes it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "production_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub production_order: String,
    pub workcenter_id: i64,
    pub quantity: i32,
    /// `IN` or `OUT`.
    pub order_type: String,
    pub scrap_quantity: i32,
    pub shift: Option<String>,
    pub note: Option<String>,
    pub user_id: i64,
    /// The movement this one reverses.
    pub reverses_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
