//! Anomaly score and data quality from raw readings.
//!
//! # Score
//!
//! For each reading the residual is `r = actual − forecast`. The score says
//! how unusual `r` is compared with the channel's recent residuals:
//!
//! ```text
//! score = |r| / max(1.4826 · MAD(last N residuals), floor)
//! ```
//!
//! MAD is the median absolute deviation from the median; times 1.4826 it
//! estimates the standard deviation of normal residuals while ignoring a
//! few outliers, so the score reads like a z-score (3 is unusual). The
//! current residual joins the window after it is scored. The floor keeps a
//! channel with almost no noise from turning tiny residuals into huge scores.
//! The numerator is `|r|`, not the distance from the median, so a lasting
//! offset (a drifting sensor, a shifted process) keeps scoring high even
//! once the window is full of it.
//!
//! When the forecaster gives a conformal quantile `q` of `|r|` instead, the
//! score is `|r| / max(q, floor)`: 1 at the edge of the conformal band.
//!
//! # Quality
//!
//! [`QualityChecker`] marks each channel of a reading as missing (`NaN` or
//! infinite), out of its physical range, or stuck (exactly the same value
//! for `stuck_readings` readings in a row).

use std::collections::VecDeque;

use super::config::ChannelConfig;
use super::observation::{ChannelCheck, Quality};

/// MAD times this estimates the standard deviation of normal data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// Scores one channel's residuals against its recent ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualScorer {
    window: usize,
    min_history: usize,
    min_spread: f64,
    residuals: VecDeque<f64>,
}

impl ResidualScorer {
    /// A scorer keeping `window` residuals, scoring once it has
    /// `min_history`, with the spread never below `min_spread`.
    #[must_use]
    pub fn new(window: usize, min_history: usize, min_spread: f64) -> Self {
        let window = window.max(1);
        Self {
            window,
            min_history: min_history.clamp(1, window),
            min_spread: min_spread.max(f64::MIN_POSITIVE),
            residuals: VecDeque::with_capacity(window),
        }
    }

    /// Scores `actual` against `forecast` with the rolling robust spread,
    /// then remembers the residual. `None` while the history is short or
    /// when either number is not finite (then nothing is remembered).
    pub fn score(&mut self, forecast: f64, actual: f64) -> Option<f64> {
        let residual = actual - forecast;
        if !residual.is_finite() {
            return None;
        }
        let score = self.spread().map(|spread| residual.abs() / spread);
        self.remember(residual);
        score
    }

    /// Scores `actual` against `forecast` with a conformal quantile of the
    /// absolute residual, then remembers the residual.
    pub fn score_with_quantile(
        &mut self,
        forecast: f64,
        actual: f64,
        quantile: f64,
    ) -> Option<f64> {
        let residual = actual - forecast;
        if !(residual.is_finite() && quantile.is_finite()) {
            return None;
        }
        self.remember(residual);
        Some(residual.abs() / quantile.max(self.min_spread))
    }

    /// The robust spread of the remembered residuals (at least the floor),
    /// or `None` while there are fewer than `min_history`.
    #[must_use]
    pub fn spread(&self) -> Option<f64> {
        if self.residuals.len() < self.min_history {
            return None;
        }
        let mut values: Vec<f64> = self.residuals.iter().copied().collect();
        let center = median(&mut values);
        for value in &mut values {
            *value = (*value - center).abs();
        }
        Some((MAD_TO_SIGMA * median(&mut values)).max(self.min_spread))
    }

    /// Residuals remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.residuals.len()
    }

    /// Whether no residual is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.residuals.is_empty()
    }

    /// Forgets every residual (a new baseline).
    pub fn reset(&mut self) {
        self.residuals.clear();
    }

    fn remember(&mut self, residual: f64) {
        if self.residuals.len() == self.window {
            self.residuals.pop_front();
        }
        self.residuals.push_back(residual);
    }
}

/// The median of `values` (sorted in place); `NaN` when empty.
fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// The physical range of one channel, as the checker needs it.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    name: String,
    min: f64,
    max: f64,
}

/// Checks each channel of a reading for missing, out-of-range and stuck
/// values.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityChecker {
    ranges: Vec<Range>,
    stuck_readings: usize,
    last: Vec<Option<f64>>,
    repeats: Vec<usize>,
}

impl QualityChecker {
    /// A checker for `channels`; a value repeated `stuck_readings` times in a
    /// row is stuck (0 turns that check off).
    #[must_use]
    pub fn new(channels: &[ChannelConfig], stuck_readings: usize) -> Self {
        let ranges: Vec<Range> = channels
            .iter()
            .map(|channel| Range {
                name: channel.name.clone(),
                min: channel.min,
                max: channel.max,
            })
            .collect();
        let count = ranges.len();
        Self {
            ranges,
            stuck_readings,
            last: vec![None; count],
            repeats: vec![0; count],
        }
    }

    /// The verdict on each channel of one reading (`values` in channel
    /// order; a channel without a value is missing).
    pub fn check(&mut self, values: &[f64]) -> Vec<ChannelCheck> {
        let mut checks = Vec::with_capacity(self.ranges.len());
        for (index, range) in self.ranges.iter().enumerate() {
            let value = values.get(index).copied().filter(|value| value.is_finite());
            let Some(value) = value else {
                self.last[index] = None;
                self.repeats[index] = 0;
                checks.push(ChannelCheck {
                    channel: range.name.clone(),
                    value: None,
                    quality: Quality::Missing,
                });
                continue;
            };

            // Stuck means bit-for-bit the same value: a live sensor's noise
            // never repeats exactly, a frozen one always does.
            if self.last[index].is_some_and(|last| last.to_bits() == value.to_bits()) {
                self.repeats[index] = self.repeats[index].saturating_add(1);
            } else {
                self.last[index] = Some(value);
                self.repeats[index] = 1;
            }

            let quality = if value < range.min || value > range.max {
                Quality::OutOfRange
            } else if self.stuck_readings > 0 && self.repeats[index] >= self.stuck_readings {
                Quality::Stuck
            } else {
                Quality::Ok
            };
            checks.push(ChannelCheck {
                channel: range.name.clone(),
                value: Some(value),
                quality,
            });
        }
        checks
    }

    /// Forgets the repeat counts.
    pub fn reset(&mut self) {
        self.last.fill(None);
        self.repeats.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::{QualityChecker, ResidualScorer, median};
    use crate::twin::{Quality, TwinConfig};

    #[test]
    fn median_of_odd_and_even_counts() {
        assert!((median(&mut [3.0, 1.0, 2.0]) - 2.0).abs() < 1e-12);
        assert!((median(&mut [4.0, 1.0, 3.0, 2.0]) - 2.5).abs() < 1e-12);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn score_is_residual_over_robust_spread() {
        let mut scorer = ResidualScorer::new(10, 5, 1e-6);
        // Residuals −2, −1, 0, 1, 2: median 0, MAD 1, spread 1.4826.
        for residual in [-2.0, -1.0, 0.0, 1.0, 2.0] {
            assert_eq!(scorer.score(0.0, residual), None);
        }
        let score = scorer.score(10.0, 13.0).unwrap();
        assert!((score - 3.0 / 1.4826).abs() < 1e-9, "{score}");

        // One huge outlier hardly moves the spread.
        scorer.score(0.0, 1000.0);
        let spread = scorer.spread().unwrap();
        assert!(spread < 3.0, "{spread}");
        assert_eq!(scorer.len(), 7);
        assert_eq!(scorer.score(f64::NAN, 1.0), None);
        assert_eq!(scorer.len(), 7);
    }

    #[test]
    fn spread_has_a_floor_and_quantiles_replace_it() {
        let mut scorer = ResidualScorer::new(10, 3, 0.5);
        for _ in 0..5 {
            scorer.score(1.0, 1.0);
        }
        assert!((scorer.spread().unwrap() - 0.5).abs() < 1e-12);
        assert!((scorer.score(0.0, 1.0).unwrap() - 2.0).abs() < 1e-12);
        assert!((scorer.score_with_quantile(0.0, 3.0, 2.0).unwrap() - 1.5).abs() < 1e-12);

        scorer.reset();
        assert!(scorer.is_empty());
        assert_eq!(scorer.spread(), None);
    }

    #[test]
    fn quality_finds_missing_out_of_range_and_stuck() {
        let config = TwinConfig::default();
        let mut checker = QualityChecker::new(&config.channels, 3);
        let qualities = |checks: Vec<crate::twin::ChannelCheck>| -> Vec<Quality> {
            checks.into_iter().map(|check| check.quality).collect()
        };

        let ok = qualities(checker.check(&[75.0, 50.0, 2.0, 90.0]));
        assert_eq!(ok, [Quality::Ok; 4]);

        let bad = qualities(checker.check(&[75.0, f64::NAN, -3.0, 90.0]));
        assert_eq!(
            bad,
            [
                Quality::Ok,
                Quality::Missing,
                Quality::OutOfRange,
                Quality::Ok
            ]
        );

        // Load and flow have now read the same value three times in a row.
        let stuck = qualities(checker.check(&[75.0, 50.5, 2.1]));
        assert_eq!(
            stuck,
            [Quality::Stuck, Quality::Ok, Quality::Ok, Quality::Missing]
        );
        let moved = qualities(checker.check(&[75.1, 50.5, 2.1, 90.0]));
        assert_eq!(moved, [Quality::Ok; 4]);
    }
}
