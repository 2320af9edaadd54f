//! Reading records into columns: every cell parsed as a number with bad cells
//! noted by line, the columns that may hold the time kept at full precision,
//! and then the choice of the time axis.

use super::report::{BadCell, BadCellKind, REPORT_LIST_LIMIT};
use super::sniff::{self, Delimiter};
use super::time::{self, NameHint};
use super::{IngestError, ParseProgress, TimeKind};

/// Share of rows whose cells must read as times for a column to be the time.
const TIME_SHARE: f64 = 0.9;

/// How many different UTC offsets of a time column are told apart.
const OFFSETS_KEPT: usize = 8;

/// Most characters of a bad cell's text kept for the report.
const SAMPLE_CHARS: usize = 40;

/// Fewest rows read between two progress reports.
const PROGRESS_ROWS: usize = 50_000;

/// Most progress reports while reading a file: at most one per this share
/// of its bytes.
const PROGRESS_STEPS: usize = 100;

/// One column read as numbers.
#[derive(Debug, Default)]
pub(crate) struct ColumnData {
    /// One value per row, `NaN` where the cell was bad.
    pub values: Vec<f32>,
    /// Number of bad cells.
    pub bad: usize,
    /// Bad cells that held text (not empty, not `NaN`, not infinite).
    pub text: usize,
    /// The first bad cells: line, kind and raw text.
    pub first_bad: Vec<(usize, BadCellKind, String)>,
}

/// A column that may hold the time, read every way a time can be written.
#[derive(Debug)]
struct TimeCandidate {
    column: usize,
    named: bool,
    datetimes: Vec<f64>,
    has_clock: bool,
    epochs: Vec<f64>,
    clocks: Vec<f64>,
    datetime_failures: Vec<(usize, String)>,
    epoch_failures: Vec<(usize, String)>,
    clock_failures: Vec<(usize, String)>,
    /// The different UTC offsets of the date-times (`None`: no offset), each
    /// with the row where it first appears.
    offsets: Vec<(Option<i32>, usize)>,
}

/// A table read from text, before any repair.
#[derive(Debug)]
pub(crate) struct RawTable {
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// Whether the first record was a header.
    pub has_header: bool,
    /// Column names, from the header or `col<N>`.
    pub names: Vec<String>,
    /// Line where each data row starts.
    pub lines: Vec<usize>,
    /// Every column read as numbers.
    pub columns: Vec<ColumnData>,
    /// Whether some number was written with a decimal comma (`1,5`).
    pub decimal_comma: bool,
    /// Header names that repeat an earlier one and were given a suffix:
    /// 1-based column, the name as written, the name given.
    pub renamed: Vec<(usize, String, String)>,
    candidates: Vec<TimeCandidate>,
}

/// The time axis chosen for a table.
#[derive(Debug)]
pub(crate) struct TimeAxis {
    /// Columns that make up the time (a date-time, or a date and a clock).
    pub columns: Vec<usize>,
    /// How the time was written.
    pub kind: TimeKind,
    /// Seconds per row, `NaN` where the time could not be read.
    pub secs: Vec<f64>,
    /// The first unreadable time cells.
    pub bad_cells: Vec<BadCell>,
    /// The different UTC offsets of a date-time axis (`None`: no offset,
    /// taken as UTC), each with the line where it first appears.
    pub offsets: Vec<(Option<i32>, usize)>,
    /// For a row-number axis: the time column that was not used because
    /// too few of its cells read as times.
    pub rejected: Option<RejectedTime>,
}

/// A column that looks like the time but whose cells too often do not read
/// as times.
#[derive(Debug)]
pub(crate) struct RejectedTime {
    /// The column.
    pub column: usize,
    /// How many of its cells read as times.
    pub readable: usize,
    /// What they read as: `a date-time` or `an epoch time`.
    pub kind: &'static str,
    /// The first cell that did not read as one: line and text.
    pub first_failure: Option<(usize, String)>,
}

/// Builds columns row by row once the header question is settled.
struct TableBuilder {
    table: RawTable,
    width: usize,
    first_line: usize,
}

impl TableBuilder {
    fn new(delimiter: Delimiter, first: &[&str], first_line: usize, second: &[&str]) -> Self {
        let has_header = sniff::is_header(first, Some(second));
        let mut width = first.len();
        while width > 1 && first[width - 1].is_empty() {
            width -= 1;
        }

        let names = sniff::column_names(has_header.then_some(first), width);
        let renamed = if has_header {
            names
                .iter()
                .zip(first)
                .enumerate()
                .filter(|(_, (name, given))| !given.is_empty() && name.as_str() != **given)
                .map(|(index, (name, given))| (index + 1, (*given).to_owned(), name.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let candidates = names
            .iter()
            .enumerate()
            .filter_map(|(column, name)| {
                let named = time::name_hint(name) == NameHint::Time;
                (named || column == 0).then(|| TimeCandidate {
                    column,
                    named,
                    datetimes: Vec::new(),
                    has_clock: false,
                    epochs: Vec::new(),
                    clocks: Vec::new(),
                    datetime_failures: Vec::new(),
                    epoch_failures: Vec::new(),
                    clock_failures: Vec::new(),
                    offsets: Vec::new(),
                })
            })
            .collect();

        let table = RawTable {
            delimiter,
            has_header,
            names,
            lines: Vec::new(),
            columns: (0..width).map(|_| ColumnData::default()).collect(),
            decimal_comma: false,
            renamed,
            candidates,
        };
        Self {
            table,
            width,
            first_line,
        }
    }

    fn push_row(&mut self, line: usize, fields: &[&str]) -> Result<(), IngestError> {
        let mut found = fields.len();
        while found > self.width && fields[found - 1].is_empty() {
            found -= 1;
        }
        if found > self.width || found * 2 < self.width {
            if let Some(other) = other_delimiter(self.table.delimiter, fields, self.width) {
                return Err(IngestError::MixedDelimiters {
                    line,
                    found: other.symbol(),
                    expected: self.table.delimiter.symbol(),
                    first_line: self.first_line,
                });
            }
            return Err(IngestError::RaggedLine {
                line,
                found,
                expected: self.width,
                first_line: self.first_line,
            });
        }

        let row = self.table.lines.len();
        self.table.lines.push(line);
        let decimal_comma = self.table.delimiter.allows_decimal_comma();

        for (index, column) in self.table.columns.iter_mut().enumerate() {
            let cell = fields.get(index).copied();
            match parse_cell(cell, decimal_comma) {
                Ok(value) => {
                    column.values.push(value);
                    if decimal_comma && cell.is_some_and(|cell| cell.contains(',')) {
                        self.table.decimal_comma = true;
                    }
                }
                Err(kind) => {
                    column.values.push(f32::NAN);
                    column.bad += 1;
                    if kind == BadCellKind::Text {
                        column.text += 1;
                    }
                    if column.first_bad.len() < REPORT_LIST_LIMIT {
                        column
                            .first_bad
                            .push((line, kind, sample(cell.unwrap_or(""))));
                    }
                }
            }
        }

        for candidate in &mut self.table.candidates {
            let cell = fields.get(candidate.column).copied().unwrap_or("");
            candidate.push(row, cell);
        }

        Ok(())
    }
}

/// The delimiter that splits a line read as one field into about as many
/// fields as the table has, if one does.
fn other_delimiter(delimiter: Delimiter, fields: &[&str], width: usize) -> Option<Delimiter> {
    let [only] = fields else {
        return None;
    };

    Delimiter::SINGLE
        .into_iter()
        .filter(|&other| other != delimiter)
        .find(|other| {
            let byte = other.byte().map_or(' ', char::from);
            let count = only.split(byte).count();
            count > 1 && count <= width && count * 2 >= width
        })
}

impl TimeCandidate {
    fn push(&mut self, row: usize, cell: &str) {
        fn note(failures: &mut Vec<(usize, String)>, row: usize, cell: &str) {
            if failures.len() < REPORT_LIST_LIMIT {
                failures.push((row, sample(cell)));
            }
        }

        if let Some(parsed) = time::parse_datetime_parts(cell) {
            self.datetimes.push(parsed.secs);
            self.has_clock |= parsed.has_clock;
            let seen = self
                .offsets
                .iter()
                .any(|(offset, _)| *offset == parsed.offset_secs);
            if !seen && self.offsets.len() < OFFSETS_KEPT {
                self.offsets.push((parsed.offset_secs, row));
            }
        } else {
            self.datetimes.push(f64::NAN);
            note(&mut self.datetime_failures, row, cell);
        }

        if !self.named {
            return;
        }

        let epoch = cell.parse::<f64>().ok().filter(|value| value.is_finite());
        self.epochs.push(epoch.unwrap_or(f64::NAN));
        if epoch.and_then(time::epoch_secs).is_none() {
            note(&mut self.epoch_failures, row, cell);
        }

        if let Some(clock) = time::parse_time_of_day(cell) {
            self.clocks.push(clock);
        } else {
            self.clocks.push(f64::NAN);
            note(&mut self.clock_failures, row, cell);
        }
    }
}

/// A cell's text for the report: whole when short, else its first
/// [`SAMPLE_CHARS`] characters and an ellipsis, so that a megabyte-long cell
/// does not become a megabyte-long report line.
fn sample(cell: &str) -> String {
    match cell.char_indices().nth(SAMPLE_CHARS) {
        None => cell.to_owned(),
        Some((end, _)) => format!("{}…", &cell[..end]),
    }
}

/// Parses one cell as a number, or says why it is bad.
///
/// With `decimal_comma`, a cell such as `1,5` (one comma, no point) reads as
/// 1.5.
pub(crate) fn parse_cell(cell: Option<&str>, decimal_comma: bool) -> Result<f32, BadCellKind> {
    let Some(cell) = cell else {
        return Err(BadCellKind::Missing);
    };
    if cell.is_empty() {
        return Err(BadCellKind::Empty);
    }

    let parsed = cell.parse::<f32>().or_else(|error| {
        let single_comma = cell.bytes().filter(|&byte| byte == b',').count() == 1;
        if decimal_comma && single_comma && !cell.contains('.') {
            cell.replace(',', ".").parse::<f32>()
        } else {
            Err(error)
        }
    });

    match parsed {
        Ok(value) if value.is_nan() => Err(BadCellKind::NaN),
        Ok(value) if value.is_infinite() => Err(BadCellKind::Infinite),
        Ok(value) => Ok(value),
        Err(_) => Err(BadCellKind::Text),
    }
}

/// Reads `text` into columns.
pub(crate) fn read_table(text: &str) -> Result<RawTable, IngestError> {
    read_table_with_progress(text, &mut ProgressMeter::new(text, text.len(), &mut |_| {}))
}

/// Reads `text` into columns, telling `progress` how far it has got while
/// reading the records and once more when all are read.
pub(crate) fn read_table_with_progress(
    text: &str,
    progress: &mut ProgressMeter<'_>,
) -> Result<RawTable, IngestError> {
    let table = read_records(text, progress)?;
    progress.finish(table.row_count());
    Ok(table)
}

fn read_records(text: &str, progress: &mut ProgressMeter<'_>) -> Result<RawTable, IngestError> {
    let delimiter = sniff::sniff_delimiter(text);
    log::debug!("ingest: delimiter {delimiter:?}");

    let mut pending: Option<(usize, Vec<String>)> = None;
    let mut builder: Option<TableBuilder> = None;
    sniff::for_each_record(text, delimiter, |line, fields| {
        if let Some(builder) = builder.as_mut() {
            builder.push_row(line, fields)?;
            progress.row_read(line, builder.table.row_count());
            return Ok(());
        }

        let Some((first_line, first)) = pending.take() else {
            pending = Some((line, fields.iter().map(|&field| field.to_owned()).collect()));
            return Ok(());
        };

        let first: Vec<&str> = first.iter().map(String::as_str).collect();
        let started = builder.insert(TableBuilder::new(delimiter, &first, first_line, fields));
        if !started.table.has_header {
            started.push_row(first_line, &first)?;
        }
        started.push_row(line, fields)?;
        progress.row_read(line, started.table.row_count());
        Ok(())
    })?;

    if let Some(builder) = builder {
        return Ok(builder.table);
    }

    match pending {
        None => Err(first_value_line(text)
            .map_or(IngestError::Empty, |line| IngestError::NoValues { line })),
        Some((line, first)) => {
            let first: Vec<&str> = first.iter().map(String::as_str).collect();
            if sniff::is_header(&first, None) {
                return Err(IngestError::HeaderOnly { header_line: line });
            }

            // One data row: a table all the same, for callers that can use
            // one row (a file of true RUL values for a one-unit fleet).
            let mut builder = TableBuilder::new(delimiter, &first, line, &[]);
            builder.push_row(line, &first)?;
            Ok(builder.table)
        }
    }
}

/// Tells a caller how far reading has got, seldom enough that each report
/// may post a message to a web page: after at least [`PROGRESS_ROWS`] more
/// rows *and* a [`PROGRESS_STEPS`]th more of the bytes, so at most about
/// [`PROGRESS_STEPS`] times a file, and once at the end.
///
/// The records come with the line where each starts, so the bytes read are
/// found by counting line breaks, once over the file in all; a row costs two
/// comparisons.
///
/// Known limitation: the `csv` reader numbers lines by their `\n`, so in a
/// file whose lines end in a bare carriage return every record is on line 1
/// and the only progress is the report at the end.
pub(crate) struct ProgressMeter<'a> {
    /// The text being read (the file less its byte-order mark).
    text: &'a [u8],
    /// Bytes of the file before `text`: the byte-order mark, if any.
    skipped: usize,
    /// Bytes of the file, `skipped` included.
    bytes_total: usize,
    /// Fewest bytes between two reports.
    step_bytes: usize,
    /// Rows to reach before the next report.
    next_rows: usize,
    /// Line whose end reaches the bytes of the next report.
    next_line: usize,
    /// A line already found, and the byte of `text` where it starts.
    cursor_line: usize,
    cursor_byte: usize,
    /// The last report sent.
    sent: Option<ParseProgress>,
    report: &'a mut dyn FnMut(ParseProgress),
}

impl<'a> ProgressMeter<'a> {
    /// A meter for reading `text`, the end of a file of `bytes_total` bytes.
    pub(crate) fn new(
        text: &'a str,
        bytes_total: usize,
        report: &'a mut dyn FnMut(ParseProgress),
    ) -> Self {
        let step_bytes = (bytes_total / PROGRESS_STEPS).max(1);
        let mut meter = Self {
            text: text.as_bytes(),
            skipped: bytes_total.saturating_sub(text.len()),
            bytes_total,
            step_bytes,
            next_rows: PROGRESS_ROWS,
            next_line: 0,
            cursor_line: 1,
            cursor_byte: 0,
            sent: None,
            report,
        };
        meter.next_line = meter.line_reaching(step_bytes);
        meter
    }

    /// Notes that the record starting at `line` was read, making `rows`
    /// rows so far, and reports when enough rows and bytes have passed.
    ///
    /// Lines must grow from call to call, as they do in a file.
    pub(crate) fn row_read(&mut self, line: usize, rows: usize) {
        if rows < self.next_rows || line < self.next_line {
            return;
        }

        let done = self.end_of_line(line);
        self.send(self.skipped + done, rows);
        self.next_rows = rows.saturating_add(PROGRESS_ROWS);
        self.next_line = self.line_reaching(done.saturating_add(self.step_bytes));
    }

    /// Reports the whole file read, with `rows` rows.
    pub(crate) fn finish(&mut self, rows: usize) {
        self.send(self.bytes_total, rows);
    }

    fn send(&mut self, bytes_done: usize, rows: usize) {
        let progress = ParseProgress {
            bytes_done,
            bytes_total: self.bytes_total,
            rows,
        };
        if self.sent != Some(progress) {
            self.sent = Some(progress);
            (self.report)(progress);
        }
    }

    /// The byte of `text` where the line after `line` starts (the length of
    /// `text` after its last line), moving the cursor there.
    fn end_of_line(&mut self, line: usize) -> usize {
        while self.cursor_line <= line {
            let rest = &self.text[self.cursor_byte..];
            let Some(offset) = rest.iter().position(|&byte| byte == b'\n') else {
                self.cursor_byte = self.text.len();
                self.cursor_line = line + 1;
                break;
            };
            self.cursor_byte += offset + 1;
            self.cursor_line += 1;
        }
        self.cursor_byte
    }

    /// The first line from the cursor on whose end is at or past `byte` of
    /// `text`, or `usize::MAX` when no line but the last can be: the report
    /// at the end covers that one.
    // A plain count of line breaks: it runs once over the file in all, far
    // quicker than parsing it, so a `bytecount` dependency would buy nothing.
    #[allow(clippy::naive_bytecount)]
    fn line_reaching(&self, byte: usize) -> usize {
        if byte >= self.text.len() {
            return usize::MAX;
        }

        // The line break that ends a line reaching `byte` is at `byte - 1`
        // or later; each break before that ends one more line that does not.
        let before = &self.text[self.cursor_byte.min(byte - 1)..byte - 1];
        self.cursor_line + before.iter().filter(|&&b| b == b'\n').count()
    }
}

/// The first line that is neither blank nor a comment, in a file where no
/// record held a value: that line holds only delimiters.
fn first_value_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        })
        .map(|index| index + 1)
}

impl RawTable {
    /// Number of data rows.
    pub(crate) fn row_count(&self) -> usize {
        self.lines.len()
    }

    /// The report action for repeated header names, if there are any.
    pub(crate) fn renamed_action(&self) -> Option<String> {
        const LISTED: usize = 10;

        if self.renamed.is_empty() {
            return None;
        }
        let mut listed: Vec<String> = self
            .renamed
            .iter()
            .take(LISTED)
            .map(|(column, given, name)| format!("column {column} `{given}` → `{name}`"))
            .collect();
        if self.renamed.len() > LISTED {
            listed.push(format!("and {} more", self.renamed.len() - LISTED));
        }
        Some(format!(
            "renamed {} column(s) whose header name repeats an earlier one: {}",
            self.renamed.len(),
            listed.join(", ")
        ))
    }

    /// Chooses the time axis: a column named like a time holding date-times
    /// or epoch numbers (a plain date column may take its clock from a
    /// second time-named column), else the first column if it holds
    /// date-times, else the row number.
    pub(crate) fn choose_time(&self) -> TimeAxis {
        let rows = self.row_count();
        let enough = |ok: usize| ok >= 2 && ok as f64 >= TIME_SHARE * rows as f64;
        let finite = |values: &[f64]| values.iter().filter(|value| value.is_finite()).count();

        for candidate in self.candidates.iter().filter(|candidate| candidate.named) {
            if enough(finite(&candidate.datetimes)) {
                return self.datetime_axis(candidate);
            }

            if let Some(axis) = self.epoch_axis(candidate, &enough) {
                return axis;
            }
        }

        if let Some(first) = self
            .candidates
            .iter()
            .find(|candidate| candidate.column == 0)
            && enough(finite(&first.datetimes))
        {
            return self.datetime_axis(first);
        }

        TimeAxis {
            columns: Vec::new(),
            kind: TimeKind::RowIndex,
            secs: (0..rows).map(|row| row as f64).collect(),
            bad_cells: Vec::new(),
            offsets: Vec::new(),
            rejected: self.rejected_time(),
        }
    }

    /// The column that looks most like the time, when none is used: the
    /// first time-named one with any cell read as a time, or the first
    /// column when at least half its cells read as date-times.
    fn rejected_time(&self) -> Option<RejectedTime> {
        let rows = self.row_count();
        self.candidates.iter().find_map(|candidate| {
            let datetimes = candidate
                .datetimes
                .iter()
                .filter(|value| value.is_finite())
                .count();
            let epochs = candidate
                .epochs
                .iter()
                .filter(|&&value| time::epoch_secs(value).is_some())
                .count();
            let (readable, kind, failures) = if datetimes >= epochs {
                (datetimes, "a date-time", &candidate.datetime_failures)
            } else {
                (epochs, "an epoch time", &candidate.epoch_failures)
            };
            let looks_like_time = if candidate.named {
                readable > 0
            } else {
                readable * 2 >= rows
            };

            looks_like_time.then(|| RejectedTime {
                column: candidate.column,
                readable,
                kind,
                first_failure: failures
                    .first()
                    .map(|(row, raw)| (self.lines[*row], raw.clone())),
            })
        })
    }

    fn datetime_axis(&self, candidate: &TimeCandidate) -> TimeAxis {
        let mut axis = TimeAxis {
            columns: vec![candidate.column],
            kind: TimeKind::DateTime,
            secs: candidate.datetimes.clone(),
            bad_cells: Vec::new(),
            offsets: candidate
                .offsets
                .iter()
                .map(|&(offset, row)| (offset, self.lines[row]))
                .collect(),
            rejected: None,
        };
        let mut failures = vec![(candidate.column, &candidate.datetime_failures)];

        let rows = self.row_count() as f64;
        let clock = self.candidates.iter().find(|other| {
            let ok = other
                .clocks
                .iter()
                .filter(|value| value.is_finite())
                .count();
            other.named && other.column != candidate.column && ok as f64 >= TIME_SHARE * rows
        });
        if let Some(clock) = clock.filter(|_| !candidate.has_clock) {
            for (secs, of_day) in axis.secs.iter_mut().zip(&clock.clocks) {
                *secs += of_day;
            }
            axis.columns.push(clock.column);
            failures.push((clock.column, &clock.clock_failures));
        }

        axis.bad_cells = self.time_bad_cells(&failures);
        axis
    }

    fn epoch_axis(
        &self,
        candidate: &TimeCandidate,
        enough: &impl Fn(usize) -> bool,
    ) -> Option<TimeAxis> {
        let kinds: Vec<Option<TimeKind>> = candidate
            .epochs
            .iter()
            .map(|&value| time::epoch_secs(value).map(|(kind, _)| kind))
            .collect();
        let count = |wanted| kinds.iter().filter(|&&kind| kind == Some(wanted)).count();
        let seconds = count(TimeKind::EpochSeconds);
        let millis = count(TimeKind::EpochMillis);
        let kind = if seconds >= millis {
            TimeKind::EpochSeconds
        } else {
            TimeKind::EpochMillis
        };
        if !enough(seconds.max(millis)) {
            return None;
        }

        let secs = candidate
            .epochs
            .iter()
            .map(|&value| match time::epoch_secs(value) {
                Some((found, secs)) if found == kind => secs,
                _ => f64::NAN,
            })
            .collect();
        let mut failures: Vec<(usize, String)> = candidate.epoch_failures.clone();
        for (row, (&value, found)) in candidate.epochs.iter().zip(&kinds).enumerate() {
            if found.is_some_and(|found| found != kind) && failures.len() < REPORT_LIST_LIMIT {
                failures.push((row, format!("{value}")));
            }
        }
        failures.sort_by_key(|(row, _)| *row);

        Some(TimeAxis {
            columns: vec![candidate.column],
            kind,
            secs,
            bad_cells: self.time_bad_cells(&[(candidate.column, &failures)]),
            offsets: Vec::new(),
            rejected: None,
        })
    }

    /// Turns recorded time failures (row, raw) into report cells.
    fn time_bad_cells(&self, failures: &[(usize, &Vec<(usize, String)>)]) -> Vec<BadCell> {
        let mut cells: Vec<(usize, BadCell)> = failures
            .iter()
            .flat_map(|(column, list)| {
                list.iter().map(move |(row, raw)| {
                    let kind = if raw.is_empty() {
                        BadCellKind::Empty
                    } else {
                        BadCellKind::Text
                    };
                    let cell = BadCell {
                        line: self.lines[*row],
                        column: self.names[*column].clone(),
                        raw: raw.clone(),
                        kind,
                    };
                    (*row, cell)
                })
            })
            .collect();
        cells.sort_by_key(|(row, _)| *row);
        cells.truncate(REPORT_LIST_LIMIT);
        cells.into_iter().map(|(_, cell)| cell).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_or_say_why_not() {
        assert_eq!(parse_cell(Some("1.5"), false), Ok(1.5));
        assert_eq!(parse_cell(Some("-2e3"), false), Ok(-2000.0));
        assert_eq!(parse_cell(Some(""), false), Err(BadCellKind::Empty));
        assert_eq!(parse_cell(None, false), Err(BadCellKind::Missing));
        for nan in ["NaN", "nan", "NAN"] {
            assert_eq!(parse_cell(Some(nan), false), Err(BadCellKind::NaN));
        }
        for inf in ["inf", "-inf", "Infinity", "1e99"] {
            assert_eq!(
                parse_cell(Some(inf), false),
                Err(BadCellKind::Infinite),
                "{inf}"
            );
        }
        assert_eq!(parse_cell(Some("n/a"), false), Err(BadCellKind::Text));
        assert_eq!(parse_cell(Some("1,5"), false), Err(BadCellKind::Text));
        assert_eq!(parse_cell(Some("1,5"), true), Ok(1.5));
        assert_eq!(parse_cell(Some("1,5,0"), true), Err(BadCellKind::Text));
    }

    #[test]
    fn short_lines_are_missing_cells_and_long_lines_fail() {
        let table = read_table("a,b,c\n1,2,3\n4,5\n").unwrap();
        assert_eq!(table.columns[2].bad, 1);
        assert_eq!(table.columns[2].first_bad[0].1, BadCellKind::Missing);

        let error = read_table("a,b,c\n1,2,3\n4,5,6,7\n").unwrap_err();
        assert!(matches!(
            error,
            IngestError::RaggedLine {
                line: 3,
                found: 4,
                ..
            }
        ));

        let error = read_table("a,b,c,d\n1,2,3,4\n5\n").unwrap_err();
        assert!(matches!(
            error,
            IngestError::RaggedLine {
                line: 3,
                found: 1,
                ..
            }
        ));
    }

    #[test]
    fn trailing_delimiters_are_ignored() {
        let table = read_table("a,b,\n1,2,\n3,4,\n").unwrap();
        assert_eq!(table.names, vec!["a", "b"]);
        assert_eq!(table.row_count(), 2);
    }

    #[test]
    fn date_and_clock_columns_combine() {
        let text = "Date;Time;power\n2006-12-16;17:24:00;4,2\n2006-12-16;17:25:00;5,3\n";
        let table = read_table(text).unwrap();
        let axis = table.choose_time();
        assert_eq!(axis.kind, TimeKind::DateTime);
        assert_eq!(axis.columns, vec![0, 1]);
        assert!((axis.secs[1] - axis.secs[0] - 60.0).abs() < 1e-9);
        assert!((table.columns[2].values[0] - 4.2).abs() < 1e-6);
    }

    #[test]
    fn progress_waits_for_a_hundredth_of_the_bytes() {
        // 1,000 lines of 10 bytes and a last line without a break: a
        // hundredth of the file is 10 lines.
        let text = format!("{}last", "123456789\n".repeat(1_000));
        let mut calls = Vec::new();
        let mut note = |progress| calls.push(progress);
        let mut meter = ProgressMeter::new(&text, text.len() + 3, &mut note);
        for line in 1..=1_001 {
            // Rows far apart, so that only the bytes hold reports back.
            meter.row_read(line, line * PROGRESS_ROWS);
        }
        meter.finish(1_001);

        let step = (text.len() + 3) / PROGRESS_STEPS;
        assert_eq!(step, 100);
        assert_eq!(calls.len(), 101);
        for (index, call) in calls[..100].iter().enumerate() {
            // Byte-order mark, then whole lines, each report 100 bytes on.
            assert_eq!(call.bytes_done, 3 + 100 * (index + 1), "{call:?}");
            assert_eq!(call.rows, 10 * (index + 1) * PROGRESS_ROWS, "{call:?}");
        }
        assert_eq!(calls[100].bytes_done, text.len() + 3);
        assert_eq!(calls[100].bytes_total, text.len() + 3);
    }

    #[test]
    fn generic_numbers_are_not_time() {
        let table = read_table("x,y\n1500000000,1\n1500000060,2\n").unwrap();
        assert_eq!(table.choose_time().kind, TimeKind::RowIndex);

        let table = read_table("epoch,y\n1500000000,1\n1500000060,2\n").unwrap();
        assert_eq!(table.choose_time().kind, TimeKind::EpochSeconds);
    }
}
