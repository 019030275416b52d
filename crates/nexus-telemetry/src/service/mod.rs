//! Business rules of telemetry: the in-memory catalog of series, metric definitions,
//! ingestion through one group-committing writer, history and retention.

mod alerts;
mod history;
mod ingest;
mod meters;
mod metrics;
mod mqtt;
mod predictions;

pub use alerts::{
    Level, SeriesAlert, acknowledge, create_rule, delete_rule, find_alert, list_alerts, list_rules,
    resolve, series_alerts, step, update_rule,
};
pub use history::*;
pub use ingest::*;
pub use meters::{
    create_meter_schedule, delete_meter_schedule, list_meter_schedules, update_meter_schedule,
};
pub use metrics::*;
pub use mqtt::mqtt_status;
pub use predictions::{list_predictions, predict_asset, risk_page, risk_ranking};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{self, Heard};
use nexus_core::jobs::{self, Job};
use nexus_core::write::Work;
use nexus_core::{ApiResult, AppState, Db, settings};
use rustc_hash::FxHashMap;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter};
use tokio::sync::mpsc;

use crate::entity::asset_metric;
use crate::lineproto::AssetRef;
use crate::model::{MqttStatusOut, TelemetrySettings};

/// The settings key of telemetry.
pub const SETTINGS_KEY: &str = "telemetry";

/// What ingestion needs to know of a series, held in memory so a point costs a hash
/// lookup, not a query.
#[derive(Debug, Clone, Default)]
pub struct SeriesDef {
    pub id: i64,
    pub asset_id: i64,
    pub name: String,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// Thresholds are crossed going down.
    pub below: bool,
    pub hysteresis: f64,
    /// The shortest critical spell after which an alert rule opens a work order.
    pub rule_minutes: Option<i64>,
    /// The series drives meter schedules.
    pub metered: bool,
}

impl SeriesDef {
    fn of(m: &asset_metric::Model, rule_minutes: Option<i64>, metered: bool) -> Self {
        Self {
            id: m.id,
            asset_id: m.asset_id,
            name: m.metric_name.clone(),
            warning: m.warning_threshold,
            critical: m.critical_threshold,
            below: m.direction == "below",
            hysteresis: m.hysteresis,
            rule_minutes,
            metered,
        }
    }

    /// Whether readings of this series are checked against thresholds at all.
    pub fn watched(&self) -> bool {
        self.warning.is_some() || self.critical.is_some()
    }
}

#[derive(Debug, Default)]
struct AssetEntry {
    name: String,
    metrics: FxHashMap<String, Arc<SeriesDef>>,
}

/// Every asset and its series, by id and by name.
#[derive(Debug, Default)]
struct Catalog {
    assets: FxHashMap<i64, AssetEntry>,
    by_series: FxHashMap<i64, Arc<SeriesDef>>,
}

/// Why a point names no series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    Asset,
    Metric,
}

/// What a point names: its asset's id (when there is one) and its series' id.
type Resolved = (Option<i64>, Result<i64, Miss>);

/// Telemetry's shared state: the catalog and the writer's queue.
pub struct TelemetryState {
    catalog: RwLock<Catalog>,
    writer: mpsc::Sender<ingest::Job>,
    /// Alert state of every series not at ok.
    watches: Mutex<HashMap<i64, alerts::Watch>>,
    /// What the MQTT subscriber is doing.
    mqtt: Mutex<MqttStatusOut>,
}

impl TelemetryState {
    /// The asset and series each reference names, under one read of the catalog. Points
    /// usually come in runs of one series, and an asset name is looked up once.
    fn resolve<'a>(
        &self,
        refs: impl Iterator<Item = (&'a AssetRef<'a>, &'a str)>,
    ) -> Vec<Resolved> {
        let cat = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        let mut names: FxHashMap<&str, Option<i64>> = FxHashMap::default();
        let mut last: Option<(&AssetRef, &str, Resolved)> = None;
        refs.map(|(asset, metric)| {
            if let Some((a, m, found)) = &last
                && *a == asset
                && *m == metric
            {
                return *found;
            }
            let asset_id = match asset {
                AssetRef::Id(id) => Some(*id),
                AssetRef::Name(name) => *names
                    .entry(name.as_ref())
                    .or_insert_with(|| cat.asset_named(name)),
            };
            let series = asset_id.map_or(Err(Miss::Asset), |id| {
                let entry = cat.assets.get(&id).ok_or(Miss::Asset)?;
                entry.metrics.get(metric).map(|d| d.id).ok_or(Miss::Metric)
            });
            last = Some((asset, metric, (asset_id, series)));
            (asset_id, series)
        })
        .collect()
    }
}

impl Catalog {
    /// The id of the asset called `name`, when exactly one is.
    fn asset_named(&self, name: &str) -> Option<i64> {
        let mut found = self.assets.iter().filter(|(_, a)| a.name == name);
        let (id, _) = found.next()?;
        found.next().is_none().then_some(*id)
    }
}

pub(crate) fn cache(state: &AppState) -> Arc<TelemetryState> {
    state.domains.get::<Arc<TelemetryState>>().as_ref().clone()
}

#[derive(FromQueryResult)]
struct AssetRow {
    id: i64,
    name: String,
}

#[derive(FromQueryResult)]
struct RuleMinutes {
    series_id: i64,
    minutes: i64,
}

/// Loads the catalog of every asset, or of one asset when `only` is set.
async fn load_catalog(db: &Db, cache: &TelemetryState, only: Option<i64>) -> ApiResult<()> {
    let conn = db.read();
    let backend = db.backend();
    let rules = RuleMinutes::find_by_statement(stmt(
        backend,
        "SELECT series_id, min(critical_minutes) AS minutes FROM alert_rules GROUP BY series_id",
        vec![],
    ))
    .all(conn)
    .await?;
    let rules: HashMap<i64, i64> = rules
        .into_iter()
        .map(|r| (r.series_id, r.minutes))
        .collect();
    let metered: std::collections::HashSet<i64> = RuleMinutes::find_by_statement(stmt(
        backend,
        "SELECT series_id, count(*) AS minutes FROM meter_schedules GROUP BY series_id",
        vec![],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|r| r.series_id)
    .collect();
    let (assets, metrics) = match only {
        Some(id) => (
            AssetRow::find_by_statement(stmt(
                backend,
                "SELECT id, name FROM assets WHERE id = $1",
                vec![id.into()],
            ))
            .all(conn)
            .await?,
            asset_metric::Entity::find()
                .filter(asset_metric::Column::AssetId.eq(id))
                .all(conn)
                .await?,
        ),
        None => (
            AssetRow::find_by_statement(stmt(backend, "SELECT id, name FROM assets", vec![]))
                .all(conn)
                .await?,
            asset_metric::Entity::find().all(conn).await?,
        ),
    };
    let mut fresh: FxHashMap<i64, AssetEntry> = assets
        .into_iter()
        .map(|a| {
            (
                a.id,
                AssetEntry {
                    name: a.name,
                    metrics: FxHashMap::default(),
                },
            )
        })
        .collect();
    for m in &metrics {
        if let Some(a) = fresh.get_mut(&m.asset_id) {
            let def = Arc::new(SeriesDef::of(
                m,
                rules.get(&m.id).copied(),
                metered.contains(&m.id),
            ));
            a.metrics.insert(m.metric_name.clone(), def);
        }
    }
    let mut cat = cache.catalog.write().unwrap_or_else(|e| e.into_inner());
    match only {
        Some(id) => {
            if let Some(old) = cat.assets.remove(&id) {
                for def in old.metrics.values() {
                    cat.by_series.remove(&def.id);
                }
            }
            cat.assets.extend(fresh);
        }
        None => cat.assets = fresh,
    }
    let changed: Vec<Arc<SeriesDef>> = match only {
        Some(id) => cat
            .assets
            .get(&id)
            .map(|a| a.metrics.values().cloned().collect())
            .unwrap_or_default(),
        None => {
            cat.by_series.clear();
            cat.assets
                .values()
                .flat_map(|a| a.metrics.values().cloned())
                .collect()
        }
    };
    for def in changed {
        cat.by_series.insert(def.id, def);
    }
    Ok(())
}

/// Starts telemetry: loads the catalog, starts the writer, the retention job and the
/// MQTT subscriber when a broker is configured, and keeps the catalog current with
/// changes made on any node.
pub async fn setup(state: &AppState) -> ApiResult<()> {
    let mqtt = mqtt::Settings::from_config(&state.config)?;
    let (writer, jobs) = mpsc::channel(64);
    let cache = Arc::new(TelemetryState {
        catalog: RwLock::new(Catalog::default()),
        writer,
        watches: Mutex::new(alerts::load_watches(state.db.read()).await?),
        mqtt: Mutex::new(mqtt::Settings::status(mqtt.as_ref())),
    });
    load_catalog(&state.db, &cache, None).await?;
    state.domains.insert(cache.clone());
    tokio::spawn(ingest::write_samples(state.clone(), jobs));
    if let Some(settings) = mqtt {
        mqtt::start(state, settings);
    }
    // The hourly archiving pass (raw readings past the retention into Parquet files,
    // expired files and rollups deleted), a run like any asked for.
    let archive = Job {
        name: "telemetry.archive",
        every: Duration::from_secs(3600),
        once_across_nodes: true,
        at_start: true,
    };
    jobs::every(state, archive, |s| async move {
        crate::archive::ARCHIVER.scheduled(&s).await
    });
    let predictions = Job {
        name: "telemetry.predictions",
        every: Duration::from_secs(6 * 3600),
        once_across_nodes: true,
        at_start: false,
    };
    jobs::every(state, predictions, predictions::predict_all);

    let db = state.db.clone();
    events::on(&state.events, &["asset", "asset_metric"], move |heard| {
        let (db, cache) = (db.clone(), cache.clone());
        async move {
            let asset = match heard {
                Heard::Event(e) if e.entity == "asset" => Some(e.id),
                Heard::Event(e) => match e.data.get("asset_id").and_then(|v| v.as_i64()) {
                    Some(asset) => Some(asset),
                    None => return,
                },
                Heard::Missed => None,
            };
            let _ = load_catalog(&db, &cache, asset).await;
        }
    });
    Ok(())
}

/// The telemetry settings in force.
pub async fn get_settings(db: &Db) -> ApiResult<TelemetrySettings> {
    Ok(settings::get(db.read(), SETTINGS_KEY)
        .await?
        .unwrap_or_default())
}

pub async fn set_settings(
    state: &AppState,
    ctx: &AuditCtx,
    s: TelemetrySettings,
) -> ApiResult<TelemetrySettings> {
    s.validate()?;
    let work = Work::begin(state, ctx).await?;
    let before: TelemetrySettings = settings::get(&*work, SETTINGS_KEY)
        .await?
        .unwrap_or_default();
    settings::set(&*work, SETTINGS_KEY, &s).await?;
    work.audit("update", "telemetry_settings", 0, Some(&before), Some(&s))
        .await?;
    work.commit().await?;
    Ok(s)
}
