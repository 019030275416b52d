//! Tasks of projects, their worklogs and dependencies. A task is seen by whoever sees its
//! project, and changed by the project's manager and team (or `projects:manage`). Its
//! actual minutes are the sum of its worklog, kept in the same transaction. A task that
//! moves later, or a new dependency, pushes the tasks that follow it and no longer fit
//! (see [`super::push_followers`]); each pushed task is audited and announced.

use std::collections::{HashMap, HashSet};

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::extract::IfMatch;
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, CurrentUser, ListResponse, PageParams, Timestamp};
use nexus_identity::service::usernames;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use super::{
    Link, check_tags, cycle_closed_by, date, find_visible_project, is_member, link_of, may_manage,
    may_work, must_be_active_user, parse_multi, project_audience, project_graph, push_followers,
    span_of, task_tags,
};
use crate::entity::{dependency, project, task, task_tag, worklog};
use crate::model::*;

/// Rows with their assignee's name and tags, in the same order.
pub async fn task_outs(
    conn: &impl ConnectionTrait,
    rows: Vec<task::Model>,
) -> ApiResult<Vec<TaskOut>> {
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let names = usernames(conn, rows.iter().map(|t| t.assignee_id)).await?;
    let mut tags = task_tags(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|t| TaskOut {
            assignee: t.assignee_id.and_then(|a| names.get(&a).cloned()),
            tags: tags.remove(&t.id).unwrap_or_default(),
            start_date: parse_date(&t.start_date),
            due_date: parse_date(&t.due_date),
            estimated_hours: hours(t.estimated_minutes),
            actual_hours: hours(t.actual_minutes),
            id: t.id,
            project_id: t.project_id,
            title: t.title,
            description: t.description,
            status: t.status,
            priority: t.priority,
            assignee_id: t.assignee_id,
            created_by_id: t.created_by_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        })
        .collect())
}

pub async fn task_out(conn: &impl ConnectionTrait, t: task::Model) -> ApiResult<TaskOut> {
    Ok(task_outs(conn, vec![t]).await?.remove(0))
}

/// Task `id` and its project if `user` may see the project; 404 otherwise.
pub async fn find_visible_task(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<(task::Model, project::Model)> {
    let t = task::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    let p = find_visible_project(conn, user, t.project_id)
        .await
        .map_err(|_| ApiError::not_found("task"))?;
    Ok((t, p))
}

/// The tasks of a project the user may see that match `f`, a page (by start by default).
pub async fn list_tasks(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    project_id: i64,
    f: &TaskFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<TaskOut>> {
    use task::Column as C;
    find_visible_project(conn, user, project_id).await?;
    let mut q = task::Entity::find().filter(C::ProjectId.eq(project_id));
    if let Some(s) = &f.status {
        q = q.filter(C::Status.is_in(parse_multi("status", s, &TASK_STATUSES)?));
    }
    if let Some(p) = &f.priority {
        q = q.filter(C::Priority.is_in(parse_multi("priority", p, &PRIORITIES)?));
    }
    if let Some(a) = f.assignee_id {
        q = q.filter(C::AssigneeId.eq(a));
    }
    if let Some(tag) = f.tag_id {
        q = q.filter(super::through::<task_tag::Entity>(
            C::Id,
            task_tag::Column::TaskId,
            task_tag::Column::TagId,
            tag,
        ));
    }
    if let Some(d) = f.due_from {
        q = q.filter(C::DueDate.gte(format_date(d)));
    }
    if let Some(d) = f.due_to {
        q = q.filter(C::DueDate.lte(format_date(d)));
    }
    let rows = nexus_core::paging::page_of(
        conn,
        q,
        page,
        &[
            "start_date",
            "due_date",
            "title",
            "status",
            "priority",
            "created_at",
            "updated_at",
            "id",
        ],
        ("start_date", false),
    )
    .await?;
    rows.map_page(|items| task_outs(conn, items)).await
}

/// A task; 404 unless `user` may see its project.
pub async fn get_task(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<TaskOut> {
    let (t, _) = find_visible_task(conn, user, id).await?;
    task_out(conn, t).await
}

/// 422 on `assignee_id` unless `id` is an active user on the team of `p` or its manager.
async fn check_assignee(conn: &impl ConnectionTrait, p: &project::Model, id: i64) -> ApiResult<()> {
    must_be_active_user(conn, id, "assignee_id").await?;
    if id == p.manager_id || is_member(conn, p.id, id).await? {
        return Ok(());
    }
    Err(ApiError::invalid(
        "assignee_id",
        "is not on the project's team",
    ))
}

async fn set_task_tags(conn: &impl ConnectionTrait, id: i64, tags: &[i64]) -> ApiResult<()> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.eq(id))
        .exec(conn)
        .await?;
    if !tags.is_empty() {
        task_tag::Entity::insert_many(tags.iter().map(|&t| task_tag::ActiveModel {
            task_id: Set(id),
            tag_id: Set(t),
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Adds a task to a project. Errors: 404 project not visible, 403 not on its team, 422
/// naming the field (an assignee not on the team among them).
pub async fn create_task(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    project_id: i64,
    new: NewTask,
) -> ApiResult<TaskOut> {
    let (f, tags) = new.fields()?;
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, project_id).await?;
    may_work(&*work, user, &p).await?;
    if let Some(a) = f.assignee_id {
        check_assignee(&*work, &p, a).await?;
    }
    check_tags(&*work, &tags, "tag_ids").await?;
    let now = Timestamp::now();
    let row = task::ActiveModel {
        project_id: Set(project_id),
        title: Set(f.title),
        description: Set(f.description),
        status: Set(f.status),
        priority: Set(f.priority),
        assignee_id: Set(f.assignee_id),
        start_date: Set(format_date(f.start_date)),
        due_date: Set(format_date(f.due_date)),
        estimated_minutes: Set(minutes(f.estimated_hours)),
        actual_minutes: Set(0),
        created_by_id: Set(Some(user.id())),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    set_task_tags(&*work, row.id, &tags).await?;
    let out = task_out(&*work, row).await?;
    let audience = project_audience(&*work, &p).await?;
    work.created("task", out.id, &out, audience).await?;
    work.commit().await?;
    Ok(out)
}

fn fields_of_task(t: &task::Model) -> TaskFields {
    TaskFields {
        title: t.title.clone(),
        description: t.description.clone(),
        status: t.status.clone(),
        priority: t.priority.clone(),
        assignee_id: t.assignee_id,
        start_date: parse_date(&t.start_date),
        due_date: parse_date(&t.due_date),
        estimated_hours: hours(t.estimated_minutes),
    }
}

/// Changes a task; when its dates change, the tasks following it that no longer fit are
/// pushed later (answered in `moved`). Errors: 404 (also not visible), 403 not on the
/// team, 412 stale, 422 naming the field.
pub async fn update_task(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    mut req: UpdateTask,
) -> ApiResult<TaskChanged> {
    let mut work = Work::begin(state, ctx).await?;
    let (_, p) = find_visible_task(&*work, user, id).await?;
    may_work(&*work, user, &p).await?;
    let current = find_current::<task::Entity, _>(&*work, id, if_match, "task").await?;
    let mut f = fields_of_task(&current);
    let estimate_asked = req.estimated_hours.is_some();
    req.apply(&mut f)?;
    if f.assignee_id != current.assignee_id
        && let Some(a) = f.assignee_id
    {
        check_assignee(&*work, &p, a).await?;
    }
    if let Some(tags) = &req.tag_ids {
        check_tags(&*work, tags, "tag_ids").await?;
    }
    let before = task_out(&*work, current.clone()).await?;
    let (start, due) = (format_date(f.start_date), format_date(f.due_date));
    let moved_dates = start != current.start_date || due != current.due_date;
    let mut am: task::ActiveModel = current.clone().into();
    am.title = Set(f.title);
    am.description = Set(f.description);
    am.status = Set(f.status);
    am.priority = Set(f.priority);
    am.assignee_id = Set(f.assignee_id);
    am.start_date = Set(start);
    am.due_date = Set(due);
    if estimate_asked {
        am.estimated_minutes = Set(minutes(f.estimated_hours));
    }
    am.updated_at = Set(Timestamp::now());
    let after = update_versioned(&*work, am, current.version).await?;
    if let Some(tags) = &req.tag_ids {
        set_task_tags(&*work, id, tags).await?;
    }
    let out = task_out(&*work, after).await?;
    let mut audience = project_audience(&*work, &p).await?;
    if let nexus_core::events::Audience::Involved { users, .. } = &mut audience {
        users.extend(current.assignee_id);
    }
    work.updated("task", id, &before, &out, audience).await?;
    let moved = if moved_dates {
        let (tasks, deps) = project_graph(&*work, p.id).await?;
        let links: Vec<Link> = deps.iter().map(link_of).collect();
        move_followers(&mut work, &p, id, tasks, &links).await?
    } else {
        Vec::new()
    };
    work.commit().await?;
    Ok(TaskChanged { task: out, moved })
}

/// Pushes later the tasks of `p` (all of them in `tasks`, with every dependency in
/// `links`) following `seed` that no longer satisfy a dependency, each versioned, audited
/// and announced as `task.updated`.
async fn move_followers(
    work: &mut Work<'_>,
    p: &project::Model,
    seed: i64,
    tasks: Vec<task::Model>,
    links: &[Link],
) -> ApiResult<Vec<MovedTask>> {
    let spans: Vec<_> = tasks.iter().map(span_of).collect();
    let fixed: HashSet<i64> = tasks
        .iter()
        .filter(|t| CLOSED_TASK.contains(&t.status.as_str()))
        .map(|t| t.id)
        .collect();
    let pushed = push_followers(&spans, links, &[seed], &fixed);
    if pushed.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_id: HashMap<i64, task::Model> = tasks.into_iter().map(|t| (t.id, t)).collect();
    let audience = project_audience(&**work, p).await?;
    let now = Timestamp::now();
    let (mut befores, mut afters) = (Vec::new(), Vec::new());
    for s in pushed {
        let Some(current) = by_id.remove(&s.id) else {
            continue;
        };
        let mut am: task::ActiveModel = current.clone().into();
        am.start_date = Set(format_date(date(s.start)));
        am.due_date = Set(format_date(date(s.due)));
        am.updated_at = Set(now);
        afters.push(update_versioned(&**work, am, current.version).await?);
        befores.push(current);
    }
    // Names and tags of every moved task in two pairs of queries, not per task.
    let befores = task_outs(&**work, befores).await?;
    let afters = task_outs(&**work, afters).await?;
    let mut moved = Vec::with_capacity(afters.len());
    for (before, out) in befores.into_iter().zip(afters) {
        moved.push(MovedTask {
            id: out.id,
            title: out.title.clone(),
            start_date: out.start_date,
            due_date: out.due_date,
        });
        work.updated("task", out.id, &before, &out, audience.clone())
            .await?;
    }
    Ok(moved)
}

/// Deletes a task with its worklog and dependencies. Errors: 404, 403, 412.
pub async fn delete_task(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let (_, p) = find_visible_task(&*work, user, id).await?;
    may_work(&*work, user, &p).await?;
    let current = find_current::<task::Entity, _>(&*work, id, if_match, "task").await?;
    let before = task_out(&*work, current.clone()).await?;
    let mut audience = project_audience(&*work, &p).await?;
    if let nexus_core::events::Audience::Involved { users, .. } = &mut audience {
        users.extend(current.assignee_id);
    }
    delete_versioned::<task::Entity, _>(&*work, id, current.version).await?;
    work.deleted("task", id, &before, audience).await?;
    work.commit().await
}

// ---------------------------------------------------------------- worklogs

fn worklog_out(w: worklog::Model, names: &HashMap<i64, String>) -> WorklogOut {
    WorklogOut {
        username: names.get(&w.user_id).cloned().unwrap_or_default(),
        worked_on: parse_date(&w.worked_on),
        hours: hours(w.minutes),
        id: w.id,
        task_id: w.task_id,
        user_id: w.user_id,
        note: w.note,
        created_by_id: w.created_by_id,
        created_at: w.created_at,
    }
}

/// The worklog of a task the user may see, newest day first (a page).
pub async fn list_worklogs(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    task_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<WorklogOut>> {
    find_visible_task(conn, user, task_id).await?;
    let q = worklog::Entity::find().filter(worklog::Column::TaskId.eq(task_id));
    let rows = nexus_core::paging::page_of(
        conn,
        q,
        page,
        &["worked_on", "minutes", "created_at", "id"],
        ("worked_on", true),
    )
    .await?;
    let names = usernames(conn, rows.items.iter().map(|w| Some(w.user_id))).await?;
    Ok(rows.map(|w| worklog_out(w, &names)))
}

#[derive(FromQueryResult)]
struct Total {
    total: i64,
}

/// Sets the task's actual minutes to the sum of its worklog, versioned and audited.
async fn sync_actual(work: &mut Work<'_>, p: &project::Model, task_id: i64) -> ApiResult<()> {
    let sql = "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS total \
               FROM task_worklogs WHERE task_id = $1";
    let backend = work.get_database_backend();
    let total = Total::find_by_statement(stmt(backend, sql, vec![task_id.into()]))
        .one(&**work)
        .await?
        .map_or(0, |t| t.total);
    let current = task::Entity::find_by_id(task_id)
        .one(&**work)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    if current.actual_minutes == total {
        return Ok(());
    }
    let mut am: task::ActiveModel = current.clone().into();
    am.actual_minutes = Set(total);
    am.updated_at = Set(Timestamp::now());
    let after = update_versioned(&**work, am, current.version).await?;
    let mut outs = task_outs(&**work, vec![current, after]).await?;
    let out = outs.pop().unwrap_or_else(|| unreachable!());
    let before = outs.pop().unwrap_or_else(|| unreachable!());
    let audience = project_audience(&**work, p).await?;
    work.updated("task", task_id, &before, &out, audience).await
}

/// Logs time on a task, by yourself or (for the project's manager) by someone else; the
/// task's actual hours follow. Errors: 404, 403 not on the team or logging for another,
/// 422 naming the field.
pub async fn add_worklog(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    task_id: i64,
    new: NewWorklog,
) -> ApiResult<WorklogOut> {
    let d = new.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let (_, p) = find_visible_task(&*work, user, task_id).await?;
    may_work(&*work, user, &p).await?;
    let who = d.user_id.unwrap_or(user.id());
    if who != user.id() {
        may_manage(user, &p).map_err(|_| {
            ApiError::Forbidden(
                "only the project's manager or projects:manage may log time for someone else"
                    .into(),
            )
        })?;
        must_be_active_user(&*work, who, "user_id").await?;
    }
    let row = worklog::ActiveModel {
        task_id: Set(task_id),
        user_id: Set(who),
        worked_on: Set(format_date(d.worked_on.unwrap_or_default())),
        minutes: Set(minutes(d.hours)),
        note: Set(d.note.unwrap_or_default()),
        created_by_id: Set(Some(user.id())),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let names = usernames(&*work, [Some(who)]).await?;
    let out = worklog_out(row, &names);
    let audience = project_audience(&*work, &p).await?;
    work.created("worklog", out.id, &out, audience).await?;
    sync_actual(&mut work, &p, task_id).await?;
    work.commit().await?;
    Ok(out)
}

/// Deletes a worklog entry: your own, or any of the project for its manager. The task's
/// actual hours follow. Errors: 404, 403.
pub async fn delete_worklog(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    task_id: i64,
    worklog_id: i64,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let (_, p) = find_visible_task(&*work, user, task_id).await?;
    let w = worklog::Entity::find_by_id(worklog_id)
        .filter(worklog::Column::TaskId.eq(task_id))
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("worklog"))?;
    if w.user_id != user.id() && w.created_by_id != Some(user.id()) {
        may_manage(user, &p)?;
    } else {
        may_work(&*work, user, &p).await?;
    }
    let names = usernames(&*work, [Some(w.user_id)]).await?;
    let before = worklog_out(w, &names);
    worklog::Entity::delete_by_id(worklog_id)
        .exec(&*work)
        .await?;
    let audience = project_audience(&*work, &p).await?;
    work.deleted("worklog", worklog_id, &before, audience)
        .await?;
    sync_actual(&mut work, &p, task_id).await?;
    work.commit().await
}

#[derive(FromQueryResult)]
struct PersonTotal {
    user_id: i64,
    total: i64,
}

/// Estimated against logged hours of a project: per task, per person (the estimates of
/// the tasks assigned to them, the hours they logged) and in all. Cancelled tasks'
/// estimates do not count.
pub async fn project_hours(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<HoursReport> {
    find_visible_project(conn, user, id).await?;
    let tasks = task::Entity::find()
        .filter(task::Column::ProjectId.eq(id))
        .order_by_asc(task::Column::StartDate)
        .order_by_asc(task::Column::Id)
        .all(conn)
        .await?;
    let sql = "SELECT w.user_id AS user_id, CAST(COALESCE(SUM(w.minutes), 0) AS BIGINT) AS total \
               FROM task_worklogs w JOIN tasks t ON t.id = w.task_id \
               WHERE t.project_id = $1 GROUP BY w.user_id";
    let logged =
        PersonTotal::find_by_statement(stmt(conn.get_database_backend(), sql, vec![id.into()]))
            .all(conn)
            .await?;
    let counts = |t: &task::Model| t.status != "cancelled";
    let mut people: HashMap<i64, (i64, i64)> = HashMap::new();
    for t in tasks.iter().filter(|t| counts(t)) {
        if let Some(a) = t.assignee_id {
            people.entry(a).or_default().0 += t.estimated_minutes;
        }
    }
    for l in &logged {
        people.entry(l.user_id).or_default().1 += l.total;
    }
    let names = usernames(conn, people.keys().map(|&k| Some(k))).await?;
    let mut people: Vec<PersonHours> = people
        .into_iter()
        .map(|(user_id, (est, act))| PersonHours {
            user_id,
            username: names.get(&user_id).cloned().unwrap_or_default(),
            estimated_hours: hours(est),
            actual_hours: hours(act),
        })
        .collect();
    people.sort_by(|a, b| a.username.cmp(&b.username).then(a.user_id.cmp(&b.user_id)));
    let estimated: i64 = tasks
        .iter()
        .filter(|t| counts(t))
        .map(|t| t.estimated_minutes)
        .sum();
    let actual: i64 = tasks.iter().map(|t| t.actual_minutes).sum();
    Ok(HoursReport {
        project_id: id,
        estimated_hours: hours(estimated),
        actual_hours: hours(actual),
        variance_hours: hours(actual - estimated),
        tasks: tasks
            .into_iter()
            .map(|t| TaskHours {
                task_id: t.id,
                estimated_hours: hours(t.estimated_minutes),
                actual_hours: hours(t.actual_minutes),
                variance_hours: hours(t.actual_minutes - t.estimated_minutes),
                title: t.title,
                status: t.status,
            })
            .collect(),
        people,
    })
}

// ---------------------------------------------------------------- dependencies

fn dependency_out(d: dependency::Model, titles: &HashMap<i64, String>) -> DependencyOut {
    let title = |id: i64| titles.get(&id).cloned().unwrap_or_default();
    DependencyOut {
        predecessor: title(d.predecessor_id),
        successor: title(d.successor_id),
        id: d.id,
        project_id: d.project_id,
        predecessor_id: d.predecessor_id,
        successor_id: d.successor_id,
        kind: d.kind,
        lag_days: d.lag_days,
        created_by_id: d.created_by_id,
        created_at: d.created_at,
    }
}

/// Every dependency of a project the user may see, with the tasks' titles.
pub async fn list_dependencies(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<ListResponse<DependencyOut>> {
    find_visible_project(conn, user, id).await?;
    let (tasks, deps) = project_graph(conn, id).await?;
    let titles: HashMap<i64, String> = tasks.into_iter().map(|t| (t.id, t.title)).collect();
    Ok(ListResponse::all(
        deps.into_iter()
            .map(|d| dependency_out(d, &titles))
            .collect(),
    ))
}

#[derive(FromQueryResult)]
struct Pair {
    predecessor_id: i64,
    successor_id: i64,
}

/// Whether task `to` follows task `from` through any chain of the project's dependencies.
/// The project's pairs (two integers each, a few thousand at most) are read once and
/// searched in memory, stopping at the first path: a recursive query costs PostgreSQL an
/// index probe per reached task, tens of milliseconds when an early task reaches most.
async fn reaches(
    conn: &impl ConnectionTrait,
    project_id: i64,
    from: i64,
    to: i64,
) -> ApiResult<bool> {
    let pairs = dependency::Entity::find()
        .select_only()
        .column(dependency::Column::PredecessorId)
        .column(dependency::Column::SuccessorId)
        .filter(dependency::Column::ProjectId.eq(project_id))
        .into_model::<Pair>()
        .all(conn)
        .await?;
    let mut next: HashMap<i64, Vec<i64>> = HashMap::new();
    for p in &pairs {
        next.entry(p.predecessor_id)
            .or_default()
            .push(p.successor_id);
    }
    let mut seen = HashSet::from([from]);
    let mut queue = vec![from];
    while let Some(id) = queue.pop() {
        for &n in next.get(&id).into_iter().flatten() {
            if n == to {
                return Ok(true);
            }
            if seen.insert(n) {
                queue.push(n);
            }
        }
    }
    Ok(false)
}

/// Makes one task of a project follow another; the tasks that then no longer fit are
/// pushed later (answered in `moved`). Errors: 404, 403 not on the team, 422 (a task of
/// another project, itself, a cycle, named in words), 409 the pair is related already.
pub async fn add_dependency(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    project_id: i64,
    new: NewDependency,
) -> ApiResult<DependencyCreated> {
    let d = new.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, project_id).await?;
    may_work(&*work, user, &p).await?;
    let (pred, succ) = (d.predecessor_id, d.successor_id);
    let pair = task::Entity::find()
        .filter(task::Column::Id.is_in([pred, succ]))
        .filter(task::Column::ProjectId.eq(project_id))
        .all(&*work)
        .await?;
    let titles: HashMap<i64, String> = pair.iter().map(|t| (t.id, t.title.clone())).collect();
    for (field, id) in [("predecessor_id", pred), ("successor_id", succ)] {
        if !titles.contains_key(&id) {
            return Err(ApiError::invalid(
                field,
                format!("no task of this project has id {id}"),
            ));
        }
    }
    let related = dependency::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(dependency::Column::PredecessorId.eq(pred))
                        .add(dependency::Column::SuccessorId.eq(succ)),
                )
                .add(
                    Condition::all()
                        .add(dependency::Column::PredecessorId.eq(succ))
                        .add(dependency::Column::SuccessorId.eq(pred)),
                ),
        )
        .one(&*work)
        .await?;
    if related.is_some() {
        return Err(ApiError::conflict_on(
            "successor_id",
            "these two tasks are related already",
        ));
    }
    // The cycle check reads only the project's pairs; a refusal reads the whole graph, to
    // name the cycle.
    if reaches(&*work, project_id, succ, pred).await? {
        let (tasks, deps) = project_graph(&*work, project_id).await?;
        let titles: HashMap<i64, String> = tasks.iter().map(|t| (t.id, t.title.clone())).collect();
        let links: Vec<Link> = deps.iter().map(link_of).collect();
        let cycle = cycle_closed_by(&links, pred, succ).unwrap_or_else(|| vec![succ, pred, succ]);
        let named: Vec<String> = cycle
            .iter()
            .map(|id| format!("{} (#{id})", titles.get(id).map_or("", String::as_str)))
            .collect();
        return Err(ApiError::invalid(
            "successor_id",
            format!("would close the cycle {}", named.join(" → ")),
        ));
    }
    let row = dependency::ActiveModel {
        project_id: Set(project_id),
        predecessor_id: Set(pred),
        successor_id: Set(succ),
        kind: Set(d.kind.unwrap_or_default()),
        lag_days: Set(d.lag_days.unwrap_or(0)),
        created_by_id: Set(Some(user.id())),
        created_at: Set(Timestamp::now()),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let link = link_of(&row);
    let out = dependency_out(row, &titles);
    let audience = project_audience(&*work, &p).await?;
    work.created("task_dependency", out.id, &out, audience)
        .await?;
    // Only when the successor no longer fits does the rest of the graph matter.
    let spans: Vec<_> = pair.iter().map(span_of).collect();
    let fixed: HashSet<i64> = pair
        .iter()
        .filter(|t| CLOSED_TASK.contains(&t.status.as_str()))
        .map(|t| t.id)
        .collect();
    let moved = if push_followers(&spans, std::slice::from_ref(&link), &[pred], &fixed).is_empty() {
        Vec::new()
    } else {
        let (tasks, deps) = project_graph(&*work, project_id).await?;
        let links: Vec<Link> = deps.iter().map(link_of).collect();
        move_followers(&mut work, &p, pred, tasks, &links).await?
    };
    work.commit().await?;
    Ok(DependencyCreated {
        dependency: out,
        moved,
    })
}

/// Removes a dependency; no task moves. Errors: 404, 403 not on the team.
pub async fn delete_dependency(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    project_id: i64,
    dependency_id: i64,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let p = find_visible_project(&*work, user, project_id).await?;
    may_work(&*work, user, &p).await?;
    let row = dependency::Entity::find_by_id(dependency_id)
        .filter(dependency::Column::ProjectId.eq(project_id))
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::not_found("dependency"))?;
    let titles: HashMap<i64, String> = task::Entity::find()
        .filter(task::Column::Id.is_in([row.predecessor_id, row.successor_id]))
        .all(&*work)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    let before = dependency_out(row, &titles);
    dependency::Entity::delete_by_id(dependency_id)
        .exec(&*work)
        .await?;
    let audience = project_audience(&*work, &p).await?;
    work.deleted("task_dependency", dependency_id, &before, audience)
        .await?;
    work.commit().await
}
