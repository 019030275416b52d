use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A user's email digest: when the last one went out (0 for never), the newest notification
/// it covered, and until when a node holds the claim to send the next.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_digests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub last_sent_at: Timestamp,
    pub last_notification_id: i64,
    pub claimed_until: Option<Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
