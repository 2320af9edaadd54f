//! Does the live twin's adaptation help? Forecast errors of the stream
//! forecaster with adaptation off and on, for the linear AR and the LSTM:
//!
//! - **regime change**: the simulated pump, whose load set point moves from
//!   75 % to 95 % partway and whose temperature sensor starts drifting at
//!   the same step; errors on the readings after the change;
//! - **control**: the same pump without faults; errors on the same readings
//!   (adaptation must not hurt where nothing changed);
//! - **NAB machine temperature**: the real series (5-minute readings with
//!   shutdowns and a failure), commissioned on its first week; errors on
//!   every later reading.
//!
//! Errors are the mean absolute error in each channel's own units at lead 1
//! and averaged over every lead of the horizon. It prints figures and
//! asserts nothing. Run with `cargo bench --bench adapt`.

// Native only: it blocks on futures, which the browser cannot.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::VecDeque;
    use std::path::PathBuf;
    use std::time::Instant;

    use burn::tensor::Device;
    use twinlab::ingest::{self, IngestOptions};
    use twinlab::live::{
        Adaptation, Ahead, LiveConfig, LiveTwin, ModelKind, StreamForecaster, dataset_readings,
        twin_config_for,
    };
    use twinlab::train::block_on;
    use twinlab::twin::{
        Fault, FaultKind, Reading, SimChannel, SimConfig, Simulator, Twin, TwinConfig,
    };

    /// One scenario: commissioning readings, streamed readings, the first
    /// streamed reading that counts, and the twin's settings.
    struct Scenario {
        name: &'static str,
        channels: Vec<String>,
        commissioning: Vec<Reading>,
        stream: Vec<Reading>,
        scored_from: usize,
        twin: TwinConfig,
    }

    /// Mean absolute errors per channel: `[channel]` at lead 1 and over the
    /// horizon.
    struct Errors {
        lead1: Vec<f64>,
        horizon: Vec<f64>,
        seconds: f64,
        adaptations: usize,
    }

    fn simulated(name: &'static str, faults: Vec<Fault>, change_step: usize) -> Scenario {
        const COMMISSIONING: usize = 1_000;
        const STEPS: usize = 4_000;
        let config = SimConfig {
            faults,
            ..SimConfig::default()
        };
        let mut simulator = Simulator::new(config).expect("the default simulator is valid");
        let mut readings = simulator.run(STEPS);
        let stream = readings.split_off(COMMISSIONING);
        Scenario {
            name,
            channels: Simulator::channel_names(),
            commissioning: readings,
            stream,
            scored_from: change_step - COMMISSIONING,
            twin: TwinConfig::default(),
        }
    }

    fn nab() -> Option<Scenario> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let file = "machine_temperature_system_failure.csv";
        let path = [root.join("../shared/data/nab"), root.join("www/data/nab")]
            .into_iter()
            .map(|dir| dir.join(file))
            .find(|path| path.is_file())?;
        let bytes = std::fs::read(&path).ok()?;
        let options = IngestOptions {
            max_bytes: usize::MAX,
            ..IngestOptions::default()
        };
        let dataset = ingest::parse(file, &bytes, &options).ok()?.dataset;
        // A week of 5-minute readings.
        let commissioning = 2_016;
        Some(Scenario {
            name: "NAB machine temperature",
            channels: dataset.channels.iter().map(|c| c.name.clone()).collect(),
            commissioning: dataset_readings(&dataset, &[0], 0..commissioning),
            stream: dataset_readings(&dataset, &[0], commissioning..dataset.len()),
            scored_from: 0,
            twin: twin_config_for(&dataset, &[0], 0..commissioning),
        })
    }

    fn run(scenario: &Scenario, forecaster: StreamForecaster, config: &LiveConfig) -> Errors {
        let twin = Twin::new(scenario.twin.clone()).expect("valid twin settings");
        let mut live = LiveTwin::new(twin, forecaster, config.clone());
        let channels = scenario.channels.len();
        let horizon = config.horizon;
        // `[lead][channel]` sums and counts.
        let mut sums = vec![vec![0.0_f64; channels]; horizon];
        let mut counts = vec![vec![0_usize; channels]; horizon];
        let mut paths: VecDeque<Ahead> = VecDeque::new();
        let started = Instant::now();
        for (index, reading) in scenario.stream.iter().enumerate() {
            if index >= scenario.scored_from {
                for path in &paths {
                    let lead = index as u64 - path.made_at;
                    let Some(values) = path.values.get(lead as usize - 1) else {
                        continue;
                    };
                    for (c, (&p, &a)) in values.iter().zip(&reading.values).enumerate() {
                        let error = (a - p).abs();
                        if error.is_finite() {
                            sums[lead as usize - 1][c] += error;
                            counts[lead as usize - 1][c] += 1;
                        }
                    }
                }
            }
            block_on(live.push(reading.clone(), None)).expect("a valid reading");
            if let Some(ahead) = live.ahead() {
                paths.push_back(ahead.clone());
                if paths.len() > horizon {
                    paths.pop_front();
                }
            }
        }
        let mae = |lead: usize, c: usize| sums[lead][c] / counts[lead][c].max(1) as f64;
        Errors {
            lead1: (0..channels).map(|c| mae(0, c)).collect(),
            horizon: (0..channels)
                .map(|c| (0..horizon).map(|lead| mae(lead, c)).sum::<f64>() / horizon as f64)
                .collect(),
            seconds: started.elapsed().as_secs_f64(),
            adaptations: live.adaptations(),
        }
    }

    pub fn main() {
        let change = 2_000;
        let after = |kind| Fault::new(kind, change as u64, u64::MAX);
        let mut scenarios = vec![
            simulated(
                "regime change (load 75 → 95 %, temperature sensor drift 0.5 °C/h)",
                vec![
                    after(FaultKind::LoadChange { load_pct: 95.0 }),
                    after(FaultKind::Drift {
                        channel: SimChannel::Temperature,
                        rate_per_hour: 0.5,
                    }),
                ],
                change,
            ),
            simulated("control (no faults)", Vec::new(), change),
        ];
        match nab() {
            Some(scenario) => scenarios.push(scenario),
            None => println!("NAB machine temperature: data not found, skipped"),
        }

        let device = Device::flex();
        for scenario in &scenarios {
            println!(
                "\n{}: {} commissioning readings, errors on {} streamed readings",
                scenario.name,
                scenario.commissioning.len(),
                scenario.stream.len() - scenario.scored_from
            );
            let header: Vec<String> = scenario
                .channels
                .iter()
                .map(|name| format!("{:>22}", format!("{name} (1 / all)")))
                .collect();
            println!("{:<26}{}", "model, adaptation", header.join(""));
            for model in [ModelKind::LinearAr, ModelKind::Lstm] {
                let config = LiveConfig {
                    model,
                    hidden: 16,
                    epochs: 4,
                    ..LiveConfig::default()
                };
                let history: Vec<Vec<f64>> = scenario
                    .commissioning
                    .iter()
                    .map(|reading| reading.values.clone())
                    .collect();
                let started = Instant::now();
                let forecaster = block_on(StreamForecaster::fit(&history, &config, &device))
                    .expect("the commissioning history is long enough");
                let fit_secs = started.elapsed().as_secs_f64();
                let mut off_horizon = Vec::new();
                for enabled in [false, true] {
                    let config = LiveConfig {
                        adaptation: Adaptation {
                            enabled,
                            ..config.adaptation
                        },
                        ..config.clone()
                    };
                    let errors = run(scenario, forecaster.clone(), &config);
                    let cells: Vec<String> = errors
                        .lead1
                        .iter()
                        .zip(&errors.horizon)
                        .map(|(one, all)| format!("{:>22}", format!("{one:.4} / {all:.4}")))
                        .collect();
                    let label = format!(
                        "{} {}",
                        match model {
                            ModelKind::LinearAr => "linear AR",
                            ModelKind::Lstm => "LSTM",
                        },
                        if enabled { "on" } else { "off" }
                    );
                    let change = if enabled {
                        let ratios: Vec<f64> = errors
                            .horizon
                            .iter()
                            .zip(&off_horizon)
                            .map(|(on, off): (&f64, &f64)| on / off.max(1e-12))
                            .collect();
                        let mean = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
                        format!("  horizon MAE {:+.1}% vs off", 100.0 * (mean - 1.0))
                    } else {
                        String::new()
                    };
                    println!(
                        "{label:<26}{}{change}  ({:.1} s stream, {:.1} s fit, {} adaptations)",
                        cells.join(""),
                        errors.seconds,
                        fit_secs,
                        errors.adaptations
                    );
                    if !enabled {
                        off_horizon = errors.horizon;
                    }
                }
            }
        }
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::main();
}
