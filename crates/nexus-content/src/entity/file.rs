use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A file record; its bytes are the blob named by `file_hash` in the store, shared by
/// every record with the same content.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filename: String,
    pub mime_type: String,
    pub file_size: i64,
    pub file_hash: String,
    pub is_public: bool,
    pub download_count: i64,
    pub description: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
