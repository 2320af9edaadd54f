//! Reading the time axis: ISO 8601 dates and date-times, epoch seconds and
//! milliseconds, time-of-day cells, and which column holds the time.
//!
//! Date-times are split by hand (fast, no allocation) and checked and turned
//! into UTC epoch seconds with `jiff`. A date-time without an offset is taken
//! to be UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

use super::TimeKind;

/// Epoch seconds in this range (2001-09 to 2096-10) look like timestamps.
const EPOCH_SECONDS: std::ops::Range<f64> = 1.0e9..4.0e9;

/// Epoch milliseconds in this range look like timestamps.
const EPOCH_MILLIS: std::ops::Range<f64> = 1.0e12..4.0e12;

/// What a column name says about its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameHint {
    /// Nothing: the column is time only if it is the first one and holds
    /// date-times throughout.
    None,
    /// Named like `time`, `date`, `timestamp`, `datetime`, `epoch` or `ts`.
    Time,
}

/// Reads what a column name says about time.
pub(crate) fn name_hint(name: &str) -> NameHint {
    let lower = name.trim().to_ascii_lowercase();
    let named = ["time", "date", "epoch"]
        .iter()
        .any(|word| lower.contains(word))
        || lower == "ts"
        || lower == "t";

    if named {
        NameHint::Time
    } else {
        NameHint::None
    }
}

/// A cell that parsed as a date or date-time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParsedTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub secs: f64,
    /// Whether the cell had a time of day (`false` for a plain date).
    pub has_clock: bool,
    /// The UTC offset the cell names, in seconds (`Z` and `UTC` are 0);
    /// `None` when it names none and is taken as UTC.
    pub offset_secs: Option<i32>,
}

/// Parses an ISO 8601 date or date-time into UTC epoch seconds.
///
/// Accepts `YYYY-MM-DD` (or with `/`), optionally followed by `T` or spaces
/// and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, optionally followed by `Z`,
/// `UTC` or an offset `±HH`, `±HHMM`, `±HH:MM`.
pub(crate) fn parse_datetime(cell: &str) -> Option<f64> {
    parse_datetime_parts(cell).map(|parsed| parsed.secs)
}

/// Like [`parse_datetime`], also saying whether there was a time of day.
pub(crate) fn parse_datetime_parts(cell: &str) -> Option<ParsedTime> {
    let mut cursor = Cursor::new(cell.trim());

    let year = cursor.digits(4, 4)?;
    let separator = cursor.peek()?;
    if separator != b'-' && separator != b'/' {
        return None;
    }
    cursor.expect(separator)?;
    let month = cursor.digits(1, 2)?;
    cursor.expect(separator)?;
    let day = cursor.digits(1, 2)?;

    let had_letter = cursor.eat(b'T') || cursor.eat(b't');
    let had_separator = had_letter || cursor.eat_spaces();
    let has_clock = had_separator && cursor.peek().is_some_and(|byte| byte.is_ascii_digit());
    if had_letter && !has_clock {
        return None;
    }

    let mut clock = Clock::default();
    if has_clock {
        clock = cursor.clock()?;
    }

    cursor.eat_spaces();
    let offset_secs = if cursor.at_end() {
        None
    } else {
        Some(cursor.offset()?)
    };
    if !cursor.at_end() {
        return None;
    }

    let datetime = DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(clock.hour).ok()?,
        i8::try_from(clock.minute).ok()?,
        i8::try_from(clock.second).ok()?,
        clock.nanos,
    )
    .ok()?;
    let timestamp = Offset::from_seconds(offset_secs.unwrap_or(0))
        .ok()?
        .to_timestamp(datetime)
        .ok()?;

    Some(ParsedTime {
        secs: timestamp_secs(timestamp),
        has_clock,
        offset_secs,
    })
}

/// Parses a time of day, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, into seconds
/// after midnight.
pub(crate) fn parse_time_of_day(cell: &str) -> Option<f64> {
    let mut cursor = Cursor::new(cell.trim());
    let clock = cursor.clock()?;
    if !cursor.at_end() || clock.hour > 23 || clock.minute > 59 || clock.second > 59 {
        return None;
    }

    let whole = clock.hour * 3600 + clock.minute * 60 + clock.second;
    Some(f64::from(whole) + f64::from(clock.nanos) / 1e9)
}

/// Reads a number as epoch time: the kind it looks like and the value in
/// seconds, or `None` when it is outside both plausible ranges.
pub(crate) fn epoch_secs(value: f64) -> Option<(TimeKind, f64)> {
    if EPOCH_SECONDS.contains(&value) {
        Some((TimeKind::EpochSeconds, value))
    } else if EPOCH_MILLIS.contains(&value) {
        Some((TimeKind::EpochMillis, value / 1000.0))
    } else {
        None
    }
}

/// Shows a time for people: ISO 8601 in UTC for absolute times, the row
/// number for [`TimeKind::RowIndex`].
pub(crate) fn format_time(secs: f64, kind: TimeKind) -> String {
    if kind == TimeKind::RowIndex {
        return format!("{secs}");
    }

    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as i32;
    match Timestamp::new(whole as i64, nanos) {
        Ok(timestamp) => timestamp.to_string(),
        Err(_) => format!("{secs} s"),
    }
}

/// A UTC offset for people: `Z`, `+02:00`, `-05:30`, or `no offset`.
pub(crate) fn format_offset(offset_secs: Option<i32>) -> String {
    match offset_secs {
        None => "no offset".to_owned(),
        Some(0) => "Z".to_owned(),
        Some(secs) => {
            let sign = if secs < 0 { '-' } else { '+' };
            let minutes = secs.unsigned_abs() / 60;
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

/// Seconds since the epoch, with the fraction.
fn timestamp_secs(timestamp: Timestamp) -> f64 {
    timestamp.as_second() as f64 + f64::from(timestamp.subsec_nanosecond()) / 1e9
}

/// Hours, minutes, seconds and nanoseconds of a time of day.
#[derive(Debug, Default, Clone, Copy)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: i32,
}

/// A byte cursor over an ASCII date-time.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    fn eat_spaces(&mut self) -> bool {
        let start = self.at;
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
        self.at > start
    }

    /// Reads between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut value: u32 = 0;
        let mut count = 0;
        while count < max {
            let Some(byte) = self.peek().filter(u8::is_ascii_digit) else {
                break;
            };
            value = value * 10 + u32::from(byte - b'0');
            self.at += 1;
            count += 1;
        }
        (count >= min).then_some(value)
    }

    /// Reads `HH:MM[:SS[.fraction]]`.
    fn clock(&mut self) -> Option<Clock> {
        let hour = self.digits(1, 2)?;
        self.expect(b':')?;
        let minute = self.digits(2, 2)?;
        let mut clock = Clock {
            hour,
            minute,
            ..Clock::default()
        };

        if self.eat(b':') {
            clock.second = self.digits(2, 2)?;
            if self.eat(b'.') || self.eat(b',') {
                clock.nanos = self.fraction()?;
            }
        }

        Some(clock)
    }

    /// Reads the digits after a decimal mark as nanoseconds (extra digits
    /// beyond nine are ignored).
    fn fraction(&mut self) -> Option<i32> {
        let mut nanos: i32 = 0;
        let mut count = 0;
        while let Some(byte) = self.peek().filter(u8::is_ascii_digit) {
            if count < 9 {
                nanos = nanos * 10 + i32::from(byte - b'0');
            }
            count += 1;
            self.at += 1;
        }
        if count == 0 {
            return None;
        }

        for _ in count..9 {
            nanos *= 10;
        }
        Some(nanos)
    }

    /// Reads an optional UTC offset in seconds: nothing, `Z`, `UTC`, `±HH`,
    /// `±HHMM` or `±HH:MM`, with optional spaces before it.
    fn offset(&mut self) -> Option<i32> {
        self.eat_spaces();
        if self.at_end() {
            return Some(0);
        }

        if self.eat(b'Z') || self.eat(b'z') {
            return Some(0);
        }

        let rest = &self.bytes[self.at..];
        if rest.eq_ignore_ascii_case(b"utc") {
            self.at = self.bytes.len();
            return Some(0);
        }

        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.at += 1;

        let hours = self.digits(2, 2)?;
        self.eat(b':');
        let minutes = if self.at_end() { 0 } else { self.digits(2, 2)? };
        if hours > 23 || minutes > 59 {
            return None;
        }

        i32::try_from(hours * 3600 + minutes * 60)
            .ok()
            .map(|secs| sign * secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants_parse_to_utc() {
        let midnight = 1_467_331_200.0; // 2016-07-01T00:00:00Z
        for cell in [
            "2016-07-01 00:00:00",
            "2016-07-01T00:00:00",
            "2016-07-01T00:00:00Z",
            "2016-07-01 00:00",
            "2016-07-01",
            "2016/07/01 00:00:00",
            "2016-07-01T02:00:00+02:00",
            "2016-07-01T02:00:00+0200",
            "2016-06-30T19:00:00-05",
            "2016-07-01 00:00:00 UTC",
            "2016-07-01T00:00:00.000Z",
        ] {
            assert_eq!(parse_datetime(cell), Some(midnight), "{cell}");
        }

        let with_fraction = parse_datetime("2016-07-01T00:00:00.25Z").unwrap();
        assert!((with_fraction - midnight - 0.25).abs() < 1e-6);
    }

    #[test]
    fn non_dates_do_not_parse() {
        for cell in [
            "",
            "12.5",
            "1467331200",
            "2016-13-01",
            "2016-02-30",
            "2016-07-01 25:00",
            "2016-07-01T",
            "2016-07-01 00:00:00 xyz",
            "07/01/2016",
            "2016-07-01T00:00:00+",
        ] {
            assert_eq!(parse_datetime(cell), None, "{cell:?}");
        }
    }

    #[test]
    fn offsets_are_kept_apart_from_no_offset() {
        let offset = |cell| parse_datetime_parts(cell).unwrap().offset_secs;
        assert_eq!(offset("2016-07-01 00:00"), None);
        assert_eq!(offset("2016-07-01T00:00Z"), Some(0));
        assert_eq!(offset("2016-07-01T00:00:00-05:30"), Some(-19_800));
        assert_eq!(format_offset(Some(-19_800)), "-05:30");
        assert_eq!(format_offset(Some(7_200)), "+02:00");
        assert_eq!(format_offset(None), "no offset");
    }

    #[test]
    fn plain_dates_have_no_clock() {
        assert!(!parse_datetime_parts("2016-07-01").unwrap().has_clock);
        assert!(parse_datetime_parts("2016-07-01 10:00").unwrap().has_clock);
    }

    #[test]
    fn time_of_day_parses() {
        assert_eq!(parse_time_of_day("17:24:00"), Some(62_640.0));
        assert_eq!(parse_time_of_day("0:05"), Some(300.0));
        assert_eq!(parse_time_of_day("24:00"), None);
        assert_eq!(parse_time_of_day("12"), None);
    }

    #[test]
    fn epoch_ranges() {
        assert_eq!(epoch_secs(1.5e9), Some((TimeKind::EpochSeconds, 1.5e9)));
        assert_eq!(epoch_secs(1.5e12), Some((TimeKind::EpochMillis, 1.5e9)));
        assert_eq!(epoch_secs(12.0), None);
    }

    #[test]
    fn names_hint_time() {
        assert_eq!(name_hint("Timestamp"), NameHint::Time);
        assert_eq!(name_hint("date"), NameHint::Time);
        assert_eq!(name_hint("epoch_ms"), NameHint::Time);
        assert_eq!(name_hint("OT"), NameHint::None);
    }

    #[test]
    fn formats_iso_and_rows() {
        assert_eq!(
            format_time(1_467_331_200.0, TimeKind::DateTime),
            "2016-07-01T00:00:00Z"
        );
        assert_eq!(format_time(41.0, TimeKind::RowIndex), "41");
    }
}
