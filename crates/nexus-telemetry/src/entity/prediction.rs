use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A stored forecast (`PredictiveMaintenanceResults`); the JSON columns are text.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "predictive_maintenance_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    pub series_id: i64,
    pub prediction_type: String,
    pub prediction_result: String,
    pub confidence_lower: Option<f64>,
    pub confidence_upper: Option<f64>,
    pub input_features: String,
    pub model_version: String,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
