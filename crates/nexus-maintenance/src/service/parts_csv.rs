//! CSV export and import of parts, with the kernel's tabular helpers. Import checks every
//! row first (any bad row rejects the file, naming line and field), then writes in one
//! transaction: a new SKU creates a part, a known one (any case) updates it, only in the
//! columns the file has. Stock is never imported: it moves only through the ledger, so an
//! exported `quantity_in_stock` column is read and ignored.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::events::Event;
use nexus_core::tabular::{CsvTable, MAX_ROW_ERRORS, row_errors, rows_rejected};
use nexus_core::write::{Work, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, FieldError, Timestamp};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};

use super::inventory::READ;
use super::inventory::{fill_part, insert_part, part_data, part_out};
use super::readers;
use crate::entity::part;
use crate::model::{ImportResult, PartData};

/// The columns, in export order.
pub const PART_COLUMNS: [&str; 10] = [
    "sku",
    "name",
    "description",
    "category",
    "unit_cost_cents",
    "supplier",
    "image_url",
    "reorder_point",
    "reorder_quantity",
    "quantity_in_stock",
];

/// Every part as CSV rows, by SKU.
pub async fn export_parts(conn: &impl ConnectionTrait) -> ApiResult<Vec<Vec<String>>> {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    Ok(part::Entity::find()
        .order_by_asc(part::Column::Sku)
        .order_by_asc(part::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| {
            vec![
                p.sku,
                p.name,
                p.description.unwrap_or_default(),
                p.category.unwrap_or_default(),
                p.unit_cost_cents.to_string(),
                p.supplier.unwrap_or_default(),
                p.image_url.unwrap_or_default(),
                num(p.reorder_point),
                num(p.reorder_quantity),
                p.quantity_in_stock.to_string(),
            ]
        })
        .collect())
}

/// `d` with the fields of the columns the file lacks taken from `current`.
fn merge(mut d: PartData, current: PartData, table: &CsvTable) -> PartData {
    if !table.has("description") {
        d.description = current.description;
    }
    if !table.has("category") {
        d.category = current.category;
    }
    if !table.has("unit_cost_cents") {
        d.unit_cost_cents = current.unit_cost_cents;
    }
    if !table.has("supplier") {
        d.supplier = current.supplier;
    }
    if !table.has("image_url") {
        d.image_url = current.image_url;
    }
    if !table.has("reorder_point") {
        d.reorder_point = current.reorder_point;
    }
    if !table.has("reorder_quantity") {
        d.reorder_quantity = current.reorder_quantity;
    }
    d
}

/// Parses, checks and writes a CSV of parts (`sku` and `name` required): all rows or none.
pub async fn import_parts(
    state: &AppState,
    ctx: &AuditCtx,
    data: &[u8],
) -> ApiResult<ImportResult> {
    let table = CsvTable::parse(data, &PART_COLUMNS, &["sku", "name"])?;
    let mut rows = Vec::new();
    let mut errs: Vec<FieldError> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, r) in &table.rows {
        let line = *line;
        let text = |col: &str| table.get(r, col).map(str::to_string);
        let mut num = |col: &str| {
            let v = table.get(r, col)?;
            v.parse::<i64>()
                .map_err(|_| {
                    errs.push(FieldError::new(
                        format!("line {line}: {col}"),
                        format!("'{v}' is not a whole number"),
                    ))
                })
                .ok()
        };
        let d = PartData {
            sku: text("sku").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            description: text("description"),
            category: text("category"),
            unit_cost_cents: num("unit_cost_cents"),
            supplier: text("supplier"),
            image_url: text("image_url"),
            reorder_point: num("reorder_point"),
            reorder_quantity: num("reorder_quantity"),
        };
        match d.validate() {
            Ok(d) => {
                if let Some(first) = seen.insert(d.sku.to_lowercase(), line) {
                    errs.push(FieldError::new(
                        format!("line {line}: sku"),
                        format!("repeats line {first}"),
                    ));
                }
                rows.push(d);
            }
            Err(err) => errs.extend(row_errors(line, err)),
        }
        if errs.len() >= MAX_ROW_ERRORS {
            break;
        }
    }
    if !errs.is_empty() {
        return Err(rows_rejected(errs));
    }
    if rows.is_empty() {
        return Err(ApiError::invalid("file", "has no rows"));
    }

    let mut work = Work::begin(state, ctx).await?;
    let existing: HashMap<String, part::Model> = part::Entity::find()
        .all(&*work)
        .await?
        .into_iter()
        .map(|p| (p.sku.to_lowercase(), p))
        .filter(|(k, _)| seen.contains_key(k))
        .collect();
    let (mut created, mut updated) = (0u64, 0u64);
    let now = Timestamp::now();
    for d in rows {
        let Some(current) = existing.get(&d.sku.to_lowercase()) else {
            let out = insert_part(&*work, d).await?;
            work.audit("create", "part", out.id, None, Some(&out))
                .await?;
            created += 1;
            continue;
        };
        let d = merge(d, part_data(current), &table);
        if part_data(current) == d {
            continue;
        }
        let before = part_out(current.clone());
        let mut am: part::ActiveModel = current.clone().into();
        fill_part(&mut am, d);
        am.updated_at = Set(now);
        let after = part_out(update_versioned(&*work, am, current.version).await?);
        work.audit("update", "part", after.id, Some(&before), Some(&after))
            .await?;
        updated += 1;
    }
    // One event for the file, not one per row.
    let result = ImportResult { created, updated };
    let data = to_json(&result);
    work.emit(Event::new("part", "imported", 0, data, readers(READ)));
    work.commit().await?;
    Ok(result)
}
