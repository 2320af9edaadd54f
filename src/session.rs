//! A twin session: a source of readings (the simulated pump, or a loaded
//! dataset replayed row by row) streamed through a [`LiveTwin`], with the
//! controls a replay needs: advance, seek, inject a fault, operator actions.
//!
//! The page's worker and `twinlab twin` drive the same session; it knows
//! nothing of timers or speed, only of readings.
//!
//! Commissioning: the forecaster is fitted on the first
//! [`SessionConfig::commissioning`] readings of the source (the simulator
//! runs them first; a replay uses its first rows), and streaming starts
//! after them. Seeking back rebuilds the session and streams again up to
//! the wanted reading, with every fault injected so far at its own step, so
//! the same stream gives the same event log; operator actions (acknowledge,
//! maintenance) are not replayed.

use std::ops::Range;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::ingest::Dataset;
use crate::live::{LiveConfig, LiveError, LiveTwin, Step, StreamForecaster};
use crate::live::{dataset_readings, twin_config_for};
use crate::twin::{Event, Fault, FaultKind, Reading, SimConfig, Simulator, Twin, TwinConfig};

/// Errors of a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The live twin failed.
    #[error(transparent)]
    Live(#[from] LiveError),
    /// The twin refused a setting or an action.
    #[error(transparent)]
    Twin(#[from] crate::twin::TwinError),
    /// The source cannot be streamed.
    #[error("{0}")]
    Source(String),
}

/// Where the readings come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// The simulated pump ([`Simulator`]).
    Simulator {
        /// Its settings (faults scheduled from the start included).
        config: SimConfig,
    },
    /// A loaded dataset, row by row.
    Replay {
        /// The dataset.
        dataset: Dataset,
        /// Its channels the twin watches (indices into `dataset.channels`).
        channels: Vec<usize>,
    },
}

/// Settings of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// Readings the forecaster is fitted on before streaming starts.
    pub commissioning: usize,
    /// The live twin's forecaster, bands and adaptation.
    pub live: LiveConfig,
    /// The twin's settings; `None`: the simulator's defaults, or for a
    /// replay [`twin_config_for`] the commissioning rows.
    pub twin: Option<TwinConfig>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            commissioning: 720,
            live: LiveConfig::default(),
            twin: None,
        }
    }
}

/// The readings themselves.
#[derive(Debug, Clone)]
enum Source {
    Simulator(Box<Simulator>),
    Replay { readings: Vec<Reading>, next: usize },
}

impl Source {
    fn next(&mut self) -> Option<Reading> {
        match self {
            Self::Simulator(sim) => Some(sim.step()),
            Self::Replay { readings, next } => {
                let reading = readings.get(*next).cloned();
                *next += usize::from(reading.is_some());
                reading
            }
        }
    }
}

/// One asset's readings streamed through its twin.
#[derive(Debug, Clone)]
pub struct TwinSession {
    spec: SourceSpec,
    config: SessionConfig,
    device: Device,
    source: Source,
    live: LiveTwin,
    channels: Vec<String>,
    /// Faults injected while streaming, at their steps.
    injected: Vec<Fault>,
    /// Readings streamed (after commissioning).
    position: u64,
    /// Readings a replay can stream; `None` for the simulator.
    total: Option<u64>,
}

impl TwinSession {
    /// Commissions a session on `spec`: fits the forecaster on the first
    /// readings and gets ready to stream the rest.
    pub async fn start(
        spec: SourceSpec,
        config: SessionConfig,
        device: &Device,
    ) -> Result<Self, SessionError> {
        Self::build(spec, config, Vec::new(), device).await
    }

    async fn build(
        spec: SourceSpec,
        config: SessionConfig,
        injected: Vec<Fault>,
        device: &Device,
    ) -> Result<Self, SessionError> {
        let commissioning = config.commissioning;
        let (source, history, twin_config, channels, total) = match &spec {
            SourceSpec::Simulator { config: sim } => {
                let mut sim_config = sim.clone();
                sim_config.faults.extend(injected.iter().cloned());
                let mut simulator = Simulator::new(sim_config)?;
                let history: Vec<Vec<f64>> = simulator
                    .run(commissioning)
                    .into_iter()
                    .map(|reading| reading.values)
                    .collect();
                let twin = config.twin.clone().unwrap_or_default();
                let names = Simulator::channel_names();
                (
                    Source::Simulator(Box::new(simulator)),
                    history,
                    twin,
                    names,
                    None,
                )
            }
            SourceSpec::Replay { dataset, channels } => {
                check_replay(dataset, channels, commissioning)?;
                let rows: Range<usize> = 0..commissioning;
                let history = dataset_readings(dataset, channels, rows.clone())
                    .into_iter()
                    .map(|reading| reading.values)
                    .collect();
                let twin = config
                    .twin
                    .clone()
                    .unwrap_or_else(|| twin_config_for(dataset, channels, rows));
                let readings = dataset_readings(dataset, channels, commissioning..dataset.len());
                let total = readings.len() as u64;
                let names = channels
                    .iter()
                    .map(|&c| dataset.channels[c].name.clone())
                    .collect();
                (
                    Source::Replay { readings, next: 0 },
                    history,
                    twin,
                    names,
                    Some(total),
                )
            }
        };
        let forecaster = StreamForecaster::fit(&history, &config.live, device).await?;
        let live = LiveTwin::new(Twin::new(twin_config)?, forecaster, config.live.clone());
        Ok(Self {
            spec,
            config,
            device: device.clone(),
            source,
            live,
            channels,
            injected,
            position: 0,
            total,
        })
    }

    /// Streams up to `count` readings (fewer at the end of a replay).
    pub async fn advance(&mut self, count: usize) -> Result<Vec<Step>, SessionError> {
        let mut steps = Vec::with_capacity(count);
        for _ in 0..count {
            let Some(reading) = self.source.next() else {
                break;
            };
            steps.push(self.live.push(reading, None).await?);
            self.position += 1;
        }
        Ok(steps)
    }

    /// Moves to reading `to` (readings after commissioning): forward by
    /// streaming, back by rebuilding the session and streaming again.
    /// Returns the last `keep` steps streamed on the way.
    pub async fn seek(&mut self, to: u64, keep: usize) -> Result<Vec<Step>, SessionError> {
        let to = self.total.map_or(to, |total| to.min(total));
        if to < self.position {
            *self = Self::build(
                self.spec.clone(),
                self.config.clone(),
                self.injected.clone(),
                &self.device,
            )
            .await?;
        }
        let mut kept = std::collections::VecDeque::with_capacity(keep);
        while self.position < to {
            let batch = usize::try_from((to - self.position).min(256)).unwrap_or(256);
            for step in self.advance(batch).await? {
                if kept.len() == keep {
                    kept.pop_front();
                }
                if keep > 0 {
                    kept.push_back(step);
                }
            }
            if self.finished() {
                break;
            }
        }
        Ok(kept.into())
    }

    /// Injects a fault of `kind` into the simulator from the next reading
    /// for `duration` readings.
    pub fn inject(&mut self, kind: FaultKind, duration: u64) -> Result<Fault, SessionError> {
        let Source::Simulator(sim) = &mut self.source else {
            return Err(SessionError::Source(
                "faults can only be injected into the simulator, not into a replayed file"
                    .to_owned(),
            ));
        };
        let fault = Fault::new(kind, sim.next_step(), duration.max(1));
        sim.inject(fault.clone());
        self.injected.push(fault.clone());
        Ok(fault)
    }

    /// Acknowledges the alarm at the time of the last reading.
    pub fn acknowledge(&mut self) -> Option<Event> {
        let time = self.now_secs();
        self.live
            .twin_mut()
            .acknowledge(time, "acknowledged by the operator")
    }

    /// Starts maintenance at the time of the last reading.
    pub fn start_maintenance(&mut self) -> Result<Event, SessionError> {
        let time = self.now_secs();
        Ok(self
            .live
            .twin_mut()
            .start_maintenance(time, "started by the operator")?)
    }

    /// Finishes maintenance; with `reset_baseline` the twin commissions
    /// again.
    pub fn finish_maintenance(&mut self, reset_baseline: bool) -> Result<Event, SessionError> {
        let time = self.now_secs();
        Ok(self
            .live
            .twin_mut()
            .finish_maintenance(time, reset_baseline)?)
    }

    /// Turns the model's adaptation on or off.
    pub fn set_adaptation(&mut self, enabled: bool) {
        self.config.live.adaptation.enabled = enabled;
        self.live.set_adaptation(enabled);
    }

    /// The live twin (state, alarm, event log, latest forecast path).
    #[must_use]
    pub fn live(&self) -> &LiveTwin {
        &self.live
    }

    /// Names of the channels, in the order of a reading's values.
    #[must_use]
    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// Readings streamed so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Readings a replay can stream in all; `None` for the simulator.
    #[must_use]
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Whether a replay has streamed its last reading.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.total.is_some_and(|total| self.position >= total)
    }

    /// Faults injected while streaming.
    #[must_use]
    pub fn injected(&self) -> &[Fault] {
        &self.injected
    }

    /// Seconds between readings of the source.
    #[must_use]
    pub fn step_secs(&self) -> f64 {
        match &self.spec {
            SourceSpec::Simulator { config } => config.step_secs,
            SourceSpec::Replay { dataset, .. } => dataset.step_secs().unwrap_or(1.0),
        }
    }

    fn now_secs(&self) -> f64 {
        self.live.last_time_secs().unwrap_or(0.0)
    }
}

fn check_replay(
    dataset: &Dataset,
    channels: &[usize],
    commissioning: usize,
) -> Result<(), SessionError> {
    if channels.is_empty() {
        return Err(SessionError::Source(
            "pick at least one channel for the twin to watch".to_owned(),
        ));
    }
    if let Some(&bad) = channels.iter().find(|&&c| c >= dataset.channels.len()) {
        return Err(SessionError::Source(format!(
            "`{}` has {} channel(s); there is no channel {}",
            dataset.name,
            dataset.channels.len(),
            bad + 1
        )));
    }
    if dataset.len() <= commissioning + 1 {
        return Err(SessionError::Source(format!(
            "`{}` has {} row(s): the twin needs more than the {commissioning} it commissions on",
            dataset.name,
            dataset.len()
        )));
    }
    Ok(())
}

// The tests drive futures with the native `block_on`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::train::block_on;
    use crate::twin::{HealthState, SimChannel};

    fn short() -> SessionConfig {
        SessionConfig {
            commissioning: 240,
            ..SessionConfig::default()
        }
    }

    #[test]
    fn a_drift_fault_takes_the_simulated_pump_out_of_healthy_with_a_reason() {
        let device = Device::flex();
        let spec = SourceSpec::Simulator {
            config: SimConfig::default(),
        };
        let mut session = block_on(TwinSession::start(spec, short(), &device)).unwrap();
        block_on(session.advance(200)).unwrap();
        assert_eq!(session.live().twin().state(), HealthState::Healthy);
        let drift = FaultKind::Drift {
            channel: SimChannel::Vibration,
            rate_per_hour: 2.0,
        };
        session.inject(drift, 600).unwrap();
        let steps = block_on(session.advance(300)).unwrap();
        let event = steps
            .iter()
            .flat_map(|step| &step.events)
            .find(|event| event.from == HealthState::Healthy)
            .expect("the state leaves Healthy");
        assert!(event.reason.contains("vibration"), "{}", event.reason);
    }

    #[test]
    fn seeking_back_replays_the_same_events() {
        let device = Device::flex();
        let spec = SourceSpec::Simulator {
            config: SimConfig::default(),
        };
        let mut session = block_on(TwinSession::start(spec, short(), &device)).unwrap();
        block_on(session.advance(100)).unwrap();
        session
            .inject(
                FaultKind::Spike {
                    channel: SimChannel::Temperature,
                    magnitude: 15.0,
                },
                20,
            )
            .unwrap();
        block_on(session.advance(200)).unwrap();
        let log = session.live().twin().log().clone();
        assert!(!log.is_empty());
        let kept = block_on(session.seek(50, 10)).unwrap();
        assert_eq!(session.position(), 50);
        assert_eq!(kept.len(), 10);
        block_on(session.seek(300, 0)).unwrap();
        assert_eq!(session.live().twin().log(), &log);
    }

    #[test]
    fn a_replay_streams_its_rows_and_stops_at_the_end() {
        let device = Device::flex();
        let readings = Simulator::new(SimConfig::default()).unwrap().run(400);
        let dataset = crate::twin::sim::to_dataset("pump.csv", &readings);
        let spec = SourceSpec::Replay {
            dataset: dataset.clone(),
            channels: vec![1, 2],
        };
        let mut session = block_on(TwinSession::start(spec, short(), &device)).unwrap();
        assert_eq!(session.total(), Some(160));
        assert_eq!(session.channels(), ["temperature_c", "vibration_mm_s"]);
        let steps = block_on(session.advance(1000)).unwrap();
        assert_eq!(steps.len(), 160);
        assert!(session.finished());
        assert!(session.inject(FaultKind::SuddenFailure, 1).is_err());

        for (channels, needle) in [(vec![], "at least one"), (vec![9], "no channel 10")] {
            let spec = SourceSpec::Replay {
                dataset: dataset.clone(),
                channels,
            };
            let err = block_on(TwinSession::start(spec, short(), &device)).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
    }
}
