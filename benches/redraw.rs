//! Redraw time of the forecast chart for long series: prints the median of
//! several SVG renders (the drawing code the page runs on its canvas) for
//! 100,000 and 1,000,000 points, whole and zoomed to a tenth.
//!
//! Run with `cargo bench --bench redraw`.

use std::time::Instant;

use twinlab::chart::{
    BandSegment, ChartOptions, ForecastSegment, ForecastView, draw_forecast_with,
};

fn view(points: usize) -> ForecastView {
    let time_secs: Vec<f64> = (0..points).map(|i| 1.7e9 + i as f64 * 60.0).collect();
    let actual: Vec<f32> = (0..points)
        .map(|i| (i as f32 * 0.01).sin() * 10.0 + (i as f32 * 0.37).sin())
        .collect();
    let horizon = 24;
    let forecasts: Vec<ForecastSegment> = (0..points / horizon)
        .map(|w| ForecastSegment {
            time_secs: time_secs[w * horizon..(w + 1) * horizon].to_vec(),
            values: actual[w * horizon..(w + 1) * horizon]
                .iter()
                .map(|v| v + 0.5)
                .collect(),
        })
        .collect();
    let bands = forecasts
        .iter()
        .map(|f| BandSegment {
            time_secs: f.time_secs.clone(),
            lower: f.values.iter().map(|v| v - 2.0).collect(),
            upper: f.values.iter().map(|v| v + 2.0).collect(),
        })
        .collect();
    ForecastView {
        title: format!("{points} points"),
        channel: "value".into(),
        time_is_datetime: true,
        baseline: Some(forecasts.clone()),
        time_secs,
        actual,
        forecasts,
        bands,
        ..ForecastView::default()
    }
}

fn median_ms(runs: usize, mut draw: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            draw();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    println!("forecast chart redraw (SVG, 1200 × 500 px), median of 7 runs");
    for points in [100_000, 1_000_000] {
        let view = view(points);
        let first = view.time_secs[0];
        let last = view.time_secs[points - 1];
        let zoomed = ChartOptions {
            x_range: Some((first + (last - first) * 0.45, first + (last - first) * 0.55)),
            ..ChartOptions::default()
        };
        for (name, options) in [
            ("whole", ChartOptions::default()),
            ("zoomed to 10%", zoomed),
        ] {
            let mut bytes = 0;
            let ms = median_ms(7, || {
                let mut svg = String::new();
                {
                    use plotters::prelude::*;
                    let root = SVGBackend::with_string(&mut svg, (1200, 500)).into_drawing_area();
                    draw_forecast_with(&root, &view, &options).expect("draws");
                    root.present().expect("presents");
                }
                bytes = svg.len();
            });
            println!("{points:>9} points, {name:<14}: {ms:8.1} ms ({bytes} bytes of SVG)");
        }
    }
}
