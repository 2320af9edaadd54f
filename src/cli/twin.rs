//! `twinlab twin`: the live twin on the simulated pump (with injected
//! faults) or on a replayed CSV file, reading by reading as on the page.
//!
//! The first readings **commission** the stream forecaster (it is fitted on
//! them); every later reading is pushed through a [`LiveTwin`], which scores
//! it against its forecast, runs the health state machine and adapts the
//! forecaster. The command prints the state transitions with their reasons,
//! the time spent in each state and the alarm episodes; with `--labels` it
//! scores the alarms against labelled anomaly windows ([`crate::detect`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use clap::{ArgGroup, Args, ValueEnum};
use serde_json::{Value, json};

use super::fault::{FAULT_HELP, parse_fault};
use crate::detect::{self, DetectionReport, Episodes};
use crate::ingest::Dataset;
use crate::live::{LiveConfig, LiveTwin, ModelKind, StreamForecaster, dataset_readings};
use crate::train::block_on;
use crate::twin::event::iso_utc;
use crate::twin::{EventLog, Fault, HealthState, Reading, SimConfig, Simulator, TwinConfig};

/// Seconds in a week: the default commissioning covers one.
const WEEK_SECS: f64 = 7.0 * 24.0 * 3_600.0;

/// Options of `twinlab twin`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["simulate", "replay"])))]
pub(super) struct TwinArgs {
    /// Run the simulated pump for STEPS readings (commissioning included).
    #[arg(long, value_name = "STEPS")]
    simulate: Option<usize>,
    /// Replay the readings of a CSV file.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Seed of the simulator's noise.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Inject a fault: KIND[:CHANNEL]@START[+STEPS][:VALUE] (repeatable; see --help).
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault, long_help = FAULT_HELP)]
    faults: Vec<Fault>,
    /// Channel of the replayed file to watch (repeatable; default: every channel).
    #[arg(long = "channel", value_name = "NAME")]
    channels: Vec<String>,
    /// Readings that fit the forecaster before streaming (default: a week of
    /// readings, at most a quarter of them, at least what the forecaster needs).
    #[arg(long, value_name = "ROWS")]
    commission: Option<usize>,
    /// Label file in NAB's `combined_windows.json` format: score the alarms
    /// against the windows of the replayed file.
    #[arg(long, value_name = "FILE", requires = "replay")]
    labels: Option<PathBuf>,
    /// The stream forecaster.
    #[arg(long, value_enum, default_value_t = ModelArg::Ar)]
    model: ModelArg,
    /// Keep the forecaster as fitted at commissioning (no adaptation).
    #[arg(long = "no-adapt")]
    frozen: bool,
    /// Readings of history each forecast reads.
    #[arg(long)]
    lookback: Option<usize>,
    /// Readings forecast ahead.
    #[arg(long)]
    horizon: Option<usize>,
    /// Lead the twin scores readings at, 1 to the horizon (default: half the horizon).
    #[arg(long)]
    score_lead: Option<usize>,
    /// Twin settings as JSON (fields of `TwinConfig`, e.g.
    /// `{"dwell_enter": {"readings": 6}}`) laid over the defaults.
    #[arg(long, value_name = "FILE")]
    twin_config: Option<PathBuf>,
    /// Write the event log here (.csv or .json).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// `--model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    /// Ridge linear autoregression per channel.
    Ar,
    /// The LSTM over all channels.
    Lstm,
}

/// What is streamed and how the twin is set up for it.
struct Source {
    /// In words, for the report.
    description: String,
    /// The file's name, to find its labels.
    file_name: Option<String>,
    channels: Vec<String>,
    commissioning: Vec<Reading>,
    stream: Vec<Reading>,
    twin_config: TwinConfig,
    /// Simulator step at which the bearing had failed (the simulator's
    /// truth), when it did.
    failed_at_step: Option<u64>,
}

/// What streaming did.
struct Outcome {
    times: Vec<f64>,
    states: Vec<HealthState>,
    log: EventLog,
    final_state: HealthState,
    final_alarm: &'static str,
    adaptations: usize,
    seconds: f64,
    /// Mean absolute one-step forecast error per channel (`None`: no pair).
    lead1_mae: Vec<Option<f64>>,
}

/// Runs `twinlab twin`.
pub(super) fn run(args: &TwinArgs) -> Result<(), String> {
    let mut live_config = LiveConfig {
        model: match args.model {
            ModelArg::Ar => ModelKind::LinearAr,
            ModelArg::Lstm => ModelKind::Lstm,
        },
        ..LiveConfig::default()
    };
    if let Some(lookback) = args.lookback {
        live_config.lookback = lookback.max(1);
    }
    if let Some(horizon) = args.horizon {
        live_config.horizon = horizon.max(1);
    }
    // A one-step forecast follows a change of level that takes an hour
    // closely; scoring at half the horizon (30 min for 5-minute data) still
    // sees it, and sudden jumps stand out at every lead.
    live_config.score_lead = args
        .score_lead
        .unwrap_or(live_config.horizon / 2)
        .clamp(1, live_config.horizon);
    live_config.adaptation.enabled = !args.frozen;
    let needed = 3 * (live_config.lookback + live_config.horizon);

    let mut source = match (args.simulate, &args.replay) {
        (Some(steps), _) => simulated(args, steps, needed)?,
        (None, Some(path)) => replayed(args, path, needed)?,
        (None, None) => return Err("give --simulate STEPS or --replay FILE".to_owned()),
    };
    if let Some(path) = &args.twin_config {
        source.twin_config = overlay(&source.twin_config, path)?;
    }
    let labels = match &args.labels {
        Some(path) => Some(read_labels(path, source.file_name.as_deref())?),
        None => None,
    };

    let outcome = stream(&source, live_config.clone())?;
    let detection = labels.map(|windows| {
        let found = detect::episodes(&outcome.times, &outcome.states);
        let first = outcome.times.first().copied().unwrap_or(0.0);
        let last = outcome.times.last().copied().unwrap_or(first);
        detect::score(&found, &windows, first, last)
    });
    if let Some(path) = &args.events {
        write_events(&outcome.log, path)?;
    }
    if args.json {
        println!(
            "{}",
            report_json(&source, &live_config, &outcome, detection.as_ref())
        );
    } else {
        print!(
            "{}",
            report_text(&source, &live_config, &outcome, detection.as_ref())
        );
    }
    Ok(())
}

/// The default commissioning length: a week of readings when the step is
/// known (so the forecaster has seen days and nights and a weekend), at most
/// a quarter of the readings (most of the data is still streamed), else a
/// tenth; never fewer than the forecaster `needed`.
fn default_commissioning(rows: usize, step_secs: Option<f64>, needed: usize) -> usize {
    let week = step_secs
        .filter(|step| step.is_finite() && *step > 0.0)
        .map(|step| (WEEK_SECS / step).round() as usize);
    week.map_or(rows / 10, |week| week.min(rows / 4))
        .max(needed)
}

fn simulated(args: &TwinArgs, steps: usize, needed: usize) -> Result<Source, String> {
    let config = SimConfig {
        seed: args.seed,
        faults: args.faults.clone(),
        ..SimConfig::default()
    };
    let step_secs = config.step_secs;
    let mut simulator = Simulator::new(config).map_err(|err| format!("simulator: {err}"))?;
    let commissioning = args
        .commission
        .unwrap_or_else(|| default_commissioning(steps, Some(step_secs), needed));
    check_lengths(commissioning, steps, needed)?;
    let mut readings = Vec::with_capacity(steps);
    let mut failed_at_step = None;
    for _ in 0..steps {
        readings.push(simulator.step());
        let truth = simulator.truth();
        if truth.failed && failed_at_step.is_none() {
            failed_at_step = Some(truth.step);
        }
    }
    let stream = readings.split_off(commissioning);
    let faults = if args.faults.is_empty() {
        "no faults".to_owned()
    } else {
        format!("{} fault(s)", args.faults.len())
    };
    Ok(Source {
        description: format!("simulated pump (seed {}, {faults})", args.seed),
        file_name: None,
        channels: Simulator::channel_names(),
        commissioning: readings,
        stream,
        twin_config: TwinConfig::default(),
        failed_at_step,
    })
}

fn replayed(args: &TwinArgs, path: &Path, needed: usize) -> Result<Source, String> {
    let dataset = super::load(path)?;
    let channels = channel_indices(&dataset, &args.channels)?;
    let rows = dataset.len();
    let commissioning = args
        .commission
        .unwrap_or_else(|| default_commissioning(rows, dataset.step_secs(), needed));
    check_lengths(commissioning, rows, needed)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    let twin_config = crate::live::twin_config_for(&dataset, &channels, 0..commissioning);
    Ok(Source {
        description: dataset.name.clone(),
        file_name: Some(dataset.name.clone()),
        channels: channels
            .iter()
            .map(|&c| dataset.channels[c].name.clone())
            .collect(),
        commissioning: dataset_readings(&dataset, &channels, 0..commissioning),
        stream: dataset_readings(&dataset, &channels, commissioning..rows),
        twin_config,
        failed_at_step: None,
    })
}

fn check_lengths(commissioning: usize, rows: usize, needed: usize) -> Result<(), String> {
    if commissioning < needed {
        return Err(format!(
            "--commission {commissioning} is too short: the forecaster needs at least {needed} \
             readings"
        ));
    }
    if commissioning >= rows {
        return Err(format!(
            "{rows} reading(s) leave nothing to stream after commissioning on {commissioning}"
        ));
    }
    Ok(())
}

/// Indices of the named channels (all of them when none is named).
fn channel_indices(dataset: &Dataset, names: &[String]) -> Result<Vec<usize>, String> {
    if names.is_empty() {
        return Ok((0..dataset.channels.len()).collect());
    }
    names
        .iter()
        .map(|name| {
            dataset.channel_index(name).ok_or_else(|| {
                let known: Vec<&str> = dataset.channels.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "{} has no channel `{name}`; it has {}",
                    dataset.name,
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// `base` with the fields of the JSON file at `path` laid over it (objects
/// merged key by key, everything else replaced), checked by the twin.
fn overlay(base: &TwinConfig, path: &Path) -> Result<TwinConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let patch: Value =
        serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))?;
    if !patch.is_object() {
        return Err(format!(
            "{}: twin settings must be a JSON object",
            path.display()
        ));
    }
    let mut value = serde_json::to_value(base).map_err(|err| err.to_string())?;
    merge(&mut value, patch);
    serde_json::from_value(value).map_err(|err| format!("{}: {err}", path.display()))
}

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, patch) => *base = patch,
    }
}

fn read_labels(path: &Path, file: Option<&str>) -> Result<Vec<detect::LabelWindow>, String> {
    let file = file.ok_or_else(|| "--labels needs --replay FILE".to_owned())?;
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    detect::parse_windows(&text, file).map_err(|err| format!("{}: {err}", path.display()))
}

/// Fits the forecaster on the commissioning readings and streams the rest.
fn stream(source: &Source, config: LiveConfig) -> Result<Outcome, String> {
    let device = Device::flex();
    let history: Vec<Vec<f64>> = source
        .commissioning
        .iter()
        .map(|reading| reading.values.clone())
        .collect();
    let forecaster = block_on(StreamForecaster::fit(&history, &config, &device))
        .map_err(|err| format!("fitting the forecaster: {err}"))?;
    let twin = crate::twin::Twin::new(source.twin_config.clone())
        .map_err(|err| format!("twin settings: {err}"))?;
    let mut live = LiveTwin::new(twin, forecaster, config);

    let channels = source.channels.len();
    let mut errors = vec![(0.0_f64, 0_usize); channels];
    let mut times = Vec::with_capacity(source.stream.len());
    let mut states = Vec::with_capacity(source.stream.len());
    let started = Instant::now();
    for (offset, reading) in source.stream.iter().enumerate() {
        let step = block_on(live.push(reading.clone(), None)).map_err(|err| {
            format!(
                "reading {} ({}): {err}",
                source.commissioning.len() + offset + 1,
                iso_utc(reading.time_secs)
            )
        })?;
        if let Some(predicted) = &step.predicted {
            for ((sum, count), (p, a)) in
                errors.iter_mut().zip(predicted.iter().zip(&reading.values))
            {
                let error = (a - p).abs();
                if error.is_finite() {
                    *sum += error;
                    *count += 1;
                }
            }
        }
        times.push(reading.time_secs);
        states.push(step.state);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Outcome {
        times,
        states,
        log: live.twin().log().clone(),
        final_state: live.twin().state(),
        final_alarm: live.twin().alarm().as_str(),
        adaptations: live.adaptations(),
        seconds,
        lead1_mae: errors
            .iter()
            .map(|&(sum, count)| (count > 0).then(|| sum / count as f64))
            .collect(),
    })
}

fn write_events(log: &EventLog, path: &Path) -> Result<(), String> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let bytes = match extension.as_deref() {
        Some("csv") => log.to_csv().map_err(|err| err.to_string())?,
        Some("json") => log.to_json().map_err(|err| err.to_string())?.into_bytes(),
        _ => {
            return Err(format!(
                "--events {}: the name must end in .csv or .json",
                path.display()
            ));
        }
    };
    std::fs::write(path, bytes).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn model_words(config: &LiveConfig) -> &'static str {
    match config.model {
        ModelKind::LinearAr => "linear AR",
        ModelKind::Lstm => "LSTM",
    }
}

fn report_text(
    source: &Source,
    config: &LiveConfig,
    outcome: &Outcome,
    detection: Option<&DetectionReport>,
) -> String {
    let mut out = String::new();
    let adaptation = &config.adaptation;
    let _ = writeln!(
        out,
        "twin on {}: {} channel(s) ({})",
        source.description,
        source.channels.len(),
        source.channels.join(", ")
    );
    let _ = writeln!(
        out,
        "forecaster: {}, look-back {}, horizon {}, scored at lead {}, fitted on {} \
         commissioning readings{}",
        model_words(config),
        config.lookback,
        config.horizon,
        config.score_lead,
        source.commissioning.len(),
        if adaptation.enabled {
            format!(
                "; adapts every {} readings on the last {}",
                adaptation.every, adaptation.window
            )
        } else {
            "; no adaptation".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "streamed {} readings in {:.1} s ({:.0} per second), {} adaptation(s)",
        outcome.times.len(),
        outcome.seconds,
        outcome.times.len() as f64 / outcome.seconds.max(1e-9),
        outcome.adaptations
    );

    let _ = writeln!(out, "\nevents:");
    for event in outcome.log.events() {
        let change = if event.is_transition() {
            format!("{} → {}", event.from, event.to)
        } else {
            format!("alarm {} → {}", event.alarm_from, event.alarm_to)
        };
        let _ = writeln!(
            out,
            "  {}  {change:<24}  {}",
            iso_utc(event.time_secs),
            event.reason
        );
    }

    let _ = writeln!(out, "\ntime in each state:");
    let total: f64 = detect::time_in_states(&outcome.times, &outcome.states)
        .iter()
        .map(|(_, secs)| secs)
        .sum();
    for (state, secs) in detect::time_in_states(&outcome.times, &outcome.states) {
        let _ = writeln!(
            out,
            "  {:<14} {:>9.1} h {:>6.1}%",
            state.as_str(),
            secs / 3_600.0,
            100.0 * secs / total.max(1e-9)
        );
    }
    let found = detect::episodes(&outcome.times, &outcome.states);
    let _ = writeln!(out, "{}", episodes_text(&found));
    let _ = writeln!(
        out,
        "final state {}, alarm {}",
        outcome.final_state, outcome.final_alarm
    );
    if let Some(step) = source.failed_at_step {
        let _ = writeln!(out, "the simulated bearing failed at step {step}");
    }
    let mae: Vec<String> = source
        .channels
        .iter()
        .zip(&outcome.lead1_mae)
        .map(|(name, mae)| match mae {
            Some(mae) => format!("{name} {mae:.4}"),
            None => format!("{name} -"),
        })
        .collect();
    let _ = writeln!(out, "one-step forecast MAE: {}", mae.join(", "));
    if let Some(report) = detection {
        let _ = writeln!(out, "\nagainst the labelled windows:\n{report}");
    }
    out
}

fn episodes_text(found: &Episodes) -> String {
    let hours: f64 = found.alarms.iter().map(detect::Episode::hours).sum();
    let mut out = format!(
        "{} alarm episode(s) (warning or worse, {hours:.1} h in all)",
        found.alarms.len()
    );
    for episode in found.alarms.iter().take(20) {
        let _ = write!(
            out,
            "\n  {} for {:.1} h, worst {}{}",
            iso_utc(episode.start_secs),
            episode.hours(),
            episode.worst,
            if episode.ongoing { " (still on)" } else { "" }
        );
    }
    if found.alarms.len() > 20 {
        let _ = write!(out, "\n  … {} more", found.alarms.len() - 20);
    }
    let _ = write!(
        out,
        "\n{} sensor-fault episode(s)",
        found.sensor_faults.len()
    );
    out
}

fn report_json(
    source: &Source,
    config: &LiveConfig,
    outcome: &Outcome,
    detection: Option<&DetectionReport>,
) -> Value {
    let hours: serde_json::Map<String, Value> =
        detect::time_in_states(&outcome.times, &outcome.states)
            .into_iter()
            .map(|(state, secs)| (state.as_str().to_owned(), json!(secs / 3_600.0)))
            .collect();
    let mae: serde_json::Map<String, Value> = source
        .channels
        .iter()
        .zip(&outcome.lead1_mae)
        .map(|(name, mae)| (name.clone(), json!(mae)))
        .collect();
    let found = detect::episodes(&outcome.times, &outcome.states);
    json!({
        "source": source.description,
        "channels": source.channels,
        "model": config.model,
        "lookback": config.lookback,
        "horizon": config.horizon,
        "score_lead": config.score_lead,
        "adaptation": config.adaptation,
        "commissioning_readings": source.commissioning.len(),
        "streamed_readings": outcome.times.len(),
        "stream_seconds": outcome.seconds,
        "adaptations": outcome.adaptations,
        "events": outcome.log,
        "hours_in_state": hours,
        "alarm_episodes": found.alarms,
        "sensor_fault_episodes": found.sensor_faults,
        "final_state": outcome.final_state,
        "final_alarm": outcome.final_alarm,
        "simulator_failed_at_step": source.failed_at_step,
        "lead1_mae": mae,
        "detection": detection,
    })
}

// The settings compared are copied, not computed.
#[allow(clippy::float_cmp)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commissioning_defaults_to_a_week_within_a_quarter() {
        // 5-minute data: a week is 2016 readings.
        assert_eq!(default_commissioning(22_695, Some(300.0), 108), 2016);
        assert_eq!(default_commissioning(4_000, Some(300.0), 108), 1000);
        assert_eq!(default_commissioning(4_000, None, 108), 400);
        assert_eq!(default_commissioning(200, Some(60.0), 108), 108);
    }

    #[test]
    fn settings_are_laid_over_the_defaults() {
        let mut base = serde_json::to_value(TwinConfig::default()).unwrap();
        merge(
            &mut base,
            json!({"dwell_enter": {"readings": 9}, "stuck_readings": 0}),
        );
        let config: TwinConfig = serde_json::from_value(base).unwrap();
        assert_eq!(config.dwell_enter.readings, 9);
        assert_eq!(config.dwell_enter.secs, 0.0);
        assert_eq!(config.stuck_readings, 0);
        assert_eq!(config.channels, TwinConfig::default().channels);
    }
}
