//! The whole native path on a small synthetic series: ingest, train, score,
//! save, reload.

// Native only: these tests read files and block on futures.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write as _;

use burn::tensor::Device;
use twinlab::ingest::{self, Dataset, IngestOptions};
use twinlab::pipeline::{self, Setup, TrainedModel};
use twinlab::train::{Control, Progress, StopReason, block_on};

/// A two-channel CSV: a noisy sine (`load`) and a lagged, scaled copy
/// (`temp`), one row per minute.
fn fixture_csv(rows: usize) -> String {
    let mut csv = String::from("time,load,temp\n");
    let mut noise = 12_345u64;
    for t in 0..rows {
        noise = noise
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let jitter = ((noise >> 40) as f64 / f64::from(1u32 << 24) - 0.5) * 0.1;
        let phase = t as f64 * std::f64::consts::TAU / 24.0;
        let load = 10.0 + 3.0 * phase.sin() + jitter;
        let temp = 40.0 + 5.0 * (phase - 0.6).sin() + 0.5 * jitter;
        let epoch = 1_700_000_000 + 60 * t;
        writeln!(csv, "{epoch},{load:.4},{temp:.4}").expect("writing to a String cannot fail");
    }
    csv
}

fn dataset() -> Dataset {
    let csv = fixture_csv(1_200);
    ingest::parse("sine.csv", csv.as_bytes(), &IngestOptions::default())
        .expect("the fixture parses")
        .dataset
}

fn setup(dataset: &Dataset) -> Setup {
    let mut setup = Setup::suggest(dataset);
    setup.targets = vec!["temp".into()];
    setup.extra_inputs = vec!["load".into()];
    setup.lookback = 24;
    setup.horizon = 8;
    setup.hidden = 24;
    setup.training.epochs = 12;
    setup.training.batch_size = 32;
    setup.training.learning_rate = 5e-3;
    setup.training.patience = 12;
    setup.max_train_windows = 800;
    setup
}

#[test]
fn training_learns_and_beats_persistence_and_reloads() {
    let dataset = dataset();
    let setup = setup(&dataset);
    let device = Device::flex();
    let mut epochs = Vec::new();
    let model = block_on(pipeline::train(
        &dataset,
        &setup,
        &device,
        "cpu",
        async |p| {
            if let Progress::Epoch {
                validation_loss, ..
            } = p
            {
                epochs.push(validation_loss);
            }
            Control::Continue
        },
    ))
    .expect("training runs");

    let history = &model.meta.history;
    assert_eq!(history.stop, StopReason::EpochsDone);
    assert_eq!(epochs, history.validation_loss);
    assert!(
        history.best_validation_loss() < 0.25 * history.initial_validation_loss,
        "validation loss fell only from {} to {}",
        history.initial_validation_loss,
        history.best_validation_loss()
    );

    let evaluation = block_on(pipeline::evaluate(&model, &dataset, &device)).expect("scores");
    let score = &evaluation.targets[0];
    assert_eq!(score.channel, "temp");
    assert!(
        score.lstm.rmse < 0.5 * score.persistence.rmse,
        "LSTM RMSE {} vs persistence {}",
        score.lstm.rmse,
        score.persistence.rmse
    );
    assert_eq!(evaluation.views.len(), 1);
    // The chart shows back-to-back windows over the test part, each with
    // its interval; the scores use stride-1 windows.
    let view = &evaluation.views[0];
    assert_eq!(
        view.forecasts.len(),
        evaluation.test_rows.len() / setup.horizon
    );
    assert_eq!(view.bands.len(), view.forecasts.len());
    assert_eq!(evaluation.stride, 1);
    assert_eq!(
        evaluation.windows,
        evaluation.test_rows.len() - setup.horizon + 1,
        "every stride-1 test window is scored"
    );

    // Every baseline on the same windows, the LSTM first, and a verdict.
    let names: Vec<&str> = evaluation.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "lstm",
            "persistence",
            "seasonal_naive",
            "drift",
            "linear_ar"
        ]
    );
    assert!(
        evaluation
            .verdict
            .lstm_beats
            .contains(&"persistence".to_owned())
    );
    assert!(!evaluation.verdict.sentence.is_empty());
    let coverage = evaluation.methods[0]
        .scores
        .interval
        .expect("intervals")
        .coverage;
    assert!(
        (0.7..=1.0).contains(&coverage),
        "LSTM interval coverage {coverage}"
    );

    // Save, reload, and get the very same forecasts.
    let bytes = block_on(model.to_file_bytes()).expect("saves");
    let reloaded = block_on(TrainedModel::from_file_bytes(&bytes, &device)).expect("loads");
    assert_eq!(reloaded.meta, model.meta);
    let again = block_on(pipeline::evaluate(&reloaded, &dataset, &device)).expect("scores");
    assert_eq!(again.views, evaluation.views);
    assert_eq!(again.targets, evaluation.targets);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let dataset = dataset();
    let mut setup = setup(&dataset);
    setup.training.epochs = 2;
    setup.hidden = 8;
    let device = Device::flex();
    let run = || {
        block_on(pipeline::train(
            &dataset,
            &setup,
            &device,
            "cpu",
            async |_| Control::Continue,
        ))
        .expect("training runs")
        .meta
        .history
    };
    assert_eq!(run(), run());
}

#[test]
fn a_model_for_other_channels_is_refused_clearly() {
    let dataset = dataset();
    let mut setup = setup(&dataset);
    setup.training.epochs = 1;
    setup.hidden = 4;
    let device = Device::flex();
    let model = block_on(pipeline::train(
        &dataset,
        &setup,
        &device,
        "cpu",
        async |_| Control::Continue,
    ))
    .expect("training runs");

    let other = ingest::parse(
        "other.csv",
        b"time,pressure\n1,1.0\n2,2.0\n3,1.5\n4,3.0\n5,2.5\n6,2.0\n",
        &IngestOptions::default(),
    )
    .expect("parses")
    .dataset;
    let err = block_on(pipeline::evaluate(&model, &other, &device)).unwrap_err();
    assert!(err.to_string().contains("no channel `temp`"), "{err}");
}

#[test]
fn unknown_targets_and_damaged_model_files_are_errors() {
    let dataset = dataset();
    let device = Device::flex();
    let mut setup = setup(&dataset);
    setup.targets = vec!["vibration".into()];
    let err = block_on(pipeline::train(
        &dataset,
        &setup,
        &device,
        "cpu",
        async |_| Control::Continue,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("no channel `vibration`"), "{err}");

    // Format 1, 100 bytes of metadata announced, two present.
    let cut = b"TWINLAB\0\x01\0\0\0\x64\0\0\0{}";
    let err = block_on(TrainedModel::from_file_bytes(cut, &device)).unwrap_err();
    assert!(err.to_string().contains("cut short"), "{err}");

    let err = block_on(TrainedModel::from_file_bytes(b"TWINLAB\0garbage", &device)).unwrap_err();
    assert!(err.to_string().contains("format"), "{err}");
    let err = block_on(TrainedModel::from_file_bytes(b"PK\x03\x04", &device)).unwrap_err();
    assert!(
        err.to_string().contains("not a twinlab model file"),
        "{err}"
    );
}
