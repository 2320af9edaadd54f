//! Charts of a forecast against the actual series, and of the training loss.
//!
//! The drawing code is written once against any plotters [`DrawingBackend`]: the
//! web page hands [`draw_forecast`] and [`draw_loss`] a `<canvas>` drawing area
//! (plotters-canvas), native code and tests render SVG through [`forecast_svg`]
//! and [`loss_svg`]. The views are plain vectors, so this module knows nothing of
//! the model or the data pipeline.
//!
//! Degenerate input never panics and is never an error: empty views draw their
//! axes and a "no data yet" note, non-finite values are skipped (a line breaks
//! there), vectors of different lengths are paired up to the shorter one, and a
//! single point or a constant series gets a padded axis range. Long series are
//! thinned to a few points per pixel column with [`decimate_min_max`] before
//! drawing.
//!
//! Text needs no system fonts: the SVG and canvas backends write text as text
//! and let the viewer render it.

mod axis;
mod decimate;
mod forecast;
pub mod interact;
pub mod live;
mod loss;
mod series;

use std::error::Error;

use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind, IntoDrawingArea};
use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

pub use decimate::decimate_min_max;
pub use forecast::{draw_forecast, draw_forecast_with};
pub use loss::draw_loss;

/// Epoch seconds as `YYYY-MM-DD HH:MM` (UTC), as the charts label them.
#[must_use]
pub fn format_time(secs: f64) -> String {
    axis::format_datetime(secs)
}

/// Data for the forecast-vs-actual chart: plain vectors, no model types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastView {
    /// Chart title; an empty title leaves the caption out.
    pub title: String,
    /// The channel being forecast, used as the y axis label (e.g. `OT`).
    pub channel: String,
    /// Whether x values are epoch seconds (labelled `YYYY-MM-DD HH:MM`, UTC) or
    /// step numbers (labelled as integers).
    pub time_is_datetime: bool,
    /// The x value of each actual point (the test part of the series).
    pub time_secs: Vec<f64>,
    /// Actual values in original units, paired with `time_secs`.
    pub actual: Vec<f32>,
    /// Model forecasts, drawn over the actual series.
    pub forecasts: Vec<ForecastSegment>,
    /// Persistence (last value) forecasts, drawn dashed, if there are any.
    pub baseline: Option<Vec<ForecastSegment>>,
    /// Prediction intervals, drawn as shaded bands under the forecasts.
    #[serde(default)]
    pub bands: Vec<BandSegment>,
    /// The legend's words and the x axis description.
    #[serde(default)]
    pub labels: SeriesLabels,
}

/// A prediction interval over a run of times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BandSegment {
    /// The x value of each point, as [`ForecastView::time_secs`].
    pub time_secs: Vec<f64>,
    /// Lower edge at each time.
    pub lower: Vec<f32>,
    /// Upper edge at each time.
    pub upper: Vec<f32>,
}

/// What the series of a [`ForecastView`] are called on the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesLabels {
    /// The actual series.
    pub actual: String,
    /// The model's forecasts.
    pub forecast: String,
    /// The baseline forecasts.
    pub baseline: String,
    /// The bands.
    pub band: String,
    /// The x axis description; empty picks `time (UTC)` or `step`.
    pub x_axis: String,
}

impl Default for SeriesLabels {
    fn default() -> Self {
        Self {
            actual: "actual".to_owned(),
            forecast: "LSTM forecast".to_owned(),
            baseline: "persistence".to_owned(),
            band: "interval".to_owned(),
            x_axis: String::new(),
        }
    }
}

/// One forecast: the values predicted for a run of future times.
///
/// A segment of one point is drawn as a dot, a longer one as a line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastSegment {
    /// The x value of each forecast point, in the same unit as
    /// [`ForecastView::time_secs`].
    pub time_secs: Vec<f64>,
    /// Forecast values in original units, paired with `time_secs`.
    pub values: Vec<f32>,
}

/// Training history for the live loss chart, one value per epoch.
///
/// Either vector may be empty or shorter than the other while training runs.
/// Epochs are numbered from 1 on the chart: `train[0]` is epoch 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LossView {
    /// Training loss per epoch.
    pub train: Vec<f32>,
    /// Validation loss per epoch.
    pub validation: Vec<f32>,
    /// The 0-based index (into `train` and `validation`) of the best epoch so
    /// far, marked on the chart; an index past both vectors is ignored.
    pub best_epoch: Option<usize>,
}

/// A series of the forecast chart, for hiding and showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// The actual values.
    Actual,
    /// The model's forecasts.
    Forecast,
    /// The baseline forecasts.
    Baseline,
    /// The intervals.
    Band,
}

impl SeriesKind {
    /// Every kind, in legend order.
    pub const ALL: [Self; 4] = [Self::Actual, Self::Forecast, Self::Baseline, Self::Band];

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of hidden series (empty: everything shown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenSeries(u8);

impl HiddenSeries {
    /// Whether `kind` is hidden.
    #[must_use]
    pub fn contains(self, kind: SeriesKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Hides `kind` when `hidden`, shows it otherwise.
    pub fn set(&mut self, kind: SeriesKind, hidden: bool) {
        if hidden {
            self.0 |= kind.bit();
        } else {
            self.0 &= !kind.bit();
        }
    }
}

/// What part of a forecast view to draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartOptions {
    /// The x range shown, in the view's time unit; `None` shows all.
    pub x_range: Option<(f64, f64)>,
    /// Series left out.
    pub hidden: HiddenSeries,
}

/// Where a drawn chart's plot lies on its canvas, in pixels, and the x
/// range it shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChartLayout {
    /// Left edge of the plot.
    pub plot_left_px: i32,
    /// Right edge of the plot (exclusive).
    pub plot_right_px: i32,
    /// Top edge of the plot.
    pub plot_top_px: i32,
    /// Bottom edge of the plot (exclusive).
    pub plot_bottom_px: i32,
    /// The x range drawn.
    pub x_range: (f64, f64),
}

impl ChartLayout {
    /// The x value under pixel column `px`, or `None` outside the plot.
    #[must_use]
    pub fn x_at(&self, px: f64) -> Option<f64> {
        let (left, right) = (f64::from(self.plot_left_px), f64::from(self.plot_right_px));
        if !(left..right).contains(&px) || right <= left {
            return None;
        }
        let share = (px - left) / (right - left);
        Some(self.x_range.0 + share * (self.x_range.1 - self.x_range.0))
    }

    /// The share (0 to 1) of the plot's width at pixel column `px`, clamped.
    #[must_use]
    pub fn share_at(&self, px: f64) -> f64 {
        let (left, right) = (f64::from(self.plot_left_px), f64::from(self.plot_right_px));
        if right <= left {
            return 0.5;
        }
        ((px - left) / (right - left)).clamp(0.0, 1.0)
    }
}

/// Why a chart could not be drawn.
#[derive(thiserror::Error, Debug)]
pub enum ChartError {
    /// The drawing backend (canvas, SVG) reported a failure.
    #[error("drawing failed: {0}")]
    Draw(String),
}

impl<E: Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        Self::Draw(err.to_string())
    }
}

/// The colours of each chart element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartPalette {
    /// The actual series.
    pub actual: RGBColor,
    /// The model (LSTM) forecasts.
    pub forecast: RGBColor,
    /// The persistence baseline forecasts.
    pub baseline: RGBColor,
    /// The training loss.
    pub train: RGBColor,
    /// The validation loss.
    pub validation: RGBColor,
    /// The best-epoch marker.
    pub best_epoch: RGBColor,
    /// The intervals around the forecasts: the forecast colour at 18% on
    /// white, opaque so that exports look the same everywhere.
    pub band: RGBColor,
}

/// Colour-blind-safe colours from the Okabe-Ito palette.
pub const PALETTE: ChartPalette = ChartPalette {
    actual: RGBColor(0, 0, 0),
    forecast: RGBColor(213, 94, 0),
    baseline: RGBColor(86, 180, 233),
    train: RGBColor(0, 114, 178),
    validation: RGBColor(230, 159, 0),
    best_epoch: RGBColor(0, 158, 115),
    band: RGBColor(247, 226, 209),
};

/// Renders the forecast chart as an SVG document of `width` × `height` pixels.
pub fn forecast_svg(view: &ForecastView, width: u32, height: u32) -> Result<String, ChartError> {
    render_svg(width, height, |root| draw_forecast(root, view))
}

/// Renders the loss chart as an SVG document of `width` × `height` pixels.
pub fn loss_svg(view: &LossView, width: u32, height: u32) -> Result<String, ChartError> {
    render_svg(width, height, |root| draw_loss(root, view))
}

/// Runs `draw` on an SVG drawing area and returns the finished document.
fn render_svg<F>(width: u32, height: u32, draw: F) -> Result<String, ChartError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// Fills `root` white: both charts start from a clean background.
fn clear<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
    root.fill(&plotters::style::WHITE)?;
    Ok(())
}
