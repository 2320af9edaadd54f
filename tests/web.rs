//! Browser tests of the web layer (wasm-bindgen-test in headless Chromium):
//! the page ↔ worker messages as JavaScript sees them, backend selection,
//! the worker's jobs run on this thread, and drawing into the real DOM.
//!
//! Run with `wasm-bindgen-test-runner` as the wasm32 runner; `webdriver.json`
//! passes the flags that give Chromium a software WebGPU adapter.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;

use js_sys::Reflect;
use twinlab::chart::LossView;
use twinlab::evidence::Verdict;
use twinlab::ingest::{self, IngestOptions};
use twinlab::metrics::ErrorMetrics;
use twinlab::pipeline::{Evaluation, Setup, TargetScore};
use twinlab::train::{Progress, StopReason};
use twinlab::web::messages::{
    self, BackendChoice, BackendKind, BlobFile, FromWorker, LoadModelRequest, ParseRequest,
    ToWorker, TrainRequest,
};
use twinlab::web::{WebError, backend, view, worker};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

/// An hourly CSV of `rows` rows with the given channels, each a noisy sine.
fn sine_csv(rows: usize, channels: &[&str]) -> Vec<u8> {
    let mut text = format!("time,{}\n", channels.join(","));
    for row in 0..rows {
        let hour = row % 24;
        let day = row / 24 + 1;
        let _ = write!(text, "2024-01-{day:02} {hour:02}:00:00");
        for (index, _) in channels.iter().enumerate() {
            let phase = row as f32 * 0.26 + index as f32;
            let noise = ((row * 7919 + index * 104_729) % 97) as f32 / 970.0;
            let _ = write!(text, ",{:.4}", 10.0 + 3.0 * phase.sin() + noise);
        }
        text.push('\n');
    }
    text.into_bytes()
}

fn tiny_setup(csv: &[u8], targets: &[&str]) -> Setup {
    let ingested =
        ingest::parse("sine.csv", csv, &IngestOptions::default()).expect("fixture parses");
    let mut setup = Setup::suggest(&ingested.dataset);
    setup.targets = targets.iter().map(|name| (*name).to_owned()).collect();
    setup.extra_inputs = Vec::new();
    setup.lookback = 8;
    setup.horizon = 2;
    setup.hidden = 4;
    setup.training.epochs = 2;
    setup.training.batch_size = 32;
    setup
}

fn blob(bytes: &[u8]) -> Blob {
    BlobFile::from_bytes("data.csv", bytes)
        .expect("a blob")
        .data
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).expect("property read")
}

#[wasm_bindgen_test]
fn train_message_round_trips_with_its_data_file_as_a_blob() {
    let csv = sine_csv(120, &["temp"]);
    let message = ToWorker::Train(TrainRequest {
        name: "sine.csv".to_owned(),
        data: blob(&csv.clone()),
        max_bytes: 1 << 20,
        setup: tiny_setup(&csv, &["temp"]),
        backend: BackendChoice::Cpu,
    });

    let (value, transfer) = messages::encode(&message).expect("encodes");

    let body = get(&value, "train");
    assert_eq!(get(&body, "backend").as_string().as_deref(), Some("cpu"));
    let data = get(&body, "data");
    assert!(
        data.is_instance_of::<Blob>(),
        "the data file travels as the browser's Blob, not as bytes"
    );
    assert_eq!(data.unchecked_ref::<Blob>().size() as usize, csv.len());
    assert_eq!(transfer.length(), 0, "a Blob needs no transfer");
    let back: ToWorker = messages::decode(value).expect("decodes");
    assert_eq!(back, message);
}

#[wasm_bindgen_test]
async fn the_worker_reads_a_file_for_the_page_with_progress_and_no_values() {
    let csv = sine_csv(60_000, &["temp", "pressure"]);
    let request = ParseRequest {
        file: BlobFile::from_bytes("big.csv", &csv).expect("a blob"),
        max_bytes: 1 << 30,
    };
    let sent = RefCell::new(Vec::new());
    let parsed =
        worker::parse_for_page(&request, &|message| sent.borrow_mut().push(message.clone()))
            .await
            .expect("parses");
    assert_eq!(parsed.name, "big.csv");
    assert_eq!(parsed.rows, 60_000);
    assert_eq!(parsed.channels, ["temp", "pressure"]);
    assert_eq!(parsed.setup.targets, ["pressure"]);
    let done: Vec<usize> = sent
        .borrow()
        .iter()
        .filter_map(|message| match message {
            FromWorker::ParseProgress { progress } => Some(progress.bytes_done),
            _ => None,
        })
        .collect();
    assert!(done.len() >= 2, "progress was reported: {done:?}");
    assert!(done.windows(2).all(|pair| pair[0] <= pair[1]), "{done:?}");
    assert_eq!(done.last().copied(), Some(csv.len()));

    // A file over the limit is refused before it is read.
    let small = ParseRequest {
        max_bytes: 1000,
        ..request
    };
    let err = worker::parse_for_page(&small, &|_| {})
        .await
        .expect_err("too large");
    assert!(err.to_string().contains("big.csv"), "{err}");
}

#[wasm_bindgen_test]
fn progress_message_keeps_both_variants_and_its_numbers() {
    let message = FromWorker::Progress {
        progress: Progress::Epoch {
            epoch: 3,
            epochs: 20,
            train_loss: 0.25,
            validation_loss: f32::NAN,
            best_epoch: 2,
        },
    };

    let (value, transfer) = messages::encode(&message).expect("encodes");

    let progress = get(&get(&get(&value, "progress"), "progress"), "epoch");
    assert_eq!(get(&progress, "epochs").as_f64(), Some(20.0));
    assert_eq!(get(&progress, "train_loss").as_f64(), Some(0.25));
    assert_eq!(transfer.length(), 0);
    let back: FromWorker = messages::decode(value).expect("decodes");
    let FromWorker::Progress {
        progress:
            Progress::Epoch {
                epoch,
                validation_loss,
                ..
            },
    } = back
    else {
        panic!("decoded as {back:?}");
    };
    assert_eq!(epoch, 3);
    assert!(validation_loss.is_nan());
}

#[wasm_bindgen_test]
fn a_message_from_another_program_is_a_clear_error() {
    let value = js_sys::JSON::parse(r#"{"launch_rockets":{}}"#).expect("valid JSON");
    let error = messages::decode::<ToWorker>(value).expect_err("unknown type");
    assert!(matches!(error, WebError::Message(_)), "{error}");
    assert!(error.to_string().contains("launch_rockets"), "{error}");
}

#[wasm_bindgen_test]
async fn cpu_choice_runs_on_flex_and_says_why() {
    let selected = backend::select(BackendChoice::Cpu)
        .await
        .expect("the CPU is always there");
    assert_eq!(selected.info.kind, BackendKind::Cpu);
    assert_eq!(
        selected.info.describe(),
        "CPU (flex): chosen in the settings"
    );
}

#[wasm_bindgen_test]
async fn auto_choice_names_the_adapter_or_the_reason_for_the_cpu() {
    let selected = backend::select(BackendChoice::Auto)
        .await
        .expect("auto never fails");
    let info = selected.info;
    console_log!("auto backend: {}", info.describe());
    match info.kind {
        BackendKind::Webgpu => {
            assert!(info.label.starts_with("WebGPU ("), "{}", info.label);
            assert_eq!(info.reason, None);
        }
        BackendKind::Cpu => assert!(info.reason.is_some_and(|reason| !reason.is_empty())),
    }
}

#[wasm_bindgen_test]
async fn webgpu_forecast_agrees_with_the_cpu() {
    let report = backend::compare().await.expect("the comparison runs");
    console_log!("compare: {report:?}");
    if !report.webgpu {
        console_log!("skipped: no WebGPU here ({:?})", report.reason);
        return;
    }
    assert_eq!(report.values, 16);
    assert!(report.agrees(), "max difference {:?}", report.max_abs_diff);
}

#[wasm_bindgen_test]
async fn training_job_reports_progress_and_its_model_file_scores_the_same() {
    let csv = sine_csv(400, &["temp", "load"]);
    let request = TrainRequest {
        name: "sine.csv".to_owned(),
        data: blob(&csv.clone()),
        max_bytes: 1 << 20,
        setup: tiny_setup(&csv, &["temp"]),
        backend: BackendChoice::Cpu,
    };
    let sent = RefCell::new(Vec::new());
    let stop = Cell::new(false);

    let trained = worker::train(request, &stop, &|message| {
        sent.borrow_mut().push(message.clone());
    })
    .await
    .expect("trains");

    let sent = sent.into_inner();
    assert!(matches!(&sent[0], FromWorker::Backend(info) if info.kind == BackendKind::Cpu));
    let epochs = sent
        .iter()
        .filter(|m| {
            matches!(
                m,
                FromWorker::Progress {
                    progress: Progress::Epoch { .. }
                }
            )
        })
        .count();
    assert_eq!(epochs, trained.meta.history.train_loss.len());
    assert!(sent.len() > epochs + 1, "batch progress is reported too");
    assert_eq!(trained.meta.backend, "cpu");
    assert!(trained.model.starts_with(b"TWINLAB\0"));
    assert!(trained.evaluation.targets[0].lstm.count > 0);

    let request = LoadModelRequest {
        model: trained.model.clone(),
        name: "sine.csv".to_owned(),
        data: blob(&csv),
        max_bytes: 1 << 20,
        backend: BackendChoice::Cpu,
    };
    let evaluated = worker::load_model(request, &|_| {}).await.expect("loads");
    assert_eq!(evaluated.evaluation, trained.evaluation);
    assert_eq!(evaluated.meta, trained.meta);
}

#[wasm_bindgen_test]
async fn stop_flag_ends_training_after_the_first_batch() {
    let csv = sine_csv(400, &["temp"]);
    let mut setup = tiny_setup(&csv, &["temp"]);
    setup.training.epochs = 50;
    let request = TrainRequest {
        name: "sine.csv".to_owned(),
        data: blob(&csv),
        max_bytes: 1 << 20,
        setup,
        backend: BackendChoice::Cpu,
    };
    let batches = Cell::new(0);

    let trained = worker::train(request, &Cell::new(true), &|message| {
        if matches!(message, FromWorker::Progress { .. }) {
            batches.set(batches.get() + 1);
        }
    })
    .await
    .expect("a stopped run still gives a model");

    assert_eq!(batches.get(), 1);
    assert_eq!(trained.meta.history.stop, StopReason::Cancelled);
    assert_eq!(trained.meta.history.best_epoch, None);
}

#[wasm_bindgen_test]
async fn a_model_without_its_channel_in_the_data_is_refused_by_name() {
    let csv = sine_csv(300, &["temp"]);
    let request = TrainRequest {
        name: "sine.csv".to_owned(),
        data: blob(&csv.clone()),
        max_bytes: 1 << 20,
        setup: tiny_setup(&csv, &["temp"]),
        backend: BackendChoice::Cpu,
    };
    let trained = worker::train(request, &Cell::new(false), &|_| {})
        .await
        .expect("trains");

    let request = LoadModelRequest {
        model: trained.model,
        name: "pressure.csv".to_owned(),
        data: blob(&sine_csv(300, &["pressure"])),
        max_bytes: 1 << 20,
        backend: BackendChoice::Cpu,
    };
    let error = worker::load_model(request, &|_| {})
        .await
        .expect_err("does not fit");

    let message = error.to_string();
    assert!(message.contains("does not fit `pressure.csv`"), "{message}");
    assert!(message.contains("no channel `temp`"), "{message}");
    assert!(message.contains("trained on `sine.csv`"), "{message}");
}

#[wasm_bindgen_test]
async fn an_empty_file_is_refused_with_its_name() {
    let request = TrainRequest {
        name: "empty.csv".to_owned(),
        data: blob(&Vec::new()),
        max_bytes: 1 << 20,
        setup: tiny_setup(&sine_csv(100, &["temp"]), &["temp"]),
        backend: BackendChoice::Cpu,
    };
    let error = worker::train(request, &Cell::new(false), &|_| {})
        .await
        .expect_err("empty");
    assert_eq!(
        error.to_string(),
        "could not load `empty.csv`: the file is empty: there is nothing to read"
    );
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

#[wasm_bindgen_test]
fn metrics_table_has_a_row_per_target_and_a_z_score_row() {
    let document = document();
    let table = document.create_element("table").expect("table");
    let metrics = |mae, rmse| ErrorMetrics {
        mae,
        rmse,
        count: 40,
    };
    let evaluation = Evaluation {
        targets: vec![
            TargetScore {
                channel: "OT".to_owned(),
                lstm: metrics(1.234_56, 2.5),
                persistence: metrics(1.5, 3.25),
            },
            TargetScore {
                channel: "HUFL".to_owned(),
                lstm: metrics(0.012_34, 250.0),
                persistence: metrics(f64::NAN, 1234.5),
            },
        ],
        overall_lstm: metrics(0.5, 0.75),
        overall_persistence: metrics(0.6, 0.8),
        windows: 10,
        stride: 1,
        test_rows: 100..140,
        methods: Vec::new(),
        verdict: Verdict {
            best: "lstm".to_owned(),
            lstm_beats: vec!["persistence".to_owned()],
            lstm_loses_to: Vec::new(),
            sentence: "The LSTM has the lowest MAE.".to_owned(),
        },
        level: 0.9,
        season: None,
        views: Vec::new(),
    };

    view::render_metrics(&document, &table, &evaluation).expect("renders");

    let rows = table.query_selector_all("tr").expect("rows");
    assert_eq!(rows.length(), 4);
    let text = table.text_content().unwrap_or_default();
    for expected in [
        "rows 101–140",
        "OT (original units)",
        "1.235",
        "0.0123",
        "250.0",
        "1234",
        "—",
        "All targets (z-score)",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from {text}");
    }
}

#[wasm_bindgen_test]
fn loss_chart_draws_its_lines_on_a_canvas() {
    let document = document();
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .expect("canvas")
        .unchecked_into();
    canvas.set_height(200);
    let view = LossView {
        train: vec![1.0, 0.5, 0.3, 0.25],
        validation: vec![1.1, 0.6, 0.4, 0.45],
        best_epoch: Some(2),
    };

    view::draw_loss(&canvas, &view).expect("draws");

    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .expect("2d context")
        .unchecked_into();
    let pixels = context
        .get_image_data(
            0.0,
            0.0,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        )
        .expect("pixels")
        .data();
    let blue = pixels
        .chunks_exact(4)
        .filter(|p| p[0] < 40 && (90..140).contains(&p[1]) && (150..210).contains(&p[2]))
        .count();
    assert!(blue > 50, "{blue} pixels of the training-loss colour");
}
