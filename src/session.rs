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
//! maintenance, adaptation on or off) are replayed after the reading they
//! followed. [`SessionHistory`] is that record: a saved project restarts a
//! session from it ([`TwinSession::resume`]) and gets the same state and
//! event log back.

use std::collections::VecDeque;
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

/// What the operator did to a session.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OperatorAction {
    /// Acknowledge the alarm.
    Acknowledge,
    /// Start maintenance.
    StartMaintenance,
    /// Finish maintenance; with `reset_baseline` the twin commissions again.
    FinishMaintenance {
        /// Whether the twin commissions again.
        reset_baseline: bool,
    },
    /// Turn the model's adaptation on or off.
    Adaptation {
        /// On or off.
        enabled: bool,
    },
}

/// An operator action after reading `after` (counted after commissioning).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimedAction {
    /// Readings streamed before it.
    pub after: u64,
    /// What was done.
    pub action: OperatorAction,
}

/// Everything a session did beyond its source and settings: enough to
/// rebuild it at the same reading with the same state and event log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionHistory {
    /// Faults injected while streaming, at their steps.
    pub injected: Vec<Fault>,
    /// Operator actions, in the order they were taken.
    pub actions: Vec<TimedAction>,
    /// Readings streamed.
    pub position: u64,
}

fn sorted_by_reading(actions: &[TimedAction]) -> VecDeque<TimedAction> {
    let mut sorted = actions.to_vec();
    // Stable: actions after the same reading keep their order.
    sorted.sort_by_key(|action| action.after);
    sorted.into()
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
    /// Operator actions taken, in order.
    actions: Vec<TimedAction>,
    /// Recorded actions still to be replayed after a rebuild, by reading.
    replay: VecDeque<TimedAction>,
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
        Self::build(spec, config, SessionHistory::default(), device).await
    }

    /// Rebuilds a session on `spec` from its `history`: the same faults at
    /// their steps and the same operator actions after the same readings,
    /// streamed up to `history.position` (a replay stops at its end).
    /// Returns it with the last `keep` steps streamed on the way.
    pub async fn resume(
        spec: SourceSpec,
        config: SessionConfig,
        history: SessionHistory,
        keep: usize,
        device: &Device,
    ) -> Result<(Self, Vec<Step>), SessionError> {
        let position = history.position;
        let mut session = Self::build(spec, config, history, device).await?;
        let steps = session.seek(position, keep).await?;
        Ok((session, steps))
    }

    async fn build(
        spec: SourceSpec,
        config: SessionConfig,
        history: SessionHistory,
        device: &Device,
    ) -> Result<Self, SessionError> {
        let SessionHistory {
            injected, actions, ..
        } = history;
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
            replay: sorted_by_reading(&actions),
            actions,
            position: 0,
            total,
        })
    }

    /// Streams up to `count` readings (fewer at the end of a replay).
    pub async fn advance(&mut self, count: usize) -> Result<Vec<Step>, SessionError> {
        let mut steps = Vec::with_capacity(count);
        for _ in 0..count {
            self.replay_actions()?;
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
                self.history(),
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
        self.replay_actions()?;
        Ok(kept.into())
    }

    /// Takes the recorded actions that followed the readings streamed so
    /// far again (after a rebuild).
    fn replay_actions(&mut self) -> Result<(), SessionError> {
        while let Some(next) = self.replay.front().copied() {
            if next.after > self.position {
                break;
            }
            self.replay.pop_front();
            self.apply(next.action)?;
        }
        Ok(())
    }

    /// What this session did: enough for [`TwinSession::resume`].
    #[must_use]
    pub fn history(&self) -> SessionHistory {
        SessionHistory {
            injected: self.injected.clone(),
            actions: self.actions.clone(),
            position: self.position,
        }
    }

    /// Takes `action` at the time of the last reading and records it, so
    /// that a rebuild replays it. Returns the event it logged (none for an
    /// acknowledgement with no alarm to acknowledge, or for adaptation).
    /// An action the twin refuses is not recorded.
    pub fn act(&mut self, action: OperatorAction) -> Result<Option<Event>, SessionError> {
        let event = self.apply(action)?;
        self.actions.push(TimedAction {
            after: self.position,
            action,
        });
        Ok(event)
    }

    fn apply(&mut self, action: OperatorAction) -> Result<Option<Event>, SessionError> {
        let time = self.now_secs();
        let twin = self.live.twin_mut();
        Ok(match action {
            OperatorAction::Acknowledge => twin.acknowledge(time, "acknowledged by the operator"),
            OperatorAction::StartMaintenance => {
                Some(twin.start_maintenance(time, "started by the operator")?)
            }
            OperatorAction::FinishMaintenance { reset_baseline } => {
                Some(twin.finish_maintenance(time, reset_baseline)?)
            }
            OperatorAction::Adaptation { enabled } => {
                self.live.set_adaptation(enabled);
                None
            }
        })
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
    fn resuming_from_the_history_gives_the_same_state_and_event_log() {
        let device = Device::flex();
        let spec = SourceSpec::Simulator {
            config: SimConfig::default(),
        };
        let mut session = block_on(TwinSession::start(spec.clone(), short(), &device)).unwrap();
        block_on(session.advance(100)).unwrap();
        let drift = FaultKind::Drift {
            channel: SimChannel::Vibration,
            rate_per_hour: 3.0,
        };
        session.inject(drift, 400).unwrap();
        block_on(session.advance(250)).unwrap();
        assert_ne!(session.live().twin().state(), HealthState::Healthy);
        let acked = session.act(OperatorAction::Acknowledge).unwrap();
        assert!(acked.is_some(), "an alarm was active to acknowledge");
        session
            .act(OperatorAction::Adaptation { enabled: false })
            .unwrap();
        block_on(session.advance(30)).unwrap();
        session.act(OperatorAction::StartMaintenance).unwrap();
        block_on(session.advance(20)).unwrap();
        let reset_baseline = false;
        session
            .act(OperatorAction::FinishMaintenance { reset_baseline })
            .unwrap();
        block_on(session.advance(40)).unwrap();
        // A refused action is not recorded.
        assert!(
            session
                .act(OperatorAction::FinishMaintenance { reset_baseline })
                .is_err()
        );

        let history = session.history();
        assert_eq!(history.position, 440);
        assert_eq!(history.actions.len(), 4);
        let (resumed, kept) = block_on(TwinSession::resume(
            spec,
            short(),
            history.clone(),
            25,
            &device,
        ))
        .unwrap();
        assert_eq!(kept.len(), 25);
        assert_eq!(resumed.position(), 440);
        assert_eq!(resumed.history(), history);
        assert_eq!(resumed.live().twin().log(), session.live().twin().log());
        assert_eq!(resumed.live().twin().state(), session.live().twin().state());
        assert_eq!(resumed.live().twin().alarm(), session.live().twin().alarm());

        // Seeking back and forth replays the actions once each.
        let mut again = resumed;
        block_on(again.seek(120, 0)).unwrap();
        block_on(again.seek(440, 0)).unwrap();
        assert_eq!(again.live().twin().log(), session.live().twin().log());
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
