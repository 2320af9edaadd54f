//! Finding the shape of a text table before reading it: checking that the
//! bytes are text, guessing the delimiter, walking the records with their line
//! numbers, and telling a header line from a data line.

use std::collections::{HashMap, HashSet};

use super::IngestError;
use super::time::parse_datetime;

/// How many records the delimiter guess looks at.
const SNIFF_RECORDS: usize = 64;

/// Share of sampled records that must agree on a delimiter count for the
/// delimiter to count as consistent.
const CONSISTENT_SHARE: f64 = 0.9;

/// The field separator of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimiter {
    /// `,`
    Comma,
    /// `;`, usual where the decimal mark is a comma.
    Semicolon,
    /// A tab character.
    Tab,
    /// Any run of spaces or tabs; leading and trailing blanks are ignored.
    Whitespace,
}

impl Delimiter {
    /// The delimiters of one character, which the `csv` reader splits on.
    pub(crate) const SINGLE: [Self; 3] = [Self::Comma, Self::Semicolon, Self::Tab];

    /// The single byte the `csv` reader splits on; `None` for whitespace runs.
    pub(crate) fn byte(self) -> Option<u8> {
        match self {
            Self::Comma => Some(b','),
            Self::Semicolon => Some(b';'),
            Self::Tab => Some(b'\t'),
            Self::Whitespace => None,
        }
    }

    /// Name for the report; a one-column table has no delimiter to speak of.
    pub(crate) fn describe(self, columns: usize) -> String {
        if columns <= 1 {
            return "none (one column)".to_owned();
        }

        match self {
            Self::Comma => "comma",
            Self::Semicolon => "semicolon",
            Self::Tab => "tab",
            Self::Whitespace => "whitespace",
        }
        .to_owned()
    }

    /// The delimiter as a message shows it: `` `,` ``, `` `;` ``, `tabs`.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Self::Comma => "`,`",
            Self::Semicolon => "`;`",
            Self::Tab => "tabs",
            Self::Whitespace => "spaces",
        }
    }

    /// Whether a comma inside a number is a decimal mark (`1,5` = 1.5).
    pub(crate) fn allows_decimal_comma(self) -> bool {
        self != Self::Comma
    }
}

/// Checks that `bytes` are UTF-8 text without NUL bytes and returns the text
/// without a byte-order mark.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, IngestError> {
    let byte_order = match bytes {
        [0xFF, 0xFE, ..] => Some("little-endian"),
        [0xFE, 0xFF, ..] => Some("big-endian"),
        _ => None,
    };
    if let Some(byte_order) = byte_order {
        return Err(IngestError::Utf16 { byte_order });
    }

    if let Some(offset) = bytes.iter().position(|&byte| byte == 0) {
        return Err(IngestError::BinaryData {
            line: line_at(bytes, offset),
        });
    }

    let text = std::str::from_utf8(bytes).map_err(|error| {
        let byte = error.valid_up_to();
        IngestError::NotText {
            line: line_at(bytes, byte),
            byte,
        }
    })?;

    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(IngestError::Empty);
    }

    Ok(text)
}

/// 1-based line number of the byte at `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    bytes[..end].split(|&byte| byte == b'\n').count()
}

/// Guesses the delimiter from the first records of `text`.
///
/// Tab and semicolon win over comma when they are consistent, because files
/// that use them often write decimal commas (`1,5`). Without any consistent
/// single-character delimiter the table is taken as whitespace-separated,
/// which also covers one-column files.
pub(crate) fn sniff_delimiter(text: &str) -> Delimiter {
    let candidates = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];
    let counts = count_per_record(text, SNIFF_RECORDS);
    if counts.is_empty() {
        return Delimiter::Whitespace;
    }

    let mut scored: Vec<(Delimiter, usize, f64)> = Vec::new();
    for (slot, delimiter) in candidates.into_iter().enumerate() {
        let column: Vec<usize> = counts.iter().map(|record| record[slot]).collect();
        let (mode, share) = mode_and_share(&column);
        if mode > 0 {
            scored.push((delimiter, mode, share));
        }
    }

    let consistent = |delimiter: Delimiter| {
        scored
            .iter()
            .find(|(candidate, _, share)| *candidate == delimiter && *share >= CONSISTENT_SHARE)
            .map(|(_, mode, _)| *mode)
    };

    let wide = [Delimiter::Tab, Delimiter::Semicolon]
        .into_iter()
        .filter_map(|delimiter| consistent(delimiter).map(|mode| (delimiter, mode)))
        .max_by_key(|(_, mode)| *mode);
    if let Some((delimiter, _)) = wide {
        return delimiter;
    }

    if consistent(Delimiter::Comma).is_some() {
        return Delimiter::Comma;
    }

    // No delimiter is consistent: take the most regular one that appears on
    // most records, so that a ragged file is reported as ragged instead of
    // being read as one wide text column.
    scored
        .iter()
        .filter(|(_, _, share)| *share >= 0.5)
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map_or(Delimiter::Whitespace, |(delimiter, _, _)| *delimiter)
}

/// Counts `,` `;` and tab outside double quotes for each of the first
/// `limit` records that are neither blank nor comments.
fn count_per_record(text: &str, limit: usize) -> Vec<[usize; 3]> {
    let mut records = Vec::new();
    let mut counts = [0_usize; 3];
    let mut quoted = false;
    let mut line_start = true;
    let mut comment = false;
    let mut blank = true;

    for ch in text.chars() {
        if records.len() >= limit {
            break;
        }

        if line_start && !quoted {
            comment = ch == '#';
        }
        line_start = false;

        match ch {
            '\n' if !quoted => {
                if !comment && !blank {
                    records.push(counts);
                }
                counts = [0; 3];
                line_start = true;
                blank = true;
                comment = false;
            }
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }

        if !ch.is_whitespace() {
            blank = false;
        }
    }

    if records.len() < limit && !comment && !blank {
        records.push(counts);
    }

    records
}

/// The most common value and the share of entries equal to it.
fn mode_and_share(values: &[usize]) -> (usize, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();

    let mut best = (0, 0);
    let mut start = 0;
    while start < sorted.len() {
        let end = sorted[start..]
            .iter()
            .position(|&value| value != sorted[start])
            .map_or(sorted.len(), |offset| start + offset);
        if end - start > best.1 {
            best = (sorted[start], end - start);
        }
        start = end;
    }

    (best.0, best.1 as f64 / values.len().max(1) as f64)
}

/// Calls `visit` with the 1-based line number and the trimmed fields of every
/// record, skipping blank lines, lines of empty fields and `#` comments.
///
/// For whitespace tables each line is one record; otherwise the `csv` crate
/// reads the text, so quoted fields may hold delimiters and newlines, and the
/// line number is the line where the record starts.
pub(crate) fn for_each_record(
    text: &str,
    delimiter: Delimiter,
    mut visit: impl FnMut(usize, &[&str]) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let Some(byte) = delimiter.byte() else {
        let mut fields = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }

            fields.clear();
            fields.extend(line.split_whitespace());
            visit(index + 1, &fields)?;
        }
        return Ok(());
    };

    if let Some(line) = unclosed_quote(text, byte) {
        return Err(IngestError::UnclosedQuote { line });
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(byte)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());

    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|error| {
            let line = error.position().map_or(0, csv::Position::line);
            IngestError::Malformed {
                line: usize::try_from(line).unwrap_or(usize::MAX),
                message: error.to_string(),
            }
        })?;
        if !more {
            return Ok(());
        }

        if record.iter().all(str::is_empty) {
            continue;
        }

        let line = record.position().map_or(0, csv::Position::line);
        let fields: Vec<&str> = record.iter().collect();
        visit(usize::try_from(line).unwrap_or(usize::MAX), &fields)?;
    }
}

/// The line of a quote that opens a field and is never closed, when the
/// open field swallows at least one line break.
///
/// Follows the `csv` reader: a quote opens a field only as its first byte,
/// `""` inside a quoted field is a quote, and a `#` line outside quotes is a
/// comment. A quote elsewhere in a field (`12" pipe`) is an ordinary byte.
fn unclosed_quote(text: &str, delimiter: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut open_line: Option<usize> = None;
    let mut swallowed = false;
    let mut field_start = true;
    let mut record_start = true;
    let mut at = 0;

    while let Some(&byte) = bytes.get(at) {
        at += 1;
        if open_line.is_some() {
            match byte {
                b'"' if bytes.get(at) == Some(&b'"') => at += 1,
                b'"' => {
                    open_line = None;
                    field_start = false;
                    record_start = false;
                }
                b'\n' => {
                    line += 1;
                    swallowed = true;
                }
                _ => {}
            }
            continue;
        }

        match byte {
            b'\n' => {
                line += 1;
                field_start = true;
                record_start = true;
            }
            b'#' if record_start => {
                let skip = bytes[at..].iter().position(|&b| b == b'\n');
                at = skip.map_or(bytes.len(), |offset| at + offset);
            }
            b'"' if field_start => {
                open_line = Some(line);
                swallowed = false;
                field_start = false;
                record_start = false;
            }
            _ => {
                field_start = byte == delimiter || byte == b'\r';
                record_start = byte == b'\r';
            }
        }
    }

    open_line.filter(|_| swallowed)
}

/// Whether a cell reads as data (a number or a date-time) rather than a name.
fn is_data_like(cell: &str) -> bool {
    cell.parse::<f64>().is_ok() || parse_datetime(cell).is_some()
}

/// Decides whether `first` is a header line, looking at `second` (the next
/// record, if any) to break ties.
///
/// A header is a line whose non-empty cells are mostly not numbers or
/// date-times. On a tie, the line is a header when some column holds a name
/// in `first` and data in `second`.
pub(crate) fn is_header(first: &[&str], second: Option<&[&str]>) -> bool {
    let filled = first.iter().filter(|cell| !cell.is_empty());
    let (data, names): (Vec<&&str>, Vec<&&str>) = filled.partition(|cell| is_data_like(cell));

    if names.len() != data.len() {
        return names.len() > data.len();
    }

    let Some(second) = second else {
        return false;
    };

    first
        .iter()
        .zip(second)
        .any(|(above, below)| !above.is_empty() && !is_data_like(above) && is_data_like(below))
}

/// Column names from a header line: trimmed, `col<N>` for blanks, and a
/// `_2`, `_3`, … suffix on repeats so that every name is unique.
pub(crate) fn column_names(header: Option<&[&str]>, width: usize) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(width);
    // Names taken so far, and the next suffix to try for each repeated name:
    // a header of thousands of equal names stays linear.
    let mut taken: HashSet<String> = HashSet::with_capacity(width);
    let mut next_copy: HashMap<String, usize> = HashMap::new();
    for index in 0..width {
        let given = header
            .and_then(|cells| cells.get(index))
            .map_or("", |cell| cell.trim());
        let base = if given.is_empty() {
            format!("col{}", index + 1)
        } else {
            given.to_owned()
        };

        let mut name = base.clone();
        if taken.contains(&name) {
            let copy = next_copy.entry(base.clone()).or_insert(2);
            loop {
                name = format!("{base}_{copy}");
                *copy += 1;
                if !taken.contains(&name) {
                    break;
                }
            }
        }
        taken.insert(name.clone());
        names.push(name);
    }

    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, delimiter: Delimiter) -> Vec<(usize, Vec<String>)> {
        let mut out = Vec::new();
        for_each_record(text, delimiter, |line, fields| {
            out.push((line, fields.iter().map(|f| (*f).to_owned()).collect()));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn sniffs_each_delimiter() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), Delimiter::Comma);
        assert_eq!(sniff_delimiter("a;b;c\n1,5;2,5;3\n"), Delimiter::Semicolon);
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), Delimiter::Tab);
        assert_eq!(
            sniff_delimiter("1 2  3  \n4 5 6  \n"),
            Delimiter::Whitespace
        );
        assert_eq!(sniff_delimiter("112 \n98 \n"), Delimiter::Whitespace);
    }

    #[test]
    fn quoted_delimiters_do_not_count() {
        let text = "name,value\n\"a;b;c\",1\n\"d;e;f\",2\n";
        assert_eq!(sniff_delimiter(text), Delimiter::Comma);
    }

    #[test]
    fn ragged_comma_file_stays_comma() {
        let text = "a,b\n1,2\n3,4\n5,6,7\n8,9\n1,2,3,4\n";
        assert_eq!(sniff_delimiter(text), Delimiter::Comma);
    }

    #[test]
    fn whitespace_records_keep_line_numbers() {
        let text = "\n1 2  \n\n# note\n  3   4\n";
        let got = records(text, Delimiter::Whitespace);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (2, vec!["1".to_owned(), "2".to_owned()]));
        assert_eq!(got[1], (5, vec!["3".to_owned(), "4".to_owned()]));
    }

    #[test]
    fn csv_records_start_lines_survive_quoted_newlines() {
        let text = "a,b\n\"x\ny\",1\n\n,\nz,2\n";
        let got = records(text, Delimiter::Comma);
        let lines: Vec<usize> = got.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![1, 2, 6]);
        assert_eq!(got[1].1[0], "x\ny");
    }

    #[test]
    fn headers_are_told_from_data() {
        assert!(is_header(&["date", "OT"], Some(&["2016-07-01", "1.5"])));
        assert!(!is_header(&["1", "2"], Some(&["3", "4"])));
        assert!(!is_header(&["2016-07-01 00:00:00", "ok", "1"], None));
        assert!(is_header(&["time", "1"], Some(&["5", "6"])));
        assert!(!is_header(&["n/a", "1"], Some(&["n/a", "6"])));
    }

    #[test]
    fn only_quotes_that_swallow_lines_are_unclosed() {
        assert_eq!(unclosed_quote("a,b\n1,\"2\n3,4\n", b','), Some(2));
        assert_eq!(unclosed_quote("a,b\n1,\"x\ny\",2\n", b','), None);
        assert_eq!(unclosed_quote("a,b\n1,12\" pipe\n3,4\n", b','), None);
        assert_eq!(unclosed_quote("a,b\n# say \"hi\n1,2\n", b','), None);
        assert_eq!(unclosed_quote("a,b\n1,\"a \"\"b\"\" c\"\n", b','), None);
        assert_eq!(unclosed_quote("a;b\r\n1;\"2", b';'), None);
    }

    #[test]
    fn names_are_unique_and_filled() {
        let names = column_names(Some(&["", "a", "a", " b "]), 5);
        assert_eq!(names, vec!["col1", "a", "a_2", "b", "col5"]);
        assert_eq!(column_names(None, 2), vec!["col1", "col2"]);

        let names = column_names(Some(&["a", "a_2", "a", "a"]), 4);
        assert_eq!(names, vec!["a", "a_2", "a_3", "a_4"]);
    }

    #[test]
    fn decode_reports_lines() {
        assert_eq!(
            decode(b"a\nb\n\xff"),
            Err(IngestError::NotText { line: 3, byte: 4 })
        );
        assert_eq!(decode(b"a\n\0"), Err(IngestError::BinaryData { line: 2 }));
        assert_eq!(decode(b"  \n\n"), Err(IngestError::Empty));
        assert_eq!(decode("\u{feff}a,b".as_bytes()), Ok("a,b"));
        assert_eq!(
            decode(b"\xff\xfea\0"),
            Err(IngestError::Utf16 {
                byte_order: "little-endian"
            })
        );
    }
}
