//! Fuzzes `ingest::parse` and the preprocessing that follows it.
//!
//! Any input must give either an error with a message or a dataset that
//! keeps the promises of `ingest::Dataset`: at least two rows, time finite
//! and strictly increasing, every channel as long as the time axis and
//! finite. On such a dataset the page's next steps (suggested setup,
//! chronological split, normalisation fitted on the training part, windows
//! with a small look-back and horizon) must not panic and must give finite
//! statistics (they go into the model file as JSON, which has no NaN).

#![no_main]

use libfuzzer_sys::fuzz_target;
use twinlab::ingest::{self, Dataset, IngestOptions, Ingested};
use twinlab::pipeline::Setup;
use twinlab::prep::{self, Normalizer, Split, WindowSpec};

fuzz_target!(|bytes: &[u8]| {
    match ingest::parse("fuzz.csv", bytes, &IngestOptions::default()) {
        Ok(done) => {
            check_ingested(&done);
            prepare(&done.dataset);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});

/// The promises of a parsed dataset and its report.
fn check_ingested(done: &Ingested) {
    let Ingested { dataset, report } = done;
    let rows = dataset.len();
    assert!(rows >= 2, "{rows} rows");
    assert!(!dataset.channels.is_empty(), "no channel");
    assert_eq!(report.rows, rows);
    assert_eq!(report.columns.kept, dataset.channels.len());
    assert!(
        dataset.time_secs.iter().all(|t| t.is_finite()),
        "time is not finite"
    );
    assert!(
        dataset.time_secs.windows(2).all(|pair| pair[0] < pair[1]),
        "time is not strictly increasing"
    );
    for channel in &dataset.channels {
        assert_eq!(channel.values.len(), rows, "channel `{}`", channel.name);
        assert!(
            channel.values.iter().all(|v| v.is_finite()),
            "channel `{}` holds a value that is not finite",
            channel.name
        );
    }

    let lines = report.summary_lines();
    assert!(lines.len() >= 3);
}

/// The preprocessing the page runs before training, with a small window.
fn prepare(dataset: &Dataset) {
    let setup = Setup::suggest(dataset);
    assert!(!setup.targets.is_empty());
    let inputs: Vec<usize> = setup
        .input_channels()
        .iter()
        .map(|name| {
            dataset
                .channel_index(name)
                .unwrap_or_else(|| panic!("suggested channel `{name}` is not in the dataset"))
        })
        .collect();

    let rows = dataset.len();
    let split = Split::chronological(rows, setup.split).expect("the default split is valid");
    assert_eq!(split.test.end, rows);
    let columns: Vec<&[f32]> = inputs
        .iter()
        .map(|&c| dataset.channels[c].values.as_slice())
        .collect();
    let normalizer = Normalizer::fit(&columns, split.train.clone());
    for (mean, std) in normalizer.mean.iter().zip(&normalizer.std) {
        assert!(mean.is_finite(), "mean {mean}");
        assert!(std.is_finite() && *std > 0.0, "std {std}");
    }

    let series: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(feature, &c)| normalizer.normalize(feature, &dataset.channels[c].values))
        .collect();
    let features: Vec<usize> = (0..series.len()).collect();
    let targets: Vec<usize> = (0..setup.targets.len()).collect();
    let spec = WindowSpec {
        lookback: setup.lookback.min(4),
        horizon: setup.horizon.min(2),
        stride: 1,
    };
    for part in [split.train, split.validation, split.test] {
        let spec = WindowSpec {
            stride: prep::stride_for_part(part.clone(), spec, 64),
            ..spec
        };
        let windows = prep::make_windows(&series, &features, &targets, part, spec)
            .expect("a window of at least one step is valid");
        assert!(windows.len() <= 64, "{} windows", windows.len());
        assert_eq!(
            windows.inputs.len(),
            windows.len() * spec.lookback * features.len()
        );
        assert_eq!(
            windows.labels.len(),
            windows.len() * spec.horizon * targets.len()
        );
    }
}
