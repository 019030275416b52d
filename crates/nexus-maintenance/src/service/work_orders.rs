//! Business rules of work orders: gap-free numbers, allowed status transitions, checklist
//! gates on completion, who may assign, cancel or record whose time; every change audited
//! in its transaction and announced after commit to whoever may read work orders.

use std::str::FromStr;

use nexus_content::model::{AttachmentOut, Upload};
use nexus_content::{attach, store_upload};
use nexus_core::audit::{AuditCtx, AuditEntry};
use nexus_core::db::stmt;
use nexus_core::domain::Attachable;
use nexus_core::events::Event;
use nexus_core::extract::IfMatch;
use nexus_core::paging::{COUNT_CAP, count_of, page_of};
use nexus_core::validate::{Validator, clean};
use nexus_core::write::{Work, delete_versioned, find_current, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, CurrentUser, ListResponse, PageParams, Timestamp};
use nexus_identity::entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::{must_exist, readers};
use crate::entity::{asset, checklist_item, comment, labor, location, stock_movement, work_order};
use crate::model::*;

pub(crate) fn work_order_out(w: work_order::Model) -> WorkOrderOut {
    WorkOrderOut {
        id: w.id,
        number: w.number,
        title: w.title,
        description: w.description,
        asset_id: w.asset_id,
        location_id: w.location_id,
        work_order_type: w.work_order_type,
        priority: w.priority,
        status: w.status,
        assigned_to_id: w.assigned_to_id,
        created_by: w.created_by,
        updated_by: w.updated_by,
        due_date: w.due_date,
        estimated_minutes: w.estimated_minutes,
        actual_minutes: w.actual_minutes,
        started_at: w.started_at,
        completed_at: w.completed_at,
        parent_work_order_id: w.parent_work_order_id,
        pm_schedule_id: w.pm_schedule_id,
        dedupe_key: w.dedupe_key,
        created_at: w.created_at,
        updated_at: w.updated_at,
        version: w.version,
        archived_at: None,
    }
}

/// An archived work order: its row as it was, and when it moved to the archive.
#[derive(FromQueryResult)]
pub(crate) struct Archived {
    #[sea_orm(nested)]
    order: work_order::Model,
    archived_at: Timestamp,
}

/// An archived work order as the API shows one.
fn archived_out(w: Archived) -> WorkOrderOut {
    WorkOrderOut {
        archived_at: Some(w.archived_at),
        ..work_order_out(w.order)
    }
}

pub(crate) fn checklist_item_out(c: checklist_item::Model) -> ChecklistItemOut {
    ChecklistItemOut {
        id: c.id,
        work_order_id: c.work_order_id,
        sequence: c.sequence,
        kind: c.kind,
        task: c.task,
        required: c.required,
        min_value: c.min_value,
        max_value: c.max_value,
        unit: c.unit,
        create_follow_up: c.create_follow_up,
        is_completed: c.is_completed,
        checked: c.checked,
        number_value: c.number_value,
        text_value: c.text_value,
        passed: c.passed,
        notes: c.notes,
        completed_by: c.completed_by,
        completed_at: c.completed_at,
        follow_up_work_order_id: c.follow_up_work_order_id,
        updated_at: c.updated_at,
        version: c.version,
    }
}

/// The live work order `id`, to change it: 404 when there is none, 409 when it was
/// archived (it can be read, not changed).
pub(crate) async fn find_work_order(
    conn: &impl ConnectionTrait,
    id: i64,
) -> ApiResult<work_order::Model> {
    match work_order::Entity::find_by_id(id).one(conn).await? {
        Some(w) => Ok(w),
        None => Err(absent(conn, id).await),
    }
}

/// Why live work order `id` is not there: 409 naming it when it was archived, else 404.
async fn absent(conn: &impl ConnectionTrait, id: i64) -> ApiError {
    match archived_work_order(conn, id).await {
        Ok(Some(w)) => ApiError::conflict(format!(
            "work order {} was archived on {} and can no longer be changed",
            w.order.number,
            w.archived_at.display()
        )),
        Ok(None) => ApiError::not_found("work order"),
        Err(e) => e,
    }
}

/// The archived work order `id`, if it is one.
pub(crate) async fn archived_work_order(
    conn: &impl ConnectionTrait,
    id: i64,
) -> ApiResult<Option<Archived>> {
    Ok(archived_by(conn, work_order::Entity::find_by_id(id))
        .await?
        .pop())
}

/// The archived work orders `query` (written over `work_orders`) picks.
async fn archived_by(
    conn: &impl ConnectionTrait,
    query: sea_orm::Select<work_order::Entity>,
) -> ApiResult<Vec<Archived>> {
    let query = query.expr_as(Expr::col("archived_at"), "archived_at");
    Ok(Archived::find_by_statement(on_archive(conn, &query))
        .all(conn)
        .await?)
}

/// [`find_current`] for work orders: an archived one is 409, as in [`find_work_order`].
async fn current_work_order(
    conn: &impl ConnectionTrait,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<work_order::Model> {
    match find_current::<work_order::Entity, _>(conn, id, if_match, "work order").await {
        Err(ApiError::NotFound(_)) => Err(absent(conn, id).await),
        found => found,
    }
}

/// Whether work order `id` is archived (`true`) or live (`false`); 404 when it is neither:
/// how the readers of its labor, comments, parts and history find it.
pub(crate) async fn locate_work_order(conn: &impl ConnectionTrait, id: i64) -> ApiResult<bool> {
    if work_order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    match archived_work_order(conn, id).await? {
        Some(_) => Ok(true),
        None => Err(ApiError::not_found("work order")),
    }
}

/// The checklist of a work order, in sequence.
pub async fn checklist(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
) -> ApiResult<Vec<ChecklistItemOut>> {
    Ok(checklist_item::Entity::find()
        .filter(checklist_item::Column::WorkOrderId.eq(work_order_id))
        .order_by_asc(checklist_item::Column::Sequence)
        .all(conn)
        .await?
        .into_iter()
        .map(checklist_item_out)
        .collect())
}

/// The rows of entity `E` (whose table `table` is) kept for archived work order
/// `work_order_id` in `<table>_archive`, which has the same columns. `table` and `order`
/// are constants of this crate.
async fn archived_rows<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    table: &str,
    work_order_id: i64,
    order: &str,
) -> ApiResult<Vec<E::Model>> {
    let sql = format!("SELECT * FROM {table}_archive WHERE work_order_id = $1 ORDER BY {order}");
    Ok(E::find()
        .from_raw_sql(stmt(
            conn.get_database_backend(),
            &sql,
            vec![work_order_id.into()],
        ))
        .all(conn)
        .await?)
}

/// One page of `rows`, sorted by the key `page` asks for among `sorts` (`default` when
/// none): the lists of an archived work order's labor and comments, which are short and
/// read whole.
fn page_in_memory<T, K: Ord>(
    mut rows: Vec<T>,
    page: &PageParams,
    sorts: &[&str],
    default: (&str, bool),
    key: impl Fn(&T, &str) -> K,
) -> ApiResult<ListResponse<T>> {
    let (sort, desc) = page.sort(sorts, default)?;
    rows.sort_by(|a, b| {
        let order = key(a, sort).cmp(&key(b, sort));
        if desc { order.reverse() } else { order }
    });
    let total = rows.len() as u64;
    let items = rows
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Ok(ListResponse::page(items, total, page))
}

const READ: &str = "work_orders:read";
const MANAGE: &str = "work_orders:manage";

/// Queues `work_order.<action>` carrying `data` (the work order, or a part of it such as a
/// checklist step, labor or a comment); the event's id is the work order's.
fn announce<T: serde::Serialize>(work: &mut Work<'_>, action: &str, id: i64, data: &T) {
    work.emit(Event::new(
        "work_order",
        action,
        id,
        to_json(data),
        readers(READ),
    ));
}

#[derive(FromQueryResult)]
struct Counter {
    last_number: i64,
}

/// Takes the next work order number in the caller's transaction: the counter row stays
/// locked until commit, and a rollback returns the number, so numbers have no gaps.
async fn next_number(conn: &impl ConnectionTrait) -> ApiResult<String> {
    let row = Counter::find_by_statement(stmt(
        conn.get_database_backend(),
        "UPDATE work_order_counter SET last_number = last_number + 1 WHERE id = 1 \
         RETURNING last_number",
        vec![],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| ApiError::internal("work_order_counter has no row"))?;
    Ok(format!("WO-{:06}", row.last_number))
}

/// 422 on `field` unless `id` is an active user.
async fn must_be_active_user(
    conn: &impl ConnectionTrait,
    id: Option<i64>,
    field: &str,
) -> ApiResult<()> {
    if let Some(id) = id {
        match user::Entity::find_by_id(id).one(conn).await? {
            Some(u) if u.is_active => {}
            _ => {
                return Err(ApiError::invalid(
                    field,
                    format!("no active user has id {id}"),
                ));
            }
        }
    }
    Ok(())
}

/// 422 naming the field when a referenced location, parent or assignee does not exist.
async fn check_references(conn: &impl ConnectionTrait, d: &NewWorkOrder) -> ApiResult<()> {
    must_exist::<asset::Entity>(conn, d.asset_id, "asset_id", "asset").await?;
    must_exist::<location::Entity>(conn, d.location_id, "location_id", "location").await?;
    must_exist::<work_order::Entity>(
        conn,
        d.parent_work_order_id,
        "parent_work_order_id",
        "work order",
    )
    .await?;
    must_be_active_user(conn, d.assigned_to_id, "assigned_to_id").await
}

/// 409 when an open work order already holds `key`.
async fn refuse_open_duplicate(conn: &impl ConnectionTrait, key: Option<&str>) -> ApiResult<()> {
    let Some(key) = key else { return Ok(()) };
    if let Some(open) = work_order::Entity::find()
        .filter(work_order::Column::DedupeKey.eq(key))
        .filter(work_order::Column::Status.is_in(OPEN_STATUSES))
        .one(conn)
        .await?
    {
        return Err(ApiError::conflict_on(
            "dedupe_key",
            format!("work order {} is already open for this key", open.number),
        ));
    }
    Ok(())
}

/// Opens a work order with its checklist inside the caller's unit of work: audited with
/// its checklist, `work_order.created` (and `work_order.assigned` when it has an
/// assignee) after commit. The asset's location is taken when no location is given.
///
/// Errors: 422 naming the field for invalid input or unknown asset, location, assignee or
/// parent; 409 when an open work order holds the same `dedupe_key`, before anything is
/// written (callers such as the preventive scheduler treat that as "already open").
pub async fn open_work_order(work: &mut Work<'_>, new: NewWorkOrder) -> ApiResult<WorkOrderOut> {
    let detail = insert_work_order(&**work, work.ctx(), new).await?;
    let out = detail.work_order.clone();
    work.audit("create", "work_order", out.id, None, Some(&detail))
        .await?;
    announce(work, "created", out.id, &out);
    if out.assigned_to_id.is_some() {
        announce(work, "assigned", out.id, &out);
    }
    Ok(out)
}

/// Creates a work order for a signed-in user (the API and the pages): giving it to
/// someone else needs `work_orders:manage` (403); anyone may take it themselves.
pub async fn raise_work_order(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    new: NewWorkOrder,
) -> ApiResult<WorkOrderDetail> {
    if new.assigned_to_id.is_some_and(|a| a != user.id()) && !user.can(MANAGE) {
        return Err(ApiError::Forbidden(
            "assigning a work order to someone else needs work_orders:manage".into(),
        ));
    }
    let mut work = Work::begin(state, ctx).await?;
    let out = open_work_order(&mut work, new).await?;
    let detail = get_work_order(&*work, out.id).await?;
    work.commit().await?;
    Ok(detail)
}

/// Validates and inserts a work order with its checklist; [`open_work_order`] records it.
async fn insert_work_order(
    conn: &impl ConnectionTrait,
    ctx: &AuditCtx,
    new: NewWorkOrder,
) -> ApiResult<WorkOrderDetail> {
    let mut d = new.validate()?;
    if let Some(asset_id) = d.asset_id {
        let a = asset::Entity::find_by_id(asset_id)
            .one(conn)
            .await?
            .ok_or_else(|| ApiError::invalid("asset_id", format!("no asset has id {asset_id}")))?;
        d.location_id = d.location_id.or(a.location_id);
    }
    check_references(conn, &d).await?;
    refuse_open_duplicate(conn, d.dedupe_key.as_deref()).await?;

    let now = Timestamp::now();
    let row = work_order::ActiveModel {
        number: Set(next_number(conn).await?),
        title: Set(d.title),
        description: Set(d.description),
        asset_id: Set(d.asset_id),
        location_id: Set(d.location_id),
        work_order_type: Set(d.work_order_type.unwrap_or_default()),
        priority: Set(d.priority.unwrap_or_default()),
        status: Set("open".into()),
        assigned_to_id: Set(d.assigned_to_id),
        created_by: Set(ctx.actor_id),
        updated_by: Set(ctx.actor_id),
        due_date: Set(d.due_date.map(|d| d.format("%Y-%m-%d").to_string())),
        estimated_minutes: Set(d.estimated_minutes.map(|m| m as i32)),
        actual_minutes: Set(None),
        started_at: Set(None),
        completed_at: Set(None),
        parent_work_order_id: Set(d.parent_work_order_id),
        pm_schedule_id: Set(d.pm_schedule_id),
        dedupe_key: Set(d.dedupe_key),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut steps = Vec::with_capacity(d.checklist.len());
    for (i, item) in d.checklist.into_iter().enumerate() {
        steps.push(insert_step(conn, row.id, i as i32 + 1, item, now).await?);
    }
    Ok(WorkOrderDetail {
        work_order: work_order_out(row),
        checklist: steps,
    })
}

/// Stores checked step `item` of a work order at place `sequence`, not done yet.
async fn insert_step(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
    sequence: i32,
    item: ChecklistItemData,
    now: Timestamp,
) -> ApiResult<ChecklistItemOut> {
    let step = checklist_item::ActiveModel {
        work_order_id: Set(work_order_id),
        sequence: Set(sequence),
        kind: Set(item.kind.unwrap_or_default()),
        task: Set(item.task),
        required: Set(item.required),
        min_value: Set(item.min_value),
        max_value: Set(item.max_value),
        unit: Set(item.unit),
        create_follow_up: Set(item.create_follow_up),
        is_completed: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(checklist_item_out(step))
}

/// A work order with its checklist, live or archived (then `archived_at` is set).
pub async fn get_work_order(conn: &impl ConnectionTrait, id: i64) -> ApiResult<WorkOrderDetail> {
    if let Some(w) = work_order::Entity::find_by_id(id).one(conn).await? {
        return Ok(WorkOrderDetail {
            checklist: checklist(conn, id).await?,
            work_order: work_order_out(w),
        });
    }
    let w = archived_work_order(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("work order"))?;
    let steps =
        archived_rows::<checklist_item::Entity>(conn, "work_order_checklist_items", id, "sequence")
            .await?;
    Ok(WorkOrderDetail {
        checklist: steps.into_iter().map(checklist_item_out).collect(),
        work_order: archived_out(w),
    })
}

/// Work orders matching every given filter, sorted (newest first by default) and paged.
pub async fn list_work_orders(
    conn: &impl ConnectionTrait,
    f: &WorkOrderFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<WorkOrderOut>> {
    use work_order::Column as C;
    let (sort, desc) = page.sort(
        &[
            "id",
            "number",
            "title",
            "due_date",
            "status",
            "created_at",
            "updated_at",
            "criticality",
        ],
        ("id", true),
    )?;
    let mut cond = Condition::all();
    if let Some(s) = &f.status {
        cond = cond.add(C::Status.is_in(parse_multi("status", s, &WORK_ORDER_STATUSES)?));
    }
    if let Some(p) = &f.priority {
        cond = cond.add(C::Priority.is_in(parse_multi("priority", p, &WORK_ORDER_PRIORITIES)?));
    }
    if let Some(t) = &f.work_order_type {
        cond = cond.add(C::WorkOrderType.is_in(parse_multi("type", t, &WORK_ORDER_TYPES)?));
    }
    if let Some(a) = f.asset_id {
        cond = cond.add(C::AssetId.eq(a));
    }
    if let Some(l) = f.location_id {
        cond = cond.add(C::LocationId.eq(l));
    }
    if let Some(u) = f.assigned_to_id {
        cond = cond.add(C::AssignedToId.eq(u));
    }
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    if let Some(d) = f.due_from {
        cond = cond.add(C::DueDate.gte(day(d)));
    }
    if let Some(d) = f.due_to {
        cond = cond.add(C::DueDate.lte(day(d)));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = nexus_core::contains_pattern(q);
        cond = cond.add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(C::Title))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(C::Number))).like(pattern)),
        );
    }
    let order = if desc {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    let query = work_order::Entity::find().filter(cond);
    if f.archived == Some(true) {
        return list_archived(conn, query, sort, order, page).await;
    }
    // Counting every match of a broad filter reads a large part of the table; beyond
    // `COUNT_CAP` rows past the offset the count stops, which is still enough to page on.
    let (total, exact) = count_of(conn, query.clone(), page).await?;
    let backend = conn.get_database_backend();
    let keys = std::iter::once(sort)
        .chain((sort != "id").then_some("id"))
        .map(sort_key)
        .collect::<ApiResult<Vec<_>>>()?;
    let items = if exact {
        // Few matches (the count ran to its end): sort just their ids, which the covering
        // indexes hold, then read the page's rows. Ordering by an expression keeps either
        // planner from walking the primary key or the sort column's index instead, past
        // every row the filter rejects.
        let mut ids = query.clone().select_only().column(C::Id);
        for (_, wrapped) in &keys {
            ids = ids.order_by(wrapped.clone(), order.clone());
        }
        let ids: Vec<i64> = ids
            .limit(page.limit())
            .offset(page.offset())
            .into_tuple()
            .all(conn)
            .await?;
        let mut rows: std::collections::HashMap<i64, work_order::Model> =
            work_order::Entity::find()
                .filter(C::Id.is_in(ids.iter().copied()))
                .all(conn)
                .await?
                .into_iter()
                .map(|w| (w.id, w))
                .collect();
        ids.iter().filter_map(|id| rows.remove(id)).collect()
    } else {
        // Many matches: walking the sort order meets a page of them early.
        let mut sorted = query;
        for (plain, _) in keys {
            sorted = sorted.order_by(plain, order.clone());
        }
        let sorted = sorted.limit(page.limit()).offset(page.offset());
        if sort == "id" && backend == DbBackend::Sqlite {
            // SQLite's planner would rather sort a filter index's matches; the primary
            // key walk is forced, as it cannot tell how early the page fills.
            let mut st = sorted.build(backend);
            st.sql = st.sql.replacen(
                r#"FROM "work_orders""#,
                r#"FROM "work_orders" NOT INDEXED"#,
                1,
            );
            work_order::Entity::find()
                .from_raw_sql(st)
                .all(conn)
                .await?
        } else {
            sorted.all(conn).await?
        }
    };
    let items = items.into_iter().map(work_order_out).collect();
    Ok(ListResponse::counted(items, page, (total, exact)))
}

/// `query` (over `work_orders`) as built for `conn`, reading `work_orders_archive`, which
/// has the same columns and more.
fn on_archive<Q: QueryTrait>(conn: &impl ConnectionTrait, query: &Q) -> sea_orm::Statement {
    let mut st = query.build(conn.get_database_backend());
    st.sql = st
        .sql
        .replace(r#""work_orders""#, r#""work_orders_archive""#);
    st
}

/// [`list_work_orders`] over the archive: the same filters and sorts on the archived
/// orders, counted as far as the live list counts.
async fn list_archived(
    conn: &impl ConnectionTrait,
    query: sea_orm::Select<work_order::Entity>,
    sort: &str,
    order: sea_orm::Order,
    page: &PageParams,
) -> ApiResult<ListResponse<WorkOrderOut>> {
    let cap = page.offset() + page.limit() + COUNT_CAP;
    let limited = on_archive(
        conn,
        &query.clone().select_only().expr(Expr::cust("1")).limit(cap),
    );
    // Built already: its placeholders are the engine's own.
    let counted = sea_orm::Statement::from_sql_and_values(
        conn.get_database_backend(),
        format!("SELECT COUNT(*) AS id FROM ({}) capped", limited.sql),
        limited.values.map(|v| v.0).unwrap_or_default(),
    );
    let total = super::Node::find_by_statement(counted)
        .one(conn)
        .await?
        .map_or(0, |n| n.id as u64);
    let mut ids = query.select_only().column(work_order::Column::Id);
    for key in std::iter::once(sort).chain((sort != "id").then_some("id")) {
        ids = ids.order_by(sort_key(key)?.0, order.clone());
    }
    let ids: Vec<i64> = super::Node::find_by_statement(on_archive(
        conn,
        &ids.limit(page.limit()).offset(page.offset()),
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|n| n.id)
    .collect();
    let picked =
        work_order::Entity::find().filter(work_order::Column::Id.is_in(ids.iter().copied()));
    let mut rows: std::collections::HashMap<i64, Archived> = archived_by(conn, picked)
        .await?
        .into_iter()
        .map(|w| (w.order.id, w))
        .collect();
    let items = ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .map(archived_out)
        .collect();
    Ok(ListResponse::counted(items, page, (total, total < cap)))
}

/// The rank of a work order's asset's criticality: A 3, B 2, C 1, none (or no asset) 0,
/// so `-criticality` lists the most critical first.
const CRITICALITY_RANK: &str = r#"COALESCE((SELECT CASE "assets"."criticality" WHEN 'A' THEN 3 WHEN 'B' THEN 2 WHEN 'C' THEN 1 END FROM "assets" WHERE "assets"."id" = "work_orders"."asset_id"), 0)"#;

/// What the work order list orders by for sort key `name`: the column itself, and the
/// column in an expression no index serves (numbers and instants as numbers).
fn sort_key(name: &str) -> ApiResult<(Expr, Expr)> {
    if name == "criticality" {
        return Ok((Expr::cust(CRITICALITY_RANK), Expr::cust(CRITICALITY_RANK)));
    }
    let column = work_order::Column::from_str(name)
        .map_err(|_| ApiError::internal("unknown sort column"))?;
    let wrapped = if matches!(name, "id" | "created_at" | "updated_at") {
        format!("(\"{name}\" + 0)")
    } else {
        format!("(\"{name}\" || '')")
    };
    Ok((Expr::col(column), Expr::cust(wrapped)))
}

/// Total minutes of the finished labor entries of a work order.
async fn labor_minutes(conn: &impl ConnectionTrait, work_order_id: i64) -> ApiResult<i64> {
    let minutes: Vec<Option<i32>> = labor::Entity::find()
        .select_only()
        .column(labor::Column::Minutes)
        .filter(labor::Column::WorkOrderId.eq(work_order_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(minutes.into_iter().flatten().map(i64::from).sum())
}

/// Moves a work order to another status along the allowed transitions (see
/// [`StatusChange`]) for a signed-in user. Cancelling needs `work_orders:manage` (403).
/// Announced as `work_order.status_changed`, and `work_order.completed` on completion.
///
/// Errors: 404; 412 on a stale `if_match`; 409 for a transition that is not allowed
/// (naming from and to) or, when completing, naming the required checklist steps not yet
/// done.
pub async fn change_work_order_status(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    change: StatusChange,
) -> ApiResult<WorkOrderOut> {
    let change = change.validate()?;
    if change.status == "cancelled" && !user.can(MANAGE) {
        return Err(ApiError::Forbidden(
            "cancelling a work order needs work_orders:manage".into(),
        ));
    }
    let mut work = Work::begin(state, ctx).await?;
    let current = current_work_order(&*work, id, if_match).await?;
    let to = change.status.as_str();
    if !transition_allowed(&current.status, to) {
        return Err(ApiError::conflict_on(
            "status",
            format!("a work order cannot go from {} to {to}", current.status),
        ));
    }
    let now = Timestamp::now();
    let mut am: work_order::ActiveModel = current.clone().into();
    if to == "in_progress" && current.started_at.is_none() {
        am.started_at = Set(Some(now));
    }
    // Whoever starts an order nobody was given takes it.
    let taken = to == "in_progress" && current.assigned_to_id.is_none();
    if taken {
        am.assigned_to_id = Set(Some(user.id()));
    }
    if to == "completed" || to == "cancelled" {
        stop_all_labor(&mut work, id, now).await?;
    }
    let conn = &*work;
    if to == "completed" {
        let missing: Vec<String> = checklist_item::Entity::find()
            .filter(checklist_item::Column::WorkOrderId.eq(id))
            .filter(checklist_item::Column::Required.eq(true))
            .filter(checklist_item::Column::IsCompleted.eq(false))
            .order_by_asc(checklist_item::Column::Sequence)
            .all(conn)
            .await?
            .into_iter()
            .map(|c| format!("{}. {}", c.sequence, c.task))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::conflict_on(
                "status",
                format!(
                    "required checklist steps are not done: {}",
                    missing.join("; ")
                ),
            ));
        }
        let minutes = match change.actual_minutes {
            Some(m) => m,
            None => labor_minutes(conn, id).await?,
        };
        am.actual_minutes = Set(Some(Ord::min(minutes, i32::MAX as i64) as i32));
        am.completed_at = Set(Some(now));
    }
    am.status = Set(to.to_string());
    am.updated_at = Set(now);
    am.updated_by = Set(ctx.actor_id);
    let after = work_order_out(update_versioned(conn, am, current.version).await?);
    let before = work_order_out(current);
    work.record(
        "status_change",
        "status_changed",
        "work_order",
        id,
        Some(&before),
        Some(&after),
        readers(READ),
    )
    .await?;
    if taken {
        announce(&mut work, "assigned", id, &after);
    }
    if after.status == "completed" {
        announce(&mut work, "completed", id, &after);
        if let Some(asset) = after.asset_id {
            let day = now.local_day();
            super::set_last_maintenance(&mut work, asset, day).await?;
        }
    }
    work.commit().await?;
    Ok(after)
}

/// 409 unless the work order is still to be done (open, in progress or on hold).
fn must_be_open(w: &work_order::Model) -> ApiResult<()> {
    if OPEN_STATUSES.contains(&w.status.as_str()) {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "work order {} is {} and can no longer be changed",
            w.number, w.status
        )))
    }
}

fn as_new(w: &work_order::Model) -> NewWorkOrder {
    NewWorkOrder {
        title: w.title.clone(),
        description: w.description.clone(),
        asset_id: w.asset_id,
        location_id: w.location_id,
        work_order_type: Some(w.work_order_type.clone()),
        priority: Some(w.priority.clone()),
        assigned_to_id: w.assigned_to_id,
        due_date: w.due_date.as_deref().and_then(|d| d.parse().ok()),
        estimated_minutes: w.estimated_minutes.map(i64::from),
        parent_work_order_id: w.parent_work_order_id,
        pm_schedule_id: w.pm_schedule_id,
        dedupe_key: w.dedupe_key.clone(),
        checklist: Vec::new(),
    }
}

/// Changes the fields of an open work order for a signed-in user; without
/// `work_orders:manage` they may only take it or give it back (403 otherwise).
/// Announced as `work_order.updated`, and `work_order.assigned` when the assignee changed.
///
/// Errors: 404, 412 stale `if_match`, 409 when completed or cancelled, 422 naming the field.
pub async fn update_work_order(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    if_match: IfMatch,
    req: UpdateWorkOrder,
) -> ApiResult<WorkOrderOut> {
    let mut work = Work::begin(state, ctx).await?;
    let conn = &*work;
    let current = current_work_order(conn, id, if_match).await?;
    must_be_open(&current)?;
    let mut d = as_new(&current);
    req.apply(&mut d);
    let d = d.validate()?;
    if d.assigned_to_id != current.assigned_to_id && !user.can(MANAGE) {
        let own = |a: Option<i64>| a.is_none() || a == ctx.actor_id;
        if !own(d.assigned_to_id) || !own(current.assigned_to_id) {
            return Err(ApiError::Forbidden(
                "giving a work order to someone else needs work_orders:manage".into(),
            ));
        }
    }
    check_references(conn, &d).await?;
    let mut am: work_order::ActiveModel = current.clone().into();
    am.title = Set(d.title);
    am.description = Set(d.description);
    am.asset_id = Set(d.asset_id);
    am.location_id = Set(d.location_id);
    am.work_order_type = Set(d.work_order_type.unwrap_or_default());
    am.priority = Set(d.priority.unwrap_or_default());
    am.assigned_to_id = Set(d.assigned_to_id);
    am.due_date = Set(d.due_date.map(|d| d.format("%Y-%m-%d").to_string()));
    am.estimated_minutes = Set(d.estimated_minutes.map(|m| m as i32));
    am.updated_at = Set(Timestamp::now());
    am.updated_by = Set(ctx.actor_id);
    let after = work_order_out(update_versioned(conn, am, current.version).await?);
    let before = work_order_out(current);
    work.updated("work_order", id, &before, &after, readers(READ))
        .await?;
    if after.assigned_to_id != before.assigned_to_id {
        announce(&mut work, "assigned", id, &after);
    }
    work.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- checklist answers

/// Checks an answer against its step's kind; 422 naming the field. A reading outside the
/// step's limits is no error: it is what an inspection exists to record, and the step
/// fails (`passed: false`, set here) rather than the answer.
fn check_answer(item: &checklist_item::Model, a: &mut ChecklistAnswer) -> ApiResult<()> {
    let mut v = Validator::new();
    let kind = item.kind.as_str();
    let fields = [
        ("checked", a.checked.is_some(), "checkbox"),
        ("number_value", a.number_value.is_some(), "number"),
        ("text_value", a.text_value.is_some(), "text"),
        ("passed", a.passed.is_some(), "pass_fail"),
    ];
    for (field, given, for_kind) in fields {
        if given && for_kind != kind {
            v.add(field, format!("does not apply to a {kind} step"));
        }
        if !given && for_kind == kind {
            v.add(field, format!("is required to answer a {kind} step"));
        }
    }
    if let Some(n) = a.number_value {
        v.check(n.is_finite(), "number_value", "must be a finite number");
        if kind == "number" && (item.min_value.is_some() || item.max_value.is_some()) {
            let within =
                item.min_value.is_none_or(|lo| n >= lo) && item.max_value.is_none_or(|hi| n <= hi);
            a.passed = Some(within);
        }
    }
    if kind == "text" {
        let given = a.text_value.is_some();
        a.text_value = clean(a.text_value.take());
        if given && a.text_value.is_none() {
            v.add("text_value", "is required to answer a text step");
        }
        v.opt_text("text_value", a.text_value.as_deref(), 5000);
    }
    a.notes = clean(a.notes.take());
    v.opt_text("notes", a.notes.as_deref(), 5000);
    v.finish()
}

/// Records the answer to one checklist step of an open work order. A failed step (a
/// `pass_fail` step answered fail, a `number` step read outside its limits: stored, with
/// `passed: false`) with `create_follow_up` opens a corrective follow-up work order on the
/// same asset (`parent_work_order_id` set), unless the one it opened before is still open.
/// Announced as `work_order.checklist_answered` with the step.
///
/// Errors: 404 (work order or step), 412 stale `if_match` (the step's version), 409 when
/// the work order is closed, 422 naming the field (a field of another kind of step, a
/// blank text).
pub async fn answer_checklist_item(
    state: &AppState,
    ctx: &AuditCtx,
    work_order_id: i64,
    item_id: i64,
    if_match: IfMatch,
    mut answer: ChecklistAnswer,
) -> ApiResult<ChecklistAnswered> {
    let mut work = Work::begin(state, ctx).await?;
    let conn = &*work;
    let wo = find_work_order(conn, work_order_id).await?;
    let item = checklist_item::Entity::find_by_id(item_id)
        .filter(checklist_item::Column::WorkOrderId.eq(work_order_id))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("checklist step"))?;
    if_match.check(item.version)?;
    must_be_open(&wo)?;
    check_answer(&item, &mut answer)?;
    let done = answer.checked.unwrap_or(true);
    let now = Timestamp::now();
    let failed = answer.passed == Some(false);

    let mut follow_up = None;
    if failed && item.create_follow_up {
        let still_open = match item.follow_up_work_order_id {
            Some(f) => find_work_order(conn, f)
                .await
                .is_ok_and(|f| OPEN_STATUSES.contains(&f.status.as_str())),
            None => false,
        };
        if !still_open {
            let title: String = format!("Follow-up {}: {}", wo.number, item.task)
                .chars()
                .take(200)
                .collect();
            follow_up = Some(
                open_work_order(
                    &mut work,
                    NewWorkOrder {
                        title,
                        description: answer.notes.clone(),
                        asset_id: wo.asset_id,
                        location_id: wo.location_id,
                        work_order_type: Some("corrective".into()),
                        priority: Some(wo.priority.clone()),
                        parent_work_order_id: Some(wo.id),
                        dedupe_key: Some(format!("checklist-item:{item_id}")),
                        ..Default::default()
                    },
                )
                .await?,
            );
        }
    }

    let conn = &*work;
    let before = checklist_item_out(item.clone());
    let mut am: checklist_item::ActiveModel = item.clone().into();
    am.checked = Set(answer.checked);
    am.number_value = Set(answer.number_value);
    am.text_value = Set(answer.text_value);
    am.passed = Set(answer.passed);
    am.notes = Set(answer.notes);
    am.is_completed = Set(done);
    am.completed_by = Set(if done { ctx.actor_id } else { None });
    am.completed_at = Set(done.then_some(now));
    if let Some(f) = &follow_up {
        am.follow_up_work_order_id = Set(Some(f.id));
    }
    am.updated_at = Set(now);
    let after = checklist_item_out(update_versioned(conn, am, item.version).await?);
    work.audit(
        "answer",
        "work_order_checklist_item",
        item_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    announce(&mut work, "checklist_answered", work_order_id, &after);
    work.commit().await?;
    Ok(ChecklistAnswered {
        item: after,
        follow_up,
    })
}

// ---------------------------------------------------------------- labor

/// Whole minutes between two instants, to the nearest minute.
fn minutes_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.0 - from.0 + 30_000_000).div_euclid(60_000_000)
}

pub(crate) fn labor_out(l: labor::Model) -> LaborOut {
    LaborOut {
        id: l.id,
        work_order_id: l.work_order_id,
        user_id: l.user_id,
        started_at: l.started_at,
        ended_at: l.ended_at,
        minutes: l.minutes,
        hourly_rate_cents: l.hourly_rate_cents,
        cost_cents: l
            .minutes
            .zip(l.hourly_rate_cents)
            .map(|(m, r)| (i64::from(m) * r + 30) / 60),
        note: l.note,
        created_at: l.created_at,
        version: l.version,
    }
}

/// The labor of a work order, in the order it was worked by default.
pub async fn list_labor(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<LaborOut>> {
    let sorts = ["started_at", "ended_at", "minutes", "user_id", "id"];
    if locate_work_order(conn, work_order_id).await? {
        let rows =
            archived_rows::<labor::Entity>(conn, "work_order_labor", work_order_id, "id").await?;
        let list = page_in_memory(
            rows,
            page,
            &sorts,
            ("started_at", false),
            |l, key| match key {
                "ended_at" => (l.ended_at.map(|t| t.0), l.id),
                "minutes" => (l.minutes.map(i64::from), l.id),
                "user_id" => (Some(l.user_id), l.id),
                "id" => (Some(l.id), l.id),
                _ => (Some(l.started_at.0), l.id),
            },
        )?;
        return Ok(list.map(labor_out));
    }
    let query = labor::Entity::find().filter(labor::Column::WorkOrderId.eq(work_order_id));
    Ok(page_of(conn, query, page, &sorts, ("started_at", false))
        .await?
        .map(labor_out))
}

/// 409 when `user` already has time on the work order overlapping `from`..`to` (a
/// running timer reaches to now and beyond).
async fn refuse_overlap(
    conn: &impl ConnectionTrait,
    (work_order_id, user_id): (i64, i64),
    from: Timestamp,
    to: Option<Timestamp>,
    except: Option<i64>,
) -> ApiResult<()> {
    use labor::Column as L;
    let mut q = labor::Entity::find()
        .filter(L::WorkOrderId.eq(work_order_id))
        .filter(L::UserId.eq(user_id))
        .filter(L::Id.ne(except.unwrap_or(0)))
        .filter(
            Condition::any()
                .add(L::EndedAt.is_null())
                .add(L::EndedAt.gt(from)),
        );
    if let Some(to) = to {
        q = q.filter(L::StartedAt.lt(to));
    }
    if let Some(other) = q.one(conn).await? {
        let until = other
            .ended_at
            .map_or("now (timer running)".to_string(), |e| e.to_string());
        return Err(ApiError::conflict(format!(
            "overlaps the labor entry from {} to {until}",
            other.started_at
        )));
    }
    Ok(())
}

fn check_labor_texts(rate: Option<i64>, note: &mut Option<String>) -> ApiResult<()> {
    let mut v = Validator::new();
    check_rate(&mut v, rate);
    *note = clean(note.take());
    v.opt_text("note", note.as_deref(), 2000);
    v.finish()
}

/// Inserts a labor entry, audits it and announces `work_order.<event>`, then commits.
async fn insert_labor(
    mut work: Work<'_>,
    row: labor::ActiveModel,
    event: &str,
) -> ApiResult<LaborOut> {
    let out = labor_out(row.insert(&*work).await?);
    work.audit("create", "work_order_labor", out.id, None, Some(&out))
        .await?;
    announce(&mut work, event, out.work_order_id, &out);
    work.commit().await?;
    Ok(out)
}

/// Starts `user_id`'s timer on an open work order (`work_order.labor_started`). 409 when
/// their timer there already runs or the work order is closed.
pub async fn start_labor(
    state: &AppState,
    ctx: &AuditCtx,
    work_order_id: i64,
    user_id: i64,
    mut req: StartLabor,
) -> ApiResult<LaborOut> {
    check_labor_texts(req.hourly_rate_cents, &mut req.note)?;
    let work = Work::begin(state, ctx).await?;
    let wo = find_work_order(&*work, work_order_id).await?;
    must_be_open(&wo)?;
    let now = Timestamp::now();
    refuse_overlap(&*work, (work_order_id, user_id), now, None, None).await?;
    insert_labor(
        work,
        labor::ActiveModel {
            work_order_id: Set(work_order_id),
            user_id: Set(user_id),
            started_at: Set(now),
            hourly_rate_cents: Set(req.hourly_rate_cents),
            note: Set(req.note),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        },
        "labor_started",
    )
    .await
}

/// Stops a running timer, audited as `stop`.
async fn end_labor(
    work: &mut Work<'_>,
    running: labor::Model,
    now: Timestamp,
) -> ApiResult<LaborOut> {
    let before = labor_out(running.clone());
    let minutes = minutes_between(running.started_at, now).clamp(0, i32::MAX as i64) as i32;
    let mut am: labor::ActiveModel = running.clone().into();
    am.ended_at = Set(Some(now));
    am.minutes = Set(Some(minutes));
    am.updated_at = Set(now);
    let after = labor_out(update_versioned(&**work, am, running.version).await?);
    work.audit(
        "stop",
        "work_order_labor",
        after.id,
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Stops `user_id`'s running timer on a work order (`work_order.labor_stopped`); 409
/// when none runs.
pub async fn stop_labor(
    state: &AppState,
    ctx: &AuditCtx,
    work_order_id: i64,
    user_id: i64,
) -> ApiResult<LaborOut> {
    let mut work = Work::begin(state, ctx).await?;
    find_work_order(&*work, work_order_id).await?;
    let running = labor::Entity::find()
        .filter(labor::Column::WorkOrderId.eq(work_order_id))
        .filter(labor::Column::UserId.eq(user_id))
        .filter(labor::Column::EndedAt.is_null())
        .one(&*work)
        .await?
        .ok_or_else(|| ApiError::conflict("no timer of yours runs on this work order"))?;
    let out = end_labor(&mut work, running, Timestamp::now()).await?;
    announce(&mut work, "labor_stopped", work_order_id, &out);
    work.commit().await?;
    Ok(out)
}

/// Records time worked from `started_at` to `ended_at` (`work_order.labor_added`), the
/// signed-in user's unless `req.user_id` names another, which needs `work_orders:manage`.
/// Errors: 403; 404; 409 when closed or overlapping that person's other time on the work
/// order; 422 naming the field.
pub async fn add_labor(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    work_order_id: i64,
    mut req: NewLabor,
) -> ApiResult<LaborOut> {
    let user_id = req.user_id.unwrap_or(user.id());
    if user_id != user.id() && !user.can(MANAGE) {
        return Err(ApiError::Forbidden(
            "recording someone else's time needs work_orders:manage".into(),
        ));
    }
    check_labor_texts(req.hourly_rate_cents, &mut req.note)?;
    let now = Timestamp::now();
    let minutes = check_span(req.started_at, req.ended_at, now)?;
    let work = Work::begin(state, ctx).await?;
    let conn = &*work;
    let wo = find_work_order(conn, work_order_id).await?;
    must_be_open(&wo)?;
    must_be_active_user(conn, Some(user_id), "user_id").await?;
    refuse_overlap(
        conn,
        (work_order_id, user_id),
        req.started_at,
        Some(req.ended_at),
        None,
    )
    .await?;
    insert_labor(
        work,
        labor::ActiveModel {
            work_order_id: Set(work_order_id),
            user_id: Set(user_id),
            started_at: Set(req.started_at),
            ended_at: Set(Some(req.ended_at)),
            minutes: Set(Some(minutes as i32)),
            hourly_rate_cents: Set(req.hourly_rate_cents),
            note: Set(req.note),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        },
        "labor_added",
    )
    .await
}

/// Minutes from `from` to `to`; 422 on `ended_at` unless the span is forward, not in the
/// future and at most ten years.
fn check_span(from: Timestamp, to: Timestamp, now: Timestamp) -> ApiResult<i64> {
    let mut v = Validator::new();
    v.check(to > from, "ended_at", "must be after started_at");
    v.check(
        to <= now.plus_seconds(60),
        "ended_at",
        "must not be in the future; start a timer instead",
    );
    let minutes = minutes_between(from, to);
    v.check(
        minutes <= 5_256_000,
        "ended_at",
        "an entry can span at most ten years",
    );
    v.finish()?;
    Ok(minutes)
}

/// The finished labor entry `entry` of open work order `work_order_id`, at the version
/// `if_match` names, once `user` may change it (their own, or anyone's with
/// `work_orders:manage`).
async fn labor_to_change(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    (work_order_id, entry): (i64, i64),
    if_match: IfMatch,
) -> ApiResult<labor::Model> {
    let wo = find_work_order(conn, work_order_id).await?;
    let row = labor::Entity::find_by_id(entry)
        .filter(labor::Column::WorkOrderId.eq(work_order_id))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("labor entry"))?;
    if row.user_id != user.id() && !user.can(MANAGE) {
        return Err(ApiError::Forbidden(
            "changing someone else's time needs work_orders:manage".into(),
        ));
    }
    if_match.check(row.version)?;
    must_be_open(&wo)?;
    if row.ended_at.is_none() {
        return Err(ApiError::conflict("the timer still runs: stop it first"));
    }
    Ok(row)
}

/// Corrects a finished labor entry of an open work order (times, rate, note), its
/// minutes recomputed; 409 when it then overlaps the same person's other time.
pub async fn update_labor(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    at: (i64, i64),
    if_match: IfMatch,
    req: UpdateLabor,
) -> ApiResult<LaborOut> {
    let mut work = Work::begin(state, ctx).await?;
    let current = labor_to_change(&*work, user, at, if_match).await?;
    let started = req.started_at.unwrap_or(current.started_at);
    let ended = req.ended_at.or(current.ended_at).unwrap_or(started);
    let mut rate = req.hourly_rate_cents.unwrap_or(current.hourly_rate_cents);
    let mut note = req.note.unwrap_or(current.note.clone());
    check_labor_texts(rate, &mut note)?;
    let minutes = check_span(started, ended, Timestamp::now())?;
    refuse_overlap(
        &*work,
        (at.0, current.user_id),
        started,
        Some(ended),
        Some(current.id),
    )
    .await?;
    let before = labor_out(current.clone());
    let mut am: labor::ActiveModel = current.clone().into();
    am.started_at = Set(started);
    am.ended_at = Set(Some(ended));
    am.minutes = Set(Some(minutes as i32));
    am.hourly_rate_cents = Set(rate.take());
    am.note = Set(note);
    am.updated_at = Set(Timestamp::now());
    let after = labor_out(update_versioned(&*work, am, current.version).await?);
    work.audit(
        "update",
        "work_order_labor",
        after.id,
        Some(&before),
        Some(&after),
    )
    .await?;
    announce(&mut work, "labor_updated", at.0, &after);
    work.commit().await?;
    Ok(after)
}

/// Deletes a finished labor entry of an open work order (time booked by mistake).
pub async fn delete_labor(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    at: (i64, i64),
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let current = labor_to_change(&*work, user, at, if_match).await?;
    delete_versioned::<labor::Entity, _>(&*work, current.id, current.version).await?;
    let before = labor_out(current);
    work.audit("delete", "work_order_labor", before.id, Some(&before), None)
        .await?;
    announce(&mut work, "labor_deleted", at.0, &before);
    work.commit().await?;
    Ok(())
}

/// Stops every running timer of a work order being closed, so its labor total is final.
async fn stop_all_labor(work: &mut Work<'_>, work_order_id: i64, now: Timestamp) -> ApiResult<()> {
    for running in labor::Entity::find()
        .filter(labor::Column::WorkOrderId.eq(work_order_id))
        .filter(labor::Column::EndedAt.is_null())
        .all(&**work)
        .await?
    {
        end_labor(work, running, now).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- comments and history

fn comment_out(c: comment::Model) -> CommentOut {
    CommentOut {
        id: c.id,
        work_order_id: c.work_order_id,
        user_id: c.user_id,
        content: c.content,
        created_at: c.created_at,
    }
}

/// The comments of a work order, oldest first by default.
pub async fn list_comments(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<CommentOut>> {
    let sorts = ["created_at", "id"];
    if locate_work_order(conn, work_order_id).await? {
        let rows =
            archived_rows::<comment::Entity>(conn, "work_order_comments", work_order_id, "id")
                .await?;
        let list = page_in_memory(
            rows,
            page,
            &sorts,
            ("created_at", false),
            |c, key| match key {
                "id" => (c.id, c.id),
                _ => (c.created_at.0, c.id),
            },
        )?;
        return Ok(list.map(comment_out));
    }
    let query = comment::Entity::find().filter(comment::Column::WorkOrderId.eq(work_order_id));
    Ok(page_of(conn, query, page, &sorts, ("created_at", false))
        .await?
        .map(comment_out))
}

/// Adds a comment (also on closed work orders), `work_order.comment_added`, with a photo
/// when one is given: both or neither. Errors: 404; 422 on `content`; 403 when `user`
/// may not attach files to comments; the upload's own refusals on `photo`.
pub async fn add_comment(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    work_order_id: i64,
    req: NewComment,
    photo: Option<Upload>,
) -> ApiResult<CommentOut> {
    let req = req.validate()?;
    let photo = match photo {
        None => None,
        Some(upload) => {
            let kind = may_attach(user, "work_order_comment")?;
            find_work_order(state.db.read(), work_order_id).await?;
            Some((kind, store_upload(state, ctx, "photo", upload).await?))
        }
    };
    let mut work = Work::begin(state, ctx).await?;
    find_work_order(&*work, work_order_id).await?;
    let out = comment_out(
        comment::ActiveModel {
            work_order_id: Set(work_order_id),
            user_id: Set(ctx.actor_id),
            content: Set(req.content),
            created_at: Set(Timestamp::now()),
            ..Default::default()
        }
        .insert(&*work)
        .await?,
    );
    work.audit("create", "work_order_comment", out.id, None, Some(&out))
        .await?;
    announce(&mut work, "comment_added", work_order_id, &out);
    if let Some((kind, file)) = photo {
        attach(&mut work, kind, out.id, file.id).await?;
    }
    work.commit().await?;
    Ok(out)
}

/// Notes `content` as a comment of the system on the open work order opened under
/// `dedupe_key` (a schedule's or an alert rule's), when there is one: how a due service
/// that the open order now covers is recorded rather than lost.
pub async fn note_on_open(
    work: &mut Work<'_>,
    dedupe_key: &str,
    content: String,
) -> ApiResult<Option<CommentOut>> {
    let open = work_order::Entity::find()
        .filter(work_order::Column::DedupeKey.eq(dedupe_key))
        .filter(work_order::Column::Status.is_in(OPEN_STATUSES))
        .one(&**work)
        .await?;
    let Some(wo) = open else {
        return Ok(None);
    };
    let out = comment_out(
        comment::ActiveModel {
            work_order_id: Set(wo.id),
            user_id: Set(None),
            content: Set(content),
            created_at: Set(Timestamp::now()),
            ..Default::default()
        }
        .insert(&**work)
        .await?,
    );
    work.audit("create", "work_order_comment", out.id, None, Some(&out))
        .await?;
    announce(work, "comment_added", wo.id, &out);
    Ok(Some(out))
}

/// The record kind `entity_type` once `user` may attach files to it, as the attachments
/// API asks: `files:write` and the permission to change the record (403 otherwise).
pub fn may_attach(user: &CurrentUser, entity_type: &str) -> ApiResult<&'static Attachable> {
    let kind = crate::attachable(entity_type)?;
    user.require("files:write")?;
    user.require(kind.write)?;
    Ok(kind)
}

/// Adds a file (a photo, say) to a work order; 403 when `user` may not, 422 on `file`
/// when none was chosen.
pub async fn add_work_order_file(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
    id: i64,
    upload: Option<Upload>,
) -> ApiResult<AttachmentOut> {
    let kind = may_attach(user, "work_order")?;
    let upload = upload.ok_or_else(|| ApiError::invalid("file", "choose a photo to add"))?;
    find_work_order(state.db.read(), id).await?;
    let file = store_upload(state, ctx, "file", upload).await?;
    let mut work = Work::begin(state, ctx).await?;
    let out = attach(&mut work, kind, id, file.id).await?;
    work.commit().await?;
    Ok(out)
}

/// The ids of the rows of `E` whose `column` is `value`.
async fn ids_where<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    column: E::Column,
    value: i64,
) -> ApiResult<Vec<i64>> {
    let id = E::Column::from_str("id").map_err(|_| ApiError::internal("no id column"))?;
    Ok(E::find()
        .select_only()
        .column(id)
        .filter(column.eq(value))
        .into_tuple()
        .all(conn)
        .await?)
}

/// The ids of the rows of `<table>_archive` kept for archived work order `work_order_id`.
async fn archived_ids(
    conn: &impl ConnectionTrait,
    table: &str,
    work_order_id: i64,
) -> ApiResult<Vec<i64>> {
    let sql = format!("SELECT id FROM {table}_archive WHERE work_order_id = $1");
    let rows = super::Node::find_by_statement(stmt(
        conn.get_database_backend(),
        &sql,
        vec![work_order_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|n| n.id).collect())
}

/// Every audited change of a work order (live or archived), its checklist steps, labor,
/// comments and parts used, oldest first by default.
pub async fn work_order_history(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<AuditEntry>> {
    use nexus_core::audit::entity as a;
    let wo = work_order_id;
    let (items, labor_ids, comments) = if locate_work_order(conn, wo).await? {
        let ids = |table: &'static str| archived_ids(conn, table, wo);
        let (items, labor_ids, comments) = (
            ids("work_order_checklist_items"),
            ids("work_order_labor"),
            ids("work_order_comments"),
        );
        (items.await?, labor_ids.await?, comments.await?)
    } else {
        let items =
            ids_where::<checklist_item::Entity>(conn, checklist_item::Column::WorkOrderId, wo);
        let labor_ids = ids_where::<labor::Entity>(conn, labor::Column::WorkOrderId, wo);
        let comments = ids_where::<comment::Entity>(conn, comment::Column::WorkOrderId, wo);
        (items.await?, labor_ids.await?, comments.await?)
    };
    let parts_used =
        ids_where::<stock_movement::Entity>(conn, stock_movement::Column::WorkOrderId, wo).await?;
    let mut any = Condition::any().add(
        Condition::all()
            .add(a::Column::EntityType.eq("work_order"))
            .add(a::Column::EntityId.eq(work_order_id)),
    );
    for (entity, ids) in [
        ("work_order_checklist_item", items),
        ("work_order_labor", labor_ids),
        ("work_order_comment", comments),
        ("stock_movement", parts_used),
    ] {
        if !ids.is_empty() {
            any = any.add(
                Condition::all()
                    .add(a::Column::EntityType.eq(entity))
                    .add(a::Column::EntityId.is_in(ids)),
            );
        }
    }
    let query = a::Entity::find().filter(any);
    Ok(page_of(conn, query, page, &["id"], ("id", false))
        .await?
        .map(AuditEntry::from))
}

// ---------------------------------------------------------------- dispatch

/// Someone a work order can be given to, as people know them.
#[derive(Debug, Clone)]
pub struct Assignee {
    pub id: i64,
    /// `First Last (username)`, or the username alone.
    pub name: String,
}

/// Every active user whose role may work on work orders (`work_orders:write`, through
/// the permission itself, `work_orders:*` or `*`), by name: whom a manager can dispatch
/// work to.
pub async fn assignable_users(conn: &impl ConnectionTrait) -> ApiResult<Vec<Assignee>> {
    use nexus_identity::entity::{permission, role_permission};
    let perms: Vec<i64> = permission::Entity::find()
        .select_only()
        .column(permission::Column::Id)
        .filter(permission::Column::Name.is_in(["work_orders:write", "work_orders:*", "*"]))
        .into_tuple()
        .all(conn)
        .await?;
    let roles: Vec<i64> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::RoleId)
        .filter(role_permission::Column::PermissionId.is_in(perms))
        .into_tuple()
        .all(conn)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::RoleId.is_in(roles))
        .all(conn)
        .await?;
    let mut out: Vec<Assignee> = users.iter().map(assignee).collect();
    out.sort_by_key(|a| (a.name.to_lowercase(), a.id));
    Ok(out)
}

/// A user as an [`Assignee`].
pub fn assignee(u: &user::Model) -> Assignee {
    let full = nexus_identity::model::full_name(u.first_name.as_deref(), u.last_name.as_deref());
    Assignee {
        id: u.id,
        name: match full {
            Some(full) => format!("{full} ({})", u.username),
            None => u.username.clone(),
        },
    }
}

/// Work orders completed at or after `since`, the latest first, at most `limit`, with
/// how many there are.
pub async fn recent_completions(
    conn: &impl ConnectionTrait,
    since: Timestamp,
    limit: u64,
) -> ApiResult<(Vec<WorkOrderOut>, u64)> {
    use sea_orm::PaginatorTrait;
    let query = work_order::Entity::find()
        .filter(work_order::Column::Status.eq("completed"))
        .filter(work_order::Column::CompletedAt.gte(since));
    let total = query.clone().count(conn).await?;
    let items = query
        .order_by_desc(work_order::Column::CompletedAt)
        .order_by_desc(work_order::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok((items.into_iter().map(work_order_out).collect(), total))
}

/// Adds steps after the last one of a work order that is still to be done. Audited per
/// step, announced as `work_order.checklist_added` with the new steps.
///
/// Errors: 404; 409 when completed or cancelled; 422 naming `checklist[i].field`.
pub async fn add_checklist_steps(
    state: &AppState,
    ctx: &AuditCtx,
    work_order_id: i64,
    mut steps: Vec<ChecklistItemData>,
) -> ApiResult<Vec<ChecklistItemOut>> {
    let mut v = Validator::new();
    v.check(!steps.is_empty(), "checklist", "give at least one step");
    v.check(steps.len() <= 200, "checklist", "at most 200 steps");
    for (i, step) in steps.iter_mut().enumerate() {
        step.check(&mut v, i);
    }
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let wo = find_work_order(&*work, work_order_id).await?;
    must_be_open(&wo)?;
    let last = checklist_item::Entity::find()
        .filter(checklist_item::Column::WorkOrderId.eq(work_order_id))
        .order_by_desc(checklist_item::Column::Sequence)
        .one(&*work)
        .await?
        .map_or(0, |c| c.sequence);
    if last as usize + steps.len() > 200 {
        return Err(ApiError::invalid("checklist", "at most 200 steps"));
    }
    let now = Timestamp::now();
    let mut added = Vec::with_capacity(steps.len());
    for (i, item) in steps.into_iter().enumerate() {
        let out = insert_step(&*work, work_order_id, last + i as i32 + 1, item, now).await?;
        work.audit(
            "create",
            "work_order_checklist_item",
            out.id,
            None,
            Some(&out),
        )
        .await?;
        added.push(out);
    }
    announce(&mut work, "checklist_added", work_order_id, &added);
    work.commit().await?;
    Ok(added)
}
