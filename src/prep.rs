//! Preprocessing: a chronological split, z-score normalisation fitted on the
//! training part only, and windowing into model inputs and labels.
//!
//! Windows are stored flat and row-major so that they can be handed to any
//! backend without copies per window: inputs as `[count, lookback, features]`,
//! labels as `[count, horizon, targets]`.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Errors while preparing data for the model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PrepError {
    /// The split fractions do not leave room for all three parts.
    #[error(
        "split fractions must be positive and leave a test part: train {train}, validation \
         {validation}"
    )]
    BadFractions {
        /// Fraction of rows for training.
        train: f32,
        /// Fraction of rows for validation.
        validation: f32,
    },
    /// A part of the series is too short for even one window.
    #[error(
        "the {part} part has {rows} rows, fewer than one window needs (look-back {lookback} + \
         horizon {horizon}); use a shorter look-back or horizon, or more data"
    )]
    TooShort {
        /// Which part: "training", "validation" or "test".
        part: &'static str,
        /// Rows in that part.
        rows: usize,
        /// Look-back steps asked for.
        lookback: usize,
        /// Horizon steps asked for.
        horizon: usize,
    },
    /// Look-back, horizon or stride is zero.
    #[error("look-back, horizon and stride must be at least 1")]
    ZeroWindow,
}

/// How a series is cut chronologically: the test part is what is left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitFractions {
    /// Fraction of rows for training, e.g. `0.7`.
    pub train: f32,
    /// Fraction of rows for validation (early stopping), e.g. `0.15`.
    pub validation: f32,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self {
            train: 0.7,
            validation: 0.15,
        }
    }
}

/// Row ranges of the three chronological parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Rows used to fit the model and the normalisation.
    pub train: Range<usize>,
    /// Rows used for early stopping.
    pub validation: Range<usize>,
    /// Rows held out for evaluation.
    pub test: Range<usize>,
}

impl Split {
    /// Cuts `rows` rows in time order by `fractions`.
    pub fn chronological(rows: usize, fractions: SplitFractions) -> Result<Self, PrepError> {
        let SplitFractions { train, validation } = fractions;
        let valid = train > 0.0 && validation > 0.0 && train + validation < 1.0;
        if !valid {
            return Err(PrepError::BadFractions { train, validation });
        }

        let train_end = (rows as f64 * f64::from(train)).round() as usize;
        let validation_end = (rows as f64 * f64::from(train + validation)).round() as usize;
        Ok(Self {
            train: 0..train_end,
            validation: train_end..validation_end.min(rows),
            test: validation_end.min(rows)..rows,
        })
    }
}

/// Per-channel z-score statistics, fitted on the training part only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Mean of each channel over the training rows.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel over the training rows (never 0).
    pub std: Vec<f32>,
}

impl Normalizer {
    /// Fits mean and standard deviation of each channel over `rows`.
    ///
    /// A channel that is constant on those rows gets a standard deviation of 1
    /// so that normalising never divides by zero.
    #[must_use]
    pub fn fit(channels: &[&[f32]], rows: Range<usize>) -> Self {
        let (mean, std) = channels
            .iter()
            .map(|values| {
                let part = &values[rows.clone()];
                let n = part.len().max(1) as f64;
                let mean = part.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var = part
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n;
                let std = var.sqrt();
                let std = if std > 1e-12 { std } else { 1.0 };
                (mean as f32, std as f32)
            })
            .unzip();
        Self { mean, std }
    }

    /// Returns `values` of channel `channel` in z-scores.
    #[must_use]
    pub fn normalize(&self, channel: usize, values: &[f32]) -> Vec<f32> {
        let (mean, std) = (self.mean[channel], self.std[channel]);
        values.iter().map(|&v| (v - mean) / std).collect()
    }

    /// Turns one z-score of channel `channel` back into original units.
    #[must_use]
    pub fn denormalize_value(&self, channel: usize, value: f32) -> f32 {
        value * self.std[channel] + self.mean[channel]
    }
}

/// Window geometry in time steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// Steps the model sees before the forecast origin.
    pub lookback: usize,
    /// Steps forecast after the origin.
    pub horizon: usize,
    /// Steps between consecutive window origins.
    pub stride: usize,
}

/// Windows cut from a normalised series, stored flat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Windows {
    /// Steps of input per window.
    pub lookback: usize,
    /// Input features per step.
    pub features: usize,
    /// Forecast steps per window.
    pub horizon: usize,
    /// Forecast channels per step.
    pub targets: usize,
    /// Model inputs, `[count, lookback, features]` row-major.
    pub inputs: Vec<f32>,
    /// Labels, `[count, horizon, targets]` row-major.
    pub labels: Vec<f32>,
    /// Row index of the first forecast step of each window.
    pub origins: Vec<usize>,
}

impl Windows {
    /// Number of windows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    /// Whether there is no window.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// Input values of window `i`, `[lookback, features]`.
    #[must_use]
    pub fn input(&self, i: usize) -> &[f32] {
        let size = self.lookback * self.features;
        &self.inputs[i * size..(i + 1) * size]
    }

    /// Label values of window `i`, `[horizon, targets]`.
    #[must_use]
    pub fn label(&self, i: usize) -> &[f32] {
        let size = self.horizon * self.targets;
        &self.labels[i * size..(i + 1) * size]
    }

    /// A new set holding the windows at `indices`, in that order.
    #[must_use]
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut out = Self {
            lookback: self.lookback,
            features: self.features,
            horizon: self.horizon,
            targets: self.targets,
            ..Self::default()
        };
        for &i in indices {
            out.inputs.extend_from_slice(self.input(i));
            out.labels.extend_from_slice(self.label(i));
            out.origins.push(self.origins[i]);
        }
        out
    }
}

/// Cuts windows whose forecast steps lie inside `part`.
///
/// `series` holds normalised channels (all the same length). The look-back of
/// a window may reach before `part.start` (the validation and test parts use
/// the end of the part before them as history, which is known at that time),
/// but never before row 0. `inputs` and `targets` are channel indices into
/// `series`.
pub fn make_windows(
    series: &[Vec<f32>],
    inputs: &[usize],
    targets: &[usize],
    part: Range<usize>,
    spec: WindowSpec,
) -> Result<Windows, PrepError> {
    let WindowSpec {
        lookback,
        horizon,
        stride,
    } = spec;
    if lookback == 0 || horizon == 0 || stride == 0 {
        return Err(PrepError::ZeroWindow);
    }

    let mut windows = Windows {
        lookback,
        features: inputs.len(),
        horizon,
        targets: targets.len(),
        ..Windows::default()
    };
    let first_origin = part.start.max(lookback);
    let mut origin = first_origin;
    while origin + horizon <= part.end {
        // Time steps outer, channels inner: the row-major window layout.
        #[allow(clippy::needless_range_loop)]
        for t in origin - lookback..origin {
            windows.inputs.extend(inputs.iter().map(|&c| series[c][t]));
        }
        #[allow(clippy::needless_range_loop)]
        for t in origin..origin + horizon {
            windows.labels.extend(targets.iter().map(|&c| series[c][t]));
        }
        windows.origins.push(origin);
        origin += stride;
    }
    Ok(windows)
}

/// Whole sequences with a label at every step, for networks that read a
/// history from its start and say something at each step (the RUL of a
/// unit over its life). Sequences may differ in length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sequences {
    /// Input features per step.
    pub features: usize,
    /// Labels per step.
    pub targets: usize,
    /// Each sequence's inputs, `[steps, features]` row-major.
    pub inputs: Vec<Vec<f32>>,
    /// Each sequence's labels, `[steps, targets]` row-major.
    pub labels: Vec<Vec<f32>>,
}

/// Sequences padded to one length for a batch: `[count, steps, features]`
/// inputs and `[count, steps, targets]` labels and mask (1 where a label is
/// real, 0 in the padding after a sequence's end).
#[derive(Debug, Clone, PartialEq)]
pub struct PaddedBatch {
    /// Steps of the longest sequence in the batch.
    pub steps: usize,
    /// Inputs, zero after each sequence's end.
    pub inputs: Vec<f32>,
    /// Labels, zero after each sequence's end.
    pub labels: Vec<f32>,
    /// 1 for real labels, 0 for padding.
    pub mask: Vec<f32>,
    /// Number of real label values.
    pub valid: usize,
}

impl Sequences {
    /// Number of sequences.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Steps of sequence `i`.
    #[must_use]
    pub fn steps(&self, i: usize) -> usize {
        self.inputs[i].len() / self.features.max(1)
    }

    /// The sequences at `indices`, padded at their end to the longest. A
    /// network that reads forward in time never sees the padding before a
    /// real step, so padding at the end changes no real output.
    #[must_use]
    pub fn padded(&self, indices: &[usize]) -> PaddedBatch {
        let steps = indices.iter().map(|&i| self.steps(i)).max().unwrap_or(0);
        let (f, t) = (self.features, self.targets);
        let mut batch = PaddedBatch {
            steps,
            inputs: vec![0.0; indices.len() * steps * f],
            labels: vec![0.0; indices.len() * steps * t],
            mask: vec![0.0; indices.len() * steps * t],
            valid: 0,
        };
        for (row, &i) in indices.iter().enumerate() {
            let input = &self.inputs[i];
            let label = &self.labels[i];
            batch.inputs[row * steps * f..row * steps * f + input.len()].copy_from_slice(input);
            let at = row * steps * t;
            batch.labels[at..at + label.len()].copy_from_slice(label);
            batch.mask[at..at + label.len()].fill(1.0);
            batch.valid += label.len();
        }
        batch
    }
}

/// The smallest stride that yields at most `max_windows` windows over `rows` rows.
#[must_use]
pub fn stride_for(rows: usize, spec: WindowSpec, max_windows: usize) -> usize {
    let possible = rows.saturating_sub(spec.lookback + spec.horizon) + 1;
    possible.div_ceil(max_windows.max(1)).max(1)
}

/// The smallest stride with which [`make_windows`] cuts at most
/// `max_windows` windows from `part`.
///
/// Unlike [`stride_for`] of the part's length, this counts the windows whose
/// look-back reaches before `part.start`: a validation or test part has up to
/// `lookback` more of them than a series of its length.
#[must_use]
pub fn stride_for_part(part: Range<usize>, spec: WindowSpec, max_windows: usize) -> usize {
    let first_origin = part.start.max(spec.lookback);
    let possible = (part.end + 1).saturating_sub(first_origin + spec.horizon);
    possible.div_ceil(max_windows.max(1)).max(1)
}

#[cfg(test)]
// The expected values are exact in binary floating point.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn split_is_chronological_and_covers_all_rows() {
        let split = Split::chronological(100, SplitFractions::default()).unwrap();
        assert_eq!(split.train, 0..70);
        assert_eq!(split.validation, 70..85);
        assert_eq!(split.test, 85..100);
    }

    #[test]
    fn split_rejects_fractions_without_a_test_part() {
        let fractions = SplitFractions {
            train: 0.8,
            validation: 0.2,
        };
        assert!(Split::chronological(100, fractions).is_err());
    }

    #[test]
    fn normalizer_uses_training_rows_only() {
        let values = [1.0, 3.0, 100.0, 100.0];
        let norm = Normalizer::fit(&[&values], 0..2);
        assert!((norm.mean[0] - 2.0).abs() < 1e-6);
        assert!((norm.std[0] - 1.0).abs() < 1e-6);
        assert_eq!(norm.normalize(0, &[3.0]), vec![1.0]);
        assert!((norm.denormalize_value(0, 1.0) - 3.0).abs() < 1e-6);
    }

    #[test]
    fn constant_channel_gets_unit_std() {
        let values = [5.0; 10];
        let norm = Normalizer::fit(&[&values], 0..10);
        assert_eq!(norm.std[0], 1.0);
    }

    #[test]
    fn windows_have_the_documented_layout() {
        let a: Vec<f32> = (0..10).map(|v| v as f32).collect();
        let b: Vec<f32> = (0..10).map(|v| v as f32 * 10.0).collect();
        let spec = WindowSpec {
            lookback: 3,
            horizon: 2,
            stride: 2,
        };
        let w = make_windows(&[a, b], &[0, 1], &[1], 0..10, spec).unwrap();
        assert_eq!(w.origins, vec![3, 5, 7]);
        assert_eq!(w.input(0), &[0.0, 0.0, 1.0, 10.0, 2.0, 20.0]);
        assert_eq!(w.label(0), &[30.0, 40.0]);
        assert_eq!(w.label(2), &[70.0, 80.0]);
    }

    #[test]
    fn test_windows_may_look_back_into_the_previous_part() {
        let a: Vec<f32> = (0..20).map(|v| v as f32).collect();
        let spec = WindowSpec {
            lookback: 5,
            horizon: 2,
            stride: 1,
        };
        let w = make_windows(&[a], &[0], &[0], 15..20, spec).unwrap();
        assert_eq!(w.origins, vec![15, 16, 17, 18]);
        assert_eq!(w.input(0), &[10.0, 11.0, 12.0, 13.0, 14.0]);
    }

    #[test]
    fn stride_for_caps_the_window_count() {
        let spec = WindowSpec {
            lookback: 10,
            horizon: 5,
            stride: 1,
        };
        let stride = stride_for(1015, spec, 100);
        let a = vec![0.0; 1015];
        let w = make_windows(&[a], &[0], &[0], 0..1015, WindowSpec { stride, ..spec }).unwrap();
        assert!(w.len() <= 100, "{} windows", w.len());
        assert!(w.len() > 50);
    }

    #[test]
    fn stride_for_part_counts_windows_that_look_back() {
        let spec = WindowSpec {
            lookback: 4,
            horizon: 2,
            stride: 1,
        };
        let series = [vec![0.0; 450]];
        for part in [0..315, 315..383, 383..450, 440..450, 0..3] {
            for max in [1, 7, 64] {
                let stride = stride_for_part(part.clone(), spec, max);
                let spec = WindowSpec { stride, ..spec };
                let w = make_windows(&series, &[0], &[0], part.clone(), spec).unwrap();
                assert!(
                    w.len() <= max,
                    "{part:?}, at most {max}: {} windows",
                    w.len()
                );
                if stride > 1 {
                    let denser = WindowSpec {
                        stride: stride - 1,
                        ..spec
                    };
                    let more = make_windows(&series, &[0], &[0], part.clone(), denser);
                    assert!(
                        more.unwrap().len() > max,
                        "{part:?}: stride {stride} is not smallest"
                    );
                }
            }
        }
        assert_eq!(
            stride_for_part(0..1015, spec, 100),
            stride_for(1015, spec, 100)
        );
    }
}
