//! Unit tests of the simulated pump: physics, faults, determinism.

use super::{Fault, FaultKind, SensorNoise, SimChannel, SimConfig, Simulator, to_dataset};

const QUIET: SensorNoise = SensorNoise {
    load_pct: 0.0,
    temperature_c: 0.0,
    vibration_mm_s: 0.0,
    flow_m3_h: 0.0,
};

fn quiet() -> SimConfig {
    SimConfig {
        noise: QUIET,
        daily_swing_pct: 0.0,
        ..SimConfig::default()
    }
}

fn column(readings: &[crate::twin::Reading], channel: SimChannel) -> Vec<f64> {
    readings
        .iter()
        .map(|reading| reading.values[channel.index()])
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_readings() {
    let run = |seed| {
        Simulator::new(SimConfig {
            seed,
            ..SimConfig::default()
        })
        .unwrap()
        .run(50)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));

    let readings = run(1);
    assert!((readings[1].time_secs - readings[0].time_secs - 60.0).abs() < 1e-9);
    let vibration = column(&readings, SimChannel::Vibration);
    let mean = vibration.iter().sum::<f64>() / vibration.len() as f64;
    let spread = vibration
        .iter()
        .map(|v| (v - mean).abs())
        .fold(0.0, f64::max);
    // Noise of 0.08 mm/s around 1.25 mm/s: visible, but small.
    assert!((mean - 1.25).abs() < 0.05, "{mean}");
    assert!(spread > 0.05 && spread < 0.5, "{spread}");
}

#[test]
fn wear_accelerates_to_failure_as_the_rul_says() {
    // A life of about ln 21 / (1.2 · 0.5625) ≈ 4.5 h at 75 % load.
    let config = SimConfig {
        wear_rate_per_hour: 1.2,
        ..quiet()
    };
    let mut simulator = Simulator::new(config).unwrap();
    simulator.step();
    let predicted = simulator.truth().rul_steps.unwrap();

    let mut wear = vec![simulator.truth().wear];
    while !simulator.truth().failed && wear.len() < 10_000 {
        simulator.step();
        wear.push(simulator.truth().wear);
    }
    let failed_at = wear.len() - 1;
    assert!(simulator.truth().failed);
    assert!(
        (predicted - failed_at as f64).abs() <= 2.0,
        "{predicted} vs {failed_at}"
    );
    assert!((260..290).contains(&failed_at), "{failed_at}");

    let increments: Vec<f64> = wear.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(increments.iter().all(|&step| step >= 0.0));
    assert!(increments[increments.len() - 2] > 10.0 * increments[0]);

    let clean = &simulator.truth().clean;
    assert!(clean[SimChannel::Vibration.index()] > 18.0, "{clean:?}");
    assert_eq!(simulator.truth().rul_steps, Some(0.0));
}

#[test]
fn temperature_lags_a_load_step() {
    let config = SimConfig {
        wear_rate_per_hour: 0.0,
        faults: vec![Fault::new(
            FaultKind::LoadChange { load_pct: 100.0 },
            10,
            10_000,
        )],
        ..quiet()
    };
    let mut simulator = Simulator::new(config).unwrap();
    let readings = simulator.run(400);
    let load = column(&readings, SimChannel::Load);
    let temperature = column(&readings, SimChannel::Temperature);

    // Load settles within minutes (τ 5 min), temperature within hours (τ 30 min).
    let (before, after) = (25.0 + 30.0 * 0.75, 25.0 + 30.0);
    assert!((temperature[10] - before).abs() < 1e-9);
    assert!((load[60] - 100.0).abs() < 0.01, "{}", load[60]);
    assert!(temperature[13] - before < 0.2 * (after - before));
    assert!(
        (temperature[399] - after).abs() < 0.01,
        "{}",
        temperature[399]
    );
    assert!(
        temperature
            .windows(2)
            .all(|pair| pair[1] >= pair[0] - 1e-12)
    );
}

#[test]
fn faults_act_on_the_sensors_not_the_pump() {
    let faults = vec![
        Fault::new(
            FaultKind::Spike {
                channel: SimChannel::Flow,
                magnitude: 30.0,
            },
            5,
            1,
        ),
        Fault::new(
            FaultKind::Drift {
                channel: SimChannel::Temperature,
                rate_per_hour: 6.0,
            },
            10,
            20,
        ),
        Fault::new(
            FaultKind::Stuck {
                channel: SimChannel::Vibration,
            },
            10,
            5,
        ),
        Fault::new(
            FaultKind::Dropout {
                channel: SimChannel::Load,
            },
            12,
            2,
        ),
    ];
    let config = SimConfig {
        seed: 3,
        faults,
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(config).unwrap();
    let mut readings = Vec::new();
    let mut clean = Vec::new();
    for _ in 0..40 {
        readings.push(simulator.step());
        clean.push(simulator.truth().clean.clone());
    }
    let error = |step: usize, channel: SimChannel| {
        readings[step].values[channel.index()] - clean[step][channel.index()]
    };

    assert!((error(5, SimChannel::Flow) - 30.0).abs() < 4.0);
    assert!(error(6, SimChannel::Flow).abs() < 4.0);
    // Ten minutes into a 6 °C/h drift: 1 °C off; gone when it ends.
    assert!((error(20, SimChannel::Temperature) - 1.0).abs() < 1.0);
    assert!(error(35, SimChannel::Temperature).abs() < 1.0);
    let vibration = column(&readings, SimChannel::Vibration);
    assert!(
        vibration[10..15]
            .iter()
            .all(|&v| v.to_bits() == vibration[10].to_bits())
    );
    assert_ne!(vibration[15].to_bits(), vibration[10].to_bits());
    let load = column(&readings, SimChannel::Load);
    assert!(load[12].is_nan() && load[13].is_nan() && load[14].is_finite());
}

#[test]
fn what_if_runs_a_copy() {
    let mut simulator = Simulator::new(SimConfig::default()).unwrap();
    simulator.run(10);
    let change = Fault::new(FaultKind::LoadChange { load_pct: 110.0 }, 0, u64::MAX);
    let (readings, harder) = simulator.what_if(&[change], 120);
    let (_, baseline) = simulator.what_if(&[], 120);

    assert_eq!(readings.len(), 120);
    assert_eq!(simulator.next_step(), 10);
    assert!(harder.wear > baseline.wear);
    assert!(harder.rul_steps.unwrap() < 0.6 * baseline.rul_steps.unwrap());

    // A sudden failure breaks the bearing at its step.
    let failure = Fault::new(FaultKind::SuddenFailure, 15, 1);
    let (readings, truth) = simulator.what_if(&[failure], 10);
    assert!(truth.failed);
    let vibration = column(&readings, SimChannel::Vibration);
    assert!(vibration[4] < 3.0 && vibration[5] > 20.0, "{vibration:?}");
}

#[test]
fn the_dataset_has_one_column_per_channel() {
    let readings = Simulator::new(SimConfig::default()).unwrap().run(5);
    let dataset = to_dataset("pump", &readings);
    assert_eq!(dataset.len(), 5);
    assert_eq!(
        dataset
            .channels
            .iter()
            .map(|channel| channel.name.as_str())
            .collect::<Vec<_>>(),
        ["load_pct", "temperature_c", "vibration_mm_s", "flow_m3_h"]
    );
    assert!((f64::from(dataset.channels[2].values[3]) - readings[3].values[2]).abs() < 1e-5);
}

#[test]
fn bad_settings_are_refused() {
    let config = SimConfig {
        step_secs: 0.0,
        ..SimConfig::default()
    };
    assert!(Simulator::new(config).is_err());
    let config = SimConfig {
        initial_wear: 1.0,
        ..SimConfig::default()
    };
    assert!(Simulator::new(config).is_err());
}
