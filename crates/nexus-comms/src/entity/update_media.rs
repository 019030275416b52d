use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// An image, video or audio file shown in an update, with its caption.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "update_media")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub update_id: i64,
    pub file_id: i64,
    pub media_type: String,
    pub caption: String,
    pub uploaded_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
