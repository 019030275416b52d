//! Business rules of production tracking: work centers, recording and reversing
//! movements with WIP enforced in the database, lists, reports from the daily rollup.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{self, Audience, Event, Heard};
use nexus_core::extract::IfMatch;
use nexus_core::plant::{self, Plant};
use nexus_core::write::{Work, find_current, to_json, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, Db, Timestamp, Validator, settings};
use nexus_core::{ListResponse, PageParams};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, Value,
};
use tokio::sync::{mpsc, oneshot};

use crate::entity::{daily, movement, wip, work_center};
use crate::model::*;

/// The work centers created on first start (`004_cce711f8dcf04044.txt`), with the
/// department each belongs to.
pub const DEFAULT_WORK_CENTERS: [(&str, &str, &str); 5] = [
    ("WC001", "Assembly", "Production"),
    ("WC002", "Machining", "Production"),
    ("WC003", "Welding", "Production"),
    ("WC004", "Painting", "Production"),
    ("WC005", "Quality Control", "Quality Control"),
];

const SETTINGS_KEY: &str = "production";

/// What the hot path reads from memory instead of the database: work centers and settings.
pub struct ProductionState {
    work_centers: RwLock<HashMap<i64, WorkCenterOut>>,
    settings: RwLock<(ProductionSettings, Tz)>,
    /// The queue of the movement writer (group commit).
    writer: mpsc::Sender<Job>,
}

impl ProductionState {
    pub fn work_center(&self, id: i64) -> Option<WorkCenterOut> {
        self.work_centers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Every work center, by code.
    pub fn work_centers(&self) -> Vec<WorkCenterOut> {
        let mut all: Vec<_> = self
            .work_centers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.code.cmp(&b.code));
        all
    }

    pub fn settings(&self) -> (ProductionSettings, Tz) {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn code(&self, id: i64) -> String {
        self.work_center(id).map(|w| w.code).unwrap_or_default()
    }
}

/// The plant-local calendar day of an instant, `YYYY-MM-DD`.
pub fn local_day(at: Timestamp, tz: &Tz) -> String {
    at.to_datetime()
        .with_timezone(tz)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// The instant a plant-local day starts.
pub fn day_start(day: NaiveDate, tz: &Tz) -> Timestamp {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let local = tz
        .from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&midnight));
    Timestamp::from_datetime(local.with_timezone(&chrono::Utc))
}

fn parse_tz(name: &str) -> ApiResult<Tz> {
    nexus_core::plant::parse_timezone(name).ok_or_else(|| {
        ApiError::invalid(
            "timezone",
            format!(
                "'{}' is not an IANA time zone like Europe/Berlin",
                name.trim()
            ),
        )
    })
}

// ---------------------------------------------------------------- setup

/// Creates the default work centers on first start, loads the caches, and keeps them
/// current with changes made on any node.
pub async fn setup(state: &AppState) -> ApiResult<()> {
    let db = state.db.write();
    if work_center::Entity::find().count(db).await? == 0 {
        let txn = db.begin().await?;
        let now = Timestamp::now();
        for (code, name, dept) in DEFAULT_WORK_CENTERS {
            let department = nexus_identity::entity::department::Entity::find()
                .filter(nexus_identity::entity::department::Column::Name.eq(dept))
                .one(&txn)
                .await?
                .map(|d| d.id);
            work_center::ActiveModel {
                code: Set(code.into()),
                name: Set(name.into()),
                department_id: Set(department),
                is_active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
    }
    let settings: ProductionSettings = settings::get(db, SETTINGS_KEY).await?.unwrap_or_default();
    let tz = parse_tz(&settings.timezone).unwrap_or(Tz::UTC);
    let (writer, jobs) = mpsc::channel(4 * MAX_BATCH);
    let cache = Arc::new(ProductionState {
        work_centers: RwLock::new(HashMap::new()),
        settings: RwLock::new((settings, tz)),
        writer,
    });
    reload_work_centers(&state.db, &cache).await?;
    state.domains.insert(cache.clone());
    tokio::spawn(write_movements(state.clone(), jobs));
    follow_plant_timezone(state).await?;

    // The plant's time zone changed (here; other nodes hear `production_settings.updated`
    // once this one has re-counted): count days in it.
    let following = state.clone();
    events::on_local(&state.events, &["plant.updated"], move |_heard| {
        let state = following.clone();
        async move {
            if let Err(e) = follow_plant_timezone(&state).await {
                tracing::error!(error = %e, "re-counting production days in the plant's time zone");
            }
        }
    });

    let db = state.db.clone();
    events::on(
        &state.events,
        &["work_center", "production_settings.updated"],
        move |heard| {
            let (db, cache) = (db.clone(), cache.clone());
            async move {
                match heard {
                    Heard::Event(e) if e.kind == "production_settings.updated" => {
                        if let Ok(Some(s)) =
                            settings::get::<_, ProductionSettings>(db.read(), SETTINGS_KEY).await
                        {
                            let tz = parse_tz(&s.timezone).unwrap_or(Tz::UTC);
                            *cache.settings.write().unwrap_or_else(|e| e.into_inner()) = (s, tz);
                        }
                    }
                    _ => {
                        let _ = reload_work_centers(&db, &cache).await;
                    }
                }
            }
        },
    );
    Ok(())
}

fn cache(state: &AppState) -> Arc<ProductionState> {
    state.domains.get::<Arc<ProductionState>>().as_ref().clone()
}

async fn reload_work_centers(db: &Db, cache: &ProductionState) -> ApiResult<()> {
    let all = work_center::Entity::find().all(db.write()).await?;
    let map = all
        .into_iter()
        .map(|w| (w.id, work_center_out(w)))
        .collect();
    *cache
        .work_centers
        .write()
        .unwrap_or_else(|e| e.into_inner()) = map;
    Ok(())
}

// ---------------------------------------------------------------- work centers

fn work_center_out(w: work_center::Model) -> WorkCenterOut {
    WorkCenterOut {
        id: w.id,
        code: w.code,
        name: w.name,
        department_id: w.department_id,
        is_active: w.is_active,
        created_at: w.created_at,
        updated_at: w.updated_at,
        version: w.version,
    }
}

pub fn list_work_centers(state: &AppState, f: &WorkCenterFilter) -> Vec<WorkCenterOut> {
    cache(state)
        .work_centers()
        .into_iter()
        .filter(|w| f.is_active.is_none_or(|a| w.is_active == a))
        .filter(|w| f.department_id.is_none_or(|d| w.department_id == Some(d)))
        .collect()
}

pub fn get_work_center(state: &AppState, id: i64) -> ApiResult<WorkCenterOut> {
    cache(state)
        .work_center(id)
        .ok_or_else(|| ApiError::not_found("work center"))
}

pub async fn create_work_center(
    state: &AppState,
    ctx: &AuditCtx,
    req: CreateWorkCenter,
) -> ApiResult<WorkCenterOut> {
    let code = req.code.trim().to_uppercase();
    let name = req.name.trim().to_string();
    let mut v = Validator::new();
    valid_code(&mut v, &code);
    v.text("name", &name, 1, 100);
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    nexus_core::unique::ensure_free::<work_center::Entity, _>(
        txn,
        work_center::Column::Code,
        work_center::Column::Id,
        &code,
        None,
        "code",
        format!("work center code '{}' is taken", &code),
    )
    .await?;
    nexus_identity::service::check_department(txn, req.department_id).await?;
    let now = Timestamp::now();
    let w = work_center::ActiveModel {
        code: Set(code),
        name: Set(name),
        department_id: Set(req.department_id),
        is_active: Set(req.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let out = work_center_out(w);
    work.created("work_center", out.id, &out, Audience::All)
        .await?;
    work.commit().await?;
    reload_work_centers(&state.db, &cache(state)).await?;
    Ok(out)
}

pub async fn update_work_center(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateWorkCenter,
) -> ApiResult<WorkCenterOut> {
    let code = req.code.map(|c| c.trim().to_uppercase());
    let name = req.name.map(|n| n.trim().to_string());
    let mut v = Validator::new();
    if let Some(c) = &code {
        valid_code(&mut v, c);
    }
    if let Some(n) = &name {
        v.text("name", n, 1, 100);
    }
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<work_center::Entity, _>(txn, id, if_match, "work center").await?;
    let before = work_center_out(current.clone());
    let mut am: work_center::ActiveModel = current.clone().into();
    if let Some(c) = code {
        nexus_core::unique::ensure_free::<work_center::Entity, _>(
            txn,
            work_center::Column::Code,
            work_center::Column::Id,
            &c,
            Some(id),
            "code",
            format!("work center code '{c}' is taken"),
        )
        .await?;
        am.code = Set(c);
    }
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(d) = req.department_id {
        nexus_identity::service::check_department(txn, d).await?;
        am.department_id = Set(d);
    }
    if let Some(a) = req.is_active {
        am.is_active = Set(a);
    }
    am.updated_at = Set(Timestamp::now());
    let after = work_center_out(update_versioned(txn, am, current.version).await?);
    work.updated("work_center", id, &before, &after, Audience::All)
        .await?;
    work.commit().await?;
    reload_work_centers(&state.db, &cache(state)).await?;
    Ok(after)
}

// ---------------------------------------------------------------- settings

/// The settings as the API shows them: the time zone is the plant's.
pub fn get_settings(state: &AppState) -> ProductionSettings {
    ProductionSettings {
        timezone: state.plant.get().timezone.name().to_string(),
        ..cache(state).settings().0
    }
}

/// Changes the settings; a new time zone is the plant's (`nexus_core::plant`), and the
/// daily rollup is re-counted in it.
pub async fn set_settings(
    state: &AppState,
    ctx: &AuditCtx,
    req: ProductionSettings,
) -> ApiResult<ProductionSettings> {
    let tz = parse_tz(&req.timezone)?;
    let req = ProductionSettings {
        timezone: tz.name().to_string(),
        allow_negative_wip: req.allow_negative_wip,
    };
    let cache = cache(state);
    let before = get_settings(state);
    let mut work = Work::begin(state, ctx).await?;
    lock_rollup(&*work).await?;
    // As stored, not as this node last heard: another node may have changed the currency.
    let plant_before = plant::load(&*work).await?;
    let plant_after = Plant {
        timezone: tz,
        ..plant_before.clone()
    };
    let stored: ProductionSettings = settings::get(&*work, SETTINGS_KEY)
        .await?
        .unwrap_or_default();
    settings::set(&*work, SETTINGS_KEY, &req).await?;
    if parse_tz(&stored.timezone).ok() != Some(tz) {
        rebuild_daily(&*work, &tz).await?;
    }
    if plant_before != plant_after {
        plant::write(&mut work, &plant_before, &plant_after).await?;
    }
    work.updated("production_settings", 0, &before, &req, Audience::All)
        .await?;
    work.commit().await?;
    state.plant.set(plant_after);
    *cache.settings.write().unwrap_or_else(|e| e.into_inner()) = (req.clone(), tz);
    Ok(req)
}

/// Serialises the transactions that re-count the daily rollup (PostgreSQL; SQLite runs
/// one writer at a time), so two nodes never count it twice over.
async fn lock_rollup<C: ConnectionTrait>(conn: &C) -> ApiResult<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(stmt(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![ROLLUP_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The advisory lock of [`lock_rollup`]: "nexuspro" in ASCII.
const ROLLUP_LOCK: i64 = 0x6e65_7875_7370_726f;

/// Makes the daily rollup count days in the plant's time zone when it counts them in
/// another (the plant's zone changed, or this database was counted before): re-counts
/// it in one transaction and tells every node. The plant is read from the database, which
/// is ahead of this node's memory while `plant.updated` is being heard.
async fn follow_plant_timezone(state: &AppState) -> ApiResult<()> {
    let cache = cache(state);
    if cache.settings().1 == plant::load(state.db.write()).await?.timezone {
        return Ok(());
    }
    let ctx = AuditCtx::default();
    let mut work = Work::begin(state, &ctx).await?;
    lock_rollup(&*work).await?;
    let plant_tz = plant::load(&*work).await?.timezone;
    let before: ProductionSettings = settings::get(&*work, SETTINGS_KEY)
        .await?
        .unwrap_or_default();
    let after = ProductionSettings {
        timezone: plant_tz.name().to_string(),
        ..before.clone()
    };
    if parse_tz(&before.timezone).ok() != Some(plant_tz) {
        settings::set(&*work, SETTINGS_KEY, &after).await?;
        rebuild_daily(&*work, &plant_tz).await?;
        work.updated("production_settings", 0, &before, &after, Audience::All)
            .await?;
    }
    work.commit().await?;
    *cache.settings.write().unwrap_or_else(|e| e.into_inner()) = (after, plant_tz);
    Ok(())
}

/// Re-counts the whole daily rollup from the movements, in `tz`.
async fn rebuild_daily<C: ConnectionTrait>(conn: &C, tz: &Tz) -> ApiResult<()> {
    daily::Entity::delete_many().exec(conn).await?;
    let mut buckets: HashMap<(String, i64, String), (i64, i64, i64)> = HashMap::new();
    let mut after = 0i64;
    loop {
        let rows = movement::Entity::find()
            .filter(movement::Column::Id.gt(after))
            .order_by_asc(movement::Column::Id)
            .limit(10_000)
            .all(conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for m in rows {
            let sign = if m.reverses_id.is_some() { -1 } else { 1 };
            let original_at = match m.reverses_id {
                Some(orig) => movement::Entity::find_by_id(orig)
                    .one(conn)
                    .await?
                    .map(|o| o.created_at)
                    .unwrap_or(m.created_at),
                None => m.created_at,
            };
            let e = buckets
                .entry((local_day(original_at, tz), m.workcenter_id, m.order_type))
                .or_default();
            e.0 += sign;
            e.1 += sign * i64::from(m.quantity);
            e.2 += sign * i64::from(m.scrap_quantity);
        }
    }
    write_daily_deltas(conn, &buckets).await
}

/// Adds per-bucket deltas to the daily rollup, many buckets per statement.
pub async fn write_daily_deltas<C: ConnectionTrait>(
    conn: &C,
    buckets: &HashMap<(String, i64, String), (i64, i64, i64)>,
) -> ApiResult<()> {
    let entries: Vec<_> = buckets.iter().collect();
    for chunk in entries.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO production_daily (day, workcenter_id, order_type, movements, quantity, scrap) VALUES ",
        );
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for (i, ((day, wc, ty), (n, q, s))) in chunk.iter().enumerate() {
            let b = i * 6;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
            values.extend([
                Value::from(day.clone()),
                Value::from(*wc),
                Value::from(ty.clone()),
                Value::from(*n),
                Value::from(*q),
                Value::from(*s),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (day, workcenter_id, order_type) DO UPDATE SET \
             movements = production_daily.movements + excluded.movements, \
             quantity = production_daily.quantity + excluded.quantity, \
             scrap = production_daily.scrap + excluded.scrap",
        );
        conn.execute_raw(stmt(conn.get_database_backend(), &sql, values))
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- movements

pub fn movement_out(m: movement::Model) -> MovementOut {
    MovementOut {
        id: m.id,
        production_order: m.production_order,
        workcenter_id: m.workcenter_id,
        quantity: m.quantity,
        order_type: m.order_type,
        scrap_quantity: m.scrap_quantity,
        shift: m.shift,
        note: m.note,
        user_id: m.user_id,
        reverses_id: m.reverses_id,
        created_at: m.created_at,
    }
}

#[derive(FromQueryResult)]
struct WipRow {
    wip: i64,
}

/// WIP of one order at one work center (0 when it never arrived).
async fn current_wip<C: ConnectionTrait>(conn: &C, order: &str, wc: i64) -> ApiResult<i64> {
    Ok(wip::Entity::find_by_id((order.to_string(), wc))
        .one(conn)
        .await?
        .map(|w| w.qty_in - w.qty_out)
        .unwrap_or(0))
}

/// Moves `delta_in`/`delta_out` units on the order's WIP at `wc`. When `guard` is set the
/// change applies only if WIP stays at or above zero, checked by the database in the same
/// statement, so two concurrent requests cannot both take the last units. Returns the new
/// WIP, or `None` when the guard refused.
async fn apply_wip<C: ConnectionTrait>(
    conn: &C,
    order: &str,
    wc: i64,
    delta_in: i64,
    delta_out: i64,
    guard: bool,
    now: Timestamp,
) -> ApiResult<Option<i64>> {
    let backend = conn.get_database_backend();
    let row = if guard {
        // Only an existing row can hold units to take away.
        let sql = "UPDATE wip SET qty_in = qty_in + $1, qty_out = qty_out + $2, updated_at = $3 \
                   WHERE production_order = $4 AND workcenter_id = $5 AND qty_in + $1 - qty_out - $2 >= 0 \
                   RETURNING qty_in - qty_out AS wip";
        WipRow::find_by_statement(stmt(
            backend,
            sql,
            vec![
                delta_in.into(),
                delta_out.into(),
                now.0.into(),
                order.into(),
                wc.into(),
            ],
        ))
        .one(conn)
        .await?
    } else {
        let sql = "INSERT INTO wip (production_order, workcenter_id, qty_in, qty_out, updated_at) \
                   VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (production_order, workcenter_id) DO UPDATE SET \
                   qty_in = wip.qty_in + excluded.qty_in, qty_out = wip.qty_out + excluded.qty_out, \
                   updated_at = excluded.updated_at RETURNING qty_in - qty_out AS wip";
        WipRow::find_by_statement(stmt(
            backend,
            sql,
            vec![
                order.into(),
                wc.into(),
                delta_in.into(),
                delta_out.into(),
                now.0.into(),
            ],
        ))
        .one(conn)
        .await?
    };
    Ok(row.map(|r| r.wip))
}

fn not_enough(order: &str, code: &str, have: i64, want: i64) -> ApiError {
    ApiError::conflict_on(
        "quantity",
        format!("only {have} unit(s) of order {order} are at {code}; cannot move {want} out"),
    )
}

/// A movement waiting for the writer, with where to send its outcome.
struct Job {
    movement: NewMovement,
    code: String,
    user_id: i64,
    guard: bool,
    reply: oneshot::Sender<ApiResult<RecordedMovement>>,
}

/// Most movements committed in one transaction.
const MAX_BATCH: usize = 256;

/// Records one movement. Validation happens here; the write joins the writer's next
/// transaction (group commit), which applies WIP, the movement row and the daily rollup
/// for every queued movement at once and answers each on commit.
pub async fn record(
    state: &AppState,
    user_id: i64,
    req: RecordMovement,
) -> ApiResult<RecordedMovement> {
    let mut v = Validator::new();
    let m = req.validate(&mut v, "");
    v.finish()?;
    let Some(m) = m else {
        return Err(ApiError::invalid("body", "invalid movement"));
    };
    let cache = cache(state);
    let wc = cache.work_center(m.workcenter_id).ok_or_else(|| {
        ApiError::invalid(
            "workcenter_id",
            format!("no work center with id {}", m.workcenter_id),
        )
    })?;
    if !wc.is_active {
        return Err(ApiError::conflict_on(
            "workcenter_id",
            format!(
                "work center {} is inactive and takes no new movements",
                wc.code
            ),
        ));
    }
    let (settings, _) = cache.settings();
    let (reply, outcome) = oneshot::channel();
    let job = Job {
        guard: m.order_type == OrderType::Out && !settings.allow_negative_wip,
        movement: m,
        code: wc.code,
        user_id,
        reply,
    };
    cache
        .writer
        .send(job)
        .await
        .map_err(|_| ApiError::internal("the movement writer has stopped"))?;
    outcome
        .await
        .map_err(|_| ApiError::internal("the movement writer dropped a movement"))?
}

/// The one task that writes recorded movements, many per transaction; `/metrics` shows
/// its queue and batch sizes (`writer="production"`).
async fn write_movements(state: AppState, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        metrics::gauge!("writer_queue_depth", "writer" => "production").set(rx.len() as f64);
        metrics::histogram!("writer_batch_size", "writer" => "production")
            .record(jobs.len() as f64);
        let outcomes = match write_batch(&state, &jobs).await {
            Ok(outcomes) => outcomes,
            // The database is away: this batch and those queued behind it fail at once,
            // rather than each waiting out a connection attempt of its own.
            Err(ApiError::Unavailable) => {
                while let Ok(job) = rx.try_recv() {
                    jobs.push(job);
                }
                jobs.iter().map(|_| Err(ApiError::Unavailable)).collect()
            }
            // A database error fails the whole batch: write each movement alone so only
            // the one at fault fails.
            Err(_) if jobs.len() > 1 => {
                let mut outcomes = Vec::with_capacity(jobs.len());
                for job in &jobs {
                    outcomes.push(match write_batch(&state, std::slice::from_ref(job)).await {
                        Ok(mut one) => one
                            .pop()
                            .unwrap_or_else(|| Err(ApiError::internal("no outcome"))),
                        Err(e) => Err(e),
                    });
                }
                outcomes
            }
            Err(e) => vec![Err(e)],
        };
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            if let Ok(out) = &outcome {
                state.events.publish(Event::new(
                    "production_order",
                    "created",
                    out.movement.id,
                    to_json(out),
                    Audience::Permission("production:read".into()),
                ));
            }
            let _ = job.reply.send(outcome);
        }
        metrics::gauge!("writer_queue_depth", "writer" => "production").set(rx.len() as f64);
    }
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// Writes a batch in one transaction; a movement refused by the WIP guard changes
/// nothing and gets its 409, the others commit.
async fn write_batch(
    state: &AppState,
    jobs: &[Job],
) -> ApiResult<Vec<ApiResult<RecordedMovement>>> {
    let (_, tz) = cache(state).settings();
    let txn = state.db.write().begin().await?;
    let backend = txn.get_database_backend();
    let mut buckets: HashMap<(String, i64, String), (i64, i64, i64)> = HashMap::new();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let m = &job.movement;
        let now = Timestamp::now();
        let q = i64::from(m.quantity);
        let (d_in, d_out) = match m.order_type {
            OrderType::In => (q, 0),
            OrderType::Out => (0, q),
        };
        let Some(wip_after) = apply_wip(
            &txn,
            &m.production_order,
            m.workcenter_id,
            d_in,
            d_out,
            job.guard,
            now,
        )
        .await?
        else {
            let have = current_wip(&txn, &m.production_order, m.workcenter_id).await?;
            outcomes.push(Err(not_enough(&m.production_order, &job.code, have, q)));
            continue;
        };
        let sql = "INSERT INTO production_orders (production_order, workcenter_id, quantity, order_type, \
                   scrap_quantity, shift, note, user_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id";
        let values = vec![
            m.production_order.clone().into(),
            m.workcenter_id.into(),
            m.quantity.into(),
            m.order_type.as_str().into(),
            m.scrap_quantity.into(),
            m.shift.clone().into(),
            m.note.clone().into(),
            job.user_id.into(),
            now.0.into(),
        ];
        let id = IdRow::find_by_statement(stmt(backend, sql, values))
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::internal("insert returned no id"))?
            .id;
        let b = buckets
            .entry((
                local_day(now, &tz),
                m.workcenter_id,
                m.order_type.as_str().to_string(),
            ))
            .or_default();
        b.0 += 1;
        b.1 += q;
        b.2 += i64::from(m.scrap_quantity);
        outcomes.push(Ok(RecordedMovement {
            movement: MovementOut {
                id,
                production_order: m.production_order.clone(),
                workcenter_id: m.workcenter_id,
                quantity: m.quantity,
                order_type: m.order_type.as_str().into(),
                scrap_quantity: m.scrap_quantity,
                shift: m.shift.clone(),
                note: m.note.clone(),
                user_id: job.user_id,
                reverses_id: None,
                created_at: now,
            },
            wip: wip_after,
        }));
    }
    write_daily_deltas(&txn, &buckets).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// Undoes a movement with a reversal that references it; audited. The rollup of the
/// original's day is corrected, so reports read as if the mistake never happened.
pub async fn reverse(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    req: ReverseMovement,
) -> ApiResult<RecordedMovement> {
    let note = nexus_core::validate::clean(req.note);
    let mut v = Validator::new();
    v.opt_text("note", note.as_deref(), 500);
    v.finish()?;
    let cache = cache(state);
    let (settings, tz) = cache.settings();
    let now = Timestamp::now();
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let original = movement::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::not_found("movement"))?;
    if original.reverses_id.is_some() {
        return Err(ApiError::conflict("a reversal cannot itself be reversed"));
    }
    let already = movement::Entity::find()
        .filter(movement::Column::ReversesId.eq(id))
        .count(txn)
        .await?;
    if already > 0 {
        return Err(ApiError::conflict("this movement was already reversed"));
    }
    let q = i64::from(original.quantity);
    let code = cache.code(original.workcenter_id);
    let (d_in, d_out) = if original.order_type == "IN" {
        (-q, 0)
    } else {
        (0, -q)
    };
    let guard = original.order_type == "IN" && !settings.allow_negative_wip;
    let Some(wip_after) = apply_wip(
        txn,
        &original.production_order,
        original.workcenter_id,
        d_in,
        d_out,
        guard,
        now,
    )
    .await?
    else {
        let have = current_wip(txn, &original.production_order, original.workcenter_id).await?;
        return Err(ApiError::conflict(format!(
            "only {have} unit(s) of order {} remain at {code}; the {q} moved in have already moved on",
            original.production_order
        )));
    };
    let row = movement::ActiveModel {
        production_order: Set(original.production_order.clone()),
        workcenter_id: Set(original.workcenter_id),
        quantity: Set(original.quantity),
        order_type: Set(original.order_type.clone()),
        scrap_quantity: Set(original.scrap_quantity),
        shift: Set(original.shift.clone()),
        note: Set(note.or_else(|| Some(format!("reversal of movement {id}")))),
        user_id: Set(ctx.actor_id.unwrap_or(original.user_id)),
        reverses_id: Set(Some(id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let bucket = HashMap::from([(
        (
            local_day(original.created_at, &tz),
            original.workcenter_id,
            original.order_type.clone(),
        ),
        (-1, -q, -i64::from(original.scrap_quantity)),
    )]);
    write_daily_deltas(txn, &bucket).await?;
    let out = RecordedMovement {
        movement: movement_out(row),
        wip: wip_after,
    };
    work.audit(
        "reverse",
        "production_order",
        id,
        Some(&movement_out(original)),
        Some(&out.movement),
    )
    .await?;
    work.emit(Event::new(
        "production_order",
        "reversed",
        out.movement.id,
        to_json(&out),
        Audience::Permission("production:read".into()),
    ));
    work.commit().await?;
    Ok(out)
}

pub async fn get_movement(db: &Db, id: i64) -> ApiResult<MovementOut> {
    movement::Entity::find_by_id(id)
        .one(db.read())
        .await?
        .map(movement_out)
        .ok_or_else(|| ApiError::not_found("movement"))
}

/// Movements newest first, filtered, paged by key.
pub async fn list_movements(db: &Db, f: &MovementFilter) -> ApiResult<MovementPage> {
    use movement::Column as C;
    let limit = f
        .limit
        .unwrap_or(nexus_core::paging::DEFAULT_LIMIT)
        .clamp(1, nexus_core::paging::MAX_LIMIT);
    let mut cond = Condition::all();
    if let Some(o) = f
        .production_order
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        cond = cond.add(C::ProductionOrder.eq(o));
    }
    if let Some(wc) = f.workcenter_id {
        cond = cond.add(C::WorkcenterId.eq(wc));
    }
    if let Some(t) = &f.order_type {
        let t = OrderType::parse(t)
            .ok_or_else(|| ApiError::invalid("order_type", "must be IN or OUT"))?;
        cond = cond.add(C::OrderType.eq(t.as_str()));
    }
    if let Some(u) = f.user_id {
        cond = cond.add(C::UserId.eq(u));
    }
    if let (Some(from), Some(to)) = (f.from, f.to)
        && to < from
    {
        return Err(ApiError::invalid("to", "must not be before `from`"));
    }
    if let Some(from) = f.from {
        cond = cond.add(C::CreatedAt.gte(from));
    }
    if let Some(to) = f.to {
        cond = cond.add(C::CreatedAt.lt(to));
    }
    if let Some(after) = &f.after {
        let (t, id) = parse_cursor(after)?;
        cond = cond.add(
            Condition::any()
                .add(C::CreatedAt.lt(t))
                .add(Condition::all().add(C::CreatedAt.eq(t)).add(C::Id.lt(id))),
        );
    }
    let rows = movement::Entity::find()
        .filter(cond)
        .order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(db.read())
        .await?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|m| format!("{}.{}", m.created_at.0, m.id)))
        .flatten();
    Ok(MovementPage {
        items: rows.into_iter().map(movement_out).collect(),
        limit,
        next_after,
    })
}

/// One order across work centers: WIP per work center and every movement, oldest first.
pub async fn order_history(db: &Db, order: &str) -> ApiResult<OrderHistory> {
    let order = order.trim();
    let conn = db.read();
    let movements: Vec<MovementOut> = movement::Entity::find()
        .filter(movement::Column::ProductionOrder.eq(order))
        .order_by_asc(movement::Column::CreatedAt)
        .order_by_asc(movement::Column::Id)
        .limit(10_000)
        .all(conn)
        .await?
        .into_iter()
        .map(movement_out)
        .collect();
    if movements.is_empty() {
        return Err(ApiError::not_found(format!("production order '{order}'")));
    }
    let wip = wip::Entity::find()
        .filter(wip::Column::ProductionOrder.eq(order))
        .order_by_asc(wip::Column::WorkcenterId)
        .all(conn)
        .await?
        .into_iter()
        .map(wip_out)
        .collect();
    Ok(OrderHistory {
        production_order: order.to_string(),
        wip,
        movements,
    })
}

/// `WipOut` of a stored row.
fn wip_out(w: wip::Model) -> WipOut {
    WipOut {
        wip: w.qty_in - w.qty_out,
        production_order: w.production_order,
        workcenter_id: w.workcenter_id,
        qty_in: w.qty_in,
        qty_out: w.qty_out,
    }
}

/// Units in progress now: every order and work center with units in and not out, by
/// order number then work center.
pub async fn list_wip(
    db: &Db,
    f: &WipFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<WipOut>> {
    use wip::Column as C;
    let conn = db.read();
    // Open rows, by the predicate of their partial index (m0021).
    let balance = Expr::col(C::QtyIn).sub(Expr::col(C::QtyOut));
    let mut query = wip::Entity::find().filter(balance.ne(0));
    if let Some(wc) = f.workcenter_id {
        query = query.filter(C::WorkcenterId.eq(wc));
    }
    if let Some(order) = f
        .production_order
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(C::ProductionOrder)))
                .like(nexus_core::contains_pattern(order)),
        );
    }
    let total = query.clone().count(conn).await?;
    let items = query
        .order_by_asc(C::ProductionOrder)
        .order_by_asc(C::WorkcenterId)
        .limit(page.limit())
        .offset(page.offset())
        .all(conn)
        .await?
        .into_iter()
        .map(wip_out)
        .collect();
    Ok(ListResponse::page(items, total, page))
}

// ---------------------------------------------------------------- reports

/// The daily summary for a range of plant-local days, from the rollup.
pub async fn daily_summary(state: &AppState, q: &ReportQuery) -> ApiResult<DailySummary> {
    let (from, to) = q.range()?;
    let cache = cache(state);
    let (settings, _) = cache.settings();
    let rows = daily_rows(
        &state.db,
        &from.format("%Y-%m-%d").to_string(),
        &to.format("%Y-%m-%d").to_string(),
        q.workcenter_id,
    )
    .await?;
    Ok(DailySummary {
        from: from.to_string(),
        to: to.to_string(),
        timezone: settings.timezone,
        rows: rows
            .into_iter()
            .filter(|r| r.movements != 0 || r.quantity != 0)
            .map(|r| DailyRow {
                workcenter_code: cache.code(r.workcenter_id),
                day: r.day,
                workcenter_id: r.workcenter_id,
                order_type: r.order_type,
                movements: r.movements,
                quantity: r.quantity,
                scrap: r.scrap,
            })
            .collect(),
    })
}

/// Rollup rows of a range of days, ordered by day, work center and direction. SQLite
/// packs them into one JSON row: sqlx hands SQLite rows over one at a time, which for a
/// few thousand rows costs more than the query itself.
async fn daily_rows(
    db: &Db,
    from: &str,
    to: &str,
    wc: Option<i64>,
) -> ApiResult<Vec<daily::Model>> {
    if db.backend() != DatabaseBackend::Sqlite {
        let mut cond = Condition::all()
            .add(daily::Column::Day.gte(from))
            .add(daily::Column::Day.lte(to));
        if let Some(wc) = wc {
            cond = cond.add(daily::Column::WorkcenterId.eq(wc));
        }
        return Ok(daily::Entity::find()
            .filter(cond)
            .order_by_asc(daily::Column::Day)
            .order_by_asc(daily::Column::WorkcenterId)
            .order_by_asc(daily::Column::OrderType)
            .all(db.read())
            .await?);
    }
    #[derive(FromQueryResult)]
    struct Packed {
        rows: String,
    }
    let mut sql = String::from(
        "SELECT json_group_array(json_array(day, workcenter_id, order_type, movements, quantity, scrap)) AS rows \
         FROM production_daily WHERE day >= $1 AND day <= $2",
    );
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    if let Some(wc) = wc {
        sql.push_str(" AND workcenter_id = $3");
        values.push(wc.into());
    }
    let packed = Packed::find_by_statement(stmt(DatabaseBackend::Sqlite, &sql, values))
        .one(db.read())
        .await?
        .map(|p| p.rows)
        .unwrap_or_else(|| "[]".into());
    let tuples: Vec<(String, i64, String, i64, i64, i64)> =
        serde_json::from_str(&packed).map_err(ApiError::internal)?;
    let mut rows: Vec<daily::Model> = tuples
        .into_iter()
        .map(
            |(day, workcenter_id, order_type, movements, quantity, scrap)| daily::Model {
                day,
                workcenter_id,
                order_type,
                movements,
                quantity,
                scrap,
            },
        )
        .collect();
    rows.sort_by(|a, b| {
        (&a.day, a.workcenter_id, &a.order_type).cmp(&(&b.day, b.workcenter_id, &b.order_type))
    });
    Ok(rows)
}

/// Totals per work center over a range of days, from the rollup.
pub async fn work_center_totals(
    state: &AppState,
    q: &ReportQuery,
) -> ApiResult<Vec<WorkCenterTotal>> {
    let summary = daily_summary(state, q).await?;
    let cache = cache(state);
    let mut totals: HashMap<i64, WorkCenterTotal> = HashMap::new();
    for r in summary.rows {
        let t = totals.entry(r.workcenter_id).or_insert_with(|| {
            let wc = cache.work_center(r.workcenter_id);
            WorkCenterTotal {
                workcenter_id: r.workcenter_id,
                workcenter_code: wc.as_ref().map(|w| w.code.clone()).unwrap_or_default(),
                workcenter_name: wc.map(|w| w.name).unwrap_or_default(),
                in_movements: 0,
                in_quantity: 0,
                out_movements: 0,
                out_quantity: 0,
                scrap: 0,
            }
        });
        if r.order_type == "IN" {
            t.in_movements += r.movements;
            t.in_quantity += r.quantity;
        } else {
            t.out_movements += r.movements;
            t.out_quantity += r.quantity;
        }
        t.scrap += r.scrap;
    }
    let mut out: Vec<_> = totals.into_values().collect();
    out.sort_by(|a, b| a.workcenter_code.cmp(&b.workcenter_code));
    Ok(out)
}

/// The orders that moved the most units OUT in a range, reversals netted out.
pub async fn top_orders(state: &AppState, q: &ReportQuery) -> ApiResult<Vec<TopOrder>> {
    let (from, to) = q.range()?;
    let limit = q.limit.unwrap_or(10).clamp(1, 100);
    let (_, tz) = cache(state).settings();
    let start = day_start(from, &tz);
    let end = day_start(to.succ_opt().unwrap_or(to), &tz);
    #[derive(FromQueryResult)]
    struct Row {
        production_order: String,
        movements: i64,
        out_quantity: i64,
        in_quantity: i64,
    }
    let mut sql = String::from(
        "SELECT production_order, \
         CAST(SUM(CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END) AS BIGINT) AS movements, \
         CAST(SUM(CASE WHEN order_type = 'OUT' THEN (CASE WHEN reverses_id IS NULL THEN quantity ELSE -quantity END) ELSE 0 END) AS BIGINT) AS out_quantity, \
         CAST(SUM(CASE WHEN order_type = 'IN' THEN (CASE WHEN reverses_id IS NULL THEN quantity ELSE -quantity END) ELSE 0 END) AS BIGINT) AS in_quantity \
         FROM production_orders WHERE created_at >= $1 AND created_at < $2",
    );
    let mut values: Vec<Value> = vec![start.0.into(), end.0.into()];
    if let Some(wc) = q.workcenter_id {
        sql.push_str(" AND workcenter_id = $3");
        values.push(wc.into());
    }
    sql.push_str(&format!(
        " GROUP BY production_order ORDER BY out_quantity DESC, in_quantity DESC, production_order LIMIT {limit}"
    ));
    let rows = Row::find_by_statement(stmt(state.db.backend(), &sql, values))
        .all(state.db.read())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| TopOrder {
            production_order: r.production_order,
            movements: r.movements,
            out_quantity: r.out_quantity,
            in_quantity: r.in_quantity,
        })
        .collect())
}
