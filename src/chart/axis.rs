//! Axis ranges, tick positions and tick labels shared by both charts.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// Seconds in an hour: the padding of a datetime axis whose points share one time.
const HOUR_SECS: f64 = 3_600.0;

/// Seconds in a day.
const DAY_SECS: f64 = 86_400.0;

/// Tick spacings tried for datetime axes, in seconds, smallest first. Steps of
/// a day or more fall on midnight UTC; past the table, ticks are a nice
/// number of 365-day years apart.
const DATETIME_STEPS_SECS: [f64; 28] = [
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1_800.0,
    HOUR_SECS,
    2.0 * HOUR_SECS,
    3.0 * HOUR_SECS,
    6.0 * HOUR_SECS,
    12.0 * HOUR_SECS,
    DAY_SECS,
    2.0 * DAY_SECS,
    3.0 * DAY_SECS,
    4.0 * DAY_SECS,
    7.0 * DAY_SECS,
    14.0 * DAY_SECS,
    30.0 * DAY_SECS,
    60.0 * DAY_SECS,
    90.0 * DAY_SECS,
    180.0 * DAY_SECS,
    365.0 * DAY_SECS,
];

/// How the values along the time (x) axis are read and labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeScale {
    /// Step or epoch numbers, labelled as integers.
    Steps,
    /// Unix epoch seconds, labelled `YYYY-MM-DD HH:MM` in UTC.
    EpochSecs,
}

impl TimeScale {
    /// The padding either side of an axis whose points all share one x value.
    fn unit(self) -> f64 {
        match self {
            Self::Steps => 1.0,
            Self::EpochSecs => HOUR_SECS,
        }
    }

    /// The smallest tick spacing that puts at most `max_ticks` ticks on
    /// `range`.
    ///
    /// Ticks are counted on the real multiples inside the range, not
    /// estimated from its span: a span-based guess can pick a step so coarse
    /// that only one tick lands inside (ten days with a week step).
    fn tick_step(self, range: &Range<f64>, max_ticks: usize) -> f64 {
        let span = range.end - range.start;
        let wanted = span / max_ticks.max(2) as f64;
        let fits = |step: f64| tick_count(range, step) <= max_ticks;
        match self {
            Self::Steps => {
                let first = nice_step(wanted).max(1.0);
                grow_until(first, fits)
            }
            Self::EpochSecs => DATETIME_STEPS_SECS
                .iter()
                .copied()
                .find(|&step| fits(step))
                .unwrap_or_else(|| {
                    let year = 365.0 * DAY_SECS;
                    let first = nice_step(wanted / year);
                    year * grow_until(first, |years| fits(years * year))
                }),
        }
    }

    /// The label of the tick at `value`.
    pub(super) fn format(self, value: f64) -> String {
        match self {
            Self::Steps => format_integer(value),
            Self::EpochSecs => format_datetime(value),
        }
    }
}

/// A linear time axis whose ticks fall on whole steps or on round times.
///
/// plotters' own `f64` axis puts ticks on round decimal numbers, which are
/// fractional steps or arbitrary times of day; this axis maps values the same
/// way but chooses its own ticks.
pub(super) struct TimeAxis {
    linear: RangedCoordf64,
    range: Range<f64>,
    scale: TimeScale,
}

impl TimeAxis {
    /// An axis over `range`, read as `scale`.
    pub(super) fn new(range: Range<f64>, scale: TimeScale) -> Self {
        Self {
            linear: range.clone().into(),
            range,
            scale,
        }
    }
}

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Light grid lines would crowd the chart; only labelled ticks are drawn.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        time_ticks(&self.range, self.scale, hint.max_num_points())
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Ticks over `range` on multiples of the scale's tick step, at most `max_ticks`.
fn time_ticks(range: &Range<f64>, scale: TimeScale, max_ticks: usize) -> Vec<f64> {
    let span = range.end - range.start;
    if !(span.is_finite() && span > 0.0) || max_ticks == 0 {
        return Vec::new();
    }

    let step = scale.tick_step(range, max_ticks);
    let first = (range.start / step).ceil();
    let count = tick_count(range, step).min(max_ticks);
    (0..count).map(|i| (first + i as f64) * step).collect()
}

/// The first of `step` and the next larger 1-2-5 steps that `fits`; a few
/// rounds always suffice (each round at least doubles the step), the bound
/// only guards against non-finite input.
fn grow_until(mut step: f64, fits: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..64 {
        if fits(step) {
            break;
        }
        step = nice_step(step * 1.01);
    }
    step
}

/// How many multiples of `step` lie inside `range`.
fn tick_count(range: &Range<f64>, step: f64) -> usize {
    let first = (range.start / step).ceil();
    let last = (range.end / step).floor();
    if !(first.is_finite() && last.is_finite()) || last < first {
        return 0;
    }
    // Count in integers: adding 1.0 to a huge float can leave it unchanged.
    ((last - first) as usize).saturating_add(1)
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `wanted`.
fn nice_step(wanted: f64) -> f64 {
    if !(wanted.is_finite() && wanted > 0.0) {
        return 1.0;
    }
    let power = 10_f64.powf(wanted.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= wanted)
        .unwrap_or(10.0 * power)
}

/// The smallest and largest finite value, or `None` when there is none.
pub(super) fn finite_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |bounds, v| match bounds {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The x range for time values within `bounds`: exact when they differ, one
/// unit either side of a single time, and `0..1` unit when there is none.
pub(super) fn time_range(bounds: Option<(f64, f64)>, scale: TimeScale) -> Range<f64> {
    let unit = scale.unit();
    match bounds {
        None => 0.0..unit,
        Some((lo, hi)) if hi > lo => lo..hi,
        Some((lo, _)) => lo - unit..lo + unit,
    }
}

/// A linear value range for `bounds` with 5% headroom either side; a
/// constant series is padded by a tenth of its size (or by 1 around zero),
/// and no data gives `0..1`.
pub(super) fn value_range(bounds: Option<(f64, f64)>) -> Range<f64> {
    match bounds {
        None => 0.0..1.0,
        Some((lo, hi)) if hi > lo => {
            let pad = (hi - lo) * 0.05;
            lo - pad..hi + pad
        }
        Some((lo, _)) => {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            lo - pad..lo + pad
        }
    }
}

/// A logarithmic value range widened to whole decades around positive
/// `lo..=hi`, so the axis always has at least one labelled power of ten.
pub(super) fn log_range(lo: f64, hi: f64) -> Range<f64> {
    let start = 10_f64.powf(lo.log10().floor());
    let mut end = 10_f64.powf(hi.log10().ceil());
    if end <= start {
        end = start * 10.0;
    }
    start..end
}

/// `value` rounded to an integer, without a sign on zero.
pub(super) fn format_integer(value: f64) -> String {
    let rounded = value.round();
    if rounded == 0.0 {
        "0".to_owned()
    } else {
        format!("{rounded}")
    }
}

/// Epoch seconds as `YYYY-MM-DD HH:MM` in UTC; a value outside the
/// representable dates is printed as a number.
pub(super) fn format_datetime(secs: f64) -> String {
    // The saturating cast is fine: out-of-range seconds fail below anyway.
    match jiff::Timestamp::from_second(secs.round() as i64) {
        Ok(time) if secs.is_finite() => time.strftime("%Y-%m-%d %H:%M").to_string(),
        _ => format_integer(secs),
    }
}

/// `value` to three significant digits, in exponent form when very large or small.
pub(super) fn format_significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }

    let magnitude = value.abs().log10().floor() as i32;
    if !(-3..5).contains(&magnitude) {
        return format!("{value:.1e}");
    }

    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_ticks_are_whole_numbers_within_range() {
        let ticks = time_ticks(&(-1.0..1.0), TimeScale::Steps, 10);
        assert_eq!(ticks, vec![-1.0, 0.0, 1.0]);

        let ticks = time_ticks(&(0.0..997.0), TimeScale::Steps, 8);
        assert!(ticks.len() <= 8 && ticks.len() >= 4, "{ticks:?}");
        assert!(
            ticks
                .iter()
                .all(|t| t.fract() == 0.0 && (0.0..=997.0).contains(t))
        );
    }

    #[test]
    fn datetime_ticks_fall_on_round_times() {
        // 2016-07-01 00:00 UTC and four days later.
        let start = 1_467_331_200.0;
        let ticks = time_ticks(
            &(start + 10.0..start + 4.0 * DAY_SECS),
            TimeScale::EpochSecs,
            6,
        );

        assert!(!ticks.is_empty() && ticks.len() <= 6, "{ticks:?}");
        assert!(
            ticks.iter().all(|t| t % (12.0 * HOUR_SECS) == 0.0),
            "{ticks:?}"
        );
    }

    #[test]
    fn ticks_of_huge_or_empty_ranges_do_not_hang() {
        assert!(time_ticks(&(1e300..1e300), TimeScale::Steps, 10).is_empty());
        assert!(time_ticks(&(f64::MIN..f64::MAX), TimeScale::Steps, 10).is_empty());
        assert!(time_ticks(&(1e20..1e20 + 1e6), TimeScale::Steps, 10).len() <= 10);
        assert!(time_ticks(&(0.0..1e15), TimeScale::EpochSecs, 5).len() <= 5);
    }

    #[test]
    fn finite_bounds_skip_nan_and_infinity() {
        let bounds = finite_bounds([f64::NAN, 3.0, f64::INFINITY, -2.0]);
        assert_eq!(bounds, Some((-2.0, 3.0)));
        assert_eq!(finite_bounds([f64::NAN]), None);
    }

    #[test]
    fn degenerate_ranges_are_padded() {
        assert_eq!(time_range(Some((5.0, 5.0)), TimeScale::Steps), 4.0..6.0);
        assert_eq!(time_range(None, TimeScale::EpochSecs), 0.0..HOUR_SECS);
        assert_eq!(value_range(Some((0.0, 0.0))), -1.0..1.0);

        let constant = value_range(Some((50.0, 50.0)));
        assert!(constant.start < 50.0 && constant.end > 50.0);
    }

    #[test]
    fn log_range_covers_whole_decades() {
        assert_eq!(log_range(0.3, 0.8), 0.1..1.0);
        assert_eq!(log_range(0.1, 0.1), 0.1..1.0);

        let wide = log_range(2e-4, 35.0);
        assert!((wide.start - 1e-4).abs() < 1e-12 && (wide.end - 100.0).abs() < 1e-9);
    }

    #[test]
    fn labels_are_readable() {
        assert_eq!(format_integer(-0.2), "0");
        assert_eq!(format_integer(41.6), "42");
        assert_eq!(format_datetime(1_467_335_700.0), "2016-07-01 01:15");
        assert_eq!(format_datetime(f64::NAN), "NaN");
        assert_eq!(format_significant(0.120_000_000_000_000_01), "0.12");
        assert_eq!(format_significant(2.0), "2");
        assert_eq!(format_significant(1_234.7), "1235");
        assert_eq!(format_significant(0.000_05), "5.0e-5");
    }
}
