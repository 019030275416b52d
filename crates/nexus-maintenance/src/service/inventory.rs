//! Business rules of parts and stock. The ledger is the only writer of stock: every
//! movement first locks its part's row (moving the part's total), so the movements of one
//! part run one at a time on either engine, never deadlock, and see exact low-stock
//! crossings; a location's stock is taken by one conditional `UPDATE`, so it never goes
//! below zero, also under concurrent requests.

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::Event;
use nexus_core::extract::IfMatch;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, delete_versioned, find_current, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::{must_exist, readers};

/// Parts, stock and the ledger are seen by whoever may read parts.
pub(super) const READ: &str = "parts:read";
use crate::entity::{location, part, stock_movement};
use crate::model::*;

// ---------------------------------------------------------------- parts

fn is_low(quantity: i64, reorder_point: Option<i64>) -> bool {
    reorder_point.is_some_and(|rp| quantity <= rp)
}

pub(super) fn part_out(p: part::Model) -> PartOut {
    PartOut {
        low_stock: is_low(p.quantity_in_stock, p.reorder_point),
        id: p.id,
        sku: p.sku,
        name: p.name,
        description: p.description,
        category: p.category,
        unit_cost_cents: p.unit_cost_cents,
        supplier: p.supplier,
        image_url: p.image_url,
        reorder_point: p.reorder_point,
        reorder_quantity: p.reorder_quantity,
        quantity_in_stock: p.quantity_in_stock,
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    }
}

pub(super) fn part_data(p: &part::Model) -> PartData {
    PartData {
        sku: p.sku.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        category: p.category.clone(),
        unit_cost_cents: Some(p.unit_cost_cents),
        supplier: p.supplier.clone(),
        image_url: p.image_url.clone(),
        reorder_point: p.reorder_point,
        reorder_quantity: p.reorder_quantity,
    }
}

pub(super) fn fill_part(am: &mut part::ActiveModel, d: PartData) {
    am.sku = Set(d.sku);
    am.name = Set(d.name);
    am.description = Set(d.description);
    am.category = Set(d.category);
    am.unit_cost_cents = Set(d.unit_cost_cents.unwrap_or(0));
    am.supplier = Set(d.supplier);
    am.image_url = Set(d.image_url);
    am.reorder_point = Set(d.reorder_point);
    am.reorder_quantity = Set(d.reorder_quantity);
}

pub(super) async fn find_part(conn: &impl ConnectionTrait, id: i64) -> ApiResult<part::Model> {
    part::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("part"))
}

fn sku_taken(sku: &str) -> ApiError {
    ApiError::conflict_on("sku", format!("a part with SKU '{sku}' exists"))
}

async fn ensure_sku_free(
    conn: &impl ConnectionTrait,
    sku: &str,
    except: Option<i64>,
) -> ApiResult<()> {
    nexus_core::unique::ensure_free::<part::Entity, _>(
        conn,
        part::Column::Sku,
        part::Column::Id,
        sku,
        except,
        "sku",
        format!("a part with SKU '{sku}' exists"),
    )
    .await
}

/// The same 409 for the race the check above cannot see (two writers of one SKU at once).
fn unique_sku(err: DbErr, sku: &str) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => sku_taken(sku),
        _ => err.into(),
    }
}

/// Parts, filtered, sorted (`sku` by default) and paged.
pub async fn list_parts(
    conn: &impl ConnectionTrait,
    f: &PartFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<PartOut>> {
    use part::Column as C;
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = nexus_core::contains_pattern(q);
        cond = cond.add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(C::Sku))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(C::Name))).like(pattern)),
        );
    }
    if let Some(c) = f
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        cond = cond.add(C::Category.eq(c));
    }
    match f.low_stock {
        Some(true) => {
            cond = cond.add(Expr::col(C::QuantityInStock).lte(Expr::col(C::ReorderPoint)))
        }
        Some(false) => {
            cond = cond.add(
                Condition::any()
                    .add(C::ReorderPoint.is_null())
                    .add(Expr::col(C::QuantityInStock).gt(Expr::col(C::ReorderPoint))),
            )
        }
        None => {}
    }
    let query = part::Entity::find().filter(cond);
    let sorts = [
        "sku",
        "name",
        "category",
        "unit_cost_cents",
        "quantity_in_stock",
        "created_at",
        "updated_at",
        "id",
    ];
    Ok(page_of(conn, query, page, &sorts, ("sku", false))
        .await?
        .map(part_out))
}

pub async fn get_part(conn: &impl ConnectionTrait, id: i64) -> ApiResult<PartOut> {
    find_part(conn, id).await.map(part_out)
}

/// Creates a part with no stock; stock arrives through the ledger.
pub async fn create_part(state: &AppState, ctx: &AuditCtx, req: PartData) -> ApiResult<PartOut> {
    let d = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let out = insert_part(&*work, d).await?;
    work.created("part", out.id, &out, readers(READ)).await?;
    work.commit().await?;
    Ok(out)
}

/// Inserts a validated part, inside the caller's unit of work; the caller records it.
pub(super) async fn insert_part(conn: &impl ConnectionTrait, d: PartData) -> ApiResult<PartOut> {
    ensure_sku_free(conn, &d.sku, None).await?;
    let sku = d.sku.clone();
    let now = Timestamp::now();
    let mut am = part::ActiveModel {
        quantity_in_stock: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    fill_part(&mut am, d);
    Ok(part_out(
        am.insert(conn).await.map_err(|e| unique_sku(e, &sku))?,
    ))
}

/// Changes a part's attributes; its stock changes only through the ledger.
pub async fn update_part(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdatePart,
) -> ApiResult<PartOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<part::Entity, _>(txn, id, if_match, "part").await?;
    let mut d = part_data(&current);
    req.apply(&mut d);
    let d = d.validate()?;
    ensure_sku_free(txn, &d.sku, Some(id)).await?;
    let sku = d.sku.clone();
    let before = part_out(current.clone());
    let mut am: part::ActiveModel = current.clone().into();
    fill_part(&mut am, d);
    am.updated_at = Set(Timestamp::now());
    let after = part_out(
        update_versioned(txn, am, current.version)
            .await
            // A part references nothing, so the only conflict is its SKU.
            .map_err(|e| match e {
                ApiError::Conflict { .. } => sku_taken(&sku),
                other => other,
            })?,
    );
    work.updated("part", id, &before, &after, readers(READ))
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Deletes a part that never moved; one with ledger lines stays for the ledger (409).
pub async fn delete_part(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<part::Entity, _>(txn, id, if_match, "part").await?;
    let moved = stock_movement::Entity::find()
        .filter(stock_movement::Column::PartId.eq(id))
        .count(txn)
        .await?;
    if moved > 0 {
        return Err(ApiError::conflict(format!(
            "the part has {moved} stock movement(s); the ledger keeps it"
        )));
    }
    delete_versioned::<part::Entity, _>(txn, id, current.version).await?;
    let before = part_out(current);
    work.deleted("part", id, &before, readers(READ)).await?;
    work.commit().await
}

#[derive(FromQueryResult)]
struct LevelRow {
    location_id: i64,
    location_name: String,
    quantity: i64,
    updated_at: Timestamp,
}

/// A part's stock per location, by location name.
pub async fn part_stock(conn: &impl ConnectionTrait, id: i64) -> ApiResult<PartStockOut> {
    let p = find_part(conn, id).await?;
    let sql = "SELECT s.location_id, l.name AS location_name, s.quantity, s.updated_at \
               FROM part_stock s JOIN locations l ON l.id = s.location_id \
               WHERE s.part_id = $1 ORDER BY l.name, s.location_id";
    let rows = LevelRow::find_by_statement(stmt(conn.get_database_backend(), sql, vec![id.into()]))
        .all(conn)
        .await?;
    Ok(PartStockOut {
        part_id: p.id,
        low_stock: is_low(p.quantity_in_stock, p.reorder_point),
        sku: p.sku,
        quantity_in_stock: p.quantity_in_stock,
        reorder_point: p.reorder_point,
        locations: rows
            .into_iter()
            .map(|r| StockLevel {
                location_id: r.location_id,
                location_name: r.location_name,
                quantity: r.quantity,
                updated_at: r.updated_at,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------- the ledger

fn movement_out(m: stock_movement::Model) -> MovementOut {
    MovementOut {
        id: m.id,
        part_id: m.part_id,
        location_id: m.location_id,
        kind: m.kind,
        quantity: m.quantity,
        balance_after: m.balance_after,
        unit_cost_cents: m.unit_cost_cents,
        work_order_id: m.work_order_id,
        transfer_id: m.transfer_id,
        reason: m.reason,
        actor_id: m.actor_id,
        created_at: m.created_at,
    }
}

/// Locks the part's row and moves its total by `delta`: the first statement of every
/// movement, so a part's movements queue here. `None` when the total would go negative
/// (the location cannot hold enough either).
async fn move_total(
    conn: &impl ConnectionTrait,
    part_id: i64,
    delta: i64,
) -> ApiResult<Option<part::Model>> {
    let sql = "UPDATE parts SET quantity_in_stock = quantity_in_stock + $1 \
               WHERE id = $2 AND quantity_in_stock + $1 >= 0 RETURNING *";
    Ok(part::Entity::find()
        .from_raw_sql(stmt(
            conn.get_database_backend(),
            sql,
            vec![delta.into(), part_id.into()],
        ))
        .one(conn)
        .await?)
}

#[derive(FromQueryResult)]
struct QtyRow {
    quantity: i64,
}

/// Moves a location's stock by `delta` and returns the new balance; `None` when taking
/// more than it holds (the guarded `UPDATE` matched no row).
async fn move_location(
    conn: &impl ConnectionTrait,
    part_id: i64,
    location_id: i64,
    delta: i64,
    now: Timestamp,
) -> ApiResult<Option<i64>> {
    let backend = conn.get_database_backend();
    let st = if delta < 0 {
        stmt(
            backend,
            "UPDATE part_stock SET quantity = quantity - $1, updated_at = $2 \
             WHERE part_id = $3 AND location_id = $4 AND quantity >= $1 RETURNING quantity",
            vec![
                (-delta).into(),
                now.0.into(),
                part_id.into(),
                location_id.into(),
            ],
        )
    } else {
        stmt(
            backend,
            "INSERT INTO part_stock (part_id, location_id, quantity, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (part_id, location_id) DO UPDATE SET \
             quantity = part_stock.quantity + excluded.quantity, updated_at = excluded.updated_at \
             RETURNING quantity",
            vec![
                part_id.into(),
                location_id.into(),
                delta.into(),
                now.0.into(),
            ],
        )
    };
    Ok(QtyRow::find_by_statement(st)
        .one(conn)
        .await?
        .map(|r| r.quantity))
}

/// The 409 of taking more than a location holds, naming `quantity`.
async fn short(
    conn: &impl ConnectionTrait,
    p: &part::Model,
    location_id: i64,
    want: i64,
) -> ApiResult<ApiError> {
    let have = crate::entity::part_stock::Entity::find_by_id((p.id, location_id))
        .one(conn)
        .await?
        .map_or(0, |s| s.quantity);
    Ok(ApiError::conflict_on(
        "quantity",
        format!(
            "only {have} unit(s) of {} are at location {location_id}; cannot take {want}",
            p.sku
        ),
    ))
}

/// One ledger line to write.
struct Line<'a> {
    kind: &'static str,
    location_id: i64,
    quantity: i64,
    unit_cost_cents: i64,
    work_order_id: Option<i64>,
    transfer_id: Option<i64>,
    reason: &'a Option<String>,
}

/// Moves a location's stock and writes its ledger line, for the caller to record; the
/// part's row must already be locked by `move_total`.
async fn write_line(
    conn: &impl ConnectionTrait,
    ctx: &AuditCtx,
    p: &part::Model,
    line: Line<'_>,
    now: Timestamp,
) -> ApiResult<MovementOut> {
    let Some(balance) = move_location(conn, p.id, line.location_id, line.quantity, now).await?
    else {
        return Err(short(conn, p, line.location_id, -line.quantity).await?);
    };
    let m = stock_movement::ActiveModel {
        part_id: Set(p.id),
        location_id: Set(line.location_id),
        kind: Set(line.kind.to_string()),
        quantity: Set(line.quantity),
        balance_after: Set(balance),
        unit_cost_cents: Set(line.unit_cost_cents),
        work_order_id: Set(line.work_order_id),
        transfer_id: Set(line.transfer_id),
        reason: Set(line.reason.clone()),
        actor_id: Set(ctx.actor_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(movement_out(m))
}

/// Locks the part and moves its total; 404 for an unknown part, 409 naming `quantity`
/// when even the total is short.
async fn lock_part(
    conn: &impl ConnectionTrait,
    part_id: i64,
    delta: i64,
    location_id: i64,
) -> ApiResult<part::Model> {
    match move_total(conn, part_id, delta).await? {
        Some(p) => Ok(p),
        None => {
            let p = find_part(conn, part_id).await?;
            Err(short(conn, &p, location_id, -delta).await?)
        }
    }
}

/// The event when a part's total went from above its reorder point to at or below it.
fn crossing(p: &part::Model, delta: i64, location_id: i64) -> Option<LowStock> {
    let rp = p.reorder_point?;
    let before = p.quantity_in_stock - delta;
    (before > rp && p.quantity_in_stock <= rp).then(|| LowStock {
        part_id: p.id,
        sku: p.sku.clone(),
        name: p.name.clone(),
        quantity_in_stock: p.quantity_in_stock,
        reorder_point: rp,
        reorder_quantity: p.reorder_quantity,
        location_id,
    })
}

/// Records one receive, consume or adjust movement inside the caller's unit of work, and
/// `part.low_stock` when the part crosses its reorder point. Work order consumption calls
/// this with the order's id.
pub async fn record_stock_change(
    work: &mut Work<'_>,
    part_id: i64,
    kind: &'static str,
    change: &StockChange,
    work_order_id: Option<i64>,
) -> ApiResult<MovementOut> {
    let conn = &**work;
    must_exist::<location::Entity>(conn, Some(change.location_id), "location_id", "location")
        .await?;
    let p = lock_part(conn, part_id, change.quantity, change.location_id).await?;
    let now = Timestamp::now();
    let line = Line {
        kind,
        location_id: change.location_id,
        quantity: change.quantity,
        unit_cost_cents: change.unit_cost_cents.unwrap_or(p.unit_cost_cents),
        work_order_id,
        transfer_id: None,
        reason: &change.reason,
    };
    let m = write_line(conn, work.ctx(), &p, line, now).await?;
    work.created("stock_movement", m.id, &m, readers(READ))
        .await?;
    if let Some(low) = crossing(&p, change.quantity, change.location_id) {
        let data = to_json(&low);
        work.emit(Event::new(
            "part",
            "low_stock",
            low.part_id,
            data,
            readers(READ),
        ));
    }
    Ok(m)
}

/// One receive, consume or adjust movement in a transaction of its own.
pub async fn change_stock(
    state: &AppState,
    ctx: &AuditCtx,
    part_id: i64,
    kind: &'static str,
    change: StockChange,
) -> ApiResult<MovementOut> {
    let mut work = Work::begin(state, ctx).await?;
    let m = record_stock_change(&mut work, part_id, kind, &change, None).await?;
    work.commit().await?;
    Ok(m)
}

/// Moves units between two locations: two ledger lines sharing a `transfer_id` (the id
/// of the outgoing line), both or neither.
pub async fn transfer_stock(
    state: &AppState,
    ctx: &AuditCtx,
    part_id: i64,
    req: TransferStock,
) -> ApiResult<Vec<MovementOut>> {
    let (from, to, n, reason) = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    must_exist::<location::Entity>(txn, Some(from), "from_location_id", "location").await?;
    must_exist::<location::Entity>(txn, Some(to), "to_location_id", "location").await?;
    let p = lock_part(txn, part_id, 0, from).await?;
    let now = Timestamp::now();
    let line = |kind, location_id, quantity, transfer_id| Line {
        kind,
        location_id,
        quantity,
        unit_cost_cents: p.unit_cost_cents,
        work_order_id: None,
        transfer_id,
        reason: &reason,
    };
    let ctx = work.ctx();
    let mut out = write_line(txn, ctx, &p, line("transfer_out", from, -n, None), now).await?;
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "UPDATE stock_movements SET transfer_id = id WHERE id = $1",
        vec![out.id.into()],
    ))
    .await?;
    out.transfer_id = Some(out.id);
    let into = write_line(txn, ctx, &p, line("transfer_in", to, n, Some(out.id)), now).await?;
    for m in [&out, &into] {
        work.created("stock_movement", m.id, m, readers(READ))
            .await?;
    }
    work.commit().await?;
    Ok(vec![out, into])
}

/// The ledger, newest first, paged by id.
pub async fn list_movements(
    conn: &impl ConnectionTrait,
    f: &MovementFilter,
) -> ApiResult<MovementPage> {
    use stock_movement::Column as C;
    let limit = PageParams {
        limit: f.limit,
        ..Default::default()
    }
    .limit();
    let mut cond = Condition::all();
    if let Some(v) = f.part_id {
        cond = cond.add(C::PartId.eq(v));
    }
    if let Some(v) = f.location_id {
        cond = cond.add(C::LocationId.eq(v));
    }
    if let Some(v) = f.work_order_id {
        cond = cond.add(C::WorkOrderId.eq(v));
    }
    if let Some(k) = &f.kind {
        let k = k.trim().to_lowercase();
        if !MOVEMENT_KINDS.contains(&k.as_str()) {
            return Err(ApiError::invalid(
                "kind",
                format!("must be one of {}", MOVEMENT_KINDS.join(", ")),
            ));
        }
        cond = cond.add(C::Kind.eq(k));
    }
    if let Some(v) = f.after {
        cond = cond.add(C::Id.lt(v));
    }
    let items: Vec<MovementOut> = stock_movement::Entity::find()
        .filter(cond)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(movement_out)
        .collect();
    let next_after = (items.len() as u64 == limit)
        .then(|| items.last().map(|m| m.id))
        .flatten();
    Ok(MovementPage {
        items,
        limit,
        next_after,
    })
}

// ---------------------------------------------------------------- parts on work orders

#[derive(FromQueryResult)]
struct LockedRow {
    id: i64,
}

/// Locks an open or in-progress work order until commit (a status change waits for the
/// consumption, and the other way round); 404 when absent, 409 naming `status` otherwise.
async fn lock_workable(conn: &impl ConnectionTrait, id: i64) -> ApiResult<()> {
    let locked = LockedRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "UPDATE work_orders SET updated_at = updated_at \
         WHERE id = $1 AND status IN ('open', 'in_progress') RETURNING id",
        vec![id.into()],
    ))
    .one(conn)
    .await?;
    if locked.is_some_and(|r| r.id == id) {
        return Ok(());
    }
    let wo = super::work_orders::find_work_order(conn, id).await?;
    Err(ApiError::conflict_on(
        "status",
        format!(
            "work order {} is {}; parts are used on open or in-progress work orders only",
            wo.number, wo.status
        ),
    ))
}

#[derive(FromQueryResult)]
struct UsedRow {
    id: i64,
    part_id: i64,
    sku: String,
    name: String,
    location_id: i64,
    quantity: i64,
    unit_cost_cents: i64,
    actor_id: Option<i64>,
    created_at: Timestamp,
}

fn used_out(r: UsedRow) -> WorkOrderPartOut {
    WorkOrderPartOut {
        movement_id: r.id,
        part_id: r.part_id,
        sku: r.sku,
        name: r.name,
        location_id: r.location_id,
        quantity: r.quantity,
        unit_cost_cents: r.unit_cost_cents,
        cost_cents: r.quantity.saturating_mul(r.unit_cost_cents),
        used_by: r.actor_id,
        created_at: r.created_at,
    }
}

/// Takes units of a part from a location for a work order: one `consume` ledger line
/// carrying the order's id and the part's unit cost at that moment.
pub async fn use_part(
    state: &AppState,
    ctx: &AuditCtx,
    work_order_id: i64,
    req: UsePart,
) -> ApiResult<WorkOrderPartOut> {
    let (part_id, change) = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    lock_workable(&*work, work_order_id).await?;
    must_exist::<part::Entity>(&*work, Some(part_id), "part_id", "part").await?;
    let m =
        record_stock_change(&mut work, part_id, "consume", &change, Some(work_order_id)).await?;
    let p = find_part(&*work, part_id).await?;
    work.commit().await?;
    Ok(used_out(UsedRow {
        id: m.id,
        part_id,
        sku: p.sku,
        name: p.name,
        location_id: m.location_id,
        quantity: -m.quantity,
        unit_cost_cents: m.unit_cost_cents,
        actor_id: m.actor_id,
        created_at: m.created_at,
    }))
}

/// The parts used on a work order, oldest first, with their total cost.
pub async fn work_order_parts(
    conn: &impl ConnectionTrait,
    work_order_id: i64,
) -> ApiResult<WorkOrderParts> {
    super::work_orders::locate_work_order(conn, work_order_id).await?;
    let sql = "SELECT m.id, m.part_id, p.sku, p.name, m.location_id, -m.quantity AS quantity, \
               m.unit_cost_cents, m.actor_id, m.created_at \
               FROM stock_movements m JOIN parts p ON p.id = m.part_id \
               WHERE m.work_order_id = $1 AND m.kind = 'consume' ORDER BY m.id";
    let items: Vec<WorkOrderPartOut> = UsedRow::find_by_statement(stmt(
        conn.get_database_backend(),
        sql,
        vec![work_order_id.into()],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(used_out)
    .collect();
    Ok(WorkOrderParts {
        total_cost_cents: items.iter().map(|i| i.cost_cents).sum(),
        items,
    })
}
