use nexus_core::Timestamp;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub department_id: Option<i64>,
    pub position: Option<String>,
    pub avatar_url: Option<String>,
    /// JSON object of user preferences.
    pub preferences: String,
    pub role_id: i64,
    pub is_active: bool,
    pub email_verified: bool,
    pub failed_logins: i32,
    pub locked_until: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
