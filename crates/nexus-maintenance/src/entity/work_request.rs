use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

/// A request for work sent from an asset's QR code, by anyone, until a manager approves
/// it into a work order or rejects it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: Option<i64>,
    pub location_id: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    pub requester_name: String,
    pub requester_contact: Option<String>,
    pub photo_file_id: Option<i64>,
    pub status: String,
    pub work_order_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<Timestamp>,
    pub rejection_reason: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
