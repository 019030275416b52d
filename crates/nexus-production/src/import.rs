//! Bulk paths: CSV import (every row validated first, then one transaction) and the seed
//! data set for benchmarks. Both write movements many rows per statement and fold WIP and
//! the daily rollup into one upsert per key.

use std::collections::HashMap;

use chrono_tz::Tz;
use nexus_core::audit::AuditCtx;
use nexus_core::db::{placeholders, stmt};
use nexus_core::events::Audience;
use nexus_core::validate::{check_chars, forbidden_char};
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, FieldError, Timestamp, Validator};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, TransactionTrait, Value};

use crate::model::{ImportResult, NewMovement, OrderType, RecordMovement};
use crate::service::{self, local_day, write_daily_deltas};

/// Row errors reported at most, so a wholly wrong file still gets a readable answer.
const MAX_ERRORS: usize = 100;
/// Rows per INSERT statement.
const CHUNK: usize = 1000;

/// A validated row of an import.
pub struct ImportRow {
    pub movement: NewMovement,
    pub created_at: Timestamp,
}

/// Called as rows are written: (rows done, rows in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

const COLUMNS: [&str; 9] = [
    "production_order",
    "workcenter_code",
    "workcenter_id",
    "quantity",
    "order_type",
    "scrap_quantity",
    "shift",
    "note",
    "created_at",
];

/// Parses and validates a CSV file of movements (header row first). Any bad row rejects
/// the whole file, with the line numbers and reasons.
pub fn parse_csv(state: &AppState, data: &[u8]) -> ApiResult<Vec<ImportRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(data);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::invalid("file", format!("unreadable CSV header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut v = Validator::new();
    for h in &headers {
        v.check(
            COLUMNS.contains(&h.as_str()),
            "columns",
            format!("unknown column '{h}'; columns are {}", COLUMNS.join(", ")),
        );
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    for required in ["production_order", "quantity", "order_type"] {
        v.check(
            col(required).is_some(),
            "columns",
            format!("missing column '{required}'"),
        );
    }
    v.check(
        col("workcenter_code").is_some() || col("workcenter_id").is_some(),
        "columns",
        "missing column 'workcenter_code' (or 'workcenter_id')",
    );
    v.finish()?;

    let cache = state
        .domains
        .get::<std::sync::Arc<service::ProductionState>>();
    let by_code: HashMap<String, (i64, bool)> = cache
        .work_centers()
        .into_iter()
        .map(|w| (w.code.to_uppercase(), (w.id, w.is_active)))
        .collect();
    let active: HashMap<i64, bool> = by_code.values().copied().collect();
    let latest = Timestamp::now().plus_seconds(300);
    let earliest = Timestamp::parse("2000-01-01T00:00:00Z").unwrap_or(Timestamp(0));

    let mut rows = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    let get = |r: &csv::StringRecord, name: &str| {
        col(name).and_then(|i| r.get(i)).unwrap_or("").to_string()
    };
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError::new(
                    format!("line {line}"),
                    format!("unreadable row: {e}"),
                ));
                continue;
            }
        };
        if let Some((cell, column)) = record
            .iter()
            .zip(&headers)
            .find(|(cell, _)| forbidden_char(cell).is_some())
        {
            let field = format!("line {line}: {column}");
            errors.extend(
                check_chars(&field, cell)
                    .err()
                    .map(|e| e.field_errors())
                    .unwrap_or_default(),
            );
            continue;
        }
        let p = format!("line {line}: ");
        let mut rv = Validator::new();
        let wc_id = match (col("workcenter_code"), col("workcenter_id")) {
            (Some(_), _) if !get(&record, "workcenter_code").is_empty() => {
                let code = get(&record, "workcenter_code").to_uppercase();
                match by_code.get(&code) {
                    Some((id, _)) => *id,
                    None => {
                        rv.add(
                            &format!("{p}workcenter_code"),
                            format!("no work center with code '{code}'"),
                        );
                        0
                    }
                }
            }
            (_, Some(_)) => match get(&record, "workcenter_id").parse::<i64>() {
                Ok(id) if active.contains_key(&id) => id,
                _ => {
                    rv.add(
                        &format!("{p}workcenter_id"),
                        "is not the id of a work center",
                    );
                    0
                }
            },
            _ => {
                rv.add(&format!("{p}workcenter_code"), "is required");
                0
            }
        };
        if wc_id > 0 && active.get(&wc_id) == Some(&false) {
            rv.add(&format!("{p}workcenter_code"), "work center is inactive");
        }
        let quantity = match get(&record, "quantity").parse::<i64>() {
            Ok(q) => q,
            Err(_) => {
                rv.add(&format!("{p}quantity"), "must be a positive whole number");
                1
            }
        };
        let scrap = match get(&record, "scrap_quantity").as_str() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(q) => Some(q),
                Err(_) => {
                    rv.add(&format!("{p}scrap_quantity"), "must be a whole number");
                    None
                }
            },
        };
        let created_at = match get(&record, "created_at").as_str() {
            "" => Timestamp::now(),
            s => match Timestamp::parse(s) {
                Some(t) if t <= latest && t >= earliest => t,
                Some(_) => {
                    rv.add(&format!("{p}created_at"), "must be between 2000 and now");
                    Timestamp::now()
                }
                None => {
                    rv.add(&format!("{p}created_at"), "must be an RFC 3339 timestamp");
                    Timestamp::now()
                }
            },
        };
        let req = RecordMovement {
            production_order: get(&record, "production_order"),
            workcenter_id: wc_id.max(1),
            quantity,
            order_type: get(&record, "order_type"),
            scrap_quantity: scrap,
            shift: Some(get(&record, "shift")),
            note: Some(get(&record, "note")),
        };
        let movement = req.validate(&mut rv, &p);
        match (rv.finish(), movement) {
            (Ok(()), Some(movement)) if wc_id > 0 => rows.push(ImportRow {
                movement,
                created_at,
            }),
            (Err(ApiError::Validation(e)), _) => errors.extend(e),
            _ => errors.push(FieldError::new(format!("line {line}"), "invalid row")),
        }
    }
    if !errors.is_empty() {
        errors.truncate(MAX_ERRORS);
        return Err(ApiError::Validation(errors));
    }
    if rows.is_empty() {
        return Err(ApiError::invalid("file", "has no rows"));
    }
    Ok(rows)
}

#[derive(FromQueryResult)]
struct WipRow {
    production_order: String,
    workcenter_id: i64,
    qty_in: i64,
    qty_out: i64,
}

/// Imports validated rows in one transaction. OUT rows are checked against WIP as the
/// file would leave it, row by row; any shortfall rejects the whole file.
pub async fn import(
    state: &AppState,
    ctx: &AuditCtx,
    user_id: i64,
    rows: Vec<ImportRow>,
    progress: Progress<'_>,
) -> ApiResult<ImportResult> {
    let cache = state
        .domains
        .get::<std::sync::Arc<service::ProductionState>>();
    let (settings, tz) = cache.settings();
    let started = std::time::Instant::now();
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let backend = txn.get_database_backend();

    // Current WIP of every (order, work center) the file touches, locked on PostgreSQL.
    let mut orders: Vec<&str> = rows
        .iter()
        .map(|r| r.movement.production_order.as_str())
        .collect();
    orders.sort_unstable();
    orders.dedup();
    let mut wip: HashMap<(String, i64), i64> = HashMap::new();
    for chunk in orders.chunks(500) {
        let mut sql = format!(
            "SELECT production_order, workcenter_id, qty_in, qty_out FROM wip WHERE production_order IN ({})",
            placeholders(1, chunk.len())
        );
        if backend == DatabaseBackend::Postgres {
            sql.push_str(" FOR UPDATE");
        }
        let values = chunk.iter().map(|o| Value::from(*o)).collect();
        for w in WipRow::find_by_statement(stmt(backend, &sql, values))
            .all(txn)
            .await?
        {
            wip.insert((w.production_order, w.workcenter_id), w.qty_in - w.qty_out);
        }
    }
    let mut errors = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let m = &r.movement;
        let level = wip
            .entry((m.production_order.clone(), m.workcenter_id))
            .or_insert(0);
        match m.order_type {
            OrderType::In => *level += i64::from(m.quantity),
            OrderType::Out => {
                if *level < i64::from(m.quantity) && !settings.allow_negative_wip {
                    errors.push(FieldError::new(
                        format!("line {}: quantity", i + 2),
                        format!(
                            "only {} unit(s) of order {} are at work center {} at this point; cannot move {} out",
                            *level, m.production_order, m.workcenter_id, m.quantity
                        ),
                    ));
                    if errors.len() >= MAX_ERRORS {
                        break;
                    }
                }
                *level -= i64::from(m.quantity);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    tracing::info!(
        rows = rows.len(),
        ms = started.elapsed().as_millis() as u64,
        "import: WIP checked"
    );

    let count = write_rows(txn, &rows, user_id, &tz, progress).await?;
    tracing::info!(
        rows = count,
        ms = started.elapsed().as_millis() as u64,
        "import: rows written"
    );
    let result = ImportResult { imported: count };
    work.record(
        "import",
        "imported",
        "production_order",
        0,
        None,
        Some(&result),
        Audience::Permission("production:read".into()),
    )
    .await?;
    work.commit().await?;
    Ok(result)
}

/// Writes movements, then their WIP and daily rollup deltas, inside the caller's
/// transaction. Rows are trusted: validation is the caller's.
pub async fn write_rows<C: ConnectionTrait>(
    conn: &C,
    rows: &[ImportRow],
    user_id: i64,
    tz: &Tz,
    progress: Progress<'_>,
) -> ApiResult<u64> {
    let backend = conn.get_database_backend();
    let total = rows.len() as u64;
    let mut wip: HashMap<(String, i64), (i64, i64)> = HashMap::new();
    let mut days: HashMap<(String, i64, String), (i64, i64, i64)> = HashMap::new();
    let mut done = 0u64;
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::with_capacity(chunk.len() * 48 + 200);
        sql.push_str(
            "INSERT INTO production_orders (production_order, workcenter_id, quantity, order_type, \
             scrap_quantity, shift, note, user_id, created_at) VALUES ",
        );
        let mut values = Vec::with_capacity(chunk.len() * 9);
        for (i, r) in chunk.iter().enumerate() {
            let m = &r.movement;
            let b = i * 9;
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for k in 1..=9 {
                if k > 1 {
                    sql.push(',');
                }
                sql.push('$');
                sql.push_str(&(b + k).to_string());
            }
            sql.push(')');
            values.extend([
                Value::from(m.production_order.clone()),
                Value::from(m.workcenter_id),
                Value::from(m.quantity),
                Value::from(m.order_type.as_str()),
                Value::from(m.scrap_quantity),
                Value::from(m.shift.clone()),
                Value::from(m.note.clone()),
                Value::from(user_id),
                Value::from(r.created_at.0),
            ]);
            let q = i64::from(m.quantity);
            let w = wip
                .entry((m.production_order.clone(), m.workcenter_id))
                .or_default();
            match m.order_type {
                OrderType::In => w.0 += q,
                OrderType::Out => w.1 += q,
            }
            let d = days
                .entry((
                    local_day(r.created_at, tz),
                    m.workcenter_id,
                    m.order_type.as_str().to_string(),
                ))
                .or_default();
            d.0 += 1;
            d.1 += q;
            d.2 += i64::from(m.scrap_quantity);
        }
        conn.execute_raw(stmt(backend, &sql, values)).await?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    let now = Timestamp::now();
    let entries: Vec<_> = wip.into_iter().collect();
    for chunk in entries.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO wip (production_order, workcenter_id, qty_in, qty_out, updated_at) VALUES ",
        );
        let mut values = Vec::with_capacity(chunk.len() * 5);
        for (i, ((order, wc), (qi, qo))) in chunk.iter().enumerate() {
            let b = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
            values.extend([
                Value::from(order.clone()),
                Value::from(*wc),
                Value::from(*qi),
                Value::from(*qo),
                Value::from(now.0),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (production_order, workcenter_id) DO UPDATE SET \
             qty_in = wip.qty_in + excluded.qty_in, qty_out = wip.qty_out + excluded.qty_out, \
             updated_at = excluded.updated_at",
        );
        conn.execute_raw(stmt(backend, &sql, values)).await?;
    }
    write_daily_deltas(conn, &days).await?;
    Ok(total)
}

/// Loads a benchmark data set: `count` movements spread evenly over the two years before
/// now across 50 work centers (created as needed), each order moving IN and then OUT.
pub async fn seed(state: &AppState, count: u64, progress: Progress<'_>) -> ApiResult<u64> {
    let admin_id = nexus_identity::service::list_users(
        &state.db,
        &nexus_identity::model::UserFilter {
            role: Some("admin".into()),
            ..Default::default()
        },
        &nexus_core::PageParams::default(),
    )
    .await?
    .items
    .first()
    .map(|u| u.id)
    .ok_or_else(|| ApiError::conflict("no admin user to own the seed data"))?;
    let ctx = AuditCtx::default();
    let cache = state
        .domains
        .get::<std::sync::Arc<service::ProductionState>>();
    let existing: Vec<String> = cache.work_centers().into_iter().map(|w| w.code).collect();
    for n in 1..=50 {
        let code = format!("WC{n:03}");
        if !existing.contains(&code) {
            service::create_work_center(
                state,
                &ctx,
                crate::model::CreateWorkCenter {
                    code,
                    name: format!("Line {n}"),
                    department_id: None,
                    is_active: Some(true),
                },
            )
            .await?;
        }
    }
    let wcs: Vec<i64> = cache
        .work_centers()
        .into_iter()
        .filter(|w| w.is_active)
        .map(|w| w.id)
        .take(50)
        .collect();
    let (_, tz) = cache.settings();
    let end = Timestamp::now().0;
    let span = 2 * 365 * 86_400 * 1_000_000i64;
    let start = end - span;
    let step = (span / count.max(1) as i64).max(1);
    let batch = 200_000u64;
    let mut written = 0u64;
    let tag = nexus_core::auth::random_token(3).to_uppercase();
    while written < count {
        let n = batch.min(count - written);
        let rows: Vec<ImportRow> = (written..written + n)
            .map(|i| {
                // Pairs: movement 2k is order k moving IN, 2k+1 the same order moving OUT.
                let order = i / 2;
                ImportRow {
                    movement: NewMovement {
                        production_order: format!("PO-{tag}-{order:08}"),
                        workcenter_id: wcs[(order as usize) % wcs.len()],
                        quantity: 1 + (order % 50) as i32,
                        order_type: if i % 2 == 0 {
                            OrderType::In
                        } else {
                            OrderType::Out
                        },
                        scrap_quantity: 0,
                        shift: None,
                        note: None,
                    },
                    created_at: Timestamp(start + i as i64 * step),
                }
            })
            .collect();
        let txn = state.db.write().begin().await?;
        let base = written;
        write_rows(&txn, &rows, admin_id, &tz, &|done, _| {
            progress(base + done, count)
        })
        .await?;
        txn.commit().await?;
        written += n;
    }
    // Planner statistics for the bulk-loaded tables, as after any large load: without
    // them PostgreSQL reads all of `wip` for its few open rows.
    let sql = match state.db.backend() {
        DatabaseBackend::Postgres => "VACUUM ANALYZE production_orders, wip, production_daily",
        _ => "ANALYZE",
    };
    state.db.write().execute_unprepared(sql).await?;
    Ok(written)
}
