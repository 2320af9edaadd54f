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
//!
//! With `--backtest-origins N` the test part is also scored by rolling-origin
//! evaluation ([`crate::backtest`]): up to `N` origins `--backtest-stride`
//! steps apart (default: the horizon), one window forecast from each. The
//! baselines are refitted at every origin on every window known then (cut
//! with `--fit-stride`, default the LSTM's training stride), keeping the
//! season and the AR ridge chosen above. The LSTM forecasts with the network
//! trained above, or with `--refit-every K` it is retrained from scratch (same
//! settings and seed) at origins `0, K, 2K, …`: on the windows whose forecast
//! rows end `--val-rows` before the origin, stopping early on every fourth
//! window of those last rows, as the main run splits train and validation.
//!
//! `--json` prints one object: `dataset`, `target`, `parts` (row ranges
//! `train`, `validation`, `test`), `lookback`, `horizon`, `test_windows`,
//! `calibration_windows`, `season`, `mase_season`, `ar_ridge`, `level`,
//! `lstm` (how it was trained, or null), `methods` (per method: `name`, `mse`,
//! `mae`, `mase`, `smape`, `skill_mae`, `skill_mse`, `coverage`, `winkler`,
//! `mean_width`, `per_step_mse`, `per_step_mae`, `per_step_coverage`),
//! `verdict`, `seconds`, and `backtest` (null without `--backtest-origins`):
//! `origins` (the origin rows), `stride`, `refit_every`, `fit_stride`,
//! `season`, `seconds` and `methods` (per method: `name`, `fits`, `mse`,
//! `mae`, `mase`, `smape`, `per_step_mse`, `per_step_mae`; z-scores but
//! sMAPE).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use clap::Args;
use serde::Serialize;

use crate::backtest::{
    self, BacktestConfig, BacktestData, BacktestReport, CallbackMethod, ForecastMethod, MethodError,
};
use crate::baselines::{Baseline, SeasonChoice, SeasonSearch, TrainingData};
use crate::evidence::{self, EvidenceData, MethodEvidence};
use crate::metrics::{self, Scaling};
use crate::model::{Forecaster, ForecasterConfig, OutputKind};
use crate::prep::{self, Normalizer, WindowSpec, Windows};
use crate::train::{self, Control, History, Progress, StopReason, TrainConfig, block_on};

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
    /// Most origins of the rolling-origin backtest over the test part (0: no
    /// backtest).
    #[arg(long, default_value_t = 0)]
    backtest_origins: usize,
    /// Steps between backtest origins; default: the horizon.
    #[arg(long)]
    backtest_stride: Option<usize>,
    /// Retrain the LSTM every this many backtest origins (0: never, forecast
    /// with the network trained once; retraining is slow).
    #[arg(long, default_value_t = 0)]
    refit_every: usize,
    /// Stride of the windows the backtest refits on; default: the LSTM's
    /// training stride.
    #[arg(long)]
    fit_stride: Option<usize>,
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
    /// The rolling-origin backtest, when asked for.
    backtest: Option<BacktestSummary>,
}

/// One method's rolling-origin scores (z-scores, sMAPE in data units).
#[derive(Debug, Serialize)]
struct BacktestMethod {
    name: String,
    /// How often it was fitted during the backtest.
    fits: usize,
    mse: f64,
    mae: f64,
    mase: Option<f64>,
    smape: Option<f64>,
    per_step_mse: Vec<f64>,
    per_step_mae: Vec<f64>,
}

/// The rolling-origin backtest over the test part.
#[derive(Debug, Serialize)]
struct BacktestSummary {
    /// The origin rows (first forecast step of each window).
    origins: Vec<usize>,
    stride: usize,
    refit_every: usize,
    fit_stride: usize,
    /// The seasonal-naive season kept at every refit.
    season: Option<usize>,
    seconds: f64,
    methods: Vec<BacktestMethod>,
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
    let plan = backtest_plan(args, &data)?;
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
    let mut network = None;
    if !args.baselines_only {
        let (run, trained) = train_lstm(args, &data.series, &data.parts, data.spec)?;
        let config = lstm_config(args);
        let device = Device::flex();
        let calibration = predict(&trained, &config, &data.validation, &device)?;
        let forecast = predict(&trained, &config, &data.test, &device)?;
        lstm_forecasts = Some((calibration, forecast));
        lstm = Some(run);
        network = Some(trained);
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
    let backtest = match plan {
        Some(plan) => Some(run_backtest(
            args,
            &plan,
            &data,
            &baselines.methods,
            season,
            network,
        )?),
        None => None,
    };
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
        backtest,
    };
    if args.json {
        let json = serde_json::to_string(&report).map_err(|err| err.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report_table(&report));
    }
    Ok(())
}

/// The LSTM's architecture.
fn lstm_config(args: &ProtocolArgs) -> ForecasterConfig {
    ForecasterConfig {
        features: 1,
        lookback: args.lookback,
        hidden: args.hidden,
        layers: args.layers,
        horizon: args.horizon,
        targets: 1,
        output: OutputKind::Residual,
        dropout: 0.0,
    }
}

/// Cuts univariate windows with forecast rows in `rows`.
fn cut_windows(
    series: &[Vec<f32>],
    rows: Range<usize>,
    spec: WindowSpec,
    stride: usize,
) -> Result<Windows, String> {
    prep::make_windows(series, &[0], &[0], rows, WindowSpec { stride, ..spec })
        .map_err(|err| err.to_string())
}

/// Trains the univariate LSTM on strided training windows, stopping early on
/// every fourth validation window.
fn train_lstm(
    args: &ProtocolArgs,
    series: &[Vec<f32>],
    parts: &Parts,
    spec: WindowSpec,
) -> Result<(LstmRun, Forecaster), String> {
    let train_stride = prep::stride_for(parts.train.len(), spec, args.max_train_windows);
    let train = cut_windows(series, parts.train.clone(), spec, train_stride)?;
    let stopping = cut_windows(series, parts.validation.clone(), spec, 4)?;
    eprintln!(
        "LSTM: hidden {}×{}, {} training windows (stride {train_stride}), up to {} epochs",
        args.hidden,
        args.layers,
        train.len(),
        args.epochs
    );

    let started = Instant::now();
    let (network, history) = fit_network(args, &train, &stopping, true)?;
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
    Ok((run, network))
}

/// Trains a fresh LSTM with the settings of `args`; `verbose` prints every
/// epoch.
fn fit_network(
    args: &ProtocolArgs,
    train: &Windows,
    stopping: &Windows,
    verbose: bool,
) -> Result<(Forecaster, History), String> {
    let settings = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        patience: args.patience,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let device = Device::flex();
    let started = Instant::now();
    block_on(train::fit(
        &lstm_config(args),
        &settings,
        train,
        stopping,
        &device,
        async |p| {
            if let Progress::Epoch {
                epoch,
                epochs,
                train_loss,
                validation_loss,
                ..
            } = p
                && verbose
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
    .map_err(|err| err.to_string())
}

/// The backtest's schedule from the flags, checked before anything trains;
/// `None` without `--backtest-origins`.
fn backtest_plan(args: &ProtocolArgs, data: &Prepared) -> Result<Option<BacktestConfig>, String> {
    if args.backtest_origins == 0 {
        if args.backtest_stride.is_some() || args.fit_stride.is_some() || args.refit_every > 0 {
            return Err(
                "--backtest-stride, --refit-every and --fit-stride need --backtest-origins"
                    .to_owned(),
            );
        }
        return Ok(None);
    }
    if args.refit_every > 0 && args.baselines_only {
        return Err("--refit-every retrains the LSTM; drop it or --baselines-only".to_owned());
    }
    let fit_stride = match args.fit_stride {
        Some(0) => return Err("--fit-stride must be at least 1".to_owned()),
        Some(stride) => stride,
        None => prep::stride_for(data.parts.train.len(), data.spec, args.max_train_windows),
    };
    let config = BacktestConfig {
        origins: args.backtest_origins,
        stride: args.backtest_stride.unwrap_or(args.horizon),
        refit_every: args.refit_every,
        fit_stride,
    };
    backtest::origins(&config, &backtest_data(args, data, Scaling::default()))
        .map_err(|err| format!("backtest: {err}"))?;
    Ok(Some(config))
}

fn backtest_data<'a>(
    args: &ProtocolArgs,
    data: &'a Prepared,
    scaling: Scaling,
) -> BacktestData<'a> {
    BacktestData {
        series: &data.series,
        targets: 1,
        lookback: args.lookback,
        horizon: args.horizon,
        test: data.parts.test.clone(),
        scaling,
    }
}

/// Runs the rolling-origin backtest of the baselines and, given a trained
/// `network`, the LSTM (see the module docs).
fn run_backtest(
    args: &ProtocolArgs,
    config: &BacktestConfig,
    data: &Prepared,
    baselines: &[Baseline],
    season: Option<usize>,
    network: Option<Forecaster>,
) -> Result<BacktestSummary, String> {
    let started = Instant::now();
    let train_rows = data.parts.train.clone();
    let scaling = Scaling {
        mase_scale: vec![metrics::seasonal_naive_scale(
            &data.series[0][train_rows],
            season.unwrap_or(1),
        )],
        original_units: Some(data.normalizer.clone()),
    };
    let input = backtest_data(args, data, scaling);

    // The season and the ridge stay as chosen on the training part.
    let mut baselines = baselines.to_vec();
    for baseline in &mut baselines {
        if let Baseline::SeasonalNaive(naive) = baseline {
            naive.choice = SeasonChoice::Fixed(season.unwrap_or(0));
        }
    }

    let lstm_config = lstm_config(args);
    let fit_stride = config.fit_stride;
    let device = Device::flex();
    let network = network.map(RefCell::new);
    let mut lstm = network.as_ref().map(|network| {
        let (lstm_config, device) = (&lstm_config, &device);
        CallbackMethod::new(
            "lstm",
            move |known: &TrainingData<'_>| {
                let origin = known.rows.end;
                let split = origin.saturating_sub(args.val_rows);
                let train = cut_windows(known.series, 0..split, data.spec, fit_stride)?;
                let stopping = cut_windows(known.series, split..origin, data.spec, 4)?;
                let refit = Instant::now();
                let (fresh, history) = fit_network(args, &train, &stopping, false)?;
                eprintln!(
                    "backtest: LSTM retrained at row {origin} on {} windows, {} epochs ({:.0} s)",
                    train.len(),
                    history.validation_loss.len(),
                    refit.elapsed().as_secs_f64()
                );
                network.replace(fresh);
                Ok::<_, MethodError>(())
            },
            move |windows: &Windows| {
                predict(&network.borrow(), lstm_config, windows, device).map_err(MethodError::from)
            },
        )
    });
    let mut methods: Vec<&mut dyn ForecastMethod> = baselines
        .iter_mut()
        .map(|b| b as &mut dyn ForecastMethod)
        .collect();
    if let Some(lstm) = &mut lstm {
        methods.push(lstm);
    }
    eprintln!(
        "backtest: {} methods from up to {} origins, stride {}",
        methods.len(),
        config.origins,
        config.stride
    );
    let report: BacktestReport =
        backtest::run(config, &input, &mut methods).map_err(|err| format!("backtest: {err}"))?;
    Ok(BacktestSummary {
        origins: report.origins,
        stride: config.stride,
        refit_every: config.refit_every,
        fit_stride: config.fit_stride,
        season,
        seconds: started.elapsed().as_secs_f64(),
        methods: report
            .methods
            .into_iter()
            .map(|m| BacktestMethod {
                name: m.name,
                fits: m.fits,
                mse: m.scores.overall.mse,
                mae: m.scores.overall.mae,
                mase: m.scores.overall.mase,
                smape: m.scores.overall.smape,
                per_step_mse: m.scores.per_step.iter().map(|s| s.mse).collect(),
                per_step_mae: m.scores.per_step.iter().map(|s| s.mae).collect(),
            })
            .collect(),
    })
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
    if let Some(backtest) = &report.backtest {
        out.push_str(&backtest_table(backtest, report.horizon));
    }
    let _ = writeln!(out, "total {:.1} s", report.seconds);
    out
}

/// The backtest as text: its schedule, then one row per method with the
/// overall errors, the MAE at the first step and the horizon's quarters, and
/// the number of fits.
fn backtest_table(backtest: &BacktestSummary, horizon: usize) -> String {
    let mut out = String::new();
    let rows = match (backtest.origins.first(), backtest.origins.last()) {
        (Some(first), Some(last)) => format!("{first}..={last}"),
        _ => "none".to_owned(),
    };
    let refit = match backtest.refit_every {
        0 => "never (trained once)".to_owned(),
        k => format!("every {k} origins"),
    };
    let _ = writeln!(
        out,
        "backtest: {} origins (rows {rows}, stride {}), baselines refitted at every origin on \
         windows of stride {}, LSTM refitted {refit}; {:.0} s",
        backtest.origins.len(),
        backtest.stride,
        backtest.fit_stride,
        backtest.seconds
    );
    let mut steps = vec![1, (horizon / 4).max(1), (horizon / 2).max(1), horizon];
    steps.dedup();
    let _ = write!(out, "{:<15} {:>8} {:>8}", "method", "MSE", "MAE");
    for s in &steps {
        let _ = write!(out, " {:>8}", format!("h={s}"));
    }
    let _ = writeln!(out, " {:>5}", "fits");
    for m in &backtest.methods {
        let _ = write!(out, "{:<15} {:>8.4} {:>8.4}", m.name, m.mse, m.mae);
        for &s in &steps {
            let _ = write!(out, " {:>8.4}", m.per_step_mae[s - 1]);
        }
        let _ = writeln!(out, " {:>5}", m.fits);
    }
    out
}
