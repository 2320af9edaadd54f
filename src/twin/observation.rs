//! What the twin is given: raw [`Reading`]s and [`Forecast`]s from outside,
//! and the [`Observation`] the state machine sees once they are scored and
//! checked.

use serde::{Deserialize, Serialize};

/// One row of sensor values at one time, as a CSV file or the simulator
/// gives it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reading {
    /// Time of the reading in epoch seconds (UTC).
    pub time_secs: f64,
    /// One value per channel, in the order of the configured channels;
    /// `NaN` where the value is missing.
    pub values: Vec<f64>,
}

/// What a forecaster predicted for one reading, given to
/// [`Twin::observe`](super::Twin::observe) next to the reading itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Forecast {
    /// Predicted value of each channel for this reading, in channel order;
    /// `NaN` where there is no forecast.
    pub values: Vec<f64>,
    /// Conformal quantile of the absolute residual per channel, if the
    /// forecaster has one; the score is then `|residual| / quantile`
    /// instead of the rolling robust spread.
    pub quantiles: Option<Vec<f64>>,
    /// When a channel is predicted to cross its alarm limit, if the
    /// forecaster looks that far ahead. Without it the twin extrapolates
    /// a linear trend of each channel that has an alarm limit.
    pub time_to_limit: Option<LimitForecast>,
}

/// Data quality of one channel in one reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// The value can be trusted.
    Ok,
    /// No value: empty, `NaN` or infinite.
    Missing,
    /// The same value for the configured number of readings in a row.
    Stuck,
    /// Outside the channel's physical range.
    OutOfRange,
}

impl Quality {
    /// The name used in exports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Missing => "missing",
            Self::Stuck => "stuck",
            Self::OutOfRange => "out_of_range",
        }
    }
}

/// The quality verdict on one channel of a reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelCheck {
    /// Channel name.
    pub channel: String,
    /// The value read, `None` when missing.
    pub value: Option<f64>,
    /// Whether it can be trusted.
    pub quality: Quality,
}

/// The anomaly score of one reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `|residual|` over the recent spread (or the conformal quantile): about
    /// a z-score, so 3 is an unusual residual.
    pub value: f64,
    /// The channel with the largest score, when known.
    pub channel: Option<String>,
}

/// Predicted time until a channel crosses a limit, with a band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitForecast {
    /// The channel that is heading for the limit.
    pub channel: String,
    /// The limit, in the channel's unit.
    pub limit: f64,
    /// Central estimate of the time until the crossing, in seconds (0 when
    /// the channel is already at or beyond it).
    pub secs: f64,
    /// Earliest plausible crossing, in seconds.
    pub lower_secs: f64,
    /// Latest plausible crossing, in seconds; `None` when the band has no
    /// upper end.
    pub upper_secs: Option<f64>,
}

/// Remaining useful life with a band, in cycles or steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RulEstimate {
    /// Central estimate.
    pub value: f64,
    /// Lower end of the band (pessimistic).
    pub lower: f64,
    /// Upper end of the band (optimistic).
    pub upper: f64,
}

/// Everything the state machine needs to know about one reading.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Observation {
    /// Time in epoch seconds.
    pub time_secs: f64,
    /// Anomaly score, `None` while there is no forecast or too little
    /// history to scale the residual.
    pub score: Option<Score>,
    /// Predicted time until a channel crosses its alarm limit.
    pub time_to_limit: Option<LimitForecast>,
    /// Remaining useful life, if a model predicts it.
    pub rul: Option<RulEstimate>,
    /// Quality (and value) of each channel.
    pub channels: Vec<ChannelCheck>,
    /// An explicit failure signal (a trip, a sudden-failure flag from the
    /// control system) with its description.
    pub failure: Option<String>,
}
