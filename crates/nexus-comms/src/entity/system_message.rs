use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A banner for everyone (`is_broadcast`) or for its targets, until it expires.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "system_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub content: String,
    pub message_type: String,
    pub is_broadcast: bool,
    pub expires_at: Option<Timestamp>,
    /// None when the system itself posted it.
    pub created_by_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
