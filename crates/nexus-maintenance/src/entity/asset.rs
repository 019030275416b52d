use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// Dates are `YYYY-MM-DD` text; money is in minor units. Deserializes from a row packed
/// as JSON by SQLite (timestamps as stored).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub asset_type_id: Option<i64>,
    pub status: String,
    pub health_score: Option<i32>,
    pub location_id: Option<i64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub tag: Option<String>,
    pub installation_date: Option<String>,
    pub purchase_cost_cents: Option<i64>,
    pub expected_lifetime: Option<i32>,
    pub warranty_expiry_date: Option<String>,
    pub criticality: Option<String>,
    pub purchase_date: Option<String>,
    pub last_maintenance_date: Option<String>,
    pub next_maintenance_date: Option<String>,
    pub parent_asset_id: Option<i64>,
    pub qr_code: String,
    pub image_url: Option<String>,
    #[serde(deserialize_with = "nexus_core::time::from_micros")]
    pub created_at: Timestamp,
    #[serde(deserialize_with = "nexus_core::time::from_micros")]
    pub updated_at: Timestamp,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
