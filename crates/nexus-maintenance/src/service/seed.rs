//! A generated maintenance data set, for trying Nexus out and for benchmarks: plants of
//! 1,011 assets each (plant > 10 lines > 10 machines > 9 components), technicians, and
//! work orders spread over those assets across two years. Rows are written many per
//! statement with explicit ids, the way a migration from another CMMS would load them.

use nexus_core::audit::AuditCtx;
use nexus_core::auth::random_token;
use nexus_core::db::stmt;
use nexus_core::seeding::{Progress, Rng, insert_rows, number, sync_sequence};
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait, Value};

use crate::model::{LocationData, WORK_ORDER_PRIORITIES, WORK_ORDER_TYPES};

/// Assets in one generated plant: the plant, 10 lines, 100 machines, 900 components.
pub const PLANT_SIZE: u64 = 1 + 10 + 100 + 900;
/// Technicians work orders are assigned to.
const TECHNICIANS: u64 = 20;

/// What a seed wrote.
pub struct Seeded {
    pub assets: u64,
    pub work_orders: u64,
}

/// Ids of the generated technicians, created on first use (`tech01` … with random
/// passwords: they exist to be assigned work, not to sign in).
async fn technicians(state: &AppState) -> ApiResult<Vec<i64>> {
    let ctx = AuditCtx::default();
    let mut ids = Vec::new();
    for n in 1..=TECHNICIANS {
        let username = format!("tech{n:02}");
        let filter = nexus_identity::model::UserFilter {
            q: Some(username.clone()),
            ..Default::default()
        };
        let page = nexus_core::PageParams::default();
        let found = nexus_identity::service::list_users(&state.db, &filter, &page).await?;
        let id = match found.items.iter().find(|u| u.username == username) {
            Some(u) => u.id,
            None => {
                let req = nexus_identity::model::CreateUser {
                    username,
                    password: random_token(16),
                    email: None,
                    first_name: Some("Technician".into()),
                    last_name: Some(format!("{n:02}")),
                    phone: None,
                    department_id: None,
                    position: Some("Maintenance technician".into()),
                    avatar_url: None,
                    preferences: None,
                    role: Some("staff".into()),
                    is_active: Some(true),
                };
                nexus_identity::service::create_user(state, &ctx, req)
                    .await?
                    .id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// Writes about `assets` assets (whole plants of `PLANT_SIZE`) and `work_orders` work
/// orders. Work orders are mostly closed history; about a quarter are open, in progress
/// or on hold, as in a working plant.
pub async fn seed(
    state: &AppState,
    assets: u64,
    work_orders: u64,
    progress: Progress<'_>,
) -> ApiResult<Seeded> {
    let plants = assets.div_ceil(PLANT_SIZE);
    if plants == 0 && work_orders > 0 {
        return Err(ApiError::invalid(
            "assets",
            "work orders need assets to be about",
        ));
    }
    let techs = technicians(state).await?;
    let ctx = AuditCtx::default();
    let tag = random_token(3).to_lowercase();
    let now = Timestamp::now().0;
    let total = plants * PLANT_SIZE + work_orders;
    let mut done = 0u64;

    let mut plant_locations = Vec::new();
    for p in 0..plants {
        let loc = super::create_location(
            state,
            &ctx,
            LocationData {
                name: format!("Plant {tag}-{p}"),
                ..Default::default()
            },
        )
        .await?;
        plant_locations.push(loc.id);
    }

    let db = state.db.write();
    let txn = db.begin().await?;
    let first = number(&txn, "SELECT MAX(id) AS n FROM assets").await? + 1;
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity((plants * PLANT_SIZE) as usize);
    let mut rng = Rng(7);
    for (p, &loc) in plant_locations.iter().enumerate() {
        let base = first + p as i64 * PLANT_SIZE as i64;
        // Ids within a plant: 0 plant, 1..=10 lines, 11..=110 machines, the rest components.
        for k in 0..PLANT_SIZE as i64 {
            let (name, parent) = match k {
                0 => (format!("Plant {p} equipment"), None),
                1..=10 => (format!("Line {p}-{k}"), Some(base)),
                11..=110 => (format!("Machine {p}-{k}"), Some(base + 1 + (k - 11) / 10)),
                _ => (
                    format!("Component {p}-{k}"),
                    Some(base + 11 + (k - 111) / 9),
                ),
            };
            let health = 40 + rng.below(61) as i64;
            rows.push(vec![
                (base + k).into(),
                name.into(),
                "operational".into(),
                health.into(),
                loc.into(),
                parent.into(),
                format!("seed-{tag}-{}", base + k).into(),
                format!("SN-{tag}-{:08}", base + k).into(),
                format!("{tag}-{}", base + k).into(),
                now.into(),
                now.into(),
                1i32.into(),
            ]);
        }
    }
    let asset_count = rows.len() as u64;
    insert_rows(
        &txn,
        "assets",
        &[
            "id",
            "name",
            "status",
            "health_score",
            "location_id",
            "parent_asset_id",
            "qr_code",
            "serial_number",
            "tag",
            "created_at",
            "updated_at",
            "version",
        ],
        rows,
    )
    .await?;
    sync_sequence(&txn, "assets").await?;
    txn.commit().await?;
    done += asset_count;
    progress(done, total);

    let first_wo = number(db, "SELECT MAX(id) AS n FROM work_orders").await? + 1;
    let first_number = number(
        db,
        "SELECT last_number AS n FROM work_order_counter WHERE id = 1",
    )
    .await?
        + 1;
    let span_days = 730i64;
    let today = chrono::Utc::now().date_naive();
    let batch = 100_000u64;
    let mut written = 0u64;
    while written < work_orders {
        let n = batch.min(work_orders - written);
        let txn = db.begin().await?;
        let mut rows = Vec::with_capacity(n as usize);
        for i in written..written + n {
            let id = first_wo + i as i64;
            let number = format!("WO-{:06}", first_number + i as i64);
            let asset = first + rng.below(asset_count) as i64;
            let loc = plant_locations[((asset - first) as u64 / PLANT_SIZE) as usize];
            let age_days = rng.below(span_days as u64) as i64;
            let created = now - age_days * 86_400_000_000 - rng.below(86_400) as i64 * 1_000_000;
            let due = today - chrono::Duration::days(age_days) + chrono::Duration::days(7);
            // Recent work is more likely still open.
            let status = match (age_days < 60, rng.below(100)) {
                (true, 0..=29) => "open",
                (true, 30..=49) => "in_progress",
                (true, 50..=59) => "on_hold",
                (false, 0..=1) => "open",
                (_, 60..=64) | (false, 2..=6) => "cancelled",
                _ => "completed",
            };
            let completed =
                (status == "completed").then(|| created + rng.below(72) as i64 * 3_600_000_000);
            let started =
                (status != "open" && status != "cancelled").then_some(created + 600_000_000);
            rows.push(vec![
                id.into(),
                number.into(),
                format!("Service asset {asset}").into(),
                asset.into(),
                loc.into(),
                WORK_ORDER_TYPES[rng.below(4) as usize].into(),
                WORK_ORDER_PRIORITIES[rng.below(WORK_ORDER_PRIORITIES.len() as u64) as usize]
                    .into(),
                status.into(),
                techs[rng.below(techs.len() as u64) as usize].into(),
                due.format("%Y-%m-%d").to_string().into(),
                (30 + rng.below(8) as i32 * 30).into(),
                started.into(),
                completed.into(),
                created.into(),
                completed.unwrap_or(created).into(),
                1i32.into(),
            ]);
        }
        insert_rows(
            &txn,
            "work_orders",
            &[
                "id",
                "number",
                "title",
                "asset_id",
                "location_id",
                "type",
                "priority",
                "status",
                "assigned_to_id",
                "due_date",
                "estimated_minutes",
                "started_at",
                "completed_at",
                "created_at",
                "updated_at",
                "version",
            ],
            rows,
        )
        .await?;
        written += n;
        if written == work_orders {
            sync_sequence(&txn, "work_orders").await?;
            let sql = "UPDATE work_order_counter SET last_number = $1 WHERE id = 1";
            let last = first_number + work_orders as i64 - 1;
            txn.execute_raw(stmt(txn.get_database_backend(), sql, vec![last.into()]))
                .await?;
        }
        txn.commit().await?;
        done += n;
        progress(done, total);
    }
    // Planner statistics for the bulk-loaded tables, as after any large load; on
    // PostgreSQL a vacuum too, so the list's covering indexes serve index-only scans.
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => "VACUUM ANALYZE assets, work_orders",
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(Seeded {
        assets: asset_count,
        work_orders,
    })
}
