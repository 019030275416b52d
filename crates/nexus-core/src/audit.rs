//! The audit trail: every create, update and delete writes a row in the same transaction
//! as the change, with actor, previous and new state, IP and user agent.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::time::Timestamp;

pub mod entity {
    use sea_orm::entity::prelude::*;

    use crate::time::Timestamp;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_logs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub actor_id: Option<i64>,
        pub action: String,
        pub entity_type: String,
        pub entity_id: Option<i64>,
        pub previous_state: Option<String>,
        pub new_state: Option<String>,
        pub ip_address: Option<String>,
        pub user_agent: Option<String>,
        pub created_at: Timestamp,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who did it and from where: taken from the request.
#[derive(Debug, Clone, Default)]
pub struct AuditCtx {
    pub actor_id: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One audit record as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub previous_state: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub new_state: Option<serde_json::Value>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
}

impl From<entity::Model> for AuditEntry {
    fn from(m: entity::Model) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Self {
            id: m.id,
            actor_id: m.actor_id,
            action: m.action,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            previous_state: parse(m.previous_state),
            new_state: parse(m.new_state),
            ip_address: m.ip_address,
            user_agent: m.user_agent,
            created_at: m.created_at,
        }
    }
}

/// Writes one audit row; call it inside the transaction that makes the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    ctx: &AuditCtx,
    action: &str,
    entity_type: &str,
    entity_id: Option<i64>,
    previous: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
) -> ApiResult<()> {
    entity::ActiveModel {
        actor_id: Set(ctx.actor_id),
        action: Set(action.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id),
        previous_state: Set(previous.map(|v| v.to_string())),
        new_state: Set(new.map(|v| v.to_string())),
        ip_address: Set(ctx.ip.clone()),
        user_agent: Set(ctx.user_agent.clone()),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Filters for reading the audit trail, newest first, paged by id.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Only entries with an id below this one (the previous page's `next_after`).
    pub after: Option<i64>,
    pub limit: u64,
}

pub async fn list<C: ConnectionTrait>(conn: &C, f: &AuditFilter) -> ApiResult<Vec<AuditEntry>> {
    use entity::Column;
    let mut cond = Condition::all();
    if let Some(v) = &f.entity_type {
        cond = cond.add(Column::EntityType.eq(v.clone()));
    }
    if let Some(v) = f.entity_id {
        cond = cond.add(Column::EntityId.eq(v));
    }
    if let Some(v) = f.actor_id {
        cond = cond.add(Column::ActorId.eq(v));
    }
    if let Some(v) = &f.action {
        cond = cond.add(Column::Action.eq(v.clone()));
    }
    if let Some(v) = f.from {
        cond = cond.add(Column::CreatedAt.gte(v));
    }
    if let Some(v) = f.to {
        cond = cond.add(Column::CreatedAt.lt(v));
    }
    if let Some(v) = f.after {
        cond = cond.add(Column::Id.lt(v));
    }
    let rows = entity::Entity::find()
        .filter(cond)
        .order_by_desc(Column::Id)
        .limit(f.limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
