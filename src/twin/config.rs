//! Settings of the twin: score thresholds with hysteresis, dwell times,
//! horizons for RUL and limit forecasts, failure rules, channels with their
//! physical ranges, and the scorer's window.
//!
//! Everything is serde data; a missing field takes its value from
//! [`TwinConfig::default`], which describes the simulated pump of
//! [`sim`](super::sim). [`TwinConfig::validate`] says what does not fit
//! together before the twin starts.

use serde::{Deserialize, Serialize};

use super::error::TwinError;
use super::sim::SimChannel;
use super::state::Level;

/// How long a condition must hold before it counts: at least `readings`
/// readings in a row and at least `secs` seconds from the first of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dwell {
    /// Readings in a row (at least 1).
    pub readings: usize,
    /// Seconds from the first reading of the run to the current one (0 for
    /// no time condition).
    pub secs: f64,
}

impl Dwell {
    /// A dwell of `readings` readings and no time condition.
    #[must_use]
    pub fn readings(readings: usize) -> Self {
        Self {
            readings,
            secs: 0.0,
        }
    }
}

impl Default for Dwell {
    fn default() -> Self {
        Self::readings(3)
    }
}

/// When the asset enters and leaves one level (watch, warning or critical).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelRule {
    /// The level is entered when the anomaly score is above this.
    pub score_enter: f64,
    /// The level is left only when the score is below this (less than
    /// `score_enter`: the gap between them is the hysteresis band).
    pub score_exit: f64,
    /// The level is entered when the lower band of the RUL is below this
    /// many cycles; `None` to ignore RUL for this level.
    #[serde(default)]
    pub rul_below: Option<f64>,
    /// The level is entered when the earliest plausible crossing of a
    /// channel's alarm limit is within this many seconds; `None` to ignore
    /// limit forecasts for this level.
    #[serde(default)]
    pub limit_within_secs: Option<f64>,
}

/// One sensor channel of the asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    /// Column name, as in the CSV header.
    pub name: String,
    /// Unit for messages, e.g. `mm/s`.
    #[serde(default)]
    pub unit: String,
    /// Lowest value the sensor can physically read.
    pub min: f64,
    /// Highest value the sensor can physically read.
    pub max: f64,
    /// Whether the channel's forecast residual counts in the anomaly score
    /// (off for inputs such as the load set point).
    #[serde(default = "scored_default")]
    pub scored: bool,
    /// Alarm limit that the twin forecasts the crossing of.
    #[serde(default)]
    pub alarm_above: Option<f64>,
    /// Above this value (held for the enter dwell) the asset has failed.
    #[serde(default)]
    pub failure_above: Option<f64>,
    /// Below this value (held for the enter dwell) the asset has failed.
    #[serde(default)]
    pub failure_below: Option<f64>,
}

fn scored_default() -> bool {
    true
}

/// When a RUL estimate means the asset has failed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailureRules {
    /// The central RUL estimate must be below this (cycles).
    pub rul_below: f64,
    /// And the upper band must be below this (cycles).
    pub rul_upper_below: f64,
}

impl Default for FailureRules {
    fn default() -> Self {
        Self {
            rul_below: 1.0,
            rul_upper_below: 3.0,
        }
    }
}

/// The rolling residual scorer (see [`score`](super::score)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScorerConfig {
    /// Recent residuals kept per channel.
    pub window: usize,
    /// Residuals needed before a score is given.
    pub min_history: usize,
    /// Floor of the spread as a share of the channel's physical range, so a
    /// quiet channel does not turn tiny residuals into huge scores.
    pub min_spread_fraction: f64,
}

impl Default for ScorerConfig {
    fn default() -> Self {
        Self {
            window: 60,
            min_history: 20,
            min_spread_fraction: 0.001,
        }
    }
}

/// All settings of one twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TwinConfig {
    /// Valid readings collected in `Commissioning` before the asset counts
    /// as healthy.
    pub commissioning_readings: usize,
    /// The watch level.
    pub watch: LevelRule,
    /// The warning level.
    pub warning: LevelRule,
    /// The critical level.
    pub critical: LevelRule,
    /// How long evidence must hold to escalate (also: bad data before a
    /// sensor fault, a failure limit or an exhausted RUL before `Failed`).
    pub dwell_enter: Dwell,
    /// How long evidence must stay clear to step down (also: good data to
    /// leave a sensor fault).
    pub dwell_exit: Dwell,
    /// A RUL or limit forecast that put the asset in a level only clears
    /// once it is beyond the level's horizon times this factor (at least 1).
    pub horizon_exit_factor: f64,
    /// When a RUL estimate means failure.
    pub failure: FailureRules,
    /// The sensor channels, in the order of the reading's values.
    pub channels: Vec<ChannelConfig>,
    /// A channel repeating exactly the same value this many readings in a row
    /// is stuck (0 turns the check off).
    pub stuck_readings: usize,
    /// The residual scorer.
    pub scorer: ScorerConfig,
    /// Readings in the linear trend that forecasts alarm-limit crossings
    /// (0 turns it off).
    pub trend_readings: usize,
    /// Width of the trend's band in standard errors of its slope.
    pub trend_band_sigmas: f64,
    /// Unit of RUL estimates in messages, e.g. `cycles`.
    pub rul_unit: String,
}

impl Default for TwinConfig {
    fn default() -> Self {
        const HOUR: f64 = 3600.0;
        Self {
            commissioning_readings: 60,
            watch: LevelRule {
                score_enter: 3.0,
                score_exit: 2.0,
                rul_below: Some(100.0),
                limit_within_secs: Some(48.0 * HOUR),
            },
            warning: LevelRule {
                score_enter: 4.5,
                score_exit: 3.0,
                rul_below: Some(50.0),
                limit_within_secs: Some(12.0 * HOUR),
            },
            critical: LevelRule {
                score_enter: 7.0,
                score_exit: 5.0,
                rul_below: Some(20.0),
                limit_within_secs: Some(2.0 * HOUR),
            },
            dwell_enter: Dwell::readings(3),
            dwell_exit: Dwell::readings(6),
            horizon_exit_factor: 1.2,
            failure: FailureRules::default(),
            channels: SimChannel::ALL
                .iter()
                .map(|channel| channel.config())
                .collect(),
            stuck_readings: 10,
            scorer: ScorerConfig::default(),
            trend_readings: 240,
            trend_band_sigmas: 3.0,
            rul_unit: "cycles".to_owned(),
        }
    }
}

impl TwinConfig {
    /// The rule of one level.
    #[must_use]
    pub fn level(&self, level: Level) -> &LevelRule {
        match level {
            Level::Watch => &self.watch,
            Level::Warning => &self.warning,
            Level::Critical => &self.critical,
        }
    }

    /// The configured channel called `name`.
    #[must_use]
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|channel| channel.name == name)
    }

    /// Checks that the settings fit together.
    pub fn validate(&self) -> Result<(), TwinError> {
        self.validate_levels()?;
        check_dwell("dwell_enter", self.dwell_enter)?;
        check_dwell("dwell_exit", self.dwell_exit)?;
        check(
            "commissioning_readings",
            self.commissioning_readings >= 1,
            "must be at least 1",
        )?;
        check(
            "horizon_exit_factor",
            self.horizon_exit_factor.is_finite() && self.horizon_exit_factor >= 1.0,
            "must be a number of at least 1",
        )?;
        check(
            "failure.rul_below",
            self.failure.rul_below.is_finite() && self.failure.rul_below >= 0.0,
            "must be a number of at least 0",
        )?;
        check(
            "failure.rul_upper_below",
            self.failure.rul_upper_below.is_finite() && self.failure.rul_upper_below > 0.0,
            "must be a positive number",
        )?;
        check(
            "stuck_readings",
            self.stuck_readings != 1,
            "must be 0 (off) or at least 2",
        )?;
        check(
            "scorer.window",
            self.scorer.window >= 3,
            "must be at least 3",
        )?;
        check(
            "scorer.min_history",
            (3..=self.scorer.window).contains(&self.scorer.min_history),
            "must be at least 3 and at most scorer.window",
        )?;
        check(
            "scorer.min_spread_fraction",
            self.scorer.min_spread_fraction.is_finite() && self.scorer.min_spread_fraction > 0.0,
            "must be a positive number",
        )?;
        check(
            "trend_readings",
            self.trend_readings == 0 || self.trend_readings >= 10,
            "must be 0 (off) or at least 10",
        )?;
        check(
            "trend_band_sigmas",
            self.trend_band_sigmas.is_finite() && self.trend_band_sigmas > 0.0,
            "must be a positive number",
        )?;
        self.validate_channels()
    }

    fn validate_levels(&self) -> Result<(), TwinError> {
        for level in Level::ALL {
            let rule = self.level(level);
            if !(rule.score_exit.is_finite() && rule.score_enter.is_finite()) {
                return Err(TwinError::Setting {
                    setting: "score_enter",
                    detail: format!("the {level} thresholds must be finite numbers"),
                });
            }
            if rule.score_exit < 0.0 {
                return Err(TwinError::Setting {
                    setting: "score_exit",
                    detail: format!("the {level} exit threshold must not be negative"),
                });
            }
            if rule.score_exit >= rule.score_enter {
                return Err(TwinError::ExitNotBelowEnter {
                    level,
                    exit: rule.score_exit,
                    enter: rule.score_enter,
                });
            }
            for (setting, horizon) in [
                ("rul_below", rule.rul_below),
                ("limit_within_secs", rule.limit_within_secs),
            ] {
                if horizon.is_some_and(|value| !(value.is_finite() && value > 0.0)) {
                    return Err(TwinError::Setting {
                        setting,
                        detail: format!("the {level} horizon must be a positive number"),
                    });
                }
            }
        }

        let [watch, warning, critical] = [&self.watch, &self.warning, &self.critical];
        increasing(
            "score_enter",
            [watch.score_enter, warning.score_enter, critical.score_enter],
        )?;
        increasing(
            "score_exit",
            [watch.score_exit, warning.score_exit, critical.score_exit],
        )?;
        shrinking(
            "rul_below",
            [watch.rul_below, warning.rul_below, critical.rul_below],
        )?;
        shrinking(
            "limit_within_secs",
            [
                watch.limit_within_secs,
                warning.limit_within_secs,
                critical.limit_within_secs,
            ],
        )
    }

    fn validate_channels(&self) -> Result<(), TwinError> {
        check(
            "channels",
            !self.channels.is_empty(),
            "at least one channel is needed",
        )?;

        for (index, channel) in self.channels.iter().enumerate() {
            let fail = |detail: String| TwinError::Channel {
                channel: channel.name.clone(),
                detail,
            };
            if channel.name.trim().is_empty() {
                return Err(fail(format!("channel {} has no name", index + 1)));
            }
            if self.channels[..index]
                .iter()
                .any(|other| other.name == channel.name)
            {
                return Err(TwinError::DuplicateChannel(channel.name.clone()));
            }
            if !(channel.min.is_finite() && channel.max.is_finite() && channel.min < channel.max) {
                return Err(fail(format!(
                    "the physical range {}..{} must be finite with min below max",
                    channel.min, channel.max
                )));
            }
            for (what, limit) in [
                ("alarm_above", channel.alarm_above),
                ("failure_above", channel.failure_above),
                ("failure_below", channel.failure_below),
            ] {
                if let Some(value) = limit
                    && !(value.is_finite() && channel.min <= value && value <= channel.max)
                {
                    return Err(fail(format!(
                        "{what} {value} is outside the physical range {}..{}",
                        channel.min, channel.max
                    )));
                }
            }
            if let (Some(alarm), Some(failure)) = (channel.alarm_above, channel.failure_above)
                && alarm >= failure
            {
                return Err(fail(format!(
                    "alarm_above {alarm} must be below failure_above {failure}"
                )));
            }
            if let (Some(low), Some(high)) = (channel.failure_below, channel.failure_above)
                && low >= high
            {
                return Err(fail(format!(
                    "failure_below {low} must be below failure_above {high}"
                )));
            }
        }
        Ok(())
    }
}

fn check(setting: &'static str, valid: bool, detail: &str) -> Result<(), TwinError> {
    if valid {
        Ok(())
    } else {
        Err(TwinError::Setting {
            setting,
            detail: detail.to_owned(),
        })
    }
}

fn check_dwell(setting: &'static str, dwell: Dwell) -> Result<(), TwinError> {
    if dwell.readings == 0 {
        return Err(TwinError::Setting {
            setting,
            detail: "readings must be at least 1".to_owned(),
        });
    }
    if !(dwell.secs.is_finite() && dwell.secs >= 0.0) {
        return Err(TwinError::Setting {
            setting,
            detail: "secs must be a number of at least 0".to_owned(),
        });
    }
    Ok(())
}

/// Scores must grow strictly from watch to critical.
fn increasing(setting: &'static str, values: [f64; 3]) -> Result<(), TwinError> {
    for pair in 0..2 {
        let (lower, higher) = (values[pair], values[pair + 1]);
        if lower >= higher {
            return Err(TwinError::LevelOrder {
                setting,
                detail: format!(
                    "{} {lower} must be below {} {higher}",
                    Level::ALL[pair],
                    Level::ALL[pair + 1]
                ),
            });
        }
    }
    Ok(())
}

/// Horizons that are set must shrink strictly from watch to critical.
fn shrinking(setting: &'static str, values: [Option<f64>; 3]) -> Result<(), TwinError> {
    let set: Vec<(Level, f64)> = Level::ALL
        .into_iter()
        .zip(values)
        .filter_map(|(level, value)| value.map(|value| (level, value)))
        .collect();
    for pair in set.windows(2) {
        let ((wider, wide), (narrower, narrow)) = (pair[0], pair[1]);
        if narrow >= wide {
            return Err(TwinError::LevelOrder {
                setting,
                detail: format!("{narrower} {narrow} must be below {wider} {wide}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{TwinConfig, TwinError};

    #[test]
    fn default_is_valid_and_round_trips_through_json() {
        let config = TwinConfig::default();
        assert!(config.validate().is_ok());

        let json = serde_json::to_string(&config).unwrap();
        let back: TwinConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);

        let partial: TwinConfig = serde_json::from_str(r#"{"commissioning_readings": 5}"#).unwrap();
        assert_eq!(partial.commissioning_readings, 5);
        assert_eq!(partial.channels, config.channels);
    }

    #[test]
    fn exit_at_or_above_enter_is_refused() {
        let mut config = TwinConfig::default();
        config.warning.score_exit = config.warning.score_enter;
        let err = config.validate().unwrap_err();
        assert!(matches!(err, TwinError::ExitNotBelowEnter { .. }), "{err}");
        assert!(err.to_string().contains("warning"), "{err}");
    }

    #[test]
    fn levels_out_of_order_are_refused() {
        let mut config = TwinConfig::default();
        config.critical.score_enter = 4.0;
        config.critical.score_exit = 3.5;
        assert!(matches!(
            config.validate(),
            Err(TwinError::LevelOrder {
                setting: "score_enter",
                ..
            })
        ));

        let mut config = TwinConfig::default();
        config.critical.rul_below = Some(80.0);
        assert!(matches!(
            config.validate(),
            Err(TwinError::LevelOrder {
                setting: "rul_below",
                ..
            })
        ));
    }

    #[test]
    fn bad_channels_are_refused() {
        let mut config = TwinConfig::default();
        config.channels[1].min = config.channels[1].max;
        assert!(matches!(config.validate(), Err(TwinError::Channel { .. })));

        let mut config = TwinConfig::default();
        let copy = config.channels[0].clone();
        config.channels.push(copy);
        assert!(matches!(
            config.validate(),
            Err(TwinError::DuplicateChannel(_))
        ));

        let mut config = TwinConfig::default();
        config.channels[2].failure_above = Some(1.0e6);
        assert!(matches!(config.validate(), Err(TwinError::Channel { .. })));

        let mut config = TwinConfig::default();
        config.dwell_exit.readings = 0;
        assert!(matches!(
            config.validate(),
            Err(TwinError::Setting {
                setting: "dwell_exit",
                ..
            })
        ));
    }
}
