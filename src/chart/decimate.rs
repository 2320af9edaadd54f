//! Thinning long series before drawing, keeping their visible shape.

/// How many points per bucket a series may have before it is thinned.
const POINTS_PER_BUCKET: usize = 4;

/// Thins `points` to at most `3 * buckets` points when it has more than
/// `4 * buckets`; shorter series come back unchanged.
///
/// The points are cut, in order, into `buckets` runs of nearly equal length
/// (one per pixel column when `buckets` is the plot width). Each run keeps its
/// point with the smallest `y`, its point with the largest `y` and its first
/// point with a non-finite coordinate, in their original order, so peaks,
/// troughs and gaps all survive. A `buckets` of 0 counts as 1.
#[must_use]
pub fn decimate_min_max(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    let buckets = buckets.max(1);
    if points.len() <= POINTS_PER_BUCKET.saturating_mul(buckets) {
        return points.to_vec();
    }

    // The first `extra` buckets take one point more than the others.
    let base = points.len() / buckets;
    let extra = points.len() % buckets;
    let bucket_start = |bucket: usize| bucket * base + bucket.min(extra);

    let mut kept = Vec::with_capacity(3 * buckets);
    for bucket in 0..buckets {
        let run = &points[bucket_start(bucket)..bucket_start(bucket + 1)];
        keep_extremes(run, &mut kept);
    }
    kept
}

/// Appends the minimum, maximum and first non-finite point of `run` to `kept`.
fn keep_extremes(run: &[(f64, f64)], kept: &mut Vec<(f64, f64)>) {
    let mut min: Option<usize> = None;
    let mut max: Option<usize> = None;
    let mut gap: Option<usize> = None;

    for (index, &(x, y)) in run.iter().enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            gap.get_or_insert(index);
            continue;
        }
        if min.is_none_or(|m| y < run[m].1) {
            min = Some(index);
        }
        if max.is_none_or(|m| y > run[m].1) {
            max = Some(index);
        }
    }

    let mut indices: Vec<usize> = [min, max, gap].into_iter().flatten().collect();
    indices.sort_unstable();
    indices.dedup();
    kept.extend(indices.into_iter().map(|index| run[index]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(len: usize) -> Vec<(f64, f64)> {
        (0..len)
            .map(|i| {
                let x = i as f64;
                (x, (x * 0.01).sin() * 10.0)
            })
            .collect()
    }

    #[test]
    fn short_series_is_unchanged() {
        let points = wave(40);
        assert_eq!(decimate_min_max(&points, 10), points);
    }

    #[test]
    fn output_is_bounded_and_keeps_extremes() {
        let mut points = wave(100_000);
        points[12_345].1 = 1_000.0;
        points[67_890].1 = -1_000.0;

        let kept = decimate_min_max(&points, 500);

        assert!(kept.len() <= 3 * 500, "kept {} points", kept.len());
        assert!(kept.len() >= 500, "every bucket keeps a point");
        assert!(kept.contains(&points[12_345]));
        assert!(kept.contains(&points[67_890]));
    }

    #[test]
    fn order_of_points_is_kept() {
        let kept = decimate_min_max(&wave(10_000), 100);
        assert!(kept.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn gaps_survive_decimation() {
        let mut points = wave(10_000);
        points[5_000].1 = f64::NAN;

        let kept = decimate_min_max(&points, 100);

        assert_eq!(kept.iter().filter(|(_, y)| y.is_nan()).count(), 1);
    }

    #[test]
    fn all_nan_bucket_keeps_only_the_gap() {
        let points = vec![(0.0, f64::NAN); 100];
        let kept = decimate_min_max(&points, 5);
        assert_eq!(kept.len(), 5);
    }

    #[test]
    fn zero_buckets_counts_as_one() {
        let kept = decimate_min_max(&wave(1_000), 0);
        assert!(kept.len() <= 3);
        assert!(!kept.is_empty());
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(decimate_min_max(&[], 10).is_empty());
    }
}
