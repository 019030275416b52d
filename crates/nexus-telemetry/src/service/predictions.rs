//! Predictive maintenance: for each metric of an asset with a critical threshold and
//! enough history, a forecast (see `crate::predict`) stored as a
//! `PredictiveMaintenanceResults` row; the asset's health score follows from the worst.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use nexus_core::audit::AuditCtx;
use nexus_core::db::stmt;
use nexus_core::events::{Audience, Event};
use nexus_core::paging::page_of;
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, ListResponse, PageParams, Timestamp};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set,
};

use super::list_metrics;
use crate::entity::prediction;
use crate::model::{AssetRisk, PredictionOut};
use crate::predict::forecast;

/// The model version stored with each result.
pub const MODEL_VERSION: &str = "theil-sen-1";
/// How far ahead the failure probability looks.
const HORIZON_HOURS: f64 = 30.0 * 24.0;
/// History read: hourly averages of the last 30 days.
const HISTORY_HOURS: i64 = 30 * 24;

#[derive(FromQueryResult)]
struct HourRow {
    bucket: i64,
    sum_value: f64,
    samples: i64,
}

fn result_out(r: prediction::Model) -> PredictionOut {
    PredictionOut {
        id: r.id,
        asset_id: r.asset_id,
        series_id: r.series_id,
        prediction_type: r.prediction_type,
        prediction_result: serde_json::from_str(&r.prediction_result).unwrap_or_default(),
        confidence_lower: r.confidence_lower,
        confidence_upper: r.confidence_upper,
        input_features: serde_json::from_str(&r.input_features).unwrap_or_default(),
        model_version: r.model_version,
        created_at: r.created_at,
    }
}

/// The results of an asset, newest first unless sorted otherwise, a page at a time.
pub async fn list_predictions(
    conn: &impl ConnectionTrait,
    asset_id: i64,
    page: &PageParams,
) -> ApiResult<ListResponse<PredictionOut>> {
    nexus_maintenance::service::get_asset(conn, asset_id).await?;
    let query = prediction::Entity::find().filter(prediction::Column::AssetId.eq(asset_id));
    let sorts = ["created_at", "id", "series_id"];
    let list = page_of(conn, query, page, &sorts, ("created_at", true)).await?;
    Ok(list.map(result_out))
}

/// Forecasts every metric of the asset that has a critical threshold and 8 or more hours
/// of history; stores the results and the health score. The fitting runs on a blocking
/// thread.
pub async fn predict_asset(
    state: &AppState,
    ctx: &AuditCtx,
    asset_id: i64,
) -> ApiResult<Vec<PredictionOut>> {
    let metrics = list_metrics(state.db.read(), asset_id).await?;
    let now = Timestamp::now();
    let since = now.0 / 1000 - HISTORY_HOURS * 3_600_000;
    let mut results = Vec::new();
    let mut worst = 0.0f64;
    for m in metrics {
        let Some(threshold) = m.critical_threshold else {
            continue;
        };
        let rows = HourRow::find_by_statement(stmt(
            state.db.backend(),
            "SELECT bucket, sum_value, samples FROM metric_rollups_hour WHERE series_id = $1 AND bucket >= $2 ORDER BY bucket",
            vec![m.id.into(), since.into()],
        ))
        .all(state.db.read())
        .await?;
        // Hours holding a reading beyond the accepted range (stored before it was enforced)
        // are left out.
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.sum_value.abs() <= r.samples as f64 * super::ingest::MAX_ABS_VALUE)
            .map(|r| {
                (
                    r.bucket as f64 / 3_600_000.0,
                    r.sum_value / r.samples.max(1) as f64,
                )
            })
            .collect();
        let above = m.direction != "below";
        let latest = m.metric_value;
        let f = tokio::task::spawn_blocking({
            let points = points.clone();
            move || forecast(&points, threshold, above, HORIZON_HOURS, latest)
        })
        .await
        .map_err(ApiError::internal)?;
        let Some(f) = f else { continue };
        worst = worst.max(f.probability);
        let result = serde_json::json!({
            "prediction": f.rul_hours,
            "probability": f.probability,
            "confidence_interval": {"lower": f.rul_low, "upper": f.rul_high},
            "anomaly_score": f.anomaly,
            "anomaly_z": f.anomaly_z,
            "past_threshold": f.past_threshold,
            "slope_per_hour": f.slope,
            "level": f.level,
            "horizon_hours": HORIZON_HOURS,
            "unit": "hours",
        });
        let features = serde_json::json!({
            "metric_name": m.metric_name,
            "points": points.len(),
            "from": rows.first().map(|r| Timestamp(r.bucket * 1000)),
            "to": rows.last().map(|r| Timestamp(r.bucket * 1000)),
            "source": "hourly averages; remaining life from the latest reading",
            "latest_value": latest,
            "critical_threshold": threshold,
            "direction": m.direction,
        });
        results.push((m.id, result, f.rul_low, f.rul_high, features));
    }
    let mut work = Work::begin(state, ctx).await?;
    let mut out = Vec::with_capacity(results.len());
    for (series, result, lo, hi, features) in results {
        let row = prediction::ActiveModel {
            asset_id: Set(asset_id),
            series_id: Set(series),
            prediction_type: Set("REMAINING_USEFUL_LIFE".into()),
            prediction_result: Set(result.to_string()),
            confidence_lower: Set(lo),
            confidence_upper: Set(hi),
            input_features: Set(features.to_string()),
            model_version: Set(MODEL_VERSION.into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&*work)
        .await?;
        out.push(result_out(row));
    }
    if !out.is_empty() {
        // Health: 100 when no metric is likely to cross within the horizon, 0 when one surely will.
        let health = ((1.0 - worst) * 100.0).round() as i32;
        nexus_maintenance::service::set_health(&mut work, asset_id, health).await?;
        // The risk ranking and open pages follow along.
        out.sort_by_key(|p| std::cmp::Reverse(p.id));
        let data = serde_json::json!({"asset_id": asset_id, "predictions": &out});
        let audience = Audience::Permission("telemetry:read".into());
        work.emit(Event::new(
            "prediction",
            "created",
            asset_id,
            data,
            audience,
        ));
    }
    work.commit().await?;
    Ok(out)
}

#[derive(FromQueryResult)]
struct RiskRow {
    asset_id: i64,
    asset_name: String,
    health_score: Option<i32>,
    criticality: Option<String>,
    metric_name: String,
    prediction_result: String,
    created_at: i64,
}

/// The newest prediction run of every asset, as a ranking: likeliest to fail within the
/// horizon first, then the shortest remaining useful life (a trend that never crosses
/// last), then the more critical asset (A, B, C, unrated), then by name.
pub async fn risk_ranking(conn: &impl ConnectionTrait) -> ApiResult<Vec<AssetRisk>> {
    let rows = RiskRow::find_by_statement(stmt(
        conn.get_database_backend(),
        "SELECT p.asset_id, a.name AS asset_name, a.health_score, a.criticality, m.metric_name, p.prediction_result, p.created_at \
         FROM predictive_maintenance_results p \
         JOIN assets a ON a.id = p.asset_id JOIN asset_metrics m ON m.id = p.series_id \
         WHERE p.created_at = (SELECT max(q.created_at) FROM predictive_maintenance_results q WHERE q.asset_id = p.asset_id)",
        vec![],
    ))
    .all(conn)
    .await?;
    let mut by_asset: HashMap<i64, AssetRisk> = HashMap::new();
    for r in rows {
        let result: serde_json::Value =
            serde_json::from_str(&r.prediction_result).unwrap_or_default();
        let number = |v: &serde_json::Value| v.as_f64();
        let risk = AssetRisk {
            asset_id: r.asset_id,
            asset_name: r.asset_name,
            health_score: r.health_score,
            criticality: r.criticality,
            metric_name: r.metric_name,
            probability: number(&result["probability"]).unwrap_or(0.0),
            horizon_hours: number(&result["horizon_hours"]).unwrap_or(HORIZON_HOURS),
            rul_hours: number(&result["prediction"]),
            rul_low: number(&result["confidence_interval"]["lower"]),
            rul_high: number(&result["confidence_interval"]["upper"]),
            anomaly_score: number(&result["anomaly_score"]).unwrap_or(0.0),
            predicted_at: Timestamp(r.created_at),
        };
        match by_asset.entry(risk.asset_id) {
            Entry::Occupied(mut e) => {
                let worst = e.get_mut();
                let anomaly = worst.anomaly_score.max(risk.anomaly_score);
                if riskier(&risk, worst) == Ordering::Less {
                    *worst = risk;
                }
                worst.anomaly_score = anomaly;
            }
            Entry::Vacant(e) => {
                e.insert(risk);
            }
        }
    }
    let mut ranking: Vec<AssetRisk> = by_asset.into_values().collect();
    ranking.sort_by(|a, b| riskier(a, b).then_with(|| a.asset_name.cmp(&b.asset_name)));
    Ok(ranking)
}

/// A page of the ranking (`sort=risk`, the default, riskiest first; `-risk` safest first).
pub async fn risk_page(
    conn: &impl ConnectionTrait,
    page: &PageParams,
) -> ApiResult<ListResponse<AssetRisk>> {
    let (_, safest_first) = page.sort(&["risk"], ("risk", false))?;
    let mut ranking = risk_ranking(conn).await?;
    if safest_first {
        ranking.reverse();
    }
    let total = ranking.len() as u64;
    let items = ranking
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Ok(ListResponse::page(items, total, page))
}

/// `Less` when `a` is the riskier: likelier to cross, then sooner.
fn riskier(a: &AssetRisk, b: &AssetRisk) -> Ordering {
    let rul = |r: &AssetRisk| r.rul_hours.unwrap_or(f64::INFINITY);
    // A before B before C before unrated: at equal risk, the machine that stops more.
    let rank = |r: &AssetRisk| r.criticality.clone().unwrap_or_else(|| "Z".into());
    b.probability
        .total_cmp(&a.probability)
        .then_with(|| rul(a).total_cmp(&rul(b)))
        .then_with(|| rank(a).cmp(&rank(b)))
}

#[derive(FromQueryResult)]
struct AssetId {
    asset_id: i64,
}

/// Predicts every asset with a critical threshold (the `telemetry.predictions` job); an
/// asset that fails is logged and the others go on.
pub(super) async fn predict_all(state: AppState) -> ApiResult<()> {
    let assets = AssetId::find_by_statement(stmt(
        state.db.backend(),
        "SELECT DISTINCT asset_id FROM asset_metrics WHERE critical_threshold IS NOT NULL",
        vec![],
    ))
    .all(state.db.read())
    .await?;
    for a in assets {
        if let Err(e) = predict_asset(&state, &AuditCtx::default(), a.asset_id).await {
            tracing::warn!(error = %e, asset = a.asset_id, "prediction failed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(name: &str, probability: f64, criticality: Option<&str>) -> AssetRisk {
        AssetRisk {
            asset_id: 0,
            asset_name: name.into(),
            health_score: None,
            criticality: criticality.map(String::from),
            metric_name: "t".into(),
            probability,
            horizon_hours: 24.0,
            rul_hours: None,
            rul_low: None,
            rul_high: None,
            anomaly_score: 0.0,
            predicted_at: Timestamp(0),
        }
    }

    #[test]
    fn criticality_breaks_ties_of_risk() {
        let mut all = [
            risk("c", 0.5, Some("C")),
            risk("none", 0.5, None),
            risk("a", 0.5, Some("A")),
            risk("likely", 0.9, Some("C")),
        ];
        all.sort_by(riskier);
        let names: Vec<&str> = all.iter().map(|r| r.asset_name.as_str()).collect();
        assert_eq!(names, ["likely", "a", "c", "none"]);
    }
}
