//! Reading sensor data: delimited text in, a checked [`Dataset`] and a
//! [`DataReport`] out.
//!
//! [`parse`] takes the bytes of a file and runs these steps:
//!
//! 1. check size and encoding ([`IngestError::TooLarge`], [`IngestError::NotText`]);
//! 2. guess the delimiter (comma, semicolon, tab or runs of whitespace) and
//!    whether the first line is a header (`sniff`);
//! 3. read every cell as a number, noting bad cells by line and column, and
//!    find the time axis: date-times, epoch seconds or milliseconds, or the
//!    row number (`read`, `time`);
//! 4. drop columns that are text, mostly bad or constant; sort rows by time,
//!    drop repeated timestamps, interpolate bad cells and fill short gaps
//!    (`repair`);
//! 5. say what was found and done in a [`DataReport`] (`report`).
//!
//! [`parse_with_progress`] runs the same steps and says how far step 3 has
//! got, for a page that shows a progress bar while a big file loads.
//!
//! Nothing here panics on any input: every problem is an [`IngestError`] or a
//! line of the report.

mod error;
mod fleet;
mod load;
mod read;
mod repair;
mod report;
mod sniff;
mod time;

use serde::{Deserialize, Serialize};

pub use error::IngestError;
pub use fleet::{
    Fleet, FleetColumns, FleetReport, IngestedFleet, Unit, parse_fleet, parse_rul_values,
};
pub use load::{ParseProgress, parse, parse_with_progress};
pub use report::{
    BadCell, BadCellKind, BadCells, ColumnCounts, DataReport, DropReason, DroppedColumn, Gap, Gaps,
    LineList, REPORT_LIST_LIMIT,
};
pub(crate) use time::parse_datetime;

/// How the time axis of a dataset was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeKind {
    /// No time column: the row index is the time (step 1).
    RowIndex,
    /// A column of epoch seconds.
    EpochSeconds,
    /// A column of epoch milliseconds (stored as seconds).
    EpochMillis,
    /// A column of ISO 8601 dates or date-times (stored as epoch seconds, UTC).
    DateTime,
}

/// One numeric sensor column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Column name from the header, or `col<N>` (1-based) without a header.
    pub name: String,
    /// One value per row; `NaN` where the cell was bad or empty until repaired.
    pub values: Vec<f32>,
}

/// A table of sensor readings on one time axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Display name (file name or demo name).
    pub name: String,
    /// Name of the time column, if there was one.
    pub time_column: Option<String>,
    /// How the time axis was found.
    pub time_kind: TimeKind,
    /// Time of each row in seconds (epoch seconds, or the row index).
    pub time_secs: Vec<f64>,
    /// Numeric channels, all of `time_secs.len()` values.
    pub channels: Vec<Channel>,
}

impl Dataset {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.time_secs.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.time_secs.is_empty()
    }

    /// Position of the channel called `name` in [`Dataset::channels`].
    #[must_use]
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels
            .iter()
            .position(|channel| channel.name == name)
    }

    /// Median step between rows in seconds (in rows for
    /// [`TimeKind::RowIndex`]), or `None` with fewer than two rows.
    #[must_use]
    pub fn step_secs(&self) -> Option<f64> {
        repair::median_step(&self.time_secs)
    }
}

/// Limits and choices for [`parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Gaps missing at most this many steps are filled by interpolation;
    /// longer gaps are left as breaks.
    pub max_gap_fill_steps: usize,
    /// A column with a larger share of bad cells than this is dropped.
    pub max_bad_fraction: f64,
    /// A step longer than this many median steps is a gap.
    pub gap_factor: f64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_gap_fill_steps: 5,
            max_bad_fraction: 0.5,
            gap_factor: 1.5,
        }
    }
}

/// A loaded dataset with the report of how it was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingested {
    /// The cleaned table.
    pub dataset: Dataset,
    /// What was found in the file and done about it.
    pub report: DataReport,
}
