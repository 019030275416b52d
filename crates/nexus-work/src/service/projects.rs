//! Projects with their team, budget and costs. A user sees the projects they manage or
//! are on the team of (every one with `projects:read_all`); any other is 404 to them.
//! Changing a project, its team or its costs is for its manager or `projects:manage`.
//! Completion and hours are computed from the tasks, never typed in.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::Audience;
use nexus_core::extract::IfMatch;
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{
    ApiError, ApiResult, AppState, CurrentUser, ListResponse, PageParams, Timestamp,
    contains_pattern,
};
use nexus_identity::service::usernames;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder,
};

use super::{must_be_active_user, parse_multi};
use crate::entity::{project, project_cost, project_member, task};
use crate::model::*;

/// The projects `user` may see: all with `projects:read_all` (or `projects:manage`),
/// else those they manage or are on the team of.
pub fn visible_projects(user: &CurrentUser) -> Option<Condition> {
    if user.can(PROJECTS_READ_ALL) || user.can(PROJECTS_MANAGE) {
        return None;
    }
    let me = user.id();
    Some(
        Condition::any()
            .add(project::Column::ManagerId.eq(me))
            .add(super::through::<project_member::Entity>(
                project::Column::Id,
                project_member::Column::ProjectId,
                project_member::Column::UserId,
                me,
            )),
    )
}

/// The project `id` if `user` may see it; 404 otherwise, as if it did not exist.
pub async fn find_visible_project(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<project::Model> {
    let mut q = project::Entity::find_by_id(id);
    if let Some(mine) = visible_projects(user) {
        q = q.filter(mine);
    }
    q.one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("project"))
}

/// 403 unless `user` manages `p` or may change any project.
pub fn may_manage(user: &CurrentUser, p: &project::Model) -> ApiResult<()> {
    if p.manager_id == user.id() || user.can(PROJECTS_MANAGE) {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only the project's manager or projects:manage may change the project".into(),
    ))
}

/// Whether `user_id` is on the team of project `id`.
pub async fn is_member(conn: &impl ConnectionTrait, id: i64, user_id: i64) -> ApiResult<bool> {
    Ok(project_member::Entity::find_by_id((id, user_id))
        .one(conn)
        .await?
        .is_some())
}

/// 403 unless `user` manages `p`, is on its team, or may change any project: who may
/// work on its tasks.
pub async fn may_work(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    p: &project::Model,
) -> ApiResult<()> {
    if p.manager_id == user.id()
        || user.can(PROJECTS_MANAGE)
        || is_member(conn, p.id, user.id()).await?
    {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only the project's manager and team may work on its tasks".into(),
    ))
}

/// Who hears of a change to project `p` or its tasks: its manager and team, and whoever
/// sees every project.
pub async fn project_audience(
    conn: &impl ConnectionTrait,
    p: &project::Model,
) -> ApiResult<Audience> {
    let mut users: Vec<i64> = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(p.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    users.push(p.manager_id);
    users.sort_unstable();
    users.dedup();
    Ok(Audience::Involved {
        users,
        permission: PROJECTS_READ_ALL.into(),
    })
}

#[derive(FromQueryResult)]
struct TaskSums {
    project_id: i64,
    estimated: i64,
    done_estimated: i64,
    actual: i64,
    open_count: i64,
    done_count: i64,
}

#[derive(FromQueryResult)]
struct CostSum {
    project_id: i64,
    total: i64,
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `done / of` as a percentage to the tenth; 0 when `of` is 0.
fn percent(done: i64, of: i64) -> f64 {
    if of <= 0 {
        return 0.0;
    }
    (done as f64 * 1000.0 / of as f64).round() / 10.0
}

/// Rows with their manager, team, costs, hours and completion, in the same order: a few
/// queries for the whole page.
pub async fn project_outs(
    conn: &impl ConnectionTrait,
    rows: Vec<project::Model>,
) -> ApiResult<Vec<ProjectOut>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let members = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.is_in(ids.iter().copied()))
        .order_by_asc(project_member::Column::AddedAt)
        .order_by_asc(project_member::Column::UserId)
        .all(conn)
        .await?;
    let names = usernames(
        conn,
        rows.iter()
            .map(|p| Some(p.manager_id))
            .chain(members.iter().map(|m| Some(m.user_id))),
    )
    .await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let mut teams: HashMap<i64, Vec<TeamMember>> = HashMap::new();
    for m in &members {
        teams.entry(m.project_id).or_default().push(TeamMember {
            user_id: m.user_id,
            username: name(m.user_id),
        });
    }
    let backend = conn.get_database_backend();
    let list = id_list(&ids);
    let sql = format!(
        "SELECT project_id, \
           CAST(COALESCE(SUM(CASE WHEN status <> 'cancelled' THEN estimated_minutes ELSE 0 END), 0) AS BIGINT) AS estimated, \
           CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN estimated_minutes ELSE 0 END), 0) AS BIGINT) AS done_estimated, \
           CAST(COALESCE(SUM(actual_minutes), 0) AS BIGINT) AS actual, \
           CAST(COALESCE(SUM(CASE WHEN status <> 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open_count, \
           CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done_count \
         FROM tasks WHERE project_id IN ({list}) GROUP BY project_id"
    );
    let sums: HashMap<i64, TaskSums> = TaskSums::find_by_statement(stmt(backend, &sql, vec![]))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.project_id, s))
        .collect();
    let sql = format!(
        "SELECT project_id, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total \
         FROM project_costs WHERE project_id IN ({list}) GROUP BY project_id"
    );
    let costs: HashMap<i64, i64> = CostSum::find_by_statement(stmt(backend, &sql, vec![]))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.project_id, c.total))
        .collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            let cost = costs.get(&p.id).copied().unwrap_or(0);
            let (estimated, actual, completion) = match sums.get(&p.id) {
                Some(s) if s.estimated > 0 => (
                    s.estimated,
                    s.actual,
                    percent(s.done_estimated, s.estimated),
                ),
                Some(s) => (s.estimated, s.actual, percent(s.done_count, s.open_count)),
                None => (0, 0, 0.0),
            };
            ProjectOut {
                manager: name(p.manager_id),
                team: teams.remove(&p.id).unwrap_or_default(),
                cost_minor: cost,
                budget_remaining_minor: p.budget_minor.saturating_sub(cost),
                estimated_hours: hours(estimated),
                actual_hours: hours(actual),
                completion_percent: completion,
                id: p.id,
                name: p.name,
                description: p.description,
                status: p.status,
                priority: p.priority,
                start_date: parse_date(&p.start_date),
                end_date: parse_date(&p.end_date),
                manager_id: p.manager_id,
                budget_minor: p.budget_minor,
                created_at: p.created_at,
                updated_at: p.updated_at,
                version: p.version,
            }
        })
        .collect())
}

pub async fn project_out(conn: &impl ConnectionTrait, p: project::Model) -> ApiResult<ProjectOut> {
    Ok(project_outs(conn, vec![p]).await?.remove(0))
}

/// The projects `user` may see that match `f`, a page of them (`name` first by default).
pub async fn list_projects(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    f: &ProjectFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<ProjectOut>> {
    use project::Column as C;
    let mut q = project::Entity::find();
    if let Some(mine) = visible_projects(user) {
        q = q.filter(mine);
    }
    if let Some(s) = &f.status {
        q = q.filter(C::Status.is_in(parse_multi("status", s, &PROJECT_STATUSES)?));
    }
    if let Some(p) = &f.priority {
        q = q.filter(C::Priority.is_in(parse_multi("priority", p, &PRIORITIES)?));
    }
    if let Some(m) = f.manager_id {
        q = q.filter(C::ManagerId.eq(m));
    }
    if let Some(m) = f.member_id {
        q = q.filter(super::through::<project_member::Entity>(
            C::Id,
            project_member::Column::ProjectId,
            project_member::Column::UserId,
            m,
        ));
    }
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(Expr::expr(Func::lower(Expr::col(C::Name))).like(contains_pattern(s)));
    }
    let rows = nexus_core::paging::page_of(
        conn,
        q,
        page,
        &[
            "name",
            "status",
            "priority",
            "start_date",
            "end_date",
            "budget_minor",
            "created_at",
            "updated_at",
            "id",
        ],
        ("name", false),
    )
    .await?;
    rows.map_page(|items| project_outs(conn, items)).await
}

/// A project; 404 unless `user` may see it.
pub async fn get_project(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<ProjectOut> {
    let p = find_visible_project(conn, user, id).await?;
    project_out(conn, p).await
}

/// Creates a project managed by `user` unless `manager_id` names another active user.
/// Errors: 422 naming the field.
pub async fn create_project(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    new: NewProject,
) -> ApiResult<ProjectOut> {
    let f = new.fields(user.id())?;
    let mut work = Work::begin(state, ctx).await?;
    must_be_active_user(&*work, f.manager_id, "manager_id").await?;
    let now = Timestamp::now();
    let row = project::ActiveModel {
        name: Set(f.name),
        description: Set(f.description),
        status: Set(f.status),
        priority: Set(f.priority),
        start_date: Set(format_date(f.start_date)),
        end_date: Set(format_date(f.end_date)),
        manager_id: Set(f.manager_id),
        budget_minor: Set(f.budget_minor),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let audience = project_audience(&*work, &row).await?;
    let out = project_out(&*work, row).await?;
    work.created("project", out.id, &out, audience).await?;
    work.commit().await?;
    Ok(out)
}

fn fields_of_project(p: &project::Model) -> ProjectFields {
    ProjectFields {
        name: p.name.clone(),
        description: p.description.clone(),
        status: p.status.clone(),
        priority: p.priority.clone(),
        start_date: parse_date(&p.start_date),
        end_date: parse_date(&p.end_date),
        manager_id: p.manager_id,
        budget_minor: p.budget_minor,
    }
}

/// Changes a project. Errors: 404 (also when not visible), 403 not its manager, 412
/// stale, 422 naming the field.
pub async fn update_project(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    req: UpdateProject,
) -> ApiResult<ProjectOut> {
    let mut work = Work::begin(state, ctx).await?;
    find_visible_project(&*work, user, id).await?;
    let current = find_current::<project::Entity, _>(&*work, id, if_match, "project").await?;
    may_manage(user, &current)?;
    let mut f = fields_of_project(&current);
    req.apply(&mut f)?;
    if f.manager_id != current.manager_id {
        must_be_active_user(&*work, f.manager_id, "manager_id").await?;
    }
    let before = project_out(&*work, current.clone()).await?;
    let mut am: project::ActiveModel = current.clone().into();
    am.name = Set(f.name);
    am.description = Set(f.description);
    am.status = Set(f.status);
    am.priority = Set(f.priority);
    am.start_date = Set(format_date(f.start_date));
    am.end_date = Set(format_date(f.end_date));
    am.manager_id = Set(f.manager_id);
    am.budget_minor = Set(f.budget_minor);
    am.updated_at = Set(Timestamp::now());
    let after = update_versioned(&*work, am, current.version).await?;
    let mut audience = project_audience(&*work, &after).await?;
    if let Audience::Involved { users, .. } = &mut audience {
        // A manager replaced hears that it left them.
        users.push(current.manager_id);
    }
    let out = project_out(&*work, after).await?;
    work.updated("project", id, &before, &out, audience).await?;
    work.commit().await?;
    Ok(out)
}

/// Deletes a project with its team, costs, tasks, dependencies and worklogs. Errors: 404,
/// 403 not its manager, 412 stale.
pub async fn delete_project(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    find_visible_project(&*work, user, id).await?;
    let current = find_current::<project::Entity, _>(&*work, id, if_match, "project").await?;
    may_manage(user, &current)?;
    let audience = project_audience(&*work, &current).await?;
    let before = project_out(&*work, current.clone()).await?;
    delete_versioned::<project::Entity, _>(&*work, id, current.version).await?;
    work.deleted("project", id, &before, audience).await?;
    work.commit().await
}

// ---------------------------------------------------------------- team

/// The team of a project the user may see, by when they joined.
pub async fn project_team(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<ListResponse<TeamMember>> {
    let p = find_visible_project(conn, user, id).await?;
    Ok(ListResponse::all(project_out(conn, p).await?.team))
}

/// Puts an active user on the team. Errors: 404, 403 not its manager, 422 not an active
/// user, 409 already on it. Answers the team.
pub async fn add_member(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    req: NewMember,
) -> ApiResult<ListResponse<TeamMember>> {
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, id).await?;
    may_manage(user, &p)?;
    must_be_active_user(&*work, req.user_id, "user_id").await?;
    if is_member(&*work, id, req.user_id).await? {
        return Err(ApiError::conflict_on(
            "user_id",
            "is already on the project's team",
        ));
    }
    let before = project_out(&*work, p.clone()).await?;
    project_member::ActiveModel {
        project_id: Set(id),
        user_id: Set(req.user_id),
        added_at: Set(Timestamp::now()),
    }
    .insert(&*work)
    .await?;
    let after = project_out(&*work, p.clone()).await?;
    let audience = project_audience(&*work, &p).await?;
    work.record(
        "add_member",
        "updated",
        "project",
        id,
        Some(&before),
        Some(&after),
        audience,
    )
    .await?;
    work.commit().await?;
    Ok(ListResponse::all(after.team))
}

/// Takes a user off the team. Errors: 404 (also not on it), 403 not its manager, 409
/// while open tasks of the project are assigned to them (named).
pub async fn remove_member(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    user_id: i64,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, id).await?;
    may_manage(user, &p)?;
    if !is_member(&*work, id, user_id).await? {
        return Err(ApiError::not_found("team member"));
    }
    let open = task::Entity::find()
        .filter(task::Column::ProjectId.eq(id))
        .filter(task::Column::AssigneeId.eq(user_id))
        .filter(task::Column::Status.is_not_in(CLOSED_TASK))
        .order_by_asc(task::Column::Id)
        .all(&*work)
        .await?;
    if !open.is_empty() && user_id != p.manager_id {
        let names: Vec<String> = open
            .iter()
            .map(|t| format!("{} (#{})", t.title, t.id))
            .collect();
        return Err(ApiError::conflict_on(
            "user_id",
            format!(
                "is still assigned to open tasks: {}; reassign them first",
                names.join(", ")
            ),
        ));
    }
    let before = project_out(&*work, p.clone()).await?;
    let audience = project_audience(&*work, &p).await?;
    project_member::Entity::delete_by_id((id, user_id))
        .exec(&*work)
        .await?;
    let after = project_out(&*work, p).await?;
    work.record(
        "remove_member",
        "updated",
        "project",
        id,
        Some(&before),
        Some(&after),
        audience,
    )
    .await?;
    work.commit().await
}

// ---------------------------------------------------------------- costs

fn cost_out(c: project_cost::Model, names: &HashMap<i64, String>) -> CostOut {
    CostOut {
        booked_by: c.booked_by_id.and_then(|i| names.get(&i).cloned()),
        id: c.id,
        project_id: c.project_id,
        amount_minor: c.amount_minor,
        description: c.description,
        booked_on: parse_date(&c.booked_on),
        booked_by_id: c.booked_by_id,
        created_at: c.created_at,
    }
}

/// The costs booked on a project the user may see, newest first (a page).
pub async fn list_costs(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<CostOut>> {
    find_visible_project(conn, user, id).await?;
    let q = project_cost::Entity::find().filter(project_cost::Column::ProjectId.eq(id));
    let rows = nexus_core::paging::page_of(
        conn,
        q,
        page,
        &["booked_on", "amount_minor", "created_at", "id"],
        ("booked_on", true),
    )
    .await?;
    let names = usernames(conn, rows.items.iter().map(|c| c.booked_by_id)).await?;
    Ok(rows.map(|c| cost_out(c, &names)))
}

/// Books a cost against a project's budget. Errors: 404, 403 not its manager, 422.
pub async fn add_cost(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    new: NewCost,
) -> ApiResult<CostOut> {
    let d = new.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, id).await?;
    may_manage(user, &p)?;
    let row = project_cost::ActiveModel {
        project_id: Set(id),
        amount_minor: Set(d.amount_minor),
        description: Set(d.description),
        booked_on: Set(format_date(d.booked_on.unwrap_or_default())),
        booked_by_id: Set(Some(user.id())),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let names = usernames(&*work, [row.booked_by_id]).await?;
    let out = cost_out(row, &names);
    let audience = project_audience(&*work, &p).await?;
    work.created("project_cost", out.id, &out, audience).await?;
    work.commit().await?;
    Ok(out)
}
