//! Drawing state into the page: the data report, the metrics table and the
//! two charts. Nothing here holds state; each function redraws its part
//! from the values it is given.

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters_canvas::CanvasBackend;
use web_sys::{Document, Element, HtmlCanvasElement};

use crate::artifact::ModelMeta;
use crate::chart::{self, ChartError, ChartLayout, ChartOptions, ForecastView, LossView};
use crate::ingest::{DataReport, FleetReport};
use crate::metrics::ErrorMetrics;
use crate::pipeline::Evaluation;
use crate::rul::RulEvaluation;

use super::WebError;
use super::dom::{append, clear, element_with_text};

/// Width a chart gets when its canvas has no layout width (it is hidden).
const FALLBACK_WIDTH_PX: u32 = 800;

/// Fills `container` with the report: its summary lines, then the first bad
/// cells and gaps, if any, in collapsible tables.
pub fn render_report(
    document: &Document,
    container: &Element,
    name: &str,
    report: &DataReport,
) -> Result<(), WebError> {
    clear(container);
    append(container, &element_with_text(document, "h3", name)?)?;

    let list = document
        .create_element("ul")
        .map_err(|err| WebError::js("creating the report", &err))?;
    for line in report.summary_lines() {
        append(&list, &element_with_text(document, "li", &line)?)?;
    }
    append(container, &list)?;

    let cells = &report.bad_cells;
    if !cells.first.is_empty() {
        let rows: Vec<Vec<String>> = cells
            .first
            .iter()
            .map(|cell| {
                vec![
                    cell.line.to_string(),
                    cell.column.clone(),
                    cell.raw.clone(),
                    cell.kind.describe().to_owned(),
                ]
            })
            .collect();
        let title = format!(
            "Bad cells: {} in all, {} repaired by interpolation (first {} listed)",
            cells.total,
            cells.interpolated,
            cells.first.len()
        );
        let details = details_table(
            document,
            &title,
            &["Line", "Column", "Cell", "Problem"],
            &rows,
        )?;
        append(container, &details)?;
    }

    let gaps = &report.gaps;
    if !gaps.first.is_empty() {
        let rows: Vec<Vec<String>> = gaps
            .first
            .iter()
            .map(|gap| {
                vec![
                    format!("{}–{}", gap.after_line, gap.before_line),
                    gap.missing_steps.to_string(),
                    if gap.filled {
                        "filled"
                    } else {
                        "left as a break"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        let title = format!(
            "Gaps in time: {} (first {} listed)",
            gaps.count,
            gaps.first.len()
        );
        let details = details_table(
            document,
            &title,
            &["Lines", "Missing steps", "Action"],
            &rows,
        )?;
        append(container, &details)?;
    }
    Ok(())
}

/// A `<details>` with `title` as its summary and a table inside.
fn details_table(
    document: &Document,
    title: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Element, WebError> {
    let make = |tag: &str| {
        document
            .create_element(tag)
            .map_err(|err| WebError::js("creating the report", &err))
    };
    let details = make("details")?;
    append(&details, &element_with_text(document, "summary", title)?)?;
    let table = make("table")?;
    let head = make("tr")?;
    for name in header {
        let cell = element_with_text(document, "th", name)?;
        cell.set_attribute("scope", "col")
            .map_err(|err| WebError::js("creating the report", &err))?;
        append(&head, &cell)?;
    }
    append(&table, &head)?;
    for row in rows {
        let line = make("tr")?;
        for value in row {
            append(&line, &element_with_text(document, "td", value)?)?;
        }
        append(&table, &line)?;
    }
    append(&details, &table)?;
    Ok(details)
}

/// A metric for a table cell: four significant digits or so.
#[must_use]
pub fn format_metric(value: f64) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

/// Fills the metrics `table`: MAE and RMSE of the LSTM and of persistence,
/// per target in its own units, then all targets in z-score units.
pub fn render_metrics(
    document: &Document,
    table: &Element,
    evaluation: &Evaluation,
) -> Result<(), WebError> {
    clear(table);
    let caption = format!(
        "Errors on the test part (rows {}–{}, {} forecast windows); lower is better",
        evaluation.test_rows.start + 1,
        evaluation.test_rows.end,
        evaluation.windows
    );
    append(table, &element_with_text(document, "caption", &caption)?)?;

    let row = |cells: &[String], header: bool| -> Result<Element, WebError> {
        let line = document
            .create_element("tr")
            .map_err(|err| WebError::js("creating the metrics table", &err))?;
        for (index, text) in cells.iter().enumerate() {
            let tag = if header || index == 0 { "th" } else { "td" };
            let cell = element_with_text(document, tag, text)?;
            let scope = if header { "col" } else { "row" };
            if tag == "th" {
                cell.set_attribute("scope", scope)
                    .map_err(|err| WebError::js("creating the metrics table", &err))?;
            }
            append(&line, &cell)?;
        }
        Ok(line)
    };
    let header: Vec<String> = [
        "Target",
        "LSTM MAE",
        "LSTM RMSE",
        "Persistence MAE",
        "Persistence RMSE",
    ]
    .map(str::to_owned)
    .to_vec();
    append(table, &row(&header, true)?)?;

    let values = |label: String, lstm: &ErrorMetrics, naive: &ErrorMetrics| {
        vec![
            label,
            format_metric(lstm.mae),
            format_metric(lstm.rmse),
            format_metric(naive.mae),
            format_metric(naive.rmse),
        ]
    };
    for score in &evaluation.targets {
        let label = format!("{} (original units)", score.channel);
        append(
            table,
            &row(&values(label, &score.lstm, &score.persistence), false)?,
        )?;
    }
    let overall = values(
        "All targets (z-score)".to_owned(),
        &evaluation.overall_lstm,
        &evaluation.overall_persistence,
    );
    let last = row(&overall, false)?;
    last.set_class_name("overall");
    append(table, &last)?;
    Ok(())
}

/// Sizes `canvas` to its layout width and returns a drawing area on it.
fn canvas_area(canvas: &HtmlCanvasElement) -> Result<DrawingArea<CanvasBackend, Shift>, WebError> {
    let width = match canvas.client_width() {
        width if width > 0 => width as u32,
        _ => FALLBACK_WIDTH_PX,
    };
    if canvas.width() != width {
        canvas.set_width(width);
    }
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or(WebError::Js {
        what: "drawing a chart",
        message: "the canvas has no 2D context".to_owned(),
    })?;
    Ok(backend.into_drawing_area())
}

// Taken by value so that it fits `map_err` directly.
#[allow(clippy::needless_pass_by_value)]
fn chart_error(error: ChartError) -> WebError {
    WebError::Js {
        what: "drawing a chart",
        message: error.to_string(),
    }
}

/// Draws the loss curves on `canvas`.
pub fn draw_loss(canvas: &HtmlCanvasElement, view: &LossView) -> Result<(), WebError> {
    let area = canvas_area(canvas)?;
    chart::draw_loss(&area, view).map_err(chart_error)?;
    area.present().map_err(|err| chart_error(err.into()))
}

/// Draws the live twin's chart on `canvas`.
pub fn draw_live(canvas: &HtmlCanvasElement, view: &chart::live::LiveView) -> Result<(), WebError> {
    let area = canvas_area(canvas)?;
    chart::live::draw_live(&area, view, &chart::ChartOptions::default()).map_err(chart_error)?;
    area.present().map_err(|err| chart_error(err.into()))
}

/// Draws the forecast against the actual series on `canvas`.
pub fn draw_forecast(canvas: &HtmlCanvasElement, view: &ForecastView) -> Result<(), WebError> {
    draw_forecast_with(canvas, view, &ChartOptions::default()).map(|_| ())
}

/// Draws the part of `view` that `options` shows on `canvas` and returns
/// where its plot lies, for reading pointer positions back as times.
pub fn draw_forecast_with(
    canvas: &HtmlCanvasElement,
    view: &ForecastView,
    options: &ChartOptions,
) -> Result<ChartLayout, WebError> {
    let area = canvas_area(canvas)?;
    let layout = chart::draw_forecast_with(&area, view, options).map_err(chart_error)?;
    area.present().map_err(|err| chart_error(err.into()))?;
    Ok(layout)
}

/// Fills `container` with the reports of the fleet files: each report's
/// summary lines under its title, then the true-RUL file, if one is loaded.
pub fn render_fleet_report(
    document: &Document,
    container: &Element,
    reports: &[(String, FleetReport)],
    true_rul: Option<(&str, usize)>,
) -> Result<(), WebError> {
    clear(container);
    for (title, report) in reports {
        append(container, &element_with_text(document, "h3", title)?)?;
        let list = document
            .create_element("ul")
            .map_err(|err| WebError::js("creating the report", &err))?;
        for line in report.summary_lines() {
            append(&list, &element_with_text(document, "li", &line)?)?;
        }
        append(container, &list)?;
    }
    if let Some((name, count)) = true_rul {
        let text = format!("True RUL at the last cycle: {name}, {count} value(s)");
        append(container, &element_with_text(document, "p", &text)?)?;
    }
    Ok(())
}

/// A table row of `cells`; the first cell (or every cell of a header row)
/// is a `<th>`.
pub(super) fn table_row(
    document: &Document,
    cells: &[String],
    header: bool,
) -> Result<Element, WebError> {
    let line = document
        .create_element("tr")
        .map_err(|err| WebError::js("creating a table", &err))?;
    for (index, text) in cells.iter().enumerate() {
        let tag = if header || index == 0 { "th" } else { "td" };
        let cell = element_with_text(document, tag, text)?;
        if tag == "th" {
            cell.set_attribute("scope", if header { "col" } else { "row" })
                .map_err(|err| WebError::js("creating a table", &err))?;
        }
        append(&line, &cell)?;
    }
    Ok(line)
}

/// Fills the RUL metrics `table`: RMSE, MAE and the PHM08 score at the last
/// cycle against the true RUL capped like the target and as given, and the
/// band's coverage.
pub fn render_rul_metrics(
    document: &Document,
    table: &Element,
    evaluation: &RulEvaluation,
    meta: &ModelMeta,
) -> Result<(), WebError> {
    clear(table);
    let Some(rul) = &meta.rul else {
        return Ok(());
    };
    let (Some(capped), Some(raw)) = (evaluation.last_capped, evaluation.last_uncapped) else {
        let note = "No true RUL is loaded for these units, so there is nothing to score.";
        append(table, &element_with_text(document, "caption", note)?)?;
        return Ok(());
    };
    let caption = format!(
        "Errors at each unit's last cycle ({} units), in cycles; lower is better. PHM08 score: \
         sum of exp(−d/13) − 1 for early and exp(d/10) − 1 for late predictions (d = predicted \
         − true).",
        capped.units
    );
    append(table, &element_with_text(document, "caption", &caption)?)?;
    let header = ["True RUL", "RMSE", "MAE", "PHM08 score"].map(str::to_owned);
    append(table, &table_row(document, &header, true)?)?;
    for (label, scores) in [
        (format!("capped at {}", rul.cap), capped),
        ("as given".to_owned(), raw),
    ] {
        let cells = [
            label,
            format_metric(scores.rmse),
            format_metric(scores.mae),
            format_metric(scores.score),
        ];
        append(table, &table_row(document, &cells, false)?)?;
    }
    if let Some(coverage) = evaluation.band_coverage {
        let cells = [
            format!("{:.0}% band", rul.band.level * 100.0),
            format!("covers {:.0}% of the capped true RUL", coverage * 100.0),
            String::new(),
            String::new(),
        ];
        append(table, &table_row(document, &cells, false)?)?;
    }
    Ok(())
}

/// Fills the fleet `table`: every unit ranked by predicted RUL at its last
/// cycle, the most urgent first. Each row carries `data-unit-index` (its
/// index into the evaluation's units) so a click can show its chart.
pub fn render_fleet_ranking(
    document: &Document,
    table: &Element,
    evaluation: &RulEvaluation,
    selected: usize,
) -> Result<(), WebError> {
    clear(table);
    let caption = "Fleet ranked by predicted remaining useful life, service the top first; \
                   click a row to see that unit";
    append(table, &element_with_text(document, "caption", caption)?)?;
    let header = [
        "Rank",
        "Unit",
        "Last cycle",
        "Predicted RUL",
        "Band",
        "True RUL",
    ]
    .map(str::to_owned);
    append(table, &table_row(document, &header, true)?)?;
    for (rank, estimate) in evaluation.ranking().iter().enumerate() {
        let Some(index) = evaluation
            .units
            .iter()
            .position(|u| u.unit == estimate.unit)
        else {
            continue;
        };
        let truth = evaluation.units[index]
            .truth
            .as_ref()
            .and_then(|t| t.last())
            .map_or_else(|| "—".to_owned(), |t| format!("{t:.0}"));
        let cells = [
            (rank + 1).to_string(),
            estimate.unit.to_string(),
            format!("{}", estimate.cycle),
            format!("{:.0}", estimate.rul),
            format!("{:.0}–{:.0}", estimate.lower, estimate.upper),
            truth,
        ];
        let row = table_row(document, &cells, false)?;
        row.set_attribute("data-unit-index", &index.to_string())
            .map_err(|err| WebError::js("creating a table", &err))?;
        if index == selected {
            row.set_class_name("selected");
            row.set_attribute("aria-selected", "true")
                .map_err(|err| WebError::js("creating a table", &err))?;
        }
        append(table, &row)?;
    }
    Ok(())
}

/// Fills the baseline `table`: every method on the same test windows, with
/// MAE, RMSE and MASE (z-scores), sMAPE (data units), skill against seasonal
/// naive and the coverage of its intervals; the best MAE is marked.
pub fn render_baselines(
    document: &Document,
    table: &Element,
    evaluation: &Evaluation,
) -> Result<(), WebError> {
    clear(table);
    let season = evaluation.season.map_or_else(
        || "no season found".to_owned(),
        |s| format!("season {s} steps"),
    );
    let caption = format!(
        "Every method on the same {} test windows (stride {}), z-scores; {season}; skill = 1 − \
         MAE / MAE(seasonal naive); {:.0}% split-conformal intervals",
        evaluation.windows,
        evaluation.stride,
        evaluation.level * 100.0
    );
    append(table, &element_with_text(document, "caption", &caption)?)?;
    let header = [
        "Method", "MAE", "RMSE", "MASE", "sMAPE %", "Skill", "Coverage",
    ]
    .map(str::to_owned);
    append(table, &table_row(document, &header, true)?)?;
    let optional = |value: Option<f64>| value.map_or_else(|| "—".to_owned(), format_metric);
    for method in &evaluation.methods {
        let overall = method.scores.overall;
        let cells = [
            crate::evidence::label(&method.name).to_owned(),
            format_metric(overall.mae),
            format_metric(overall.rmse),
            optional(overall.mase),
            optional(overall.smape),
            optional(method.skill_mae),
            optional(method.scores.interval.map(|i| i.coverage)),
        ];
        let row = table_row(document, &cells, false)?;
        if method.name == evaluation.verdict.best {
            row.set_class_name("best");
        }
        append(table, &row)?;
    }
    Ok(())
}
