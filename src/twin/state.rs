//! The health state machine of one asset.
//!
//! # States
//!
//! `Commissioning` (collecting history for the baseline), the health levels
//! `Healthy` < `Watch` < `Warning` < `Critical`, `Failed`, `Maintenance` and
//! `SensorFault` (data that cannot be trusted). The machine starts in
//! `Commissioning`.
//!
//! # Rules
//!
//! Each [`Observation`] is checked against these rules in this order; the
//! first that fires makes the one transition of that reading. In
//! `Maintenance` and `Failed` readings are ignored.
//!
//! 1. **Failure.** `Failed` is reached only by these paths, from any state
//!    but `Maintenance`:
//!    - an explicit failure signal ([`Observation::failure`] or
//!      [`HealthMachine::report_failure`]), at once;
//!    - a channel with valid data beyond its `failure_above` or
//!      `failure_below` limit for the enter dwell;
//!    - a RUL estimate below `failure.rul_below` whose upper band is below
//!      `failure.rul_upper_below`, for the enter dwell.
//!
//!    `Failed` is left only through maintenance.
//! 2. **Data quality.** A reading with any channel missing, stuck or out of
//!    its physical range is untrusted. Untrusted readings in a row for the
//!    enter dwell make the state `SensorFault` (from `Commissioning` or a
//!    health level); valid readings for the exit dwell return it to the
//!    state it left. An untrusted reading counts neither for nor against the
//!    evidence of rules 3 to 5.
//! 3. **Commissioning** ends after `commissioning_readings` valid readings,
//!    in `Healthy`.
//! 4. **Escalation.** Each level (watch, warning, critical) has three kinds of
//!    evidence: the anomaly score above its `score_enter`; the lower
//!    (pessimistic) band of the RUL below its `rul_below`; the earliest
//!    plausible crossing of a channel's alarm limit within its
//!    `limit_within_secs`. When one kind has held for the enter dwell for a
//!    level above the current one, the state goes to the highest such level
//!    (levels may be skipped).
//! 5. **Recovery.** A level's evidence is clear when the score is below its
//!    `score_exit` (or there is no score) and neither the RUL band nor a
//!    limit crossing is within its horizon times `horizon_exit_factor`. When
//!    the current level has been clear for the exit dwell, the state steps
//!    down past every level that has been clear that long.
//!
//! So a score between a level's `score_exit` and `score_enter` neither
//! enters nor leaves it: that is the hysteresis band, and with the dwell
//! times it keeps noise from making the state flap.
//!
//! # Operator actions
//!
//! - [`HealthMachine::acknowledge`] acknowledges the alarm (see
//!   [`alarm`](super::alarm) for its latching);
//! - [`HealthMachine::start_maintenance`] goes to `Maintenance` from any
//!   other state, `Failed` included;
//! - [`HealthMachine::finish_maintenance`] resets health: to `Healthy`, or to
//!   `Commissioning` when the baseline is reset (or was never complete). The
//!   event carries the `reset_baseline` flag for the caller to act on.
//!
//! Every change is an [`Event`] with a [`Cause`] and a reason in words; the
//! machine holds no clock and no randomness, so the same observations and
//! actions always give the same events.

use serde::{Deserialize, Serialize};

use super::alarm::AlarmState;
use super::config::{ChannelConfig, Dwell, TwinConfig};
use super::error::TwinError;
use super::event::{Cause, Event};
use super::observation::{ChannelCheck, LimitForecast, Observation, Quality, RulEstimate};
use super::words;

/// The health state of the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Collecting enough valid history for the baseline.
    Commissioning,
    /// Nothing unusual.
    Healthy,
    /// Something is unusual; keep an eye on it.
    Watch,
    /// Plan maintenance.
    Warning,
    /// Act now: failure is near.
    Critical,
    /// The asset has failed.
    Failed,
    /// The asset is being maintained; readings are ignored.
    Maintenance,
    /// The data cannot be trusted: missing, stuck or out of range.
    SensorFault,
}

impl HealthState {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::Commissioning,
        Self::Healthy,
        Self::Watch,
        Self::Warning,
        Self::Critical,
        Self::Failed,
        Self::Maintenance,
        Self::SensorFault,
    ];

    /// The name used in exports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commissioning => "commissioning",
            Self::Healthy => "healthy",
            Self::Watch => "watch",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Failed => "failed",
            Self::Maintenance => "maintenance",
            Self::SensorFault => "sensor_fault",
        }
    }

    /// Whether the asset's alarm condition is on in this state.
    #[must_use]
    pub fn is_alarming(self) -> bool {
        matches!(
            self,
            Self::Warning | Self::Critical | Self::Failed | Self::SensorFault
        )
    }

    /// The level of `Watch`, `Warning` and `Critical`.
    #[must_use]
    pub fn level(self) -> Option<Level> {
        match self {
            Self::Watch => Some(Level::Watch),
            Self::Warning => Some(Level::Warning),
            Self::Critical => Some(Level::Critical),
            _ => None,
        }
    }

    /// Place on the health scale: `Healthy` 0 to `Critical` 3; `None` for
    /// the other states.
    #[must_use]
    pub fn rank(self) -> Option<usize> {
        match self {
            Self::Healthy => Some(0),
            Self::Watch => Some(1),
            Self::Warning => Some(2),
            Self::Critical => Some(3),
            _ => None,
        }
    }

    /// The health state of a rank (3 and above are `Critical`).
    fn from_rank(rank: usize) -> Self {
        match rank {
            0 => Self::Healthy,
            1 => Self::Watch,
            2 => Self::Warning,
            _ => Self::Critical,
        }
    }

    /// How bad the alarm condition is, for re-sounding an acknowledged alarm.
    pub(crate) fn alarm_severity(self) -> u8 {
        match self {
            Self::SensorFault => 1,
            Self::Warning => 2,
            Self::Critical => 3,
            Self::Failed => 4,
            _ => 0,
        }
    }
}

impl std::fmt::Display for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level of concern with its own thresholds: watch, warning, critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// [`HealthState::Watch`].
    Watch,
    /// [`HealthState::Warning`].
    Warning,
    /// [`HealthState::Critical`].
    Critical,
}

impl Level {
    /// The levels from mildest to worst.
    pub const ALL: [Self; 3] = [Self::Watch, Self::Warning, Self::Critical];

    /// The name used in messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Watch => "watch",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The health state of this level.
    #[must_use]
    pub fn state(self) -> HealthState {
        match self {
            Self::Watch => HealthState::Watch,
            Self::Warning => HealthState::Warning,
            Self::Critical => HealthState::Critical,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run of consecutive readings for which a condition held.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Run {
    count: usize,
    since_secs: f64,
}

impl Run {
    fn update(&mut self, holds: bool, time_secs: f64) {
        if holds {
            if self.count == 0 {
                self.since_secs = time_secs;
            }
            self.count = self.count.saturating_add(1);
        } else {
            *self = Self::default();
        }
    }

    fn meets(self, dwell: Dwell, time_secs: f64) -> bool {
        self.count >= dwell.readings
            && (dwell.secs <= 0.0 || time_secs - self.since_secs >= dwell.secs)
    }
}

/// The runs of evidence for one level.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct LevelRuns {
    score: Run,
    limit: Run,
    rul: Run,
    clear: Run,
}

/// The health state machine: observations and operator actions in, events
/// out. See the [module docs](self) for its rules.
#[derive(Debug, Clone)]
pub struct HealthMachine {
    config: TwinConfig,
    state: HealthState,
    alarm: AlarmState,
    /// The state to return to when a sensor fault clears.
    resume: HealthState,
    commissioned: bool,
    valid_readings: usize,
    levels: [LevelRuns; 3],
    bad_data: Run,
    good_data: Run,
    /// One run per configured channel.
    failure_limits: Vec<Run>,
    rul_exhausted: Run,
    next_seq: u64,
}

impl HealthMachine {
    /// A machine in `Commissioning`, after checking `config`.
    pub fn new(config: TwinConfig) -> Result<Self, TwinError> {
        config.validate()?;
        let failure_limits = vec![Run::default(); config.channels.len()];
        Ok(Self {
            config,
            state: HealthState::Commissioning,
            alarm: AlarmState::Normal,
            resume: HealthState::Commissioning,
            commissioned: false,
            valid_readings: 0,
            levels: [LevelRuns::default(); 3],
            bad_data: Run::default(),
            good_data: Run::default(),
            failure_limits,
            rul_exhausted: Run::default(),
            next_seq: 0,
        })
    }

    /// The current health state.
    #[must_use]
    pub fn state(&self) -> HealthState {
        self.state
    }

    /// The current alarm state.
    #[must_use]
    pub fn alarm(&self) -> AlarmState {
        self.alarm
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &TwinConfig {
        &self.config
    }

    /// Applies the rules to one observation; returns the event of the
    /// transition it caused, if any.
    pub fn observe(&mut self, observation: &Observation) -> Vec<Event> {
        if matches!(self.state, HealthState::Maintenance | HealthState::Failed) {
            return Vec::new();
        }
        if let Some(event) = self.check_failure(observation) {
            return vec![event];
        }

        let time = observation.time_secs;
        let bad = observation
            .channels
            .iter()
            .find(|check| check.quality != Quality::Ok);
        self.bad_data.update(bad.is_some(), time);
        self.good_data.update(bad.is_none(), time);

        if self.state == HealthState::SensorFault {
            return self.check_restored(time).into_iter().collect();
        }
        if let Some(check) = bad {
            if self.bad_data.meets(self.config.dwell_enter, time) {
                return vec![self.enter_sensor_fault(time, check)];
            }
            return Vec::new();
        }
        if self.state == HealthState::Commissioning {
            return self.commission(time).into_iter().collect();
        }

        self.update_evidence(observation);
        self.escalate(observation)
            .or_else(|| self.recover(observation))
            .into_iter()
            .collect()
    }

    /// An explicit failure signal: `Failed` at once, unless the asset is in
    /// maintenance or has already failed.
    pub fn report_failure(&mut self, time_secs: f64, description: &str) -> Option<Event> {
        if matches!(self.state, HealthState::Maintenance | HealthState::Failed) {
            return None;
        }
        Some(self.fail_by_signal(time_secs, description))
    }

    /// Acknowledges the alarm; `None` when there is nothing to acknowledge.
    pub fn acknowledge(&mut self, time_secs: f64, note: &str) -> Option<Event> {
        let alarm_to = self.alarm.acknowledged()?;
        let cause = Cause::Acknowledged {
            note: note.to_owned(),
        };
        Some(self.record(
            time_secs,
            self.state,
            alarm_to,
            cause,
            words::acknowledged(note),
        ))
    }

    /// Starts maintenance from any state but `Maintenance`.
    pub fn start_maintenance(&mut self, time_secs: f64, note: &str) -> Result<Event, TwinError> {
        if self.state == HealthState::Maintenance {
            return Err(TwinError::AlreadyInMaintenance);
        }
        self.reset_runs();
        let cause = Cause::MaintenanceStarted {
            note: note.to_owned(),
        };
        let reason = words::maintenance_started(note);
        Ok(self.transition(time_secs, HealthState::Maintenance, cause, reason))
    }

    /// Finishes maintenance and resets health: `Healthy`, or `Commissioning`
    /// when `reset_baseline` is set or commissioning never completed. The
    /// event's [`Event::reset_baseline`] tells the caller to reset the model
    /// baseline.
    pub fn finish_maintenance(
        &mut self,
        time_secs: f64,
        reset_baseline: bool,
    ) -> Result<Event, TwinError> {
        if self.state != HealthState::Maintenance {
            return Err(TwinError::NotInMaintenance);
        }
        self.reset_runs();
        if reset_baseline {
            self.valid_readings = 0;
            self.commissioned = false;
        }
        let to = if self.commissioned {
            HealthState::Healthy
        } else {
            HealthState::Commissioning
        };
        let cause = Cause::MaintenanceFinished { reset_baseline };
        let reason = words::maintenance_finished(reset_baseline, to);
        Ok(self.transition(time_secs, to, cause, reason))
    }

    /// Rule 1: the documented paths to `Failed`.
    fn check_failure(&mut self, observation: &Observation) -> Option<Event> {
        let time = observation.time_secs;
        if let Some(description) = &observation.failure {
            return Some(self.fail_by_signal(time, description));
        }

        let dwell = self.config.dwell_enter;
        let mut breached = None;
        for (run, channel) in self.failure_limits.iter_mut().zip(&self.config.channels) {
            let beyond = observation
                .channels
                .iter()
                .find(|check| check.channel == channel.name && check.quality == Quality::Ok)
                .and_then(|check| check.value)
                .and_then(|value| breach(channel, value));
            run.update(beyond.is_some(), time);
            if breached.is_none()
                && run.meets(dwell, time)
                && let Some((value, limit, above)) = beyond
            {
                breached = Some((channel.clone(), value, limit, above, run.count));
            }
        }
        if let Some((channel, value, limit, above, count)) = breached {
            let reason = words::failure_limit(&channel, value, limit, above, count);
            let cause = Cause::FailureLimit {
                channel: channel.name,
                value,
                limit,
                above,
                readings: count,
            };
            return Some(self.transition(time, HealthState::Failed, cause, reason));
        }

        let rules = self.config.failure;
        let exhausted = observation
            .rul
            .filter(|rul| rul.value < rules.rul_below && rul.upper < rules.rul_upper_below);
        self.rul_exhausted.update(exhausted.is_some(), time);
        if let Some(rul) = exhausted
            && self.rul_exhausted.meets(dwell, time)
        {
            let count = self.rul_exhausted.count;
            let reason = words::rul_exhausted(&rul, &rules, &self.config.rul_unit, count);
            let cause = Cause::RulExhausted {
                value: rul.value,
                upper: rul.upper,
                readings: count,
            };
            return Some(self.transition(time, HealthState::Failed, cause, reason));
        }
        None
    }

    fn fail_by_signal(&mut self, time_secs: f64, description: &str) -> Event {
        let cause = Cause::FailureSignal {
            description: description.to_owned(),
        };
        let reason = words::failure_signal(description);
        self.transition(time_secs, HealthState::Failed, cause, reason)
    }

    /// Rule 2, entering: untrusted data for the enter dwell.
    fn enter_sensor_fault(&mut self, time_secs: f64, check: &ChannelCheck) -> Event {
        self.resume = self.state;
        self.clear_evidence();
        let count = self.bad_data.count;
        let channel = self.config.channel(&check.channel);
        let reason = words::sensor_fault(check, channel, self.config.stuck_readings, count);
        let cause = Cause::SensorFault {
            channel: check.channel.clone(),
            quality: check.quality,
            value: check.value.filter(|value| value.is_finite()),
            readings: count,
        };
        self.transition(time_secs, HealthState::SensorFault, cause, reason)
    }

    /// Rule 2, leaving: valid data for the exit dwell.
    fn check_restored(&mut self, time_secs: f64) -> Option<Event> {
        if !self.good_data.meets(self.config.dwell_exit, time_secs) {
            return None;
        }
        let to = self.resume;
        let count = self.good_data.count;
        self.clear_evidence();
        let reason = words::data_restored(count, to);
        Some(self.transition(
            time_secs,
            to,
            Cause::DataRestored { readings: count },
            reason,
        ))
    }

    /// Rule 3.
    fn commission(&mut self, time_secs: f64) -> Option<Event> {
        self.valid_readings = self.valid_readings.saturating_add(1);
        if self.valid_readings < self.config.commissioning_readings {
            return None;
        }
        self.commissioned = true;
        self.clear_evidence();
        let count = self.valid_readings;
        let cause = Cause::CommissioningComplete { readings: count };
        let reason = words::commissioning(count);
        Some(self.transition(time_secs, HealthState::Healthy, cause, reason))
    }

    /// Updates every level's runs of evidence with one trusted observation.
    fn update_evidence(&mut self, observation: &Observation) {
        let time = observation.time_secs;
        let factor = self.config.horizon_exit_factor;
        let score = observation.score.as_ref().map(|score| score.value);
        let limit = observation.time_to_limit.as_ref();
        let rul = observation.rul.as_ref();

        for (runs, level) in self.levels.iter_mut().zip(Level::ALL) {
            let rule = self.config.level(level);
            runs.score
                .update(score.is_some_and(|score| score > rule.score_enter), time);
            runs.limit
                .update(limit_within(limit, rule.limit_within_secs, 1.0), time);
            runs.rul.update(rul_within(rul, rule.rul_below, 1.0), time);

            let clear = score.is_none_or(|score| score.is_nan() || score < rule.score_exit)
                && !limit_within(limit, rule.limit_within_secs, factor)
                && !rul_within(rul, rule.rul_below, factor);
            runs.clear.update(clear, time);
        }
    }

    /// Rule 4.
    fn escalate(&mut self, observation: &Observation) -> Option<Event> {
        let rank = self.state.rank()?;
        let time = observation.time_secs;
        let dwell = self.config.dwell_enter;

        for (index, level) in Level::ALL.into_iter().enumerate().skip(rank).rev() {
            let runs = self.levels[index];
            let rule = *self.config.level(level);

            if let Some(score) = &observation.score
                && runs.score.meets(dwell, time)
            {
                let reason = words::score_above(level, rule.score_enter, score, runs.score.count);
                let cause = Cause::ScoreAbove {
                    level,
                    score: score.value,
                    threshold: rule.score_enter,
                    readings: runs.score.count,
                    channel: score.channel.clone(),
                };
                return Some(self.transition(time, level.state(), cause, reason));
            }

            if let (Some(forecast), Some(horizon)) =
                (&observation.time_to_limit, rule.limit_within_secs)
                && runs.limit.meets(dwell, time)
            {
                let unit = self
                    .config
                    .channel(&forecast.channel)
                    .map_or("", |channel| channel.unit.as_str());
                let reason = words::time_to_limit(level, forecast, unit, horizon);
                let cause = Cause::TimeToLimit {
                    level,
                    channel: forecast.channel.clone(),
                    limit: forecast.limit,
                    secs: forecast.secs,
                    lower_secs: forecast.lower_secs,
                    upper_secs: forecast.upper_secs,
                    horizon_secs: horizon,
                };
                return Some(self.transition(time, level.state(), cause, reason));
            }

            if let (Some(rul), Some(horizon)) = (observation.rul, rule.rul_below)
                && runs.rul.meets(dwell, time)
            {
                let reason = words::rul_short(level, &rul, horizon, &self.config.rul_unit);
                let cause = Cause::RulShort {
                    level,
                    value: rul.value,
                    lower: rul.lower,
                    upper: rul.upper,
                    horizon,
                };
                return Some(self.transition(time, level.state(), cause, reason));
            }
        }
        None
    }

    /// Rule 5.
    fn recover(&mut self, observation: &Observation) -> Option<Event> {
        let rank = self.state.rank()?;
        let time = observation.time_secs;
        let dwell = self.config.dwell_exit;

        let mut target = rank;
        while target > 0 && self.levels[target - 1].clear.meets(dwell, time) {
            target -= 1;
        }
        if target == rank {
            return None;
        }

        // `target < rank <= 3`, so it indexes a level: the lowest one cleared.
        let level = Level::ALL[target];
        let threshold = self.config.level(level).score_exit;
        let count = self.levels[target].clear.count;
        let score = observation
            .score
            .as_ref()
            .map(|score| score.value)
            .filter(|score| score.is_finite());
        let reason = words::recovered(level, score, threshold, count);
        let cause = Cause::Recovered {
            level,
            score,
            threshold,
            readings: count,
        };
        Some(self.transition(time, HealthState::from_rank(target), cause, reason))
    }

    fn clear_evidence(&mut self) {
        self.levels = [LevelRuns::default(); 3];
    }

    fn reset_runs(&mut self) {
        self.clear_evidence();
        self.bad_data = Run::default();
        self.good_data = Run::default();
        self.failure_limits.fill(Run::default());
        self.rul_exhausted = Run::default();
    }

    /// A change of health state, with the alarm following it.
    fn transition(
        &mut self,
        time_secs: f64,
        to: HealthState,
        cause: Cause,
        reason: String,
    ) -> Event {
        let alarm_to = self.alarm.after_transition(self.state, to);
        self.record(time_secs, to, alarm_to, cause, reason)
    }

    fn record(
        &mut self,
        time_secs: f64,
        to: HealthState,
        alarm_to: AlarmState,
        cause: Cause,
        reason: String,
    ) -> Event {
        let event = Event {
            seq: self.next_seq,
            time_secs,
            from: self.state,
            to,
            alarm_from: self.alarm,
            alarm_to,
            cause,
            reason,
        };
        log::debug!(
            "twin: {} -> {} (alarm {}): {}",
            event.from,
            event.to,
            event.alarm_to,
            event.reason
        );
        self.next_seq += 1;
        self.state = to;
        self.alarm = alarm_to;
        event
    }
}

/// The value, limit and side when `value` is beyond a failure limit.
fn breach(channel: &ChannelConfig, value: f64) -> Option<(f64, f64, bool)> {
    if let Some(limit) = channel.failure_above
        && value > limit
    {
        return Some((value, limit, true));
    }
    if let Some(limit) = channel.failure_below
        && value < limit
    {
        return Some((value, limit, false));
    }
    None
}

/// Whether the earliest plausible crossing is within `horizon × factor`.
fn limit_within(forecast: Option<&LimitForecast>, horizon: Option<f64>, factor: f64) -> bool {
    match (forecast, horizon) {
        (Some(forecast), Some(horizon)) => forecast.lower_secs < horizon * factor,
        _ => false,
    }
}

/// Whether the lower band of the RUL is below `horizon × factor`.
fn rul_within(rul: Option<&RulEstimate>, horizon: Option<f64>, factor: f64) -> bool {
    match (rul, horizon) {
        (Some(rul), Some(horizon)) => rul.lower < horizon * factor,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
