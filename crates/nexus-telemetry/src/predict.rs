//! Predictions, pure functions on a series: a Theil–Sen trend (the median of pairwise
//! slopes: robust to noise and up to ~29% outliers), the time it crosses the critical
//! threshold (remaining useful life) with a confidence interval from the spread of the
//! pairwise slopes, the probability of crossing within a horizon, and an anomaly score
//! (robust z-score of the newest residuals against the median absolute deviation, mapped
//! onto 0–1). Remaining life counts from where the series is now (its latest reading), so
//! a series already past its threshold has none left.

/// What the trend says of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Units per hour.
    pub slope: f64,
    /// Where the series is now: its latest reading, else the fitted value at the newest
    /// point.
    pub level: f64,
    /// The latest reading is at or past the threshold: no life left, certain to cross.
    pub past_threshold: bool,
    /// Hours from the newest point to the threshold; `None` when the trend never gets there.
    pub rul_hours: Option<f64>,
    /// Hours, from the slopes at the 5th and 95th percentile (`None`: never).
    pub rul_low: Option<f64>,
    pub rul_high: Option<f64>,
    /// Share of pairwise slopes that cross the threshold within the horizon.
    pub probability: f64,
    /// Robust z-score: |median of the newest residuals| / (1.4826 · MAD of all residuals),
    /// at most [`MAX_Z`].
    pub anomaly_z: f64,
    /// The z-score on a 0–1 scale, `z / (z + 3)`: 0 on the trend, 0.5 at three robust
    /// standard deviations off it (a usual alarm level), 0.75 at nine, 1 only in the limit.
    pub anomaly: f64,
}

/// The largest z-score reported: a series without scatter that moves off its trend.
pub const MAX_Z: f64 = 1000.0;

/// A robust z-score on the 0–1 scale of [`Forecast::anomaly`].
pub fn anomaly_score(z: f64) -> f64 {
    z / (z + 3.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Hours until `level` moving at `slope` per hour reaches `threshold` (`above`: from
/// below), or `None` when it moves away or not at all.
fn hours_to(level: f64, slope: f64, threshold: f64, above: bool) -> Option<f64> {
    let gap = if above {
        threshold - level
    } else {
        level - threshold
    };
    if gap <= 0.0 {
        return Some(0.0);
    }
    let speed = if above { slope } else { -slope };
    (speed > 0.0).then(|| gap / speed)
}

/// The forecast of `points` (hours, value), oldest first, against `threshold`, from the
/// `latest` reading when there is one; `None` with fewer than 8 points. At most 400 points
/// are used (evenly thinned).
pub fn forecast(
    points: &[(f64, f64)],
    threshold: f64,
    above: bool,
    horizon_hours: f64,
    latest: Option<f64>,
) -> Option<Forecast> {
    if points.len() < 8 {
        return None;
    }
    let step = points.len().div_ceil(400);
    let p: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    let mut slopes = Vec::with_capacity(p.len() * (p.len() - 1) / 2);
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            let dt = p[j].0 - p[i].0;
            if dt > 0.0 {
                slopes.push((p[j].1 - p[i].1) / dt);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    let slope = median(&mut slopes);
    let mut intercepts: Vec<f64> = p.iter().map(|(t, v)| v - slope * t).collect();
    let intercept = median(&mut intercepts);
    let last_t = p[p.len() - 1].0;
    let level = latest.unwrap_or(intercept + slope * last_t);
    let past_threshold = if above {
        level >= threshold
    } else {
        level <= threshold
    };
    let mut residuals: Vec<f64> = p.iter().map(|(t, v)| v - (intercept + slope * t)).collect();
    let recent = (p.len() / 10).max(3);
    let mut newest: Vec<f64> = residuals[p.len() - recent..].to_vec();
    let shift = median(&mut newest);
    let mut abs: Vec<f64> = residuals.iter_mut().map(|r| r.abs()).collect();
    let mad = median(&mut abs) * 1.4826;
    let z = if mad > 0.0 {
        shift.abs() / mad
    } else if shift.abs() > 0.0 {
        MAX_Z
    } else {
        0.0
    };
    let z = z.min(MAX_Z);
    let rul = hours_to(level, slope, threshold, above);
    let (lo, hi) = (quantile(&slopes, 0.05), quantile(&slopes, 0.95));
    // The faster slope gives the earlier crossing.
    let (fast, slow) = if above { (hi, lo) } else { (lo, hi) };
    let crossing = slopes
        .iter()
        .filter(|s| hours_to(level, **s, threshold, above).is_some_and(|h| h <= horizon_hours))
        .count();
    Some(Forecast {
        slope,
        level,
        past_threshold,
        rul_hours: rul,
        rul_low: hours_to(level, fast, threshold, above),
        rul_high: hours_to(level, slow, threshold, above),
        probability: crossing as f64 / slopes.len() as f64,
        anomaly_z: z,
        anomaly: anomaly_score(z),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic noise source in [-1, 1].
    fn noise(i: usize) -> f64 {
        let x = (i as u64)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) % 2001) as f64 / 1000.0 - 1.0
    }

    #[test]
    fn linear_drift_crosses_at_the_known_time() {
        // 50 + 0.5/h for 200 hours: 150 at hour 200, threshold 160 → 20 hours left.
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|h| (h as f64, 50.0 + 0.5 * h as f64))
            .collect();
        let f = forecast(&pts, 160.0, true, 24.0 * 7.0, None).unwrap();
        assert!((f.slope - 0.5).abs() < 1e-9);
        assert!((f.rul_hours.unwrap() - 20.0).abs() < 1e-6);
        assert!(f.probability > 0.99);
        assert!(f.anomaly_z < 1.0 && f.anomaly < 0.25);
        assert!(!f.past_threshold);
    }

    #[test]
    fn a_series_past_its_threshold_has_no_life_left() {
        // The hourly averages are still climbing towards 90, but the latest reading is 96.
        let pts: Vec<(f64, f64)> = (0..=48).map(|h| (h as f64, 40.0 + h as f64)).collect();
        let f = forecast(&pts, 90.0, true, 24.0, Some(96.0)).unwrap();
        assert!(f.past_threshold);
        assert_eq!(
            (f.rul_hours, f.rul_low, f.rul_high),
            (Some(0.0), Some(0.0), Some(0.0))
        );
        assert_eq!(f.probability, 1.0);
        assert_eq!(f.level, 96.0);
        // From the latest reading, not the fitted line: 80 now, 1/h, 10 hours to 90.
        let f = forecast(&pts, 90.0, true, 24.0, Some(80.0)).unwrap();
        assert!((f.rul_hours.unwrap() - 10.0).abs() < 1e-6);
        assert!(!f.past_threshold);
    }

    #[test]
    fn the_anomaly_score_is_bounded() {
        assert_eq!(anomaly_score(0.0), 0.0);
        assert_eq!(anomaly_score(3.0), 0.5);
        assert!(anomaly_score(MAX_Z) < 1.0);
        // A clean trend with one step off it: bounded however small the scatter.
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|h| {
                (
                    h as f64,
                    if h > 190 {
                        120.0
                    } else {
                        50.0 + 0.1 * h as f64
                    },
                )
            })
            .collect();
        let f = forecast(&pts, 500.0, true, 24.0, None).unwrap();
        assert!(f.anomaly > 0.9 && f.anomaly < 1.0, "{}", f.anomaly);
        assert!(f.anomaly_z <= MAX_Z);
    }

    #[test]
    fn noise_keeps_the_answer_close_and_widens_the_interval() {
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|h| (h as f64, 50.0 + 0.5 * h as f64 + 5.0 * noise(h)))
            .collect();
        let f = forecast(&pts, 160.0, true, 24.0 * 7.0, None).unwrap();
        let rul = f.rul_hours.unwrap();
        assert!((rul - 20.0).abs() < 4.0, "{rul}");
        assert!(f.rul_low.unwrap() <= rul && rul <= f.rul_high.unwrap());
        assert!(f.rul_high.unwrap() > f.rul_low.unwrap());
    }

    #[test]
    fn flat_series_never_crosses() {
        let pts: Vec<(f64, f64)> = (0..=200).map(|h| (h as f64, 70.0 + noise(h))).collect();
        let f = forecast(&pts, 90.0, true, 24.0 * 30.0, None).unwrap();
        assert!(f.slope.abs() < 0.01);
        assert!(f.probability < 0.5);
        assert!(f.rul_hours.is_none_or(|h| h > 24.0 * 30.0));
        assert!(f.anomaly_z < 3.0 && f.anomaly < 0.5);
        // Too little history: no forecast.
        assert!(forecast(&pts[..5], 90.0, true, 1.0, None).is_none());
    }

    #[test]
    fn a_step_change_is_an_anomaly() {
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|h| (h as f64, if h > 185 { 85.0 } else { 70.0 } + noise(h)))
            .collect();
        let f = forecast(&pts, 100.0, true, 24.0, None).unwrap();
        assert!(f.anomaly_z > 5.0, "{}", f.anomaly_z);
        // Falling thresholds mirror rising ones.
        let down: Vec<(f64, f64)> = (0..=100).map(|h| (h as f64, 100.0 - h as f64)).collect();
        assert!(
            (forecast(&down, 0.0, false, 1000.0, None)
                .unwrap()
                .rul_hours
                .unwrap()
                - 0.0)
                .abs()
                < 1e-9
        );
        let down2: Vec<(f64, f64)> = (0..=100).map(|h| (h as f64, 200.0 - h as f64)).collect();
        assert!(
            (forecast(&down2, 50.0, false, 1000.0, None)
                .unwrap()
                .rul_hours
                .unwrap()
                - 50.0)
                .abs()
                < 1e-6
        );
    }
}
