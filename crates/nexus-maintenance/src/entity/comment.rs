use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_order_comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub work_order_id: i64,
    pub user_id: Option<i64>,
    pub content: String,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
