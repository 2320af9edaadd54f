//! The live twin's chart: the recent readings of one channel with the
//! forecast of each reading and the path forecast ahead of "now" with its
//! band (drawn by [`draw_forecast_with`]), and under it, on the same time
//! axis, the strip of the twin's health states with labelled anomaly
//! windows shaded behind it.

use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Rectangle, Text};
use plotters::prelude::DrawingBackend;
use plotters::style::{Color as _, IntoFont, RGBColor, TextStyle};
use serde::{Deserialize, Serialize};

use super::{ChartError, ChartLayout, ChartOptions, ForecastView, draw_forecast_with};

/// Height of the state strip, with its caption, in pixels.
const STRIP_PX: u32 = 56;

/// One run of the same health state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSpan {
    /// Start, in the view's time unit.
    pub start_secs: f64,
    /// End (the next span's start, or the last reading).
    pub end_secs: f64,
    /// The state's key, as the twin serialises it (`healthy`, `warning`, …).
    pub state: String,
}

/// Everything the live chart draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveView {
    /// Readings, the forecasts made for them and the path ahead.
    pub forecast: ForecastView,
    /// Health states over time, oldest first.
    pub states: Vec<StateSpan>,
    /// Labelled anomaly windows (start, end), shaded behind the strip.
    pub labels: Vec<(f64, f64)>,
    /// The time of the last reading, marked with a line.
    pub now_secs: Option<f64>,
}

/// The colour of a health state on the strip: Okabe-Ito colours in order
/// of severity, grey for commissioning.
#[must_use]
pub fn state_color(state: &str) -> RGBColor {
    match state {
        "healthy" => RGBColor(0, 158, 115),
        "watch" => RGBColor(240, 228, 66),
        "warning" => RGBColor(230, 159, 0),
        "critical" => RGBColor(213, 94, 0),
        "failed" => RGBColor(60, 60, 60),
        "maintenance" => RGBColor(0, 114, 178),
        "sensor_fault" => RGBColor(204, 121, 167),
        _ => RGBColor(200, 200, 200),
    }
}

/// Draws `view` on `root`, showing the x range of `options` (all of it
/// when there is none); returns where the upper plot landed.
pub fn draw_live<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &LiveView,
    options: &ChartOptions,
) -> Result<ChartLayout, ChartError> {
    let (_, height) = root.dim_in_pixel();
    let split = height.saturating_sub(STRIP_PX).max(height / 2);
    let (upper, lower) = root.split_vertically(split);
    let layout = draw_forecast_with(&upper, &view.forecast, options)?;
    draw_strip(&lower, view, &layout)?;
    Ok(layout)
}

/// The state strip under the plot of `layout`.
fn draw_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &LiveView,
    layout: &ChartLayout,
) -> Result<(), ChartError> {
    area.fill(&plotters::style::WHITE)?;
    let (lo, hi) = layout.x_range;
    let (left, right) = (layout.plot_left_px, layout.plot_right_px);
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || right <= left {
        return Ok(());
    }
    let to_px = |x: f64| {
        let share = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
        left + (share * f64::from(right - left)).round() as i32
    };
    let (top, bottom) = (16, STRIP_PX as i32 - 6);
    let caption = TextStyle::from((super::series::FONT_FAMILY, 12).into_font());
    area.draw(&Text::new(
        "health state (shaded: labelled anomaly windows)",
        (left, 1),
        caption.clone(),
    ))?;
    for &(start, end) in &view.labels {
        if end < lo || start > hi {
            continue;
        }
        let shade = RGBColor(120, 120, 120);
        area.draw(&Rectangle::new(
            [
                (to_px(start), top - 4),
                (to_px(end).max(to_px(start) + 1), bottom + 4),
            ],
            shade.filled(),
        ))?;
    }
    for span in &view.states {
        if span.end_secs < lo || span.start_secs > hi {
            continue;
        }
        let (x0, x1) = (to_px(span.start_secs), to_px(span.end_secs));
        let x1 = x1.max(x0 + 1);
        area.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            state_color(&span.state).filled(),
        ))?;
        let label = span.state.replace('_', " ");
        if x1 - x0 > 8 * label.len() as i32 {
            area.draw(&Text::new(label, (x0 + 3, top + 8), caption.clone()))?;
        }
    }
    if let Some(now) = view.now_secs.filter(|t| (lo..=hi).contains(t)) {
        let x = to_px(now);
        area.draw(&Rectangle::new(
            [(x, top - 6), (x + 1, bottom + 6)],
            plotters::style::BLACK.filled(),
        ))?;
    }
    Ok(())
}

/// Renders the live chart as an SVG document of `width` × `height` pixels.
pub fn live_svg(view: &LiveView, width: u32, height: u32) -> Result<String, ChartError> {
    super::render_svg(width, height, |root| {
        draw_live(root, view, &ChartOptions::default()).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{BandSegment, ForecastSegment};

    fn view() -> LiveView {
        let times: Vec<f64> = (0..100).map(|t| 1.7e9 + 60.0 * f64::from(t)).collect();
        let ahead: Vec<f64> = (100..112).map(|t| 1.7e9 + 60.0 * f64::from(t)).collect();
        LiveView {
            forecast: ForecastView {
                channel: "vibration_mm_s".to_owned(),
                time_is_datetime: true,
                time_secs: times.clone(),
                actual: (0..100).map(|t| (t as f32 * 0.1).sin()).collect(),
                forecasts: vec![ForecastSegment {
                    time_secs: ahead.clone(),
                    values: vec![0.5; 12],
                }],
                bands: vec![BandSegment {
                    time_secs: ahead,
                    lower: vec![0.0; 12],
                    upper: vec![1.0; 12],
                }],
                ..ForecastView::default()
            },
            states: vec![
                StateSpan {
                    start_secs: times[0],
                    end_secs: times[60],
                    state: "healthy".to_owned(),
                },
                StateSpan {
                    start_secs: times[60],
                    end_secs: times[99],
                    state: "warning".to_owned(),
                },
            ],
            labels: vec![(times[50], times[70])],
            now_secs: Some(times[99]),
        }
    }

    #[test]
    fn draws_readings_the_path_ahead_and_the_state_strip() {
        let svg = live_svg(&view(), 800, 400).unwrap();
        // Both state colours and the shading are on the strip.
        for colour in ["#009E73", "#E69F00", "#787878"] {
            assert!(svg.to_uppercase().contains(colour), "{colour} missing");
        }
        assert!(svg.contains("health state"));
    }

    #[test]
    fn an_empty_view_still_draws() {
        let svg = live_svg(&LiveView::default(), 400, 200).unwrap();
        assert!(svg.contains("no data yet"));
    }
}
