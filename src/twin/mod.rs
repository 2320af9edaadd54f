//! The digital twin of one asset: its health state, alarm and the reasons
//! for every change, and a virtual asset to run forward.
//!
//! A forecaster says what a sensor will read; the twin says what that means
//! for the asset. It consumes readings as they arrive and keeps:
//!
//! - the **health state** ([`HealthState`]), driven by the rules in
//!   [`state`]: commissioning, healthy, watch, warning, critical, failed,
//!   maintenance or sensor fault;
//! - one **alarm** that latches as in industrial alarm systems
//!   ([`AlarmState`], see [`alarm`]);
//! - the **event log** ([`EventLog`]): every change with its time, the states
//!   before and after, its [`Cause`] and a reason in words, exportable as CSV
//!   and JSON.
//!
//! | module | does |
//! |---|---|
//! | [`config`] | settings as serde data, checked by [`TwinConfig::validate`] |
//! | [`score`] | anomaly score from forecast residuals; data-quality checks |
//! | [`trend`] | time until a channel crosses its alarm limit, from a linear trend |
//! | [`state`] | the health state machine |
//! | [`alarm`] | the alarm's states |
//! | [`event`] | events, causes, the log and its export |
//! | [`sim`] | a seeded virtual pump with bearing wear and injectable faults |
//!
//! [`Twin`] ties them together for one stream of readings. It knows nothing
//! of the model: forecasts, conformal quantiles and RUL come in as plain
//! numbers ([`Forecast`], [`RulEstimate`]), so any forecaster, or a simple
//! persistence forecast, can drive it.

pub mod alarm;
pub mod config;
pub mod error;
pub mod event;
pub mod observation;
pub mod score;
pub mod sim;
pub mod state;
pub mod trend;
mod words;

pub use alarm::AlarmState;
pub use config::{ChannelConfig, Dwell, FailureRules, LevelRule, ScorerConfig, TwinConfig};
pub use error::TwinError;
pub use event::{Cause, Event, EventLog};
pub use observation::{
    ChannelCheck, Forecast, LimitForecast, Observation, Quality, Reading, RulEstimate, Score,
};
pub use score::{QualityChecker, ResidualScorer};
pub use sim::{Fault, FaultKind, SimChannel, SimConfig, Simulator, TimeFormat, Truth};
pub use state::{HealthMachine, HealthState, Level};
pub use trend::LimitTrend;

/// The twin of one asset: scores and checks each reading, runs the health
/// state machine and keeps the event log.
#[derive(Debug, Clone)]
pub struct Twin {
    config: TwinConfig,
    machine: HealthMachine,
    quality: QualityChecker,
    /// One per configured channel.
    scorers: Vec<ResidualScorer>,
    /// One per configured channel; `Some` where it has an alarm limit.
    trends: Vec<Option<LimitTrend>>,
    log: EventLog,
    last_observation: Option<Observation>,
}

impl Twin {
    /// A twin in `Commissioning`, after checking `config`.
    pub fn new(config: TwinConfig) -> Result<Self, TwinError> {
        let machine = HealthMachine::new(config.clone())?;
        let quality = QualityChecker::new(&config.channels, config.stuck_readings);
        let scorers = config
            .channels
            .iter()
            .map(|channel| {
                let floor = (channel.max - channel.min) * config.scorer.min_spread_fraction;
                ResidualScorer::new(config.scorer.window, config.scorer.min_history, floor)
            })
            .collect();
        let trends = config
            .channels
            .iter()
            .map(|channel| {
                (config.trend_readings > 0 && channel.alarm_above.is_some())
                    .then(|| LimitTrend::new(config.trend_readings, config.trend_band_sigmas))
            })
            .collect();
        Ok(Self {
            config,
            machine,
            quality,
            scorers,
            trends,
            log: EventLog::new(),
            last_observation: None,
        })
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &TwinConfig {
        &self.config
    }

    /// The current health state.
    #[must_use]
    pub fn state(&self) -> HealthState {
        self.machine.state()
    }

    /// The current alarm state.
    #[must_use]
    pub fn alarm(&self) -> AlarmState {
        self.machine.alarm()
    }

    /// Every event so far.
    #[must_use]
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// What the state machine saw for the last reading (score, quality,
    /// limit forecast), for display.
    #[must_use]
    pub fn last_observation(&self) -> Option<&Observation> {
        self.last_observation.as_ref()
    }

    /// Takes one reading, with the forecast made for it and a RUL estimate
    /// if there are any; returns the events it caused.
    ///
    /// Each valid value of a scored channel is scored against its forecast
    /// (the largest score counts); channels with an alarm limit feed their
    /// trend, which gives the time to the limit unless the forecast does. In
    /// `Maintenance` and `Failed` readings are not scored, so they do not
    /// teach the baseline.
    pub fn observe(
        &mut self,
        reading: &Reading,
        forecast: Option<&Forecast>,
        rul: Option<RulEstimate>,
    ) -> Result<Vec<Event>, TwinError> {
        let expected = self.config.channels.len();
        if reading.values.len() != expected {
            return Err(TwinError::ReadingShape {
                expected,
                found: reading.values.len(),
            });
        }
        if !reading.time_secs.is_finite() {
            return Err(TwinError::BadTime(reading.time_secs));
        }
        if let Some(forecast) = forecast {
            let quantiles = forecast.quantiles.as_ref().map_or(expected, Vec::len);
            for found in [forecast.values.len(), quantiles] {
                if found != expected {
                    return Err(TwinError::ForecastShape { expected, found });
                }
            }
        }
        if matches!(self.state(), HealthState::Maintenance | HealthState::Failed) {
            return Ok(Vec::new());
        }

        let time = reading.time_secs;
        let channels = self.quality.check(&reading.values);
        let mut score: Option<Score> = None;
        for (index, check) in channels.iter().enumerate() {
            let (Some(value), Quality::Ok) = (check.value, check.quality) else {
                continue;
            };
            if let Some(trend) = &mut self.trends[index] {
                trend.push(time, value);
            }
            let Some(forecast) = forecast.filter(|_| self.config.channels[index].scored) else {
                continue;
            };
            let predicted = forecast.values[index];
            let scorer = &mut self.scorers[index];
            let channel_score = match &forecast.quantiles {
                Some(quantiles) => scorer.score_with_quantile(predicted, value, quantiles[index]),
                None => scorer.score(predicted, value),
            };
            if let Some(value) = channel_score
                && score.as_ref().is_none_or(|best| value > best.value)
            {
                score = Some(Score {
                    value,
                    channel: Some(check.channel.clone()),
                });
            }
        }

        let time_to_limit = forecast
            .and_then(|forecast| forecast.time_to_limit.clone())
            .or_else(|| self.soonest_limit_crossing());
        let observation = Observation {
            time_secs: time,
            score,
            time_to_limit,
            rul,
            channels,
            failure: None,
        };
        let events = self.machine.observe(&observation);
        self.last_observation = Some(observation);
        self.log.extend(events.iter().cloned());
        Ok(events)
    }

    /// An explicit failure signal (a trip, a sudden-failure flag): `Failed`
    /// at once unless in maintenance or already failed.
    pub fn report_failure(&mut self, time_secs: f64, description: &str) -> Option<Event> {
        let event = self.machine.report_failure(time_secs, description)?;
        self.log.extend([event.clone()]);
        Some(event)
    }

    /// Acknowledges the alarm; `None` when there is nothing to acknowledge.
    pub fn acknowledge(&mut self, time_secs: f64, note: &str) -> Option<Event> {
        let event = self.machine.acknowledge(time_secs, note)?;
        self.log.extend([event.clone()]);
        Some(event)
    }

    /// Starts maintenance.
    pub fn start_maintenance(&mut self, time_secs: f64, note: &str) -> Result<Event, TwinError> {
        let event = self.machine.start_maintenance(time_secs, note)?;
        self.log.extend([event.clone()]);
        Ok(event)
    }

    /// Finishes maintenance and resets health. With `reset_baseline` the
    /// scorers, trends and stuck counters start afresh and the twin
    /// commissions again; the returned event says so
    /// ([`Event::reset_baseline`]) for the caller to reset its forecaster too.
    pub fn finish_maintenance(
        &mut self,
        time_secs: f64,
        reset_baseline: bool,
    ) -> Result<Event, TwinError> {
        let event = self.machine.finish_maintenance(time_secs, reset_baseline)?;
        if event.reset_baseline() {
            self.scorers.iter_mut().for_each(ResidualScorer::reset);
            self.trends.iter_mut().flatten().for_each(LimitTrend::reset);
            self.quality.reset();
        }
        self.log.extend([event.clone()]);
        Ok(event)
    }

    /// The earliest plausible crossing among the channels' trends.
    fn soonest_limit_crossing(&self) -> Option<LimitForecast> {
        self.trends
            .iter()
            .zip(&self.config.channels)
            .filter_map(|(trend, channel)| {
                let limit = channel.alarm_above?;
                trend.as_ref()?.time_to_limit(&channel.name, limit)
            })
            .min_by(|a, b| a.lower_secs.total_cmp(&b.lower_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::{Forecast, HealthState, Reading, Twin, TwinConfig, TwinError};

    #[test]
    fn readings_and_forecasts_of_the_wrong_shape_are_refused() {
        let mut twin = Twin::new(TwinConfig::default()).unwrap();
        let short = Reading {
            time_secs: 0.0,
            values: vec![1.0],
        };
        assert!(matches!(
            twin.observe(&short, None, None),
            Err(TwinError::ReadingShape {
                expected: 4,
                found: 1
            })
        ));

        let reading = Reading {
            time_secs: 0.0,
            values: vec![75.0, 50.0, 1.0, 90.0],
        };
        let forecast = Forecast {
            values: vec![1.0; 3],
            ..Forecast::default()
        };
        assert!(matches!(
            twin.observe(&reading, Some(&forecast), None),
            Err(TwinError::ForecastShape { .. })
        ));
        let nan_time = Reading {
            time_secs: f64::NAN,
            ..reading
        };
        assert!(matches!(
            twin.observe(&nan_time, None, None),
            Err(TwinError::BadTime(_))
        ));
        assert_eq!(twin.state(), HealthState::Commissioning);
        assert!(twin.log().is_empty());
    }

    #[test]
    fn commissions_then_scores_the_worst_channel() {
        let config = TwinConfig {
            commissioning_readings: 30,
            ..TwinConfig::default()
        };
        let mut twin = Twin::new(config).unwrap();
        let forecast = Forecast {
            values: vec![75.0, 50.0, 1.0, 90.0],
            ..Forecast::default()
        };
        let mut events = Vec::new();
        for step in 0..40 {
            // Residuals −1, 0, +1 in turn (times each channel's size), so
            // the median is 0 and the MAD one size: above every floor.
            let wiggle = f64::from(step % 3) - 1.0;
            let temperature = if step == 39 { 3.0 } else { wiggle };
            let reading = Reading {
                time_secs: 1.0e9 + 60.0 * f64::from(step),
                values: vec![
                    75.0 + 20.0 * wiggle,
                    50.0 + temperature,
                    1.0 + 0.2 * wiggle,
                    90.0 + wiggle,
                ],
            };
            events.extend(twin.observe(&reading, Some(&forecast), None).unwrap());
        }
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].to, HealthState::Healthy);

        let score = twin.last_observation().unwrap().score.clone().unwrap();
        assert!((score.value - 3.0 / 1.4826).abs() < 1e-9, "{score:?}");
        assert_eq!(score.channel.as_deref(), Some("temperature_c"));
    }
}
