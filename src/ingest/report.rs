//! What ingest found in a file and what it did about it: the [`DataReport`]
//! shown to the user next to the chart, and its lines of plain text.

use serde::{Deserialize, Serialize};

use super::TimeKind;

/// How many line numbers, bad cells or gaps a report lists in full; the
/// counts always cover all of them.
pub const REPORT_LIST_LIMIT: usize = 50;

/// Column counts of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnCounts {
    /// Columns in the file, the time column included.
    pub total: usize,
    /// Numeric columns kept as channels.
    pub kept: usize,
    /// Columns dropped (text, mostly bad, constant, unreadable); the time
    /// column is neither kept nor dropped.
    pub dropped: usize,
}

/// Why a column did not become a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// Every cell was empty.
    Empty,
    /// No cell held a number: a text column such as a label or a status.
    Text,
    /// More than the allowed share of cells were bad.
    MostlyBad,
    /// Every value was the same, so it carries no signal.
    Constant,
}

impl DropReason {
    /// A few words for people.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Text => "text, not numbers",
            Self::MostlyBad => "mostly bad cells",
            Self::Constant => "constant",
        }
    }
}

/// A column that did not become a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedColumn {
    /// Column name.
    pub name: String,
    /// Why it was dropped.
    pub reason: DropReason,
}

/// What was wrong with a bad cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BadCellKind {
    /// Nothing between the delimiters.
    Empty,
    /// The line ended before this column.
    Missing,
    /// `NaN`, `nan` and the like.
    NaN,
    /// `inf`, `-inf`, `Infinity`, or a number too big for 32 bits.
    Infinite,
    /// Text that is not a number (or, in the time column, not a time).
    Text,
}

impl BadCellKind {
    /// One word for people.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Missing => "missing",
            Self::NaN => "NaN",
            Self::Infinite => "infinite",
            Self::Text => "text",
        }
    }
}

/// One bad cell, where it is and what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadCell {
    /// 1-based line of the file, the header counted, where the row starts.
    pub line: usize,
    /// Column name.
    pub column: String,
    /// The cell's text as written (trimmed).
    pub raw: String,
    /// What was wrong with it.
    pub kind: BadCellKind,
}

/// Bad cells in the time column and in the kept channels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadCells {
    /// All bad cells found.
    pub total: usize,
    /// How many were repaired by linear interpolation along time (cells of
    /// rows dropped later, as duplicates, are not counted).
    pub interpolated: usize,
    /// The first [`REPORT_LIST_LIMIT`] of them, in file order.
    pub first: Vec<BadCell>,
}

/// A count of rows with the first line numbers of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineList {
    /// How many rows.
    pub count: usize,
    /// Their first [`REPORT_LIST_LIMIT`] line numbers, 1-based.
    pub first_lines: Vec<usize>,
}

impl LineList {
    /// Adds a row's line.
    pub(crate) fn push(&mut self, line: usize) {
        self.count += 1;
        if self.first_lines.len() < REPORT_LIST_LIMIT {
            self.first_lines.push(line);
        }
    }
}

/// One gap in time: a step longer than the gap factor times the median step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Line of the row before the gap.
    pub after_line: usize,
    /// Line of the row after the gap.
    pub before_line: usize,
    /// Length of the step in seconds (or rows).
    pub secs: f64,
    /// Median steps missing in it.
    pub missing_steps: usize,
    /// Whether rows were inserted by interpolation (otherwise a break).
    pub filled: bool,
}

/// Gaps in the time axis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gaps {
    /// Number of gaps.
    pub count: usize,
    /// Longest gap in seconds (or rows), if any.
    pub largest_secs: Option<f64>,
    /// Gaps filled by inserting interpolated rows.
    pub interpolated: usize,
    /// Gaps left as they are, as breaks in the series.
    pub left_as_breaks: usize,
    /// Rows inserted to fill gaps.
    pub rows_inserted: usize,
    /// The first [`REPORT_LIST_LIMIT`] gaps in time order.
    pub first: Vec<Gap>,
}

/// What ingest found in a file and what it did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReport {
    /// Data rows read from the file (header excluded).
    pub rows_read: usize,
    /// Rows in the dataset after dropping, de-duplicating and gap filling.
    pub rows: usize,
    /// Column counts.
    pub columns: ColumnCounts,
    /// Names of the kept channels, in file order.
    pub channel_names: Vec<String>,
    /// The delimiter: `comma`, `semicolon`, `tab`, `whitespace` or
    /// `none (one column)`.
    pub delimiter: String,
    /// Whether the first line was a header.
    pub has_header: bool,
    /// Whether numbers were read with a decimal comma (`1,5`).
    pub decimal_comma: bool,
    /// Name of the time column, if one was found.
    pub time_column: Option<String>,
    /// How the time axis was found.
    pub time_kind: TimeKind,
    /// First time: ISO 8601 in UTC for absolute times, the row number otherwise.
    pub time_start: String,
    /// Last time, written like [`DataReport::time_start`].
    pub time_end: String,
    /// Median step between rows, in seconds (rows for [`TimeKind::RowIndex`]).
    pub median_step_secs: Option<f64>,
    /// Gaps in time.
    pub gaps: Gaps,
    /// Rows dropped because their timestamp repeated an earlier one.
    pub duplicates: LineList,
    /// Rows whose time is earlier than the row above them in the file.
    pub backwards: LineList,
    /// Rows dropped because their time could not be read.
    pub unreadable_time: LineList,
    /// Names of the columns dropped because they were constant.
    pub constant_columns: Vec<String>,
    /// Every column dropped, with the reason.
    pub dropped_columns: Vec<DroppedColumn>,
    /// Bad cells in the time column and the kept channels.
    pub bad_cells: BadCells,
    /// What the pipeline did about each issue, in the order it did it.
    pub actions: Vec<String>,
}

impl DataReport {
    /// Number of issues found and acted on (one per entry of
    /// [`DataReport::actions`]); zero for a clean file.
    #[must_use]
    pub fn warning_count(&self) -> usize {
        self.actions.len()
    }

    /// Whether the file loaded without any repair.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.actions.is_empty()
    }

    /// The report as lines of plain text for a UI, most important first.
    #[must_use]
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();

        let header = if self.has_header {
            "with a header"
        } else {
            "no header"
        };
        lines.push(format!(
            "{} rows × {} columns ({} delimiter, {header})",
            self.rows_read, self.columns.total, self.delimiter
        ));

        let time = match (&self.time_column, self.time_kind) {
            (_, TimeKind::RowIndex) | (None, _) => "time: row number (no time column)".to_owned(),
            (Some(name), kind) => format!("time: `{name}` ({})", describe_kind(kind)),
        };
        let step = self
            .median_step_secs
            .map(|step| format!(", step {}", format_step(step, self.time_kind)))
            .unwrap_or_default();
        lines.push(format!(
            "{time}, {} → {}{step}",
            self.time_start, self.time_end
        ));

        lines.push(format!(
            "{} channel(s) kept: {}",
            self.columns.kept,
            self.channel_names.join(", ")
        ));

        if !self.dropped_columns.is_empty() {
            let dropped: Vec<String> = self
                .dropped_columns
                .iter()
                .map(|column| format!("`{}` ({})", column.name, column.reason.describe()))
                .collect();
            lines.push(format!("dropped column(s): {}", dropped.join(", ")));
        }

        if let Some(cell) = self.bad_cells.first.first() {
            let raw = if cell.raw.is_empty() {
                String::new()
            } else {
                format!(" `{}`", cell.raw)
            };
            lines.push(format!(
                "{} bad cell(s); the first at line {}, column `{}`: {}{raw}",
                self.bad_cells.total,
                cell.line,
                cell.column,
                cell.kind.describe(),
            ));
        }

        push_line_list(
            &mut lines,
            &self.unreadable_time,
            "row(s) with an unreadable time",
        );
        push_line_list(&mut lines, &self.duplicates, "duplicate timestamp(s)");
        push_line_list(&mut lines, &self.backwards, "step(s) backwards in time");

        if self.gaps.count > 0 {
            let largest = self
                .gaps
                .largest_secs
                .map(|secs| format_step(secs, self.time_kind))
                .unwrap_or_default();
            lines.push(format!(
                "{} gap(s) in time, the largest {largest}: {} filled, {} left as breaks",
                self.gaps.count, self.gaps.interpolated, self.gaps.left_as_breaks
            ));
        }

        lines.extend(self.actions.iter().map(|action| format!("→ {action}")));
        lines.push(format!("{} rows ready", self.rows));
        lines
    }
}

/// Adds "N things (first at line L)" when the list is not empty.
fn push_line_list(lines: &mut Vec<String>, list: &LineList, what: &str) {
    if let Some(first) = list.first_lines.first() {
        lines.push(format!("{} {what} (first at line {first})", list.count));
    }
}

/// A few words for a time kind.
fn describe_kind(kind: TimeKind) -> &'static str {
    match kind {
        TimeKind::RowIndex => "row number",
        TimeKind::EpochSeconds => "epoch seconds",
        TimeKind::EpochMillis => "epoch milliseconds",
        TimeKind::DateTime => "date-time",
    }
}

/// A step or duration for people: `1 h`, `5 min`, `2.5 s`, `3 rows`.
pub(crate) fn format_step(secs: f64, kind: TimeKind) -> String {
    if kind == TimeKind::RowIndex {
        return if (secs - 1.0).abs() < f64::EPSILON {
            "1 row".to_owned()
        } else {
            format!("{secs} rows")
        };
    }

    let units = [(86_400.0, "d"), (3_600.0, "h"), (60.0, "min")];
    for (size, unit) in units {
        if secs >= size {
            return format!("{} {unit}", trim_number(secs / size));
        }
    }
    format!("{} s", trim_number(secs))
}

/// Writes a number with at most two decimals and no trailing zeros.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_well() {
        assert_eq!(format_step(3600.0, TimeKind::DateTime), "1 h");
        assert_eq!(format_step(300.0, TimeKind::DateTime), "5 min");
        assert_eq!(format_step(1.5, TimeKind::EpochMillis), "1.5 s");
        assert_eq!(format_step(172_800.0, TimeKind::DateTime), "2 d");
        assert_eq!(format_step(1.0, TimeKind::RowIndex), "1 row");
    }

    #[test]
    fn line_lists_cap_their_lines() {
        let mut list = LineList::default();
        for line in 0..(REPORT_LIST_LIMIT + 7) {
            list.push(line);
        }
        assert_eq!(list.count, REPORT_LIST_LIMIT + 7);
        assert_eq!(list.first_lines.len(), REPORT_LIST_LIMIT);
    }
}
