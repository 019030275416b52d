use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A file attached to an entity of any domain, named by type and id (no foreign key
/// across domains).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub file_id: i64,
    pub entity_type: String,
    pub entity_id: i64,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
