//! CSV export and import of locations and assets. Exports round-trip: a location is
//! named by its path from the root ("Plant 1 / Hall A"), an asset by its QR token, so an
//! exported file imported again updates the same rows. Imports check every row first
//! (against the database and the rows above) and land in one transaction, or not at all.

use std::collections::HashMap;

use nexus_core::audit::AuditCtx;
use nexus_core::auth::random_token;
use nexus_core::events::Event;
use nexus_core::tabular::{CsvTable, MAX_ROW_ERRORS, row_errors, rows_rejected};
use nexus_core::write::{Work, to_json, update_versioned};
use nexus_core::{ApiResult, AppState, FieldError, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder,
};

use super::assets::{
    asset_data, asset_out, fill_asset, fill_location, location_data, location_out,
};
use super::{readers, track_downtime};
use crate::entity::{asset, asset_type, location};
use crate::model::{AssetData, ImportResult, LocationData};

/// Separates the names of a location path.
const SEP: &str = " / ";

pub const LOCATION_COLUMNS: [&str; 9] = [
    "path",
    "description",
    "address",
    "city",
    "state",
    "country",
    "postal_code",
    "latitude",
    "longitude",
];

pub const ASSET_COLUMNS: [&str; 21] = [
    "qr_code",
    "name",
    "description",
    "asset_type",
    "status",
    "health_score",
    "location",
    "parent_qr_code",
    "manufacturer",
    "model",
    "serial_number",
    "tag",
    "installation_date",
    "purchase_cost_cents",
    "expected_lifetime",
    "warranty_expiry_date",
    "criticality",
    "purchase_date",
    "last_maintenance_date",
    "next_maintenance_date",
    "image_url",
];

/// Every location's path from the root, by id.
fn paths(all: &[location::Model]) -> HashMap<i64, String> {
    let by_id: HashMap<i64, &location::Model> = all.iter().map(|l| (l.id, l)).collect();
    let mut out = HashMap::with_capacity(all.len());
    for l in all {
        let mut names = vec![l.name.as_str()];
        let mut cur = l.parent_id;
        // The tree has no cycles; the bound only guards against a corrupted one.
        while let Some(p) = cur.and_then(|p| by_id.get(&p)) {
            if names.len() > all.len() {
                break;
            }
            names.push(p.name.as_str());
            cur = p.parent_id;
        }
        names.reverse();
        out.insert(l.id, names.join(SEP));
    }
    out
}

/// Normalises a path typed by a person: trimmed names, single separators, any case.
fn path_key(path: &str) -> String {
    path.split('/')
        .map(|p| p.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(SEP)
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_default()
}

fn num<T: std::str::FromStr>(
    t: &CsvTable,
    r: &csv::StringRecord,
    col: &str,
    errs: &mut Vec<FieldError>,
    line: usize,
) -> Option<T> {
    let v = t.get(r, col)?;
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(
                format!("line {line}: {col}"),
                format!("'{v}' is not a number"),
            ));
            None
        }
    }
}

fn day(
    t: &CsvTable,
    r: &csv::StringRecord,
    col: &str,
    errs: &mut Vec<FieldError>,
    line: usize,
) -> Option<chrono::NaiveDate> {
    let v = t.get(r, col)?;
    match v.parse() {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(
                format!("line {line}: {col}"),
                format!("'{v}' is not a date (YYYY-MM-DD)"),
            ));
            None
        }
    }
}

fn text(t: &CsvTable, r: &csv::StringRecord, col: &str) -> Option<String> {
    t.get(r, col).map(str::to_string)
}

/// Every location as CSV rows, parents before children.
pub async fn export_locations(conn: &impl ConnectionTrait) -> ApiResult<Vec<Vec<String>>> {
    let all = location::Entity::find().all(conn).await?;
    let paths = paths(&all);
    let mut rows: Vec<Vec<String>> = all
        .into_iter()
        .map(|l| {
            vec![
                paths[&l.id].clone(),
                opt(l.description),
                opt(l.address),
                opt(l.city),
                opt(l.state),
                opt(l.country),
                opt(l.postal_code),
                l.latitude.map(|v| v.to_string()).unwrap_or_default(),
                l.longitude.map(|v| v.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    Ok(rows)
}

/// Creates or updates (matched by path) the locations of a CSV file, all or none. A
/// row's parent is the path without its last name, which must exist already or come
/// from another row of the file.
pub async fn import_locations(
    state: &AppState,
    ctx: &AuditCtx,
    data: &[u8],
) -> ApiResult<ImportResult> {
    let table = CsvTable::parse(data, &LOCATION_COLUMNS, &["path"])?;
    let mut work = Work::begin(state, ctx).await?;
    let existing = location::Entity::find().all(&*work).await?;
    let mut by_path: HashMap<String, i64> = paths(&existing)
        .into_iter()
        .map(|(id, p)| (path_key(&p), id))
        .collect();
    let mut by_id: HashMap<i64, location::Model> =
        existing.into_iter().map(|l| (l.id, l)).collect();

    // Check every row before writing any; shallow paths first so parents exist in time.
    let mut rows = Vec::new();
    let mut errs: Vec<FieldError> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, r) in &table.rows {
        let line = *line;
        let raw = table.get(r, "path").unwrap_or("");
        let names: Vec<&str> = raw.split('/').map(str::trim).collect();
        if raw.is_empty() || names.iter().any(|n| n.is_empty()) {
            errs.push(FieldError::new(
                format!("line {line}: path"),
                "must be names separated by ' / ', none empty",
            ));
            continue;
        }
        let key = path_key(raw);
        if let Some(first) = seen.insert(key.clone(), line) {
            errs.push(FieldError::new(
                format!("line {line}: path"),
                format!("repeats line {first}"),
            ));
        }
        let mut e = Vec::new();
        let d = LocationData {
            name: names[names.len() - 1].to_string(),
            description: text(&table, r, "description"),
            address: text(&table, r, "address"),
            city: text(&table, r, "city"),
            state: text(&table, r, "state"),
            country: text(&table, r, "country"),
            postal_code: text(&table, r, "postal_code"),
            latitude: num(&table, r, "latitude", &mut e, line),
            longitude: num(&table, r, "longitude", &mut e, line),
            parent_id: None,
        };
        errs.extend(e);
        match d.validate() {
            Ok(d) => rows.push((line, names.len(), key, d)),
            Err(err) => errs.extend(row_errors(line, err)),
        }
        if errs.len() >= MAX_ROW_ERRORS {
            break;
        }
    }
    rows.sort_by_key(|(line, depth, ..)| (*depth, *line));
    let files: std::collections::HashSet<String> = rows.iter().map(|r| r.2.clone()).collect();
    for (line, depth, key, _) in &rows {
        if *depth > 1 {
            let parent = key.rsplit_once(SEP).map(|(p, _)| p).unwrap_or("");
            if !by_path.contains_key(parent) && !files.contains(parent) {
                errs.push(FieldError::new(
                    format!("line {line}: path"),
                    format!("no location '{parent}' exists or is in the file"),
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(rows_rejected(errs));
    }

    let now = Timestamp::now();
    let (mut created, mut updated) = (0u64, 0u64);
    for (_, depth, key, mut d) in rows {
        if depth > 1 {
            let parent = key.rsplit_once(SEP).map(|(p, _)| p).unwrap_or("");
            d.parent_id = by_path.get(parent).copied();
        }
        match by_path.get(&key).and_then(|id| by_id.remove(id)) {
            Some(old) => {
                d.latitude = d.latitude.or(old.latitude);
                d.longitude = d.longitude.or(old.longitude);
                if location_data(&old) == d {
                    continue;
                }
                let before = location_out(old.clone());
                let mut am = old.into_active_model();
                fill_location(&mut am, d);
                am.updated_at = Set(now);
                let after = location_out(update_versioned(&*work, am, before.version).await?);
                work.audit("update", "location", after.id, Some(&before), Some(&after))
                    .await?;
                updated += 1;
            }
            None => {
                let mut am = location::ActiveModel {
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                };
                fill_location(&mut am, d);
                let out = location_out(am.insert(&*work).await?);
                work.audit("create", "location", out.id, None, Some(&out))
                    .await?;
                by_path.insert(key, out.id);
                created += 1;
            }
        }
    }
    let result = ImportResult { created, updated };
    imported(&mut work, "location", "locations:read", &result);
    work.commit().await?;
    Ok(result)
}

/// One event for an imported file, not one per row.
fn imported(work: &mut Work<'_>, entity: &str, read: &str, result: &ImportResult) {
    work.emit(Event::new(
        entity,
        "imported",
        0,
        to_json(result),
        readers(read),
    ));
}

/// Every asset as CSV rows, by id.
pub async fn export_assets(conn: &impl ConnectionTrait) -> ApiResult<Vec<Vec<String>>> {
    let locations = location::Entity::find().all(conn).await?;
    let paths = paths(&locations);
    let types: HashMap<i64, String> = asset_type::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let all = asset::Entity::find()
        .order_by_asc(asset::Column::Id)
        .all(conn)
        .await?;
    let qr: HashMap<i64, String> = all.iter().map(|a| (a.id, a.qr_code.clone())).collect();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    Ok(all
        .into_iter()
        .map(|a| {
            vec![
                a.qr_code,
                a.name,
                opt(a.description),
                a.asset_type_id
                    .and_then(|t| types.get(&t).cloned())
                    .unwrap_or_default(),
                a.status,
                n(a.health_score.map(i64::from)),
                a.location_id
                    .and_then(|l| paths.get(&l).cloned())
                    .unwrap_or_default(),
                a.parent_asset_id
                    .and_then(|p| qr.get(&p).cloned())
                    .unwrap_or_default(),
                opt(a.manufacturer),
                opt(a.model),
                opt(a.serial_number),
                opt(a.tag),
                opt(a.installation_date),
                n(a.purchase_cost_cents),
                n(a.expected_lifetime.map(i64::from)),
                opt(a.warranty_expiry_date),
                opt(a.criticality),
                opt(a.purchase_date),
                opt(a.last_maintenance_date),
                opt(a.next_maintenance_date),
                opt(a.image_url),
            ]
        })
        .collect())
}

/// A checked asset row, waiting for its parent to be known.
struct AssetRow {
    line: usize,
    qr: String,
    parent_qr: Option<String>,
    data: AssetData,
}

/// Creates or updates (matched by `qr_code`) the assets of a CSV file, all or none. Types
/// and locations are named (type name, location path) and must exist; a parent is named
/// by its QR token, of an existing asset or of another row; no asset may end up below
/// itself.
pub async fn import_assets(
    state: &AppState,
    ctx: &AuditCtx,
    data: &[u8],
) -> ApiResult<ImportResult> {
    let table = CsvTable::parse(data, &ASSET_COLUMNS, &["name"])?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let locations = location::Entity::find().all(txn).await?;
    let location_ids: HashMap<String, i64> = paths(&locations)
        .into_iter()
        .map(|(id, p)| (path_key(&p), id))
        .collect();
    let types: HashMap<String, i64> = asset_type::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.name.to_lowercase(), t.id))
        .collect();
    let mut existing: HashMap<String, asset::Model> = asset::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.qr_code.clone(), a))
        .collect();

    let mut rows = Vec::new();
    let mut errs: Vec<FieldError> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, r) in &table.rows {
        let line = *line;
        let qr = text(&table, r, "qr_code").unwrap_or_else(|| random_token(16));
        if qr.len() > 64
            || !qr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.push(FieldError::new(
                format!("line {line}: qr_code"),
                "must be at most 64 letters, digits, '-' or '_'",
            ));
        }
        if let Some(first) = seen.insert(qr.clone(), line) {
            errs.push(FieldError::new(
                format!("line {line}: qr_code"),
                format!("repeats line {first}"),
            ));
        }
        let mut e = Vec::new();
        let asset_type_id = table.get(r, "asset_type").and_then(|t| {
            let id = types.get(&t.to_lowercase()).copied();
            if id.is_none() {
                e.push(FieldError::new(
                    format!("line {line}: asset_type"),
                    format!("no asset type named '{t}'"),
                ));
            }
            id
        });
        let location_id = table.get(r, "location").and_then(|p| {
            let id = location_ids.get(&path_key(p)).copied();
            if id.is_none() {
                e.push(FieldError::new(
                    format!("line {line}: location"),
                    format!("no location '{p}'"),
                ));
            }
            id
        });
        let d = AssetData {
            name: text(&table, r, "name").unwrap_or_default(),
            description: text(&table, r, "description"),
            asset_type_id,
            status: text(&table, r, "status"),
            health_score: num(&table, r, "health_score", &mut e, line),
            location_id,
            manufacturer: text(&table, r, "manufacturer"),
            model: text(&table, r, "model"),
            serial_number: text(&table, r, "serial_number"),
            tag: text(&table, r, "tag"),
            installation_date: day(&table, r, "installation_date", &mut e, line),
            purchase_cost_cents: num(&table, r, "purchase_cost_cents", &mut e, line),
            expected_lifetime: num(&table, r, "expected_lifetime", &mut e, line),
            warranty_expiry_date: day(&table, r, "warranty_expiry_date", &mut e, line),
            criticality: text(&table, r, "criticality"),
            purchase_date: day(&table, r, "purchase_date", &mut e, line),
            last_maintenance_date: day(&table, r, "last_maintenance_date", &mut e, line),
            next_maintenance_date: day(&table, r, "next_maintenance_date", &mut e, line),
            parent_asset_id: None,
            image_url: text(&table, r, "image_url"),
        };
        errs.extend(e);
        match d.validate() {
            Ok(data) => rows.push(AssetRow {
                line,
                qr,
                parent_qr: text(&table, r, "parent_qr_code"),
                data,
            }),
            Err(err) => errs.extend(row_errors(line, err)),
        }
        if errs.len() >= MAX_ROW_ERRORS {
            break;
        }
    }

    // Tags stay unique once the file is applied.
    let mut tag_of: HashMap<&str, Option<String>> = existing
        .values()
        .map(|a| (a.qr_code.as_str(), a.tag.as_deref().map(str::to_lowercase)))
        .collect();
    for row in &rows {
        tag_of.insert(&row.qr, row.data.tag.as_deref().map(str::to_lowercase));
    }
    let mut owners: HashMap<&str, usize> = HashMap::new();
    for tag in tag_of.values().flatten() {
        *owners.entry(tag).or_default() += 1;
    }
    for row in &rows {
        if let Some(tag) = &row.data.tag
            && owners
                .get(tag.to_lowercase().as_str())
                .copied()
                .unwrap_or(0)
                > 1
        {
            errs.push(FieldError::new(
                format!("line {}: tag", row.line),
                format!("'{tag}' is the tag of another asset"),
            ));
        }
    }

    // The parent of every asset once the file is applied; no chain may loop.
    let mut parent_of: HashMap<String, Option<String>> = HashMap::new();
    let qr_of: HashMap<i64, String> = existing
        .values()
        .map(|a| (a.id, a.qr_code.clone()))
        .collect();
    for a in existing.values() {
        parent_of.insert(
            a.qr_code.clone(),
            a.parent_asset_id.and_then(|p| qr_of.get(&p).cloned()),
        );
    }
    for row in &rows {
        if let Some(p) = &row.parent_qr
            && !existing.contains_key(p)
            && !seen.contains_key(p)
        {
            errs.push(FieldError::new(
                format!("line {}: parent_qr_code", row.line),
                format!("no asset has QR code '{p}', here or in the file"),
            ));
        }
        parent_of.insert(row.qr.clone(), row.parent_qr.clone());
    }
    for row in &rows {
        let mut cur = row.parent_qr.clone();
        let mut steps = 0;
        while let Some(p) = cur {
            if p == row.qr || steps > parent_of.len() {
                errs.push(FieldError::new(
                    format!("line {}: parent_qr_code", row.line),
                    "an asset cannot be its own ancestor",
                ));
                break;
            }
            cur = parent_of.get(&p).cloned().flatten();
            steps += 1;
        }
    }
    if !errs.is_empty() {
        return Err(rows_rejected(errs));
    }

    // New rows first, so every parent named by QR token has an id; then each row's
    // final state, written only where it differs.
    let now = Timestamp::now();
    let mut ids: HashMap<String, i64> = existing
        .values()
        .map(|a| (a.qr_code.clone(), a.id))
        .collect();
    let mut fresh: HashMap<String, asset::Model> = HashMap::new();
    for row in rows.iter().filter(|r| !existing.contains_key(&r.qr)) {
        let mut am = asset::ActiveModel {
            qr_code: Set(row.qr.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(ctx.actor_id),
            updated_by: Set(ctx.actor_id),
            version: Set(1),
            ..Default::default()
        };
        fill_asset(&mut am, row.data.clone());
        let model = am.insert(&*work).await?;
        ids.insert(row.qr.clone(), model.id);
        fresh.insert(row.qr.clone(), model);
    }
    let (mut created, mut updated) = (0u64, 0u64);
    for row in rows {
        let mut d = row.data;
        d.parent_asset_id = row.parent_qr.and_then(|q| ids.get(&q).copied());
        if let Some(model) = fresh.remove(&row.qr) {
            let model = if d.parent_asset_id.is_some() {
                let mut am = model.into_active_model();
                am.parent_asset_id = Set(d.parent_asset_id);
                am.update(&*work).await?
            } else {
                model
            };
            let out = asset_out(model);
            work.audit("create", "asset", out.id, None, Some(&out))
                .await?;
            track_downtime(&mut work, out.id, &out.status, None).await?;
            created += 1;
        } else if let Some(old) = existing.remove(&row.qr) {
            if asset_data(&old) == d {
                continue;
            }
            let before = asset_out(old.clone());
            let mut am = old.into_active_model();
            fill_asset(&mut am, d);
            am.updated_at = Set(now);
            am.updated_by = Set(ctx.actor_id);
            let after = asset_out(update_versioned(&*work, am, before.version).await?);
            work.audit("update", "asset", after.id, Some(&before), Some(&after))
                .await?;
            if after.status != before.status {
                track_downtime(&mut work, after.id, &after.status, None).await?;
            }
            updated += 1;
        }
    }
    let result = ImportResult { created, updated };
    imported(&mut work, "asset", "assets:read", &result);
    work.commit().await?;
    Ok(result)
}
