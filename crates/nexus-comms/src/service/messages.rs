//! System messages: written by administrators (or by the system itself), shown as a
//! banner to everyone or to their targets until they expire or the reader dismisses them.
//! Targeted ones are also a `system_message` notification.

use std::collections::{BTreeSet, HashMap};

use nexus_core::audit::AuditCtx;
use nexus_core::events::{Audience, Event};
use nexus_core::extract::IfMatch;
use nexus_core::paging::{PageParams, page_of};
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, Timestamp};
use nexus_identity::entity::user;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::notifications::{NewNotification, notify_users};
use crate::entity::{dismissal, message_target, system_message};
use crate::model::*;

/// Banners one user sees at once at most.
const MAX_ACTIVE: u64 = 20;

/// The targets of each of `ids`, by name.
async fn targets_of(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<TargetUser>>> {
    let rows: Vec<(i64, i64, String)> = message_target::Entity::find()
        .select_only()
        .column(message_target::Column::MessageId)
        .column(user::Column::Id)
        .column(user::Column::Username)
        .join(
            sea_orm::JoinType::InnerJoin,
            message_target::Entity::belongs_to(user::Entity)
                .from(message_target::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .filter(message_target::Column::MessageId.is_in(ids.iter().copied()))
        .order_by_asc(user::Column::Username)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<TargetUser>> = HashMap::new();
    for (message, id, username) in rows {
        out.entry(message)
            .or_default()
            .push(TargetUser { id, username });
    }
    Ok(out)
}

async fn outs(
    conn: &impl ConnectionTrait,
    rows: Vec<system_message::Model>,
) -> ApiResult<Vec<SystemMessageOut>> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let mut targets = targets_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|m| SystemMessageOut {
            target_users: targets.remove(&m.id).unwrap_or_default(),
            id: m.id,
            title: m.title,
            content: m.content,
            message_type: m.message_type,
            is_broadcast: m.is_broadcast,
            expires_at: m.expires_at,
            created_by_id: m.created_by_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
        .collect())
}

async fn out(conn: &impl ConnectionTrait, m: system_message::Model) -> ApiResult<SystemMessageOut> {
    outs(conn, vec![m])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("system message"))
}

/// Who hears of a message: everyone when broadcast, else its targets.
fn audience(m: &SystemMessageOut) -> Audience {
    if m.is_broadcast {
        Audience::All
    } else {
        Audience::Users(m.target_users.iter().map(|t| t.id).collect())
    }
}

/// 422 `target_users` unless every one of `ids` is a user.
async fn check_targets(conn: &impl ConnectionTrait, ids: &[i64]) -> ApiResult<()> {
    let found: BTreeSet<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains(id))
        .map(i64::to_string)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "target_users",
            format!("no such user: {}", unknown.join(", ")),
        ))
    }
}

/// The ids of the users called `names` (as typed on a page); 422 `target_users` naming
/// those that are no user.
pub async fn users_named(conn: &impl ConnectionTrait, names: &[String]) -> ApiResult<Vec<i64>> {
    let found: HashMap<String, i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Username)
        .column(user::Column::Id)
        .filter(user::Column::Username.is_in(names.iter().cloned()))
        .into_tuple::<(String, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !found.contains_key(*n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            "target_users",
            format!("no user named {}", unknown.join(", ")),
        ));
    }
    Ok(names.iter().filter_map(|n| found.get(n).copied()).collect())
}

/// Replaces the targets of message `id` with `users`.
async fn set_targets(conn: &impl ConnectionTrait, id: i64, users: &[i64]) -> ApiResult<()> {
    message_target::Entity::delete_many()
        .filter(message_target::Column::MessageId.eq(id))
        .exec(conn)
        .await?;
    for chunk in users.chunks(500) {
        message_target::Entity::insert_many(chunk.iter().map(|&user_id| {
            message_target::ActiveModel {
                message_id: Set(id),
                user_id: Set(user_id),
            }
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Tells the targets of `m` (new ones only, on a change) in a notification.
async fn notify_targets(work: &mut Work<'_>, m: &SystemMessageOut, users: &[i64]) -> ApiResult<()> {
    if m.is_broadcast || users.is_empty() {
        return Ok(());
    }
    let n = NewNotification {
        kind: SYSTEM_MESSAGE,
        r#type: match m.message_type.as_str() {
            "error" => "alert",
            "warning" => "warning",
            "success" => "success",
            _ => "info",
        },
        title: m.title.clone(),
        message: m.content.chars().take(500).collect(),
        entity_type: Some("system_message".into()),
        entity_id: Some(m.id),
        link: Some("/notifications".into()),
    };
    notify_users(work, users, &n).await
}

/// Every system message, newest first (for those who write them).
pub async fn list(
    conn: &impl ConnectionTrait,
    page: &PageParams,
) -> ApiResult<ListResponse<SystemMessageOut>> {
    page_of(
        conn,
        system_message::Entity::find(),
        page,
        &["id", "created_at", "expires_at"],
        ("id", true),
    )
    .await?
    .map_page(|rows| outs(conn, rows))
    .await
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> ApiResult<SystemMessageOut> {
    let m = system_message::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("system message"))?;
    out(conn, m).await
}

/// Posts a message as `ctx`'s actor. Errors: 422 naming the field (unknown target users,
/// an expiry not in the future).
pub async fn create(
    state: &AppState,
    ctx: &AuditCtx,
    new: NewSystemMessage,
) -> ApiResult<SystemMessageOut> {
    let now = Timestamp::now();
    let d = new.validate(now)?;
    let mut work = Work::begin(state, ctx).await?;
    check_targets(&*work, &d.target_users).await?;
    let row = system_message::ActiveModel {
        title: Set(d.title),
        content: Set(d.content),
        message_type: Set(d.message_type.unwrap_or_default()),
        is_broadcast: Set(d.is_broadcast),
        expires_at: Set(d.expires_at),
        created_by_id: Set(ctx.actor_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    set_targets(&*work, row.id, &d.target_users).await?;
    let m = out(&*work, row).await?;
    work.created("system_message", m.id, &m, audience(&m))
        .await?;
    notify_targets(&mut work, &m, &d.target_users).await?;
    work.commit().await?;
    Ok(m)
}

/// Posts a message from the system itself (no author): a failed backup, say.
pub async fn post_system_message(
    state: &AppState,
    new: NewSystemMessage,
) -> ApiResult<SystemMessageOut> {
    create(state, &AuditCtx::default(), new).await
}

/// Changes a message over the version the client read (412 when stale). Newly named
/// targets are notified; those removed hear that it changed.
pub async fn update(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    change: UpdateSystemMessage,
) -> ApiResult<SystemMessageOut> {
    let mut work = Work::begin(state, ctx).await?;
    let current =
        find_current::<system_message::Entity, _>(&*work, id, if_match, "system message").await?;
    let before = out(&*work, current.clone()).await?;
    let mut d = NewSystemMessage {
        title: before.title.clone(),
        content: before.content.clone(),
        message_type: Some(before.message_type.clone()),
        is_broadcast: before.is_broadcast,
        target_users: before.target_users.iter().map(|t| t.id).collect(),
        expires_at: before.expires_at,
    };
    change.apply(&mut d);
    let d = d.validate(Timestamp::now())?;
    check_targets(&*work, &d.target_users).await?;
    let mut am: system_message::ActiveModel = current.clone().into();
    am.title = Set(d.title);
    am.content = Set(d.content);
    am.message_type = Set(d.message_type.unwrap_or_default());
    am.is_broadcast = Set(d.is_broadcast);
    am.expires_at = Set(d.expires_at);
    am.updated_at = Set(Timestamp::now());
    let row = update_versioned(&*work, am, current.version).await?;
    set_targets(&*work, id, &d.target_users).await?;
    let after = out(&*work, row).await?;
    let mut heard = audience(&after);
    if let (Audience::Users(now), Audience::Users(was)) = (&mut heard, audience(&before)) {
        now.extend(was);
        now.sort_unstable();
        now.dedup();
    }
    work.updated("system_message", id, &before, &after, heard)
        .await?;
    let new_targets: Vec<i64> = d
        .target_users
        .iter()
        .copied()
        .filter(|u| !before.target_users.iter().any(|t| t.id == *u))
        .collect();
    notify_targets(&mut work, &after, &new_targets).await?;
    work.commit().await?;
    Ok(after)
}

/// Withdraws a message over the version the client read (412 when stale).
pub async fn delete(state: &AppState, ctx: &AuditCtx, id: i64, if_match: IfMatch) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let current =
        find_current::<system_message::Entity, _>(&*work, id, if_match, "system message").await?;
    let before = out(&*work, current.clone()).await?;
    delete_versioned::<system_message::Entity, _>(&*work, id, current.version).await?;
    work.deleted("system_message", id, &before, audience(&before))
        .await?;
    work.commit().await
}

/// Which messages `me` sees: broadcast ones and those naming them.
fn for_user(me: i64) -> Condition {
    Condition::any()
        .add(system_message::Column::IsBroadcast.eq(true))
        .add(
            system_message::Column::Id.in_subquery(
                Query::select()
                    .column(message_target::Column::MessageId)
                    .from(message_target::Entity)
                    .and_where(message_target::Column::UserId.eq(me))
                    .to_owned(),
            ),
        )
}

/// The unexpired messages for `me` that they have not dismissed, newest first.
pub async fn active(conn: &impl ConnectionTrait, me: i64) -> ApiResult<Vec<SystemMessageOut>> {
    let rows = system_message::Entity::find()
        .filter(for_user(me))
        .filter(
            Condition::any()
                .add(system_message::Column::ExpiresAt.is_null())
                .add(system_message::Column::ExpiresAt.gt(Timestamp::now())),
        )
        .filter(
            system_message::Column::Id.not_in_subquery(
                Query::select()
                    .column(dismissal::Column::MessageId)
                    .from(dismissal::Entity)
                    .and_where(dismissal::Column::UserId.eq(me))
                    .to_owned(),
            ),
        )
        .order_by_desc(system_message::Column::Id)
        .limit(MAX_ACTIVE)
        .all(conn)
        .await?;
    outs(conn, rows).await
}

/// `me` closes the banner of message `id`; 404 unless it is for them.
pub async fn dismiss(state: &AppState, ctx: &AuditCtx, me: i64, id: i64) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    system_message::Entity::find_by_id(id)
        .filter(for_user(me))
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("system message"))?;
    dismissal::Entity::insert(dismissal::ActiveModel {
        message_id: Set(id),
        user_id: Set(me),
        dismissed_at: Set(Timestamp::now()),
    })
    .on_conflict(
        OnConflict::columns([dismissal::Column::MessageId, dismissal::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .try_insert()
    .exec(&*work)
    .await?;
    work.emit(Event::new(
        "system_message",
        "dismissed",
        id,
        serde_json::json!({ "id": id }),
        Audience::Users(vec![me]),
    ));
    work.commit().await
}
