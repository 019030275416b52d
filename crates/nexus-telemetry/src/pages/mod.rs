//! The web pages of telemetry: an asset's metrics with live charts, the forms that define
//! them, the alert list with acknowledge, and the risk ranking. Handlers parse the form, call the same services as
//! the JSON API and render a template.

mod alerts;
mod automation;
mod chart;
mod metrics;
mod risk;
mod settings;

use axum::Router;
use nexus_core::AppState;
use nexus_core::pages::query_string;

/// Every page of telemetry.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(metrics::router())
        .merge(alerts::router())
        .merge(risk::router())
        .merge(settings::router())
        .merge(automation::router())
}

/// A reading for people: at most three decimals, no trailing zeros.
fn number(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".into(),
        t => t.into(),
    }
}

/// An alert's level or status in words.
fn word(code: &str) -> &'static str {
    match code {
        "warning" => "Warning",
        "critical" => "Critical",
        "open" => "Open",
        "acknowledged" => "Acknowledged",
        "resolved" => "Resolved",
        _ => "Unknown",
    }
}

/// The maintenance form for a new work order on `asset`, filled in with `title` and
/// `priority`: where a technician goes from an alert or a risk row.
fn new_work_order(asset: i64, title: &str, priority: &str) -> String {
    format!(
        "/maintenance/work-orders/new?{}",
        query_string(&[
            ("asset_id", &asset.to_string()),
            ("title", title),
            ("priority", priority),
        ])
    )
}

/// A duration in hours for people: hours up to two days, days beyond.
fn duration(hours: f64) -> String {
    if hours < 48.0 {
        format!("{hours:.1} h")
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(80.0), "80");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(number(12.3456), "12.346");
        assert_eq!(duration(5.26), "5.3 h");
        assert_eq!(duration(72.0), "3.0 days");
    }

    #[test]
    fn typed_times_are_utc() {
        let at = |t| nexus_core::pages::instant(t).unwrap().unwrap().to_rfc3339();
        assert_eq!(at("2026-11-23T14:05"), "2026-11-23T14:05:00.000000Z");
        assert_eq!(at("2026-11-23"), "2026-11-23T00:00:00.000000Z");
        assert_eq!(
            at("2026-11-23T15:05:00+01:00"),
            "2026-11-23T14:05:00.000000Z"
        );
        assert_eq!(nexus_core::pages::instant("  "), Ok(None));
        assert_eq!(
            nexus_core::pages::instant("yesterday"),
            Err(nexus_core::pages::NotATime)
        );
    }
}
