use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A metric of an asset (a series), with its current value (`AssetMetrics`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_metrics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    pub metric_name: String,
    pub unit: String,
    pub kind: String,
    pub min_threshold: Option<f64>,
    pub max_threshold: Option<f64>,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    pub direction: String,
    pub hysteresis: f64,
    pub metric_value: Option<f64>,
    pub value_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
