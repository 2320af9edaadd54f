//! `twinlab protocol`: the standard long-horizon benchmark protocol on
//! ETT-like files, scoring the LSTM and every baseline on the same windows.
//!
//! The protocol (as in the long-horizon forecasting literature for ETTh1/2):
//! the first 12 months (8640 hourly rows) train, the next 4 months (2880)
//! validate, the next 4 months (2880) test; the target is z-scored with the
//! training statistics and is the only input (univariate); MSE and MAE are
//! computed on z-scores over all stride-1 test windows. A test window's
//! look-back may reach back into the validation rows; its forecast rows are
//! all test rows.
//!
//! Every method also gets split-conformal intervals, calibrated on all
//! stride-1 validation windows, and their coverage and Winkler score on the
//! test windows. The linear AR's ridge is chosen on the validation windows.
//!
//! The LSTM defaults (hidden 32, one layer, at most 800 training windows, at
//! most 20 epochs with patience 3, batch 32, learning rate 2e-3) are sized to
//! train in a few minutes on two CPU cores; its early stopping reads every
//! fourth validation window, and its conformal calibration reuses the
//! validation part it stopped on (a mild optimism the test coverage shows).

use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use clap::Args;
use serde::Serialize;

use crate::baselines::{SeasonChoice, SeasonSearch};
use crate::evidence::{self, EvidenceData, MethodEvidence};
use crate::model::{Forecaster, ForecasterConfig, OutputKind};
use crate::prep::{self, Normalizer, WindowSpec, Windows};
use crate::train::{self, Control, Progress, StopReason, TrainConfig, block_on};

/// Windows per call to the network.
const PREDICT_CHUNK: usize = 256;

/// Options of `twinlab protocol`.
#[derive(Debug, Args)]
pub(super) struct ProtocolArgs {
    /// The CSV file (e.g. ETTh2.csv: a date column and numeric channels).
    file: PathBuf,
    /// The channel to forecast (the only input).
    #[arg(long, default_value = "OT")]
    target: String,
    /// Time steps of history per window.
    #[arg(long, default_value_t = 336)]
    lookback: usize,
    /// Time steps forecast at once.
    #[arg(long, default_value_t = 96)]
    horizon: usize,
    /// Rows of the training part (from the first row).
    #[arg(long, default_value_t = 8640)]
    train_rows: usize,
    /// Rows of the validation part (after the training part).
    #[arg(long, default_value_t = 2880)]
    val_rows: usize,
    /// Rows of the test part (after the validation part).
    #[arg(long, default_value_t = 2880)]
    test_rows: usize,
    /// Season of the seasonal-naive baseline in steps (0: none); default:
    /// detected from the training part's autocorrelation.
    #[arg(long)]
    season: Option<usize>,
    /// Longest season the detection considers.
    #[arg(long, default_value_t = 400)]
    max_season: usize,
    /// Nominal coverage of the conformal intervals.
    #[arg(long, default_value_t = 0.9)]
    level: f64,
    /// Hidden units per LSTM layer.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// Stacked LSTM layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Most LSTM epochs.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Epochs without improvement before the LSTM stops.
    #[arg(long, default_value_t = 3)]
    patience: usize,
    /// Most LSTM training windows (the stride grows to stay under it).
    #[arg(long, default_value_t = 800)]
    max_train_windows: usize,
    /// Seed of the LSTM's initialisation and batch order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Windows per gradient step.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-3)]
    learning_rate: f64,
    /// Score only the baselines (no LSTM training).
    #[arg(long)]
    baselines_only: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Row ranges of the three parts.
#[derive(Debug, Clone, Serialize)]
struct Parts {
    train: Range<usize>,
    validation: Range<usize>,
    test: Range<usize>,
}

/// How the LSTM was trained.
#[derive(Debug, Serialize)]
struct LstmRun {
    hidden: usize,
    layers: usize,
    train_windows: usize,
    train_stride: usize,
    early_stopping_windows: usize,
    epochs_run: usize,
    best_epoch: Option<usize>,
    stop: StopReason,
    train_seconds: f64,
}

/// One method's scores on the test windows (z-scores, sMAPE in data units).
#[derive(Debug, Serialize)]
struct MethodResult {
    name: String,
    mse: f64,
    mae: f64,
    mase: Option<f64>,
    smape: Option<f64>,
    /// `1 − MAE / MAE(seasonal naive)`.
    skill_mae: Option<f64>,
    /// `1 − MSE / MSE(seasonal naive)`.
    skill_mse: Option<f64>,
    coverage: Option<f64>,
    winkler: Option<f64>,
    mean_width: Option<f64>,
    per_step_mse: Vec<f64>,
    per_step_mae: Vec<f64>,
    per_step_coverage: Vec<f64>,
}

/// Everything `twinlab protocol` prints.
#[derive(Debug, Serialize)]
struct ProtocolReport {
    dataset: String,
    target: String,
    parts: Parts,
    lookback: usize,
    horizon: usize,
    test_windows: usize,
    calibration_windows: usize,
    season: Option<usize>,
    mase_season: usize,
    ar_ridge: f64,
    level: f64,
    lstm: Option<LstmRun>,
    methods: Vec<MethodResult>,
    /// Whether the LSTM beats the baselines, in one sentence.
    verdict: String,
    seconds: f64,
}

/// The prepared protocol data: the z-scored target and its windows.
struct Prepared {
    dataset: String,
    parts: Parts,
    normalizer: Normalizer,
    /// `[1][rows]`: the z-scored target, up to the end of the test part.
    series: Vec<Vec<f32>>,
    spec: WindowSpec,
    /// Stride-1 windows of each part.
    train: Windows,
    validation: Windows,
    test: Windows,
}

/// Reads the file, cuts the parts, normalises and windows.
fn prepare(args: &ProtocolArgs) -> Result<Prepared, String> {
    let dataset = super::load(&args.file)?;
    let channel = dataset
        .channels
        .iter()
        .find(|c| c.name == args.target)
        .ok_or_else(|| format!("{} has no channel `{}`", dataset.name, args.target))?;
    let needed = args.train_rows + args.val_rows + args.test_rows;
    if dataset.len() < needed || args.train_rows == 0 || args.val_rows == 0 {
        return Err(format!(
            "{} has {} rows; the protocol needs {needed} (train {} + validation {} + test {})",
            dataset.name,
            dataset.len(),
            args.train_rows,
            args.val_rows,
            args.test_rows
        ));
    }
    let parts = Parts {
        train: 0..args.train_rows,
        validation: args.train_rows..args.train_rows + args.val_rows,
        test: args.train_rows + args.val_rows..needed,
    };

    let normalizer = Normalizer::fit(&[&channel.values], parts.train.clone());
    let series = vec![normalizer.normalize(0, &channel.values[..needed])];
    let spec = WindowSpec {
        lookback: args.lookback,
        horizon: args.horizon,
        stride: 1,
    };
    let cut = |rows: &Range<usize>, name: &'static str| {
        let windows = prep::make_windows(&series, &[0], &[0], rows.clone(), spec)
            .map_err(|err| err.to_string())?;
        if windows.is_empty() {
            return Err(prep::PrepError::TooShort {
                part: name,
                rows: rows.len(),
                lookback: spec.lookback,
                horizon: spec.horizon,
            }
            .to_string());
        }
        Ok(windows)
    };
    let train = cut(&parts.train, "training")?;
    let validation = cut(&parts.validation, "validation")?;
    let test = cut(&parts.test, "test")?;
    eprintln!(
        "protocol: {} windows to fit the baselines, {} to calibrate, {} to test",
        train.len(),
        validation.len(),
        test.len()
    );
    Ok(Prepared {
        dataset: dataset.name,
        parts,
        normalizer,
        series,
        spec,
        train,
        validation,
        test,
    })
}

/// Runs `twinlab protocol`.
pub(super) fn run(args: &ProtocolArgs) -> Result<(), String> {
    let started = Instant::now();
    let data = prepare(args)?;
    let season_choice = match args.season {
        Some(season) => SeasonChoice::Fixed(season),
        None => SeasonChoice::Detect(SeasonSearch {
            max_lag: args.max_season,
            ..SeasonSearch::default()
        }),
    };
    let evidence_data = EvidenceData {
        series: &data.series,
        train_rows: data.parts.train.clone(),
        train: &data.train,
        validation: &data.validation,
        test: &data.test,
        normalizer: &data.normalizer,
        level: args.level,
    };
    let baselines =
        evidence::fit_baselines(&evidence_data, season_choice).map_err(|e| e.to_string())?;

    let mut lstm = None;
    let mut lstm_forecasts = None;
    if !args.baselines_only {
        let (run, network, config) = train_lstm(args, &data.series, &data.parts, data.spec)?;
        let device = Device::flex();
        let calibration = predict(&network, &config, &data.validation, &device)?;
        let forecast = predict(&network, &config, &data.test, &device)?;
        lstm_forecasts = Some((calibration, forecast));
        lstm = Some(run);
    }
    let comparison = evidence::compare(
        lstm_forecasts
            .as_ref()
            .map(|(calibration, forecast)| (calibration.as_slice(), forecast.clone())),
        &baselines,
        &evidence_data,
    )
    .map_err(|e| e.to_string())?;
    let season = comparison.season;
    let mase_season = season.unwrap_or(1);
    let methods = comparison.methods.iter().map(method_result).collect();
    let report = ProtocolReport {
        dataset: data.dataset.clone(),
        target: args.target.clone(),
        parts: data.parts.clone(),
        lookback: args.lookback,
        horizon: args.horizon,
        test_windows: data.test.len(),
        calibration_windows: data.validation.len(),
        season,
        mase_season,
        ar_ridge: comparison.ar_ridge,
        level: args.level,
        lstm,
        methods,
        verdict: comparison.verdict.sentence.clone(),
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        let json = serde_json::to_string(&report).map_err(|err| err.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report_table(&report));
    }
    Ok(())
}

/// Trains the univariate LSTM on strided training windows, stopping early on
/// every fourth validation window.
fn train_lstm(
    args: &ProtocolArgs,
    series: &[Vec<f32>],
    parts: &Parts,
    spec: WindowSpec,
) -> Result<(LstmRun, Forecaster, ForecasterConfig), String> {
    let train_stride = prep::stride_for(parts.train.len(), spec, args.max_train_windows);
    let windows = |rows: &Range<usize>, stride: usize| {
        prep::make_windows(
            series,
            &[0],
            &[0],
            rows.clone(),
            WindowSpec { stride, ..spec },
        )
        .map_err(|err| err.to_string())
    };
    let train = windows(&parts.train, train_stride)?;
    let stopping = windows(&parts.validation, 4)?;
    let config = ForecasterConfig {
        features: 1,
        lookback: args.lookback,
        hidden: args.hidden,
        layers: args.layers,
        horizon: args.horizon,
        targets: 1,
        output: OutputKind::Residual,
        dropout: 0.0,
    };
    let settings = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        patience: args.patience,
        seed: args.seed,
        ..TrainConfig::default()
    };
    eprintln!(
        "LSTM: hidden {}×{}, {} training windows (stride {train_stride}), up to {} epochs",
        args.hidden,
        args.layers,
        train.len(),
        args.epochs
    );

    let device = Device::flex();
    let started = Instant::now();
    let (network, history) = block_on(train::fit(
        &config,
        &settings,
        &train,
        &stopping,
        &device,
        async |p| {
            if let Progress::Epoch {
                epoch,
                epochs,
                train_loss,
                validation_loss,
                ..
            } = p
            {
                eprintln!(
                    "  epoch {epoch:>3}/{epochs}: train loss {train_loss:.5}, validation loss \
                     {validation_loss:.5} ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
            Control::Continue
        },
    ))
    .map_err(|err| err.to_string())?;
    let run = LstmRun {
        hidden: args.hidden,
        layers: args.layers,
        train_windows: train.len(),
        train_stride,
        early_stopping_windows: stopping.len(),
        epochs_run: history.validation_loss.len(),
        best_epoch: history.best_epoch.map(|e| e + 1),
        stop: history.stop,
        train_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((run, network, config))
}

/// Forecasts every window with the network, in chunks.
fn predict(
    network: &Forecaster,
    config: &ForecasterConfig,
    windows: &Windows,
    device: &Device,
) -> Result<Vec<f32>, String> {
    let mut out = Vec::with_capacity(windows.labels.len());
    for chunk in windows.inputs.chunks(PREDICT_CHUNK * config.input_len()) {
        out.extend(block_on(network.predict(config, chunk, device)).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn method_result(method: &MethodEvidence) -> MethodResult {
    let scores = &method.scores;
    let overall = scores.overall;
    MethodResult {
        name: method.name.clone(),
        mse: overall.mse,
        mae: overall.mae,
        mase: overall.mase,
        smape: overall.smape,
        skill_mae: method.skill_mae,
        skill_mse: method.skill_mse,
        coverage: scores.interval.map(|i| i.coverage),
        winkler: scores.interval.map(|i| i.winkler),
        mean_width: scores.interval.map(|i| i.mean_width),
        per_step_mse: scores.per_step.iter().map(|s| s.mse).collect(),
        per_step_mae: scores.per_step.iter().map(|s| s.mae).collect(),
        per_step_coverage: scores
            .interval_per_step
            .iter()
            .map(|s| s.coverage)
            .collect(),
    }
}

/// The report as text: the setup, one row per method, MAE at a few steps.
fn report_table(report: &ProtocolReport) -> String {
    let mut out = String::new();
    let p = &report.parts;
    let _ = writeln!(
        out,
        "{}, target {}: train rows {:?}, validation {:?}, test {:?}; look-back {}, horizon {}",
        report.dataset,
        report.target,
        p.train,
        p.validation,
        p.test,
        report.lookback,
        report.horizon
    );
    let season = report
        .season
        .map_or_else(|| "none".to_owned(), |s| s.to_string());
    let _ = writeln!(
        out,
        "{} test windows (stride 1, z-scores); season {season}; AR ridge {:e}; intervals at {:.0}% \
         from {} validation windows",
        report.test_windows,
        report.ar_ridge,
        report.level * 100.0,
        report.calibration_windows
    );
    if let Some(lstm) = &report.lstm {
        let _ = writeln!(
            out,
            "LSTM {}×{}: {} training windows (stride {}), {} epochs (best {:?}, {:?}), {:.0} s",
            lstm.hidden,
            lstm.layers,
            lstm.train_windows,
            lstm.train_stride,
            lstm.epochs_run,
            lstm.best_epoch,
            lstm.stop,
            lstm.train_seconds
        );
    }
    let _ = writeln!(
        out,
        "{:<15} {:>8} {:>8} {:>7} {:>7} {:>9} {:>9} {:>8} {:>8}",
        "method", "MSE", "MAE", "MASE", "sMAPE%", "skillMAE", "coverage", "Winkler", "width"
    );
    let opt = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    for m in &report.methods {
        let _ = writeln!(
            out,
            "{:<15} {:>8.4} {:>8.4} {:>7} {:>7} {:>9} {:>9} {:>8} {:>8}",
            m.name,
            m.mse,
            m.mae,
            opt(m.mase, 3),
            opt(m.smape, 2),
            opt(m.skill_mae, 3),
            opt(m.coverage, 3),
            opt(m.winkler, 3),
            opt(m.mean_width, 3)
        );
    }
    let steps: Vec<usize> = [1, 24, 48, 96]
        .into_iter()
        .filter(|&s| s <= report.horizon)
        .collect();
    let _ = write!(out, "{:<15}", "MAE by step");
    for s in &steps {
        let _ = write!(out, " {:>8}", format!("h={s}"));
    }
    for m in &report.methods {
        let _ = write!(out, "\n{:<15}", m.name);
        for &s in &steps {
            let _ = write!(out, " {:>8.4}", m.per_step_mae[s - 1]);
        }
    }
    out.push('\n');
    let _ = writeln!(out, "{}", report.verdict);
    let _ = writeln!(out, "total {:.1} s", report.seconds);
    out
}
