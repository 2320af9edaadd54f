//! The interaction layer of the forecast chart, as plain functions: zooming
//! and panning the shown x range, reading the values under the pointer, and
//! the shown data as CSV. The page wires pointer, wheel and key events to
//! these; they are tested natively like the drawing.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::axis::{format_datetime, format_significant};
use super::{ChartOptions, ForecastView, SeriesKind, SeriesLabels};

/// The narrowest x range zooming goes to, as a share of the whole range.
const MIN_ZOOM_SHARE: f64 = 1e-4;

/// The x extent of a view's data, if it has a finite point.
#[must_use]
pub fn data_range(view: &ForecastView) -> Option<(f64, f64)> {
    let times = view
        .time_secs
        .iter()
        .chain(view.forecasts.iter().flat_map(|s| &s.time_secs))
        .chain(view.bands.iter().flat_map(|b| &b.time_secs))
        .copied()
        .filter(|x| x.is_finite());
    times.fold(None, |range, x| match range {
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    })
}

/// `range` zoomed by `factor` (below 1 zooms in) around the point at
/// `anchor` (0 = left edge, 1 = right edge), kept inside `bounds`.
#[must_use]
pub fn zoom(range: (f64, f64), anchor: f64, factor: f64, bounds: (f64, f64)) -> (f64, f64) {
    let (lo, hi) = range;
    let whole = (bounds.1 - bounds.0).max(f64::MIN_POSITIVE);
    let span = ((hi - lo) * factor).clamp(whole * MIN_ZOOM_SHARE, whole);
    let center = lo + (hi - lo) * anchor.clamp(0.0, 1.0);
    let start = center - span * anchor.clamp(0.0, 1.0);
    keep_inside((start, start + span), bounds)
}

/// `range` moved by `share` of its width (positive moves right), kept inside
/// `bounds`.
#[must_use]
pub fn pan(range: (f64, f64), share: f64, bounds: (f64, f64)) -> (f64, f64) {
    let shift = (range.1 - range.0) * share;
    keep_inside((range.0 + shift, range.1 + shift), bounds)
}

/// Slides `range` back inside `bounds` without changing its width (unless
/// it is wider, then it becomes `bounds`).
fn keep_inside(range: (f64, f64), bounds: (f64, f64)) -> (f64, f64) {
    let span = range.1 - range.0;
    if span >= bounds.1 - bounds.0 {
        return bounds;
    }
    if range.0 < bounds.0 {
        (bounds.0, bounds.0 + span)
    } else if range.1 > bounds.1 {
        (bounds.1 - span, bounds.1)
    } else {
        range
    }
}

/// The values at one time, for the crosshair tooltip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readout {
    /// The time of the nearest actual point.
    pub time_secs: f64,
    /// That time for people (`YYYY-MM-DD HH:MM` UTC, or the step).
    pub time_label: String,
    /// The actual value there.
    pub actual: Option<f32>,
    /// The model's forecast for that time.
    pub forecast: Option<f32>,
    /// The baseline's forecast for that time.
    pub baseline: Option<f32>,
    /// The interval around the forecast.
    pub band: Option<(f32, f32)>,
    /// Actual minus forecast.
    pub residual: Option<f32>,
}

impl Readout {
    /// The readout as lines of text, named as the chart's legend names them.
    #[must_use]
    pub fn lines(&self, labels: &SeriesLabels) -> Vec<String> {
        let value = |v: f32| format_significant(f64::from(v));
        let named = |name: &str, v: Option<f32>| {
            v.filter(|v| v.is_finite())
                .map(|v| format!("{name}: {}", value(v)))
        };
        let band = self
            .band
            .map(|(lo, hi)| format!("{}: {} to {}", labels.band, value(lo), value(hi)));
        std::iter::once(Some(self.time_label.clone()))
            .chain([
                named(&labels.actual, self.actual),
                named(&labels.forecast, self.forecast),
                named(&labels.baseline, self.baseline),
                band,
                named("residual", self.residual),
            ])
            .flatten()
            .collect()
    }
}

/// The value of the run `xs`/`ys` at time `x`, when `xs` has exactly that
/// time (forecast segments share the actual series' times).
fn value_at(xs: &[f64], ys: &[f32], x: f64) -> Option<f32> {
    let index = xs.iter().position(|&t| t.total_cmp(&x).is_eq())?;
    ys.get(index).copied()
}

/// What the chart shows at the actual point nearest to `x` (hidden series
/// are left out), or `None` when the view has no actual point.
#[must_use]
pub fn readout(view: &ForecastView, options: &ChartOptions, x: f64) -> Option<Readout> {
    let times = &view.time_secs;
    if times.is_empty() || !x.is_finite() {
        return None;
    }
    let after = times.partition_point(|&t| t < x);
    let index = match (after.checked_sub(1), times.get(after)) {
        (Some(before), Some(&next)) if (next - x) < (x - times[before]) => after,
        (Some(before), _) => before,
        (None, _) => 0,
    };
    let time = times[index];
    let shown = |kind: SeriesKind| !options.hidden.contains(kind);
    let find = |segments: &[super::ForecastSegment]| {
        segments
            .iter()
            .find_map(|s| value_at(&s.time_secs, &s.values, time))
    };
    let actual = view
        .actual
        .get(index)
        .copied()
        .filter(|_| shown(SeriesKind::Actual));
    let forecast = find(&view.forecasts).filter(|_| shown(SeriesKind::Forecast));
    let baseline = view
        .baseline
        .as_deref()
        .and_then(find)
        .filter(|_| shown(SeriesKind::Baseline));
    let band = view
        .bands
        .iter()
        .find_map(|b| {
            Some((
                value_at(&b.time_secs, &b.lower, time)?,
                value_at(&b.time_secs, &b.upper, time)?,
            ))
        })
        .filter(|_| shown(SeriesKind::Band));
    let residual = match (view.actual.get(index), find(&view.forecasts)) {
        (Some(a), Some(f)) => Some(a - f),
        _ => None,
    };
    Some(Readout {
        time_secs: time,
        time_label: time_label(view, time),
        actual,
        forecast,
        baseline,
        band,
        residual,
    })
}

fn time_label(view: &ForecastView, time: f64) -> String {
    if view.time_is_datetime {
        format_datetime(time)
    } else {
        let axis = if view.labels.x_axis.is_empty() {
            "step"
        } else {
            view.labels.x_axis.as_str()
        };
        format!("{axis} {}", super::axis::format_integer(time))
    }
}

/// The shown data as CSV: one row per actual point inside the shown range,
/// with the forecast, baseline and interval at that time where there is one,
/// and a column per shown series.
#[must_use]
pub fn to_csv(view: &ForecastView, options: &ChartOptions) -> String {
    let shown = |kind: SeriesKind| !options.hidden.contains(kind);
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let labels = &view.labels;
    let mut header = vec![if view.time_is_datetime {
        "time_utc".to_owned()
    } else {
        quote(if labels.x_axis.is_empty() {
            "step"
        } else {
            &labels.x_axis
        })
    }];
    let kinds: Vec<SeriesKind> = SeriesKind::ALL.into_iter().filter(|&k| shown(k)).collect();
    for kind in &kinds {
        match kind {
            SeriesKind::Actual => header.push(quote(&labels.actual)),
            SeriesKind::Forecast => header.push(quote(&labels.forecast)),
            SeriesKind::Baseline => header.push(quote(&labels.baseline)),
            SeriesKind::Band => {
                header.push(quote(&format!("{} lower", labels.band)));
                header.push(quote(&format!("{} upper", labels.band)));
            }
        }
    }
    let mut out = header.join(",");
    out.push('\n');

    let cell = |v: Option<f32>| {
        v.filter(|v| v.is_finite())
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    for &time in &view.time_secs {
        if let Some((lo, hi)) = options.x_range
            && !(lo..=hi).contains(&time)
        {
            continue;
        }
        let Some(point) = readout(view, &ChartOptions::default(), time) else {
            continue;
        };
        let time_cell = if view.time_is_datetime {
            format_datetime(time)
        } else {
            format!("{time}")
        };
        let mut row = vec![time_cell];
        for kind in &kinds {
            match kind {
                SeriesKind::Actual => row.push(cell(point.actual)),
                SeriesKind::Forecast => row.push(cell(point.forecast)),
                SeriesKind::Baseline => row.push(cell(point.baseline)),
                SeriesKind::Band => {
                    row.push(cell(point.band.map(|b| b.0)));
                    row.push(cell(point.band.map(|b| b.1)));
                }
            }
        }
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{BandSegment, ForecastSegment};

    fn view() -> ForecastView {
        ForecastView {
            title: "t".into(),
            channel: "OT".into(),
            time_secs: (0..10).map(f64::from).collect(),
            actual: (0..10).map(|i| i as f32).collect(),
            forecasts: vec![ForecastSegment {
                time_secs: vec![4.0, 5.0],
                values: vec![4.5, 5.5],
            }],
            baseline: Some(vec![ForecastSegment {
                time_secs: vec![4.0, 5.0],
                values: vec![3.0, 3.0],
            }]),
            bands: vec![BandSegment {
                time_secs: vec![4.0, 5.0],
                lower: vec![4.0, 5.0],
                upper: vec![5.0, 6.0],
            }],
            ..ForecastView::default()
        }
    }

    #[test]
    fn zoom_keeps_the_anchor_and_stays_inside() {
        let bounds = (0.0, 100.0);
        assert_eq!(zoom((0.0, 100.0), 0.5, 0.5, bounds), (25.0, 75.0));
        // Zooming in around the left edge keeps the left edge.
        assert_eq!(zoom((0.0, 100.0), 0.0, 0.5, bounds), (0.0, 50.0));
        // Zooming out past the data gives the data's range.
        assert_eq!(zoom((25.0, 75.0), 0.5, 10.0, bounds), bounds);
        let tiny = zoom((0.0, 100.0), 0.5, 1e-9, bounds);
        assert!((tiny.1 - tiny.0 - 0.01).abs() < 1e-9, "{tiny:?}");
    }

    #[test]
    fn pan_moves_by_a_share_and_stops_at_the_edges() {
        let bounds = (0.0, 100.0);
        assert_eq!(pan((20.0, 40.0), 0.5, bounds), (30.0, 50.0));
        assert_eq!(pan((20.0, 40.0), -5.0, bounds), (0.0, 20.0));
        assert_eq!(pan((20.0, 40.0), 10.0, bounds), (80.0, 100.0));
    }

    #[test]
    fn the_readout_has_every_value_at_the_nearest_time() {
        let view = view();
        let point = readout(&view, &ChartOptions::default(), 4.4).unwrap();
        assert!((point.time_secs - 4.0).abs() < 1e-9);
        assert_eq!(point.actual, Some(4.0));
        assert_eq!(point.forecast, Some(4.5));
        assert_eq!(point.baseline, Some(3.0));
        assert_eq!(point.band, Some((4.0, 5.0)));
        assert_eq!(point.residual, Some(-0.5));
        let lines = point.lines(&view.labels);
        assert_eq!(lines[0], "step 4");
        assert!(
            lines.contains(&"LSTM forecast: 4.5".to_owned()),
            "{lines:?}"
        );
        assert!(lines.contains(&"interval: 4 to 5".to_owned()), "{lines:?}");

        let mut options = ChartOptions::default();
        options.hidden.set(SeriesKind::Forecast, true);
        let point = readout(&view, &options, 8.9).unwrap();
        assert_eq!((point.time_secs, point.forecast), (9.0, None));
    }

    #[test]
    fn the_csv_holds_the_shown_range_and_series() {
        let view = view();
        let mut options = ChartOptions {
            x_range: Some((3.5, 5.5)),
            ..ChartOptions::default()
        };
        let csv = to_csv(&view, &options);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "\"step\",\"actual\",\"LSTM forecast\",\"persistence\",\"interval lower\",\
             \"interval upper\""
        );
        assert_eq!(lines[1..], ["4,4,4.5,3,4,5", "5,5,5.5,3,5,6"]);

        options.hidden.set(SeriesKind::Baseline, true);
        options.hidden.set(SeriesKind::Band, true);
        let csv = to_csv(&view, &options);
        assert_eq!(
            csv.lines().next(),
            Some("\"step\",\"actual\",\"LSTM forecast\"")
        );
    }
}
