//! The live training chart: training and validation loss per epoch, with the
//! best epoch marked.

use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, EmptyElement, PathElement, Text};
use plotters::prelude::{Cartesian2d, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{BLACK, Color, IntoFont, TRANSPARENT};

use super::axis::{
    TimeAxis, TimeScale, finite_bounds, format_significant, log_range, time_range, value_range,
};
use super::series::{
    Chart, FONT_FAMILY, LABEL_FONT_PX, LineLook, Stroke, add_legend_entry, draw_legend, draw_note,
    draw_runs, finite_runs,
};
use super::{ChartError, LossView, PALETTE, clear};

/// The note a chart without any epoch shows.
const NOT_STARTED_NOTE: &str = "training has not started";

/// The note a chart whose losses are all NaN or infinite shows.
const NOT_FINITE_NOTE: &str = "the loss is not finite";

/// The loss axis turns logarithmic when the largest finite loss is at least
/// this many times the smallest (and all are positive).
const LOG_SCALE_RATIO: f64 = 10.0;

/// Point markers are drawn only while each epoch has at least this many
/// pixels of width, so that they never merge into a thick band.
const MARKER_SPACING_PX: usize = 8;

/// The blank border around the chart, in pixels.
const MARGIN_PX: u32 = 12;

/// The height of the x axis labels and description, in pixels.
const X_LABEL_AREA_PX: u32 = 40;

/// The width of the y axis labels and description, in pixels.
const Y_LABEL_AREA_PX: u32 = 64;

/// The horizontal room one epoch tick label needs, in pixels.
const EPOCH_TICK_PX: u32 = 60;

/// The vertical room one loss tick label needs, in pixels.
const LOSS_TICK_PX: u32 = 40;

/// How the training loss is drawn.
const TRAIN_LOOK: LineLook = LineLook {
    color: PALETTE.train,
    width_px: 2,
    stroke: Stroke::Solid,
    dot_radius_px: 3,
};

/// How the validation loss is drawn.
const VALIDATION_LOOK: LineLook = LineLook {
    color: PALETTE.validation,
    width_px: 2,
    stroke: Stroke::Solid,
    dot_radius_px: 3,
};

/// How the best-epoch marker is drawn.
const BEST_LOOK: LineLook = LineLook {
    color: PALETTE.best_epoch,
    width_px: 1,
    stroke: Stroke::Solid,
    dot_radius_px: 5,
};

/// The series of a loss chart, as `(epoch, loss)` points with epochs from 1.
struct LossPoints {
    train: Vec<(f64, f64)>,
    validation: Vec<(f64, f64)>,
    /// The best epoch's 0-based index, when it is within the history.
    best_index: Option<usize>,
}

impl LossPoints {
    /// The points of `view`.
    fn new(view: &LossView) -> Self {
        let train = epoch_points(&view.train);
        let validation = epoch_points(&view.validation);
        let epochs = train.len().max(validation.len());
        let best_index = view.best_epoch.filter(|&index| index < epochs);
        Self {
            train,
            validation,
            best_index,
        }
    }

    /// The number of epochs in the longer history.
    fn epochs(&self) -> usize {
        self.train.len().max(self.validation.len())
    }

    /// The best epoch's point: its validation loss, or its training loss when
    /// that is missing or not finite.
    fn best_point(&self) -> Option<(f64, f64)> {
        let index = self.best_index?;
        let finite = |point: &&(f64, f64)| point.1.is_finite();
        let validation = self.validation.get(index).filter(finite);
        validation
            .or_else(|| self.train.get(index).filter(finite))
            .copied()
    }
}

/// Draws the loss chart of `view` on `root`.
///
/// Training loss is a blue line and validation loss an orange one, with a
/// marker on each epoch while they fit; the best epoch gets a green vertical
/// line, a dot and a label. The loss axis is logarithmic when the positive
/// losses span a factor of ten or more, linear otherwise. A view without any
/// epoch draws its axes and a "training has not started" note.
pub fn draw_loss<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &LossView,
) -> Result<(), ChartError> {
    clear(root)?;

    let points = LossPoints::new(view);
    let epochs = points.epochs();
    let x_bounds = (epochs > 0).then_some((1.0, epochs as f64));
    let x_axis = TimeAxis::new(time_range(x_bounds, TimeScale::Steps), TimeScale::Steps);

    let losses = points
        .train
        .iter()
        .chain(&points.validation)
        .map(|&(_, loss)| loss);
    match finite_bounds(losses) {
        Some((lo, hi)) if lo > 0.0 && hi >= lo * LOG_SCALE_RATIO => {
            let range = log_range(lo, hi);
            let y_axis: LogCoord<f64> = range.log_scale().into();
            draw_on_axes(root, &points, x_axis, y_axis, "loss (log scale)")
        }
        bounds => {
            let y_axis: RangedCoordf64 = value_range(bounds).into();
            draw_on_axes(root, &points, x_axis, y_axis, "loss")
        }
    }
}

/// `losses` as `(epoch, loss)` points, epochs numbered from 1.
fn epoch_points(losses: &[f32]) -> Vec<(f64, f64)> {
    (1..)
        .zip(losses)
        .map(|(epoch, &loss)| (f64::from(epoch), f64::from(loss)))
        .collect()
}

/// Draws the whole chart on a y axis of type `Y` (linear or logarithmic).
fn draw_on_axes<DB, Y>(
    root: &DrawingArea<DB, Shift>,
    points: &LossPoints,
    x_axis: TimeAxis,
    y_axis: Y,
    y_desc: &str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .margin(MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(x_axis, y_axis)?;
    draw_axes(&mut chart, y_desc)?;

    let drawable = |series: &[(f64, f64)]| finite_runs(series).next().is_some();
    if !(drawable(&points.train) || drawable(&points.validation)) {
        let note = if points.epochs() == 0 {
            NOT_STARTED_NOTE
        } else {
            NOT_FINITE_NOTE
        };
        return draw_note(&chart.plotting_area().strip_coord_spec(), note);
    }

    let area = chart.plotting_area();
    let plot_width_px = area.dim_in_pixel().0 as usize;
    let with_markers = points.epochs() * MARKER_SPACING_PX <= plot_width_px;
    for (series, look) in [
        (&points.train, TRAIN_LOOK),
        (&points.validation, VALIDATION_LOOK),
    ] {
        draw_runs(area, series, look)?;
        if with_markers {
            draw_markers(area, series, look)?;
        }
    }
    if let Some(index) = points.best_index {
        draw_best_epoch(area, index, points.best_point())?;
    }

    add_legend_entry(&mut chart, "train", TRAIN_LOOK)?;
    add_legend_entry(&mut chart, "validation", VALIDATION_LOOK)?;
    if points.best_index.is_some() {
        add_legend_entry(&mut chart, "best epoch", BEST_LOOK)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Draws the grid, ticks, tick labels and axis descriptions.
fn draw_axes<DB, Y>(chart: &mut Chart<'_, DB, TimeAxis, Y>, y_desc: &str) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let (width_px, height_px) = chart.plotting_area().dim_in_pixel();
    let format_x = |value: &f64| TimeScale::Steps.format(*value);
    let format_y = |value: &f64| format_significant(*value);

    chart
        .configure_mesh()
        .x_labels((width_px / EPOCH_TICK_PX).max(2) as usize)
        .y_labels((height_px / LOSS_TICK_PX).max(2) as usize)
        .x_label_formatter(&format_x)
        .y_label_formatter(&format_y)
        .x_desc("epoch")
        .y_desc(y_desc)
        .label_style((FONT_FAMILY, LABEL_FONT_PX))
        .axis_desc_style((FONT_FAMILY, LABEL_FONT_PX + 1))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .max_light_lines(0)
        .draw()?;
    Ok(())
}

/// Draws a small circle on every finite point of `series`.
fn draw_markers<DB, Y>(
    area: &DrawingArea<DB, Cartesian2d<TimeAxis, Y>>,
    series: &[(f64, f64)],
    look: LineLook,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let style = look.color.filled();
    for &point in series.iter().filter(|(_, loss)| loss.is_finite()) {
        area.draw(&Circle::new(point, look.dot_radius_px, style))?;
    }
    Ok(())
}

/// Marks the best epoch (0-based `index`) with a vertical line across the
/// plot, a dot on its loss `point` if it has one, and a label at the top.
fn draw_best_epoch<DB, Y>(
    area: &DrawingArea<DB, Cartesian2d<TimeAxis, Y>>,
    index: usize,
    point: Option<(f64, f64)>,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let epoch = (index + 1) as f64;
    let y_range = area.get_y_range();
    let line_style = BEST_LOOK.color.stroke_width(BEST_LOOK.width_px);
    area.draw(&PathElement::new(
        vec![(epoch, y_range.start), (epoch, y_range.end)],
        line_style,
    ))?;

    if let Some(point) = point {
        area.draw(&Circle::new(
            point,
            BEST_LOOK.dot_radius_px,
            BEST_LOOK.color.filled(),
        ))?;
    }

    // The label sits beside the line, on whichever side has more room.
    let x_range = area.get_x_range();
    let left_half = epoch <= f64::midpoint(x_range.start, x_range.end);
    let (anchor, offset_px) = if left_half {
        (HPos::Left, 5)
    } else {
        (HPos::Right, -5)
    };
    let style = (FONT_FAMILY, LABEL_FONT_PX)
        .into_font()
        .color(&BEST_LOOK.color)
        .pos(Pos::new(anchor, VPos::Top));
    let label = format!("best: epoch {}", index + 1);
    let text = Text::new(label, (offset_px, 5), style);
    area.draw(&(EmptyElement::at((epoch, y_range.end)) + text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_count_from_one() {
        assert_eq!(epoch_points(&[0.5, 0.25]), vec![(1.0, 0.5), (2.0, 0.25)]);
        assert!(epoch_points(&[]).is_empty());
    }

    #[test]
    fn best_epoch_past_the_history_is_ignored() {
        let view = LossView {
            train: vec![1.0, 0.5],
            validation: vec![0.9],
            best_epoch: Some(2),
        };
        assert_eq!(LossPoints::new(&view).best_index, None);

        let view = LossView {
            best_epoch: Some(1),
            ..view
        };
        let points = LossPoints::new(&view);
        assert_eq!(points.best_index, Some(1));
        // No validation loss for epoch 2: the dot sits on the training loss.
        assert_eq!(points.best_point(), Some((2.0, 0.5)));
    }

    #[test]
    fn best_point_skips_non_finite_losses() {
        let view = LossView {
            train: vec![f32::NAN],
            validation: vec![f32::INFINITY],
            best_epoch: Some(0),
        };
        assert_eq!(LossPoints::new(&view).best_point(), None);
    }
}
