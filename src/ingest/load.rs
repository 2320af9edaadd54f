//! The ingest pipeline itself: bytes in, a cleaned [`Dataset`] and the
//! [`DataReport`] of what was found and done out.

use serde::{Deserialize, Serialize};

use super::read::{self, ColumnData, ProgressMeter, RawTable, RejectedTime, TimeAxis};
use super::repair::{self, GapPlan, RowPlan};
use super::report::{
    BadCell, BadCells, ColumnCounts, DataReport, DropReason, DroppedColumn, Gap, Gaps, LineList,
    REPORT_LIST_LIMIT, format_step,
};
use super::sniff;
use super::time::{format_offset, format_time};
use super::{Channel, Dataset, IngestError, IngestOptions, Ingested, TimeKind};

/// Reads delimited text into a [`Dataset`], repairing what can be repaired
/// and reporting all of it.
///
/// `name` becomes [`Dataset::name`]. The file may be comma-, semicolon-,
/// tab- or whitespace-separated, with or without a header line. Bad cells
/// are interpolated along time, text and constant columns are dropped, rows
/// are sorted by time with repeated timestamps dropped, and gaps of up to
/// [`IngestOptions::max_gap_fill_steps`] missing steps are filled.
///
/// Never panics; a file that cannot become a time series gives an
/// [`IngestError`] that names the problem and, where it has one, the line.
pub fn parse(name: &str, bytes: &[u8], options: &IngestOptions) -> Result<Ingested, IngestError> {
    parse_with_progress(name, bytes, options, &mut |_| {})
}

/// How far [`parse_with_progress`] has read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseProgress {
    /// Bytes of the file read so far.
    pub bytes_done: usize,
    /// Size of the file in bytes.
    pub bytes_total: usize,
    /// Data rows read so far.
    pub rows: usize,
}

/// [`parse`], telling `progress` how far reading the records has got.
///
/// `progress` is called seldom enough to post a message to a web page each
/// time: after at least 50,000 more rows and 1 % more of the bytes, so at
/// most about 100 times a file, and once when every record is read, with
/// [`ParseProgress::bytes_done`] equal to [`ParseProgress::bytes_total`].
/// Both counts only grow from call to call. The repair steps after reading
/// report nothing; a file refused before reading (too large, not text) and
/// a record that cannot be read give no final call.
///
/// Returns exactly what [`parse`] returns.
// The steps read top to bottom in the order the module documentation lists
// them; splitting them up would hide that order behind more names.
#[allow(clippy::too_many_lines)]
pub fn parse_with_progress(
    name: &str,
    bytes: &[u8],
    options: &IngestOptions,
    progress: &mut dyn FnMut(ParseProgress),
) -> Result<Ingested, IngestError> {
    if bytes.len() > options.max_bytes {
        return Err(IngestError::TooLarge {
            size: bytes.len(),
            limit: options.max_bytes,
        });
    }

    let text = sniff::decode(bytes)?;
    let mut meter = ProgressMeter::new(text, bytes.len(), progress);
    let mut table = read::read_table_with_progress(text, &mut meter)?;
    let rows_read = table.row_count();
    if rows_read < 2 {
        return Err(IngestError::TooFewRows { rows: rows_read });
    }

    let axis = table.choose_time();
    let mut actions: Vec<String> = table.renamed_action().into_iter().collect();
    note_time_axis(&table, &axis, &mut actions);
    let (candidates, mut dropped) = pick_columns(&table, &axis, options, &mut actions);
    if candidates.is_empty() {
        return Err(IngestError::NoNumericColumn {
            columns: table.names.len(),
        });
    }

    let time_name = (!axis.columns.is_empty()).then(|| {
        let names: Vec<&str> = axis
            .columns
            .iter()
            .map(|&c| table.names[c].as_str())
            .collect();
        names.join(" + ")
    });
    let plan = repair::plan_rows(&axis.secs);
    let lists = RowLists::new(&table, &plan);
    note_row_actions(&lists, time_name.as_deref(), &mut actions);
    if plan.order.len() < 2 {
        return Err(IngestError::TooFewRows {
            rows: plan.order.len(),
        });
    }

    let mut time = repair::select(&axis.secs, &plan.order);
    let lines = repair::select(&table.lines, &plan.order);
    let mut kept: Vec<(usize, Vec<f32>)> = Vec::with_capacity(candidates.len());
    let mut interpolated = 0;
    let mut constant_columns = Vec::new();
    for column in candidates {
        let mut values = repair::select(&table.columns[column].values, &plan.order);
        let name = table.names[column].clone();
        match repair::interpolate_bad(&time, &mut values) {
            None => {
                actions.push(format!(
                    "dropped column `{name}`: no readable value is left"
                ));
                dropped.push(DroppedColumn {
                    name,
                    reason: DropReason::MostlyBad,
                });
            }
            Some(_) if repair::is_constant(&values) => constant_columns.push(name),
            Some(repaired) => {
                interpolated += repaired;
                kept.push((column, values));
            }
        }
    }

    note_constants(&constant_columns, &mut actions);
    dropped.extend(constant_columns.iter().map(|name| DroppedColumn {
        name: name.clone(),
        reason: DropReason::Constant,
    }));
    if kept.is_empty() {
        return Err(if constant_columns.is_empty() {
            IngestError::NoNumericColumn {
                columns: table.names.len(),
            }
        } else {
            let quoted: Vec<String> = constant_columns.iter().map(|n| format!("`{n}`")).collect();
            IngestError::NoVaryingColumn {
                names: quoted.join(", "),
            }
        });
    }

    let bad_cells = collect_bad_cells(&table, &axis, &plan, &kept, interpolated);
    if interpolated > 0 {
        actions.push(format!(
            "interpolated {interpolated} bad cell(s) linearly along time"
        ));
    }

    let median_step_secs = repair::median_step(&time);
    let mut gaps = Gaps::default();
    if let Some(median) = median_step_secs.filter(|_| axis.kind != TimeKind::RowIndex) {
        let plans = repair::find_gaps(
            &time,
            median,
            options.gap_factor,
            options.max_gap_fill_steps,
            time.len(),
        );
        gaps = describe_gaps(&plans, &lines, axis.kind, options, &mut actions);
        let mut values: Vec<Vec<f32>> = kept.iter_mut().map(|(_, v)| std::mem::take(v)).collect();
        repair::fill_gaps(&mut time, &mut values, &plans);
        for ((_, slot), filled) in kept.iter_mut().zip(values) {
            *slot = filled;
        }
    }

    let channels: Vec<Channel> = kept
        .into_iter()
        .map(|(column, values)| Channel {
            name: std::mem::take(&mut table.names[column]),
            values,
        })
        .collect();
    let channel_names: Vec<String> = channels.iter().map(|c| c.name.clone()).collect();
    let dataset = Dataset {
        name: name.to_owned(),
        time_column: time_name.clone(),
        time_kind: axis.kind,
        time_secs: time,
        channels,
    };

    let first_time = dataset.time_secs.first().copied().unwrap_or_default();
    let last_time = dataset.time_secs.last().copied().unwrap_or_default();
    let report = DataReport {
        rows_read,
        rows: dataset.len(),
        columns: ColumnCounts {
            total: table.names.len(),
            kept: dataset.channels.len(),
            dropped: dropped.len(),
        },
        channel_names,
        delimiter: table.delimiter.describe(table.names.len()),
        has_header: table.has_header,
        decimal_comma: table.decimal_comma,
        time_column: time_name,
        time_kind: axis.kind,
        time_start: format_time(first_time, axis.kind),
        time_end: format_time(last_time, axis.kind),
        median_step_secs,
        gaps,
        duplicates: lists.duplicates,
        backwards: lists.backwards,
        unreadable_time: lists.unreadable,
        constant_columns,
        dropped_columns: dropped,
        bad_cells,
        actions,
    };

    log::info!(
        "ingest: `{name}`: {} rows, {} channels, {} warning(s)",
        report.rows,
        report.columns.kept,
        report.warning_count()
    );
    for action in &report.actions {
        log::warn!("ingest: `{name}`: {action}");
    }

    Ok(Ingested { dataset, report })
}

/// Adds what is odd about the time axis: a time column that was not used, or
/// times with and without a UTC offset in one column.
fn note_time_axis(table: &RawTable, axis: &TimeAxis, actions: &mut Vec<String>) {
    if let Some(RejectedTime {
        column,
        readable,
        kind,
        first_failure,
    }) = &axis.rejected
    {
        let example = first_failure
            .as_ref()
            .map(|(line, raw)| format!(" (the first that does not: line {line}, `{raw}`)"))
            .unwrap_or_default();
        let name = &table.names[*column];
        let rows = table.row_count();
        actions.push(format!(
            "did not use `{name}` as the time: only {readable} of its {rows} cells read as \
             {kind}{example}; the row number is the time instead"
        ));
    }

    let without = axis.offsets.iter().find(|(offset, _)| offset.is_none());
    let with: Vec<String> = axis
        .offsets
        .iter()
        .filter(|(offset, _)| offset.is_some())
        .map(|&(offset, line)| format!("{} from line {line}", format_offset(offset)))
        .collect();
    if let Some((_, line)) = without
        && !with.is_empty()
    {
        let name = axis
            .columns
            .first()
            .map_or("time", |&c| table.names[c].as_str());
        actions.push(format!(
            "`{name}` mixes times without a UTC offset (from line {line}), read as UTC, with \
             times that name one ({}); check the times without an offset",
            with.join(", ")
        ));
    }
}

/// Splits the non-time columns into channel candidates and dropped columns
/// (empty, text, mostly bad).
fn pick_columns(
    table: &RawTable,
    axis: &TimeAxis,
    options: &IngestOptions,
    actions: &mut Vec<String>,
) -> (Vec<usize>, Vec<DroppedColumn>) {
    let rows = table.row_count();
    let mut candidates = Vec::new();
    let mut dropped = Vec::new();

    for (index, column) in table.columns.iter().enumerate() {
        if axis.columns.contains(&index) {
            continue;
        }

        let name = &table.names[index];
        let reason = drop_reason(column, rows, options.max_bad_fraction);
        match reason {
            None => {
                candidates.push(index);
                continue;
            }
            Some(DropReason::Text) => actions.push(format!("dropped text column `{name}`")),
            Some(DropReason::Empty) => actions.push(format!("dropped empty column `{name}`")),
            Some(_) => actions.push(format!(
                "dropped column `{name}`: {} of its {rows} cells are bad",
                column.bad
            )),
        }
        dropped.extend(reason.map(|reason| DroppedColumn {
            name: name.clone(),
            reason,
        }));
    }

    (candidates, dropped)
}

/// Why a column as read should not become a channel, if it should not.
fn drop_reason(column: &ColumnData, rows: usize, max_bad_fraction: f64) -> Option<DropReason> {
    if column.bad >= rows {
        return Some(if column.text > 0 {
            DropReason::Text
        } else {
            DropReason::Empty
        });
    }

    (column.bad as f64 > max_bad_fraction * rows as f64).then_some(DropReason::MostlyBad)
}

/// Rows with unreadable, repeated or backward times, as line lists.
struct RowLists {
    unreadable: LineList,
    duplicates: LineList,
    backwards: LineList,
}

impl RowLists {
    fn new(table: &RawTable, plan: &RowPlan) -> Self {
        let lines = |rows: &[usize]| {
            let mut list = LineList::default();
            for &row in rows {
                list.push(table.lines[row]);
            }
            list
        };

        Self {
            unreadable: lines(&plan.unreadable),
            duplicates: lines(&plan.duplicates),
            backwards: lines(&plan.backwards),
        }
    }
}

/// Adds the actions taken on rows: dropping unreadable times, sorting, and
/// dropping repeated timestamps.
fn note_row_actions(lists: &RowLists, time_name: Option<&str>, actions: &mut Vec<String>) {
    let first = |list: &LineList| list.first_lines.first().copied().unwrap_or_default();
    let column = time_name.unwrap_or("time");

    if lists.unreadable.count > 0 {
        actions.push(format!(
            "dropped {} row(s) whose `{column}` could not be read (first at line {})",
            lists.unreadable.count,
            first(&lists.unreadable)
        ));
    }

    if lists.backwards.count > 0 {
        actions.push(format!(
            "sorted the rows by time: it went backwards {} time(s) (first at line {})",
            lists.backwards.count,
            first(&lists.backwards)
        ));
    }

    if lists.duplicates.count > 0 {
        actions.push(format!(
            "kept the first of each repeated timestamp and dropped {} duplicate row(s) \
             (first at line {})",
            lists.duplicates.count,
            first(&lists.duplicates)
        ));
    }
}

/// Adds one action for the constant columns, naming them.
fn note_constants(names: &[String], actions: &mut Vec<String>) {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.len() {
        0 => {}
        1 => actions.push(format!("dropped constant column {}", quoted[0])),
        count => actions.push(format!(
            "dropped {count} constant columns: {}",
            quoted.join(", ")
        )),
    }
}

/// Bad cells of the time column and the kept channels, in file order.
fn collect_bad_cells(
    table: &RawTable,
    axis: &TimeAxis,
    plan: &RowPlan,
    kept: &[(usize, Vec<f32>)],
    interpolated: usize,
) -> BadCells {
    let time_column = axis.columns.first().copied().unwrap_or_default();
    let mut cells: Vec<(usize, usize, BadCell)> = axis
        .bad_cells
        .iter()
        .map(|cell| (cell.line, time_column, cell.clone()))
        .collect();
    let mut total = plan.unreadable.len();

    for &(column, _) in kept {
        let data = &table.columns[column];
        total += data.bad;
        cells.extend(data.first_bad.iter().map(|(line, kind, raw)| {
            let cell = BadCell {
                line: *line,
                column: table.names[column].clone(),
                raw: raw.clone(),
                kind: *kind,
            };
            (*line, column, cell)
        }));
    }

    cells.sort_by_key(|(line, column, _)| (*line, *column));
    cells.truncate(REPORT_LIST_LIMIT);
    BadCells {
        total,
        interpolated,
        first: cells.into_iter().map(|(_, _, cell)| cell).collect(),
    }
}

/// Summarises the gap plans for the report and adds the actions.
fn describe_gaps(
    plans: &[GapPlan],
    lines: &[usize],
    kind: TimeKind,
    options: &IngestOptions,
    actions: &mut Vec<String>,
) -> Gaps {
    let mut gaps = Gaps {
        count: plans.len(),
        ..Gaps::default()
    };

    for plan in plans {
        if plan.fill {
            gaps.interpolated += 1;
            gaps.rows_inserted += plan.missing;
        } else {
            gaps.left_as_breaks += 1;
        }
        if gaps.largest_secs.is_none_or(|largest| plan.secs > largest) {
            gaps.largest_secs = Some(plan.secs);
        }
        if gaps.first.len() < REPORT_LIST_LIMIT {
            gaps.first.push(Gap {
                after_line: lines[plan.after],
                before_line: lines[plan.after + 1],
                secs: plan.secs,
                missing_steps: plan.missing,
                filled: plan.fill,
            });
        }
    }

    if gaps.interpolated > 0 {
        actions.push(format!(
            "filled {} short gap(s) in time with {} interpolated row(s)",
            gaps.interpolated, gaps.rows_inserted
        ));
    }

    if gaps.left_as_breaks > 0 {
        let largest = gaps
            .largest_secs
            .map(|secs| format_step(secs, kind))
            .unwrap_or_default();
        actions.push(format!(
            "left {} gap(s) longer than {} step(s) as breaks (the largest {largest})",
            gaps.left_as_breaks, options.max_gap_fill_steps
        ));
    }

    gaps
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// A comma-separated file of `rows` minute readings with a header.
    fn generated(rows: usize) -> String {
        let mut text = String::from("time,temperature,pressure\n");
        for row in 0..rows {
            let secs = 1_700_000_000 + row * 60;
            let wave = (row as f64 * 0.01).sin();
            writeln!(text, "{secs},{:.3},{:.2}", 20.0 + wave, 101.3 - wave).unwrap();
        }
        text
    }

    fn parse_noting(bytes: &[u8]) -> (Result<Ingested, IngestError>, Vec<ParseProgress>) {
        let mut calls = Vec::new();
        let options = IngestOptions::default();
        let result = parse_with_progress("test", bytes, &options, &mut |p| calls.push(p));
        (result, calls)
    }

    #[test]
    fn progress_grows_is_seldom_and_ends_at_the_file_size() {
        let rows = 200_000;
        let comma = generated(rows);
        let spaces = comma.replace(',', " ");
        for text in [comma, spaces] {
            let bytes = text.as_bytes();
            let (result, calls) = parse_noting(bytes);
            assert_eq!(result.unwrap().report.rows_read, rows);

            let count = calls.len();
            assert!((3..=200).contains(&count), "{count} calls");
            for pair in calls.windows(2) {
                assert!(pair[0].bytes_done < pair[1].bytes_done, "{pair:?}");
                assert!(pair[0].rows < pair[1].rows, "{pair:?}");
                assert!(pair[1].rows - pair[0].rows >= 50_000, "{pair:?}");
            }
            for call in &calls[..calls.len() - 1] {
                assert_eq!(call.bytes_total, bytes.len());
                // Each report ends a line: the header and `rows` rows.
                let breaks = bytes[..call.bytes_done].iter().filter(|&&b| b == b'\n');
                assert_eq!(breaks.count(), call.rows + 1, "{call:?}");
            }

            let last = calls[calls.len() - 1];
            let whole = ParseProgress {
                bytes_done: bytes.len(),
                bytes_total: bytes.len(),
                rows,
            };
            assert_eq!(last, whole);
        }
    }

    #[test]
    fn a_small_file_reports_once_counting_its_byte_order_mark() {
        let bytes = "\u{feff}t,x\n1,5\n2,6\n3,8\n".as_bytes();
        let (result, calls) = parse_noting(bytes);
        assert!(result.is_ok());
        let whole = ParseProgress {
            bytes_done: bytes.len(),
            bytes_total: bytes.len(),
            rows: 3,
        };
        assert_eq!(calls, [whole]);

        let (result, calls) = parse_noting(b"a,b\n1,2\n3,4,5\n");
        assert!(matches!(
            result,
            Err(IngestError::RaggedLine { line: 3, .. })
        ));
        assert!(calls.is_empty());
    }

    #[test]
    fn with_progress_returns_what_parse_returns() {
        let options = IngestOptions::default();
        let big = generated(60_000);
        let files: [&[u8]; 5] = [
            big.as_bytes(),
            b"time;x\n2024-01-01T00:00:00Z;1,5\n2024-01-01T00:01:00Z;2\n\n",
            b"x y\n1 2\n3 nan\n5 6\n",
            b"a,b\n1,2\n",
            b"",
        ];
        for bytes in files {
            let with = parse_with_progress("same", bytes, &options, &mut |_| {});
            assert_eq!(with, parse("same", bytes, &options));
        }
    }
}
