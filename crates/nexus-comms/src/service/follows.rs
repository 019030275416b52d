//! Who follows what: the creator and assignee of a work order follow it and its asset,
//! the assignee of an activity or task follows it, a project's manager and team follow
//! it. "An asset you are responsible for" is an asset you follow.

use nexus_core::{ApiResult, Timestamp};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::entity::follow;

/// Makes each of `users` follow `entity_type` `entity_id` for `reason`; a follow that
/// exists keeps its first reason.
pub async fn follow(
    conn: &impl ConnectionTrait,
    users: &[i64],
    entity_type: &str,
    entity_id: i64,
    reason: &str,
) -> ApiResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    follow::Entity::insert_many(users.iter().map(|&user_id| follow::ActiveModel {
        user_id: Set(user_id),
        entity_type: Set(entity_type.into()),
        entity_id: Set(entity_id),
        reason: Set(reason.into()),
        created_at: Set(now),
    }))
    .on_conflict(
        OnConflict::columns([
            follow::Column::UserId,
            follow::Column::EntityType,
            follow::Column::EntityId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .try_insert()
    .exec(conn)
    .await?;
    Ok(())
}

/// Ends the follows of `entity_type` `entity_id` held for `reason` by anyone not in
/// `keep` (a reassignment away, a member leaving).
pub async fn unfollow_others(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
    reason: &str,
    keep: &[i64],
) -> ApiResult<()> {
    follow::Entity::delete_many()
        .filter(follow::Column::EntityType.eq(entity_type))
        .filter(follow::Column::EntityId.eq(entity_id))
        .filter(follow::Column::Reason.eq(reason))
        .filter(follow::Column::UserId.is_not_in(keep.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every follow of a record that is gone.
pub async fn forget(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
) -> ApiResult<()> {
    follow::Entity::delete_many()
        .filter(follow::Column::EntityType.eq(entity_type))
        .filter(follow::Column::EntityId.eq(entity_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Who follows `entity_type` `entity_id`.
pub async fn followers(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
) -> ApiResult<Vec<i64>> {
    Ok(follow::Entity::find()
        .select_only()
        .column(follow::Column::UserId)
        .filter(follow::Column::EntityType.eq(entity_type))
        .filter(follow::Column::EntityId.eq(entity_id))
        .into_tuple()
        .all(conn)
        .await?)
}
