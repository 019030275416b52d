//! An asset's metrics: each metric's current value and state, and a chart of any range
//! with its threshold zones. The page redraws its cards from `/panel` when readings of
//! the asset arrive (see `nexus.js`).

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use nexus_core::extract::Path;
use nexus_core::pages::{Done, Errors, OrPage, Page, Shell, Web, filled, query_string, render};
use nexus_core::{ApiError, ApiResult, AppState, Timestamp, Validator};
use nexus_maintenance::model::AssetOut;
use serde::Deserialize;

use super::chart::Chart;
use super::number;
use crate::model::{HistoryQuery, MetricOut};
use crate::service::{self, Level};
use nexus_core::pages::instant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{id}/metrics", get(metrics_page))
        .route("/assets/{id}/metrics/panel", get(metrics_panel))
}

/// The ranges offered: (key, label, seconds back from now).
const PRESETS: &[(&str, &str, i64)] = &[
    ("1h", "Last hour", 3_600),
    ("24h", "Last 24 hours", 86_400),
    ("7d", "Last 7 days", 7 * 86_400),
    ("30d", "Last 30 days", 30 * 86_400),
    ("1y", "Last year", 365 * 86_400),
];
const DEFAULT_RANGE: &str = "24h";
/// Buckets per chart: a point every two or so pixels of a desk-wide chart.
const BUCKETS: u32 = 300;

/// The range asked for: a preset, or `from`/`to` (either may be left out).
#[derive(Deserialize, Default)]
#[serde(default)]
struct RangeForm {
    range: String,
    from: String,
    to: String,
}

/// A range to draw, `[from, to)`.
#[derive(Debug)]
struct Range {
    from: Timestamp,
    to: Timestamp,
    label: String,
}

/// `2026-11-23T14:05` in plant time, as a `datetime-local` field shows it.
fn local_input(t: Timestamp) -> String {
    t.input_value()
}

impl RangeForm {
    fn custom(&self) -> bool {
        filled(&self.from).is_some() || filled(&self.to).is_some()
    }

    /// The range, ending now for a preset; refused fields are named.
    fn range(&self, now: Timestamp) -> ApiResult<Range> {
        if self.custom() {
            let mut v = Validator::new();
            let (from, to) = (instant(&self.from), instant(&self.to));
            let hint = "must be a date and time, like 2026-11-23T14:00";
            v.check(from.is_ok(), "from", hint);
            v.check(to.is_ok(), "to", hint);
            v.finish()?;
            let to = to.ok().flatten().unwrap_or(now);
            let from = from.ok().flatten().unwrap_or(to.plus_seconds(-86_400));
            if from >= to {
                return Err(ApiError::invalid(
                    "from",
                    "must be before the end of the range",
                ));
            }
            let label = format!("{} to {}", from.display(), to.display());
            return Ok(Range { from, to, label });
        }
        let key = filled(&self.range).unwrap_or_else(|| DEFAULT_RANGE.into());
        let (_, label, secs) = PRESETS
            .iter()
            .find(|(k, _, _)| *k == key)
            .ok_or_else(|| ApiError::invalid("range", "choose one of the ranges offered"))?;
        Ok(Range {
            from: now.plus_seconds(-secs),
            to: now,
            label: (*label).to_string(),
        })
    }

    /// The query that asks for this range again (a preset stays relative to now).
    fn query(&self) -> String {
        query_string(&[
            ("range", self.range.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ])
    }
}

/// One metric of the asset as a card.
struct MetricCard {
    metric: MetricOut,
    /// The newest reading, `—` before the first.
    value: String,
    value_at: String,
    /// `ok`, `warning`, `critical`, `none` (no reading yet) or `plain` (no thresholds):
    /// the badge's class.
    state: &'static str,
    state_label: String,
    /// The unresolved alert of the metric.
    alert_id: Option<i64>,
    /// `warning ≥ 80 · critical ≥ 90`.
    thresholds: String,
    chart: Chart,
    chart_title: String,
}

/// A bucket width for people: `12 s`, `5 min`, `3 h`.
fn width(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{} s", number(seconds))
    } else if seconds < 2.0 * 3600.0 {
        format!("{} min", number(seconds / 60.0))
    } else {
        format!("{} h", number(seconds / 3600.0))
    }
}

fn thresholds(m: &MetricOut) -> String {
    let sign = if m.direction == "below" { "≤" } else { "≥" };
    let mut parts: Vec<String> = [
        ("warning", m.warning_threshold),
        ("critical", m.critical_threshold),
    ]
    .into_iter()
    .filter_map(|(name, t)| t.map(|t| format!("{name} {sign} {}", number(t))))
    .collect();
    if !parts.is_empty() && m.hysteresis > 0.0 {
        parts.push(format!("hysteresis {}", number(m.hysteresis)));
    }
    parts.join(" · ")
}

/// Every metric of the asset with its chart over `range`.
async fn cards(state: &AppState, asset_id: i64, range: &Range) -> ApiResult<Vec<MetricCard>> {
    let conn = state.db.read();
    let metrics = service::list_metrics(conn, asset_id).await?;
    let alerts = service::series_alerts(conn, asset_id).await?;
    let q = HistoryQuery {
        from: Some(range.from.to_rfc3339()),
        to: Some(range.to.to_rfc3339()),
        buckets: Some(BUCKETS),
    };
    let mut cards = Vec::with_capacity(metrics.len());
    for m in metrics {
        let history = service::history(state, asset_id, &m.metric_name, &q).await?;
        let chart = Chart::of(&history, m.direction == "below");
        let alert = alerts.get(&m.id);
        let (state, state_label) = match alert {
            Some(a) => {
                let level = if a.level == Level::Critical {
                    "Critical"
                } else {
                    "Warning"
                };
                let label = if a.status == "acknowledged" {
                    format!("{level} · acknowledged")
                } else {
                    level.to_string()
                };
                (a.level.as_str(), label)
            }
            None if m.metric_value.is_none() => ("none", "No readings yet".to_string()),
            None if m.warning_threshold.is_none() && m.critical_threshold.is_none() => {
                ("plain", "No thresholds".to_string())
            }
            None => ("ok", "Normal".to_string()),
        };
        let unit = if m.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", m.unit)
        };
        cards.push(MetricCard {
            value: m.metric_value.map_or("—".into(), number),
            value_at: m.value_at.map_or(String::new(), |t| {
                t.local().format("%Y-%m-%d %H:%M:%S %Z").to_string()
            }),
            state,
            state_label,
            alert_id: alert.map(|a| a.alert_id),
            thresholds: thresholds(&m),
            chart_title: format!(
                "{}{unit}, {}: lowest to highest and average per {}",
                m.metric_name,
                range.label.to_lowercase(),
                width(history.bucket_seconds)
            ),
            chart,
            metric: m,
        });
    }
    Ok(cards)
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    shell: Shell,
    asset: AssetOut,
    form: RangeForm,
    errors: Errors,
    presets: &'static [(&'static str, &'static str, i64)],
    /// The preset drawn, empty for a custom range.
    preset: String,
    range_label: String,
    cards: Vec<MetricCard>,
    /// Where the live script fetches the cards again.
    panel: String,
    /// The user may define metrics (links to the forms).
    can_manage: bool,
}

impl MetricsPage {
    /// The plant's time zone, which the times are in.
    fn zone(&self) -> &'static str {
        nexus_core::plant::timezone().name()
    }
}

/// The cards alone, for the live script.
#[derive(Template)]
#[template(path = "metric_cards.html")]
struct MetricsPanel {
    cards: Vec<MetricCard>,
    can_manage: bool,
}

/// An asset's metrics with their current values, states and charts of the chosen range.
async fn metrics_page(
    web: Web,
    Path(id): Path<i64>,
    Query(mut form): Query<RangeForm>,
    Query(done): Query<Done>,
) -> Page {
    web.require("telemetry:read")?;
    let asset = nexus_maintenance::service::get_asset(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    let title = format!("{} metrics", asset.name);
    let mut page = MetricsPage {
        shell: web.shell_done(&title, done.message(&[])),
        asset,
        form: RangeForm::default(),
        errors: Errors::default(),
        presets: PRESETS,
        preset: String::new(),
        range_label: String::new(),
        cards: Vec::new(),
        panel: String::new(),
        can_manage: web.user.can("telemetry:manage"),
    };
    let range = match form.range(Timestamp::now()) {
        Ok(range) => range,
        Err(err) => {
            let r = web.refused(&title, err)?;
            (page.shell, page.errors, page.form) = (r.shell, r.errors, form);
            return Ok(render(r.status, &page));
        }
    };
    page.cards = cards(&web.state, id, &range).await.or_page(&web)?;
    page.panel = format!("/assets/{id}/metrics/panel?{}", form.query());
    page.range_label = range.label;
    if !form.custom() {
        page.preset = filled(&form.range).unwrap_or_else(|| DEFAULT_RANGE.into());
    }
    // The custom fields show the range drawn, ready to be adjusted.
    (form.from, form.to) = (local_input(range.from), local_input(range.to));
    page.form = form;
    Ok(render(StatusCode::OK, &page))
}

/// The metric cards of `metrics_page` alone, drawn afresh.
async fn metrics_panel(web: Web, Path(id): Path<i64>, Query(form): Query<RangeForm>) -> Page {
    web.require("telemetry:read")?;
    let range = form.range(Timestamp::now()).or_page(&web)?;
    let cards = cards(&web.state, id, &range).await.or_page(&web)?;
    let can_manage = web.user.can("telemetry:manage");
    Ok(render(StatusCode::OK, &MetricsPanel { cards, can_manage }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let now = Timestamp::parse("2026-11-23T12:00:00Z").unwrap();
        let form = |range: &str, from: &str, to: &str| RangeForm {
            range: range.into(),
            from: from.into(),
            to: to.into(),
        };
        let r = form("", "", "").range(now).unwrap();
        assert_eq!((r.to, r.from), (now, now.plus_seconds(-86_400)));
        let r = form("7d", "", "").range(now).unwrap();
        assert_eq!(r.label, "Last 7 days");
        let r = form("1h", "2026-11-01T00:00", "").range(now).unwrap();
        assert_eq!(
            (r.from.to_datetime().to_string(), r.to),
            ("2026-11-01 00:00:00 UTC".into(), now)
        );
        let err = form("", "soon", "later").range(now).unwrap_err();
        assert_eq!(err.field_errors().len(), 2);
        let err = form("", "2026-11-02", "2026-11-01").range(now).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "from");
        let err = form("2w", "", "").range(now).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "range");
        assert_eq!(form("7d", " ", "").query(), "range=7d");
    }

    #[test]
    fn widths_read_well() {
        assert_eq!(width(12.0), "12 s");
        assert_eq!(width(300.0), "5 min");
        assert_eq!(width(10_800.0), "3 h");
    }
}
