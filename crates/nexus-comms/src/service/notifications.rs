//! Notifications: created in bulk for the users who want that kind, listed, counted and
//! marked by their owner only. Every change is an event to its owner alone, so their bell
//! updates live.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nexus_core::audit::AuditCtx;
use nexus_core::db::{placeholders, stmt};
use nexus_core::events::{Audience, Event};
use nexus_core::paging::{PageParams, page_of};
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, Timestamp};
use nexus_identity::entity::{role, user};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QuerySelect, Value,
};
use serde_json::json;

use crate::entity::{notification, preference};
use crate::model::*;

/// Users named per statement when notifying a list of them.
const CHUNK: usize = 500;

/// A notification to create for some users.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// The preference it falls under: one of [`KINDS`] (`work_order_assigned`, ...).
    pub kind: &'static str,
    /// One of [`NOTIFICATION_TYPES`]: `info`, `warning`, `alert`, `success`.
    pub r#type: &'static str,
    /// What happened, in a line.
    pub title: String,
    /// What happened, in words a person reads.
    pub message: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    /// The page of the record it is about.
    pub link: Option<String>,
}

/// `text` cut to at most `max` characters, so a long name never fails the insert.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Notifies the active users `select` names (SQL giving one column of user ids, with
/// `params` as its `$1`…) who want `n.kind` (their own choice, else their role's
/// default), in one `INSERT ... SELECT`; answers who was notified.
async fn insert_for(
    work: &Work<'_>,
    select: &str,
    mut params: Vec<Value>,
    n: &NewNotification,
) -> ApiResult<Vec<i64>> {
    let kind = kind(n.kind).ok_or_else(|| ApiError::internal(format!("no kind {}", n.kind)))?;
    let first = params.len() + 1;
    let at = |i: usize| format!("${}", first + i);
    let defaults = if kind.on_for.is_empty() {
        "FALSE".to_string()
    } else {
        let roles: Vec<String> = (0..kind.on_for.len()).map(|i| at(8 + i)).collect();
        format!("r.name IN ({})", roles.join(", "))
    };
    let sql = format!(
        "INSERT INTO notifications (user_id, kind, type, title, message, entity_type, \
         entity_id, link, is_read, is_dismissed, created_at) \
         SELECT u.id, {k}, {t}, {title}, {message}, {et}, {eid}, {link}, FALSE, FALSE, {now} \
         FROM users u JOIN roles r ON r.id = u.role_id \
         LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = {k} \
         WHERE u.is_active AND u.id IN ({select}) AND COALESCE(p.enabled, {defaults}) \
         RETURNING user_id",
        k = at(0),
        t = at(1),
        title = at(2),
        message = at(3),
        et = at(4),
        eid = at(5),
        link = at(6),
        now = at(7),
    );
    params.extend([
        kind.name.into(),
        n.r#type.into(),
        cut(&n.title, 200).into(),
        n.message.clone().into(),
        n.entity_type.as_deref().map(|e| cut(e, 40)).into(),
        n.entity_id.into(),
        n.link.as_deref().map(|l| cut(l, 300)).into(),
        Timestamp::now().into(),
    ]);
    params.extend(kind.on_for.iter().map(|r| Value::from(*r)));
    let rows = work
        .query_all_raw(stmt(work.get_database_backend(), &sql, params))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "user_id").ok())
        .collect())
}

/// Queues the event telling `users`' pages that they have a new notification.
fn announce(work: &mut Work<'_>, users: Vec<i64>, n: &NewNotification) {
    if users.is_empty() {
        return;
    }
    work.emit(Event::new(
        "notification",
        "created",
        0,
        json!({ "kind": n.kind, "title": cut(&n.title, 200), "link": n.link }),
        Audience::Users(users),
    ));
}

/// Notifies each of `users` who has not turned `n.kind` off, in the unit of work `work`,
/// and queues one `notification.created` event for them.
pub async fn notify_users(
    work: &mut Work<'_>,
    users: &[i64],
    n: &NewNotification,
) -> ApiResult<()> {
    let unique: Vec<i64> = users
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut notified = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(CHUNK) {
        let select = format!(
            "SELECT id FROM users WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let params = chunk.iter().map(|&id| Value::from(id)).collect();
        notified.extend(insert_for(work, &select, params, n).await?);
    }
    announce(work, notified, n);
    Ok(())
}

/// [`notify_users`] for the users `select` names (SQL giving one column of user ids,
/// with `params` as its `$1`…): thousands in one statement, as when publishing.
pub async fn notify_selected(
    work: &mut Work<'_>,
    select: &str,
    params: Vec<Value>,
    n: &NewNotification,
) -> ApiResult<()> {
    let notified = insert_for(work, select, params, n).await?;
    announce(work, notified, n);
    Ok(())
}

fn out(n: notification::Model) -> NotificationOut {
    NotificationOut {
        id: n.id,
        kind: n.kind,
        r#type: n.r#type,
        title: n.title,
        message: n.message,
        entity_type: n.entity_type,
        entity_id: n.entity_id,
        link: n.link,
        is_read: n.is_read,
        read_at: n.read_at,
        is_dismissed: n.is_dismissed,
        created_at: n.created_at,
    }
}

/// `me`'s notifications, newest first, without the dismissed ones unless asked.
/// Errors: 422 for an unknown kind or type.
pub async fn list(
    conn: &impl ConnectionTrait,
    me: i64,
    f: &NotificationFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<NotificationOut>> {
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(me));
    if f.include_dismissed != Some(true) {
        q = q.filter(notification::Column::IsDismissed.eq(false));
    }
    if let Some(read) = f.is_read {
        q = q.filter(notification::Column::IsRead.eq(read));
    }
    if let Some(k) = f.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        let k =
            kind(k).ok_or_else(|| ApiError::invalid("kind", "is not a kind of notification"))?;
        q = q.filter(notification::Column::Kind.eq(k.name));
    }
    if let Some(t) = f.r#type.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if !NOTIFICATION_TYPES.contains(&t) {
            return Err(ApiError::invalid(
                "type",
                format!("must be one of {}", NOTIFICATION_TYPES.join(", ")),
            ));
        }
        q = q.filter(notification::Column::Type.eq(t));
    }
    Ok(page_of(conn, q, page, &["id", "created_at"], ("id", true))
        .await?
        .map(out))
}

/// How many of `me`'s notifications are unread: one count on the `(user_id, is_read)` index.
pub async fn unread_count(conn: &impl ConnectionTrait, me: i64) -> ApiResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::IsRead.eq(false))
        .count(conn)
        .await?)
}

/// The event telling `me`'s pages that their notifications changed.
fn changed(me: i64, id: i64, data: serde_json::Value) -> Event {
    Event::new(
        "notification",
        "updated",
        id,
        data,
        Audience::Users(vec![me]),
    )
}

/// Marks `me`'s notification `id` read, or also dismissed; 404 when it is not theirs.
pub async fn mark(
    state: &AppState,
    ctx: &AuditCtx,
    me: i64,
    id: i64,
    dismiss: bool,
) -> ApiResult<NotificationOut> {
    let mut work = Work::begin(state, ctx).await?;
    let row = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(me))
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(
            notification::Column::ReadAt,
            Expr::value(row.read_at.unwrap_or_else(Timestamp::now)),
        )
        .filter(notification::Column::Id.eq(id));
    if dismiss {
        q = q.col_expr(notification::Column::IsDismissed, Expr::value(true));
    }
    q.exec(&*work).await?;
    let after = notification::Entity::find_by_id(id)
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    work.emit(changed(
        me,
        id,
        json!({ "is_read": true, "is_dismissed": after.is_dismissed }),
    ));
    work.commit().await?;
    Ok(out(after))
}

/// Marks every unread notification of `me` read; how many changed.
pub async fn read_all(state: &AppState, ctx: &AuditCtx, me: i64) -> ApiResult<u64> {
    let mut work = Work::begin(state, ctx).await?;
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(Timestamp::now()))
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&*work)
        .await?
        .rows_affected;
    if done > 0 {
        work.emit(changed(me, 0, json!({ "read_all": true })));
    }
    work.commit().await?;
    Ok(done)
}

/// The name of `me`'s role, for the defaults of their preferences.
async fn role_of(conn: &impl ConnectionTrait, me: i64) -> ApiResult<String> {
    let name: Option<String> = user::Entity::find_by_id(me)
        .select_only()
        .column(role::Column::Name)
        .join(
            JoinType::InnerJoin,
            user::Entity::belongs_to(role::Entity)
                .from(user::Column::RoleId)
                .to(role::Column::Id)
                .into(),
        )
        .into_tuple()
        .one(conn)
        .await?;
    name.ok_or_else(|| ApiError::not_found("user"))
}

/// Every kind with `me`'s choice, or their role's default where they made none (by email
/// too: the kinds they get by default also come in the digest).
pub async fn preferences(conn: &impl ConnectionTrait, me: i64) -> ApiResult<Vec<PreferenceOut>> {
    let role = role_of(conn, me).await?;
    let chosen: HashMap<String, preference::Model> = preference::Entity::find()
        .filter(preference::Column::UserId.eq(me))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.kind.clone(), p))
        .collect();
    Ok(KINDS
        .iter()
        .map(|k| {
            let default = k.default_for(&role);
            let choice = chosen.get(k.name);
            PreferenceOut {
                kind: k.name.into(),
                label: k.label.into(),
                enabled: choice.map_or(default, |p| p.enabled),
                email: choice.map_or(default, |p| p.email),
                is_default: choice.is_none(),
            }
        })
        .collect())
}

/// Records `me`'s choices (kinds left out keep theirs, and so does `email` where a choice
/// leaves it out); 422 `preferences` for an unknown kind.
pub async fn set_preferences(
    state: &AppState,
    ctx: &AuditCtx,
    me: i64,
    input: PreferencesIn,
) -> ApiResult<Vec<PreferenceOut>> {
    // By kind, the last choice winning: one row each for the upsert.
    let mut choices = BTreeMap::new();
    for p in &input.preferences {
        let k = kind(p.kind.trim())
            .ok_or_else(|| ApiError::invalid("preferences", format!("{} is not a kind", p.kind)))?;
        choices.insert(k.name, p);
    }
    let work = Work::begin(state, ctx).await?;
    let before = preferences(&*work, me).await?;
    let rows: Vec<_> = choices
        .into_iter()
        .map(|(name, p)| preference::ActiveModel {
            user_id: Set(me),
            kind: Set(name.into()),
            enabled: Set(p.enabled),
            email: Set(p
                .email
                .unwrap_or_else(|| before.iter().any(|b| b.kind == name && b.email))),
        })
        .collect();
    if !rows.is_empty() {
        preference::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([preference::Column::UserId, preference::Column::Kind])
                    .update_columns([preference::Column::Enabled, preference::Column::Email])
                    .to_owned(),
            )
            .exec(&*work)
            .await?;
    }
    let after = preferences(&*work, me).await?;
    // Audited states are objects, as the audit trail's readers expect.
    let (was, now) = (
        json!({ "preferences": before }),
        json!({ "preferences": after }),
    );
    work.audit(
        "update",
        "notification_preferences",
        me,
        Some(&was),
        Some(&now),
    )
    .await?;
    work.commit().await?;
    Ok(after)
}
