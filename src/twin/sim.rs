//! A virtual asset: a centrifugal pump whose bearing wears out, seeded and
//! deterministic, with faults that can be scheduled or injected at any time.
//!
//! # Model
//!
//! Time advances in steps of Δt = `step_secs`. Each step first reports the
//! current state through the sensors, then advances it:
//!
//! - **Load** `L` (%) follows its set point `S` with a first-order lag,
//!   `L ← L + (S − L)(1 − e^(−Δt/τ_L))`. `S` is the nominal load plus a daily
//!   swing `A · sin(2π t / 1 d)`, or the value of an active load change.
//! - **Wear** `w` (0 new, 1 failed) grows in proportion to itself, so it
//!   creeps at first and then accelerates, and faster under load:
//!   `dw/dt = r · (L/100)² · (w + w₀)` with `w₀ = 0.05`, integrated exactly
//!   over a step: `w + w₀ ← (w + w₀) · e^(r (L/100)² Δt)`. From new at a
//!   constant load the life is `ln 21 / (r (L/100)²)`; at `w ≥ 1` the
//!   bearing fails.
//! - **Temperature** `T` (°C) lags behind a target set by load and friction,
//!   `T* = T_amb + 30·L/100 + 40·w` (+ 40 once failed), with
//!   `dT/dt = (T* − T) / τ`, integrated exactly:
//!   `T ← T + (T* − T)(1 − e^(−Δt/τ))`.
//! - **Vibration** (mm/s RMS) `= 0.5 + L/100 + 10·w²`; `25 + L/100` once
//!   failed (a broken bearing).
//! - **Flow** (m³/h) `= 120 · L/100 · (1 − 0.3·w)`: efficiency falls with
//!   wear; a fifth of that once failed.
//!
//! Every sensor adds Gaussian noise (Box–Muller on a `SplitMix64` stream
//! seeded by `seed`, one draw per channel per step whatever the faults, so
//! a what-if run shares its noise with the baseline). Then the active
//! [`Fault`]s act on what the sensors report.
//!
//! The output has the shape of an uploaded file: [`write_csv`] writes a
//! `time` column (ISO 8601 UTC or epoch seconds) and one column per
//! channel, which [`crate::ingest::parse`] reads back; [`to_dataset`] gives
//! the same as a [`Dataset`] directly.

use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use super::config::ChannelConfig;
use super::error::TwinError;
use super::event::iso_utc;
use super::observation::Reading;
use crate::ingest::{Channel, Dataset, TimeKind};

/// Wear offset of the growth law: how fast a new bearing starts to wear.
const WEAR_SEED: f64 = 0.05;

/// Seconds in a day, for the load swing.
const DAY_SECS: f64 = 86_400.0;

/// The sensor channels of the simulated pump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimChannel {
    /// Motor load, %.
    Load,
    /// Bearing temperature, °C.
    Temperature,
    /// Bearing vibration, mm/s RMS.
    Vibration,
    /// Delivered flow, m³/h.
    Flow,
}

impl SimChannel {
    /// The channels in column order.
    pub const ALL: [Self; 4] = [Self::Load, Self::Temperature, Self::Vibration, Self::Flow];

    /// Column name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Load => "load_pct",
            Self::Temperature => "temperature_c",
            Self::Vibration => "vibration_mm_s",
            Self::Flow => "flow_m3_h",
        }
    }

    /// Unit for messages.
    #[must_use]
    pub fn unit(self) -> &'static str {
        match self {
            Self::Load => "%",
            Self::Temperature => "°C",
            Self::Vibration => "mm/s",
            Self::Flow => "m³/h",
        }
    }

    /// Position in a reading's values.
    #[must_use]
    pub fn index(self) -> usize {
        match self {
            Self::Load => 0,
            Self::Temperature => 1,
            Self::Vibration => 2,
            Self::Flow => 3,
        }
    }

    /// The twin's view of this channel: physical range and limits. Load is
    /// the operating point, not a symptom, so it is not scored. Vibration
    /// alarms at 7.1 mm/s (the ISO 10816 boundary of "unsatisfactory" for
    /// medium machines) and counts as failed above 18 mm/s.
    #[must_use]
    pub fn config(self) -> ChannelConfig {
        let (min, max) = match self {
            Self::Load => (0.0, 150.0),
            Self::Temperature => (-40.0, 200.0),
            Self::Vibration => (0.0, 50.0),
            Self::Flow => (0.0, 200.0),
        };
        ChannelConfig {
            name: self.name().to_owned(),
            unit: self.unit().to_owned(),
            min,
            max,
            scored: self != Self::Load,
            alarm_above: (self == Self::Vibration).then_some(7.1),
            failure_above: (self == Self::Vibration).then_some(18.0),
            failure_below: None,
        }
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// The sensor reads `magnitude` too high (negative: too low).
    Spike {
        /// The sensor.
        channel: SimChannel,
        /// Added to the reading.
        magnitude: f64,
    },
    /// The sensor's offset grows at `rate_per_hour` while the fault lasts
    /// and vanishes when it ends (recalibration).
    Drift {
        /// The sensor.
        channel: SimChannel,
        /// Offset growth per hour, in the channel's unit.
        rate_per_hour: f64,
    },
    /// The sensor repeats the value it read when the fault began.
    Stuck {
        /// The sensor.
        channel: SimChannel,
    },
    /// The sensor's noise is `factor` times its usual level.
    NoiseBurst {
        /// The sensor.
        channel: SimChannel,
        /// Noise multiplier.
        factor: f64,
    },
    /// The sensor reports nothing (`NaN`, an empty CSV cell).
    Dropout {
        /// The sensor.
        channel: SimChannel,
    },
    /// The bearing breaks at the fault's step, whatever its wear (the
    /// duration is ignored: a failure lasts).
    SuddenFailure,
    /// The load set point is `load_pct` while the fault lasts.
    LoadChange {
        /// New set point, %.
        load_pct: f64,
    },
}

/// A fault with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// First step it acts on (0-based step index).
    pub at_step: u64,
    /// Number of steps it acts on.
    pub duration_steps: u64,
    /// What it does.
    pub kind: FaultKind,
}

impl Fault {
    /// A fault of `kind` acting on steps `at_step .. at_step + duration_steps`.
    #[must_use]
    pub fn new(kind: FaultKind, at_step: u64, duration_steps: u64) -> Self {
        Self {
            at_step,
            duration_steps,
            kind,
        }
    }

    fn is_active(&self, step: u64) -> bool {
        step >= self.at_step && step - self.at_step < self.duration_steps
    }
}

/// Standard deviation of each sensor's noise, in its unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SensorNoise {
    /// Load, %.
    pub load_pct: f64,
    /// Temperature, °C.
    pub temperature_c: f64,
    /// Vibration, mm/s.
    pub vibration_mm_s: f64,
    /// Flow, m³/h.
    pub flow_m3_h: f64,
}

impl SensorNoise {
    /// The noise of one channel.
    #[must_use]
    pub fn sigma(&self, channel: SimChannel) -> f64 {
        match channel {
            SimChannel::Load => self.load_pct,
            SimChannel::Temperature => self.temperature_c,
            SimChannel::Vibration => self.vibration_mm_s,
            SimChannel::Flow => self.flow_m3_h,
        }
    }
}

impl Default for SensorNoise {
    fn default() -> Self {
        Self {
            load_pct: 0.5,
            temperature_c: 0.2,
            vibration_mm_s: 0.08,
            flow_m3_h: 0.8,
        }
    }
}

/// Settings of the simulated pump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Seed of the noise.
    pub seed: u64,
    /// Time of step 0, epoch seconds (default 2024-01-01T00:00:00Z).
    pub start_secs: f64,
    /// Seconds between readings.
    pub step_secs: f64,
    /// Load set point without faults, %.
    pub nominal_load_pct: f64,
    /// Amplitude of the daily load swing, %.
    pub daily_swing_pct: f64,
    /// Time constant of the load following its set point, seconds.
    pub load_tau_secs: f64,
    /// Ambient temperature, °C.
    pub ambient_c: f64,
    /// Thermal time constant of the bearing housing, seconds.
    pub thermal_tau_secs: f64,
    /// Wear at step 0 (0 new, below 1).
    pub initial_wear: f64,
    /// Wear growth rate `r` per hour at full load (see the module docs);
    /// the default gives a life of about 200 h at 75 % load.
    pub wear_rate_per_hour: f64,
    /// Sensor noise.
    pub noise: SensorNoise,
    /// Faults scheduled from the start.
    pub faults: Vec<Fault>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            start_secs: 1_704_067_200.0,
            step_secs: 60.0,
            nominal_load_pct: 75.0,
            daily_swing_pct: 5.0,
            load_tau_secs: 300.0,
            ambient_c: 25.0,
            thermal_tau_secs: 1800.0,
            initial_wear: 0.0,
            wear_rate_per_hour: 0.027,
            noise: SensorNoise::default(),
            faults: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Checks that the settings describe a pump that can run.
    pub fn validate(&self) -> Result<(), TwinError> {
        let positive = |value: f64| value.is_finite() && value > 0.0;
        let at_least_zero = |value: f64| value.is_finite() && value >= 0.0;
        let noise = self.noise;
        let checks = [
            (
                "sim.start_secs",
                self.start_secs.is_finite(),
                "must be a finite time",
            ),
            (
                "sim.step_secs",
                positive(self.step_secs),
                "must be positive",
            ),
            (
                "sim.load_tau_secs",
                positive(self.load_tau_secs),
                "must be positive",
            ),
            (
                "sim.thermal_tau_secs",
                positive(self.thermal_tau_secs),
                "must be positive",
            ),
            (
                "sim.nominal_load_pct",
                (0.0..=120.0).contains(&self.nominal_load_pct),
                "must be from 0 to 120",
            ),
            (
                "sim.daily_swing_pct",
                at_least_zero(self.daily_swing_pct),
                "must be at least 0",
            ),
            (
                "sim.ambient_c",
                self.ambient_c.is_finite(),
                "must be a finite temperature",
            ),
            (
                "sim.initial_wear",
                (0.0..1.0).contains(&self.initial_wear),
                "must be at least 0 and below 1",
            ),
            (
                "sim.wear_rate_per_hour",
                at_least_zero(self.wear_rate_per_hour),
                "must be at least 0",
            ),
            (
                "sim.noise",
                SimChannel::ALL
                    .iter()
                    .all(|&channel| at_least_zero(noise.sigma(channel))),
                "every sensor's noise must be at least 0",
            ),
        ];
        for (setting, valid, detail) in checks {
            if !valid {
                return Err(TwinError::Setting {
                    setting,
                    detail: detail.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// What the simulator knows and the sensors do not show: the true state
/// behind the last reading.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Truth {
    /// Step index of the reading.
    pub step: u64,
    /// Its time, epoch seconds.
    pub time_secs: f64,
    /// Bearing wear (0 new, 1 failed).
    pub wear: f64,
    /// Whether the bearing has failed.
    pub failed: bool,
    /// Each channel's value without noise or sensor faults.
    pub clean: Vec<f64>,
    /// Steps until failure at the current load (0 once failed; `None` when
    /// the pump does not wear).
    pub rul_steps: Option<f64>,
}

/// The simulated pump. `Clone` it to run a what-if from the current state.
#[derive(Debug, Clone)]
pub struct Simulator {
    config: SimConfig,
    rng: SplitMix64,
    step: u64,
    load: f64,
    temperature: f64,
    wear: f64,
    failed: bool,
    faults: Vec<ActiveFault>,
    truth: Truth,
}

/// A fault with what it remembers.
#[derive(Debug, Clone, PartialEq)]
struct ActiveFault {
    fault: Fault,
    /// The value a stuck sensor holds.
    stuck_value: Option<f64>,
}

impl Simulator {
    /// A new pump at step 0, after checking `config`.
    pub fn new(config: SimConfig) -> Result<Self, TwinError> {
        config.validate()?;
        let faults = config
            .faults
            .iter()
            .map(|fault| ActiveFault {
                fault: fault.clone(),
                stuck_value: None,
            })
            .collect();
        let load = config.nominal_load_pct;
        let wear = config.initial_wear;
        let mut simulator = Self {
            rng: SplitMix64(config.seed),
            step: 0,
            load,
            temperature: 0.0,
            wear,
            failed: false,
            faults,
            truth: Truth::default(),
            config,
        };
        simulator.temperature = simulator.temperature_target();
        Ok(simulator)
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Names of the channels, in the order of a reading's values.
    #[must_use]
    pub fn channel_names() -> Vec<String> {
        SimChannel::ALL
            .iter()
            .map(|channel| channel.name().to_owned())
            .collect()
    }

    /// Index of the next step.
    #[must_use]
    pub fn next_step(&self) -> u64 {
        self.step
    }

    /// The true state behind the last reading.
    #[must_use]
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Adds a fault; one whose start has passed starts at the next step.
    pub fn inject(&mut self, mut fault: Fault) {
        fault.at_step = fault.at_step.max(self.step);
        self.faults.push(ActiveFault {
            fault,
            stuck_value: None,
        });
    }

    /// Reports the current state through the sensors, then advances one step.
    pub fn step(&mut self) -> Reading {
        let step = self.step;
        let time_secs = self.time_at(step);
        let failing = self.faults.iter().any(|active| {
            matches!(active.fault.kind, FaultKind::SuddenFailure) && step >= active.fault.at_step
        });
        if failing {
            self.failed = true;
        }

        let clean = self.clean_values();
        let mut values = Vec::with_capacity(clean.len());
        for (channel, &clean_value) in SimChannel::ALL.iter().zip(&clean) {
            let sigma = self.config.noise.sigma(*channel) * self.noise_factor(*channel, step);
            values.push(clean_value + sigma * self.rng.normal());
        }
        self.apply_sensor_faults(step, &mut values);

        self.truth = Truth {
            step,
            time_secs,
            wear: self.wear,
            failed: self.failed,
            clean,
            rul_steps: self.rul_steps(),
        };
        self.advance(step);
        self.step += 1;
        Reading { time_secs, values }
    }

    /// The next `steps` readings.
    pub fn run(&mut self, steps: usize) -> Vec<Reading> {
        (0..steps).map(|_| self.step()).collect()
    }

    /// Readings until the first one after the bearing failed (included), at
    /// most `max_steps`.
    pub fn run_to_failure(&mut self, max_steps: usize) -> Vec<Reading> {
        let mut readings = Vec::new();
        for _ in 0..max_steps {
            readings.push(self.step());
            if self.truth.failed {
                break;
            }
        }
        readings
    }

    /// What would happen with `faults` added: the next `steps` readings of a
    /// copy, and the truth behind its last one. `self` does not change.
    #[must_use]
    pub fn what_if(&self, faults: &[Fault], steps: usize) -> (Vec<Reading>, Truth) {
        let mut future = self.clone();
        for fault in faults {
            future.inject(fault.clone());
        }
        let readings = future.run(steps);
        (readings, future.truth)
    }

    fn time_at(&self, step: u64) -> f64 {
        self.config.start_secs + step as f64 * self.config.step_secs
    }

    fn load_setpoint(&self, step: u64) -> f64 {
        let changed = self
            .faults
            .iter()
            .rev()
            .find_map(|active| match active.fault.kind {
                FaultKind::LoadChange { load_pct } if active.fault.is_active(step) => {
                    Some(load_pct)
                }
                _ => None,
            });
        changed.unwrap_or_else(|| {
            let elapsed = step as f64 * self.config.step_secs;
            self.config.nominal_load_pct
                + self.config.daily_swing_pct * (TAU * elapsed / DAY_SECS).sin()
        })
    }

    fn temperature_target(&self) -> f64 {
        let failed = if self.failed { 40.0 } else { 0.0 };
        self.config.ambient_c + 30.0 * self.load / 100.0 + 40.0 * self.wear + failed
    }

    fn clean_values(&self) -> Vec<f64> {
        let share = self.load / 100.0;
        let (vibration, flow) = if self.failed {
            (25.0 + share, 0.2 * 120.0 * share * (1.0 - 0.3 * self.wear))
        } else {
            (
                0.5 + share + 10.0 * self.wear * self.wear,
                120.0 * share * (1.0 - 0.3 * self.wear),
            )
        };
        vec![self.load, self.temperature, vibration, flow]
    }

    fn noise_factor(&self, channel: SimChannel, step: u64) -> f64 {
        self.faults
            .iter()
            .filter(|active| active.fault.is_active(step))
            .map(|active| match active.fault.kind {
                FaultKind::NoiseBurst {
                    channel: burst,
                    factor,
                } if burst == channel => factor,
                _ => 1.0,
            })
            .product()
    }

    fn apply_sensor_faults(&mut self, step: u64, values: &mut [f64]) {
        let step_secs = self.config.step_secs;
        for active in &mut self.faults {
            if !active.fault.is_active(step) {
                continue;
            }
            let elapsed_hours = (step - active.fault.at_step) as f64 * step_secs / 3600.0;
            match active.fault.kind {
                FaultKind::Spike { channel, magnitude } => values[channel.index()] += magnitude,
                FaultKind::Drift {
                    channel,
                    rate_per_hour,
                } => values[channel.index()] += rate_per_hour * elapsed_hours,
                FaultKind::Stuck { channel } => {
                    let value = &mut values[channel.index()];
                    *value = *active.stuck_value.get_or_insert(*value);
                }
                FaultKind::Dropout { channel } => values[channel.index()] = f64::NAN,
                FaultKind::NoiseBurst { .. }
                | FaultKind::SuddenFailure
                | FaultKind::LoadChange { .. } => {}
            }
        }
    }

    /// Steps until wear reaches 1 at the current load.
    fn rul_steps(&self) -> Option<f64> {
        if self.failed {
            return Some(0.0);
        }
        let share = self.load / 100.0;
        let rate_per_sec = self.config.wear_rate_per_hour * share * share / 3600.0;
        if rate_per_sec <= 0.0 {
            return None;
        }
        let secs = ((1.0 + WEAR_SEED) / (self.wear + WEAR_SEED)).ln() / rate_per_sec;
        Some(secs / self.config.step_secs)
    }

    fn advance(&mut self, step: u64) {
        let step_secs = self.config.step_secs;
        if !self.failed {
            let share = self.load / 100.0;
            let growth = self.config.wear_rate_per_hour * share * share * step_secs / 3600.0;
            self.wear = (self.wear + WEAR_SEED) * growth.exp() - WEAR_SEED;
            if self.wear >= 1.0 {
                self.wear = 1.0;
                self.failed = true;
            }
        }

        let setpoint = self.load_setpoint(step);
        let follow = 1.0 - (-step_secs / self.config.load_tau_secs).exp();
        self.load = (self.load + (setpoint - self.load) * follow).clamp(0.0, 120.0);

        let settle = 1.0 - (-step_secs / self.config.thermal_tau_secs).exp();
        self.temperature += (self.temperature_target() - self.temperature) * settle;
    }
}

/// How [`write_csv`] writes the time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// `2024-01-01T00:00:00Z`.
    #[default]
    Iso8601,
    /// Seconds since 1970-01-01 UTC.
    EpochSecs,
}

/// Simulator readings as CSV bytes: a `time` column and one column per
/// channel ([`SimChannel::ALL`] order), empty cells where a value is missing.
pub fn write_csv(readings: &[Reading], time_format: TimeFormat) -> Result<Vec<u8>, TwinError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["time"];
    header.extend(SimChannel::ALL.iter().map(|channel| channel.name()));
    writer.write_record(&header)?;

    for reading in readings {
        let time = match time_format {
            TimeFormat::Iso8601 => iso_utc(reading.time_secs),
            TimeFormat::EpochSecs if reading.time_secs.fract().abs() < 1e-9 => {
                format!("{:.0}", reading.time_secs)
            }
            TimeFormat::EpochSecs => format!("{:.3}", reading.time_secs),
        };
        let mut record = Vec::with_capacity(SimChannel::ALL.len() + 1);
        record.push(time);
        for channel in SimChannel::ALL {
            let value = reading.values.get(channel.index()).copied();
            record.push(match value {
                Some(value) if value.is_finite() => format!("{value:.4}"),
                _ => String::new(),
            });
        }
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|err| TwinError::Csv(csv::Error::from(err.into_error())))
}

/// Simulator readings as a [`Dataset`], as if loaded from a file.
#[must_use]
pub fn to_dataset(name: &str, readings: &[Reading]) -> Dataset {
    let channels = SimChannel::ALL
        .iter()
        .map(|channel| Channel {
            name: channel.name().to_owned(),
            values: readings
                .iter()
                .map(|reading| {
                    let value = reading.values.get(channel.index()).copied();
                    value.unwrap_or(f64::NAN) as f32
                })
                .collect(),
        })
        .collect();
    Dataset {
        name: name.to_owned(),
        time_column: Some("time".to_owned()),
        time_kind: TimeKind::EpochSeconds,
        time_secs: readings.iter().map(|reading| reading.time_secs).collect(),
        channels,
    }
}

/// The `SplitMix64` generator: tiny, fast and the same on every platform.
/// The twin keeps its own copy so it depends on nothing of the training code.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        radius * (TAU * self.uniform()).cos()
    }
}

#[cfg(test)]
mod tests;
