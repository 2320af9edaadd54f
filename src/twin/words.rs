//! Numbers, durations and reasons in words for the event log: what a
//! maintenance engineer reads in the `reason` of an event.

use super::config::{ChannelConfig, FailureRules};
use super::observation::{ChannelCheck, LimitForecast, Quality, RulEstimate, Score};
use super::state::{HealthState, Level};

/// A number with at most two decimals and no trailing zeros (`7.1`, `18`,
/// `4.25`); whole numbers from 100 up.
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".to_owned() } else { text }
}

/// A value with its unit (`7.1 mm/s`), or the bare number without one.
pub(crate) fn with_unit(value: f64, unit: &str) -> String {
    if unit.is_empty() {
        number(value)
    } else {
        format!("{} {unit}", number(value))
    }
}

/// `1 reading`, `6 readings`.
pub(crate) fn readings(count: usize) -> String {
    if count == 1 {
        "1 reading".to_owned()
    } else {
        format!("{count} readings")
    }
}

/// The unit a duration of `secs` reads best in: its size in seconds and name.
fn duration_unit(secs: f64) -> (f64, &'static str) {
    let secs = secs.abs();
    if secs < 120.0 {
        (1.0, "s")
    } else if secs < 2.0 * 3600.0 {
        (60.0, "min")
    } else if secs < 48.0 * 3600.0 {
        (3600.0, "h")
    } else {
        (86_400.0, "d")
    }
}

/// The number of `unit`s in `secs`: one decimal below 10, whole above.
fn in_unit(secs: f64, unit: f64) -> String {
    let amount = secs / unit;
    if amount.abs() < 10.0 {
        number((amount * 10.0).round() / 10.0)
    } else {
        number(amount.round())
    }
}

/// A duration such as `14 h`, `35 min` or `2.5 d`.
pub(crate) fn duration(secs: f64) -> String {
    let (unit, name) = duration_unit(secs);
    format!("{} {name}", in_unit(secs, unit))
}

/// A central estimate with its band in one unit: `~14 h (band 9–20 h)`.
pub(crate) fn duration_band(secs: f64, lower_secs: f64, upper_secs: Option<f64>) -> String {
    let (unit, name) = duration_unit(secs);
    let central = in_unit(secs, unit);
    let lower = in_unit(lower_secs, unit);
    match upper_secs {
        Some(upper) => format!(
            "~{central} {name} (band {lower}–{} {name})",
            in_unit(upper, unit)
        ),
        None => format!("~{central} {name} (band from {lower} {name}, no upper end)"),
    }
}

/// `anomaly score 4.8 on temperature_c above the warning level 4.5 for 3 readings`.
pub(crate) fn score_above(level: Level, threshold: f64, score: &Score, count: usize) -> String {
    let channel = score
        .channel
        .as_deref()
        .map(|channel| format!(" on {channel}"))
        .unwrap_or_default();
    format!(
        "anomaly score {}{channel} above the {level} level {} for {}",
        number(score.value),
        number(threshold),
        readings(count)
    )
}

/// `vibration_mm_s forecast crosses 7.1 mm/s in ~14 h (band 9–20 h), within
/// the warning horizon of 12 h`.
pub(crate) fn time_to_limit(
    level: Level,
    forecast: &LimitForecast,
    unit: &str,
    horizon_secs: f64,
) -> String {
    let limit = with_unit(forecast.limit, unit);
    if forecast.secs <= 0.0 {
        return format!(
            "{} is at or above its alarm limit {limit}, within the {level} horizon of {}",
            forecast.channel,
            duration(horizon_secs)
        );
    }
    format!(
        "{} forecast crosses {limit} in {}, within the {level} horizon of {}",
        forecast.channel,
        duration_band(forecast.secs, forecast.lower_secs, forecast.upper_secs),
        duration(horizon_secs)
    )
}

/// `RUL could be as short as 18 cycles (estimate 30, band 18–45), below the
/// warning horizon of 25 cycles`.
pub(crate) fn rul_short(level: Level, rul: &RulEstimate, horizon: f64, unit: &str) -> String {
    format!(
        "RUL could be as short as {} (estimate {}, band {}–{}), below the {level} horizon of {}",
        with_unit(rul.lower, unit),
        number(rul.value),
        number(rul.lower),
        number(rul.upper),
        with_unit(horizon, unit)
    )
}

/// `anomaly score 1.2 below the watch exit level 2 for 6 readings, and no
/// RUL or limit forecast within the watch horizons`.
pub(crate) fn recovered(level: Level, score: Option<f64>, threshold: f64, count: usize) -> String {
    let score = match score {
        Some(score) => format!(
            "anomaly score {} below the {level} exit level {}",
            number(score),
            number(threshold)
        ),
        None => format!(
            "no anomaly score above the {level} exit level {}",
            number(threshold)
        ),
    };
    format!(
        "{score} for {}, and no RUL or limit forecast within the {level} horizons",
        readings(count)
    )
}

/// `temperature_c stuck at 61.2 °C (the same value 10 readings in a row)`
/// and the like.
pub(crate) fn sensor_fault(
    check: &ChannelCheck,
    channel: Option<&ChannelConfig>,
    stuck_readings: usize,
    count: usize,
) -> String {
    let unit = channel.map_or("", |channel| channel.unit.as_str());
    let value = check.value.map(|value| with_unit(value, unit));
    let name = &check.channel;
    let what = match (check.quality, value) {
        (Quality::Stuck, Some(value)) => format!(
            "{name} stuck at {value} (the same value at least {} in a row)",
            readings(stuck_readings)
        ),
        (Quality::OutOfRange, Some(value)) => match channel {
            Some(channel) => format!(
                "{name} reads {value}, outside its physical range {}–{}",
                number(channel.min),
                with_unit(channel.max, unit)
            ),
            None => format!("{name} reads {value}, outside its physical range"),
        },
        (Quality::Ok, _) => format!("{name} is valid"),
        (Quality::Missing | Quality::Stuck | Quality::OutOfRange, _) => {
            format!("{name} has no valid value")
        }
    };
    format!("{what}; untrusted data for {}", readings(count))
}

/// `every channel valid again for 6 readings; back to warning`.
pub(crate) fn data_restored(count: usize, resume: HealthState) -> String {
    format!(
        "every channel valid again for {}; back to {resume}",
        readings(count)
    )
}

/// `failure reported: motor trip`.
pub(crate) fn failure_signal(description: &str) -> String {
    if description.trim().is_empty() {
        "failure reported".to_owned()
    } else {
        format!("failure reported: {description}")
    }
}

/// `vibration_mm_s 25.3 mm/s above the failure limit 18 mm/s for 3 readings`.
pub(crate) fn failure_limit(
    channel: &ChannelConfig,
    value: f64,
    limit: f64,
    above: bool,
    count: usize,
) -> String {
    let side = if above { "above" } else { "below" };
    format!(
        "{} {} {side} the failure limit {} for {}",
        channel.name,
        with_unit(value, &channel.unit),
        with_unit(limit, &channel.unit),
        readings(count)
    )
}

/// `RUL 0.4 cycles with upper band 1.5, within the failure rules (estimate
/// under 1, upper band under 3) for 3 readings`.
pub(crate) fn rul_exhausted(
    rul: &RulEstimate,
    rules: &FailureRules,
    unit: &str,
    count: usize,
) -> String {
    format!(
        "RUL {} with upper band {}, within the failure rules (estimate under {}, \
         upper band under {}) for {}",
        with_unit(rul.value, unit),
        number(rul.upper),
        number(rules.rul_below),
        number(rules.rul_upper_below),
        readings(count)
    )
}

/// `baseline collected from 60 valid readings`.
pub(crate) fn commissioning(count: usize) -> String {
    format!("baseline collected from {} of valid data", readings(count))
}

/// `maintenance started: bearing replacement`.
pub(crate) fn maintenance_started(note: &str) -> String {
    with_note("maintenance started", note)
}

/// `maintenance finished; model baseline reset, collecting history again`.
pub(crate) fn maintenance_finished(reset_baseline: bool, to: HealthState) -> String {
    if reset_baseline {
        "maintenance finished; model baseline reset, collecting history again".to_owned()
    } else if to == HealthState::Commissioning {
        "maintenance finished; baseline kept, commissioning continues".to_owned()
    } else {
        "maintenance finished; health reset, baseline kept".to_owned()
    }
}

/// `alarm acknowledged: seen, crew informed`.
pub(crate) fn acknowledged(note: &str) -> String {
    with_note("alarm acknowledged", note)
}

fn with_note(what: &str, note: &str) -> String {
    if note.trim().is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {}", note.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, duration_band, number, readings, with_unit};

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(7.1), "7.1");
        assert_eq!(number(18.0), "18");
        assert_eq!(number(4.256), "4.26");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(-0.001), "0");
        assert_eq!(with_unit(7.1, "mm/s"), "7.1 mm/s");
        assert_eq!(with_unit(3.0, ""), "3");
        assert_eq!(readings(1), "1 reading");
        assert_eq!(readings(6), "6 readings");
    }

    #[test]
    fn reasons_name_the_numbers() {
        use super::{Level, LimitForecast, RulEstimate, Score};

        let score = Score {
            value: 4.83,
            channel: Some("temperature_c".to_owned()),
        };
        assert_eq!(
            super::score_above(Level::Warning, 4.5, &score, 3),
            "anomaly score 4.83 on temperature_c above the warning level 4.5 for 3 readings"
        );

        let forecast = LimitForecast {
            channel: "vibration_mm_s".to_owned(),
            limit: 7.1,
            secs: 14.0 * 3600.0,
            lower_secs: 9.0 * 3600.0,
            upper_secs: Some(20.0 * 3600.0),
        };
        assert_eq!(
            super::time_to_limit(Level::Warning, &forecast, "mm/s", 12.0 * 3600.0),
            "vibration_mm_s forecast crosses 7.1 mm/s in ~14 h (band 9–20 h), \
             within the warning horizon of 12 h"
        );

        let rul = RulEstimate {
            value: 30.0,
            lower: 18.0,
            upper: 45.0,
        };
        assert_eq!(
            super::rul_short(Level::Warning, &rul, 25.0, "cycles"),
            "RUL could be as short as 18 cycles (estimate 30, band 18–45), \
             below the warning horizon of 25 cycles"
        );
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(30.0), "30 s");
        assert_eq!(duration(35.0 * 60.0), "35 min");
        assert_eq!(duration(14.0 * 3600.0), "14 h");
        assert_eq!(duration(3.0 * 86_400.0), "3 d");
        assert_eq!(
            duration_band(14.0 * 3600.0, 9.0 * 3600.0, Some(20.0 * 3600.0)),
            "~14 h (band 9–20 h)"
        );
    }
}
