//! The risk ranking: assets by predicted failure, from their newest predictions.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use nexus_core::AppState;
use nexus_core::pages::{OrPage, Page, Shell, Web, render};

use super::{duration, new_work_order};
use crate::model::AssetRisk;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new().route("/telemetry/risk", get(risk_page))
}

/// An asset's place in the ranking, worded.
struct RiskRow {
    rank: usize,
    risk: AssetRisk,
    probability: String,
    horizon: String,
    /// Remaining useful life, `never` when the trend does not reach the threshold.
    rul: String,
    /// Its confidence interval, `2.1 h – 4.5 days`.
    interval: String,
    anomaly: String,
    /// A new work order for the asset, for those who may open one.
    dispatch: Option<String>,
}

fn life(hours: Option<f64>) -> String {
    hours.map_or_else(|| "never".into(), duration)
}

impl RiskRow {
    fn of(rank: usize, risk: AssetRisk, may_dispatch: bool) -> Self {
        let dispatch = may_dispatch.then(|| {
            let title = format!(
                "Inspect {}: {} predicted to fail",
                risk.asset_name, risk.metric_name
            );
            let priority = if risk.probability >= 0.5 {
                "high"
            } else {
                "medium"
            };
            new_work_order(risk.asset_id, &title, priority)
        });
        Self {
            dispatch,
            rank,
            probability: format!("{:.0}%", risk.probability * 100.0),
            horizon: format!("{:.0} days", risk.horizon_hours / 24.0),
            rul: match risk.rul_hours {
                Some(h) if h <= 0.0 => "past the threshold".into(),
                h => life(h),
            },
            interval: format!("{} – {}", life(risk.rul_low), life(risk.rul_high)),
            anomaly: format!("{:.2}", risk.anomaly_score),
            risk,
        }
    }
}

#[derive(Template)]
#[template(path = "risk.html")]
struct RiskPage {
    shell: Shell,
    rows: Vec<RiskRow>,
}

/// Assets likeliest to fail first, then soonest.
async fn risk_page(web: Web) -> Page {
    web.require("telemetry:read")?;
    let ranking = service::risk_ranking(web.state.db.read())
        .await
        .or_page(&web)?;
    let may_dispatch = web.user.can("work_orders:write");
    let rows = ranking
        .into_iter()
        .enumerate()
        .map(|(n, r)| RiskRow::of(n + 1, r, may_dispatch))
        .collect();
    Ok(render(
        StatusCode::OK,
        &RiskPage {
            shell: web.shell("Risk"),
            rows,
        },
    ))
}
