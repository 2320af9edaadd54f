//! Drawing helpers shared by both charts: pairing vectors into points, lines
//! broken at gaps, dashed lines, dots, legend entries and notes.

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, DashedPathElement, PathElement, Text};
use plotters::prelude::{Cartesian2d, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{BLACK, Color, IntoFont, RGBColor, ShapeStyle, WHITE};

use super::ChartError;

/// The font family of every text on the charts: no font files are needed,
/// the viewer (browser, SVG renderer) picks its own sans-serif face.
pub(super) const FONT_FAMILY: &str = "sans-serif";

/// The size of tick labels and legend entries, in pixels.
pub(super) const LABEL_FONT_PX: u32 = 13;

/// The size of the caption, in pixels.
pub(super) const CAPTION_FONT_PX: u32 = 18;

/// The length of a dash and of the gap after it, in pixels.
const DASH_PX: (i32, i32) = (6, 4);

/// The width of a legend entry's sample line, in pixels.
const LEGEND_SAMPLE_PX: i32 = 20;

/// How a run of points is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stroke {
    /// A continuous line.
    Solid,
    /// Dashes of [`DASH_PX`].
    Dashed,
}

/// The look of one series: colour, line width, stroke and dot radius.
#[derive(Debug, Clone, Copy)]
pub(super) struct LineLook {
    /// The colour of lines and dots.
    pub(super) color: RGBColor,
    /// The line width, in pixels.
    pub(super) width_px: u32,
    /// Whether lines are solid or dashed.
    pub(super) stroke: Stroke,
    /// The radius of the dot drawn for a lone point, in pixels.
    pub(super) dot_radius_px: u32,
}

impl LineLook {
    /// The plotters style of this look's lines.
    fn line_style(self) -> ShapeStyle {
        self.color.stroke_width(self.width_px)
    }
}

/// The chart type both charts draw on: a custom x axis over a linear or
/// logarithmic y axis, all in `f64`.
pub(super) type Chart<'a, DB, X, Y = RangedCoordf64> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// `xs` and `ys` paired up to the shorter of the two, as `f64` points.
pub(super) fn pair_points(xs: &[f64], ys: &[f32]) -> Vec<(f64, f64)> {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| (x, f64::from(y)))
        .collect()
}

/// The runs of consecutive finite points in `points`: a point with a
/// non-finite coordinate ends one run and is itself dropped.
pub(super) fn finite_runs(points: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    points
        .split(|&(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
}

/// At most `max` of `items`, spread evenly from the first to the last.
pub(super) fn evenly_chosen<T>(items: &[T], max: usize) -> impl Iterator<Item = &T> {
    let count = items.len().min(max);
    (0..count).filter_map(move |i| {
        // With `count` < `len`, `i * (len - 1) / (count - 1)` spans the first to
        // the last item; usize products stay far below overflow for any slice
        // that fits in memory times a chart-sized `max`.
        let index = if count == items.len() || count < 2 {
            i
        } else {
            i * (items.len() - 1) / (count - 1)
        };
        items.get(index)
    })
}

/// Draws `points` on `area` as lines broken at non-finite points; a run of
/// one point (a lone value between gaps) is drawn as a dot.
pub(super) fn draw_runs<DB, X, Y>(
    area: &DrawingArea<DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    look: LineLook,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = look.line_style();
    for run in finite_runs(points) {
        match (run, look.stroke) {
            ([point], _) => area.draw(&Circle::new(*point, look.dot_radius_px, style.filled()))?,
            (_, Stroke::Solid) => area.draw(&PathElement::new(run.to_vec(), style))?,
            (_, Stroke::Dashed) => {
                let (dash, gap) = DASH_PX;
                area.draw(&DashedPathElement::new(
                    run.iter().copied(),
                    dash,
                    gap,
                    style,
                ))?;
            }
        }
    }
    Ok(())
}

/// Adds a legend entry `label` drawn in `look`, without drawing any data.
pub(super) fn add_legend_entry<DB, X, Y>(
    chart: &mut Chart<'_, DB, X, Y>,
    label: &str,
    look: LineLook,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = look.line_style();
    let no_points = std::iter::empty::<PathElement<(f64, f64)>>();
    let entry = chart.draw_series(no_points)?.label(label);
    match look.stroke {
        Stroke::Solid => entry
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + LEGEND_SAMPLE_PX, y)], style)),
        Stroke::Dashed => entry.legend(move |(x, y)| {
            let (dash, gap) = DASH_PX;
            let sample = [(x, y), (x + LEGEND_SAMPLE_PX, y)];
            DashedPathElement::new(sample, dash, gap, style)
        }),
    };
    Ok(())
}

/// Draws the legend of every entry added with [`add_legend_entry`].
pub(super) fn draw_legend<'a, DB, X, Y>(
    chart: &mut Chart<'a, DB, X, Y>,
    position: SeriesLabelPosition,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT_FAMILY, LABEL_FONT_PX))
        .legend_area_size(LEGEND_SAMPLE_PX + 5)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// Writes `note` in grey at the centre of `area`: what an empty chart shows.
pub(super) fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    note: &str,
) -> Result<(), ChartError> {
    let (width, height) = area.dim_in_pixel();
    let style = (FONT_FAMILY, 16)
        .into_font()
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    let centre = ((width / 2) as i32, (height / 2) as i32);
    area.draw(&Text::new(note, centre, style))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_stop_at_the_shorter_vector() {
        let points = pair_points(&[0.0, 1.0, 2.0], &[5.0, 6.0]);
        assert_eq!(points, vec![(0.0, 5.0), (1.0, 6.0)]);
        assert!(pair_points(&[], &[1.0]).is_empty());
    }

    #[test]
    fn runs_break_at_non_finite_points() {
        let points = [
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, 2.0),
            (3.0, 3.0),
            (f64::INFINITY, 4.0),
            (f64::NAN, f64::NAN),
            (6.0, 5.0),
        ];
        let runs: Vec<_> = finite_runs(&points).collect();
        assert_eq!(runs, vec![&points[0..1], &points[2..4], &points[6..7]]);
    }

    #[test]
    fn runs_of_only_gaps_are_empty() {
        assert_eq!(finite_runs(&[(0.0, f64::NAN); 3]).count(), 0);
        assert_eq!(finite_runs(&[]).count(), 0);
    }

    #[test]
    fn evenly_chosen_keeps_the_ends_and_the_count() {
        let items: Vec<usize> = (0..1_000).collect();
        let chosen: Vec<usize> = evenly_chosen(&items, 11).copied().collect();
        assert_eq!(
            chosen,
            vec![0, 99, 199, 299, 399, 499, 599, 699, 799, 899, 999]
        );

        let all: Vec<usize> = evenly_chosen(&items[..5], 11).copied().collect();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);

        assert_eq!(
            evenly_chosen(&items, 1).copied().collect::<Vec<_>>(),
            vec![0]
        );
        assert_eq!(evenly_chosen(&items, 0).count(), 0);
    }
}
