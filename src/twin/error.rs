//! The error type of the twin: settings that do not fit together, readings
//! of the wrong shape, operator actions that do not fit the state, and
//! exports that could not be written.

use super::state::Level;

/// Why the twin refused a setting, a reading or an action.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// A level leaves at a score that is not below the score it enters at,
    /// so there is no hysteresis band and the state could flap.
    #[error("the {level} level: score_exit {exit} must be below score_enter {enter}")]
    ExitNotBelowEnter {
        /// The level with the bad pair.
        level: Level,
        /// Its exit threshold.
        exit: f64,
        /// Its enter threshold.
        enter: f64,
    },

    /// The levels are not ordered: scores must grow from watch to critical,
    /// horizons must shrink.
    #[error("levels out of order in `{setting}`: {detail}")]
    LevelOrder {
        /// The setting, e.g. `score_enter`.
        setting: &'static str,
        /// Which two levels disagree, with their values.
        detail: String,
    },

    /// One setting is outside the values it can take.
    #[error("setting `{setting}`: {detail}")]
    Setting {
        /// The setting, e.g. `dwell_enter.readings`.
        setting: &'static str,
        /// What is wrong with its value.
        detail: String,
    },

    /// A channel's physical range or limits do not fit together.
    #[error("channel `{channel}`: {detail}")]
    Channel {
        /// The channel's name.
        channel: String,
        /// What is wrong.
        detail: String,
    },

    /// Two channels have the same name.
    #[error("channel `{0}` is configured twice")]
    DuplicateChannel(String),

    /// A reading does not have one value per configured channel.
    #[error("a reading has {found} values but the twin has {expected} channels")]
    ReadingShape {
        /// Number of configured channels.
        expected: usize,
        /// Number of values in the reading.
        found: usize,
    },

    /// A forecast does not have one value per configured channel.
    #[error("a forecast has {found} values but the twin has {expected} channels")]
    ForecastShape {
        /// Number of configured channels.
        expected: usize,
        /// Number of values in the forecast.
        found: usize,
    },

    /// A reading's time is not a finite number of seconds.
    #[error("a reading's time ({0}) is not a finite number of seconds")]
    BadTime(f64),

    /// Maintenance was started while the asset is already in maintenance.
    #[error("the asset is already in maintenance")]
    AlreadyInMaintenance,

    /// Maintenance was finished while the asset is not in maintenance.
    #[error("the asset is not in maintenance")]
    NotInMaintenance,

    /// The event log or simulated data could not be written as CSV.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),

    /// The event log could not be written or read as JSON.
    #[error("cannot write or read JSON: {0}")]
    Json(#[from] serde_json::Error),
}
