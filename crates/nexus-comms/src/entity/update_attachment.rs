use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A stored file attached to an update, with its name, size and type as attached.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "update_attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub update_id: i64,
    pub file_id: i64,
    pub filename: String,
    pub file_size: i64,
    pub mime_type: String,
    pub uploaded_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
