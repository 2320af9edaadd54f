//! The page's elements, found once by id, and the parts of the page that
//! are plain form handling: the demo selector, the setup form, the busy
//! state and the download link.

use wasm_bindgen::JsCast;
use web_sys::{
    Document, Element, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement,
    HtmlFormElement, HtmlInputElement, HtmlOptionElement, HtmlProgressElement, HtmlSelectElement,
};

use crate::chart::ForecastView;
use crate::ingest::Fleet;
use crate::pipeline::Setup;
use crate::rul::{RulSetup, UnitPrediction};

use super::WebError;
use super::dom::{self, by_id};
use super::messages::BackendChoice;

/// A built-in dataset.
#[derive(Debug)]
pub struct Demo {
    /// The `value` of its `<option>` and of its credit's `data-demo`.
    pub key: &'static str,
    /// Where it is, relative to the page.
    pub url: &'static str,
    /// Its file name, shown as the dataset's name.
    pub file_name: &'static str,
}

/// Limits of the numbers in the setup form: (least, most).
const LOOKBACK_RANGE: (usize, usize) = (1, 2_000);
const HORIZON_RANGE: (usize, usize) = (1, 1_000);
/// A RUL window of 0 reads each unit's whole history.
const RUL_WINDOW_RANGE: (usize, usize) = (0, 2_000);
const EPOCHS_RANGE: (usize, usize) = (1, 1_000);
const HIDDEN_RANGE: (usize, usize) = (1, 512);
const CAP_RANGE: (usize, usize) = (1, 10_000);

/// Rows shown by the target list before it scrolls.
const TARGET_LIST_ROWS: u32 = 6;

/// The page's elements.
#[derive(Clone)]
pub struct Elements {
    pub document: Document,
    pub error: HtmlElement,
    pub status: HtmlElement,
    pub demo_select: HtmlSelectElement,
    pub dataset_input: HtmlInputElement,
    pub drop_zone: HtmlElement,
    pub attribution: HtmlElement,
    pub report: Element,
    pub setup_form: HtmlFormElement,
    pub targets: HtmlSelectElement,
    pub lookback: HtmlInputElement,
    pub horizon: HtmlInputElement,
    pub epochs: HtmlInputElement,
    pub hidden: HtmlInputElement,
    pub backend_select: HtmlSelectElement,
    pub train: HtmlButtonElement,
    pub stop: HtmlButtonElement,
    pub backend_label: HtmlElement,
    pub check_backends: HtmlButtonElement,
    pub backend_check: HtmlElement,
    pub progress: HtmlProgressElement,
    pub progress_text: HtmlElement,
    pub loss_chart: HtmlCanvasElement,
    pub view_select: HtmlSelectElement,
    pub view_field: HtmlElement,
    pub forecast_chart: HtmlCanvasElement,
    pub metrics: Element,
    pub verdict: HtmlElement,
    pub baselines: Element,
    pub download: HtmlAnchorElement,
    pub model_input: HtmlInputElement,
    pub task_select: HtmlSelectElement,
    pub test_fleet_input: HtmlInputElement,
    pub rul_file_input: HtmlInputElement,
    pub sensors: HtmlSelectElement,
    pub window: HtmlInputElement,
    pub cap: HtmlInputElement,
    pub rul_metrics: Element,
    pub rul_fleet: Element,
    pub rul_unit_select: HtmlSelectElement,
    pub rul_chart: HtmlCanvasElement,
}

impl Elements {
    /// The id of the error box (also used by the panic hook).
    pub const ERROR_ID: &'static str = "error-message";

    /// The built-in datasets; the first is loaded when the page opens.
    pub const DEMOS: [Demo; 2] = [
        Demo {
            key: "ett",
            url: "data/ett/ETTh2.csv",
            file_name: "ETTh2.csv",
        },
        Demo {
            key: "nab",
            url: "data/nab/machine_temperature_system_failure.csv",
            file_name: "machine_temperature_system_failure.csv",
        },
    ];

    /// Finds every element, or says which one `index.html` lacks.
    pub fn find(document: &Document) -> Result<Self, WebError> {
        Ok(Self {
            document: document.clone(),
            error: by_id(document, Self::ERROR_ID)?,
            status: by_id(document, "status")?,
            demo_select: by_id(document, "demo-select")?,
            dataset_input: by_id(document, "dataset-input")?,
            drop_zone: by_id(document, "drop-zone")?,
            attribution: by_id(document, "attribution")?,
            report: by_id(document, "data-report")?,
            setup_form: by_id(document, "setup-form")?,
            targets: by_id(document, "target-select")?,
            lookback: by_id(document, "lookback-input")?,
            horizon: by_id(document, "horizon-input")?,
            epochs: by_id(document, "epochs-input")?,
            hidden: by_id(document, "hidden-input")?,
            backend_select: by_id(document, "backend-select")?,
            train: by_id(document, "train-button")?,
            stop: by_id(document, "stop-button")?,
            backend_label: by_id(document, "backend-label")?,
            check_backends: by_id(document, "check-backends-button")?,
            backend_check: by_id(document, "backend-check")?,
            progress: by_id(document, "progress")?,
            progress_text: by_id(document, "progress-text")?,
            loss_chart: by_id(document, "loss-chart")?,
            view_select: by_id(document, "view-select")?,
            view_field: by_id(document, "view-field")?,
            forecast_chart: by_id(document, "forecast-chart")?,
            metrics: by_id(document, "metrics-table")?,
            verdict: by_id(document, "verdict")?,
            baselines: by_id(document, "baseline-table")?,
            download: by_id(document, "model-download")?,
            model_input: by_id(document, "model-input")?,
            task_select: by_id(document, "task-select")?,
            test_fleet_input: by_id(document, "test-fleet-input")?,
            rul_file_input: by_id(document, "rul-file-input")?,
            sensors: by_id(document, "sensor-select")?,
            window: by_id(document, "window-input")?,
            cap: by_id(document, "cap-input")?,
            rul_metrics: by_id(document, "rul-metrics")?,
            rul_fleet: by_id(document, "rul-fleet")?,
            rul_unit_select: by_id(document, "rul-unit-select")?,
            rul_chart: by_id(document, "rul-chart")?,
        })
    }

    /// The demo chosen in the selector, if a demo is chosen.
    pub fn selected_demo(&self) -> Option<&'static Demo> {
        let key = self.demo_select.value();
        Self::DEMOS.iter().find(|demo| demo.key == key)
    }

    /// Points the selector at what is loaded (a demo, or the user's file
    /// called `name`) and shows the matching data credit.
    pub fn show_source(&self, source: Option<(Option<&'static Demo>, &str)>) {
        let key = match source {
            Some((Some(demo), _)) => demo.key,
            Some((None, name)) => {
                let option = self
                    .document
                    .query_selector("#demo-select option[value=file]")
                    .ok()
                    .flatten();
                if let Some(option) = option {
                    option.set_text_content(Some(&format!("Your file: {name}")));
                }
                "file"
            }
            None => "",
        };
        self.demo_select.set_value(key);
        self.show_credit(key);
    }

    /// Shows the data credit of demo `key` only.
    fn show_credit(&self, key: &str) {
        let credits = self.attribution.children();
        for index in 0..credits.length() {
            if let Some(credit) = credits.item(index) {
                let shown = credit.get_attribute("data-demo").as_deref() == Some(key);
                if let Some(credit) = credit.dyn_ref::<HtmlElement>() {
                    credit.set_hidden(!shown);
                }
            }
        }
    }

    /// Shows every element whose `data-task` is `key` and hides those of
    /// the other task.
    pub fn show_task(&self, key: &str) {
        self.task_select.set_value(key);
        let Ok(nodes) = self.document.query_selector_all("[data-task]") else {
            return;
        };
        for index in 0..nodes.length() {
            if let Some(element) = nodes
                .item(index)
                .and_then(|n| n.dyn_into::<HtmlElement>().ok())
            {
                // A space-separated list of the tasks that show the element.
                let shown = element
                    .get_attribute("data-task")
                    .is_some_and(|tasks| tasks.split_whitespace().any(|task| task == key));
                element.set_hidden(!shown);
            }
        }
    }

    /// Points the selector at the fleet demo, or at the user's fleet file.
    pub fn show_fleet_source(&self, demo: bool, name: Option<&str>) {
        if demo {
            self.demo_select.set_value("fd001");
            self.show_credit("fd001");
        } else {
            self.show_source(name.map(|name| (None, name)));
        }
    }

    /// Disables what must not change while the worker runs a job; the Stop
    /// button only while it trains.
    pub fn set_busy(&self, busy: bool, training: bool) {
        self.demo_select.set_disabled(busy);
        self.task_select.set_disabled(busy);
        self.dataset_input.set_disabled(busy);
        self.test_fleet_input.set_disabled(busy);
        self.rul_file_input.set_disabled(busy);
        self.model_input.set_disabled(busy);
        self.train.set_disabled(busy);
        self.stop.set_disabled(!training);
        self.setup_form
            .set_attribute("aria-busy", if busy { "true" } else { "false" })
            .ok();
    }

    /// Fills the setup form with `setup`'s values and the dataset's
    /// `channels`.
    pub fn fill_setup(&self, channels: &[String], setup: &Setup) {
        dom::clear(&self.targets);
        for channel in channels {
            let selected = setup.targets.contains(channel);
            if let Ok(option) =
                HtmlOptionElement::new_with_text_and_value_and_default_selected_and_selected(
                    channel, channel, selected, selected,
                )
            {
                let _ = self.targets.append_child(&option);
            }
        }
        let rows = (channels.len() as u32).clamp(2, TARGET_LIST_ROWS);
        self.targets.set_size(rows);
        self.lookback.set_value(&setup.lookback.to_string());
        self.horizon.set_value(&setup.horizon.to_string());
        self.epochs.set_value(&setup.training.epochs.to_string());
        self.hidden.set_value(&setup.hidden.to_string());
    }

    /// Reads the setup form: the `suggested` setup ([`Setup::suggest`] of
    /// the dataset with these `channels`) with the user's changes.
    pub fn read_setup(&self, channels: &[String], suggested: &Setup) -> Result<Setup, WebError> {
        let mut setup = suggested.clone();
        let options = self.targets.selected_options();
        let targets: Vec<String> = (0..options.length())
            .filter_map(|index| options.item(index))
            .filter_map(|option| option.dyn_into::<HtmlOptionElement>().ok())
            .map(|option| option.value())
            .collect();
        if targets.is_empty() {
            return Err(WebError::Input(
                "choose at least one target channel".to_owned(),
            ));
        }
        // Wide files feed only the targets by default; otherwise every
        // other channel is an input too.
        let wide = setup.extra_inputs.is_empty() && channels.len() > 1;
        setup.extra_inputs = if wide {
            Vec::new()
        } else {
            channels
                .iter()
                .filter(|name| !targets.contains(name))
                .cloned()
                .collect()
        };
        setup.targets = targets;
        setup.lookback = read_count(&self.lookback, "Look-back", LOOKBACK_RANGE)?;
        setup.horizon = read_count(&self.horizon, "Horizon", HORIZON_RANGE)?;
        setup.training.epochs = read_count(&self.epochs, "Epochs", EPOCHS_RANGE)?;
        setup.hidden = read_count(&self.hidden, "Hidden units", HIDDEN_RANGE)?;
        Ok(setup)
    }

    /// The backend chosen in the form.
    pub fn backend_choice(&self) -> BackendChoice {
        BackendChoice::from_form_value(&self.backend_select.value())
    }

    /// Fills the RUL part of the setup form from `setup` and the fleet's
    /// channels (the cycle column is offered too, as the unit's age).
    pub fn fill_rul_setup(&self, fleet: &Fleet, setup: &RulSetup) {
        dom::clear(&self.sensors);
        let names = fleet
            .channel_names
            .iter()
            .filter(|name| !fleet.constant_channels.contains(name))
            .chain(std::iter::once(&fleet.cycle_column));
        let mut count = 0;
        for name in names {
            let selected = setup.inputs.contains(name);
            let label = if *name == fleet.cycle_column {
                format!("{name} (age in cycles)")
            } else {
                name.clone()
            };
            if let Ok(option) =
                HtmlOptionElement::new_with_text_and_value_and_default_selected_and_selected(
                    &label, name, selected, selected,
                )
            {
                let _ = self.sensors.append_child(&option);
                count += 1;
            }
        }
        self.sensors.set_size((count as u32).clamp(2, 8));
        self.window.set_value(&setup.window.to_string());
        self.cap.set_value(&format!("{}", setup.cap));
        self.epochs.set_value(&setup.training.epochs.to_string());
        self.hidden.set_value(&setup.hidden.to_string());
    }

    /// Reads the RUL setup: [`RulSetup::suggest`] with the user's changes.
    pub fn read_rul_setup(&self, fleet: &Fleet) -> Result<RulSetup, WebError> {
        let mut setup = RulSetup::suggest(fleet);
        let options = self.sensors.selected_options();
        let inputs: Vec<String> = (0..options.length())
            .filter_map(|index| options.item(index))
            .filter_map(|option| option.dyn_into::<HtmlOptionElement>().ok())
            .map(|option| option.value())
            .collect();
        if inputs.is_empty() {
            return Err(WebError::Input("choose at least one sensor".to_owned()));
        }
        setup.inputs = inputs;
        setup.window = read_count(&self.window, "Window", RUL_WINDOW_RANGE)?;
        let cap = read_count(&self.cap, "RUL cap", CAP_RANGE)?;
        setup.cap = cap as f32;
        setup.training.epochs = read_count(&self.epochs, "Epochs", EPOCHS_RANGE)?;
        setup.hidden = read_count(&self.hidden, "Hidden units", HIDDEN_RANGE)?;
        Ok(setup)
    }

    /// Lists the predicted units in the unit selector.
    pub fn fill_units(&self, units: &[UnitPrediction], selected: usize) {
        dom::clear(&self.rul_unit_select);
        for (index, unit) in units.iter().enumerate() {
            let text = format!("Unit {}", unit.unit);
            if let Ok(option) =
                HtmlOptionElement::new_with_text_and_value_and_default_selected_and_selected(
                    &text,
                    &index.to_string(),
                    index == selected,
                    index == selected,
                )
            {
                let _ = self.rul_unit_select.append_child(&option);
            }
        }
        self.rul_unit_select.set_disabled(units.is_empty());
    }

    /// Lists the forecast views in the view selector, shown only when
    /// there is more than one.
    pub fn fill_views(&self, views: &[ForecastView]) {
        dom::clear(&self.view_select);
        for (index, view) in views.iter().enumerate() {
            let value = index.to_string();
            if let Ok(option) = HtmlOptionElement::new_with_text_and_value(&view.channel, &value) {
                let _ = self.view_select.append_child(&option);
            }
        }
        self.view_field.set_hidden(views.len() < 2);
    }

    /// Points the download link at `url`, saved as `file_name`.
    pub fn show_download(&self, url: &str, file_name: &str) {
        self.download.set_href(url);
        self.download.set_download(file_name);
        self.download
            .set_text_content(Some(&format!("Download the model ({file_name})")));
        self.download.set_hidden(false);
    }
}

/// Reads a whole number between `range.0` and `range.1` from `input`.
fn read_count(
    input: &HtmlInputElement,
    label: &str,
    range: (usize, usize),
) -> Result<usize, WebError> {
    let text = input.value();
    match text.trim().parse::<usize>() {
        Ok(value) if (range.0..=range.1).contains(&value) => Ok(value),
        _ => Err(WebError::Input(format!(
            "{label} must be a whole number from {} to {} (it is `{text}`)",
            range.0, range.1
        ))),
    }
}
