use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One step of a work order's checklist; the answer columns are filled by kind.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "work_order_checklist_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub work_order_id: i64,
    pub sequence: i32,
    pub kind: String,
    pub task: String,
    pub required: bool,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub unit: Option<String>,
    pub create_follow_up: bool,
    pub is_completed: bool,
    pub checked: Option<bool>,
    pub number_value: Option<f64>,
    pub text_value: Option<String>,
    pub passed: Option<bool>,
    pub notes: Option<String>,
    pub completed_by: Option<i64>,
    pub completed_at: Option<Timestamp>,
    pub follow_up_work_order_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
