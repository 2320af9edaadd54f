//! Repairs along the time axis: putting rows in time order, dropping repeated
//! timestamps, interpolating bad cells, finding and filling gaps, and spotting
//! constant columns. Everything here works on plain slices, row by row.

/// Which rows to keep, in which order, and what was wrong with the others.
/// All entries are row indices into the table as read.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RowPlan {
    /// Rows to keep, sorted by time (stable), one per timestamp.
    pub order: Vec<usize>,
    /// Rows whose time could not be read.
    pub unreadable: Vec<usize>,
    /// Rows whose time is earlier than the readable row above them.
    pub backwards: Vec<usize>,
    /// Rows dropped because an earlier row in the file has the same time.
    pub duplicates: Vec<usize>,
}

/// Plans the rows of a table with time `secs` (`NaN` = unreadable): a stable
/// sort by time that keeps the first row (in file order) of each timestamp.
pub(crate) fn plan_rows(secs: &[f64]) -> RowPlan {
    let mut plan = RowPlan::default();
    let mut readable = Vec::with_capacity(secs.len());
    for (row, time) in secs.iter().enumerate() {
        if time.is_finite() {
            readable.push(row);
        } else {
            plan.unreadable.push(row);
        }
    }

    for pair in readable.windows(2) {
        if secs[pair[1]] < secs[pair[0]] {
            plan.backwards.push(pair[1]);
        }
    }

    if !plan.backwards.is_empty() {
        // `sort_by` is stable, so equal times keep their file order and the
        // first of them is the one kept below.
        readable.sort_by(|&a, &b| secs[a].total_cmp(&secs[b]));
    }

    plan.order = Vec::with_capacity(readable.len());
    for row in readable {
        match plan.order.last() {
            Some(&kept) if secs[kept].total_cmp(&secs[row]).is_eq() => plan.duplicates.push(row),
            _ => plan.order.push(row),
        }
    }
    plan.duplicates.sort_unstable();

    plan
}

/// The entries of `values` at `rows`, in that order.
pub(crate) fn select<T: Copy>(values: &[T], rows: &[usize]) -> Vec<T> {
    rows.iter().map(|&row| values[row]).collect()
}

/// Replaces every `NaN` in `values` by linear interpolation along `time`
/// between the nearest good neighbours; a run at either end takes the nearest
/// good value. Returns how many values were replaced, or `None` when no value
/// is good (then nothing changes).
pub(crate) fn interpolate_bad(time: &[f64], values: &mut [f32]) -> Option<usize> {
    let first_good = values.iter().position(|value| value.is_finite())?;
    let lead = values[first_good];
    values[..first_good].fill(lead);
    let mut repaired = first_good;

    let mut left = first_good;
    let mut row = first_good + 1;
    while row < values.len() {
        if values[row].is_finite() {
            left = row;
            row += 1;
            continue;
        }

        let right = (row..values.len()).find(|&next| values[next].is_finite());
        let end = right.unwrap_or(values.len());
        for fill in row..end {
            values[fill] = match right {
                Some(right) => lerp_at(time, left, right, fill, values[left], values[right]),
                None => values[left],
            };
            repaired += 1;
        }
        row = end;
    }

    Some(repaired)
}

/// The value at row `at` on the straight line through rows `left` and `right`.
fn lerp_at(time: &[f64], left: usize, right: usize, at: usize, from: f32, to: f32) -> f32 {
    let span = time[right] - time[left];
    let share = if span > 0.0 {
        (time[at] - time[left]) / span
    } else {
        0.5
    };
    lerp(from, to, share)
}

/// The value `share` of the way from `from` to `to`, computed in `f64` so
/// that values near the ends of the `f32` range do not overflow to infinity.
fn lerp(from: f32, to: f32, share: f64) -> f32 {
    let (from, to) = (f64::from(from), f64::from(to));
    (from + (to - from) * share) as f32
}

/// Median of the positive steps of `time`, or `None` with fewer than two rows.
pub(crate) fn median_step(time: &[f64]) -> Option<f64> {
    let mut steps: Vec<f64> = time
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .filter(|step| step.is_finite() && *step > 0.0)
        .collect();
    if steps.is_empty() {
        return None;
    }

    steps.sort_by(f64::total_cmp);
    let middle = steps.len() / 2;
    if steps.len() % 2 == 1 {
        Some(steps[middle])
    } else {
        Some(f64::midpoint(steps[middle - 1], steps[middle]))
    }
}

/// A step in time longer than the gap factor times the median step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GapPlan {
    /// Index of the row before the gap.
    pub after: usize,
    /// Length of the step.
    pub secs: f64,
    /// Median steps missing in it (the step in medians, rounded, minus one).
    pub missing: usize,
    /// Whether the gap will be filled with interpolated rows.
    pub fill: bool,
}

/// Finds the gaps of `time` and decides which to fill: those missing at most
/// `max_fill` steps, while the rows inserted in all stay within `budget`.
pub(crate) fn find_gaps(
    time: &[f64],
    median: f64,
    factor: f64,
    max_fill: usize,
    budget: usize,
) -> Vec<GapPlan> {
    let mut gaps = Vec::new();
    let mut inserted = 0_usize;

    for (after, pair) in time.windows(2).enumerate() {
        let secs = pair[1] - pair[0];
        if secs <= factor * median {
            continue;
        }

        // Steps are at least `factor` medians here, so `missing` is at least
        // one for any factor above 1.5; the clamp keeps absurd steps finite.
        let steps = (secs / median).round().clamp(1.0, 1e15);
        let missing = (steps as usize).saturating_sub(1).max(1);
        let fill = missing <= max_fill && inserted + missing <= budget;
        if fill {
            inserted += missing;
        }
        gaps.push(GapPlan {
            after,
            secs,
            missing,
            fill,
        });
    }

    gaps
}

/// Inserts evenly spaced rows into the gaps marked `fill`, with values on the
/// straight line between the rows around each gap.
pub(crate) fn fill_gaps(time: &mut Vec<f64>, channels: &mut [Vec<f32>], gaps: &[GapPlan]) {
    let extra: usize = gaps
        .iter()
        .filter(|gap| gap.fill)
        .map(|gap| gap.missing)
        .sum();
    if extra == 0 {
        return;
    }

    let mut new_time = Vec::with_capacity(time.len() + extra);
    let mut new_channels: Vec<Vec<f32>> = channels
        .iter()
        .map(|_| Vec::with_capacity(time.len() + extra))
        .collect();
    let mut gaps = gaps.iter().filter(|gap| gap.fill).peekable();

    for row in 0..time.len() {
        new_time.push(time[row]);
        for (out, values) in new_channels.iter_mut().zip(channels.iter()) {
            out.push(values[row]);
        }

        let Some(gap) = gaps.next_if(|gap| gap.after == row) else {
            continue;
        };
        let parts = (gap.missing + 1) as f64;
        for step in 1..=gap.missing {
            let share = step as f64 / parts;
            new_time.push(time[row] + gap.secs * share);
            for (out, values) in new_channels.iter_mut().zip(channels.iter()) {
                let (from, to) = (values[row], values[row + 1]);
                out.push(lerp(from, to, share));
            }
        }
    }

    *time = new_time;
    for (values, filled) in channels.iter_mut().zip(new_channels) {
        *values = filled;
    }
}

/// Whether every finite value equals the first finite one (and there is one).
pub(crate) fn is_constant(values: &[f32]) -> bool {
    let mut finite = values.iter().filter(|value| value.is_finite());
    let Some(first) = finite.next() else {
        return false;
    };
    // Exact comparison on purpose: a column is constant when every reading
    // is the same number, as sensors that never change report it.
    finite.all(|value| value.total_cmp(first).is_eq() || (*value == 0.0 && *first == 0.0))
}

#[cfg(test)]
// The expected values are exact in binary floating point.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn plans_sort_stably_and_keep_first_duplicate() {
        let secs = [0.0, 1.0, 2.0, 1.0, f64::NAN, 3.0, 2.0];
        let plan = plan_rows(&secs);
        assert_eq!(plan.order, vec![0, 1, 2, 5]);
        assert_eq!(plan.unreadable, vec![4]);
        assert_eq!(plan.backwards, vec![3, 6]);
        assert_eq!(plan.duplicates, vec![3, 6]);
    }

    #[test]
    fn ordered_rows_are_left_alone() {
        let plan = plan_rows(&[0.0, 1.0, 2.0]);
        assert_eq!(plan.order, vec![0, 1, 2]);
        assert!(plan.backwards.is_empty() && plan.duplicates.is_empty());
    }

    #[test]
    fn interpolates_along_time_not_rows() {
        let time = [0.0, 1.0, 4.0];
        let mut values = [0.0, f32::NAN, 8.0];
        assert_eq!(interpolate_bad(&time, &mut values), Some(1));
        assert!((values[1] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn ends_take_the_nearest_good_value() {
        let time = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut values = [f32::NAN, f32::NAN, 5.0, 7.0, f32::NAN];
        assert_eq!(interpolate_bad(&time, &mut values), Some(3));
        assert_eq!(values, [5.0, 5.0, 5.0, 7.0, 7.0]);

        let mut none = [f32::NAN, f32::NAN];
        assert_eq!(interpolate_bad(&time[..2], &mut none), None);
    }

    #[test]
    fn median_step_of_even_and_odd() {
        assert_eq!(median_step(&[0.0, 1.0, 2.0, 10.0]), Some(1.0));
        assert_eq!(median_step(&[0.0, 1.0, 3.0]), Some(1.5));
        assert_eq!(median_step(&[0.0]), None);
    }

    #[test]
    fn short_gaps_fill_and_long_gaps_stay() {
        let mut time = vec![0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 20.0];
        let mut channels = vec![vec![0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 20.0]];
        let gaps = find_gaps(&time, 1.0, 1.5, 5, 100);
        assert_eq!(gaps.len(), 2);
        assert_eq!((gaps[0].after, gaps[0].missing, gaps[0].fill), (2, 2, true));
        assert_eq!(
            (gaps[1].after, gaps[1].missing, gaps[1].fill),
            (5, 12, false)
        );

        fill_gaps(&mut time, &mut channels, &gaps);
        assert_eq!(time, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 20.0]);
        assert_eq!(channels[0][3], 3.0);
        assert_eq!(channels[0][4], 4.0);
    }

    #[test]
    fn gap_budget_limits_inserted_rows() {
        let gaps = find_gaps(&[0.0, 1.0, 4.0, 7.0], 1.0, 1.5, 5, 3);
        let filled: Vec<bool> = gaps.iter().map(|gap| gap.fill).collect();
        assert_eq!(filled, vec![true, false]);
    }

    #[test]
    fn constant_ignores_nan() {
        assert!(is_constant(&[1.0, f32::NAN, 1.0]));
        assert!(!is_constant(&[1.0, 1.5]));
        assert!(!is_constant(&[f32::NAN]));
    }
}
