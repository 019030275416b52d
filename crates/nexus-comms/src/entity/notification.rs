use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// One notification of one user; `kind` is the preference it falls under.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    #[sea_orm(column_name = "type")]
    pub r#type: String,
    pub title: String,
    pub message: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub link: Option<String>,
    pub is_read: bool,
    pub read_at: Option<Timestamp>,
    pub is_dismissed: bool,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
