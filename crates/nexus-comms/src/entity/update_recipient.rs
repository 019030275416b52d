use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A user an update was published to, with their department then, and when they read
/// and acknowledged it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "update_recipients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub update_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub department_id: Option<i64>,
    pub published_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::update::Entity",
        from = "Column::UpdateId",
        to = "super::update::Column::Id"
    )]
    Update,
}

impl ActiveModelBehavior for ActiveModel {}
