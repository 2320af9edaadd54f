//! The forecast chart's interaction in the page: wheel and drag zoom, pan,
//! keyboard control, reset, the crosshair tooltip, the legend's toggles and
//! the PNG and CSV exports. The arithmetic (zoom, pan, readout, CSV) is the
//! core's `chart::interact`; this module only wires events to it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{
    AddEventListenerOptions, Blob, BlobPropertyBag, Document, Event, HtmlAnchorElement,
    HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent, PointerEvent, Url,
    WheelEvent,
};

use crate::chart::interact;
use crate::chart::{ChartLayout, ChartOptions, ForecastView, SeriesKind};

use super::WebError;
use super::dom::{self, by_id};

/// How much one wheel notch (100 units of `deltaY`) zooms.
const WHEEL_ZOOM: f64 = 1.25;

/// How far an arrow key pans, as a share of the shown range.
const KEY_PAN: f64 = 0.1;

/// Rows the screen-reader table of the shown forecast lists at most.
const TABLE_ROWS: usize = 300;

/// The legend's checkboxes: (series, element id).
const LEGEND: [(SeriesKind, &str); 4] = [
    (SeriesKind::Actual, "legend-actual"),
    (SeriesKind::Forecast, "legend-forecast"),
    (SeriesKind::Baseline, "legend-baseline"),
    (SeriesKind::Band, "legend-band"),
];

/// What the page gives the chart: the view on it and its interaction
/// state, and a way to redraw it.
pub trait ChartHost {
    /// The view on the chart (if any) and the interaction state.
    fn chart_parts(&mut self) -> (Option<&ForecastView>, &mut ChartState);
    /// Redraws the chart with the current options.
    fn redraw_chart(&mut self);
}

/// The chart's elements.
#[derive(Clone)]
pub struct ChartElements {
    document: Document,
    canvas: HtmlCanvasElement,
    tooltip: HtmlElement,
    crosshair: HtmlElement,
    reset: HtmlElement,
    export_png: HtmlElement,
    export_csv: HtmlElement,
    table: web_sys::Element,
    legend: Vec<(SeriesKind, HtmlInputElement)>,
}

impl ChartElements {
    /// Finds the chart's elements in `index.html`.
    pub fn find(document: &Document) -> Result<Self, WebError> {
        let legend = LEGEND
            .iter()
            .map(|&(kind, id)| Ok((kind, by_id::<HtmlInputElement>(document, id)?)))
            .collect::<Result<Vec<_>, WebError>>()?;
        Ok(Self {
            document: document.clone(),
            canvas: by_id(document, "forecast-chart")?,
            tooltip: by_id(document, "chart-tooltip")?,
            crosshair: by_id(document, "chart-crosshair")?,
            reset: by_id(document, "chart-reset")?,
            export_png: by_id(document, "chart-export-png")?,
            export_csv: by_id(document, "chart-export-csv")?,
            table: by_id(document, "forecast-table")?,
            legend,
        })
    }
}

/// The chart's interaction state.
#[derive(Default)]
pub struct ChartState {
    /// The shown range and hidden series.
    pub options: ChartOptions,
    /// Where the last drawing put the plot.
    pub layout: Cell<Option<ChartLayout>>,
    /// A drag in progress: the pointer's start x and the range then.
    drag: Option<(f64, (f64, f64))>,
}

impl ChartState {
    /// Whether a drag is under way (the page skips slow work while it is).
    #[must_use]
    pub fn dragging(&self) -> bool {
        self.drag.is_some()
    }
}

impl ChartState {
    /// Shows the whole view again (a new result, or another target).
    pub fn reset_range(&mut self) {
        self.options.x_range = None;
        self.drag = None;
    }
}

/// The pointer's x within `canvas`, in canvas pixels.
fn canvas_x(canvas: &HtmlCanvasElement, event: &MouseEvent) -> f64 {
    let rect = canvas.get_bounding_client_rect();
    let scale = if rect.width() > 0.0 {
        f64::from(canvas.width()) / rect.width()
    } else {
        1.0
    };
    (f64::from(event.client_x()) - rect.left()) * scale
}

/// Applies `change` to the shown range (starting from the whole data range)
/// and redraws.
fn change_range<H: ChartHost>(
    host: &Rc<RefCell<H>>,
    change: impl Fn((f64, f64), (f64, f64)) -> (f64, f64),
) {
    let mut host = host.borrow_mut();
    let (view, state) = host.chart_parts();
    let Some(bounds) = view.and_then(interact::data_range) else {
        return;
    };
    let range = state.options.x_range.unwrap_or(bounds);
    state.options.x_range = Some(change(range, bounds));
    host.redraw_chart();
}

fn hide_tooltip(el: &ChartElements) {
    el.tooltip.set_hidden(true);
    el.crosshair.set_hidden(true);
}

/// Shows the values under the pointer at canvas x `px`.
fn show_tooltip(el: &ChartElements, view: &ForecastView, state: &ChartState, px: f64) {
    let Some(layout) = state.layout.get() else {
        return hide_tooltip(el);
    };
    let Some(point) = layout
        .x_at(px)
        .and_then(|x| interact::readout(view, &state.options, x))
    else {
        return hide_tooltip(el);
    };
    el.tooltip
        .set_inner_text(&point.lines(&view.labels).join("\n"));
    el.tooltip.set_hidden(false);
    // Place the crosshair at the point's time, the box beside it.
    let span = layout.x_range.1 - layout.x_range.0;
    let share = if span > 0.0 {
        (point.time_secs - layout.x_range.0) / span
    } else {
        0.5
    };
    let plot_px = f64::from(layout.plot_left_px)
        + share * f64::from(layout.plot_right_px - layout.plot_left_px);
    let css_px =
        plot_px * f64::from(el.canvas.client_width()) / f64::from(el.canvas.width().max(1));
    let style = el.crosshair.style();
    let _ = style.set_property("left", &format!("{css_px:.0}px"));
    let _ = style.set_property("top", &format!("{}px", layout.plot_top_px));
    let _ = style.set_property(
        "height",
        &format!("{}px", layout.plot_bottom_px - layout.plot_top_px),
    );
    el.crosshair.set_hidden(false);
    let right_half = share > 0.5;
    let tip = el.tooltip.style();
    let _ = tip.set_property(
        "left",
        &format!(
            "{:.0}px",
            if right_half {
                css_px - 8.0
            } else {
                css_px + 8.0
            }
        ),
    );
    let _ = tip.set_property(
        "transform",
        if right_half {
            "translateX(-100%)"
        } else {
            "none"
        },
    );
    let _ = tip.set_property("top", &format!("{}px", layout.plot_top_px + 8));
    log::trace!("readout at {}: {:?}", point.time_secs, point.actual);
}

/// Offers `blob` for download as `name`.
pub(super) fn download(document: &Document, blob: &Blob, name: &str) -> Result<(), WebError> {
    let url = Url::create_object_url_with_blob(blob)
        .map_err(|err| WebError::js("preparing the download", &err))?;
    let anchor: HtmlAnchorElement = document
        .create_element("a")
        .map_err(|err| WebError::js("preparing the download", &err))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// The name of an export of `view`: its channel, made safe for file names.
fn export_name(view: &ForecastView, extension: &str) -> String {
    let safe: String = view
        .channel
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    format!(
        "twinlab-{}-forecast.{extension}",
        if safe.is_empty() { "chart" } else { &safe }
    )
}

fn export_csv(
    el: &ChartElements,
    view: &ForecastView,
    options: &ChartOptions,
) -> Result<(), WebError> {
    let csv = interact::to_csv(view, options);
    let parts = Array::of1(&JsValue::from_str(&csv));
    let type_ = BlobPropertyBag::new();
    type_.set_type("text/csv");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &type_)
        .map_err(|err| WebError::js("exporting the data", &err))?;
    download(&el.document, &blob, &export_name(view, "csv"))
}

fn export_png(el: &ChartElements, view: &ForecastView) -> Result<(), WebError> {
    let url = el
        .canvas
        .to_data_url_with_type("image/png")
        .map_err(|err| WebError::js("exporting the chart", &err))?;
    let anchor: HtmlAnchorElement = el
        .document
        .create_element("a")
        .map_err(|err| WebError::js("exporting the chart", &err))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(&export_name(view, "png"));
    anchor.click();
    Ok(())
}

/// Fills the screen-reader table with the shown data (the first
/// [`TABLE_ROWS`] rows of the CSV export).
pub fn render_table(el: &ChartElements, view: Option<&ForecastView>, options: &ChartOptions) {
    dom::clear(&el.table);
    let Some(view) = view else {
        return;
    };
    let csv = interact::to_csv(view, options);
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return;
    };
    let row = |cells: Vec<String>, tag: &str| -> Result<web_sys::Element, WebError> {
        let tr = el
            .document
            .create_element("tr")
            .map_err(|err| WebError::js("making the table", &err))?;
        for cell in cells {
            dom::append(&tr, &dom::element_with_text(&el.document, tag, &cell)?)?;
        }
        Ok(tr)
    };
    let split = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|cell| cell.trim_matches('"').to_owned())
            .collect()
    };
    let mut rows = vec![row(split(header), "th")];
    rows.extend(lines.take(TABLE_ROWS).map(|line| row(split(line), "td")));
    for tr in rows.into_iter().flatten() {
        let _ = dom::append(&el.table, &tr);
    }
}

/// Installs every handler of the chart on `host`.
pub fn install<H: ChartHost + 'static>(
    host: &Rc<RefCell<H>>,
    el: &ChartElements,
) -> Result<(), WebError> {
    install_wheel(host, el)?;
    install_pointer(host, el)?;
    install_keys(host, el)?;
    install_legend_and_exports(host, el)
}

/// The wheel zooms around the pointer; the page must not scroll.
fn install_wheel<H: ChartHost + 'static>(
    host: &Rc<RefCell<H>>,
    el: &ChartElements,
) -> Result<(), WebError> {
    let canvas = el.canvas.clone();
    let shared = Rc::clone(host);
    let target = canvas.clone();
    let on_wheel = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let Some(wheel) = event.dyn_ref::<WheelEvent>() else {
            return;
        };
        event.prevent_default();
        let Some(layout) = shared.borrow_mut().chart_parts().1.layout.get() else {
            return;
        };
        let anchor = layout.share_at(canvas_x(&target, wheel));
        let factor = WHEEL_ZOOM.powf(wheel.delta_y() / 100.0);
        change_range(&shared, |range, bounds| {
            interact::zoom(range, anchor, factor, bounds)
        });
    });
    let options = AddEventListenerOptions::new();
    options.set_passive(false);
    canvas
        .add_event_listener_with_callback_and_add_event_listener_options(
            "wheel",
            on_wheel.as_ref().unchecked_ref(),
            &options,
        )
        .map_err(|err| WebError::js("adding an event handler", &err))?;
    on_wheel.forget();
    Ok(())
}

/// Dragging pans, hovering shows the tooltip, double-click and the reset
/// button show everything again.
fn install_pointer<H: ChartHost + 'static>(
    host: &Rc<RefCell<H>>,
    el: &ChartElements,
) -> Result<(), WebError> {
    let canvas = el.canvas.clone();
    let shared = Rc::clone(host);
    let target = canvas.clone();
    dom::listen(&canvas, "pointerdown", move |event| {
        let Some(pointer) = event.dyn_ref::<PointerEvent>() else {
            return;
        };
        let mut host = shared.borrow_mut();
        let (view, state) = host.chart_parts();
        let Some(bounds) = view.and_then(interact::data_range) else {
            return;
        };
        let range = state.options.x_range.unwrap_or(bounds);
        state.drag = Some((canvas_x(&target, pointer), range));
        let _ = target.set_pointer_capture(pointer.pointer_id());
    })?;

    let shared = Rc::clone(host);
    let target = canvas.clone();
    let elements = el.clone();
    dom::listen(&canvas, "pointermove", move |event| {
        let Some(pointer) = event.dyn_ref::<PointerEvent>() else {
            return;
        };
        let px = canvas_x(&target, pointer);
        let (drag, layout) = {
            let mut host = shared.borrow_mut();
            let state = host.chart_parts().1;
            (state.drag, state.layout.get())
        };
        if let Some((start_px, start_range)) = drag {
            if let Some(layout) = layout {
                let width = f64::from(layout.plot_right_px - layout.plot_left_px).max(1.0);
                let share = (start_px - px) / width;
                hide_tooltip(&elements);
                change_range(&shared, |_, bounds| {
                    interact::pan(start_range, share, bounds)
                });
            }
            return;
        }
        let mut host = shared.borrow_mut();
        match host.chart_parts() {
            (Some(view), state) => show_tooltip(&elements, view, state, px),
            (None, _) => hide_tooltip(&elements),
        }
    })?;

    for ending in ["pointerup", "pointercancel"] {
        let shared = Rc::clone(host);
        dom::listen(&canvas, ending, move |_| {
            let mut host = shared.borrow_mut();
            // Redraw once more so what is skipped while dragging (the
            // table) catches up.
            if host.chart_parts().1.drag.take().is_some() {
                host.redraw_chart();
            }
        })?;
    }
    let elements = el.clone();
    dom::listen(&canvas, "pointerleave", move |_| hide_tooltip(&elements))?;

    // Double-click and the reset button show everything again.
    for (target, name) in [
        (canvas.clone().unchecked_into::<HtmlElement>(), "dblclick"),
        (el.reset.clone(), "click"),
    ] {
        let shared = Rc::clone(host);
        dom::listen(&target, name, move |_| {
            let mut host = shared.borrow_mut();
            host.chart_parts().1.reset_range();
            host.redraw_chart();
        })?;
    }

    Ok(())
}

/// A change of the shown range, from the range and the data's bounds.
type RangeChange = Box<dyn Fn((f64, f64), (f64, f64)) -> (f64, f64)>;

/// Keyboard: arrows pan, + and - zoom, 0 or Home resets.
fn install_keys<H: ChartHost + 'static>(
    host: &Rc<RefCell<H>>,
    el: &ChartElements,
) -> Result<(), WebError> {
    let shared = Rc::clone(host);
    let canvas = el.canvas.clone();
    dom::listen(&canvas, "keydown", move |event| {
        let Some(key) = event.dyn_ref::<KeyboardEvent>().map(KeyboardEvent::key) else {
            return;
        };
        let change: Option<RangeChange> = match key.as_str() {
            "ArrowLeft" => Some(Box::new(|r, b| interact::pan(r, -KEY_PAN, b))),
            "ArrowRight" => Some(Box::new(|r, b| interact::pan(r, KEY_PAN, b))),
            "+" | "=" => Some(Box::new(|r, b| interact::zoom(r, 0.5, 0.8, b))),
            "-" | "_" => Some(Box::new(|r, b| interact::zoom(r, 0.5, 1.25, b))),
            "0" | "Home" => Some(Box::new(|_, b| b)),
            _ => None,
        };
        if let Some(change) = change {
            event.prevent_default();
            change_range(&shared, change);
        }
    })?;

    Ok(())
}

/// The legend's checkboxes show and hide series; the export buttons save
/// what is shown.
fn install_legend_and_exports<H: ChartHost + 'static>(
    host: &Rc<RefCell<H>>,
    el: &ChartElements,
) -> Result<(), WebError> {
    for (kind, input) in &el.legend {
        let shared = Rc::clone(host);
        let (kind, checkbox) = (*kind, input.clone());
        dom::listen(input, "change", move |_| {
            let mut host = shared.borrow_mut();
            host.chart_parts()
                .1
                .options
                .hidden
                .set(kind, !checkbox.checked());
            host.redraw_chart();
        })?;
    }

    // Exports of what is shown.
    let shared = Rc::clone(host);
    let elements = el.clone();
    dom::listen(&el.export_png, "click", move |_| {
        if let (Some(view), _) = shared.borrow_mut().chart_parts()
            && let Err(err) = export_png(&elements, view)
        {
            log::error!("{err}");
        }
    })?;
    let shared = Rc::clone(host);
    let elements = el.clone();
    dom::listen(&el.export_csv, "click", move |_| {
        let mut host = shared.borrow_mut();
        if let (Some(view), state) = host.chart_parts()
            && let Err(err) = export_csv(&elements, view, &state.options)
        {
            log::error!("{err}");
        }
    })?;
    Ok(())
}
