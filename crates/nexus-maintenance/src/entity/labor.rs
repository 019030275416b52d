use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// Time a person spent on a work order; `ended_at` is NULL while the timer runs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_order_labor")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub work_order_id: i64,
    pub user_id: i64,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub minutes: Option<i32>,
    pub hourly_rate_cents: Option<i64>,
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
