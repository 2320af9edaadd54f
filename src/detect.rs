//! Scoring a twin's alarms against labelled anomaly windows.
//!
//! A labelled dataset (such as the Numenta Anomaly Benchmark, NAB) says
//! *when* something was wrong, as windows of time. The twin says, reading by
//! reading, what state the asset is in. This module joins the two:
//!
//! 1. [`parse_windows`] reads the windows of one data file from a label file
//!    in NAB's `combined_windows.json` format: a JSON object from file paths
//!    (`"realKnownCause/machine_temperature_system_failure.csv"`) to lists
//!    of `[start, end]` time strings (`"2013-12-10 06:25:00.000000"`, UTC).
//! 2. [`episodes`] turns the per-reading states into **episodes**: maximal
//!    runs of alarm states (`Warning`, `Critical`, `Failed`) and, kept
//!    apart, maximal runs of `SensorFault` (bad data is not an anomaly of
//!    the asset, and the labels do not cover it).
//! 3. [`score`] checks the alarm episodes against the windows:
//!    - a window is **detected** by an episode that starts inside it, or
//!      that started before it and is still on at its start;
//!    - the **earliness** of a detection is counted from the first such
//!      episode's start: hours before the window's end (more is earlier)
//!      and hours after its start (negative when it was already on);
//!    - a **false alarm** is an episode that starts outside every window
//!      and detects none (one already on when a window begins counts as
//!      that window's detection, not as a false alarm); they are given per
//!      week of scored data.
//!
//! Windows wholly outside the scored readings (for instance during the
//! forecaster's commissioning) are reported but not scored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ingest::parse_datetime;
use crate::twin::HealthState;
use crate::twin::event::iso_utc;

/// Seconds in an hour.
const HOUR_SECS: f64 = 3_600.0;

/// Seconds in a week.
const WEEK_SECS: f64 = 7.0 * 24.0 * HOUR_SECS;

/// Why a label file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The text is not JSON; the message names the line and column.
    #[error("the labels are not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not an object of file names.
    #[error(
        "the labels must be a JSON object from file names to lists of [start, end] windows; \
         found {found}"
    )]
    NotAnObject {
        /// What was found instead (`an array`, `a string`, …).
        found: &'static str,
    },
    /// No key names the data file.
    #[error("the labels have no entry for `{file}`: none of their {keys} key(s) ends with it")]
    NoEntry {
        /// The data file's name.
        file: String,
        /// How many keys the labels have.
        keys: usize,
    },
    /// Several keys name the data file.
    #[error("the labels have several entries for `{file}`: {}", keys.join(", "))]
    Ambiguous {
        /// The data file's name.
        file: String,
        /// The keys that end with it.
        keys: Vec<String>,
    },
    /// The entry is not a list of windows.
    #[error("the labels of `{key}` must be a list of [start, end] windows; found {found}")]
    NotAList {
        /// The entry's key.
        key: String,
        /// What was found instead.
        found: &'static str,
    },
    /// One window cannot be read.
    #[error("window {number} of `{key}`: {detail}")]
    BadWindow {
        /// The entry's key.
        key: String,
        /// Position of the window in its list, from 1.
        number: usize,
        /// What is wrong with it.
        detail: String,
    },
}

/// A labelled stretch of time when the asset was anomalous, in epoch
/// seconds (UTC), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelWindow {
    /// First instant of the window.
    pub start_secs: f64,
    /// Last instant of the window.
    pub end_secs: f64,
}

impl LabelWindow {
    /// Whether `time_secs` lies in the window.
    #[must_use]
    pub fn contains(&self, time_secs: f64) -> bool {
        (self.start_secs..=self.end_secs).contains(&time_secs)
    }
}

/// What a JSON value is, for messages.
fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether the label key `key` names the data file `file`: equal, or its
/// last path component (after `/` or `\`) is `file`.
fn names_file(key: &str, file: &str) -> bool {
    key == file
        || key
            .strip_suffix(file)
            .is_some_and(|head| head.ends_with('/') || head.ends_with('\\'))
}

/// The labelled windows of the data file `file` (its name, without
/// folders) in a label file of NAB's `combined_windows.json` format, sorted
/// by start.
///
/// The entry used is the one whose key is `file` or ends with `/file`; an
/// entry with an empty list is valid (a file without anomalies).
pub fn parse_windows(json: &str, file: &str) -> Result<Vec<LabelWindow>, DetectError> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    let serde_json::Value::Object(entries) = value else {
        return Err(DetectError::NotAnObject {
            found: kind_of(&value),
        });
    };
    let matching: Vec<(&String, &serde_json::Value)> = entries
        .iter()
        .filter(|(key, _)| names_file(key, file))
        .collect();
    let (key, list) = match matching.as_slice() {
        [] => {
            return Err(DetectError::NoEntry {
                file: file.to_owned(),
                keys: entries.len(),
            });
        }
        [one] => *one,
        _ => {
            return Err(DetectError::Ambiguous {
                file: file.to_owned(),
                keys: matching.iter().map(|(key, _)| (*key).clone()).collect(),
            });
        }
    };
    let serde_json::Value::Array(items) = list else {
        return Err(DetectError::NotAList {
            key: key.clone(),
            found: kind_of(list),
        });
    };
    let mut windows = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            parse_window(item).map_err(|detail| DetectError::BadWindow {
                key: key.clone(),
                number: index + 1,
                detail,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    windows.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    Ok(windows)
}

/// One `[start, end]` pair of time strings.
fn parse_window(item: &serde_json::Value) -> Result<LabelWindow, String> {
    let pair = match item {
        serde_json::Value::Array(pair) if pair.len() == 2 => pair,
        serde_json::Value::Array(pair) => {
            return Err(format!(
                "must be a pair [start, end]; it has {} item(s)",
                pair.len()
            ));
        }
        other => {
            return Err(format!(
                "must be a pair [start, end]; found {}",
                kind_of(other)
            ));
        }
    };
    let time = |value: &serde_json::Value, end: &str| -> Result<f64, String> {
        let serde_json::Value::String(text) = value else {
            return Err(format!(
                "the {end} must be a time string; found {}",
                kind_of(value)
            ));
        };
        parse_datetime(text).ok_or_else(|| {
            format!("the {end} `{text}` is not a date-time like `2013-12-10 06:25:00`")
        })
    };
    let start_secs = time(&pair[0], "start")?;
    let end_secs = time(&pair[1], "end")?;
    if end_secs < start_secs {
        return Err(format!(
            "it ends ({}) before it starts ({})",
            iso_utc(end_secs),
            iso_utc(start_secs)
        ));
    }
    Ok(LabelWindow {
        start_secs,
        end_secs,
    })
}

/// A maximal run of readings in alarm states, or in `SensorFault`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Time of its first reading.
    pub start_secs: f64,
    /// Time of the first reading after it, or of the last reading when it
    /// was still on at the end of the data.
    pub end_secs: f64,
    /// Readings in it.
    pub readings: usize,
    /// The worst state in it (`Critical` above `Warning`; `Failed` above
    /// both).
    pub worst: HealthState,
    /// Whether it was still on at the last reading.
    pub ongoing: bool,
}

impl Episode {
    /// Whether the episode was on at `time_secs`.
    #[must_use]
    pub fn is_on_at(&self, time_secs: f64) -> bool {
        self.start_secs <= time_secs
            && (time_secs < self.end_secs || (self.ongoing && time_secs <= self.end_secs))
    }

    /// Its length in hours.
    #[must_use]
    pub fn hours(&self) -> f64 {
        (self.end_secs - self.start_secs) / HOUR_SECS
    }
}

/// The alarm and sensor-fault episodes of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Episodes {
    /// Runs of `Warning`, `Critical` or `Failed`.
    pub alarms: Vec<Episode>,
    /// Runs of `SensorFault`.
    pub sensor_faults: Vec<Episode>,
}

/// How bad an alarm state is, to find an episode's worst.
fn severity(state: HealthState) -> u8 {
    match state {
        HealthState::Warning => 1,
        HealthState::Critical => 2,
        HealthState::Failed => 3,
        _ => 0,
    }
}

/// Which kind of episode a state belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alarm,
    SensorFault,
}

fn kind(state: HealthState) -> Option<Kind> {
    match state {
        HealthState::Warning | HealthState::Critical | HealthState::Failed => Some(Kind::Alarm),
        HealthState::SensorFault => Some(Kind::SensorFault),
        _ => None,
    }
}

/// The episodes of the state after each reading: `times[i]` is the time of
/// reading `i` and `states[i]` the state after it (only as many as both
/// slices have). `Watch` is not an alarm: it asks to keep an eye on the
/// asset, nothing more.
#[must_use]
pub fn episodes(times: &[f64], states: &[HealthState]) -> Episodes {
    let mut out = Episodes::default();
    let mut open: Option<(Kind, Episode)> = None;
    let count = times.len().min(states.len());
    for (&time_secs, &state) in times.iter().zip(states) {
        let current = kind(state);
        if let Some((open_kind, mut episode)) = open.take() {
            if current == Some(open_kind) {
                episode.readings += 1;
                if severity(state) > severity(episode.worst) {
                    episode.worst = state;
                }
                open = Some((open_kind, episode));
                continue;
            }
            episode.end_secs = time_secs;
            push(&mut out, open_kind, episode);
        }
        if let Some(kind) = current {
            open = Some((
                kind,
                Episode {
                    start_secs: time_secs,
                    end_secs: time_secs,
                    readings: 1,
                    worst: state,
                    ongoing: false,
                },
            ));
        }
    }
    if let Some((kind, mut episode)) = open {
        episode.end_secs = times[count - 1];
        episode.ongoing = true;
        push(&mut out, kind, episode);
    }
    out
}

fn push(out: &mut Episodes, kind: Kind, episode: Episode) {
    match kind {
        Kind::Alarm => out.alarms.push(episode),
        Kind::SensorFault => out.sensor_faults.push(episode),
    }
}

/// Seconds spent in each state: each reading counts until the next one; the
/// last counts for the median step. States never seen are left out; the
/// order is that of [`HealthState::ALL`].
#[must_use]
pub fn time_in_states(times: &[f64], states: &[HealthState]) -> Vec<(HealthState, f64)> {
    let count = times.len().min(states.len());
    let mut steps: Vec<f64> = times[..count]
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .filter(|step| step.is_finite() && *step > 0.0)
        .collect();
    steps.sort_by(f64::total_cmp);
    let last_step = steps.get(steps.len() / 2).copied().unwrap_or(0.0);
    let mut totals = [0.0_f64; HealthState::ALL.len()];
    let mut seen = [false; HealthState::ALL.len()];
    for index in 0..count {
        let secs = times
            .get(index + 1)
            .filter(|_| index + 1 < count)
            .map_or(last_step, |next| next - times[index]);
        let slot = HealthState::ALL
            .iter()
            .position(|&state| state == states[index])
            .unwrap_or(0);
        seen[slot] = true;
        if secs.is_finite() && secs > 0.0 {
            totals[slot] += secs;
        }
    }
    HealthState::ALL
        .iter()
        .zip(totals.iter().zip(seen))
        .filter(|(_, (_, seen))| *seen)
        .map(|(&state, (&secs, _))| (state, secs))
        .collect()
}

/// How one labelled window fared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowOutcome {
    /// The window.
    pub window: LabelWindow,
    /// Whether it overlaps the scored readings at all.
    pub scored: bool,
    /// Whether an alarm episode detected it.
    pub detected: bool,
    /// Start of the first detecting episode.
    pub first_alarm_secs: Option<f64>,
    /// Hours from that start to the window's end (more is earlier).
    pub hours_before_end: Option<f64>,
    /// Hours from the window's start to that start (negative: the alarm
    /// was already on when the window began).
    pub hours_after_start: Option<f64>,
}

/// Alarms scored against labelled windows; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionReport {
    /// Every window, in order of start.
    pub windows: Vec<WindowOutcome>,
    /// Windows that overlap the scored readings.
    pub scored_windows: usize,
    /// Scored windows detected.
    pub detected: usize,
    /// Alarm episodes in all.
    pub alarms: usize,
    /// Alarm episodes that start outside every window and detect none.
    pub false_alarms: usize,
    /// Weeks of scored readings.
    pub weeks: f64,
    /// False alarms per week of scored readings.
    pub false_alarms_per_week: f64,
    /// Sensor-fault episodes (not scored against the windows).
    pub sensor_faults: usize,
}

/// Scores alarm `episodes` against labelled `windows` over scored readings
/// from `first_secs` to `last_secs`.
#[must_use]
pub fn score(
    episodes: &Episodes,
    windows: &[LabelWindow],
    first_secs: f64,
    last_secs: f64,
) -> DetectionReport {
    let mut credited = vec![false; episodes.alarms.len()];
    let outcomes: Vec<WindowOutcome> = windows
        .iter()
        .map(|&window| {
            let scored = window.end_secs >= first_secs && window.start_secs <= last_secs;
            let first = episodes.alarms.iter().position(|episode| {
                window.contains(episode.start_secs) || episode.is_on_at(window.start_secs)
            });
            if let Some(index) = first {
                credited[index] = true;
            }
            let start = first.map(|index| episodes.alarms[index].start_secs);
            WindowOutcome {
                window,
                scored,
                detected: start.is_some(),
                first_alarm_secs: start,
                hours_before_end: start.map(|s| (window.end_secs - s) / HOUR_SECS),
                hours_after_start: start.map(|s| (s - window.start_secs) / HOUR_SECS),
            }
        })
        .collect();
    let false_alarms = episodes
        .alarms
        .iter()
        .zip(&credited)
        .filter(|(episode, credited)| {
            !**credited && !windows.iter().any(|w| w.contains(episode.start_secs))
        })
        .count();
    let weeks = ((last_secs - first_secs) / WEEK_SECS).max(0.0);
    DetectionReport {
        scored_windows: outcomes.iter().filter(|o| o.scored).count(),
        detected: outcomes.iter().filter(|o| o.scored && o.detected).count(),
        windows: outcomes,
        alarms: episodes.alarms.len(),
        false_alarms,
        weeks,
        false_alarms_per_week: if weeks > 0.0 {
            false_alarms as f64 / weeks
        } else {
            0.0
        },
        sensor_faults: episodes.sensor_faults.len(),
    }
}

impl fmt::Display for DetectionReport {
    /// A few lines for a terminal: one per window, then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (number, outcome) in self.windows.iter().enumerate() {
            let span = format!(
                "window {} ({} to {})",
                number + 1,
                iso_utc(outcome.window.start_secs),
                iso_utc(outcome.window.end_secs)
            );
            match (
                outcome.scored,
                outcome.first_alarm_secs,
                outcome.hours_before_end,
                outcome.hours_after_start,
            ) {
                (false, ..) => writeln!(f, "{span}: not scored (outside the streamed readings)")?,
                (true, Some(at), Some(before), Some(after)) => writeln!(
                    f,
                    "{span}: detected at {}, {before:.1} h before its end ({after:+.1} h from its \
                     start)",
                    iso_utc(at)
                )?,
                _ => writeln!(f, "{span}: missed")?,
            }
        }
        write!(
            f,
            "detected {} of {} scored window(s); {} alarm episode(s), {} false ({:.2} per week \
             over {:.1} weeks); {} sensor-fault episode(s)",
            self.detected,
            self.scored_windows,
            self.alarms,
            self.false_alarms,
            self.false_alarms_per_week,
            self.weeks,
            self.sensor_faults
        )
    }
}

// Times here are whole seconds and hours, exact in f64.
#[allow(clippy::float_cmp)]
#[cfg(test)]
mod tests {
    use super::*;
    use HealthState::{Critical, Healthy, SensorFault, Warning, Watch};

    const LABELS: &str = r#"{
        "artificialNoAnomaly/art_flatline.csv": [],
        "realKnownCause/machine.csv": [
            ["2013-12-15 17:50:00.000000", "2013-12-17 17:00:00.000000"],
            ["2013-12-10 06:25:00.000000", "2013-12-12 05:35:00.000000"]
        ]
    }"#;

    /// Hourly times from 0.
    fn hours(count: usize) -> Vec<f64> {
        (0..count).map(|i| i as f64 * HOUR_SECS).collect()
    }

    fn window(start_hour: f64, end_hour: f64) -> LabelWindow {
        LabelWindow {
            start_secs: start_hour * HOUR_SECS,
            end_secs: end_hour * HOUR_SECS,
        }
    }

    #[test]
    fn windows_of_the_named_file_are_read_and_sorted() {
        let windows = parse_windows(LABELS, "machine.csv").unwrap();
        assert_eq!(windows.len(), 2);
        // 2013-12-10T06:25:00Z.
        assert_eq!(windows[0].start_secs, 1_386_656_700.0);
        assert_eq!(windows[0].end_secs - windows[0].start_secs, 169_800.0);
        assert!(windows[0].start_secs < windows[1].start_secs);
        assert!(
            parse_windows(LABELS, "art_flatline.csv")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_key_must_end_with_the_whole_file_name() {
        let err = parse_windows(LABELS, "chine.csv").unwrap_err();
        assert!(matches!(err, DetectError::NoEntry { keys: 2, .. }), "{err}");
        assert!(err.to_string().contains("`chine.csv`"), "{err}");
        let twice = r#"{"a/x.csv": [], "b/x.csv": []}"#;
        let err = parse_windows(twice, "x.csv").unwrap_err();
        assert!(err.to_string().contains("a/x.csv, b/x.csv"), "{err}");
    }

    #[test]
    fn bad_label_files_say_what_is_wrong_and_where() {
        let cases = [
            ("{\"a.csv\": [\n  [\"2013-12-10\"", "line 2"),
            ("[1, 2]", "found an array"),
            (r#"{"a.csv": {}}"#, "found an object"),
            (
                r#"{"a.csv": [["2013-12-10"]]}"#,
                "window 1 of `a.csv`: must be a pair",
            ),
            (r#"{"a.csv": [5]}"#, "found a number"),
            (
                r#"{"a.csv": [["2013-12-10", 7]]}"#,
                "the end must be a time string",
            ),
            (
                r#"{"a.csv": [["2013-12-10", "2013-12-11"], ["yesterday", "2013-12-11"]]}"#,
                "window 2 of `a.csv`: the start `yesterday` is not a date-time",
            ),
            (
                r#"{"a.csv": [["2013-12-11", "2013-12-10"]]}"#,
                "ends (2013-12-10T00:00:00Z) before it starts",
            ),
        ];
        for (json, expected) in cases {
            let err = parse_windows(json, "a.csv").unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn alarm_runs_become_episodes_and_sensor_faults_stay_apart() {
        let states = [
            Healthy,
            Warning,
            Critical,
            Warning,
            Watch,
            SensorFault,
            SensorFault,
            Warning,
            Warning,
        ];
        let found = episodes(&hours(states.len()), &states);
        assert_eq!(found.alarms.len(), 2);
        let first = found.alarms[0];
        assert_eq!(
            (first.start_secs, first.end_secs),
            (HOUR_SECS, 4.0 * HOUR_SECS)
        );
        assert_eq!(
            (first.readings, first.worst, first.ongoing),
            (3, Critical, false)
        );
        let last = found.alarms[1];
        assert_eq!((last.readings, last.ongoing), (2, true));
        assert_eq!(last.end_secs, 8.0 * HOUR_SECS);
        assert!(last.is_on_at(8.0 * HOUR_SECS));
        assert!(!first.is_on_at(4.0 * HOUR_SECS));
        assert_eq!(found.sensor_faults.len(), 1);
        assert_eq!(found.sensor_faults[0].readings, 2);
        assert!(
            episodes(&hours(3), &[Healthy, Watch, Healthy])
                .alarms
                .is_empty()
        );
        assert_eq!(episodes(&[], &[]), Episodes::default());
    }

    #[test]
    fn detections_earliness_and_false_alarms_are_counted() {
        // Alarms at hours 2–3 (false), 11–13 (inside window 1), 18–23
        // (already on when window 2 starts at 20), 40 (inside nothing).
        let mut states = vec![Healthy; 50];
        for hour in [2, 11, 12, 18, 19, 20, 21, 22, 40] {
            states[hour] = Warning;
        }
        let found = episodes(&hours(50), &states);
        assert_eq!(found.alarms.len(), 4);
        let windows = [window(10.0, 15.0), window(20.0, 30.0), window(60.0, 70.0)];
        let report = score(&found, &windows, 0.0, 49.0 * HOUR_SECS);

        assert_eq!((report.scored_windows, report.detected), (2, 2));
        let first = report.windows[0];
        assert_eq!(first.hours_before_end, Some(4.0));
        assert_eq!(first.hours_after_start, Some(1.0));
        let second = report.windows[1];
        assert_eq!(second.first_alarm_secs, Some(18.0 * HOUR_SECS));
        assert_eq!(second.hours_after_start, Some(-2.0));
        assert!(!report.windows[2].scored && !report.windows[2].detected);
        // Hours 2 and 40; the run from 18 is window 2's detection.
        assert_eq!(report.false_alarms, 2);
        let weeks = 49.0 / (7.0 * 24.0);
        assert!((report.weeks - weeks).abs() < 1e-12);
        assert!((report.false_alarms_per_week - 2.0 / weeks).abs() < 1e-9);
        let text = report.to_string();
        assert!(text.contains("detected 2 of 2 scored window(s)"), "{text}");
        assert!(text.contains("window 3 ("), "{text}");
        assert!(text.contains("not scored"), "{text}");
    }

    #[test]
    fn an_alarm_that_ended_before_a_window_does_not_detect_it() {
        let mut states = vec![Healthy; 30];
        states[5] = Critical;
        states[6] = Critical;
        let found = episodes(&hours(30), &states);
        let report = score(&found, &[window(7.0, 12.0)], 0.0, 29.0 * HOUR_SECS);
        assert_eq!(report.detected, 0);
        assert_eq!(report.false_alarms, 1);
        assert!(report.to_string().contains("missed"));
    }

    #[test]
    fn time_in_states_adds_each_readings_step() {
        let times = [0.0, 60.0, 120.0, 300.0];
        let states = [Healthy, Healthy, Warning, Healthy];
        let totals = time_in_states(&times, &states);
        // The last reading counts for the median step, 60 s.
        assert_eq!(totals, vec![(Healthy, 180.0), (Warning, 180.0)]);
        assert!(time_in_states(&[], &[]).is_empty());
    }
}
