//! Activities: planned plant work with a time, an assignee, a status and a priority. Every
//! status and priority change is kept with who, when and why; an activity whose end passes
//! while planned or in progress becomes overdue by itself, and leaves overdue when it is
//! completed or moved. Who sees one is [`super::visible_activities`].

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::extract::IfMatch;
use nexus_core::paging::{page_counted_by, page_into};
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{
    ApiError, ApiResult, AppState, CurrentUser, ListResponse, PageParams, Timestamp,
    contains_pattern,
};
use nexus_identity::entity::user;
use nexus_identity::service::usernames;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    DbErr, EntityTrait, FromQueryResult, JoinType, Order, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, Select,
};

use super::{activity_audience, activity_audiences, activity_tags, check_tags, visible_activities};
use crate::entity::{
    activity, activity_tag, priority_change, project, project_activity, project_member,
    status_change,
};
use crate::model::*;

/// Rows with their assignee's and creator's names and their tags, in the same order.
pub async fn activity_outs(
    conn: &impl ConnectionTrait,
    rows: Vec<activity::Model>,
) -> ApiResult<Vec<ActivityOut>> {
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let names = usernames(
        conn,
        rows.iter()
            .flat_map(|a| [Some(a.assigned_to_id), Some(a.created_by_id)]),
    )
    .await?;
    let mut tags = activity_tags(conn, &ids).await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|a| {
            let (assigned_to, created_by) = (name(a.assigned_to_id), name(a.created_by_id));
            let chips = tags.remove(&a.id).unwrap_or_default();
            out_of(a, assigned_to, created_by, chips)
        })
        .collect())
}

fn out_of(
    a: activity::Model,
    assigned_to: String,
    created_by: String,
    tags: Vec<TagRef>,
) -> ActivityOut {
    ActivityOut {
        tags,
        assigned_to,
        created_by,
        id: a.id,
        title: a.title,
        description: a.description,
        activity_type: a.activity_type,
        status: a.status,
        priority: a.priority,
        start_time: a.start_time,
        end_time: a.end_time,
        assigned_to_id: a.assigned_to_id,
        created_by_id: a.created_by_id,
        series_id: a.series_id,
        created_at: a.created_at,
        updated_at: a.updated_at,
        version: a.version,
    }
}

/// An activity as lists read it: the row with its assignee's and creator's names and its
/// tags, from the columns [`with_people_and_tags`] adds.
impl FromQueryResult for ActivityOut {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let row = activity::Model::from_query_result(res, pre)?;
        let name = |column: &str| -> Result<String, DbErr> {
            Ok(res
                .try_get::<Option<String>>(pre, column)?
                .unwrap_or_default())
        };
        let tags: Option<String> = res.try_get(pre, "tags")?;
        let mut tags: Vec<TagRef> = match tags {
            Some(json) => serde_json::from_str(&json).map_err(|e| DbErr::Json(e.to_string()))?,
            None => Vec::new(),
        };
        tags.sort_by_key(|t| t.name.to_lowercase());
        Ok(out_of(row, name("assigned_to")?, name("created_by")?, tags))
    }
}

/// `q` with the columns an [`ActivityOut`] is read from besides the row: its people's
/// names and its tags (a JSON array of id, name and colour), read with the row (a lookup
/// by key each), so that a page is one statement.
pub fn with_people_and_tags(
    q: Select<activity::Entity>,
    backend: DatabaseBackend,
) -> Select<activity::Entity> {
    let name = |column: &str| {
        Expr::cust(format!(
            "(SELECT u.username FROM users u WHERE u.id = activities.{column})"
        ))
    };
    let tags = match backend {
        DatabaseBackend::Postgres => {
            "json_agg(json_build_object('id', g.id, 'name', g.name, 'color', g.color))::text"
        }
        _ => "json_group_array(json_object('id', g.id, 'name', g.name, 'color', g.color))",
    };
    q.column_as(name("assigned_to_id"), "assigned_to")
        .column_as(name("created_by_id"), "created_by")
        .column_as(
            Expr::cust(format!(
                "(SELECT {tags} FROM activity_tags t JOIN tags g ON g.id = t.tag_id \
                 WHERE t.activity_id = activities.id)"
            )),
            "tags",
        )
}

/// Splits a comma-separated filter into values of `allowed` (their own spelling); 422 on
/// `field` for any other.
pub fn parse_multi(
    field: &str,
    raw: &str,
    allowed: &[&'static str],
) -> ApiResult<Vec<&'static str>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .copied()
                .ok_or_else(|| {
                    ApiError::invalid(field, format!("must be one of {}", allowed.join(", ")))
                })
        })
        .collect()
}

/// The condition of a list filter (without who may see what).
fn filter_condition(f: &ActivityFilter) -> ApiResult<Condition> {
    use activity::Column as C;
    let mut cond = Condition::all();
    if let Some(s) = &f.status {
        cond = cond.add(C::Status.is_in(parse_multi("status", s, &ACTIVITY_STATUSES)?));
    }
    if let Some(t) = &f.activity_type {
        cond = cond.add(C::ActivityType.is_in(parse_multi("type", t, &ACTIVITY_TYPES)?));
    }
    if let Some(p) = &f.priority {
        cond = cond.add(C::Priority.is_in(parse_multi("priority", p, &ACTIVITY_PRIORITIES)?));
    }
    if let Some(u) = f.assigned_to_id {
        cond = cond.add(C::AssignedToId.eq(u));
    }
    if let Some(u) = f.created_by_id {
        cond = cond.add(C::CreatedById.eq(u));
    }
    if let Some(s) = f.series_id {
        cond = cond.add(C::SeriesId.eq(s));
    }
    if let Some(t) = f.start_from {
        cond = cond.add(C::StartTime.gte(t));
    }
    if let Some(t) = f.start_to {
        cond = cond.add(C::StartTime.lt(t));
    }
    if let Some(tag) = f.tag_id {
        // EXISTS, not IN: the page then walks the start-time order and probes each row's
        // tags, instead of sorting every activity of the tag.
        cond = cond.add(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(activity_tag::Entity)
                .and_where(
                    Expr::col((activity_tag::Entity, activity_tag::Column::ActivityId))
                        .equals((activity::Entity, C::Id)),
                )
                .and_where(activity_tag::Column::TagId.eq(tag))
                .to_owned(),
        ));
    }
    if let Some(p) = f.project_id {
        cond = cond.add(super::through::<project_activity::Entity>(
            C::Id,
            project_activity::Column::ActivityId,
            project_activity::Column::ProjectId,
            p,
        ));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        cond = cond.add(Expr::expr(Func::lower(Expr::col(C::Title))).like(contains_pattern(q)));
    }
    Ok(cond)
}

/// The activities `user` may see that match `f`, a page of them.
pub async fn list_activities(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    f: &ActivityFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<ActivityOut>> {
    let mut q = activity::Entity::find().filter(filter_condition(f)?);
    let visible = visible_activities(user);
    if let Some(mine) = visible.clone() {
        q = q.filter(mine);
    }
    let sorts = [
        "start_time",
        "end_time",
        "created_at",
        "updated_at",
        "title",
        "priority",
        "status",
        "id",
    ];
    let default = ("start_time", true);
    let only_tag = f.tag_id.filter(|_| {
        visible.is_none()
            && *f
                == ActivityFilter {
                    tag_id: f.tag_id,
                    ..Default::default()
                }
    });
    let q = with_people_and_tags(q, conn.get_database_backend());
    let Some(tag) = only_tag else {
        return page_into(conn, q.clone(), page, &sorts, default, q).await;
    };
    // Every activity of one tag is counted on the tag's index, and in start order read
    // from a range of it.
    let links = activity_tag::Entity::find().filter(activity_tag::Column::TagId.eq(tag));
    match page.sort(&sorts, default)? {
        ("start_time", desc) => tag_page(conn, tag, desc, page, links).await,
        _ => page_into(conn, q, page, &sorts, default, links).await,
    }
}

/// A page of the activities of `tag` in start order (`desc`: latest first), ties by id
/// as every list, read from the range of the tag's `(tag_id, start_time, activity_id)`
/// index, with the count of `links`, in one statement.
async fn tag_page(
    conn: &impl ConnectionTrait,
    tag: i64,
    desc: bool,
    page: &PageParams,
    links: Select<activity_tag::Entity>,
) -> ApiResult<ListResponse<ActivityOut>> {
    use activity_tag::Column as T;
    let order = if desc { Order::Desc } else { Order::Asc };
    // A link's start is its activity's (the write path keeps them equal).
    let link = activity_tag::Entity::belongs_to(activity::Entity)
        .from(T::ActivityId)
        .to(activity::Column::Id)
        .into();
    let rows = activity::Entity::find()
        .join_rev(JoinType::InnerJoin, link)
        .filter(T::TagId.eq(tag))
        .order_by(T::StartTime, order)
        .order_by_asc(T::ActivityId);
    let rows = with_people_and_tags(rows, conn.get_database_backend());
    page_counted_by(conn, rows, links, page).await
}

/// Every activity `user` may see that matches `f`, for export, in start order.
pub async fn export_activities(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    f: &ActivityFilter,
) -> ApiResult<Vec<ActivityOut>> {
    let mut q = activity::Entity::find().filter(filter_condition(f)?);
    if let Some(mine) = visible_activities(user) {
        q = q.filter(mine);
    }
    let rows = with_people_and_tags(q, conn.get_database_backend())
        .order_by_asc(activity::Column::StartTime)
        .order_by_asc(activity::Column::Id)
        .into_model()
        .all(conn)
        .await?;
    Ok(rows)
}

/// The activity `id` if `user` may see it; 404 otherwise, as if it did not exist.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<activity::Model> {
    let mut q = activity::Entity::find_by_id(id);
    if let Some(mine) = visible_activities(user) {
        q = q.filter(mine);
    }
    q.one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("activity"))
}

/// An activity with its projects, timeline and recurrence; 404 unless `user` may see it.
pub async fn get_activity(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<ActivityDetail> {
    let a = find_visible(conn, user, id).await?;
    detail(conn, a).await
}

async fn detail(conn: &impl ConnectionTrait, a: activity::Model) -> ApiResult<ActivityDetail> {
    let id = a.id;
    let recurrence = match a.series_id {
        Some(s) => super::series_recurrence(conn, s).await?,
        None => None,
    };
    let activity = activity_outs(conn, vec![a]).await?.remove(0);
    Ok(ActivityDetail {
        activity,
        projects: activity_projects(conn, id).await?,
        history: history(conn, id).await?,
        recurrence,
    })
}

async fn activity_projects(conn: &impl ConnectionTrait, id: i64) -> ApiResult<Vec<ProjectRef>> {
    let ids: Vec<i64> = project_activity::Entity::find()
        .filter(project_activity::Column::ActivityId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.project_id)
        .collect();
    Ok(project::Entity::find()
        .filter(project::Column::Id.is_in(ids))
        .order_by_asc(project::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| ProjectRef {
            id: p.id,
            name: p.name,
        })
        .collect())
}

/// The status and priority changes of activity `id`, newest first.
pub async fn history(conn: &impl ConnectionTrait, id: i64) -> ApiResult<Vec<HistoryEntry>> {
    let statuses = status_change::Entity::find()
        .filter(status_change::Column::ActivityId.eq(id))
        .all(conn)
        .await?;
    let priorities = priority_change::Entity::find()
        .filter(priority_change::Column::ActivityId.eq(id))
        .all(conn)
        .await?;
    let names = usernames(
        conn,
        statuses
            .iter()
            .map(|s| s.changed_by_id)
            .chain(priorities.iter().map(|p| p.changed_by_id)),
    )
    .await?;
    let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned());
    let mut out: Vec<(i64, HistoryEntry)> = statuses
        .into_iter()
        .map(|s| {
            (
                s.id,
                HistoryEntry {
                    kind: "status",
                    changed_by: name(s.changed_by_id),
                    value: s.status,
                    changed_by_id: s.changed_by_id,
                    changed_at: s.changed_at,
                    note: s.notes,
                },
            )
        })
        .chain(priorities.into_iter().map(|p| {
            (
                p.id,
                HistoryEntry {
                    kind: "priority",
                    changed_by: name(p.changed_by_id),
                    value: p.priority,
                    changed_by_id: p.changed_by_id,
                    changed_at: p.changed_at,
                    note: p.reason,
                },
            )
        }))
        .collect();
    out.sort_by(|a, b| (b.1.changed_at, b.1.kind, b.0).cmp(&(a.1.changed_at, a.1.kind, a.0)));
    Ok(out.into_iter().map(|(_, e)| e).collect())
}

/// 422 on `field` unless `id` is an active user.
pub(crate) async fn must_be_active_user(
    conn: &impl ConnectionTrait,
    id: i64,
    field: &str,
) -> ApiResult<()> {
    match user::Entity::find_by_id(id).one(conn).await? {
        Some(u) if u.is_active => Ok(()),
        _ => Err(ApiError::invalid(
            field,
            format!("no active user has id {id}"),
        )),
    }
}

/// 422 on `project_ids` unless `user` may see each project (manages it, is on its team, or
/// sees every project).
async fn check_projects(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    ids: &[i64],
) -> ApiResult<()> {
    for &id in ids {
        let found = project::Entity::find_by_id(id).one(conn).await?;
        let visible = match &found {
            None => false,
            Some(p) if p.manager_id == user.id() || user.can(PROJECTS_READ_ALL) => true,
            Some(_) => project_member::Entity::find_by_id((id, user.id()))
                .one(conn)
                .await?
                .is_some(),
        };
        if !visible {
            return Err(ApiError::invalid(
                "project_ids",
                format!("no project you can see has id {id}"),
            ));
        }
    }
    Ok(())
}

/// What a new activity is made of, whether typed in or an occurrence of a series.
pub(crate) struct Draft {
    pub fields: ActivityFields,
    pub created_by_id: i64,
    pub series_id: Option<i64>,
    pub tag_ids: Vec<i64>,
    pub project_ids: Vec<i64>,
}

/// Stores a new activity with its first timeline entries, tags and projects, audited and
/// announced as `activity.created` in `work`. One that ends in the past while planned or
/// in progress starts overdue, as the sweep would make it.
pub(crate) async fn insert_activity(work: &mut Work<'_>, d: &Draft) -> ApiResult<activity::Model> {
    let now = Timestamp::now();
    let f = &d.fields;
    let row = activity::ActiveModel {
        title: Set(f.title.clone()),
        description: Set(f.description.clone()),
        activity_type: Set(f.activity_type.clone()),
        status: Set(f.status.clone()),
        priority: Set(f.priority.clone()),
        start_time: Set(f.start_time),
        end_time: Set(f.end_time),
        assigned_to_id: Set(f.assigned_to_id),
        created_by_id: Set(d.created_by_id),
        series_id: Set(d.series_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&**work)
    .await?;
    let actor = work.ctx().actor_id;
    record_status(&**work, row.id, &row.status, actor, "Created", now).await?;
    record_priority(&**work, row.id, &row.priority, actor, "Created", now).await?;
    let row = overdue_if_late(&**work, row, now).await?;
    set_links(&**work, &row, Some(&d.tag_ids), Some(&d.project_ids)).await?;
    let audience = activity_audience(&**work, &row).await?;
    let out = activity_outs(&**work, vec![row.clone()]).await?.remove(0);
    work.created("activity", row.id, &out, audience).await?;
    Ok(row)
}

/// Makes `a` overdue (a timeline entry by the system) when its end has passed while it
/// is planned or in progress.
async fn overdue_if_late(
    conn: &impl ConnectionTrait,
    a: activity::Model,
    now: Timestamp,
) -> ApiResult<activity::Model> {
    if a.end_time >= now || !LATE_WHILE.contains(&a.status.as_str()) {
        return Ok(a);
    }
    let version = a.version;
    let mut am: activity::ActiveModel = a.clone().into();
    am.status = Set("overdue".into());
    am.updated_at = Set(now);
    let a = update_versioned(conn, am, version).await?;
    record_status(conn, a.id, "overdue", None, OVERDUE_NOTE, now).await?;
    Ok(a)
}

/// The timeline note of the system making an activity overdue.
pub const OVERDUE_NOTE: &str = "The end passed before it was completed";

pub(crate) async fn record_status(
    conn: &impl ConnectionTrait,
    activity_id: i64,
    status: &str,
    by: Option<i64>,
    notes: &str,
    at: Timestamp,
) -> ApiResult<()> {
    status_change::ActiveModel {
        activity_id: Set(activity_id),
        status: Set(status.into()),
        changed_by_id: Set(by),
        changed_at: Set(at),
        notes: Set(notes.into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

async fn record_priority(
    conn: &impl ConnectionTrait,
    activity_id: i64,
    priority: &str,
    by: Option<i64>,
    reason: &str,
    at: Timestamp,
) -> ApiResult<()> {
    priority_change::ActiveModel {
        activity_id: Set(activity_id),
        priority: Set(priority.into()),
        changed_by_id: Set(by),
        changed_at: Set(at),
        reason: Set(reason.into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Replaces the tags and projects of activity `a` (those given); its tags otherwise
/// take its start time.
async fn set_links(
    conn: &impl ConnectionTrait,
    a: &activity::Model,
    tag_ids: Option<&[i64]>,
    project_ids: Option<&[i64]>,
) -> ApiResult<()> {
    let id = a.id;
    match tag_ids {
        Some(tags) => {
            activity_tag::Entity::delete_many()
                .filter(activity_tag::Column::ActivityId.eq(id))
                .exec(conn)
                .await?;
            if !tags.is_empty() {
                let link = |&t: &i64| activity_tag::ActiveModel {
                    activity_id: Set(id),
                    tag_id: Set(t),
                    start_time: Set(a.start_time),
                };
                activity_tag::Entity::insert_many(tags.iter().map(link))
                    .exec(conn)
                    .await?;
            }
        }
        None => {
            activity_tag::Entity::update_many()
                .col_expr(activity_tag::Column::StartTime, Expr::value(a.start_time))
                .filter(activity_tag::Column::ActivityId.eq(id))
                .filter(activity_tag::Column::StartTime.ne(a.start_time))
                .exec(conn)
                .await?;
        }
    }
    if let Some(projects) = project_ids {
        project_activity::Entity::delete_many()
            .filter(project_activity::Column::ActivityId.eq(id))
            .exec(conn)
            .await?;
        if !projects.is_empty() {
            project_activity::Entity::insert_many(projects.iter().map(|&p| {
                project_activity::ActiveModel {
                    project_id: Set(p),
                    activity_id: Set(id),
                }
            }))
            .exec(conn)
            .await?;
        }
    }
    Ok(())
}

/// Plans an activity (or a recurring series of them: the occurrences ahead are created
/// at once). Errors: 422 naming the field (bad input, unknown tag, a project the user
/// cannot see, an inactive assignee).
pub async fn create_activity(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    new: NewActivity,
) -> ApiResult<ActivityDetail> {
    let d = new.validate()?;
    if d.status.as_deref() == Some("overdue") {
        return Err(ApiError::invalid("status", SYSTEM_OVERDUE));
    }
    let mut work = Work::begin(state, ctx).await?;
    let assignee = d.assigned_to_id.unwrap_or(user.id());
    must_be_active_user(&*work, assignee, "assigned_to_id").await?;
    check_tags(&*work, &d.tag_ids, "tag_ids").await?;
    check_projects(&*work, user, &d.project_ids).await?;
    let draft = Draft {
        fields: ActivityFields {
            title: d.title,
            description: d.description.unwrap_or_default(),
            activity_type: d.activity_type,
            status: d.status.unwrap_or_default(),
            priority: d.priority.unwrap_or_default(),
            start_time: d.start_time,
            end_time: d.end_time,
            assigned_to_id: assignee,
        },
        created_by_id: user.id(),
        series_id: None,
        tag_ids: d.tag_ids,
        project_ids: d.project_ids,
    };
    let first = match d.recurrence {
        Some(r) => super::start_series(&mut work, draft, r).await?,
        None => insert_activity(&mut work, &draft).await?,
    };
    let out = detail(&*work, first).await?;
    work.commit().await?;
    Ok(out)
}

const SYSTEM_OVERDUE: &str = "becomes overdue by itself when its end passes";

/// 403 unless `user` created `a`, is assigned to it, or may change any activity.
fn may_change(user: &CurrentUser, a: &activity::Model) -> ApiResult<()> {
    if a.created_by_id == user.id() || a.assigned_to_id == user.id() || user.can(ACTIVITIES_MANAGE)
    {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only its creator, its assignee or activities:manage may change an activity".into(),
    ))
}

pub(crate) fn fields_of(a: &activity::Model) -> ActivityFields {
    ActivityFields {
        title: a.title.clone(),
        description: a.description.clone(),
        activity_type: a.activity_type.clone(),
        status: a.status.clone(),
        priority: a.priority.clone(),
        start_time: a.start_time,
        end_time: a.end_time,
        assigned_to_id: a.assigned_to_id,
    }
}

/// The status an overdue activity goes back to when moved: the last it had before.
async fn status_before_overdue(conn: &impl ConnectionTrait, id: i64) -> ApiResult<String> {
    Ok(status_change::Entity::find()
        .filter(status_change::Column::ActivityId.eq(id))
        .filter(status_change::Column::Status.ne("overdue"))
        .order_by_desc(status_change::Column::ChangedAt)
        .order_by_desc(status_change::Column::Id)
        .one(conn)
        .await?
        .map(|s| s.status)
        .filter(|s| LATE_WHILE.contains(&s.as_str()))
        .unwrap_or_else(|| "planned".into()))
}

/// Changes an activity. A status change is kept with `note`, a priority change with
/// `reason`; moving an overdue activity's end into the future takes it back to the status
/// it had. With `scope: following` the change (times shifted by as much) also applies to
/// the later occurrences of its series still to be done, and to those created from now.
///
/// Errors: 404 (also when `user` may not see it), 403 not theirs to change, 412 stale,
/// 422 naming the field.
pub async fn update_activity(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    mut req: UpdateActivity,
) -> ApiResult<ActivityDetail> {
    let mut work = Work::begin(state, ctx).await?;
    find_visible(&*work, user, id).await?;
    let current = find_current::<activity::Entity, _>(&*work, id, if_match, "activity").await?;
    may_change(user, &current)?;
    let status_asked = req.status.is_some();
    let mut f = fields_of(&current);
    req.apply(&mut f)?;
    if status_asked && f.status == "overdue" && current.status != "overdue" {
        return Err(ApiError::invalid("status", SYSTEM_OVERDUE));
    }
    if f.assigned_to_id != current.assigned_to_id {
        must_be_active_user(&*work, f.assigned_to_id, "assigned_to_id").await?;
    }
    if let Some(tags) = &req.tag_ids {
        check_tags(&*work, tags, "tag_ids").await?;
    }
    if let Some(projects) = &req.project_ids {
        check_projects(&*work, user, projects).await?;
    }
    let now = Timestamp::now();
    if current.status == "overdue" && f.status == "overdue" && f.end_time >= now {
        f.status = status_before_overdue(&*work, id).await?;
        req.note
            .get_or_insert_with(|| "Moved: the end is ahead again".into());
    }
    let after = change_activity(&mut work, &current, &f, &req, now).await?;
    if req.scope == Scope::Following
        && let Some(series) = current.series_id
    {
        super::change_following(&mut work, series, &current, &after, &req).await?;
    }
    let out = detail(&*work, after).await?;
    work.commit().await?;
    Ok(out)
}

/// Writes `f` over `current` with its timeline entries and links, audited and announced.
pub(crate) async fn change_activity(
    work: &mut Work<'_>,
    current: &activity::Model,
    f: &ActivityFields,
    req: &UpdateActivity,
    now: Timestamp,
) -> ApiResult<activity::Model> {
    let actor = work.ctx().actor_id;
    let mut am: activity::ActiveModel = current.clone().into();
    am.title = Set(f.title.clone());
    am.description = Set(f.description.clone());
    am.activity_type = Set(f.activity_type.clone());
    am.status = Set(f.status.clone());
    am.priority = Set(f.priority.clone());
    am.start_time = Set(f.start_time);
    am.end_time = Set(f.end_time);
    am.assigned_to_id = Set(f.assigned_to_id);
    am.updated_at = Set(now);
    let mut after = update_versioned(&**work, am, current.version).await?;
    if after.status != current.status {
        let note = req.note.as_deref().unwrap_or_default();
        record_status(&**work, current.id, &after.status, actor, note, now).await?;
    }
    if after.priority != current.priority {
        let reason = req.reason.as_deref().unwrap_or_default();
        record_priority(&**work, current.id, &after.priority, actor, reason, now).await?;
    }
    after = overdue_if_late(&**work, after, now).await?;
    set_links(
        &**work,
        &after,
        req.tag_ids.as_deref(),
        req.project_ids.as_deref(),
    )
    .await?;
    let before = activity_outs(&**work, vec![current.clone()])
        .await?
        .remove(0);
    let out = activity_outs(&**work, vec![after.clone()]).await?.remove(0);
    let mut audience = activity_audience(&**work, &after).await?;
    if let nexus_core::events::Audience::Involved { users, .. } = &mut audience {
        // Whoever it was taken from hears that it left them.
        users.extend([current.assigned_to_id]);
    }
    work.updated("activity", current.id, &before, &out, audience)
        .await?;
    Ok(after)
}

/// Deletes an activity; with `scope: following`, also the later occurrences of its series
/// still to be done, and the series ends before it.
///
/// Errors: 404 (also when not visible), 403 not theirs, 412 stale.
pub async fn delete_activity(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    scope: Scope,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    find_visible(&*work, user, id).await?;
    let current = find_current::<activity::Entity, _>(&*work, id, if_match, "activity").await?;
    may_change(user, &current)?;
    if scope == Scope::Following
        && let Some(series) = current.series_id
    {
        super::end_series_before(&mut work, series, &current).await?;
    }
    remove_activity(&mut work, &current).await?;
    work.commit().await
}

/// Deletes `a` with its timeline and links, audited and announced.
pub(crate) async fn remove_activity(work: &mut Work<'_>, a: &activity::Model) -> ApiResult<()> {
    let audience = activity_audience(&**work, a).await?;
    let before = activity_outs(&**work, vec![a.clone()]).await?.remove(0);
    delete_versioned::<activity::Entity, _>(&**work, a.id, a.version).await?;
    work.deleted("activity", a.id, &before, audience).await
}

/// How many activities one sweep transaction makes overdue: small enough that a writer
/// waits a few milliseconds at most for it.
const SWEEP_BATCH: u64 = 100;
/// The pause between two sweep transactions, in which waiting writers go first.
const SWEEP_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// Makes overdue every activity whose end has passed while planned or in progress, in
/// short transactions of [`SWEEP_BATCH`], each entry by the system. Returns how many.
pub async fn sweep_overdue(state: &AppState) -> ApiResult<u64> {
    let ctx = AuditCtx::default();
    let mut total = 0;
    loop {
        let now = Timestamp::now();
        // Everything the audit rows and events need is read before the write transaction,
        // so writers wait only for the UPDATE and the inserts, never for these reads.
        let read = state.db.read();
        let late = activity::Entity::find()
            .filter(activity::Column::Status.is_in(LATE_WHILE))
            .filter(activity::Column::EndTime.lt(now))
            .limit(SWEEP_BATCH)
            .all(read)
            .await?;
        let n = late.len() as u64;
        if late.is_empty() {
            return Ok(total);
        }
        let mut audiences = activity_audiences(read, &late).await?;
        let mut befores: HashMap<i64, ActivityOut> = activity_outs(read, late.clone())
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut work = Work::begin(state, &ctx).await?;
        // Only rows still late when the transaction runs change: one edited meanwhile keeps
        // its edit (its version moved on, so it no longer matches).
        let mut still = Condition::any();
        for a in &late {
            still = still.add(
                activity::Column::Id
                    .eq(a.id)
                    .and(activity::Column::Version.eq(a.version)),
            );
        }
        let swept = activity::Entity::update_many()
            .col_expr(activity::Column::Status, Expr::value("overdue"))
            .col_expr(activity::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                activity::Column::Version,
                Expr::col(activity::Column::Version).add(1),
            )
            .filter(still)
            .filter(activity::Column::Status.is_in(LATE_WHILE))
            .exec_with_returning(&*work)
            .await?;
        if !swept.is_empty() {
            status_change::Entity::insert_many(swept.iter().map(|a| status_change::ActiveModel {
                activity_id: Set(a.id),
                status: Set("overdue".into()),
                changed_by_id: Set(None),
                changed_at: Set(now),
                notes: Set(OVERDUE_NOTE.into()),
                ..Default::default()
            }))
            .exec(&*work)
            .await?;
        }
        let changes = swept
            .iter()
            .filter_map(|a| {
                let before = befores.remove(&a.id)?;
                let after = ActivityOut {
                    status: a.status.clone(),
                    updated_at: a.updated_at,
                    version: a.version,
                    ..before.clone()
                };
                Some((a.id, before, after, audiences.remove(&a.id)?))
            })
            .collect();
        work.updated_all("activity", changes).await?;
        work.commit().await?;
        total += swept.len() as u64;
        if n < SWEEP_BATCH {
            return Ok(total);
        }
        tokio::time::sleep(SWEEP_PAUSE).await;
    }
}
