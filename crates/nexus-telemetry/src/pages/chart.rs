//! A metric's history as an SVG chart: the min–max band and the average line of each
//! bucket, with the warning and critical zones shaded. Laid out here so the template only
//! places shapes.

use std::fmt::Write;

use nexus_core::Timestamp;

use super::number;
use crate::model::HistoryOut;

/// What is drawn of a bucket: its start (microseconds) and figures.
struct Figures {
    start: i64,
    min: f64,
    avg: f64,
    max: f64,
}

/// A shaded zone past a threshold, in the SVG's user units.
pub struct Band {
    /// `warning` or `critical`.
    pub level: &'static str,
    pub y: f64,
    pub height: f64,
    /// Where the threshold line is drawn.
    pub line_y: f64,
    pub label: String,
}

/// A labelled position on an axis.
pub struct Tick {
    pub at: f64,
    pub label: String,
    /// `start`, `middle` or `end`: the first and last time labels stay inside the chart.
    pub anchor: &'static str,
}

pub struct Chart {
    /// The min–max band: one closed sub-path per run of consecutive buckets.
    pub band: String,
    /// The average line, one sub-path per run.
    pub avg: String,
    pub zones: Vec<Band>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub buckets: usize,
    pub samples: i64,
}

impl Chart {
    pub const WIDTH: f64 = 640.0;
    pub const HEIGHT: f64 = 250.0;
    pub const LEFT: f64 = 64.0;
    pub const RIGHT: f64 = 628.0;
    pub const TOP: f64 = 10.0;
    pub const BOTTOM: f64 = 214.0;
    const X_LABELS: usize = 5;

    /// The chart of `h`, the thresholds crossed going up unless `below`.
    pub fn of(h: &HistoryOut, below: bool) -> Self {
        let thresholds = [h.warning_threshold, h.critical_threshold];
        // A bucket without figures (a reading beyond the accepted range) is left out.
        let drawn: Vec<Figures> = h
            .buckets
            .iter()
            .filter_map(|b| {
                Some(Figures {
                    start: b.start.0,
                    min: b.min?,
                    avg: b.avg?,
                    max: b.max?,
                })
            })
            .collect();
        let values = drawn
            .iter()
            .flat_map(|b| [b.min, b.max])
            .chain(thresholds.into_iter().flatten());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = match (lo.is_finite(), hi > lo) {
            (false, _) => (0.0, 1.0),
            (true, false) => (lo - lo.abs().max(1.0) * 0.1, hi + hi.abs().max(1.0) * 0.1),
            (true, true) => (lo, hi),
        };
        let pad = (hi - lo) * 0.06;
        let y_ticks = value_ticks(lo - pad, hi + pad);
        // The axis spans whole ticks, so the grid lines end at its edges.
        let (lo, hi) = (
            y_ticks.first().map_or(lo - pad, |t| t.1.min(lo - pad)),
            y_ticks.last().map_or(hi + pad, |t| t.1.max(hi + pad)),
        );
        let y = |v: f64| Self::BOTTOM - (v - lo) / (hi - lo) * (Self::BOTTOM - Self::TOP);
        let (from, to) = (h.from.0 as f64, h.to.0 as f64);
        let x = |t: f64| {
            Self::LEFT + ((t - from) / (to - from)).clamp(0.0, 1.0) * (Self::RIGHT - Self::LEFT)
        };

        let zones = zones(h, below, &y);
        let width_us = h.bucket_seconds * 1e6;
        let max_gap = max_gap(&drawn, width_us);
        let mut band = String::new();
        let mut avg = String::new();
        for run in drawn.chunk_by(|a, b| (b.start - a.start) as f64 <= max_gap) {
            let at = |b: &Figures| x(b.start as f64 + width_us / 2.0);
            // A lone bucket gets a sliver of width so it shows.
            let points: Vec<(f64, &Figures)> = match run {
                [one] => vec![(at(one) - 1.0, one), (at(one) + 1.0, one)],
                _ => run.iter().map(|b| (at(b), b)).collect(),
            };
            for (n, (px, b)) in points.iter().enumerate() {
                let verb = if n == 0 { 'M' } else { 'L' };
                let _ = write!(band, "{verb}{px:.1} {:.1}", y(b.max));
                let _ = write!(avg, "{verb}{px:.1} {:.1}", y(b.avg));
            }
            for (px, b) in points.iter().rev() {
                let _ = write!(band, "L{px:.1} {:.1}", y(b.min));
            }
            band.push('Z');
        }
        Self {
            band,
            avg,
            zones,
            y_ticks: y_ticks
                .into_iter()
                .map(|(label, v)| Tick {
                    at: y(v),
                    label,
                    anchor: "end",
                })
                .collect(),
            x_ticks: time_ticks(h.from, h.to, &x),
            buckets: h.buckets.len(),
            samples: h.buckets.iter().map(|b| b.count).sum(),
        }
    }
}

/// The widest gap between buckets the line bridges, in microseconds: three times their
/// usual spacing, so a reading a minute drawn in 12-second buckets is still a line,
/// while an outage shows as a break.
fn max_gap(buckets: &[Figures], width_us: f64) -> f64 {
    let mut gaps: Vec<i64> = buckets
        .windows(2)
        .map(|w| w[1].start - w[0].start)
        .collect();
    gaps.sort_unstable();
    let usual = gaps.get(gaps.len() / 2).map_or(0.0, |g| *g as f64);
    (width_us * 1.5).max(usual * 3.0)
}

/// The warning zone between the warning and critical thresholds (or the chart's edge),
/// and the critical zone past the critical threshold.
fn zones(h: &HistoryOut, below: bool, y: &impl Fn(f64) -> f64) -> Vec<Band> {
    // The edge of the chart past the thresholds, in SVG units.
    let edge = if below { Chart::BOTTOM } else { Chart::TOP };
    let span = |from: f64, to_y: f64| (from.min(to_y), (from - to_y).abs());
    let mut zones = Vec::new();
    if let Some(w) = h.warning_threshold {
        let end = h.critical_threshold.map_or(edge, y);
        let (top, height) = span(y(w), end);
        zones.push(Band {
            level: "warning",
            y: top,
            height,
            line_y: y(w),
            label: format!("warning {}", number(w)),
        });
    }
    if let Some(c) = h.critical_threshold {
        let (top, height) = span(y(c), edge);
        zones.push(Band {
            level: "critical",
            y: top,
            height,
            line_y: y(c),
            label: format!("critical {}", number(c)),
        });
    }
    zones
}

/// Round values from `lo` to `hi`, about five: (label, value).
fn value_ticks(lo: f64, hi: f64) -> Vec<(String, f64)> {
    let step = nice_step((hi - lo) / 4.0);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            (number(v), v)
        })
        .collect()
}

/// The smallest of …, 0.1, 0.2, 0.5, 1, 2, 5, 10, … that is at least `at_least`.
fn nice_step(at_least: f64) -> f64 {
    if !(at_least.is_finite() && at_least > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(at_least.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= at_least * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Evenly spaced time labels, in plant time: clock times for a day or so, days for up to a
/// quarter, months beyond.
fn time_ticks(from: Timestamp, to: Timestamp, x: &impl Fn(f64) -> f64) -> Vec<Tick> {
    let span_h = (to.0 - from.0) as f64 / 3.6e9;
    let format = if span_h <= 36.0 {
        "%H:%M"
    } else if span_h <= 24.0 * 92.0 {
        "%b %-d"
    } else {
        "%b %Y"
    };
    let n = Chart::X_LABELS;
    (0..n)
        .map(|k| {
            let t = from.0 as f64 + (to.0 - from.0) as f64 * k as f64 / (n - 1) as f64;
            Tick {
                at: x(t),
                label: Timestamp(t as i64).local().format(format).to_string(),
                anchor: match k {
                    0 => "start",
                    k if k == n - 1 => "end",
                    _ => "middle",
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BucketOut;

    fn history(buckets: &[(i64, f64, f64, f64)]) -> HistoryOut {
        HistoryOut {
            asset_id: 1,
            metric_name: "temperature".into(),
            unit: "°C".into(),
            from: Timestamp(0),
            to: Timestamp(100_000_000),
            bucket_seconds: 10.0,
            source: "raw".into(),
            warning_threshold: Some(80.0),
            critical_threshold: Some(90.0),
            buckets: buckets
                .iter()
                .map(|(s, min, avg, max)| BucketOut {
                    start: Timestamp(s * 1_000_000),
                    min: Some(*min),
                    avg: Some(*avg),
                    max: Some(*max),
                    count: 2,
                })
                .collect(),
        }
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(130.0), 200.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn zones_lie_past_their_thresholds() {
        let chart = Chart::of(&history(&[(0, 70.0, 75.0, 85.0)]), false);
        let [warning, critical] = &chart.zones[..] else {
            panic!("two zones")
        };
        // Going up: critical from its line to the top, warning just below it.
        assert!((critical.y - Chart::TOP).abs() < 1e-9);
        assert!((critical.y + critical.height - critical.line_y).abs() < 1e-9);
        assert!((warning.y - critical.line_y).abs() < 1e-9);
        assert!(warning.line_y > critical.line_y);
        assert_eq!(critical.label, "critical 90");

        let mut h = history(&[(0, 10.0, 15.0, 20.0)]);
        (h.warning_threshold, h.critical_threshold) = (Some(8.0), Some(5.0));
        let below = Chart::of(&h, true);
        let critical = &below.zones[1];
        assert!((critical.y + critical.height - Chart::BOTTOM).abs() < 1e-9);
    }

    #[test]
    fn gaps_split_the_band_and_line() {
        let chart = Chart::of(
            &history(&[
                (0, 70.0, 71.0, 72.0),
                (20, 71.0, 72.0, 73.0),
                (40, 74.0, 75.0, 76.0),
                (60, 74.0, 75.0, 76.0),
                (90, 74.0, 75.0, 76.0),
            ]),
            false,
        );
        // Readings every 20 s in 10 s buckets make a line; 30 s is no outage either.
        assert_eq!(chart.band.matches('Z').count(), 1);
        let broken = Chart::of(
            &history(&[
                (0, 70.0, 71.0, 72.0),
                (20, 71.0, 72.0, 73.0),
                (40, 74.0, 75.0, 76.0),
                (130, 74.0, 75.0, 76.0),
            ]),
            false,
        );
        assert_eq!(broken.band.matches('Z').count(), 2);
        assert_eq!(broken.avg.matches('M').count(), 2);
        assert_eq!((broken.buckets, broken.samples), (4, 8));
        assert_eq!(chart.x_ticks.len(), 5);
        assert!(chart.y_ticks.len() >= 3);
    }
}
