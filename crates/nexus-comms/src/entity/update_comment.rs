use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A reader's comment on an update.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "update_comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub update_id: i64,
    pub author_id: i64,
    pub content: String,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
