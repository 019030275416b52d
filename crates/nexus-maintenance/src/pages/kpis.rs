//! The KPI dashboard: the figures of a scope and period, with the series drawn as SVG
//! bar charts on the server.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::NaiveDate;
use nexus_core::pages::{Errors, OrPage, Page, Shell, Web, chosen_id, filled, render};
use nexus_core::{ApiError, ApiResult, AppState, Timestamp, Validator};
use serde::Deserialize;

use super::inventory::money;
use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new().route("/maintenance/kpis", get(dashboard))
}

const READ: &str = "maintenance_kpis:read";

/// A bar segment, in the SVG's user units.
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The CSS class that colours it.
    pub class: &'static str,
    pub title: String,
}

pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// Stacked bars, one per bucket, laid out here so the template only places shapes.
pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

impl Chart {
    pub const WIDTH: f64 = 480.0;
    pub const HEIGHT: f64 = 260.0;
    pub const LEFT: f64 = 70.0;
    pub const RIGHT: f64 = 472.0;
    pub const TOP: f64 = 12.0;
    pub const BOTTOM: f64 = 228.0;

    /// `stacks[i]` are the segments (value, class, name) of bucket `labels[i]`; `None`
    /// when every value is zero. `unit` formats values on the axis and in titles.
    fn of(
        title: &str,
        labels: &[String],
        stacks: &[Vec<(f64, &'static str, &'static str)>],
        unit: fn(f64) -> String,
    ) -> Option<Self> {
        let max = stacks
            .iter()
            .map(|s| s.iter().map(|(v, _, _)| v.max(0.0)).sum::<f64>())
            .fold(0.0, f64::max);
        if max <= 0.0 || labels.is_empty() {
            return None;
        }
        let step = nice_step(max / 4.0);
        let scale = (Self::BOTTOM - Self::TOP) / (step * 4.0);
        let group = (Self::RIGHT - Self::LEFT) / labels.len() as f64;
        let width = group * 0.7;
        let mut bars = Vec::new();
        for (n, (label, stack)) in labels.iter().zip(stacks).enumerate() {
            let mut base = Self::BOTTOM;
            for (value, class, name) in stack {
                let height = value.max(0.0) * scale;
                base -= height;
                bars.push(Bar {
                    x: Self::LEFT + group * n as f64 + group * 0.15,
                    y: base,
                    width,
                    height,
                    class,
                    title: format!("{label}: {name} {}", unit(*value)),
                });
            }
        }
        let every = labels.len().div_ceil(8);
        Some(Self {
            title: title.to_string(),
            bars,
            y_ticks: (0..=4)
                .map(|k| Tick {
                    at: Self::BOTTOM - step * k as f64 * scale,
                    label: unit(step * k as f64),
                })
                .collect(),
            x_ticks: labels
                .iter()
                .enumerate()
                .filter(|(n, _)| n % every == 0)
                .map(|(n, l)| Tick {
                    at: Self::LEFT + group * (n as f64 + 0.5),
                    label: l.clone(),
                })
                .collect(),
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KpiForm {
    location_id: String,
    asset_id: String,
    from: String,
    to: String,
    bucket: String,
}

impl KpiForm {
    fn query(&self) -> ApiResult<KpiQuery> {
        let mut v = Validator::new();
        let mut date = |field: &str, text: &str| -> Option<NaiveDate> {
            let d = filled(text).map(|t| t.parse::<NaiveDate>());
            v.check(
                !matches!(d, Some(Err(_))),
                field,
                "must be a date like 2026-01-31",
            );
            d.and_then(Result::ok)
        };
        let (from, to) = (date("from", &self.from), date("to", &self.to));
        let location = chosen_id("location_id", &self.location_id, "location");
        let asset = chosen_id("asset_id", &self.asset_id, "asset");
        for e in [location.as_ref().err(), asset.as_ref().err()]
            .into_iter()
            .flatten()
        {
            for f in e.field_errors() {
                v.add(&f.field, f.message);
            }
        }
        v.finish()?;
        Ok(KpiQuery {
            location_id: location?,
            asset_id: asset?,
            from,
            to,
            bucket: filled(&self.bucket),
        })
    }
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct Dashboard {
    shell: Shell,
    form: KpiForm,
    errors: Errors,
    locations: Vec<LocationOut>,
    report: Option<KpiReport>,
    cost: Option<Chart>,
    downtime: Option<Chart>,
}

impl Dashboard {
    fn pct(&self, x: &Option<f64>) -> String {
        x.map_or_else(|| "–".into(), |x| format!("{:.1} %", x * 100.0))
    }

    fn hours(&self, x: &Option<f64>) -> String {
        x.map_or_else(|| "–".into(), |x| format!("{x:.1} h"))
    }

    fn money(&self, cents: &i64) -> String {
        money(cents)
    }

    fn chosen(&self, id: &i64) -> bool {
        self.form.location_id == id.to_string()
    }
}

fn bucket_label(f: &KpiFigures, monthly: bool) -> String {
    if monthly {
        f.from.format("%b %Y").to_string()
    } else {
        f.from.format("%b %-d").to_string()
    }
}

async fn dashboard(web: Web, Query(form): Query<KpiForm>) -> Page {
    web.require(READ)?;
    let locations = service::all_locations(web.state.db.read())
        .await
        .or_page(&web)?;
    let report = match form.query() {
        Ok(q) => service::kpis(web.state.db.read(), &q, Timestamp::now()).await,
        Err(e) => Err(e),
    };
    let (report, errors, status, shell) = match report {
        Ok(r) => (
            Some(r),
            Errors::default(),
            StatusCode::OK,
            web.shell("KPIs"),
        ),
        Err(err @ ApiError::Validation(_)) => {
            let r = web.refused("KPIs", err)?;
            (None, r.errors, r.status, r.shell)
        }
        Err(err) => return Err(web.fail(err)),
    };
    let (cost, downtime) = match &report {
        Some(r) => {
            let monthly = r.bucket == "month";
            let labels: Vec<String> = r.series.iter().map(|f| bucket_label(f, monthly)).collect();
            let euros = |c: i64| c as f64 / 100.0;
            let cost = Chart::of(
                "Maintenance cost per bucket: labor and parts",
                &labels,
                &r.series
                    .iter()
                    .map(|f| {
                        vec![
                            (euros(f.labor_cost_cents), "bar-in", "labor"),
                            (euros(f.parts_cost_cents), "bar-out", "parts"),
                        ]
                    })
                    .collect::<Vec<_>>(),
                |v| format!("{v:.0}"),
            );
            let downtime = Chart::of(
                "Downtime hours per bucket",
                &labels,
                &r.series
                    .iter()
                    .map(|f| vec![(f.downtime_hours, "bar-out", "down")])
                    .collect::<Vec<_>>(),
                |v| format!("{v:.0} h"),
            );
            (cost, downtime)
        }
        None => (None, None),
    };
    let page = Dashboard {
        shell,
        form,
        errors,
        locations,
        report,
        cost,
        downtime,
    };
    Ok(render(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_bars_scale_to_nice_ticks() {
        assert_eq!(nice_step(3.2), 5.0);
        assert_eq!(nice_step(0.3), 0.5);
        let labels = vec!["a".to_string(), "b".to_string()];
        let chart = Chart::of(
            "t",
            &labels,
            &[
                vec![(10.0, "bar-in", "x"), (5.0, "bar-out", "y")],
                vec![(0.0, "bar-in", "x"), (2.0, "bar-out", "y")],
            ],
            |v| format!("{v:.0}"),
        )
        .unwrap();
        assert_eq!(chart.bars.len(), 4);
        assert_eq!(chart.y_ticks.last().unwrap().label, "20");
        let (x, y) = (&chart.bars[0], &chart.bars[1]);
        assert!(
            (x.y - y.y - y.height).abs() < 1e-9,
            "the second segment sits on the first"
        );
        assert!(Chart::of("t", &labels, &[vec![], vec![]], |v| v.to_string()).is_none());
    }
}
