use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// An alert of a series; the alert engine writes it with raw SQL, lists read it here.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub series_id: i64,
    pub asset_id: i64,
    pub metric_name: String,
    pub level: String,
    pub status: String,
    pub value: f64,
    pub peak_value: f64,
    pub opened_at: Timestamp,
    /// Microseconds; set while the series is critical.
    pub critical_since: Option<i64>,
    pub escalated_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<i64>,
    pub resolved_at: Option<Timestamp>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
