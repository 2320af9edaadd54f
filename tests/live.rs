//! The live twin through the public API: the simulated pump with a fault,
//! a replayed CSV file, and the NAB machine-temperature series scored
//! against its labelled anomaly windows.

// Native only: these tests read files and block on futures.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use burn::tensor::Device;
use twinlab::detect::{self, DetectError};
use twinlab::ingest::{self, Dataset, IngestOptions};
use twinlab::live::{LiveConfig, LiveTwin, StreamForecaster, dataset_readings, twin_config_for};
use twinlab::train::block_on;
use twinlab::twin::sim::{TimeFormat, write_csv};
use twinlab::twin::{
    Cause, Fault, FaultKind, HealthState, Reading, SimChannel, SimConfig, Simulator, Twin,
    TwinConfig,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The NAB folder: the shared data where present, else the page's copy.
fn nab_dir() -> PathBuf {
    let shared = root().join("../shared/data/nab");
    if shared.is_dir() {
        shared
    } else {
        root().join("www/data/nab")
    }
}

fn parse(name: &str, bytes: &[u8]) -> Dataset {
    let options = IngestOptions {
        max_bytes: usize::MAX,
        ..IngestOptions::default()
    };
    ingest::parse(name, bytes, &options)
        .unwrap_or_else(|err| panic!("{name}: {err}"))
        .dataset
}

/// Fits the forecaster on `commissioning` and streams `stream`; returns the
/// twin and the (time, state) after every streamed reading.
fn run(
    commissioning: &[Reading],
    stream: &[Reading],
    twin: TwinConfig,
    config: LiveConfig,
) -> (LiveTwin, Vec<f64>, Vec<HealthState>) {
    let history: Vec<Vec<f64>> = commissioning.iter().map(|r| r.values.clone()).collect();
    let forecaster = block_on(StreamForecaster::fit(&history, &config, &Device::flex())).unwrap();
    let mut live = LiveTwin::new(Twin::new(twin).unwrap(), forecaster, config);
    let (mut times, mut states) = (Vec::new(), Vec::new());
    for reading in stream {
        let step = block_on(live.push(reading.clone(), None)).unwrap();
        times.push(reading.time_secs);
        states.push(step.state);
    }
    (live, times, states)
}

#[test]
fn a_vibration_drift_leaves_healthy_with_an_event_naming_the_channel() {
    let drift_step = 1_000;
    let config = SimConfig {
        faults: vec![Fault::new(
            FaultKind::Drift {
                channel: SimChannel::Vibration,
                rate_per_hour: 0.5,
            },
            drift_step,
            u64::MAX,
        )],
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(config).unwrap();
    let commissioning = simulator.run(500);
    let stream = simulator.run(1_500);
    let live_config = LiveConfig {
        score_lead: 6,
        ..LiveConfig::default()
    };
    let (live, times, states) = run(&commissioning, &stream, TwinConfig::default(), live_config);

    let drift_secs = simulator.config().start_secs + drift_step as f64 * 60.0;
    let before = states
        .iter()
        .zip(&times)
        .filter(|&(_, &t)| t < drift_secs)
        .map(|(state, _)| *state);
    assert!(
        before
            .clone()
            .all(|s| matches!(s, HealthState::Commissioning | HealthState::Healthy)),
        "escalated before the drift: {:?}",
        before.collect::<Vec<_>>()
    );
    let escalation = live
        .twin()
        .log()
        .events()
        .iter()
        .find(|event| event.from == HealthState::Healthy && event.to != HealthState::Healthy)
        .expect("the drift leaves Healthy");
    assert!(escalation.time_secs >= drift_secs, "{escalation:?}");
    let channel = match &escalation.cause {
        Cause::TimeToLimit { channel, .. } => Some(channel.as_str()),
        Cause::ScoreAbove { channel, .. } => channel.as_deref(),
        _ => None,
    };
    assert_eq!(channel, Some("vibration_mm_s"), "{escalation:?}");
    assert!(
        escalation.reason.contains("vibration_mm_s"),
        "{}",
        escalation.reason
    );
}

#[test]
fn replaying_a_small_csv_commissions_and_streams_every_row() {
    let mut simulator = Simulator::new(SimConfig::default()).unwrap();
    let readings = simulator.run(600);
    let bytes = write_csv(&readings, TimeFormat::Iso8601).unwrap();
    let dataset = parse("pump.csv", &bytes);
    assert_eq!(dataset.len(), 600);

    let channels: Vec<usize> = (0..dataset.channels.len()).collect();
    let commissioning = 200;
    let twin = twin_config_for(&dataset, &channels, 0..commissioning);
    let (live, times, states) = run(
        &dataset_readings(&dataset, &channels, 0..commissioning),
        &dataset_readings(&dataset, &channels, commissioning..dataset.len()),
        twin,
        LiveConfig::default(),
    );
    assert_eq!(times.len(), 400);
    assert!((times[0] - readings[commissioning].time_secs).abs() < 1e-6);
    assert_eq!(states.last(), Some(&HealthState::Healthy));
    // A healthy pump raises no alarm.
    let found = detect::episodes(&times, &states);
    assert!(found.alarms.is_empty(), "{:?}", found.alarms);
    assert!(live.adaptations() >= 7, "{}", live.adaptations());
}

#[test]
fn nab_machine_temperature_alarms_in_the_labelled_windows() {
    let dir = nab_dir();
    let file = "machine_temperature_system_failure.csv";
    let dataset = parse(file, &std::fs::read(dir.join(file)).unwrap());
    let labels = std::fs::read_to_string(dir.join("combined_windows.json")).unwrap();
    let windows = detect::parse_windows(&labels, file).unwrap();
    assert_eq!(windows.len(), 4);

    // The defaults of `twinlab twin --replay`: a week of commissioning,
    // scored at half the horizon.
    let commissioning = 2_016;
    let config = LiveConfig {
        score_lead: LiveConfig::default().horizon / 2,
        ..LiveConfig::default()
    };
    let (_, times, states) = run(
        &dataset_readings(&dataset, &[0], 0..commissioning),
        &dataset_readings(&dataset, &[0], commissioning..dataset.len()),
        twin_config_for(&dataset, &[0], 0..commissioning),
        config,
    );
    let found = detect::episodes(&times, &states);
    let report = detect::score(&found, &windows, times[0], times[times.len() - 1]);
    assert_eq!(report.scored_windows, 4, "{report}");
    assert!(report.detected >= 3, "{report}");
    // The system failure of February is caught.
    assert!(report.windows[3].detected, "{report}");
    assert!(report.false_alarms_per_week < 1.0, "{report}");
    assert_eq!(report.sensor_faults, 0, "{report}");
}

#[test]
fn bad_label_files_give_clear_errors() {
    let file = "machine_temperature_system_failure.csv";
    let labels = std::fs::read_to_string(nab_dir().join("combined_windows.json")).unwrap();
    let err = detect::parse_windows(&labels, "pump.csv").unwrap_err();
    assert!(matches!(err, DetectError::NoEntry { .. }), "{err}");
    assert!(err.to_string().contains("no entry for `pump.csv`"), "{err}");

    let truncated = &labels[..labels.len() / 2];
    let err = detect::parse_windows(truncated, file).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    assert!(err.to_string().contains("line"), "{err}");

    let swapped = format!(
        r#"{{"realKnownCause/{file}": [["2014-02-09 14:05:00.000000", "2014-02-07 14:55:00"]]}}"#
    );
    let err = detect::parse_windows(&swapped, file).unwrap_err();
    assert!(
        err.to_string().contains("window 1 of `realKnownCause/"),
        "{err}"
    );
    assert!(err.to_string().contains("before it starts"), "{err}");

    let garbled = format!(r#"{{"{file}": [["2014-02-31 00:00", "2014-03-01"]]}}"#);
    let err = detect::parse_windows(&garbled, file).unwrap_err();
    assert!(
        err.to_string()
            .contains("`2014-02-31 00:00` is not a date-time"),
        "{err}"
    );
}
