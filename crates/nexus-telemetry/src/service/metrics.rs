//! Metric definitions of an asset: create, change, delete, list, each audited and evented.

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::Audience;
use nexus_core::write::{delete_versioned, update_versioned};
use nexus_core::{ApiError, ApiResult, AppState, IfMatch, Timestamp, Work};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Set,
};

use super::alerts::Level;
use super::{cache, load_catalog};
use crate::entity::asset_metric;
use crate::model::{MetricData, MetricOut, UpdateMetric};

pub fn metric_out(m: asset_metric::Model) -> MetricOut {
    MetricOut {
        id: m.id,
        asset_id: m.asset_id,
        metric_name: m.metric_name,
        unit: m.unit,
        kind: m.kind,
        min_threshold: m.min_threshold,
        max_threshold: m.max_threshold,
        warning_threshold: m.warning_threshold,
        critical_threshold: m.critical_threshold,
        direction: m.direction,
        hysteresis: m.hysteresis,
        metric_value: m.metric_value,
        value_at: m.value_at,
        state: "normal".into(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    }
}

fn audience() -> Audience {
    Audience::Permission("telemetry:read".into())
}

/// The metric `name` of asset `asset_id`, or 404.
pub async fn find_metric(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    name: &str,
) -> ApiResult<asset_metric::Model> {
    asset_metric::Entity::find()
        .filter(asset_metric::Column::AssetId.eq(asset_id))
        .filter(asset_metric::Column::MetricName.eq(name))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("metric '{name}' of asset {asset_id}")))
}

/// `metrics` of asset `asset_id` with the state their unresolved alerts say they are in.
async fn with_states(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    mut metrics: Vec<MetricOut>,
) -> ApiResult<Vec<MetricOut>> {
    let alerts = super::alerts::series_alerts(conn, asset_id).await?;
    for m in &mut metrics {
        m.state = match alerts.get(&m.id).map(|a| a.level) {
            Some(Level::Critical) => "critical",
            Some(Level::Warning) => "warning",
            _ => "normal",
        }
        .into();
    }
    Ok(metrics)
}

/// Every metric of an asset with its current value and state, by name.
pub async fn list_metrics(conn: &impl ConnectionTrait, asset_id: i64) -> ApiResult<Vec<MetricOut>> {
    nexus_maintenance::service::get_asset(conn, asset_id).await?;
    let metrics = asset_metric::Entity::find()
        .filter(asset_metric::Column::AssetId.eq(asset_id))
        .order_by_asc(asset_metric::Column::MetricName)
        .all(conn)
        .await?
        .into_iter()
        .map(metric_out)
        .collect();
    with_states(conn, asset_id, metrics).await
}

pub async fn get_metric(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    name: &str,
) -> ApiResult<MetricOut> {
    let m = metric_out(find_metric(conn, asset_id, name).await?);
    let mut one = with_states(conn, asset_id, vec![m]).await?;
    Ok(one.remove(0))
}

fn fill(am: &mut asset_metric::ActiveModel, d: MetricData) {
    am.unit = Set(d.unit);
    am.kind = Set(d.kind);
    am.min_threshold = Set(d.min_threshold);
    am.max_threshold = Set(d.max_threshold);
    am.warning_threshold = Set(d.warning_threshold);
    am.critical_threshold = Set(d.critical_threshold);
    am.direction = Set(d.direction);
    am.hysteresis = Set(d.hysteresis);
}

/// Defines a metric of an asset; the name is unique per asset (409).
pub async fn create_metric(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    mut req: MetricData,
) -> ApiResult<MetricOut> {
    req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    nexus_maintenance::service::get_asset(&*work, asset_id).await?;
    let now = Timestamp::now();
    let mut am = asset_metric::ActiveModel {
        asset_id: Set(asset_id),
        metric_name: Set(req.metric_name.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    fill(&mut am, req);
    let out = metric_out(am.insert(&*work).await.map_err(|e| {
        let err = ApiError::from(e);
        match err {
            ApiError::Conflict { .. } => ApiError::conflict_on(
                "metric_name",
                "this asset already has a metric of that name",
            ),
            other => other,
        }
    })?);
    work.created("asset_metric", out.id, &out, audience())
        .await?;
    work.commit().await?;
    // This node sees the new series at once; others through the event.
    load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(out)
}

fn data_of(m: &asset_metric::Model) -> MetricData {
    MetricData {
        metric_name: m.metric_name.clone(),
        unit: m.unit.clone(),
        kind: m.kind.clone(),
        min_threshold: m.min_threshold,
        max_threshold: m.max_threshold,
        warning_threshold: m.warning_threshold,
        critical_threshold: m.critical_threshold,
        direction: m.direction.clone(),
        hysteresis: m.hysteresis,
    }
}

/// Changes a metric's unit, kind or thresholds.
pub async fn update_metric(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    name: &str,
    if_match: IfMatch,
    req: UpdateMetric,
) -> ApiResult<MetricOut> {
    let mut work = Work::begin(state, ctx).await?;
    let current = find_metric(&*work, asset_id, name).await?;
    if_match.check(current.version)?;
    let mut d = data_of(&current).apply(req);
    d.validate()?;
    let before = metric_out(current.clone());
    let mut am: asset_metric::ActiveModel = current.clone().into();
    fill(&mut am, d);
    am.updated_at = Set(Timestamp::now());
    let after = metric_out(update_versioned(&*work, am, current.version).await?);
    work.updated("asset_metric", after.id, &before, &after, audience())
        .await?;
    work.commit().await?;
    load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    let mut one = with_states(state.db.read(), asset_id, vec![after]).await?;
    Ok(one.remove(0))
}

/// Deletes a metric with its samples, rollups, alerts and predictions.
pub async fn delete_metric(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
    name: &str,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_metric(txn, asset_id, name).await?;
    if_match.check(current.version)?;
    let backend = txn.get_database_backend();
    for table in [
        "metric_chunks",
        "metric_rollups_minute",
        "metric_rollups_hour",
    ] {
        txn.execute_raw(stmt(
            backend,
            &format!("DELETE FROM {table} WHERE series_id = $1"),
            vec![current.id.into()],
        ))
        .await?;
    }
    delete_versioned::<asset_metric::Entity, _>(txn, current.id, current.version).await?;
    let before = metric_out(current);
    work.deleted("asset_metric", before.id, &before, audience())
        .await?;
    work.commit().await?;
    load_catalog(&state.db, &cache(state), Some(asset_id)).await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct NamedAsset {
    id: i64,
    name: String,
}

/// Assets with at least one metric, by name: (id, name).
pub async fn monitored_assets(conn: &impl ConnectionTrait) -> ApiResult<Vec<(i64, String)>> {
    Ok(NamedAsset::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT a.id, a.name FROM assets a \
         WHERE EXISTS (SELECT 1 FROM asset_metrics m WHERE m.asset_id = a.id) ORDER BY a.name, a.id",
        vec![],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|a| (a.id, a.name))
    .collect())
}

#[derive(FromQueryResult)]
struct MetricName {
    metric_name: String,
}

/// Every metric name in use, sorted.
pub async fn metric_names(conn: &impl ConnectionTrait) -> ApiResult<Vec<String>> {
    Ok(MetricName::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT DISTINCT metric_name FROM asset_metrics ORDER BY metric_name",
        vec![],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|m| m.metric_name)
    .collect())
}
