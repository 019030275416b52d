use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A reader's like of an update; one per reader.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "update_likes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub update_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
