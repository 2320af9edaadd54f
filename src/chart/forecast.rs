//! The forecast chart: the actual series with model and persistence forecasts
//! drawn over it.

use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingArea;
use plotters::element::{PathElement, Polygon};
use plotters::prelude::DrawingBackend;
use plotters::style::{BLACK, Color, TRANSPARENT};

use super::axis::{
    TimeAxis, TimeScale, finite_bounds, format_significant, time_range, value_range,
};
use super::series::{
    CAPTION_FONT_PX, Chart, FONT_FAMILY, LABEL_FONT_PX, LineLook, Stroke, add_legend_entry,
    draw_legend, draw_note, draw_runs, evenly_chosen, pair_points,
};
use super::{
    BandSegment, ChartError, ChartLayout, ChartOptions, ForecastSegment, ForecastView,
    HiddenSeries, PALETTE, SeriesKind, clear, decimate_min_max,
};

/// The most forecast segments drawn per kind; longer lists are sampled evenly,
/// which keeps drawing fast when hundreds of horizons are stitched together.
const MAX_SEGMENTS: usize = 2_000;

/// The note an empty chart shows.
const EMPTY_NOTE: &str = "no data yet";

/// The blank border around the chart, in pixels.
const MARGIN_PX: u32 = 12;

/// The height of the x axis labels and description, in pixels.
const X_LABEL_AREA_PX: u32 = 42;

/// The width of the y axis labels and description, in pixels.
const Y_LABEL_AREA_PX: u32 = 64;

/// The horizontal room one datetime tick label needs, in pixels.
const DATETIME_TICK_PX: u32 = 150;

/// The horizontal room one step-number tick label needs, in pixels.
const STEP_TICK_PX: u32 = 80;

/// The vertical room one value tick label needs, in pixels.
const VALUE_TICK_PX: u32 = 40;

/// How the actual series is drawn.
const ACTUAL_LOOK: LineLook = LineLook {
    color: PALETTE.actual,
    width_px: 1,
    stroke: Stroke::Solid,
    dot_radius_px: 2,
};

/// How the model forecasts are drawn.
const FORECAST_LOOK: LineLook = LineLook {
    color: PALETTE.forecast,
    width_px: 2,
    stroke: Stroke::Solid,
    dot_radius_px: 3,
};

/// How the persistence forecasts are drawn.
const BASELINE_LOOK: LineLook = LineLook {
    color: PALETTE.baseline,
    width_px: 2,
    stroke: Stroke::Dashed,
    dot_radius_px: 3,
};

/// How the bands are drawn.
const BAND_LOOK: LineLook = LineLook {
    color: PALETTE.band,
    width_px: 8,
    stroke: Stroke::Solid,
    dot_radius_px: 3,
};

/// Draws the forecast chart of `view` on `root`.
///
/// The actual series is a black line, every model forecast an orange line
/// (a one-point forecast a dot) and every persistence forecast a dashed light
/// blue line; non-finite values break the lines. Series longer than a few
/// points per pixel column are thinned with [`decimate_min_max`], and at most
/// 2000 forecasts of each kind, chosen evenly, are drawn. A view with no
/// finite point draws its axes and a "no data yet" note.
pub fn draw_forecast<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &ForecastView,
) -> Result<(), ChartError> {
    draw_forecast_with(root, view, &ChartOptions::default()).map(|_| ())
}

/// Draws the forecast chart of `view` on `root` as [`draw_forecast`] does,
/// showing only the x range and the series `options` ask for, and returns
/// where the plot landed so that pointer positions can be read back as
/// times ([`ChartLayout::x_at`]).
///
/// The y axis fits the values inside the shown x range; decimation works on
/// the shown points only, so zooming in shows more detail.
pub fn draw_forecast_with<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &ForecastView,
    options: &ChartOptions,
) -> Result<ChartLayout, ChartError> {
    clear(root)?;

    let scale = if view.time_is_datetime {
        TimeScale::EpochSecs
    } else {
        TimeScale::Steps
    };
    let shown = Shown::new(options);
    let actual = shown.series(
        SeriesKind::Actual,
        clip(&pair_points(&view.time_secs, &view.actual), options.x_range),
    );
    let forecasts = shown.series(
        SeriesKind::Forecast,
        segment_points(&view.forecasts, options.x_range),
    );
    let baseline = shown.series(
        SeriesKind::Baseline,
        view.baseline
            .as_deref()
            .map(|segments| segment_points(segments, options.x_range))
            .unwrap_or_default(),
    );

    let bands = shown.series(SeriesKind::Band, band_points(&view.bands, options.x_range));
    let band_edges: Vec<Vec<(f64, f64)>> = bands
        .iter()
        .flat_map(|(lower, upper)| [lower.clone(), upper.clone()])
        .collect();
    let all_series = || {
        std::iter::once(&actual)
            .chain(&forecasts)
            .chain(&baseline)
            .chain(&band_edges)
    };
    let finite_points = || {
        all_series()
            .flatten()
            .copied()
            .filter(|&(x, y)| x.is_finite() && y.is_finite())
    };
    let x_bounds = options
        .x_range
        .or_else(|| finite_bounds(finite_points().map(|(x, _)| x)));
    let y_bounds = finite_bounds(finite_points().map(|(_, y)| y));

    let x_range = time_range(x_bounds, scale);
    let x_span = x_range.end - x_range.start;
    let mut chart = build_chart(
        root,
        view,
        TimeAxis::new(x_range.clone(), scale),
        value_range(y_bounds),
    )?;
    draw_axes(&mut chart, view, scale)?;

    let (pixels_x, pixels_y) = chart.plotting_area().get_pixel_range();
    let layout = ChartLayout {
        plot_left_px: pixels_x.start,
        plot_right_px: pixels_x.end,
        plot_top_px: pixels_y.start,
        plot_bottom_px: pixels_y.end,
        x_range: (x_range.start, x_range.end),
    };
    if x_bounds.is_none() || finite_points().next().is_none() {
        draw_note(&chart.plotting_area().strip_coord_spec(), EMPTY_NOTE)?;
        return Ok(layout);
    }

    let plot_width_px = chart.plotting_area().dim_in_pixel().0;
    let thin = |points: &[(f64, f64)]| {
        let buckets = buckets_for(points, x_span, plot_width_px);
        decimate_min_max(points, buckets)
    };

    let area = chart.plotting_area();
    for band in &bands {
        draw_band(area, band)?;
    }
    draw_runs(area, &thin(&actual), ACTUAL_LOOK)?;
    for segment in &baseline {
        draw_runs(area, &thin(segment), BASELINE_LOOK)?;
    }
    for segment in &forecasts {
        draw_runs(area, &thin(segment), FORECAST_LOOK)?;
    }

    let labels = &view.labels;
    if shown.has(SeriesKind::Actual) {
        add_legend_entry(&mut chart, &labels.actual, ACTUAL_LOOK)?;
    }
    if shown.has(SeriesKind::Forecast) {
        add_legend_entry(&mut chart, &labels.forecast, FORECAST_LOOK)?;
    }
    if view.baseline.is_some() && shown.has(SeriesKind::Baseline) {
        add_legend_entry(&mut chart, &labels.baseline, BASELINE_LOOK)?;
    }
    if !bands.is_empty() {
        add_legend_entry(&mut chart, &labels.band, BAND_LOOK)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(layout)
}

/// Which series are drawn.
#[derive(Debug, Clone, Copy)]
struct Shown(HiddenSeries);

impl Shown {
    fn new(options: &ChartOptions) -> Self {
        Self(options.hidden)
    }

    fn has(self, kind: SeriesKind) -> bool {
        !self.0.contains(kind)
    }

    /// `series`, or nothing when `kind` is hidden.
    fn series<T: Default>(self, kind: SeriesKind, series: T) -> T {
        if self.has(kind) { series } else { T::default() }
    }
}

/// The points of `points` inside `range`, with one more on each side so
/// that lines run to the plot's edges; all of them without a range.
fn clip(points: &[(f64, f64)], range: Option<(f64, f64)>) -> Vec<(f64, f64)> {
    let Some((lo, hi)) = range else {
        return points.to_vec();
    };
    let first = points.partition_point(|p| p.0 < lo).saturating_sub(1);
    let last = (points.partition_point(|p| p.0 <= hi) + 1).min(points.len());
    if first >= last {
        return Vec::new();
    }
    points[first..last].to_vec()
}

/// Whether a run of times `xs` (sorted) reaches into `range`.
fn overlaps(xs: &[f64], range: Option<(f64, f64)>) -> bool {
    match (range, xs.first(), xs.last()) {
        (None, ..) => true,
        (Some((lo, hi)), Some(&first), Some(&last)) => last >= lo && first <= hi,
        _ => false,
    }
}

/// A band's lower and upper edges as points.
type BandPoints = (Vec<(f64, f64)>, Vec<(f64, f64)>);

/// The lower and upper edges of at most [`MAX_SEGMENTS`] bands inside
/// `range`, as points.
fn band_points(bands: &[BandSegment], range: Option<(f64, f64)>) -> Vec<BandPoints> {
    let inside: Vec<&BandSegment> = bands
        .iter()
        .filter(|band| overlaps(&band.time_secs, range))
        .collect();
    evenly_chosen(&inside, MAX_SEGMENTS)
        .map(|band| {
            (
                pair_points(&band.time_secs, &band.lower),
                pair_points(&band.time_secs, &band.upper),
            )
        })
        .collect()
}

/// Shades the area between a band's edges, one polygon per run of points
/// where both edges are finite.
fn draw_band<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::prelude::Cartesian2d<TimeAxis, RangedCoordf64>>,
    (lower, upper): &BandPoints,
) -> Result<(), ChartError> {
    let style = BAND_LOOK.color.filled();
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let pairs: Vec<((f64, f64), (f64, f64))> =
        lower.iter().copied().zip(upper.iter().copied()).collect();
    for run in pairs.split(|(lo, hi)| !(finite(lo) && finite(hi))) {
        if run.is_empty() {
            continue;
        }
        let mut outline: Vec<(f64, f64)> = run.iter().map(|&(_, hi)| hi).collect();
        outline.extend(run.iter().rev().map(|&(lo, _)| lo));
        if run.len() == 1 {
            // A one-time band is a vertical bar.
            area.draw(&PathElement::new(outline, BAND_LOOK.color.stroke_width(3)))?;
        } else {
            area.draw(&Polygon::new(outline, style))?;
        }
    }
    Ok(())
}

/// The points of at most [`MAX_SEGMENTS`] of the `segments` inside
/// `range`, chosen evenly.
fn segment_points(segments: &[ForecastSegment], range: Option<(f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let inside: Vec<&ForecastSegment> = segments
        .iter()
        .filter(|segment| overlaps(&segment.time_secs, range))
        .collect();
    evenly_chosen(&inside, MAX_SEGMENTS)
        .map(|segment| pair_points(&segment.time_secs, &segment.values))
        .collect()
}

/// The number of decimation buckets for `points`: one per pixel column that
/// their x extent covers on a plot `plot_width_px` wide showing `x_span`.
fn buckets_for(points: &[(f64, f64)], x_span: f64, plot_width_px: u32) -> usize {
    let width = f64::from(plot_width_px.max(1));
    let covered = match finite_bounds(points.iter().map(|&(x, _)| x)) {
        Some((lo, hi)) if x_span > 0.0 => ((hi - lo) / x_span * width).ceil(),
        _ => 1.0,
    };
    // `covered` is finite and at most `width` for points within the axis range;
    // the clamp keeps the cast sound for anything else.
    covered.clamp(1.0, width) as usize
}

/// The chart frame: caption, label areas and coordinates.
fn build_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    view: &ForecastView,
    x_axis: TimeAxis,
    y_range: std::ops::Range<f64>,
) -> Result<Chart<'a, DB, TimeAxis>, ChartError> {
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX);
    if !view.title.is_empty() {
        builder.caption(&view.title, (FONT_FAMILY, CAPTION_FONT_PX));
    }
    let y_axis: RangedCoordf64 = y_range.into();
    Ok(builder.build_cartesian_2d(x_axis, y_axis)?)
}

/// Draws the grid, ticks, tick labels and axis descriptions.
fn draw_axes<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB, TimeAxis>,
    view: &ForecastView,
    scale: TimeScale,
) -> Result<(), ChartError> {
    let (width_px, height_px) = chart.plotting_area().dim_in_pixel();
    let tick_px = match scale {
        TimeScale::EpochSecs => DATETIME_TICK_PX,
        TimeScale::Steps => STEP_TICK_PX,
    };
    let x_desc = match scale {
        _ if !view.labels.x_axis.is_empty() => view.labels.x_axis.as_str(),
        TimeScale::EpochSecs => "time (UTC)",
        TimeScale::Steps => "step",
    };
    let y_desc = if view.channel.is_empty() {
        "value"
    } else {
        view.channel.as_str()
    };
    let format_x = |value: &f64| scale.format(*value);
    let format_y = |value: &f64| format_significant(*value);

    chart
        .configure_mesh()
        .x_labels((width_px / tick_px).max(2) as usize)
        .y_labels((height_px / VALUE_TICK_PX).max(2) as usize)
        .x_label_formatter(&format_x)
        .y_label_formatter(&format_y)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT_FAMILY, LABEL_FONT_PX))
        .axis_desc_style((FONT_FAMILY, LABEL_FONT_PX + 1))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .max_light_lines(0)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_covered_width() {
        let whole: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i), 0.0)).collect();
        assert_eq!(buckets_for(&whole, 100.0, 500), 500);
        assert_eq!(buckets_for(&whole[..11], 100.0, 500), 50);
        assert_eq!(buckets_for(&whole[..1], 100.0, 500), 1);
        assert_eq!(buckets_for(&[], 100.0, 500), 1);
        assert_eq!(buckets_for(&whole, 0.0, 500), 1);
        assert_eq!(buckets_for(&[(f64::NAN, 1.0)], 100.0, 500), 1);
    }

    #[test]
    fn many_segments_are_sampled() {
        let segments = vec![
            ForecastSegment {
                time_secs: vec![1.0],
                values: vec![2.0]
            };
            5_000
        ];
        assert_eq!(segment_points(&segments, None).len(), MAX_SEGMENTS);
        assert_eq!(segment_points(&segments[..7], None).len(), 7);
    }
}
