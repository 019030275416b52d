//! Recurrence shared by everything that repeats (preventive schedules, recurring
//! activities): every N days, weeks or calendar months, counted from the first date.

use chrono::{Datelike, Months, NaiveDate};

/// The units an interval may be counted in.
pub const INTERVAL_UNITS: [&str; 3] = ["days", "weeks", "months"];

/// `date` plus `n` intervals; months are calendar months, clamped to the month's end.
pub fn add_intervals(date: NaiveDate, value: i32, unit: &str, n: i64) -> Option<NaiveDate> {
    let steps = i64::from(value).checked_mul(n)?;
    match unit {
        "months" => date.checked_add_months(Months::new(u32::try_from(steps).ok()?)),
        "weeks" => date.checked_add_signed(chrono::TimeDelta::try_days(steps.checked_mul(7)?)?),
        _ => date.checked_add_signed(chrono::TimeDelta::try_days(steps)?),
    }
}

/// The first occurrence `start + k × interval` (k ≥ 0) after `after`; counted from the
/// start each time, so Jan 31 monthly gives Feb 28, Mar 31, Apr 30 …
pub fn next_occurrence(
    start: NaiveDate,
    value: i32,
    unit: &str,
    after: NaiveDate,
) -> Option<NaiveDate> {
    if start > after {
        return Some(start);
    }
    let span = i64::from(value);
    let k = match unit {
        "months" => {
            let months = i64::from(after.year() - start.year()) * 12 + i64::from(after.month())
                - i64::from(start.month());
            (months / span - 1).max(0)
        }
        "weeks" => (after - start).num_days() / (7 * span),
        _ => (after - start).num_days() / span,
    };
    (k..k + 3)
        .filter_map(|k| add_intervals(start, value, unit, k))
        .find(|d| *d > after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_calendar_months_counted_from_the_start() {
        assert_eq!(
            add_intervals(d("2031-01-31"), 1, "months", 1),
            Some(d("2031-02-28"))
        );
        assert_eq!(
            add_intervals(d("2032-01-31"), 1, "months", 1),
            Some(d("2032-02-29"))
        );
        assert_eq!(
            add_intervals(d("2031-01-31"), 2, "weeks", 1),
            Some(d("2031-02-14"))
        );
        let start = d("2031-01-31");
        let after = |a: &str| next_occurrence(start, 1, "months", d(a));
        assert_eq!(after("2031-01-31"), Some(d("2031-02-28")));
        assert_eq!(after("2031-02-28"), Some(d("2031-03-31")));
        assert_eq!(after("2031-04-29"), Some(d("2031-04-30")));
        assert_eq!(after("2030-12-01"), Some(start));
        assert_eq!(
            next_occurrence(start, 3, "months", d("2031-05-15")),
            Some(d("2031-07-31"))
        );
        assert_eq!(
            next_occurrence(start, 10, "days", d("2031-02-10")),
            Some(d("2031-02-20"))
        );
        assert_eq!(
            next_occurrence(start, 1, "weeks", d("2031-02-07")),
            Some(d("2031-02-14"))
        );
    }
}
