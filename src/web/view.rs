//! Drawing state into the page: the data report, the metrics table and the
//! two charts. Nothing here holds state; each function redraws its part
//! from the values it is given.

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters_canvas::CanvasBackend;
use web_sys::{Document, Element, HtmlCanvasElement};

use crate::chart::{self, ChartError, ForecastView, LossView};
use crate::ingest::DataReport;
use crate::metrics::ErrorMetrics;
use crate::pipeline::Evaluation;

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

/// Draws the forecast against the actual series on `canvas`.
pub fn draw_forecast(canvas: &HtmlCanvasElement, view: &ForecastView) -> Result<(), WebError> {
    let area = canvas_area(canvas)?;
    chart::draw_forecast(&area, view).map_err(chart_error)?;
    area.present().map_err(|err| chart_error(err.into()))
}
