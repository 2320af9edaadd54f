//! The forecast and loss charts rendered to SVG through the public API.

use twinlab::chart::{
    BandSegment, ForecastSegment, ForecastView, LossView, PALETTE, SeriesLabels, decimate_min_max,
    forecast_svg, loss_svg,
};

/// The chart size most tests render at, in pixels.
const WIDTH: u32 = 800;
const HEIGHT: u32 = 400;

/// 2016-07-01 00:00 UTC, where the ETT data sets start.
const ETT_START_SECS: f64 = 1_467_331_200.0;

/// One `<polyline>` of a rendered chart.
#[derive(Debug)]
struct Polyline {
    stroke: String,
    points: Vec<(i32, i32)>,
}

/// One `<circle>` of a rendered chart.
#[derive(Debug)]
struct Dot {
    fill: String,
}

/// The value of attribute `name` in the tag text `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The text of every tag named `name` up to its closing `>`.
fn tags<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
    svg.split(&format!("<{name} "))
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .collect()
}

fn polylines(svg: &str) -> Vec<Polyline> {
    tags(svg, "polyline")
        .into_iter()
        .map(|tag| Polyline {
            stroke: attribute(tag, "stroke").unwrap_or_default().to_owned(),
            points: attribute(tag, "points")
                .unwrap_or_default()
                .split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').expect("x,y pair");
                    (x.parse().expect("integer x"), y.parse().expect("integer y"))
                })
                .collect(),
        })
        .collect()
}

fn dots(svg: &str) -> Vec<Dot> {
    tags(svg, "circle")
        .into_iter()
        .map(|tag| Dot {
            fill: attribute(tag, "fill").unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The content of every `<text>` element, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|rest| {
            let body = &rest[rest.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

/// The SVG colour string plotters writes for `color`.
fn hex(color: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2)
}

/// Polylines in `color` with more than two points: data lines, not legend samples.
fn lines_in(svg: &str, color: plotters::style::RGBColor) -> Vec<Polyline> {
    let stroke = hex(color);
    polylines(svg)
        .into_iter()
        .filter(|line| line.stroke == stroke && line.points.len() > 2)
        .collect()
}

fn dots_in(svg: &str, color: plotters::style::RGBColor) -> usize {
    let fill = hex(color);
    dots(svg).iter().filter(|dot| dot.fill == fill).count()
}

fn sine(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (i as f32 * 0.05).sin() * 10.0 + 20.0)
        .collect()
}

fn steps(len: usize) -> Vec<f64> {
    (0..len).map(|i| i as f64).collect()
}

/// A view of `len` actual points over step numbers, without forecasts.
fn actual_only(len: usize) -> ForecastView {
    ForecastView {
        title: "Oil temperature".to_owned(),
        channel: "OT".to_owned(),
        time_is_datetime: false,
        time_secs: steps(len),
        actual: sine(len),
        forecasts: Vec::new(),
        baseline: None,
        ..ForecastView::default()
    }
}

fn segment(start: usize, len: usize, value: f32) -> ForecastSegment {
    ForecastSegment {
        time_secs: (start..start + len).map(|i| i as f64).collect(),
        values: vec![value; len],
    }
}

#[test]
fn actual_series_is_one_line_with_every_point() {
    let svg = forecast_svg(&actual_only(50), WIDTH, HEIGHT).expect("renders");

    let lines = lines_in(&svg, PALETTE.actual);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].points.len(), 50);

    // Time runs left to right.
    assert!(
        lines[0]
            .points
            .windows(2)
            .all(|pair| pair[0].0 <= pair[1].0)
    );
}

#[test]
fn caption_axis_descriptions_and_legend_are_written() {
    let mut view = actual_only(100);
    view.forecasts = vec![segment(80, 20, 21.0)];
    view.baseline = Some(vec![segment(80, 20, 19.0)]);

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");
    let texts = texts(&svg);

    for expected in [
        "Oil temperature",
        "OT",
        "step",
        "actual",
        "LSTM forecast",
        "persistence",
    ] {
        assert!(
            texts.iter().any(|text| text == expected),
            "no {expected:?} in {texts:?}"
        );
    }
}

#[test]
fn no_title_means_no_caption_and_no_baseline_means_no_persistence_entry() {
    let mut view = actual_only(100);
    view.title.clear();
    view.forecasts = vec![segment(80, 20, 21.0)];

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");
    let texts = texts(&svg);

    assert!(!texts.iter().any(|text| text == "Oil temperature"));
    assert!(texts.iter().any(|text| text == "LSTM forecast"));
    assert!(!texts.iter().any(|text| text == "persistence"), "{texts:?}");
}

#[test]
fn title_text_is_escaped() {
    let mut view = actual_only(10);
    view.title = "<OT> & \"load\"".to_owned();

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    assert!(svg.contains("&lt;OT&gt; &amp; &quot;load&quot;"));
    assert!(!svg.contains("<OT>"));
}

#[test]
fn hourly_epoch_times_get_datetime_labels() {
    let len = 24 * 10;
    let view = ForecastView {
        time_is_datetime: true,
        time_secs: (0..len)
            .map(|i| ETT_START_SECS + i as f64 * 3_600.0)
            .collect(),
        ..actual_only(len)
    };

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");
    let labels: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|text| text.starts_with("2016-07-"))
        .collect();

    assert!(labels.len() >= 2, "{labels:?}");
    // `YYYY-MM-DD HH:MM`, on round times of day.
    assert!(
        labels
            .iter()
            .all(|label| label.len() == 16 && label.ends_with(":00")),
        "{labels:?}"
    );
    assert!(texts(&svg).iter().any(|text| text == "time (UTC)"));
}

#[test]
fn step_numbers_are_labelled_as_integers() {
    let svg = forecast_svg(&actual_only(1_000), WIDTH, HEIGHT).expect("renders");
    let texts = texts(&svg);

    assert!(texts.iter().any(|text| text == "0"), "{texts:?}");
    assert!(
        !texts.iter().any(|text| text.starts_with("19")),
        "no epoch dates: {texts:?}"
    );
}

#[test]
fn forecasts_are_lines_and_one_point_forecasts_are_dots() {
    let mut view = actual_only(200);
    view.forecasts = vec![
        segment(100, 24, 15.0),
        segment(124, 24, 16.0),
        segment(148, 24, 17.0),
        segment(190, 1, 18.0),
    ];

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    let forecasts = lines_in(&svg, PALETTE.forecast);
    assert_eq!(forecasts.len(), 3, "{forecasts:?}");
    assert!(forecasts.iter().all(|line| line.points.len() == 24));
    assert_eq!(dots_in(&svg, PALETTE.forecast), 1);
}

#[test]
fn baseline_is_dashed() {
    let mut view = actual_only(200);
    view.baseline = Some(vec![segment(100, 100, 15.0)]);

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    let stroke = hex(PALETTE.baseline);
    let dashes: Vec<Polyline> = polylines(&svg)
        .into_iter()
        .filter(|line| line.stroke == stroke)
        .collect();
    // Half the plot width at 6 px dashes and 4 px gaps: dozens of dashes,
    // each short (the legend sample is one more).
    assert!(dashes.len() > 20, "{} dashes", dashes.len());
    assert!(dashes.iter().all(|dash| {
        let (first, last) = (dash.points[0], dash.points[dash.points.len() - 1]);
        (last.0 - first.0).abs() <= 7
    }));
}

#[test]
fn y_range_covers_actual_and_forecasts() {
    let mut view = actual_only(100);
    view.forecasts = vec![segment(50, 50, 1_000.0), segment(60, 20, -1_000.0)];
    view.baseline = Some(vec![segment(70, 10, 5_000.0)]);

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    for line in polylines(&svg) {
        for &(x, y) in &line.points {
            assert!((0..=WIDTH as i32).contains(&x), "{line:?}");
            assert!((0..=HEIGHT as i32).contains(&y), "{line:?}");
        }
    }
    // The highest forecast sits near the top of the plot, above the actual series.
    let top = lines_in(&svg, PALETTE.actual)[0]
        .points
        .iter()
        .map(|p| p.1)
        .min();
    let baseline_y = polylines(&svg)
        .into_iter()
        .filter(|line| line.stroke == hex(PALETTE.baseline) && line.points[0].0 > 100)
        .map(|line| line.points[0].1)
        .min();
    assert!(
        baseline_y < top,
        "baseline {baseline_y:?} vs actual {top:?}"
    );
}

#[test]
fn non_finite_values_break_the_line() {
    let mut view = actual_only(100);
    view.actual[30] = f32::NAN;
    view.actual[60] = f32::INFINITY;
    view.actual[62] = f32::NEG_INFINITY;
    view.time_secs[80] = f64::NAN;
    view.forecasts = vec![ForecastSegment {
        time_secs: steps(10),
        values: vec![f32::NAN; 10],
    }];

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    let mut lengths: Vec<usize> = lines_in(&svg, PALETTE.actual)
        .iter()
        .map(|line| line.points.len())
        .collect();
    lengths.sort_unstable();
    // Runs 0..30, 31..60, 63..80 and 81..100; index 61 stands alone as a dot.
    assert_eq!(lengths, vec![17, 19, 29, 30]);
    assert_eq!(dots_in(&svg, PALETTE.actual), 1);
    assert!(lines_in(&svg, PALETTE.forecast).is_empty());
}

#[test]
fn mismatched_lengths_pair_up_to_the_shorter() {
    let mut view = actual_only(40);
    view.actual.truncate(25);
    view.forecasts = vec![ForecastSegment {
        time_secs: steps(12),
        values: vec![3.0; 7],
    }];
    view.baseline = Some(vec![ForecastSegment {
        time_secs: Vec::new(),
        values: vec![1.0; 5],
    }]);

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    assert_eq!(lines_in(&svg, PALETTE.actual)[0].points.len(), 25);
    assert_eq!(lines_in(&svg, PALETTE.forecast)[0].points.len(), 7);
}

#[test]
fn empty_views_draw_axes_and_a_note() {
    let views = [
        ForecastView::default(),
        ForecastView {
            time_is_datetime: true,
            ..ForecastView::default()
        },
        ForecastView {
            time_secs: steps(5),
            actual: vec![f32::NAN; 5],
            forecasts: vec![ForecastSegment::default(); 3],
            baseline: Some(Vec::new()),
            ..ForecastView::default()
        },
    ];

    for view in views {
        let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("an empty view is no error");
        let texts = texts(&svg);

        assert!(texts.iter().any(|text| text == "no data yet"), "{texts:?}");
        assert!(
            !texts.iter().any(|text| text == "actual"),
            "no legend: {texts:?}"
        );
        assert!(!polylines(&svg).is_empty(), "axes are drawn");
    }
}

#[test]
fn a_single_point_or_a_constant_series_renders() {
    let one = ForecastView {
        time_secs: vec![7.0],
        actual: vec![3.0],
        ..ForecastView::default()
    };
    let svg = forecast_svg(&one, WIDTH, HEIGHT).expect("renders");
    assert_eq!(dots_in(&svg, PALETTE.actual), 1);

    let flat = ForecastView {
        actual: vec![0.0; 30],
        ..actual_only(30)
    };
    let svg = forecast_svg(&flat, WIDTH, HEIGHT).expect("renders");
    assert_eq!(lines_in(&svg, PALETTE.actual)[0].points.len(), 30);
}

#[test]
fn a_million_points_are_decimated_to_the_plot_width() {
    let len = 1_000_000;
    let mut view = actual_only(len);
    view.actual[500_000] = 500.0;
    view.forecasts = (0..len / 24).map(|i| segment(i * 24, 24, 20.0)).collect();
    view.baseline = Some((0..len / 24).map(|i| segment(i * 24, 24, 21.0)).collect());

    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");

    let actual = lines_in(&svg, PALETTE.actual);
    assert_eq!(actual.len(), 1);
    let kept = actual[0].points.len();
    assert!(
        kept <= 3 * WIDTH as usize && kept >= WIDTH as usize / 2,
        "kept {kept} points"
    );

    // The spike survives thinning: one point near the top of the plot, the
    // sine (values 10 to 30 on an axis up to 500) far below it.
    let mut ys: Vec<i32> = actual[0].points.iter().map(|p| p.1).collect();
    ys.sort_unstable();
    let (top, median) = (ys[0], ys[ys.len() / 2]);
    assert!(top < HEIGHT as i32 / 5, "spike drawn at y = {top}");
    assert!(
        median > top + HEIGHT as i32 / 2,
        "spike at {top}, the series at {median}"
    );

    // At most 2000 forecasts of each kind are drawn.
    let forecast_stroke = hex(PALETTE.forecast);
    let forecast_lines = polylines(&svg)
        .iter()
        .filter(|l| l.stroke == forecast_stroke)
        .count();
    assert!(forecast_lines <= 2_001, "{forecast_lines} forecast lines");
    assert!(svg.len() < 2_000_000, "SVG is {} bytes", svg.len());
}

#[test]
fn decimated_point_count_matches_decimate_min_max() {
    let len = 50_000;
    let view = actual_only(len);
    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");
    let drawn = lines_in(&svg, PALETTE.actual)[0].points.len();

    // The plot is narrower than the SVG by its margins and label area, so the
    // exact bucket count is internal; any plausible plot width agrees.
    let points: Vec<(f64, f64)> = view
        .time_secs
        .iter()
        .zip(&view.actual)
        .map(|(&x, &y)| (x, f64::from(y)))
        .collect();
    let plausible =
        (600..WIDTH as usize).any(|buckets| decimate_min_max(&points, buckets).len() == drawn);
    assert!(plausible, "{drawn} points drawn");
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let mut view = actual_only(100);
    view.forecasts = vec![segment(50, 10, 3.0)];
    let loss = LossView {
        train: vec![1.0, 0.5],
        validation: vec![1.1, 0.6],
        best_epoch: Some(1),
    };

    for (width, height) in [(0, 0), (1, 1), (40, 30), (120, 90), (3_000, 50)] {
        // Failing cleanly would be acceptable; panicking is not.
        let _ = forecast_svg(&view, width, height);
        let _ = forecast_svg(&ForecastView::default(), width, height);
        let _ = loss_svg(&loss, width, height);
        let _ = loss_svg(&LossView::default(), width, height);
    }
}

fn history(len: usize) -> LossView {
    LossView {
        train: (0..len).map(|i| 1.0 / (i as f32 + 1.0)).collect(),
        validation: (0..len).map(|i| 1.2 / (i as f32 + 1.0) + 0.05).collect(),
        best_epoch: Some(len.saturating_sub(2)),
    }
}

#[test]
fn loss_chart_draws_both_losses_with_markers() {
    let svg = loss_svg(&history(12), WIDTH, HEIGHT).expect("renders");

    assert_eq!(lines_in(&svg, PALETTE.train)[0].points.len(), 12);
    assert_eq!(lines_in(&svg, PALETTE.validation)[0].points.len(), 12);
    assert_eq!(dots_in(&svg, PALETTE.train), 12);
    assert_eq!(dots_in(&svg, PALETTE.validation), 12);

    let texts = texts(&svg);
    for expected in ["train", "validation", "best epoch", "epoch"] {
        assert!(
            texts.iter().any(|text| text == expected),
            "no {expected:?} in {texts:?}"
        );
    }
}

#[test]
fn best_epoch_is_marked_with_line_dot_and_label() {
    let svg = loss_svg(&history(12), WIDTH, HEIGHT).expect("renders");

    assert!(texts(&svg).iter().any(|text| text == "best: epoch 11"));
    let stroke = hex(PALETTE.best_epoch);
    let vertical = polylines(&svg).into_iter().any(|line| {
        line.stroke == stroke && line.points.len() == 2 && line.points[0].0 == line.points[1].0
    });
    assert!(vertical, "a vertical best-epoch line");
    assert_eq!(dots_in(&svg, PALETTE.best_epoch), 1);
}

#[test]
fn best_epoch_outside_the_history_is_not_marked() {
    let view = LossView {
        best_epoch: Some(12),
        ..history(12)
    };
    let svg = loss_svg(&view, WIDTH, HEIGHT).expect("renders");

    assert!(!texts(&svg).iter().any(|text| text.starts_with("best")));
    assert_eq!(dots_in(&svg, PALETTE.best_epoch), 0);
}

#[test]
fn loss_axis_is_logarithmic_only_for_wide_positive_ranges() {
    let wide = LossView {
        train: vec![1.0, 0.1, 0.01],
        ..LossView::default()
    };
    let svg = loss_svg(&wide, WIDTH, HEIGHT).expect("renders");
    assert!(texts(&svg).iter().any(|text| text == "loss (log scale)"));

    let narrow = LossView {
        train: vec![0.5, 0.45, 0.4],
        ..LossView::default()
    };
    let svg = loss_svg(&narrow, WIDTH, HEIGHT).expect("renders");
    assert!(texts(&svg).iter().any(|text| text == "loss"));

    let negative = LossView {
        train: vec![-1.0, 10.0],
        ..LossView::default()
    };
    let svg = loss_svg(&negative, WIDTH, HEIGHT).expect("renders");
    assert!(texts(&svg).iter().any(|text| text == "loss"));
}

#[test]
fn loss_histories_of_different_lengths_are_drawn_as_they_are() {
    let view = LossView {
        train: vec![1.0, 0.8, 0.7, 0.65, 0.6],
        validation: vec![1.1, 0.9, 0.85],
        best_epoch: None,
    };
    let svg = loss_svg(&view, WIDTH, HEIGHT).expect("renders");

    assert_eq!(lines_in(&svg, PALETTE.train)[0].points.len(), 5);
    assert_eq!(lines_in(&svg, PALETTE.validation)[0].points.len(), 3);
    assert!(!texts(&svg).iter().any(|text| text == "best epoch"));
}

#[test]
fn long_histories_drop_the_markers() {
    let svg = loss_svg(&history(2_000), WIDTH, HEIGHT).expect("renders");

    assert_eq!(lines_in(&svg, PALETTE.train)[0].points.len(), 2_000);
    assert_eq!(dots_in(&svg, PALETTE.train), 0);
}

#[test]
fn empty_and_non_finite_histories_draw_a_note() {
    let svg = loss_svg(&LossView::default(), WIDTH, HEIGHT).expect("renders");
    assert!(
        texts(&svg)
            .iter()
            .any(|text| text == "training has not started")
    );
    assert!(!texts(&svg).iter().any(|text| text == "train"), "no legend");

    let diverged = LossView {
        train: vec![f32::NAN, f32::INFINITY],
        ..LossView::default()
    };
    let svg = loss_svg(&diverged, WIDTH, HEIGHT).expect("renders");
    assert!(
        texts(&svg)
            .iter()
            .any(|text| text == "the loss is not finite")
    );
}

#[test]
fn a_nan_epoch_breaks_the_loss_line() {
    let view = LossView {
        train: vec![1.0, 0.9, f32::NAN, 0.7, 0.6, 0.5],
        validation: Vec::new(),
        best_epoch: Some(5),
    };
    let svg = loss_svg(&view, WIDTH, HEIGHT).expect("renders");

    let lengths: Vec<usize> = lines_in(&svg, PALETTE.train)
        .iter()
        .map(|line| line.points.len())
        .collect();
    assert_eq!(lengths, vec![3]);
    // The two-point run before the gap is a polyline of 2 (filtered as a
    // legend-sized line above); count every train polyline instead.
    let stroke = hex(PALETTE.train);
    let all = polylines(&svg)
        .into_iter()
        .filter(|line| line.stroke == stroke)
        .count();
    assert_eq!(all, 3, "two runs and the legend sample");
    assert_eq!(dots_in(&svg, PALETTE.train), 5);
}

#[test]
fn bands_are_shaded_and_named_and_labels_can_be_changed() {
    let len = 60;
    let view = ForecastView {
        title: "Unit 7".to_owned(),
        channel: "RUL (cycles)".to_owned(),
        forecasts: vec![segment(0, len, 20.0)],
        bands: vec![BandSegment {
            time_secs: steps(len),
            lower: vec![10.0; len],
            upper: vec![30.0; len],
        }],
        labels: SeriesLabels {
            actual: "true RUL".to_owned(),
            forecast: "predicted RUL".to_owned(),
            band: "90% band".to_owned(),
            x_axis: "cycle".to_owned(),
            ..SeriesLabels::default()
        },
        ..actual_only(len)
    };
    let svg = forecast_svg(&view, WIDTH, HEIGHT).expect("renders");
    let texts = texts(&svg);
    for label in ["true RUL", "predicted RUL", "90% band", "cycle"] {
        assert!(
            texts.iter().any(|text| text == label),
            "{label} missing: {texts:?}"
        );
    }
    assert!(
        !texts.iter().any(|text| text == "LSTM forecast"),
        "{texts:?}"
    );
    // The band is one filled polygon in the band colour.
    let fill = hex(PALETTE.band);
    let polygons = tags(&svg, "polygon");
    assert!(
        polygons
            .iter()
            .any(|tag| attribute(tag, "fill") == Some(fill.as_str())),
        "no band polygon filled with {fill}: {polygons:?}"
    );
}
