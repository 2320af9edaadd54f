//! Time until a channel crosses its alarm limit, from a straight line
//! fitted to its recent readings.
//!
//! Over the last `window` valid readings `(tᵢ, yᵢ)` an ordinary
//! least-squares line `y = a + b·t` gives the slope `b`, its standard error
//! `se(b) = s / √Σ(tᵢ − t̄)²` (with `s²` the residual variance on `n − 2`
//! degrees of freedom) and the fitted level now, `ŷ`. With `gap = limit − ŷ`
//! and `k` the band width in standard errors:
//!
//! - `ŷ ≥ limit`: the channel is at the limit, time 0;
//! - `b − k·se(b) ≤ 0`: the rise is not clear against the noise, no forecast;
//! - otherwise the crossing is `gap / b` away, with the band
//!   `gap / (b + k·se)` to `gap / (b − k·se)`.
//!
//! A straight line is a cautious model of wear, which speeds up: the
//! estimate comes late rather than early, and the band narrows as the
//! crossing approaches.

use std::collections::VecDeque;

use super::observation::LimitForecast;

/// A rolling linear trend of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitTrend {
    window: usize,
    band_sigmas: f64,
    points: VecDeque<(f64, f64)>,
}

impl LimitTrend {
    /// A trend over the last `window` readings with a band of
    /// `band_sigmas` standard errors of the slope.
    #[must_use]
    pub fn new(window: usize, band_sigmas: f64) -> Self {
        let window = window.max(3);
        Self {
            window,
            band_sigmas,
            points: VecDeque::with_capacity(window),
        }
    }

    /// Adds a reading (ignored unless both numbers are finite).
    pub fn push(&mut self, time_secs: f64, value: f64) {
        if !(time_secs.is_finite() && value.is_finite()) {
            return;
        }
        if self.points.len() == self.window {
            self.points.pop_front();
        }
        self.points.push_back((time_secs, value));
    }

    /// Forgets every reading.
    pub fn reset(&mut self) {
        self.points.clear();
    }

    /// When `channel` is expected to reach `limit` from below, or `None`
    /// while fewer than half the window is filled or the rise is unclear.
    #[must_use]
    pub fn time_to_limit(&self, channel: &str, limit: f64) -> Option<LimitForecast> {
        let needed = (self.window / 2).max(3);
        if self.points.len() < needed {
            return None;
        }

        let n = self.points.len() as f64;
        let (sum_t, sum_y) = self
            .points
            .iter()
            .fold((0.0, 0.0), |(t, y), &(ti, yi)| (t + ti, y + yi));
        let (mean_t, mean_y) = (sum_t / n, sum_y / n);
        let (sxx, sxy) = self.points.iter().fold((0.0, 0.0), |(xx, xy), &(t, y)| {
            let dt = t - mean_t;
            (xx + dt * dt, xy + dt * (y - mean_y))
        });
        if sxx <= 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        let (last_t, _) = *self.points.back()?;
        let level = mean_y + slope * (last_t - mean_t);

        let at_limit = LimitForecast {
            channel: channel.to_owned(),
            limit,
            secs: 0.0,
            lower_secs: 0.0,
            upper_secs: Some(0.0),
        };
        if level >= limit {
            return Some(at_limit);
        }

        let sse: f64 = self
            .points
            .iter()
            .map(|&(t, y)| {
                let error = y - (mean_y + slope * (t - mean_t));
                error * error
            })
            .sum();
        let se = (sse / (n - 2.0) / sxx).sqrt();
        let slow = slope - self.band_sigmas * se;
        if slow.is_nan() || slow <= 0.0 {
            return None;
        }
        let gap = limit - level;
        Some(LimitForecast {
            secs: gap / slope,
            lower_secs: gap / (slope + self.band_sigmas * se),
            upper_secs: Some(gap / slow),
            ..at_limit
        })
    }
}

#[cfg(test)]
mod tests {
    use super::LimitTrend;

    #[test]
    fn a_clean_ramp_gives_the_exact_crossing() {
        let mut trend = LimitTrend::new(20, 3.0);
        // 0.5 per minute from 1.0; reaches 7.1 at 12.2 minutes.
        for step in 0..10 {
            let t = f64::from(step) * 60.0;
            trend.push(t, 1.0 + 0.5 * f64::from(step));
        }
        let forecast = trend.time_to_limit("v", 7.1).unwrap();
        // Last point at 9 min, value 5.5: 1.6 left at 0.5/min is 3.2 min.
        assert!((forecast.secs - 192.0).abs() < 1e-6, "{forecast:?}");
        assert!((forecast.lower_secs - forecast.secs).abs() < 1e-6);
        assert_eq!(forecast.channel, "v");
    }

    #[test]
    fn noise_widens_the_band_and_flat_data_gives_nothing() {
        let mut rising = LimitTrend::new(40, 3.0);
        let mut flat = LimitTrend::new(40, 3.0);
        for step in 0..40 {
            let t = f64::from(step) * 60.0;
            let wiggle = if step % 2 == 0 { 0.05 } else { -0.05 };
            rising.push(t, 1.0 + 0.01 * f64::from(step) + wiggle);
            flat.push(t, 1.0 + wiggle);
        }
        let forecast = rising.time_to_limit("v", 2.0).unwrap();
        let upper = forecast.upper_secs.unwrap();
        assert!(forecast.lower_secs < forecast.secs && forecast.secs < upper);
        assert!(flat.time_to_limit("v", 2.0).is_none());
        assert!(
            flat.time_to_limit("v", 0.5)
                .is_some_and(|at| at.secs.abs() < 1e-12)
        );
    }

    #[test]
    fn too_few_points_give_nothing() {
        let mut trend = LimitTrend::new(40, 3.0);
        for step in 0..10 {
            trend.push(f64::from(step), f64::from(step));
        }
        assert!(trend.time_to_limit("v", 100.0).is_none());
        trend.reset();
        assert!(trend.time_to_limit("v", 1.0).is_none());
    }
}
