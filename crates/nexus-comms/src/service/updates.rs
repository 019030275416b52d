//! Announcements (updates): composed as drafts, scheduled or published at once to
//! everyone or to chosen users, departments and roles. Publishing writes the recipients
//! in one `INSERT ... SELECT` over the users, so a plant-wide notice to ten thousand
//! people is one statement, and every reader's feed, unread count and receipts read
//! their own rows by index. An update is seen by its recipients once published, and by
//! its author and holders of `updates:manage` always; to anyone else it does not exist.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event, on_local};
use nexus_core::extract::IfMatch;
use nexus_core::jobs::{self, Job};
use nexus_core::paging::{count_of, page_of};
use nexus_core::write::{Work, delete_versioned, to_json, update_versioned};
use nexus_core::{
    ApiError, ApiResult, AppState, CurrentUser, ListResponse, PageParams, Timestamp, Validator,
};
use nexus_identity::entity::{department, role, user};
use nexus_identity::service::usernames;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, IntoActiveModel, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Value,
};

use super::markdown;
use super::notifications::{NewNotification, notify_selected};
use crate::entity::{
    update, update_attachment, update_comment, update_like, update_media, update_recipient,
    update_target,
};
use crate::model::*;

const ENTITY: &str = "update";
/// How often the background pass looks for scheduled updates that are due.
const TICK: Duration = Duration::from_secs(15);
/// Characters of an update's content a list or a notification shows.
const EXCERPT: usize = 200;

fn not_found() -> ApiError {
    ApiError::not_found("update")
}

/// Whether `user` may change update `u` and see who read it: its author, or a holder of
/// `updates:manage`.
pub fn may_manage(user: &CurrentUser, u: &update::Model) -> bool {
    u.created_by_id == user.id() || user.can(UPDATES_MANAGE)
}

/// Update `id` and `user`'s receipt of it, if `user` may see it; 404 otherwise, alike
/// for an absent update and one not for them.
async fn visible(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(update::Model, Option<update_recipient::Model>)> {
    let u = update::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    let r = update_recipient::Entity::find_by_id((id, user.id()))
        .one(conn)
        .await?;
    if (u.status == "published" && r.is_some()) || may_manage(user, &u) {
        Ok((u, r))
    } else {
        Err(not_found())
    }
}

/// [`visible`], and 403 unless `user` may manage it.
async fn managed(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<update::Model> {
    let (u, _) = visible(conn, user, id).await?;
    if !may_manage(user, &u) {
        return Err(ApiError::Forbidden(
            "only its author and holders of updates:manage may do this".into(),
        ));
    }
    Ok(u)
}

async fn recipient_ids(conn: &impl ConnectionTrait, id: i64) -> ApiResult<Vec<i64>> {
    Ok(update_recipient::Entity::find()
        .select_only()
        .column(update_recipient::Column::UserId)
        .filter(update_recipient::Column::UpdateId.eq(id))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Who hears of a change to `u`: its author and the holders of `updates:manage`, and its
/// recipients when `readers` (it is, or was until now, published). Never everyone.
async fn audience(
    conn: &impl ConnectionTrait,
    u: &update::Model,
    readers: bool,
) -> ApiResult<Audience> {
    let mut users = if readers {
        recipient_ids(conn, u.id).await?
    } else {
        Vec::new()
    };
    users.push(u.created_by_id);
    Ok(Audience::Involved {
        users,
        permission: UPDATES_MANAGE.into(),
    })
}

// ---------------------------------------------------------------- audience

/// The audience rows of `t`; 422 on `targets.users`, `targets.departments` or
/// `targets.roles` naming each one that does not exist.
async fn check_targets(
    conn: &impl ConnectionTrait,
    t: &Targets,
) -> ApiResult<Vec<(&'static str, i64)>> {
    let mut v = Validator::new();
    let mut rows = Vec::new();
    let users: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(t.users.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    for id in &t.users {
        v.check(
            users.contains(id),
            "targets.users",
            format!("no user has id {id}"),
        );
    }
    rows.extend(users.into_iter().map(|id| ("user", id)));
    let departments: Vec<i64> = department::Entity::find()
        .select_only()
        .column(department::Column::Id)
        .filter(department::Column::Id.is_in(t.departments.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    for id in &t.departments {
        v.check(
            departments.contains(id),
            "targets.departments",
            format!("no department has id {id}"),
        );
    }
    rows.extend(departments.into_iter().map(|id| ("department", id)));
    if !t.roles.is_empty() {
        let roles: Vec<(i64, String)> = role::Entity::find()
            .select_only()
            .columns([role::Column::Id, role::Column::Name])
            .into_tuple()
            .all(conn)
            .await?;
        for r in &t.roles {
            let found = roles.iter().find(|(id, name)| match r {
                RoleRef::Id(i) => i == id,
                RoleRef::Name(n) => n.trim().eq_ignore_ascii_case(name),
            });
            match (found, r) {
                (Some((id, _)), _) => rows.push(("role", *id)),
                (None, RoleRef::Id(i)) => v.add("targets.roles", format!("no role has id {i}")),
                (None, RoleRef::Name(n)) => {
                    v.add("targets.roles", format!("no role is called “{}”", n.trim()))
                }
            }
        }
    }
    v.finish()?;
    rows.sort_unstable();
    rows.dedup();
    Ok(rows)
}

/// Replaces the audience rows of update `id`.
async fn store_targets(
    conn: &impl ConnectionTrait,
    id: i64,
    rows: Vec<(&'static str, i64)>,
) -> ApiResult<()> {
    update_target::Entity::delete_many()
        .filter(update_target::Column::UpdateId.eq(id))
        .exec(conn)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    update_target::Entity::insert_many(rows.into_iter().map(|(kind, target)| {
        update_target::ActiveModel {
            update_id: Set(id),
            target_type: Set(kind.into()),
            target_id: Set(target),
        }
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

async fn target_rows(conn: &impl ConnectionTrait, id: i64) -> ApiResult<Vec<update_target::Model>> {
    Ok(update_target::Entity::find()
        .filter(update_target::Column::UpdateId.eq(id))
        .all(conn)
        .await?)
}

/// The stored audience of update `id`, as a request would name it.
async fn targets_of(conn: &impl ConnectionTrait, id: i64) -> ApiResult<Targets> {
    let mut t = Targets::default();
    for row in target_rows(conn, id).await? {
        match row.target_type.as_str() {
            "user" => t.users.push(row.target_id),
            "department" => t.departments.push(row.target_id),
            _ => t.roles.push(RoleRef::Id(row.target_id)),
        }
    }
    Ok(t)
}

/// The stored audience of update `id`, by name.
async fn targets_out(conn: &impl ConnectionTrait, id: i64) -> ApiResult<TargetsOut> {
    let rows = target_rows(conn, id).await?;
    let ids = |kind: &str| -> Vec<i64> {
        rows.iter()
            .filter(|r| r.target_type == kind)
            .map(|r| r.target_id)
            .collect()
    };
    let names = usernames(conn, ids("user").into_iter().map(Some)).await?;
    let departments: Vec<(i64, String)> = department::Entity::find()
        .select_only()
        .columns([department::Column::Id, department::Column::Name])
        .filter(department::Column::Id.is_in(ids("department")))
        .order_by_asc(department::Column::Name)
        .into_tuple()
        .all(conn)
        .await?;
    let roles: Vec<(i64, String)> = role::Entity::find()
        .select_only()
        .columns([role::Column::Id, role::Column::Name])
        .filter(role::Column::Id.is_in(ids("role")))
        .order_by_asc(role::Column::Name)
        .into_tuple()
        .all(conn)
        .await?;
    let named = |pairs: Vec<(i64, String)>| {
        pairs
            .into_iter()
            .map(|(id, name)| NamedRef { id, name })
            .collect()
    };
    let mut users: Vec<(i64, String)> = names.into_iter().collect();
    users.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(TargetsOut {
        users: named(users),
        departments: named(departments),
        roles: named(roles),
    })
}

/// Writes the recipients of published update `u`: every active user of its audience not
/// yet among them, with their department now, in one `INSERT ... SELECT`. `again` (it was
/// published before) first removes those no longer in the audience.
async fn materialize(
    conn: &impl ConnectionTrait,
    u: &update::Model,
    now: Timestamp,
    again: bool,
) -> ApiResult<()> {
    let backend = conn.get_database_backend();
    let audience = if u.target_all {
        "TRUE"
    } else {
        "(u.id IN (SELECT target_id FROM update_targets WHERE update_id = $1 AND target_type = 'user') \
         OR u.department_id IN (SELECT target_id FROM update_targets WHERE update_id = $1 AND target_type = 'department') \
         OR u.role_id IN (SELECT target_id FROM update_targets WHERE update_id = $1 AND target_type = 'role'))"
    };
    if again {
        let sql = format!(
            "DELETE FROM update_recipients WHERE update_id = $1 \
             AND user_id NOT IN (SELECT u.id FROM users u WHERE {audience})"
        );
        conn.execute_raw(stmt(backend, &sql, vec![u.id.into()]))
            .await?;
    }
    let sql = format!(
        "INSERT INTO update_recipients (update_id, user_id, department_id, published_at) \
         SELECT $1, u.id, u.department_id, $2 FROM users u WHERE u.is_active AND {audience} \
         AND NOT EXISTS (SELECT 1 FROM update_recipients r WHERE r.update_id = $1 AND r.user_id = u.id)"
    );
    conn.execute_raw(stmt(backend, &sql, vec![u.id.into(), now.0.into()]))
        .await?;
    Ok(())
}

/// Notifies the recipients of `u` who received it at `at` (all of them on a first
/// publish, the ones added later otherwise).
async fn notify_new(w: &mut Work<'_>, u: &update::Model, at: Timestamp) -> ApiResult<()> {
    let r#type = match u.priority.as_str() {
        "critical" => "alert",
        "high" => "warning",
        _ => "info",
    };
    let ack = if u.ack_required {
        " Please acknowledge it."
    } else {
        ""
    };
    let n = NewNotification {
        kind: ANNOUNCEMENT,
        r#type,
        title: u.title.clone(),
        message: format!("{}{ack}", markdown::excerpt(&u.content, EXCERPT)),
        entity_type: Some(ENTITY.into()),
        entity_id: Some(u.id),
        link: Some(format!("/updates/{}", u.id)),
    };
    let recipients =
        "SELECT user_id FROM update_recipients WHERE update_id = $1 AND published_at = $2";
    notify_selected(w, recipients, vec![u.id.into(), at.into()], &n).await
}

/// Publishes `after` (already stored as published) in `w`: its recipients, the
/// `update.published` event to them, their notifications.
async fn publish_in(
    w: &mut Work<'_>,
    before: &update::Model,
    after: &update::Model,
    now: Timestamp,
) -> ApiResult<()> {
    materialize(&**w, after, now, before.published_at.is_some()).await?;
    let audience = audience(&**w, after, true).await?;
    w.record(
        "publish",
        "published",
        ENTITY,
        after.id,
        Some(before),
        Some(after),
        audience,
    )
    .await?;
    notify_later(w, after, now);
    Ok(())
}

// ---------------------------------------------------------------- shown

/// Rows as listed, with their authors' names and `user`'s receipts, in the same order.
async fn outs(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    rows: Vec<update::Model>,
) -> ApiResult<Vec<UpdateOut>> {
    let names = usernames(conn, rows.iter().map(|u| Some(u.created_by_id))).await?;
    let receipts: HashMap<i64, update_recipient::Model> = update_recipient::Entity::find()
        .filter(update_recipient::Column::UserId.eq(user.id()))
        .filter(update_recipient::Column::UpdateId.is_in(rows.iter().map(|u| u.id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.update_id, r))
        .collect();
    Ok(rows
        .into_iter()
        .map(|u| {
            let r = receipts.get(&u.id);
            UpdateOut {
                excerpt: markdown::excerpt(&u.content, EXCERPT),
                created_by: names.get(&u.created_by_id).cloned().unwrap_or_default(),
                is_recipient: r.is_some(),
                read_at: r.and_then(|r| r.read_at),
                acknowledged_at: r.and_then(|r| r.acknowledged_at),
                id: u.id,
                title: u.title,
                content: u.content,
                update_type: u.update_type,
                priority: u.priority,
                status: u.status,
                ack_required: u.ack_required,
                target_all: u.target_all,
                publish_at: u.publish_at,
                published_at: u.published_at,
                created_by_id: u.created_by_id,
                created_at: u.created_at,
                updated_at: u.updated_at,
                version: u.version,
            }
        })
        .collect())
}

fn attachment_out(a: update_attachment::Model) -> UpdateAttachmentOut {
    UpdateAttachmentOut {
        url: format!("/api/v1/updates/{}/attachments/{}", a.update_id, a.id),
        id: a.id,
        file_id: a.file_id,
        filename: a.filename,
        file_size: a.file_size,
        mime_type: a.mime_type,
        uploaded_at: a.uploaded_at,
    }
}

async fn likes(conn: &impl ConnectionTrait, user: &CurrentUser, id: i64) -> ApiResult<LikesOut> {
    let all = update_like::Entity::find().filter(update_like::Column::UpdateId.eq(id));
    Ok(LikesOut {
        like_count: all.clone().count(conn).await?,
        liked_by_me: all
            .filter(update_like::Column::UserId.eq(user.id()))
            .one(conn)
            .await?
            .is_some(),
    })
}

/// Everything shown of update `u` to `user`.
async fn detail(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    u: update::Model,
) -> ApiResult<UpdateDetail> {
    let id = u.id;
    let can_manage = may_manage(user, &u);
    let content_html = markdown::to_html(&u.content);
    let update = outs(conn, user, vec![u])
        .await?
        .pop()
        .ok_or_else(not_found)?;
    let attachments = update_attachment::Entity::find()
        .filter(update_attachment::Column::UpdateId.eq(id))
        .order_by_asc(update_attachment::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(attachment_out)
        .collect();
    let media_rows = update_media::Entity::find()
        .filter(update_media::Column::UpdateId.eq(id))
        .order_by_asc(update_media::Column::Id)
        .all(conn)
        .await?;
    let mimes: HashMap<i64, String> = nexus_content::entity::file::Entity::find()
        .select_only()
        .columns([
            nexus_content::entity::file::Column::Id,
            nexus_content::entity::file::Column::MimeType,
        ])
        .filter(nexus_content::entity::file::Column::Id.is_in(media_rows.iter().map(|m| m.file_id)))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let media = media_rows
        .into_iter()
        .map(|m| MediaOut {
            url: format!("/api/v1/updates/{id}/media/{}", m.id),
            mime_type: mimes.get(&m.file_id).cloned().unwrap_or_default(),
            id: m.id,
            file_id: m.file_id,
            media_type: m.media_type,
            caption: m.caption,
            uploaded_at: m.uploaded_at,
        })
        .collect();
    let likes = likes(conn, user, id).await?;
    let comment_count = update_comment::Entity::find()
        .filter(update_comment::Column::UpdateId.eq(id))
        .count(conn)
        .await?;
    Ok(UpdateDetail {
        update,
        content_html,
        targets: targets_out(conn, id).await?,
        attachments,
        media,
        like_count: likes.like_count,
        liked_by_me: likes.liked_by_me,
        comment_count,
        can_manage,
    })
}

// ---------------------------------------------------------------- compose

/// Composes an update by `user`: kept as a draft, scheduled, or published at once.
/// Errors: 422 for bad fields, an unknown audience member or a schedule not ahead.
pub async fn create(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    req: NewUpdate,
) -> ApiResult<UpdateDetail> {
    let now = Timestamp::now();
    let d = UpdateDraft::from(req).validate(now)?;
    let mut w = Work::begin(state, ctx).await?;
    let targets = check_targets(&*w, &d.targets).await?;
    let publish = d.status == "published";
    let row = update::ActiveModel {
        title: Set(d.title),
        content: Set(d.content),
        update_type: Set(d.update_type),
        priority: Set(d.priority),
        created_by_id: Set(user.id()),
        target_all: Set(d.target_all),
        ack_required: Set(d.ack_required),
        status: Set(if publish { "draft".into() } else { d.status }),
        publish_at: Set(d.publish_at),
        published_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*w)
    .await?;
    store_targets(&*w, row.id, targets).await?;
    let author = audience(&*w, &row, false).await?;
    w.created(ENTITY, row.id, &row, author).await?;
    let row = if publish {
        let mut am = row.clone().into_active_model();
        am.status = Set("published".into());
        am.published_at = Set(Some(now));
        let after = am.update(&*w).await?;
        publish_in(&mut w, &row, &after, now).await?;
        after
    } else {
        row
    };
    let out = detail(&*w, user, row).await?;
    w.commit().await?;
    Ok(out)
}

/// Which statuses an update may move to from `from`: drafts and scheduled ones anywhere
/// but unpublished; published ones to unpublished; unpublished ones back to published.
fn may_move(from: &str, to: &str) -> bool {
    from == to
        || match from {
            "draft" | "scheduled" => to != "unpublished",
            "published" => to == "unpublished",
            "unpublished" => to == "published",
            _ => false,
        }
}

/// Changes update `id` (its author's, or anyone's with `updates:manage`); `status`
/// publishes, schedules, returns to draft or unpublishes. A changed audience of a
/// published update reaches its new members and leaves the others.
/// Errors: 403 not yours, 404 not visible, 409 a move not allowed, 412 stale, 422.
pub async fn change(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    req: UpdateChange,
) -> ApiResult<UpdateDetail> {
    let now = Timestamp::now();
    let mut w = Work::begin(state, ctx).await?;
    let before = managed(&*w, user, id).await?;
    if_match.check(before.version)?;
    let mut d = UpdateDraft {
        title: before.title.clone(),
        content: before.content.clone(),
        update_type: before.update_type.clone(),
        priority: before.priority.clone(),
        ack_required: before.ack_required,
        target_all: before.target_all,
        targets: targets_of(&*w, id).await?,
        status: before.status.clone(),
        publish_at: before.publish_at,
    };
    let audience_changed = req.apply(&mut d);
    let d = d.validate(now)?;
    if !may_move(&before.status, &d.status) {
        return Err(ApiError::conflict_on(
            "status",
            format!(
                "a {} update cannot become {}",
                before.status,
                update_word(&d.status).to_lowercase()
            ),
        ));
    }
    if audience_changed {
        let rows = check_targets(&*w, &d.targets).await?;
        store_targets(&*w, id, rows).await?;
    }
    let publishing = d.status == "published" && before.status != "published";
    let mut am = before.clone().into_active_model();
    am.title = Set(d.title);
    am.content = Set(d.content);
    am.update_type = Set(d.update_type);
    am.priority = Set(d.priority);
    am.ack_required = Set(d.ack_required);
    am.target_all = Set(d.target_all);
    am.status = Set(d.status.clone());
    am.publish_at = Set(d.publish_at);
    am.updated_at = Set(now);
    if publishing && before.published_at.is_none() {
        am.published_at = Set(Some(now));
    }
    let after = update_versioned(&*w, am, before.version).await?;
    if publishing {
        publish_in(&mut w, &before, &after, now).await?;
    } else if after.status == "published" && audience_changed {
        materialize(&*w, &after, now, true).await?;
        let audience = audience(&*w, &after, true).await?;
        w.updated(ENTITY, id, &before, &after, audience).await?;
        notify_later(&mut w, &after, now);
    } else if after.status == "unpublished" && before.status != "unpublished" {
        // Its readers hear that it is gone.
        let audience = audience(&*w, &after, true).await?;
        w.record(
            "unpublish",
            "unpublished",
            ENTITY,
            id,
            Some(&before),
            Some(&after),
            audience,
        )
        .await?;
    } else {
        let audience = audience(&*w, &after, after.status == "published").await?;
        w.updated(ENTITY, id, &before, &after, audience).await?;
    }
    let out = detail(&*w, user, after).await?;
    w.commit().await?;
    Ok(out)
}

/// Deletes a draft or scheduled update (its author's, or anyone's with
/// `updates:manage`); one that was published is unpublished instead (409).
pub async fn delete(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut w = Work::begin(state, ctx).await?;
    let before = managed(&*w, user, id).await?;
    if !matches!(before.status.as_str(), "draft" | "scheduled") {
        return Err(ApiError::conflict(
            "only drafts and scheduled updates can be deleted; unpublish it instead",
        ));
    }
    if_match.check(before.version)?;
    delete_versioned::<update::Entity, _>(&*w, id, before.version).await?;
    let audience = audience(&*w, &before, false).await?;
    w.deleted(ENTITY, id, &before, audience).await?;
    w.commit().await
}

// ---------------------------------------------------------------- scheduled

/// Starts the background pass that publishes scheduled updates when their time comes.
pub fn start(state: &AppState) {
    let s = state.clone();
    on_local(&state.events, &["update.delivered"], move |batch| {
        let s = s.clone();
        async move {
            for e in batch {
                if let Err(err) = notify_delivered(&s, &e).await {
                    tracing::warn!(error = %err, id = e.id, "recipients of an update not notified");
                }
            }
        }
    });
    let job = Job {
        name: "comms.scheduled_updates",
        every: TICK,
        once_across_nodes: true,
        at_start: true,
    };
    jobs::every(state, job, |s| async move { publish_due(&s).await });
}

/// Queues the notifications of the recipients of `u` who received it at `at`: an
/// internal event (heard by [`start`]'s reaction, seen by no client) so that publishing
/// to thousands answers once they are recipients, and their notifications follow.
fn notify_later(w: &mut Work<'_>, u: &update::Model, at: Timestamp) {
    w.emit(Event::new(
        ENTITY,
        "delivered",
        u.id,
        serde_json::json!({ "at": at }),
        Audience::Users(Vec::new()),
    ));
}

/// Notifies the recipients an `update.delivered` event names.
async fn notify_delivered(state: &AppState, e: &Event) -> ApiResult<()> {
    let at: Timestamp = serde_json::from_value(e.data["at"].clone()).map_err(ApiError::internal)?;
    let ctx = AuditCtx::default();
    let mut w = Work::begin(state, &ctx).await?;
    let Some(u) = update::Entity::find_by_id(e.id).one(&*w).await? else {
        return Ok(());
    };
    notify_new(&mut w, &u, at).await?;
    w.commit().await
}

/// Publishes every scheduled update whose time has come; the ids published. Each is
/// claimed by an `UPDATE ... WHERE status = 'scheduled'`, so where several nodes share a
/// database only the first to claim one publishes it.
pub async fn publish_due(state: &AppState) -> ApiResult<Vec<i64>> {
    let now = Timestamp::now();
    let due: Vec<i64> = update::Entity::find()
        .select_only()
        .column(update::Column::Id)
        .filter(update::Column::Status.eq("scheduled"))
        .filter(update::Column::PublishAt.lte(now))
        .order_by_asc(update::Column::PublishAt)
        .into_tuple()
        .all(state.db.read())
        .await?;
    let mut published = Vec::new();
    for id in due {
        match publish_scheduled(state, id).await {
            Ok(true) => published.push(id),
            Ok(false) => {}
            Err(e) => tracing::warn!(update = id, error = %e, "scheduled update not published"),
        }
    }
    Ok(published)
}

/// Publishes scheduled update `id` if it is still scheduled and due; false when another
/// node (or an edit) got there first.
async fn publish_scheduled(state: &AppState, id: i64) -> ApiResult<bool> {
    let ctx = AuditCtx::default();
    let now = Timestamp::now();
    let mut w = Work::begin(state, &ctx).await?;
    let claimed = update::Entity::update_many()
        .col_expr(update::Column::Status, Expr::value("published"))
        .col_expr(update::Column::PublishedAt, Expr::value(now.0))
        .col_expr(update::Column::UpdatedAt, Expr::value(now.0))
        .col_expr(update::Column::PublishAt, Expr::value(Value::BigInt(None)))
        .col_expr(
            update::Column::Version,
            Expr::col(update::Column::Version).add(1),
        )
        .filter(update::Column::Id.eq(id))
        .filter(update::Column::Status.eq("scheduled"))
        .filter(update::Column::PublishAt.lte(now))
        .exec(&*w)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    let after = update::Entity::find_by_id(id)
        .one(&*w)
        .await?
        .ok_or_else(not_found)?;
    let before = update::Model {
        status: "scheduled".into(),
        publish_at: Some(now),
        published_at: None,
        version: after.version - 1,
        ..after.clone()
    };
    publish_in(&mut w, &before, &after, now).await?;
    w.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------- readers

/// One of `allowed` or 422 on `field`.
fn one_of(field: &str, value: &Option<String>, allowed: &[&str]) -> ApiResult<Option<String>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .map(|a| Some(a.to_string()))
            .ok_or_else(|| {
                ApiError::invalid(field, format!("must be one of {}", allowed.join(", ")))
            }),
    }
}

/// Without `mine` or `status`: `user`'s feed, what is published for them, newest first.
/// With `mine`: the updates they wrote; with `status`: every update in that status (only
/// theirs without `updates:manage`). Errors: 422 for a filter value not allowed.
pub async fn list(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    f: &UpdateFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<UpdateOut>> {
    let kind = one_of("type", &f.update_type, &UPDATE_TYPES)?;
    let priority = one_of("priority", &f.priority, &UPDATE_PRIORITIES)?;
    let status = one_of("status", &f.status, &UPDATE_STATUSES)?;
    let mut cond = Condition::all();
    if let Some(k) = kind {
        cond = cond.add(update::Column::UpdateType.eq(k));
    }
    if let Some(p) = priority {
        cond = cond.add(update::Column::Priority.eq(p));
    }
    if f.mine == Some(true) || status.is_some() {
        if let Some(s) = status {
            cond = cond.add(update::Column::Status.eq(s));
        }
        if f.mine == Some(true) || !user.can(UPDATES_MANAGE) {
            cond = cond.add(update::Column::CreatedById.eq(user.id()));
        }
        let rows = page_of(
            conn,
            update::Entity::find().filter(cond),
            page,
            &[
                "created_at",
                "updated_at",
                "published_at",
                "publish_at",
                "title",
            ],
            ("created_at", true),
        )
        .await?;
        return rows.map_page(|items| outs(conn, user, items)).await;
    }
    if page.sort.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        page.sort(&["published_at"], ("published_at", true))?;
    }
    let mut feed = update_recipient::Entity::find()
        .join(
            JoinType::InnerJoin,
            update_recipient::Relation::Update.def(),
        )
        .filter(update_recipient::Column::UserId.eq(user.id()))
        .filter(update::Column::Status.eq("published"))
        .filter(cond);
    if f.unread == Some(true) {
        feed = feed.filter(update_recipient::Column::ReadAt.is_null());
    }
    let counted = count_of(conn, feed.clone(), page).await?;
    let receipts = feed
        .order_by_desc(update_recipient::Column::PublishedAt)
        .order_by_desc(update_recipient::Column::UpdateId)
        .limit(page.limit())
        .offset(page.offset())
        .all(conn)
        .await?;
    let ids: Vec<i64> = receipts.iter().map(|r| r.update_id).collect();
    let mut rows: HashMap<i64, update::Model> = update::Entity::find()
        .filter(update::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let ordered = ids.iter().filter_map(|id| rows.remove(id)).collect();
    let items = outs(conn, user, ordered).await?;
    Ok(ListResponse::counted(items, page, counted))
}

/// How many updates published for `user` they have not read, and not acknowledged.
pub async fn unread_count(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
) -> ApiResult<UnreadCount> {
    let mine = || {
        update_recipient::Entity::find()
            .join(
                JoinType::InnerJoin,
                update_recipient::Relation::Update.def(),
            )
            .filter(update_recipient::Column::UserId.eq(user.id()))
            .filter(update::Column::Status.eq("published"))
    };
    Ok(UnreadCount {
        unread: mine()
            .filter(update_recipient::Column::ReadAt.is_null())
            .count(conn)
            .await?,
        unacknowledged: mine()
            .filter(update_recipient::Column::AcknowledgedAt.is_null())
            .filter(update::Column::AckRequired.eq(true))
            .count(conn)
            .await?,
    })
}

/// Update `id` as `user` sees it; reading it marks it read for a recipient.
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> ApiResult<UpdateDetail> {
    let conn = state.db.write();
    let (u, r) = visible(conn, user, id).await?;
    if u.status == "published" && r.is_some_and(|r| r.read_at.is_none()) {
        update_recipient::Entity::update_many()
            .col_expr(
                update_recipient::Column::ReadAt,
                Expr::value(Timestamp::now().0),
            )
            .filter(update_recipient::Column::UpdateId.eq(id))
            .filter(update_recipient::Column::UserId.eq(user.id()))
            .filter(update_recipient::Column::ReadAt.is_null())
            .exec(conn)
            .await?;
    }
    detail(conn, user, u).await
}

/// Update `id` as `user` sees it, without marking it read (forms and reports).
pub async fn peek(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<UpdateDetail> {
    let (u, _) = visible(conn, user, id).await?;
    detail(conn, user, u).await
}

/// `user` acknowledges update `id` (and so has read it).
/// Errors: 404 not visible, 409 not a recipient, not asking for it, or already done.
pub async fn acknowledge(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<UpdateDetail> {
    let now = Timestamp::now();
    let mut w = Work::begin(state, ctx).await?;
    let (u, r) = visible(&*w, user, id).await?;
    let Some(r) = r.filter(|_| u.status == "published") else {
        return Err(ApiError::conflict(
            "only the recipients of a published update acknowledge it",
        ));
    };
    if !u.ack_required {
        return Err(ApiError::conflict(
            "this update does not ask for acknowledgement",
        ));
    }
    if let Some(at) = r.acknowledged_at {
        return Err(ApiError::conflict(format!(
            "you already acknowledged this update on {}",
            at.display()
        )));
    }
    let done = update_recipient::Entity::update_many()
        .col_expr(update_recipient::Column::AcknowledgedAt, Expr::value(now.0))
        .col_expr(
            update_recipient::Column::ReadAt,
            Expr::value(r.read_at.unwrap_or(now).0),
        )
        .filter(update_recipient::Column::UpdateId.eq(id))
        .filter(update_recipient::Column::UserId.eq(user.id()))
        .filter(update_recipient::Column::AcknowledgedAt.is_null())
        .exec(&*w)
        .await?;
    if done.rows_affected == 0 {
        return Err(ApiError::conflict("you already acknowledged this update"));
    }
    let after = update_recipient::Model {
        read_at: Some(r.read_at.unwrap_or(now)),
        acknowledged_at: Some(now),
        ..r.clone()
    };
    let audience = Audience::Involved {
        users: vec![u.created_by_id, user.id()],
        permission: UPDATES_MANAGE.into(),
    };
    w.record(
        "acknowledge",
        "acknowledged",
        ENTITY,
        id,
        Some(&r),
        Some(&after),
        audience,
    )
    .await?;
    let out = detail(&*w, user, u).await?;
    w.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------- comments and likes

async fn comment_outs(
    conn: &impl ConnectionTrait,
    rows: Vec<update_comment::Model>,
) -> ApiResult<Vec<UpdateCommentOut>> {
    let names = usernames(conn, rows.iter().map(|c| Some(c.author_id))).await?;
    Ok(rows
        .into_iter()
        .map(|c| UpdateCommentOut {
            author: names.get(&c.author_id).cloned().unwrap_or_default(),
            id: c.id,
            update_id: c.update_id,
            author_id: c.author_id,
            content: c.content,
            created_at: c.created_at,
        })
        .collect())
}

/// The comments on update `id`, oldest first. Errors: 404 not visible.
pub async fn comments(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<UpdateCommentOut>> {
    visible(conn, user, id).await?;
    let rows = page_of(
        conn,
        update_comment::Entity::find().filter(update_comment::Column::UpdateId.eq(id)),
        page,
        &["id", "created_at"],
        ("id", false),
    )
    .await?;
    rows.map_page(|items| comment_outs(conn, items)).await
}

/// `user` comments on update `id`. Errors: 404 not visible, 422 empty or too long.
pub async fn comment(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    req: NewUpdateComment,
) -> ApiResult<UpdateCommentOut> {
    let req = req.validate()?;
    let mut w = Work::begin(state, ctx).await?;
    let (u, _) = visible(&*w, user, id).await?;
    let row = update_comment::ActiveModel {
        update_id: Set(id),
        author_id: Set(user.id()),
        content: Set(req.content),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*w)
    .await?;
    let audience = audience(&*w, &u, u.status == "published").await?;
    w.created("update_comment", row.id, &row, audience).await?;
    let out = comment_outs(&*w, vec![row])
        .await?
        .pop()
        .ok_or_else(not_found)?;
    w.commit().await?;
    Ok(out)
}

/// `user` likes (`on`) or stops liking update `id`; doing it twice changes nothing.
/// Errors: 404 not visible.
pub async fn like(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    on: bool,
) -> ApiResult<LikesOut> {
    let mut w = Work::begin(state, ctx).await?;
    let (u, _) = visible(&*w, user, id).await?;
    let changed = if on {
        update_like::Entity::insert(update_like::ActiveModel {
            update_id: Set(id),
            user_id: Set(user.id()),
            created_at: Set(Timestamp::now()),
        })
        .on_conflict(
            OnConflict::columns([update_like::Column::UpdateId, update_like::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&*w)
        .await?
    } else {
        update_like::Entity::delete_many()
            .filter(update_like::Column::UpdateId.eq(id))
            .filter(update_like::Column::UserId.eq(user.id()))
            .exec(&*w)
            .await?
            .rows_affected
    };
    let out = likes(&*w, user, id).await?;
    if changed > 0 {
        let audience = audience(&*w, &u, u.status == "published").await?;
        let (action, event) = if on {
            ("create", "liked")
        } else {
            ("delete", "unliked")
        };
        w.audit(action, "update_like", id, None, Some(&out)).await?;
        w.emit(Event::new(ENTITY, event, id, to_json(&out), audience));
    }
    w.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------- files

/// Stored file `file_id` if `user` may use it; 422 on `file_id` otherwise.
async fn usable_file(
    state: &AppState,
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    file_id: i64,
) -> ApiResult<nexus_content::entity::file::Model> {
    nexus_content::service::visible_file(state, conn, Some(user), file_id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid("file_id", format!("no file you may use has id {file_id}"))
        })
}

/// Attaches stored file `req.file_id` to update `id`.
/// Errors: 403 not yours, 404 not visible, 422 no such file.
pub async fn attach(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    req: NewAttachment,
) -> ApiResult<UpdateAttachmentOut> {
    let mut w = Work::begin(state, ctx).await?;
    let u = managed(&*w, user, id).await?;
    let f = usable_file(state, &*w, user, req.file_id).await?;
    let row = update_attachment::ActiveModel {
        update_id: Set(id),
        file_id: Set(f.id),
        filename: Set(f.filename),
        file_size: Set(f.file_size),
        mime_type: Set(f.mime_type),
        uploaded_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*w)
    .await?;
    let audience = audience(&*w, &u, u.status == "published").await?;
    w.created("update_attachment", row.id, &row, audience)
        .await?;
    w.commit().await?;
    Ok(attachment_out(row))
}

/// Shows stored file `req.file_id` in update `id` as an image, video or audio.
/// Errors: 403 not yours, 404 not visible, 422 no such file or not of that type.
pub async fn add_media(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    req: NewMedia,
) -> ApiResult<MediaOut> {
    let req = req.validate()?;
    let mut w = Work::begin(state, ctx).await?;
    let u = managed(&*w, user, id).await?;
    let f = usable_file(state, &*w, user, req.file_id).await?;
    if !f.mime_type.starts_with(&format!("{}/", req.media_type)) {
        return Err(ApiError::invalid(
            "file_id",
            format!(
                "the file is {}, not {} {}",
                f.mime_type,
                if req.media_type == "image" { "an" } else { "a" },
                req.media_type
            ),
        ));
    }
    let row = update_media::ActiveModel {
        update_id: Set(id),
        file_id: Set(f.id),
        media_type: Set(req.media_type),
        caption: Set(req.caption),
        uploaded_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*w)
    .await?;
    let audience = audience(&*w, &u, u.status == "published").await?;
    w.created("update_media", row.id, &row, audience).await?;
    w.commit().await?;
    Ok(MediaOut {
        url: format!("/api/v1/updates/{id}/media/{}", row.id),
        mime_type: f.mime_type,
        id: row.id,
        file_id: row.file_id,
        media_type: row.media_type,
        caption: row.caption,
        uploaded_at: row.uploaded_at,
    })
}

/// Removes attachment (`media` false) or media item `item` from update `id`.
/// Errors: 403 not yours, 404 not visible or no such item.
pub async fn remove_file(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    item: i64,
    media: bool,
) -> ApiResult<()> {
    let mut w = Work::begin(state, ctx).await?;
    let u = managed(&*w, user, id).await?;
    let audience = audience(&*w, &u, u.status == "published").await?;
    if media {
        let row = update_media::Entity::find_by_id(item)
            .filter(update_media::Column::UpdateId.eq(id))
            .one(&*w)
            .await?
            .ok_or_else(|| ApiError::not_found("media item"))?;
        update_media::Entity::delete_by_id(item).exec(&*w).await?;
        w.deleted("update_media", item, &row, audience).await?;
    } else {
        let row = update_attachment::Entity::find_by_id(item)
            .filter(update_attachment::Column::UpdateId.eq(id))
            .one(&*w)
            .await?
            .ok_or_else(|| ApiError::not_found("attachment"))?;
        update_attachment::Entity::delete_by_id(item)
            .exec(&*w)
            .await?;
        w.deleted("update_attachment", item, &row, audience).await?;
    }
    w.commit().await
}

/// A file of an update as downloaded: its name, type and bytes.
pub struct Download {
    pub filename: String,
    pub mime_type: String,
    pub bytes: Bytes,
}

/// The bytes of attachment (`media` false) or media item `item` of update `id`, to
/// whoever may see the update, whatever their permissions on files.
/// Errors: 404 not visible or no such item.
pub async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    item: i64,
    media: bool,
) -> ApiResult<Download> {
    let conn = state.db.read();
    visible(conn, user, id).await?;
    let file_id: Option<i64> = if media {
        update_media::Entity::find_by_id(item)
            .filter(update_media::Column::UpdateId.eq(id))
            .one(conn)
            .await?
            .map(|m| m.file_id)
    } else {
        update_attachment::Entity::find_by_id(item)
            .filter(update_attachment::Column::UpdateId.eq(id))
            .one(conn)
            .await?
            .map(|a| a.file_id)
    };
    let gone = || ApiError::not_found(if media { "media item" } else { "attachment" });
    let f = nexus_content::entity::file::Entity::find_by_id(file_id.ok_or_else(gone)?)
        .one(conn)
        .await?
        .ok_or_else(gone)?;
    let bytes = state
        .domains
        .get::<nexus_content::Content>()
        .store
        .get(&f.file_hash)
        .await?;
    Ok(Download {
        filename: f.filename,
        mime_type: f.mime_type,
        bytes,
    })
}

// ---------------------------------------------------------------- receipts

#[derive(FromQueryResult)]
struct ReceiptRow {
    user_id: i64,
    username: String,
    first_name: Option<String>,
    last_name: Option<String>,
    department_id: Option<i64>,
    department: Option<String>,
    read_at: Option<i64>,
    acknowledged_at: Option<i64>,
}

impl From<ReceiptRow> for Receipt {
    fn from(r: ReceiptRow) -> Self {
        Self {
            name: nexus_identity::model::full_name(r.first_name.as_deref(), r.last_name.as_deref())
                .unwrap_or_else(|| r.username.clone()),
            user_id: r.user_id,
            username: r.username,
            department_id: r.department_id,
            department: r.department,
            read_at: r.read_at.map(Timestamp),
            acknowledged_at: r.acknowledged_at.map(Timestamp),
        }
    }
}

#[derive(FromQueryResult)]
struct DepartmentRow {
    department_id: Option<i64>,
    department: Option<String>,
    n_recipients: i64,
    n_read: i64,
    n_acknowledged: i64,
}

/// The condition and values of a receipts filter (after `r.update_id = $1`).
fn receipt_filter(f: &ReceiptFilter) -> ApiResult<(String, Vec<Value>)> {
    let state = one_of("state", &f.state, &RECEIPT_STATES)?;
    let mut sql = match state.as_deref() {
        Some("unread") => " AND r.read_at IS NULL".to_string(),
        Some("read") => " AND r.read_at IS NOT NULL".to_string(),
        Some("unacknowledged") => " AND r.acknowledged_at IS NULL".to_string(),
        Some(_) => " AND r.acknowledged_at IS NOT NULL".to_string(),
        None => String::new(),
    };
    let mut values = Vec::new();
    if let Some(d) = f.department_id {
        sql.push_str(" AND r.department_id = $2");
        values.push(d.into());
    }
    Ok((sql, values))
}

const RECEIPTS: &str = "SELECT r.user_id, u.username, u.first_name, u.last_name, \
    r.department_id, d.name AS department, r.read_at, r.acknowledged_at \
    FROM update_recipients r JOIN users u ON u.id = r.user_id \
    LEFT JOIN departments d ON d.id = r.department_id WHERE r.update_id = $1";

/// Who received update `id`, read and acknowledged it: totals, per department, and a
/// page of the people (by username) matching `f`.
/// Errors: 403 not the author nor `updates:manage`, 404 not visible, 422 bad filter.
pub async fn receipts(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
    f: &ReceiptFilter,
    page: &PageParams,
) -> ApiResult<ReceiptReport> {
    let u = managed(conn, user, id).await?;
    let backend = conn.get_database_backend();
    let (filter, extra) = receipt_filter(f)?;
    let departments = DepartmentRow::find_by_statement(stmt(
        backend,
        "SELECT r.department_id, d.name AS department, COUNT(*) AS n_recipients, \
         COUNT(r.read_at) AS n_read, COUNT(r.acknowledged_at) AS n_acknowledged \
         FROM update_recipients r LEFT JOIN departments d ON d.id = r.department_id \
         WHERE r.update_id = $1 GROUP BY r.department_id, d.name ORDER BY d.name",
        vec![id.into()],
    ))
    .all(conn)
    .await?;
    let values = || {
        let mut v: Vec<Value> = vec![id.into()];
        v.extend(extra.iter().cloned());
        v
    };
    let total = conn
        .query_one_raw(stmt(
            backend,
            &format!(
                "SELECT COUNT(*) AS n FROM update_recipients r WHERE r.update_id = $1{filter}"
            ),
            values(),
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let people = ReceiptRow::find_by_statement(stmt(
        backend,
        &format!(
            "{RECEIPTS}{filter} ORDER BY u.username LIMIT {} OFFSET {}",
            page.limit(),
            page.offset()
        ),
        values(),
    ))
    .all(conn)
    .await?;
    let sum = |f: fn(&DepartmentRow) -> i64| departments.iter().map(f).sum::<i64>() as u64;
    Ok(ReceiptReport {
        update_id: id,
        ack_required: u.ack_required,
        recipients: sum(|d| d.n_recipients),
        read: sum(|d| d.n_read),
        acknowledged: sum(|d| d.n_acknowledged),
        departments: departments
            .into_iter()
            .map(|d| DepartmentReceipts {
                department: d.department.unwrap_or_else(|| "No department".into()),
                department_id: d.department_id,
                recipients: d.n_recipients as u64,
                read: d.n_read as u64,
                acknowledged: d.n_acknowledged as u64,
            })
            .collect(),
        people: ListResponse::page(
            people.into_iter().map(Receipt::from).collect(),
            total as u64,
            page,
        ),
    })
}

/// Every receipt of update `id` matching `f`, by username, for the CSV export.
/// Errors as [`receipts`].
pub async fn all_receipts(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
    f: &ReceiptFilter,
) -> ApiResult<Vec<Receipt>> {
    managed(conn, user, id).await?;
    let (filter, extra) = receipt_filter(f)?;
    let mut values: Vec<Value> = vec![id.into()];
    values.extend(extra);
    let rows = ReceiptRow::find_by_statement(stmt(
        conn.get_database_backend(),
        &format!("{RECEIPTS}{filter} ORDER BY u.username"),
        values,
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(Receipt::from).collect())
}
