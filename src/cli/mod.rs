//! The native command line: train and evaluate on files of any size with the
//! same core as the page, and write model files the page can load.

mod fault;
mod protocol;
mod rul;
mod twin;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand};

use crate::chart;
use crate::ingest::{self, Dataset, IngestOptions};
use crate::pipeline::{self, Evaluation, Setup, TrainedModel};
use crate::train::{Control, Progress, block_on};

/// twinlab: train and evaluate LSTM forecasters on sensor data.
#[derive(Debug, Parser)]
#[command(name = "twinlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Train a forecaster on a CSV file, print its test metrics and save it.
    Train(TrainArgs),
    /// Score a saved model on a CSV file.
    Evaluate(EvaluateArgs),
    /// Train remaining-useful-life models on a run-to-failure fleet over
    /// several seeds and score them on a test fleet.
    Rul(rul::RulArgs),
    /// Run the standard long-horizon protocol (ETTh-style splits, z-scored,
    /// univariate) and score the LSTM against every baseline, with conformal
    /// intervals.
    Protocol(protocol::ProtocolArgs),
    /// Run the live twin on the simulated pump (with injected faults) or on
    /// a replayed CSV file; print its state transitions, the time in each
    /// state and, with labels, how its alarms match the labelled windows.
    Twin(twin::TwinArgs),
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// The CSV (or space-separated) file of sensor readings.
    file: PathBuf,
    /// Channel to forecast (repeat for several); default: the last channel.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Use only the targets as inputs, not the other channels.
    #[arg(long)]
    targets_only: bool,
    /// Time steps of history per window.
    #[arg(long)]
    lookback: Option<usize>,
    /// Time steps forecast at once.
    #[arg(long)]
    horizon: Option<usize>,
    /// Hidden units per LSTM layer.
    #[arg(long)]
    hidden: Option<usize>,
    /// Stacked LSTM layers.
    #[arg(long)]
    layers: Option<usize>,
    /// Most epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Windows per gradient step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Epochs without improvement before stopping.
    #[arg(long)]
    patience: Option<usize>,
    /// Seed of the initialisation and batch order.
    #[arg(long)]
    seed: Option<u64>,
    /// Most training windows (the stride grows to stay under it).
    #[arg(long)]
    max_train_windows: Option<usize>,
    /// Where to write the model file.
    #[arg(long, short, default_value = "model.twinlab")]
    out: PathBuf,
    /// Also write the forecast chart of the first target as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Print the results as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// A model file written by `twinlab train` or by the page.
    model: PathBuf,
    /// The CSV file to score it on (its test part).
    file: PathBuf,
    /// Print the results as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the command line and returns the process exit code.
#[must_use]
pub fn run() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(&args),
        Command::Evaluate(args) => evaluate(&args),
        Command::Rul(args) => rul::run(&args),
        Command::Protocol(args) => protocol::run(&args),
        Command::Twin(args) => twin::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &Path) -> Result<Dataset, String> {
    let bytes =
        std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let options = IngestOptions {
        max_bytes: usize::MAX,
        ..IngestOptions::default()
    };
    let ingested = ingest::parse(&name, &bytes, &options)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    for line in ingested.report.summary_lines() {
        eprintln!("  {line}");
    }
    Ok(ingested.dataset)
}

fn setup_from(args: &TrainArgs, dataset: &Dataset) -> Setup {
    let mut setup = Setup::suggest(dataset);
    if !args.targets.is_empty() {
        setup.targets.clone_from(&args.targets);
        setup.extra_inputs = dataset
            .channels
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| !args.targets.contains(n))
            .collect();
    }
    if args.targets_only {
        setup.extra_inputs.clear();
    }
    let set = |slot: &mut usize, value: Option<usize>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut setup.lookback, args.lookback);
    set(&mut setup.horizon, args.horizon);
    set(&mut setup.hidden, args.hidden);
    set(&mut setup.layers, args.layers);
    set(&mut setup.training.epochs, args.epochs);
    set(&mut setup.training.batch_size, args.batch_size);
    set(&mut setup.training.patience, args.patience);
    set(&mut setup.max_train_windows, args.max_train_windows);
    if let Some(lr) = args.learning_rate {
        setup.training.learning_rate = lr;
    }
    if let Some(seed) = args.seed {
        setup.training.seed = seed;
    }
    setup
}

fn train(args: &TrainArgs) -> Result<(), String> {
    let dataset = load(&args.file)?;
    let setup = setup_from(args, &dataset);
    eprintln!(
        "training: targets {:?}, inputs {}, look-back {}, horizon {}, hidden {}×{}, up to {} \
         epochs",
        setup.targets,
        setup.input_channels().len(),
        setup.lookback,
        setup.horizon,
        setup.hidden,
        setup.layers,
        setup.training.epochs
    );

    let device = Device::flex();
    let started = Instant::now();
    let model = block_on(pipeline::train(
        &dataset,
        &setup,
        &device,
        "cpu",
        async |p| {
            if let Progress::Epoch {
                epoch,
                epochs,
                train_loss,
                validation_loss,
                best_epoch,
            } = p
            {
                eprintln!(
                    "  epoch {epoch:>3}/{epochs}: train loss {train_loss:.5}, validation loss \
                 {validation_loss:.5} (best epoch {best_epoch})"
                );
            }
            Control::Continue
        },
    ))
    .map_err(|err| err.to_string())?;
    let train_secs = started.elapsed().as_secs_f64();

    let evaluation =
        block_on(pipeline::evaluate(&model, &dataset, &device)).map_err(|e| e.to_string())?;
    let bytes = block_on(model.to_file_bytes()).map_err(|err| err.to_string())?;
    std::fs::write(&args.out, &bytes)
        .map_err(|err| format!("cannot write {}: {err}", args.out.display()))?;
    if let Some(svg_path) = &args.svg {
        write_svg(&evaluation, svg_path)?;
    }

    if args.json {
        let out = serde_json::json!({
            "dataset": dataset.name,
            "setup": setup,
            "train_seconds": train_secs,
            "history": model.meta.history,
            "evaluation": evaluation_json(&evaluation),
            "model_file": args.out,
            "model_bytes": bytes.len(),
        });
        println!("{out}");
    } else {
        println!(
            "trained in {train_secs:.1} s ({:?})",
            model.meta.history.stop
        );
        print!("{}", metrics_table(&evaluation));
        println!(
            "model written to {} ({} bytes)",
            args.out.display(),
            bytes.len()
        );
    }
    Ok(())
}

fn evaluate(args: &EvaluateArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.model)
        .map_err(|err| format!("cannot read {}: {err}", args.model.display()))?;
    let device = Device::flex();
    let model = block_on(TrainedModel::from_file_bytes(&bytes, &device))
        .map_err(|err| format!("{}: {err}", args.model.display()))?;
    let dataset = load(&args.file)?;
    let evaluation =
        block_on(pipeline::evaluate(&model, &dataset, &device)).map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", evaluation_json(&evaluation));
    } else {
        print!("{}", metrics_table(&evaluation));
    }
    Ok(())
}

/// The evaluation without the chart data, for printing.
fn evaluation_json(evaluation: &Evaluation) -> serde_json::Value {
    serde_json::json!({
        "targets": evaluation.targets,
        "overall_lstm_z": evaluation.overall_lstm,
        "overall_persistence_z": evaluation.overall_persistence,
        "windows": evaluation.windows,
        "stride": evaluation.stride,
        "test_rows": [evaluation.test_rows.start, evaluation.test_rows.end],
        "methods": evaluation.methods,
        "verdict": evaluation.verdict,
        "interval_level": evaluation.level,
        "season": evaluation.season,
    })
}

/// The metrics as an aligned text table.
#[must_use]
pub fn metrics_table(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "test part: rows {}..{}, {} windows",
        evaluation.test_rows.start, evaluation.test_rows.end, evaluation.windows
    );
    let _ = writeln!(
        out,
        "{:<16} {:>12} {:>12} {:>12} {:>12}",
        "channel", "LSTM MAE", "LSTM RMSE", "naive MAE", "naive RMSE"
    );
    for t in &evaluation.targets {
        let _ = writeln!(
            out,
            "{:<16} {:>12.4} {:>12.4} {:>12.4} {:>12.4}",
            t.channel, t.lstm.mae, t.lstm.rmse, t.persistence.mae, t.persistence.rmse
        );
    }
    let _ = writeln!(
        out,
        "{:<16} {:>12.4} {:>12.4} {:>12.4} {:>12.4}",
        "all (z-score)",
        evaluation.overall_lstm.mae,
        evaluation.overall_lstm.rmse,
        evaluation.overall_persistence.mae,
        evaluation.overall_persistence.rmse
    );
    let season = evaluation
        .season
        .map_or_else(|| "none found".to_owned(), |s| format!("{s} steps"));
    let _ = writeln!(
        out,
        "\nevery method on the same windows (z-scores; season {season}; {:.0}% intervals):",
        evaluation.level * 100.0
    );
    let _ = writeln!(
        out,
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "method", "MAE", "RMSE", "MASE", "skill", "coverage"
    );
    let cell = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"));
    for method in &evaluation.methods {
        let overall = method.scores.overall;
        let _ = writeln!(
            out,
            "{:<16} {:>9.4} {:>9.4} {:>9} {:>9} {:>10}",
            method.name,
            overall.mae,
            overall.rmse,
            cell(overall.mase),
            cell(method.skill_mae),
            cell(method.scores.interval.map(|i| i.coverage)),
        );
    }
    let _ = writeln!(out, "{}", evaluation.verdict.sentence);
    out
}

fn write_svg(evaluation: &Evaluation, path: &Path) -> Result<(), String> {
    let Some(view) = evaluation.views.first() else {
        return Ok(());
    };
    let svg = chart::forecast_svg(view, 1200, 500).map_err(|err| err.to_string())?;
    std::fs::write(path, svg).map_err(|err| format!("cannot write {}: {err}", path.display()))
}
