//! The twin through its public API: property tests of the health state
//! machine, scenarios on the simulated pump, and the simulator's CSV read
//! back by ingest.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use twinlab::ingest::{self, IngestOptions, TimeKind};
use twinlab::twin::sim::{self, write_csv};
use twinlab::twin::{
    AlarmState, Cause, ChannelCheck, ChannelConfig, Dwell, Event, Fault, FaultKind, Forecast,
    HealthMachine, HealthState, Level, LimitForecast, Observation, Quality, Reading, RulEstimate,
    Score, SimChannel, SimConfig, Simulator, TimeFormat, Twin, TwinConfig,
};

// ---------------------------------------------------------------------------
// Property tests of the state machine on random observations and actions.

/// One vibration channel (failure above 18 mm/s), short commissioning and
/// dwells so that random streams visit every state.
fn config() -> TwinConfig {
    TwinConfig {
        commissioning_readings: 3,
        dwell_enter: Dwell::readings(2),
        dwell_exit: Dwell::readings(3),
        channels: vec![ChannelConfig {
            name: "vibration".to_owned(),
            unit: "mm/s".to_owned(),
            min: 0.0,
            max: 50.0,
            scored: true,
            alarm_above: Some(7.1),
            failure_above: Some(18.0),
            failure_below: None,
        }],
        ..TwinConfig::default()
    }
}

const FAILURE_LIMIT: f64 = 18.0;

/// What one reading brings.
#[derive(Debug, Clone)]
struct Step {
    score: Option<f64>,
    value: f64,
    quality: Quality,
    rul: Option<RulEstimate>,
    limit_lower_hours: Option<f64>,
    failure: bool,
}

#[derive(Debug, Clone)]
enum Input {
    Reading(Step),
    Acknowledge,
    StartMaintenance,
    FinishMaintenance { reset_baseline: bool },
    ReportFailure,
}

fn rul() -> impl Strategy<Value = RulEstimate> {
    let estimate = |value: f64, down: f64, up: f64| RulEstimate {
        value,
        lower: (value - down).max(0.0),
        upper: value + up,
    };
    prop_oneof![
        4 => (0.0..150.0f64, 0.0..30.0f64, 0.0..30.0f64),
        1 => (0.0..3.0f64, 0.0..1.0f64, 0.0..3.0f64),
    ]
    .prop_map(move |(value, down, up)| estimate(value, down, up))
}

/// Readings of every kind; `failures` allows failure evidence in them.
fn step(failures: bool) -> impl Strategy<Value = Step> {
    let value = if failures {
        prop_oneof![8 => 0.0..17.0f64, 1 => 17.0..25.0f64].boxed()
    } else {
        (0.0..17.9f64).boxed()
    };
    let rul = if failures {
        prop::option::weighted(0.2, rul()).boxed()
    } else {
        // Never both an estimate below 1 and an upper band below 3.
        prop::option::weighted(
            0.2,
            rul().prop_map(|rul| RulEstimate {
                upper: rul.upper.max(3.0),
                ..rul
            }),
        )
        .boxed()
    };
    let quality = prop_oneof![
        12 => Just(Quality::Ok),
        1 => Just(Quality::Missing),
        1 => Just(Quality::Stuck),
        1 => Just(Quality::OutOfRange),
    ];
    (
        prop::option::weighted(0.9, 0.0..10.0f64),
        value,
        quality,
        rul,
        prop::option::weighted(0.1, 0.0..72.0f64),
        prop::bool::weighted(if failures { 0.01 } else { 0.0 }),
    )
        .prop_map(
            |(score, value, quality, rul, limit_lower_hours, failure)| Step {
                score,
                value,
                quality,
                rul,
                limit_lower_hours,
                failure,
            },
        )
}

fn input(failures: bool) -> impl Strategy<Value = Input> {
    prop_oneof![
        40 => step(failures).prop_map(Input::Reading),
        2 => Just(Input::Acknowledge),
        1 => Just(Input::StartMaintenance),
        1 => any::<bool>().prop_map(|reset_baseline| Input::FinishMaintenance { reset_baseline }),
        u32::from(failures) => Just(Input::ReportFailure),
    ]
}

fn observation(step: &Step, time_secs: f64) -> Observation {
    let hour = 3600.0;
    Observation {
        time_secs,
        score: step.score.map(|value| Score {
            value,
            channel: Some("vibration".to_owned()),
        }),
        time_to_limit: step.limit_lower_hours.map(|hours| LimitForecast {
            channel: "vibration".to_owned(),
            limit: 7.1,
            secs: 1.5 * hours * hour,
            lower_secs: hours * hour,
            upper_secs: Some(2.0 * hours * hour),
        }),
        rul: step.rul,
        channels: vec![ChannelCheck {
            channel: "vibration".to_owned(),
            value: (step.quality != Quality::Missing).then_some(step.value),
            quality: step.quality,
        }],
        failure: step.failure.then(|| "trip".to_owned()),
    }
}

/// A run of the machine: each event with the index of the input that caused
/// it, and the state after every input.
struct Run {
    machine: HealthMachine,
    events: Vec<(usize, Event)>,
    states: Vec<HealthState>,
}

fn drive(inputs: &[Input]) -> Run {
    let mut machine = HealthMachine::new(config()).unwrap();
    let mut events = Vec::new();
    let mut states = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let time = 1.7e9 + 60.0 * index as f64;
        let caused: Vec<Event> = match input {
            Input::Reading(step) => machine.observe(&observation(step, time)),
            Input::Acknowledge => machine.acknowledge(time, "seen").into_iter().collect(),
            Input::StartMaintenance => machine.start_maintenance(time, "").into_iter().collect(),
            Input::FinishMaintenance { reset_baseline } => machine
                .finish_maintenance(time, *reset_baseline)
                .into_iter()
                .collect(),
            Input::ReportFailure => machine.report_failure(time, "trip").into_iter().collect(),
        };
        events.extend(caused.into_iter().map(|event| (index, event)));
        states.push(machine.state());
    }
    Run {
        machine,
        events,
        states,
    }
}

/// Whether the cause explains the change from `from` to `to`.
fn cause_fits(event: &Event) -> bool {
    use HealthState::{Commissioning, Failed, Healthy, Maintenance, SensorFault};
    let (from, to) = (event.from, event.to);
    let (from_rank, to_rank) = (from.rank(), to.rank());
    match &event.cause {
        Cause::CommissioningComplete { .. } => from == Commissioning && to == Healthy,
        Cause::ScoreAbove { level, .. }
        | Cause::TimeToLimit { level, .. }
        | Cause::RulShort { level, .. } => {
            to == level.state() && matches!((from_rank, to_rank), (Some(a), Some(b)) if a < b)
        }
        Cause::Recovered { level, .. } => {
            matches!((from_rank, to_rank), (Some(a), Some(b)) if b < a)
                && to_rank.map(|rank| rank + 1) == level.state().rank()
        }
        Cause::SensorFault { .. } => {
            to == SensorFault && (from == Commissioning || from_rank.is_some())
        }
        Cause::DataRestored { .. } => from == SensorFault && to != SensorFault,
        Cause::FailureSignal { .. } | Cause::FailureLimit { .. } | Cause::RulExhausted { .. } => {
            to == Failed && from != Failed && from != Maintenance
        }
        Cause::MaintenanceStarted { .. } => to == Maintenance && from != Maintenance,
        Cause::MaintenanceFinished { .. } => {
            from == Maintenance && matches!(to, Healthy | Commissioning)
        }
        Cause::Acknowledged { .. } => from == to && event.alarm_from != event.alarm_to,
    }
}

/// The last `count` readings up to and including input `index`.
fn last_readings(inputs: &[Input], index: usize, count: usize) -> Vec<&Step> {
    inputs[..=index]
        .iter()
        .rev()
        .filter_map(|input| match input {
            Input::Reading(step) => Some(step),
            _ => None,
        })
        .take(count)
        .collect()
}

proptest! {
    #[test]
    fn no_transition_without_a_cause(inputs in prop::collection::vec(input(true), 1..300)) {
        let run = drive(&inputs);
        let mut expected_from = HealthState::Commissioning;
        for (seq, (_, event)) in run.events.iter().enumerate() {
            prop_assert_eq!(event.seq, seq as u64);
            prop_assert_eq!(event.from, expected_from, "{:?}", event);
            prop_assert!(cause_fits(event), "{:?}", event);
            prop_assert!(!event.reason.trim().is_empty());
            prop_assert!(event.is_transition() || event.cause.is_operator_action());
            expected_from = event.to;
        }

        // The state never changes between events.
        let mut latest = HealthState::Commissioning;
        let mut next_event = run.events.iter().peekable();
        for (index, state) in run.states.iter().enumerate() {
            while let Some((_, event)) = next_event.next_if(|(at, _)| *at == index) {
                latest = event.to;
            }
            prop_assert_eq!(*state, latest, "after input {}", index);
        }
        prop_assert_eq!(run.machine.state(), latest);
    }

    #[test]
    fn a_score_inside_the_band_never_flips_the_state(
        rank in 0usize..4,
        band in prop::collection::vec(0.0..=1.0f64, 1..200),
    ) {
        let config = config();
        let mut machine = HealthMachine::new(config.clone()).unwrap();
        let mut time = 0.0;
        let mut feed = |machine: &mut HealthMachine, score: f64| {
            time += 60.0;
            let step = Step {
                score: Some(score),
                value: 1.0,
                quality: Quality::Ok,
                rul: None,
                limit_lower_hours: None,
                failure: false,
            };
            machine.observe(&observation(&step, time))
        };
        for _ in 0..3 {
            feed(&mut machine, 0.0);
        }

        let (low, high, state) = if rank == 0 {
            (0.0, config.watch.score_enter, HealthState::Healthy)
        } else {
            let level = Level::ALL[rank - 1];
            let rule = *config.level(level);
            for _ in 0..2 {
                feed(&mut machine, rule.score_enter + 0.5);
            }
            (rule.score_exit, rule.score_enter, level.state())
        };
        prop_assert_eq!(machine.state(), state);

        for fraction in band {
            let score = (low + fraction * (high - low)).clamp(low, high);
            let events = feed(&mut machine, score);
            prop_assert!(events.is_empty(), "score {} moved it: {:?}", score, events);
        }
        prop_assert_eq!(machine.state(), state);
    }

    #[test]
    fn failed_is_reached_only_through_the_documented_paths(
        inputs in prop::collection::vec(input(true), 1..300),
    ) {
        let run = drive(&inputs);
        let dwell = config().dwell_enter.readings;
        let rules = config().failure;
        for (index, event) in &run.events {
            // Acknowledging in `Failed` is an event but not a transition.
            if !event.is_transition() {
                continue;
            }
            if event.from == HealthState::Failed {
                prop_assert_eq!(event.to, HealthState::Maintenance);
            }
            if event.to != HealthState::Failed {
                continue;
            }
            match (&event.cause, &inputs[*index]) {
                (Cause::FailureSignal { .. }, Input::ReportFailure) => {}
                (Cause::FailureSignal { .. }, Input::Reading(step)) => prop_assert!(step.failure),
                (Cause::FailureLimit { .. }, Input::Reading(_)) => {
                    let recent = last_readings(&inputs, *index, dwell);
                    prop_assert_eq!(recent.len(), dwell);
                    for step in recent {
                        prop_assert!(step.quality == Quality::Ok && step.value > FAILURE_LIMIT);
                    }
                }
                (Cause::RulExhausted { .. }, Input::Reading(_)) => {
                    let recent = last_readings(&inputs, *index, dwell);
                    prop_assert_eq!(recent.len(), dwell);
                    for step in recent {
                        let rul = step.rul.unwrap();
                        prop_assert!(rul.value < rules.rul_below);
                        prop_assert!(rul.upper < rules.rul_upper_below);
                    }
                }
                (cause, input) => prop_assert!(false, "failed by {:?} on {:?}", cause, input),
            }
        }
    }

    #[test]
    fn without_failure_evidence_the_asset_never_fails(
        inputs in prop::collection::vec(input(false), 1..300),
    ) {
        let run = drive(&inputs);
        prop_assert!(run.states.iter().all(|&state| state != HealthState::Failed));
    }

    #[test]
    fn replaying_gives_the_same_event_log(inputs in prop::collection::vec(input(true), 1..200)) {
        let first = drive(&inputs);
        let second = drive(&inputs);
        prop_assert_eq!(&first.events, &second.events);
    }

    #[test]
    fn alarms_stay_latched_until_acknowledged_and_cleared(
        inputs in prop::collection::vec(input(true), 1..300),
    ) {
        let run = drive(&inputs);
        let mut acknowledged = false;
        let mut alarm = AlarmState::Normal;
        for (_, event) in &run.events {
            prop_assert_eq!(event.alarm_from, alarm);
            prop_assert_eq!(event.alarm_to.is_active(), event.to.is_alarming(), "{:?}", event);
            let is_ack = matches!(event.cause, Cause::Acknowledged { .. });
            if event.alarm_to == AlarmState::ActiveUnacked
                && event.alarm_from != AlarmState::ActiveUnacked
            {
                acknowledged = false;
            }
            if is_ack {
                acknowledged = true;
            }
            if event.alarm_from != AlarmState::Normal && event.alarm_to == AlarmState::Normal {
                prop_assert!(acknowledged, "returned to normal unacknowledged: {:?}", event);
                prop_assert!(!event.to.is_alarming());
            }
            if event.alarm_from.needs_acknowledgement() && !event.alarm_to.needs_acknowledgement() {
                prop_assert!(is_ack, "acknowledged by {:?}", event.cause);
            }
            alarm = event.alarm_to;
        }
        prop_assert_eq!(run.machine.alarm(), alarm);
    }
}

// ---------------------------------------------------------------------------
// Scenarios on the simulated pump.

/// Runs the twin over `steps` simulator readings with `forecast` made from
/// the reading before (if any) and the simulator's truth; returns each event
/// with its step.
fn run_twin(
    simulator: &mut Simulator,
    twin: &mut Twin,
    steps: usize,
    forecast: impl Fn(Option<&Reading>, &[f64]) -> Forecast,
) -> Vec<(usize, Event)> {
    let mut events = Vec::new();
    let mut previous: Option<Reading> = None;
    for step in 0..steps {
        let reading = simulator.step();
        let prediction = forecast(previous.as_ref(), &simulator.truth().clean);
        let caused = twin.observe(&reading, Some(&prediction), None).unwrap();
        events.extend(caused.into_iter().map(|event| (step, event)));
        if twin.state() == HealthState::Failed {
            break;
        }
        previous = Some(reading);
    }
    events
}

/// The simulator's own noise-free values as the forecast.
fn oracle(_: Option<&Reading>, clean: &[f64]) -> Forecast {
    Forecast {
        values: clean.to_vec(),
        ..Forecast::default()
    }
}

/// The last reading as the forecast (none for the first).
fn persistence(previous: Option<&Reading>, _: &[f64]) -> Forecast {
    Forecast {
        values: previous.map_or_else(|| vec![f64::NAN; 4], |reading| reading.values.clone()),
        ..Forecast::default()
    }
}

#[test]
fn a_drifting_sensor_takes_the_asset_out_of_healthy_with_a_reason() {
    let drift_start = 300;
    let drift = Fault::new(
        FaultKind::Drift {
            channel: SimChannel::Temperature,
            rate_per_hour: 3.0,
        },
        drift_start,
        600,
    );
    let config = SimConfig {
        faults: vec![drift],
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(config).unwrap();
    let mut twin = Twin::new(TwinConfig::default()).unwrap();
    let events = run_twin(&mut simulator, &mut twin, 900, oracle);

    let (_, commissioned) = &events[0];
    assert_eq!(commissioned.to, HealthState::Healthy, "{events:#?}");
    let (step, left) = events
        .iter()
        .find(|(_, event)| event.from == HealthState::Healthy)
        .expect("the drift must take the asset out of Healthy");

    // No false alarm before the drift, and not long after it to notice.
    assert!(
        (drift_start as usize..drift_start as usize + 120).contains(step),
        "{step}"
    );
    let Cause::ScoreAbove { channel, score, .. } = &left.cause else {
        panic!("left Healthy because of {:?}", left.cause);
    };
    assert_eq!(channel.as_deref(), Some("temperature_c"));
    assert!(*score > 3.0);
    assert!(
        left.reason.starts_with("anomaly score") && left.reason.contains("on temperature_c"),
        "{}",
        left.reason
    );

    let csv = String::from_utf8(twin.log().to_csv().unwrap()).unwrap();
    assert!(csv.contains(&left.reason), "{csv}");
}

#[test]
fn the_pump_runs_to_failure_and_the_twin_warns_first() {
    // A life of about 40 h at 75 % load.
    let config = SimConfig {
        wear_rate_per_hour: 0.135,
        seed: 11,
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(config).unwrap();
    let mut twin = Twin::new(TwinConfig::default()).unwrap();
    let events = run_twin(&mut simulator, &mut twin, 5000, persistence);

    assert!(simulator.truth().failed, "the pump did not fail");
    assert_eq!(twin.state(), HealthState::Failed, "{events:#?}");
    let (_, failed) = events.last().unwrap();
    let Cause::FailureLimit { channel, value, .. } = &failed.cause else {
        panic!("failed because of {:?}", failed.cause);
    };
    assert_eq!(channel, "vibration_mm_s");
    assert!(*value > 18.0);

    let (_, warned) = events
        .iter()
        .find(|(_, event)| matches!(event.to, HealthState::Warning | HealthState::Critical))
        .expect("the twin must warn before the failure");
    let lead_hours = (failed.time_secs - warned.time_secs) / 3600.0;
    assert!(lead_hours > 2.0, "warned only {lead_hours:.1} h ahead");
    assert!(
        matches!(&warned.cause, Cause::TimeToLimit { channel, .. } if channel == "vibration_mm_s"),
        "{:?}",
        warned.cause
    );
    assert!(
        warned
            .reason
            .starts_with("vibration_mm_s forecast crosses 7.1 mm/s in ~"),
        "{}",
        warned.reason
    );
    assert!(
        events
            .iter()
            .any(|(_, event)| event.to == HealthState::Critical
                && event.time_secs < failed.time_secs),
        "{events:#?}"
    );
}

#[test]
fn the_twin_replays_a_simulated_stream_identically() {
    let faults = vec![
        Fault::new(
            FaultKind::Stuck {
                channel: SimChannel::Flow,
            },
            150,
            40,
        ),
        Fault::new(
            FaultKind::NoiseBurst {
                channel: SimChannel::Vibration,
                factor: 30.0,
            },
            250,
            30,
        ),
    ];
    let run = || {
        let config = SimConfig {
            faults: faults.clone(),
            ..SimConfig::default()
        };
        let mut simulator = Simulator::new(config).unwrap();
        let mut twin = Twin::new(TwinConfig::default()).unwrap();
        run_twin(&mut simulator, &mut twin, 400, oracle);
        twin.log().clone()
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    assert_eq!(first.to_csv().unwrap(), second.to_csv().unwrap());

    // The stuck flow sensor is a sensor fault, named in words.
    let fault = first
        .events()
        .iter()
        .find(|event| event.to == HealthState::SensorFault)
        .expect("a stuck sensor must be noticed");
    assert!(
        fault.reason.starts_with("flow_m3_h stuck at"),
        "{}",
        fault.reason
    );
    assert!(
        first
            .events()
            .iter()
            .any(|event| matches!(event.cause, Cause::DataRestored { .. }))
    );
}

#[test]
fn maintenance_resets_the_twin_and_says_so() {
    let mut simulator = Simulator::new(SimConfig::default()).unwrap();
    let mut twin = Twin::new(TwinConfig::default()).unwrap();
    run_twin(&mut simulator, &mut twin, 80, oracle);
    assert_eq!(twin.state(), HealthState::Healthy);

    let time = simulator.truth().time_secs;
    let failed = twin.report_failure(time, "motor trip").unwrap();
    assert_eq!(failed.alarm_to, AlarmState::ActiveUnacked);
    twin.acknowledge(time + 60.0, "crew on site").unwrap();
    twin.start_maintenance(time + 120.0, "replace bearing")
        .unwrap();
    assert_eq!(twin.alarm(), AlarmState::Normal);

    let finished = twin.finish_maintenance(time + 3600.0, true).unwrap();
    assert!(finished.reset_baseline());
    assert_eq!(twin.state(), HealthState::Commissioning);
    let events = run_twin(&mut simulator, &mut twin, 60, oracle);
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0].1.cause,
        Cause::CommissioningComplete { readings: 60 }
    ));

    let json = twin.log().to_json().unwrap();
    let back = twinlab::twin::EventLog::from_json(&json).unwrap();
    assert_eq!(&back, twin.log());
}

#[test]
fn simulated_csv_parses_with_ingest() {
    let dropout = Fault::new(
        FaultKind::Dropout {
            channel: SimChannel::Flow,
        },
        20,
        2,
    );
    let config = SimConfig {
        faults: vec![dropout],
        ..SimConfig::default()
    };
    let readings = Simulator::new(config).unwrap().run(200);

    for (format, kind) in [
        (TimeFormat::Iso8601, TimeKind::DateTime),
        (TimeFormat::EpochSecs, TimeKind::EpochSeconds),
    ] {
        let bytes = write_csv(&readings, format).unwrap();
        let parsed = ingest::parse("pump.csv", &bytes, &IngestOptions::default()).unwrap();
        let dataset = parsed.dataset;
        assert_eq!(dataset.time_kind, kind);
        assert_eq!(dataset.time_column.as_deref(), Some("time"));
        assert_eq!(dataset.len(), readings.len());
        let names: Vec<String> = dataset.channels.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, Simulator::channel_names());

        for (row, reading) in readings.iter().enumerate() {
            assert!((dataset.time_secs[row] - reading.time_secs).abs() < 1e-3);
            for (channel, &value) in dataset.channels.iter().zip(&reading.values) {
                let parsed = f64::from(channel.values[row]);
                if value.is_finite() {
                    assert!((parsed - value).abs() < 1e-3, "{} row {row}", channel.name);
                }
            }
        }
        // The empty cells of the dropout are repaired, not fatal.
        let flow = &dataset.channels[SimChannel::Flow.index()].values;
        assert!(flow[20].is_finite() && flow[21].is_finite());
    }

    let direct = sim::to_dataset("pump", &readings);
    assert_eq!(direct.len(), readings.len());
}
