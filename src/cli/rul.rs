//! `twinlab rul`: train remaining-useful-life models on a run-to-failure
//! fleet over several seeds and score each on a test fleet.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use clap::Args;
use serde::Serialize;

use crate::ingest::{self, Fleet, FleetColumns, IngestOptions};
use crate::pipeline::TrainedModel;
use crate::rul::{self, RulEvaluation, RulScores, RulSetup};
use crate::train::{Control, Progress, block_on};

/// Options of `twinlab rul`.
#[derive(Debug, Args)]
pub(super) struct RulArgs {
    /// Run-to-failure training fleet (one row per unit and cycle).
    #[arg(long)]
    train: PathBuf,
    /// Test fleet whose units stop before failure.
    #[arg(long)]
    test: Option<PathBuf>,
    /// True RUL of each test unit at its last cycle, one number per line.
    #[arg(long)]
    rul: Option<PathBuf>,
    /// Number of seeds to train (seed, seed + 1, …).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sensor channels to use (comma-separated); default: those that move with wear.
    #[arg(long, value_delimiter = ',')]
    sensors: Vec<String>,
    /// Unit column name (default: found by name, or the first column).
    #[arg(long)]
    unit_column: Option<String>,
    /// Cycle column name (default: found by name, or the second column).
    #[arg(long)]
    cycle_column: Option<String>,
    /// Cycles of history per window.
    #[arg(long)]
    window: Option<usize>,
    /// RUL ceiling of the piecewise-linear target.
    #[arg(long)]
    cap: Option<f32>,
    /// Weight of the newest reading in the sensors' exponential smoothing (1 = off).
    #[arg(long)]
    smoothing: Option<f32>,
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
    /// Epochs without improvement after which the learning rate is halved (0: never).
    #[arg(long)]
    decay_after: Option<usize>,
    /// Dropout share of hidden activations while training.
    #[arg(long)]
    dropout: Option<f32>,
    /// Weight of squared errors of late (too high) RUL estimates in the loss.
    #[arg(long)]
    late_weight: Option<f32>,
    /// Added to the initial bias of every LSTM forget gate (1 is usual; 0: burn's init).
    #[arg(long)]
    forget_bias: Option<f32>,
    /// Adam weight decay (L2 penalty).
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Share of training units held out for early stopping.
    #[arg(long)]
    validation_units: Option<f32>,
    /// Networks averaged in one model, each holding out its own fold of units (1: one network).
    #[arg(long)]
    members: Option<usize>,
    /// Also feed each sensor's deviation from the unit's mean over its first N cycles.
    #[arg(long)]
    baseline_cycles: Option<usize>,
    /// Leave out the unit's age (the cycle column), which is an input by default.
    #[arg(long)]
    no_age: bool,
    /// Where to write the model of the first seed.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also print each test unit's last-cycle estimate (first seed only).
    #[arg(long)]
    units: bool,
    /// Write every seed's test predictions (every unit, every cycle) as JSON lines here.
    #[arg(long)]
    dump: Option<PathBuf>,
}

/// One seed's run.
#[derive(Debug, Serialize)]
struct SeedRun {
    seed: u64,
    train_seconds: f64,
    epochs: usize,
    best_epoch: Option<usize>,
    validation_loss: f32,
    last_capped: Option<RulScores>,
    last_uncapped: Option<RulScores>,
    band_coverage: Option<f64>,
}

/// Mean and (sample) standard deviation.
#[derive(Debug, Serialize)]
struct Spread {
    mean: f64,
    std: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Some(Self {
            mean,
            std: var.sqrt(),
        })
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ± {:.2}", self.mean, self.std)
    }
}

fn read_fleet(path: &Path, columns: &FleetColumns) -> Result<Fleet, String> {
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
    let ingested = ingest::parse_fleet(&name, &bytes, columns, &options)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    for line in ingested.report.summary_lines() {
        eprintln!("  {line}");
    }
    Ok(ingested.fleet)
}

/// Reads a file of true RUL values.
pub(super) fn read_rul_values(path: &Path) -> Result<Vec<f32>, String> {
    let bytes =
        std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let options = IngestOptions {
        max_bytes: usize::MAX,
        ..IngestOptions::default()
    };
    ingest::parse_rul_values(&bytes, &options).map_err(|err| format!("{}: {err}", path.display()))
}

fn setup_from(args: &RulArgs, fleet: &Fleet) -> RulSetup {
    let mut setup = RulSetup::suggest(fleet);
    if let Some(cap) = args.cap {
        setup.cap = cap;
        setup.inputs = rul::default_inputs(fleet, cap);
    }
    if !args.sensors.is_empty() {
        setup.inputs.clone_from(&args.sensors);
    }
    let set = |slot: &mut usize, value: Option<usize>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut setup.window, args.window);
    set(&mut setup.hidden, args.hidden);
    set(&mut setup.layers, args.layers);
    set(&mut setup.training.epochs, args.epochs);
    set(&mut setup.training.batch_size, args.batch_size);
    set(&mut setup.training.patience, args.patience);
    set(&mut setup.training.decay_after, args.decay_after);
    set(&mut setup.baseline_cycles, args.baseline_cycles);
    set(&mut setup.members, args.members);
    if args.no_age {
        setup.inputs.retain(|name| *name != fleet.cycle_column);
    }
    if let Some(lr) = args.learning_rate {
        setup.training.learning_rate = lr;
    }
    if let Some(dropout) = args.dropout {
        setup.dropout = dropout;
    }
    if let Some(weight) = args.late_weight {
        setup.training.late_weight = weight;
    }
    if let Some(bias) = args.forget_bias {
        setup.training.forget_bias = bias;
    }
    if let Some(decay) = args.weight_decay {
        setup.training.weight_decay = decay;
    }
    if let Some(share) = args.validation_units {
        setup.validation_units = share;
    }
    if let Some(alpha) = args.smoothing {
        setup.smoothing = alpha;
    }
    setup
}

/// Runs `twinlab rul`.
pub(super) fn run(args: &RulArgs) -> Result<(), String> {
    let columns = FleetColumns {
        unit: args.unit_column.clone(),
        cycle: args.cycle_column.clone(),
        rul: None,
    };
    eprintln!("training fleet {}:", args.train.display());
    let train_fleet = read_fleet(&args.train, &columns)?;
    let test_fleet = match &args.test {
        Some(path) => {
            eprintln!("test fleet {}:", path.display());
            Some(read_fleet(path, &columns)?)
        }
        None => None,
    };
    let true_rul = args.rul.as_deref().map(read_rul_values).transpose()?;
    let base = setup_from(args, &train_fleet);
    eprintln!(
        "RUL model: {} sensors ({}), window {}, cap {}, hidden {}×{}, {} member(s), up to {} \
         epochs each",
        base.inputs.len(),
        base.inputs.join(", "),
        base.window,
        base.cap,
        base.hidden,
        base.layers,
        base.members,
        base.training.epochs
    );

    let device = Device::flex();
    let mut runs = Vec::new();
    for seed in args.seed..args.seed + args.seeds.max(1) {
        let mut setup = base.clone();
        setup.training.seed = seed;
        let started = Instant::now();
        let model = block_on(rul::train(
            &train_fleet,
            &setup,
            &device,
            "cpu",
            async |p| {
                if let Progress::Epoch {
                    epoch,
                    train_loss,
                    validation_loss,
                    ..
                } = p
                {
                    log::info!(
                        "seed {seed} epoch {epoch}: train {train_loss:.5}, val {validation_loss:.5}"
                    );
                }
                Control::Continue
            },
        ))
        .map_err(|err| err.to_string())?;
        let train_seconds = started.elapsed().as_secs_f64();

        let evaluation = match &test_fleet {
            Some(fleet) => Some(
                block_on(rul::evaluate(&model, fleet, true_rul.as_deref(), &device))
                    .map_err(|err| err.to_string())?,
            ),
            None => None,
        };
        write_outputs(args, seed, &model, evaluation.as_ref())?;
        let run = seed_run(seed, train_seconds, &model, evaluation.as_ref());
        eprintln!("{}", describe_run(&run));
        runs.push(run);
    }

    let pick = |f: fn(&SeedRun) -> Option<f64>| -> Vec<f64> { runs.iter().filter_map(f).collect() };
    let summary = serde_json::json!({
        "rmse_capped": Spread::of(&pick(|r| r.last_capped.map(|s| s.rmse))),
        "score_capped": Spread::of(&pick(|r| r.last_capped.map(|s| s.score))),
        "rmse_uncapped": Spread::of(&pick(|r| r.last_uncapped.map(|s| s.rmse))),
        "score_uncapped": Spread::of(&pick(|r| r.last_uncapped.map(|s| s.score))),
        "train_seconds": Spread::of(&pick(|r| Some(r.train_seconds))),
        "band_coverage": Spread::of(&pick(|r| r.band_coverage)),
    });
    if args.json {
        let out = serde_json::json!({
            "train": args.train,
            "test": args.test,
            "rul": args.rul,
            "setup": base,
            "runs": runs,
            "summary": summary,
        });
        println!("{out}");
    } else {
        print!("{}", summary_table(&runs));
    }
    Ok(())
}

/// Writes what the first seed (model file, unit table) and every seed
/// (predictions dump) leave behind, as the options ask.
fn write_outputs(
    args: &RulArgs,
    seed: u64,
    model: &TrainedModel,
    evaluation: Option<&RulEvaluation>,
) -> Result<(), String> {
    if seed == args.seed
        && let Some(out) = &args.out
    {
        let bytes = block_on(model.to_file_bytes()).map_err(|err| err.to_string())?;
        std::fs::write(out, &bytes)
            .map_err(|err| format!("cannot write {}: {err}", out.display()))?;
        eprintln!(
            "model of seed {seed} written to {} ({} bytes)",
            out.display(),
            bytes.len()
        );
    }
    if let (Some(path), Some(evaluation)) = (&args.dump, evaluation) {
        let line = serde_json::json!({ "seed": seed, "units": evaluation.units });
        let mut text = std::fs::read_to_string(path).unwrap_or_default();
        if seed == args.seed {
            text.clear();
        }
        let _ = writeln!(text, "{line}");
        std::fs::write(path, text)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    if args.units
        && seed == args.seed
        && let Some(evaluation) = evaluation
    {
        eprint!("{}", unit_table(evaluation));
    }
    Ok(())
}

fn seed_run(
    seed: u64,
    train_seconds: f64,
    model: &TrainedModel,
    evaluation: Option<&RulEvaluation>,
) -> SeedRun {
    let history = &model.meta.history;
    SeedRun {
        seed,
        train_seconds,
        epochs: history.validation_loss.len(),
        best_epoch: history.best_epoch.map(|e| e + 1),
        validation_loss: history.best_validation_loss(),
        last_capped: evaluation.and_then(|e| e.last_capped),
        last_uncapped: evaluation.and_then(|e| e.last_uncapped),
        band_coverage: evaluation.and_then(|e| e.band_coverage),
    }
}

fn describe_run(run: &SeedRun) -> String {
    let mut line = format!(
        "  seed {}: {:.1} s, {} epochs (best {}), validation MSE {:.5}",
        run.seed,
        run.train_seconds,
        run.epochs,
        run.best_epoch
            .map_or_else(|| "none".to_owned(), |e| e.to_string()),
        run.validation_loss
    );
    if let (Some(capped), Some(raw)) = (run.last_capped, run.last_uncapped) {
        let _ = write!(
            line,
            "; test RMSE {:.2} / score {:.1} (true RUL capped), {:.2} / {:.1} (as given)",
            capped.rmse, capped.score, raw.rmse, raw.score
        );
    }
    line
}

/// Each unit's last-cycle estimate, band and true RUL.
fn unit_table(evaluation: &RulEvaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6} {:>7} {:>9} {:>17} {:>9}",
        "unit", "cycle", "RUL", "band", "true"
    );
    for unit in &evaluation.units {
        let last = unit.last;
        let truth = unit
            .truth
            .as_ref()
            .and_then(|t| t.last())
            .map_or_else(|| "-".to_owned(), |t| format!("{t:.0}"));
        let _ = writeln!(
            out,
            "{:>6} {:>7} {:>9.1} {:>8.1}–{:<8.1} {:>9}",
            last.unit, last.cycle, last.rul, last.lower, last.upper, truth
        );
    }
    out
}

/// The runs and their mean ± std as an aligned text table.
fn summary_table(runs: &[SeedRun]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6} {:>9} {:>12} {:>12} {:>14} {:>14}",
        "seed", "train s", "RMSE capped", "score capped", "RMSE as given", "score as given"
    );
    let cell = |s: Option<RulScores>, f: fn(RulScores) -> f64| {
        s.map_or_else(|| "-".to_owned(), |s| format!("{:.2}", f(s)))
    };
    for run in runs {
        let _ = writeln!(
            out,
            "{:>6} {:>9.1} {:>12} {:>12} {:>14} {:>14}",
            run.seed,
            run.train_seconds,
            cell(run.last_capped, |s| s.rmse),
            cell(run.last_capped, |s| s.score),
            cell(run.last_uncapped, |s| s.rmse),
            cell(run.last_uncapped, |s| s.score),
        );
    }
    let spread = |f: fn(&SeedRun) -> Option<f64>| {
        let values: Vec<f64> = runs.iter().filter_map(f).collect();
        Spread::of(&values).map_or_else(|| "-".to_owned(), |s| s.to_string())
    };
    let _ = writeln!(
        out,
        "{:>6} {:>9} {:>12} {:>12} {:>14} {:>14}",
        "mean",
        spread(|r| Some(r.train_seconds)),
        spread(|r| r.last_capped.map(|s| s.rmse)),
        spread(|r| r.last_capped.map(|s| s.score)),
        spread(|r| r.last_uncapped.map(|s| s.rmse)),
        spread(|r| r.last_uncapped.map(|s| s.score)),
    );
    out
}
