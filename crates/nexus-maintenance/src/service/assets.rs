//! Business rules of locations, asset types and assets: the trees (no cycles, subtree
//! queries by recursive CTE), with audit and events on every change.

use nexus_core::audit::AuditCtx;
use nexus_core::auth::random_token;
use nexus_core::db::stmt;
use nexus_core::extract::IfMatch;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, delete_versioned, find_current, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
};
use sea_orm::{IdenStatic, IntoActiveModel, Iterable};

use super::{must_exist, readers, refuse_cycle, subtree, track_downtime};
use crate::entity::{asset, asset_type, location};
use crate::model::*;

const LOCATIONS_READ: &str = "locations:read";
const ASSETS_READ: &str = "assets:read";

// ---------------------------------------------------------------- locations

pub(crate) fn location_out(l: location::Model) -> LocationOut {
    LocationOut {
        id: l.id,
        name: l.name,
        description: l.description,
        address: l.address,
        city: l.city,
        state: l.state,
        country: l.country,
        postal_code: l.postal_code,
        latitude: l.latitude,
        longitude: l.longitude,
        parent_id: l.parent_id,
        created_at: l.created_at,
        updated_at: l.updated_at,
        version: l.version,
    }
}

pub(crate) fn location_data(l: &location::Model) -> LocationData {
    LocationData {
        name: l.name.clone(),
        description: l.description.clone(),
        address: l.address.clone(),
        city: l.city.clone(),
        state: l.state.clone(),
        country: l.country.clone(),
        postal_code: l.postal_code.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        parent_id: l.parent_id,
    }
}

pub(crate) fn fill_location(am: &mut location::ActiveModel, d: LocationData) {
    am.name = Set(d.name);
    am.description = Set(d.description);
    am.address = Set(d.address);
    am.city = Set(d.city);
    am.state = Set(d.state);
    am.country = Set(d.country);
    am.postal_code = Set(d.postal_code);
    am.latitude = Set(d.latitude);
    am.longitude = Set(d.longitude);
    am.parent_id = Set(d.parent_id);
}

async fn find_location(conn: &impl ConnectionTrait, id: i64) -> ApiResult<location::Model> {
    location::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("location"))
}

/// Locations, sorted (`name` by default) and paged.
pub async fn list_locations(
    conn: &impl ConnectionTrait,
    page: &PageParams,
) -> ApiResult<ListResponse<LocationOut>> {
    let sorts = ["name", "city", "created_at", "updated_at", "id"];
    let list = page_of(
        conn,
        location::Entity::find(),
        page,
        &sorts,
        ("name", false),
    )
    .await?;
    Ok(list.map(location_out))
}

/// Every location, by name: the complete choice list of forms.
pub async fn all_locations(conn: &impl ConnectionTrait) -> ApiResult<Vec<LocationOut>> {
    Ok(location::Entity::find()
        .order_by_asc(location::Column::Name)
        .order_by_asc(location::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(location_out)
        .collect())
}

pub async fn get_location(conn: &impl ConnectionTrait, id: i64) -> ApiResult<LocationOut> {
    find_location(conn, id).await.map(location_out)
}

pub async fn create_location(
    state: &AppState,
    ctx: &AuditCtx,
    req: LocationData,
) -> ApiResult<LocationOut> {
    let d = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    must_exist::<location::Entity>(&*work, d.parent_id, "parent_id", "location").await?;
    let now = Timestamp::now();
    let mut am = location::ActiveModel {
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    fill_location(&mut am, d);
    let out = location_out(am.insert(&*work).await?);
    work.created("location", out.id, &out, readers(LOCATIONS_READ))
        .await?;
    work.commit().await?;
    Ok(out)
}

pub async fn update_location(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateLocation,
) -> ApiResult<LocationOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<location::Entity, _>(txn, id, if_match, "location").await?;
    let mut d = location_data(&current);
    req.apply(&mut d);
    let d = d.validate()?;
    if d.parent_id != current.parent_id {
        must_exist::<location::Entity>(txn, d.parent_id, "parent_id", "location").await?;
        refuse_cycle(
            txn,
            "locations",
            "parent_id",
            id,
            d.parent_id,
            "parent_id",
            "a location cannot be inside itself",
        )
        .await?;
    }
    let before = location_out(current.clone());
    let mut am: location::ActiveModel = current.clone().into();
    fill_location(&mut am, d);
    am.updated_at = Set(Timestamp::now());
    let after = location_out(update_versioned(txn, am, current.version).await?);
    work.updated("location", id, &before, &after, readers(LOCATIONS_READ))
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Deletes a location that holds neither locations nor assets (409 otherwise).
pub async fn delete_location(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<location::Entity, _>(txn, id, if_match, "location").await?;
    let children = location::Entity::find()
        .filter(location::Column::ParentId.eq(id))
        .count(txn)
        .await?;
    let assets = asset::Entity::find()
        .filter(asset::Column::LocationId.eq(id))
        .count(txn)
        .await?;
    if children > 0 || assets > 0 {
        return Err(ApiError::conflict(format!(
            "the location holds {children} location(s) and {assets} asset(s); move them first"
        )));
    }
    delete_versioned::<location::Entity, _>(txn, id, current.version).await?;
    let before = location_out(current);
    work.deleted("location", id, &before, readers(LOCATIONS_READ))
        .await?;
    work.commit().await
}

/// The assets at a location, or with `include_descendants` anywhere below it, by name.
pub async fn location_assets(
    conn: &impl ConnectionTrait,
    id: i64,
    q: &LocationAssetsQuery,
) -> ApiResult<ListResponse<AssetOut>> {
    find_location(conn, id).await?;
    let ids: Vec<i64> = if q.include_descendants.unwrap_or(false) {
        subtree(conn, "locations", "parent_id", id).await?
    } else {
        vec![id]
    };
    let page = PageParams {
        limit: q.limit,
        offset: q.offset,
        sort: None,
    };
    let query = asset::Entity::find().filter(asset::Column::LocationId.is_in(ids));
    let list = page_of(conn, query, &page, &["name"], ("name", false)).await?;
    Ok(list.map(asset_out))
}

// ---------------------------------------------------------------- asset types

fn asset_type_out(t: asset_type::Model) -> AssetTypeOut {
    AssetTypeOut {
        id: t.id,
        name: t.name,
        description: t.description,
        icon: t.icon,
        created_at: t.created_at,
        updated_at: t.updated_at,
        version: t.version,
    }
}

async fn find_asset_type(conn: &impl ConnectionTrait, id: i64) -> ApiResult<asset_type::Model> {
    asset_type::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("asset type"))
}

async fn ensure_type_name_free(
    conn: &impl ConnectionTrait,
    name: &str,
    except: Option<i64>,
) -> ApiResult<()> {
    nexus_core::unique::ensure_free::<asset_type::Entity, _>(
        conn,
        asset_type::Column::Name,
        asset_type::Column::Id,
        name,
        except,
        "name",
        format!("asset type '{name}' exists"),
    )
    .await
}

/// Every asset type, by name: a short list, sent whole.
pub async fn list_asset_types(
    conn: &impl ConnectionTrait,
) -> ApiResult<ListResponse<AssetTypeOut>> {
    let all = asset_type::Entity::find()
        .order_by_asc(asset_type::Column::Name)
        .order_by_asc(asset_type::Column::Id)
        .all(conn)
        .await?;
    Ok(ListResponse::all(all).map(asset_type_out))
}

pub async fn get_asset_type(conn: &impl ConnectionTrait, id: i64) -> ApiResult<AssetTypeOut> {
    find_asset_type(conn, id).await.map(asset_type_out)
}

pub async fn create_asset_type(
    state: &AppState,
    ctx: &AuditCtx,
    req: AssetTypeData,
) -> ApiResult<AssetTypeOut> {
    let d = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    ensure_type_name_free(&*work, &d.name, None).await?;
    let now = Timestamp::now();
    let t = asset_type::ActiveModel {
        name: Set(d.name),
        description: Set(d.description),
        icon: Set(d.icon),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*work)
    .await?;
    let out = asset_type_out(t);
    work.created("asset_type", out.id, &out, readers(ASSETS_READ))
        .await?;
    work.commit().await?;
    Ok(out)
}

pub async fn update_asset_type(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateAssetType,
) -> ApiResult<AssetTypeOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<asset_type::Entity, _>(txn, id, if_match, "asset type").await?;
    let mut d = AssetTypeData {
        name: current.name.clone(),
        description: current.description.clone(),
        icon: current.icon.clone(),
    };
    req.apply(&mut d);
    let d = d.validate()?;
    ensure_type_name_free(txn, &d.name, Some(id)).await?;
    let before = asset_type_out(current.clone());
    let mut am: asset_type::ActiveModel = current.clone().into();
    am.name = Set(d.name);
    am.description = Set(d.description);
    am.icon = Set(d.icon);
    am.updated_at = Set(Timestamp::now());
    let after = asset_type_out(update_versioned(txn, am, current.version).await?);
    work.updated("asset_type", id, &before, &after, readers(ASSETS_READ))
        .await?;
    work.commit().await?;
    Ok(after)
}

/// Deletes an asset type no asset uses (409 otherwise).
pub async fn delete_asset_type(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<asset_type::Entity, _>(txn, id, if_match, "asset type").await?;
    let used = asset::Entity::find()
        .filter(asset::Column::AssetTypeId.eq(id))
        .count(txn)
        .await?;
    if used > 0 {
        return Err(ApiError::conflict(format!(
            "{used} asset(s) are of this type; change them first"
        )));
    }
    delete_versioned::<asset_type::Entity, _>(txn, id, current.version).await?;
    let before = asset_type_out(current);
    work.deleted("asset_type", id, &before, readers(ASSETS_READ))
        .await?;
    work.commit().await
}

// ---------------------------------------------------------------- assets

pub(crate) fn asset_out(a: asset::Model) -> AssetOut {
    AssetOut {
        id: a.id,
        name: a.name,
        description: a.description,
        asset_type_id: a.asset_type_id,
        status: a.status,
        health_score: a.health_score,
        location_id: a.location_id,
        manufacturer: a.manufacturer,
        model: a.model,
        serial_number: a.serial_number,
        tag: a.tag,
        installation_date: a.installation_date,
        purchase_cost_cents: a.purchase_cost_cents,
        expected_lifetime: a.expected_lifetime,
        warranty_expiry_date: a.warranty_expiry_date,
        criticality: a.criticality,
        purchase_date: a.purchase_date,
        last_maintenance_date: a.last_maintenance_date,
        next_maintenance_date: a.next_maintenance_date,
        parent_asset_id: a.parent_asset_id,
        qr_code: a.qr_code,
        image_url: a.image_url,
        created_at: a.created_at,
        updated_at: a.updated_at,
        created_by: a.created_by,
        updated_by: a.updated_by,
        version: a.version,
    }
}

fn date(s: &Option<String>) -> Option<chrono::NaiveDate> {
    s.as_deref().and_then(|s| s.parse().ok())
}

pub(crate) fn asset_data(a: &asset::Model) -> AssetData {
    AssetData {
        name: a.name.clone(),
        description: a.description.clone(),
        asset_type_id: a.asset_type_id,
        status: Some(a.status.clone()),
        health_score: a.health_score.map(i64::from),
        location_id: a.location_id,
        manufacturer: a.manufacturer.clone(),
        model: a.model.clone(),
        serial_number: a.serial_number.clone(),
        tag: a.tag.clone(),
        installation_date: date(&a.installation_date),
        purchase_cost_cents: a.purchase_cost_cents,
        expected_lifetime: a.expected_lifetime.map(i64::from),
        warranty_expiry_date: date(&a.warranty_expiry_date),
        criticality: a.criticality.clone(),
        purchase_date: date(&a.purchase_date),
        last_maintenance_date: date(&a.last_maintenance_date),
        next_maintenance_date: date(&a.next_maintenance_date),
        parent_asset_id: a.parent_asset_id,
        image_url: a.image_url.clone(),
    }
}

/// Copies validated data into the row (ranges were checked, so the narrowing is exact).
pub(crate) fn fill_asset(am: &mut asset::ActiveModel, d: AssetData) {
    let text = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    am.name = Set(d.name);
    am.description = Set(d.description);
    am.asset_type_id = Set(d.asset_type_id);
    am.status = Set(d.status.unwrap_or_else(|| "operational".into()));
    am.health_score = Set(d.health_score.map(|h| h as i32));
    am.location_id = Set(d.location_id);
    am.manufacturer = Set(d.manufacturer);
    am.model = Set(d.model);
    am.serial_number = Set(d.serial_number);
    am.tag = Set(d.tag);
    am.installation_date = Set(text(d.installation_date));
    am.purchase_cost_cents = Set(d.purchase_cost_cents);
    am.expected_lifetime = Set(d.expected_lifetime.map(|m| m as i32));
    am.warranty_expiry_date = Set(text(d.warranty_expiry_date));
    am.criticality = Set(d.criticality);
    am.purchase_date = Set(text(d.purchase_date));
    am.last_maintenance_date = Set(text(d.last_maintenance_date));
    am.next_maintenance_date = Set(text(d.next_maintenance_date));
    am.parent_asset_id = Set(d.parent_asset_id);
    am.image_url = Set(d.image_url);
}

async fn find_asset(conn: &impl ConnectionTrait, id: i64) -> ApiResult<asset::Model> {
    asset::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("asset"))
}

/// 422 naming the field when a referenced type, location or parent does not exist; 409 on
/// `tag` when another asset (not `except`) has the tag.
async fn check_references(
    conn: &impl ConnectionTrait,
    d: &AssetData,
    except: Option<i64>,
) -> ApiResult<()> {
    must_exist::<asset_type::Entity>(conn, d.asset_type_id, "asset_type_id", "asset type").await?;
    must_exist::<location::Entity>(conn, d.location_id, "location_id", "location").await?;
    must_exist::<asset::Entity>(conn, d.parent_asset_id, "parent_asset_id", "asset").await?;
    let Some(tag) = &d.tag else { return Ok(()) };
    nexus_core::unique::ensure_free::<asset::Entity, _>(
        conn,
        asset::Column::Tag,
        asset::Column::Id,
        tag,
        except,
        "tag",
        format!("'{tag}' is the tag of another asset"),
    )
    .await
}

pub async fn list_assets(
    conn: &impl ConnectionTrait,
    f: &AssetFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<AssetOut>> {
    use asset::Column as C;
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = nexus_core::contains_pattern(q);
        cond = cond.add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(C::Name))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(C::SerialNumber))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(C::Tag))).like(pattern)),
        );
    }
    if let Some(s) = &f.status {
        let s = s.trim().to_lowercase();
        if !ASSET_STATUSES.contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "must be operational, maintenance, down or retired",
            ));
        }
        cond = cond.add(C::Status.eq(s));
    }
    if let Some(t) = f.asset_type_id {
        cond = cond.add(C::AssetTypeId.eq(t));
    }
    if let Some(l) = f.location_id {
        cond = cond.add(C::LocationId.eq(l));
    }
    if let Some(p) = f.parent_asset_id {
        cond = cond.add(C::ParentAssetId.eq(p));
    }
    let query = asset::Entity::find().filter(cond);
    let sorts = [
        "name",
        "status",
        "health_score",
        "created_at",
        "updated_at",
        "id",
    ];
    Ok(page_of(conn, query, page, &sorts, ("name", false))
        .await?
        .map(asset_out))
}

/// Where a branch of the location and asset trees hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    /// The top-level locations.
    Locations,
    /// The locations inside a location.
    InsideLocation(i64),
    /// The assets at a location that hang below no asset there.
    AssetsAt(i64),
    /// An asset's components.
    Components(i64),
}

/// One page of a branch of the trees, by name: each node with how many nodes hang below it
/// (locations count their inner locations, assets their components) and, for locations,
/// how many assets stand there.
pub async fn branch(
    conn: &impl ConnectionTrait,
    branch: Branch,
    page: &PageParams,
) -> ApiResult<ListResponse<TreeNode>> {
    let sorts = ["name"];
    let page = page_within(page, 200);
    match branch {
        Branch::Locations | Branch::InsideLocation(_) => {
            let parent = match branch {
                Branch::InsideLocation(id) => location::Column::ParentId.eq(id),
                _ => location::Column::ParentId.is_null(),
            };
            let list = page_of(
                conn,
                location::Entity::find().filter(parent),
                &page,
                &sorts,
                ("name", false),
            )
            .await?;
            let ids: Vec<i64> = list.items.iter().map(|l| l.id).collect();
            let inner = counts_by(conn, "locations", "parent_id", &ids).await?;
            let assets = counts_by(conn, "assets", "location_id", &ids).await?;
            Ok(list.map(|l| TreeNode {
                below: inner.get(&l.id).copied().unwrap_or(0),
                assets: assets.get(&l.id).copied().unwrap_or(0),
                node: TreeItem::Location(Box::new(location_out(l))),
            }))
        }
        Branch::AssetsAt(_) | Branch::Components(_) => {
            let query = match branch {
                Branch::AssetsAt(at) => asset::Entity::find()
                    .filter(asset::Column::LocationId.eq(at))
                    .filter(
                        Condition::any()
                            .add(asset::Column::ParentAssetId.is_null())
                            .add(Expr::cust_with_values(
                                "NOT EXISTS (SELECT 1 FROM assets p \
                                 WHERE p.id = assets.parent_asset_id AND p.location_id = $1)",
                                [at],
                            )),
                    ),
                _ => asset::Entity::find().filter(asset::Column::ParentAssetId.eq(match branch {
                    Branch::Components(id) => id,
                    _ => unreachable!("matched above"),
                })),
            };
            let list = page_of(conn, query, &page, &sorts, ("name", false)).await?;
            let ids: Vec<i64> = list.items.iter().map(|a| a.id).collect();
            let below = counts_by(conn, "assets", "parent_asset_id", &ids).await?;
            Ok(list.map(|a| TreeNode {
                below: below.get(&a.id).copied().unwrap_or(0),
                assets: 0,
                node: TreeItem::Asset(Box::new(asset_out(a))),
            }))
        }
    }
}

/// `page` with its limit at most `max` (a branch is read a screenful at a time).
fn page_within(page: &PageParams, max: u64) -> PageParams {
    PageParams {
        limit: Some(Ord::min(page.limit(), max)),
        ..page.clone()
    }
}

/// How many rows of `table` have each of `ids` in `column`.
async fn counts_by(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    ids: &[i64],
) -> ApiResult<std::collections::HashMap<i64, u64>> {
    #[derive(FromQueryResult)]
    struct Counted {
        id: i64,
        n: i64,
    }
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT {column} AS id, COUNT(*) AS n FROM {table} WHERE {column} IN ({list}) GROUP BY {column}"
    );
    let rows = Counted::find_by_statement(stmt(conn.get_database_backend(), &sql, vec![]))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, u64::try_from(r.n).unwrap_or(0)))
        .collect())
}

pub async fn get_asset(conn: &impl ConnectionTrait, id: i64) -> ApiResult<AssetOut> {
    find_asset(conn, id).await.map(asset_out)
}

/// The asset and every component below it, root first, with depths: one query, the
/// recursive CTE joined back to the rows. SQLite packs them into one JSON value (its
/// driver hands rows over one at a time); PostgreSQL sends rows, as its JSON functions
/// cost more than the transfer.
pub async fn asset_subtree(
    conn: &impl ConnectionTrait,
    id: i64,
) -> ApiResult<ListResponse<SubtreeItem>> {
    find_asset(conn, id).await?;
    let backend = conn.get_database_backend();
    let sqlite = backend == sea_orm::DatabaseBackend::Sqlite;
    let select = if sqlite {
        let fields: Vec<String> = asset::Column::iter()
            .map(|c| format!("'{0}', a.\"{0}\"", c.as_str()))
            .collect();
        format!(
            "json_group_array(json_array(t.depth, json_object({}))) AS packed",
            fields.join(", ")
        )
    } else {
        "a.*, t.depth AS depth".into()
    };
    let sql = format!(
        "WITH RECURSIVE t(id, depth) AS (\
           SELECT id, CAST(0 AS BIGINT) FROM assets WHERE id = $1 \
           UNION ALL SELECT c.id, t.depth + 1 FROM assets c JOIN t ON c.parent_asset_id = t.id) \
         SELECT {select} FROM t JOIN assets a ON a.id = t.id"
    );
    let rows = conn
        .query_all_raw(stmt(backend, &sql, vec![id.into()]))
        .await?;
    let mut nodes: Vec<(i64, asset::Model)> = if sqlite {
        let packed: String = match rows.first() {
            Some(row) => row.try_get("", "packed")?,
            None => "[]".into(),
        };
        serde_json::from_str(&packed).map_err(ApiError::internal)?
    } else {
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("", "depth")?,
                    asset::Model::from_query_result(row, "")?,
                ))
            })
            .collect::<ApiResult<Vec<_>>>()?
    };
    nodes.sort_by_key(|(depth, a)| (*depth, a.id));
    Ok(ListResponse::all(nodes).map(|(depth, a)| SubtreeItem {
        depth,
        asset: asset_out(a),
    }))
}

pub async fn create_asset(state: &AppState, ctx: &AuditCtx, req: AssetData) -> ApiResult<AssetOut> {
    let d = req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    check_references(&*work, &d, None).await?;
    let now = Timestamp::now();
    let mut am = asset::ActiveModel {
        qr_code: Set(random_token(16)),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(ctx.actor_id),
        updated_by: Set(ctx.actor_id),
        version: Set(1),
        ..Default::default()
    };
    fill_asset(&mut am, d);
    let out = asset_out(am.insert(&*work).await?);
    work.created("asset", out.id, &out, readers(ASSETS_READ))
        .await?;
    track_downtime(&mut work, out.id, &out.status, None).await?;
    work.commit().await?;
    Ok(out)
}

/// Sets an asset's health score (0-100, as computed by predictions) inside the caller's
/// unit of work, written over the version read; `asset.updated` follows the commit.
/// `None` when the score did not change.
pub async fn set_health(work: &mut Work<'_>, id: i64, score: i32) -> ApiResult<Option<AssetOut>> {
    let Some((before, after)) = health_change(&**work, work.ctx(), id, score).await? else {
        return Ok(None);
    };
    work.updated("asset", id, &before, &after, readers(ASSETS_READ))
        .await?;
    Ok(Some(after))
}

/// Records that maintenance on asset `id` was completed on `day` (its
/// `last_maintenance_date`, never moved back), audited and announced as a change of the
/// asset; `None` when it already says so.
pub async fn set_last_maintenance(
    work: &mut Work<'_>,
    id: i64,
    day: chrono::NaiveDate,
) -> ApiResult<Option<AssetOut>> {
    let current = find_asset(&**work, id).await?;
    let day = day.to_string();
    if current
        .last_maintenance_date
        .as_ref()
        .is_some_and(|d| *d >= day)
    {
        return Ok(None);
    }
    let before = asset_out(current.clone());
    let mut am = current.into_active_model();
    am.last_maintenance_date = Set(Some(day));
    am.updated_at = Set(Timestamp::now());
    am.updated_by = Set(work.ctx().actor_id);
    let after = asset_out(update_versioned(&**work, am, before.version).await?);
    work.updated("asset", id, &before, &after, readers(ASSETS_READ))
        .await?;
    Ok(Some(after))
}

/// Writes a new health score, returning the asset before and after; `None` when unchanged.
pub(super) async fn health_change(
    conn: &impl ConnectionTrait,
    ctx: &AuditCtx,
    id: i64,
    score: i32,
) -> ApiResult<Option<(AssetOut, AssetOut)>> {
    let current = find_asset(conn, id).await?;
    let score = score.clamp(0, 100);
    if current.health_score == Some(score) {
        return Ok(None);
    }
    let before = asset_out(current.clone());
    let mut am = current.into_active_model();
    am.health_score = Set(Some(score));
    am.updated_at = Set(Timestamp::now());
    am.updated_by = Set(ctx.actor_id);
    let after = asset_out(update_versioned(conn, am, before.version).await?);
    Ok(Some((before, after)))
}

/// Changes an asset; a new `parent_asset_id` moves it with its components, never below
/// itself. A status change to `down` opens a downtime interval (with `downtime_reason`);
/// back to `operational` or to `retired` closes it.
pub async fn update_asset(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    mut req: UpdateAsset,
) -> ApiResult<AssetOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<asset::Entity, _>(txn, id, if_match, "asset").await?;
    let reason = req.downtime_reason()?;
    let mut d = asset_data(&current);
    req.apply(&mut d);
    let d = d.validate()?;
    check_references(txn, &d, Some(id)).await?;
    if d.parent_asset_id != current.parent_asset_id {
        refuse_cycle(
            txn,
            "assets",
            "parent_asset_id",
            id,
            d.parent_asset_id,
            "parent_asset_id",
            "an asset cannot be inside itself",
        )
        .await?;
    }
    let before = asset_out(current.clone());
    let mut am: asset::ActiveModel = current.clone().into();
    fill_asset(&mut am, d);
    am.updated_at = Set(Timestamp::now());
    am.updated_by = Set(ctx.actor_id);
    let after = asset_out(update_versioned(txn, am, current.version).await?);
    work.updated("asset", id, &before, &after, readers(ASSETS_READ))
        .await?;
    if after.status != before.status {
        track_downtime(&mut work, id, &after.status, reason).await?;
    }
    work.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- choosing by name

/// How an asset is named where people choose it: `name · tag`, `name · S/N serial`, or
/// the name alone. [`resolve_asset`] reads it back.
pub fn asset_label(a: &AssetOut) -> String {
    match (&a.tag, &a.serial_number) {
        (Some(t), _) => format!("{} · {t}", a.name),
        (None, Some(s)) => format!("{} · S/N {s}", a.name),
        _ => a.name.clone(),
    }
}

/// The assets whose name, tag or serial number contains `text` (all when it is blank),
/// by name, at most `limit`, with the number of matches.
pub async fn suggest_assets(
    conn: &impl ConnectionTrait,
    text: &str,
    limit: u64,
) -> ApiResult<(Vec<AssetOut>, u64)> {
    let f = AssetFilter {
        q: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        ..Default::default()
    };
    let page = PageParams {
        limit: Some(limit),
        ..Default::default()
    };
    let found = list_assets(conn, &f, &page).await?;
    Ok((found.items, found.total))
}

/// The one asset `text` names, as a person types it: its label ([`asset_label`]), its tag,
/// serial number or name (ignoring case), or else the only asset whose name, tag or serial
/// number contains it. 422 on `field` when no asset or several match.
pub async fn resolve_asset(
    conn: &impl ConnectionTrait,
    field: &str,
    text: &str,
) -> ApiResult<AssetOut> {
    use asset::Column as C;
    let text = text.trim();
    let lower = |c: C| Expr::expr(Func::lower(Expr::col(c)));
    if let Some((name, key)) = text.rsplit_once(" · ") {
        let (col, key) = match key.trim().strip_prefix("S/N ") {
            Some(serial) => (C::SerialNumber, serial),
            None => (C::Tag, key.trim()),
        };
        let found = asset::Entity::find()
            .filter(lower(col).eq(key.to_lowercase()))
            .filter(lower(C::Name).eq(name.trim().to_lowercase()))
            .all(conn)
            .await?;
        if let [one] = found.as_slice() {
            return Ok(asset_out(one.clone()));
        }
    }
    let wanted = text.to_lowercase();
    let exact = asset::Entity::find().filter(
        Condition::any()
            .add(lower(C::Name).eq(wanted.clone()))
            .add(lower(C::Tag).eq(wanted.clone()))
            .add(lower(C::SerialNumber).eq(wanted)),
    );
    let n = exact.clone().count(conn).await?;
    if n == 1
        && let Some(one) = exact.one(conn).await?
    {
        return Ok(asset_out(one));
    }
    let n = if n > 1 {
        n
    } else {
        let (found, total) = suggest_assets(conn, text, 1).await?;
        if let (1, Some(one)) = (total, found.into_iter().next()) {
            return Ok(one);
        }
        total
    };
    Err(ApiError::invalid(
        field,
        if n == 0 {
            format!("no asset has a name, tag or serial number like “{text}”")
        } else {
            format!("choose one of the {n} assets matching “{text}”")
        },
    ))
}
