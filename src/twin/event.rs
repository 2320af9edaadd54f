//! Events of the twin and their log: every change of health or alarm state,
//! and every operator action, with its time, cause and a reason in words.
//!
//! The log exports as CSV (one row per event, fields quoted by the `csv`
//! crate where needed) and as JSON (an array of events, causes tagged by
//! `kind`).

use serde::{Deserialize, Serialize};

use super::alarm::AlarmState;
use super::error::TwinError;
use super::observation::Quality;
use super::state::{HealthState, Level};

/// Why an event happened, as data (the event's `reason` says it in words).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// Enough valid readings were collected for the baseline.
    CommissioningComplete {
        /// Valid readings collected.
        readings: usize,
    },
    /// The anomaly score stayed above a level's enter threshold.
    ScoreAbove {
        /// The level entered.
        level: Level,
        /// The score of the reading that completed the dwell.
        score: f64,
        /// The level's enter threshold.
        threshold: f64,
        /// Readings in a row above it.
        readings: usize,
        /// The channel with the largest score, when known.
        channel: Option<String>,
    },
    /// A channel is forecast to cross its alarm limit within a level's
    /// horizon (earliest plausible crossing).
    TimeToLimit {
        /// The level entered.
        level: Level,
        /// The channel heading for its limit.
        channel: String,
        /// The alarm limit.
        limit: f64,
        /// Central estimate of the time to the crossing, seconds.
        secs: f64,
        /// Earliest plausible crossing, seconds.
        lower_secs: f64,
        /// Latest plausible crossing, seconds (`None`: no upper end).
        upper_secs: Option<f64>,
        /// The level's horizon, seconds.
        horizon_secs: f64,
    },
    /// The lower band of the RUL fell below a level's horizon.
    RulShort {
        /// The level entered.
        level: Level,
        /// Central RUL estimate.
        value: f64,
        /// Lower end of the band.
        lower: f64,
        /// Upper end of the band.
        upper: f64,
        /// The level's horizon.
        horizon: f64,
    },
    /// Every piece of evidence stayed clear of a level for the exit dwell.
    Recovered {
        /// The lowest level whose evidence cleared (the state steps below it).
        level: Level,
        /// The score of the reading that completed the dwell.
        score: Option<f64>,
        /// The level's exit threshold.
        threshold: f64,
        /// Readings in a row clear of it.
        readings: usize,
    },
    /// A channel's data could not be trusted for the enter dwell.
    SensorFault {
        /// The channel.
        channel: String,
        /// What is wrong with it.
        quality: Quality,
        /// Its value, when there was one.
        value: Option<f64>,
        /// Readings in a row with bad data.
        readings: usize,
    },
    /// Every channel read valid data for the exit dwell.
    DataRestored {
        /// Readings in a row with valid data.
        readings: usize,
    },
    /// An explicit failure signal.
    FailureSignal {
        /// What the signal said.
        description: String,
    },
    /// A channel stayed beyond its hard failure limit for the enter dwell.
    FailureLimit {
        /// The channel.
        channel: String,
        /// Its value.
        value: f64,
        /// The failure limit.
        limit: f64,
        /// Whether the limit is an upper one.
        above: bool,
        /// Readings in a row beyond it.
        readings: usize,
    },
    /// The RUL estimate and its upper band reached the failure rules.
    RulExhausted {
        /// Central RUL estimate.
        value: f64,
        /// Upper end of the band.
        upper: f64,
        /// Readings in a row that met the rules.
        readings: usize,
    },
    /// An operator started maintenance.
    MaintenanceStarted {
        /// The operator's note.
        note: String,
    },
    /// An operator finished maintenance; health is reset.
    MaintenanceFinished {
        /// Whether the caller should reset the model baseline (the scorer
        /// history, and retrain or recalibrate the forecaster).
        reset_baseline: bool,
    },
    /// An operator acknowledged the alarm.
    Acknowledged {
        /// The operator's note.
        note: String,
    },
}

impl Cause {
    /// Short name of the cause, as in exports.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CommissioningComplete { .. } => "commissioning_complete",
            Self::ScoreAbove { .. } => "score_above",
            Self::TimeToLimit { .. } => "time_to_limit",
            Self::RulShort { .. } => "rul_short",
            Self::Recovered { .. } => "recovered",
            Self::SensorFault { .. } => "sensor_fault",
            Self::DataRestored { .. } => "data_restored",
            Self::FailureSignal { .. } => "failure_signal",
            Self::FailureLimit { .. } => "failure_limit",
            Self::RulExhausted { .. } => "rul_exhausted",
            Self::MaintenanceStarted { .. } => "maintenance_started",
            Self::MaintenanceFinished { .. } => "maintenance_finished",
            Self::Acknowledged { .. } => "acknowledged",
        }
    }

    /// Whether the cause is one of the documented paths to `Failed`.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::FailureSignal { .. } | Self::FailureLimit { .. } | Self::RulExhausted { .. }
        )
    }

    /// Whether an operator caused the event.
    #[must_use]
    pub fn is_operator_action(&self) -> bool {
        matches!(
            self,
            Self::MaintenanceStarted { .. }
                | Self::MaintenanceFinished { .. }
                | Self::Acknowledged { .. }
        )
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Time in epoch seconds.
    pub time_secs: f64,
    /// Health state before.
    pub from: HealthState,
    /// Health state after (the same as `from` for an acknowledgement).
    pub to: HealthState,
    /// Alarm state before.
    pub alarm_from: AlarmState,
    /// Alarm state after.
    pub alarm_to: AlarmState,
    /// Why, as data.
    pub cause: Cause,
    /// Why, in words for a maintenance engineer.
    pub reason: String,
}

impl Event {
    /// Whether the caller should reset the model baseline (set when
    /// maintenance finished with a reset).
    #[must_use]
    pub fn reset_baseline(&self) -> bool {
        matches!(
            self.cause,
            Cause::MaintenanceFinished {
                reset_baseline: true
            }
        )
    }

    /// Whether the health state changed.
    #[must_use]
    pub fn is_transition(&self) -> bool {
        self.from != self.to
    }
}

/// The events of one twin, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventLog {
    events: Vec<Event>,
}

/// Column names of [`EventLog::to_csv`].
pub const CSV_HEADER: [&str; 10] = [
    "seq",
    "time_secs",
    "time_utc",
    "from",
    "to",
    "alarm_from",
    "alarm_to",
    "cause",
    "reset_baseline",
    "reason",
];

impl EventLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends events.
    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
    }

    /// The events, oldest first.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The log as CSV with a header row ([`CSV_HEADER`]); `time_utc` is
    /// ISO 8601 UTC.
    pub fn to_csv(&self) -> Result<Vec<u8>, TwinError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(CSV_HEADER)?;
        for event in &self.events {
            writer.write_record([
                event.seq.to_string(),
                event.time_secs.to_string(),
                iso_utc(event.time_secs),
                event.from.as_str().to_owned(),
                event.to.as_str().to_owned(),
                event.alarm_from.as_str().to_owned(),
                event.alarm_to.as_str().to_owned(),
                event.cause.kind().to_owned(),
                event.reset_baseline().to_string(),
                event.reason.clone(),
            ])?;
        }
        writer
            .into_inner()
            .map_err(|err| TwinError::Csv(csv::Error::from(err.into_error())))
    }

    /// The log as a pretty-printed JSON array.
    pub fn to_json(&self) -> Result<String, TwinError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Reads a log written by [`EventLog::to_json`].
    pub fn from_json(text: &str) -> Result<Self, TwinError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// Epoch seconds as ISO 8601 UTC (`2024-01-01T00:00:00Z`), or an empty
/// string when out of range.
pub(crate) fn iso_utc(secs: f64) -> String {
    if !secs.is_finite() {
        return String::new();
    }
    jiff::Timestamp::from_millisecond((secs * 1000.0).round() as i64)
        .map(|time| time.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Cause, Event, EventLog, iso_utc};
    use crate::twin::{AlarmState, HealthState};

    fn log() -> EventLog {
        let mut log = EventLog::new();
        log.extend([
            Event {
                seq: 0,
                time_secs: 1_704_067_200.0,
                from: HealthState::Healthy,
                to: HealthState::Warning,
                alarm_from: AlarmState::Normal,
                alarm_to: AlarmState::ActiveUnacked,
                cause: Cause::FailureSignal {
                    description: "x".to_owned(),
                },
                reason: "a reason, with a comma and \"quotes\"".to_owned(),
            },
            Event {
                seq: 1,
                time_secs: 1_704_067_260.0,
                from: HealthState::Maintenance,
                to: HealthState::Commissioning,
                alarm_from: AlarmState::Normal,
                alarm_to: AlarmState::Normal,
                cause: Cause::MaintenanceFinished {
                    reset_baseline: true,
                },
                reason: "maintenance finished".to_owned(),
            },
        ]);
        log
    }

    #[test]
    fn csv_has_a_header_and_quotes_fields() {
        let bytes = log().to_csv().unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, super::CSV_HEADER);

        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][9], "a reason, with a comma and \"quotes\"");
        assert_eq!(&rows[0][2], "2024-01-01T00:00:00Z");
        assert_eq!(&rows[1][8], "true");
        assert_eq!(&rows[1][7], "maintenance_finished");
    }

    #[test]
    fn json_round_trips() {
        let log = log();
        let text = log.to_json().unwrap();
        assert!(
            text.contains("\"kind\": \"maintenance_finished\""),
            "{text}"
        );
        assert_eq!(EventLog::from_json(&text).unwrap(), log);
        assert!(log.events()[1].reset_baseline());
        assert!(!log.events()[0].reset_baseline());
    }

    #[test]
    fn iso_time_is_utc() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(f64::NAN), "");
    }
}
