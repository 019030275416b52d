use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// An announcement: its text, type and priority, its audience (everyone, or the targets)
/// and where it is between draft and published.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "updates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    /// Plain text with a safe subset of Markdown.
    pub content: String,
    #[sea_orm(column_name = "type")]
    pub update_type: String,
    pub priority: String,
    pub created_by_id: i64,
    pub target_all: bool,
    pub ack_required: bool,
    pub status: String,
    pub publish_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
