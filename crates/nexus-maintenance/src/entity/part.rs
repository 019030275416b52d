use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A part; `quantity_in_stock` is the sum of its `part_stock` rows, kept by the ledger.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "parts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub unit_cost_cents: i64,
    pub supplier: Option<String>,
    pub image_url: Option<String>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub quantity_in_stock: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
