//! Hostile and broken input through the public ingest API: every file of
//! `tests/data/hostile` (listed, with what the page shows for it, in that
//! folder's README) either fails with an error that names the problem and its
//! line, or loads with a report that says what was wrong and what was done.
//! Files too big to commit (10,000 columns, megabyte lines) are made here.
//! Nothing may panic: every file also goes through the fleet and RUL readers
//! and the suggested setup.

// Native only: these tests read files from disk.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use twinlab::ingest::{
    self, BadCellKind, DataReport, Dataset, FleetColumns, IngestError, IngestOptions, Ingested,
    TimeKind,
};
use twinlab::pipeline::Setup;
use twinlab::prep::{self, Split, SplitFractions, WindowSpec};

/// The corpus folder.
fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile")
}

/// The bytes of corpus file `name`.
fn bytes(name: &str) -> Vec<u8> {
    let path = corpus().join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Ingested, IngestError> {
    ingest::parse(name, bytes, &IngestOptions::default())
}

/// The error of corpus file `name`, which must not load.
fn error(name: &str) -> IngestError {
    match parse_bytes(name, &bytes(name)) {
        Ok(done) => panic!("{name} loaded: {:#?}", done.report.summary_lines()),
        Err(error) => error,
    }
}

/// The report and dataset of corpus file `name`, which must load and keep
/// the promises of a dataset.
fn load(name: &str) -> (DataReport, Dataset) {
    let done = parse_bytes(name, &bytes(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
    check_dataset(name, &done.dataset);
    (done.report, done.dataset)
}

/// What every loaded dataset must be: two rows or more, time finite and
/// strictly increasing, every channel as long as the time and finite.
fn check_dataset(name: &str, dataset: &Dataset) {
    assert!(dataset.len() >= 2, "{name}: {} rows", dataset.len());
    assert!(
        dataset.time_secs.windows(2).all(|pair| pair[0] < pair[1]),
        "{name}: time is not strictly increasing: {:?}",
        dataset.time_secs
    );
    for channel in &dataset.channels {
        assert_eq!(channel.values.len(), dataset.len(), "{name}");
        assert!(
            channel.values.iter().all(|v| v.is_finite()),
            "{name}: channel `{}` is not finite: {:?}",
            channel.name,
            channel.values
        );
    }
}

/// Asserts that one of the report's summary lines is `line`.
fn assert_line(report: &DataReport, line: &str) {
    let lines = report.summary_lines();
    assert!(
        lines.iter().any(|shown| shown == line),
        "no line {line:?} in\n{}",
        lines.join("\n")
    );
}

/// Every corpus file with the test that covers it, so that a file added
/// without a test (or a test of a file that is gone) fails here.
const COVERED: [&str; 26] = [
    "binary.bin",
    "blank_lines.csv",
    "duplicate_header.csv",
    "duplicate_timestamps.csv",
    "empty.csv",
    "empty_column.csv",
    "header_only.csv",
    "huge_values.csv",
    "invalid_utf8.csv",
    "long_line.csv",
    "mixed_delimiters.csv",
    "mixed_offsets.csv",
    "mixed_time_formats.csv",
    "nan_inf.csv",
    "one_row.csv",
    "only_commas.csv",
    "quoted_newlines.csv",
    "short_lines.csv",
    "text_in_numeric.csv",
    "time_mostly_unreadable.csv",
    "unclosed_quote.csv",
    "unsorted.csv",
    "utf16be_bom.csv",
    "utf16le_bom.csv",
    "windows_over_cap.csv",
    "README.md",
];

#[test]
fn every_corpus_file_is_tested_and_listed_in_the_readme() {
    let mut found: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus folder exists")
        .map(|entry| entry.expect("a readable entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut covered: Vec<String> = COVERED.iter().map(|&name| name.to_owned()).collect();
    covered.sort();
    assert_eq!(found, covered);

    let readme = String::from_utf8(bytes("README.md")).expect("the README is UTF-8");
    for name in COVERED.iter().filter(|&&name| name != "README.md") {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
}

#[test]
fn no_file_panics_any_reader() {
    let options = IngestOptions::default();
    for name in COVERED {
        let bytes = bytes(name);
        if let Ok(done) = parse_bytes(name, &bytes) {
            check_dataset(name, &done.dataset);
            let setup = Setup::suggest(&done.dataset);
            assert!(!setup.targets.is_empty(), "{name}");
        }
        let fleet = ingest::parse_fleet(name, &bytes, &FleetColumns::default(), &options);
        if let Err(error) = fleet {
            assert!(!error.to_string().is_empty(), "{name}");
        }
        if let Ok(values) = ingest::parse_rul_values(&bytes, &options) {
            assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0), "{name}");
        }
    }
}

#[test]
fn empty_files_say_they_are_empty() {
    for name in ["empty.csv", "blank_lines.csv"] {
        let error = error(name);
        assert_eq!(error, IngestError::Empty, "{name}");
        assert_eq!(
            error.to_string(),
            "the file is empty: there is nothing to read"
        );
    }
}

#[test]
fn a_file_of_only_commas_holds_no_values() {
    let error = error("only_commas.csv");
    assert_eq!(error, IngestError::NoValues { line: 1 });
    assert_eq!(
        error.to_string(),
        "the file holds no values: every line is only delimiters and blanks (the first at line 1)"
    );
}

#[test]
fn a_header_alone_or_one_row_is_too_little() {
    assert_eq!(
        error("header_only.csv").to_string(),
        "the file has only a header line (line 1) and no data rows"
    );
    assert_eq!(
        error("one_row.csv").to_string(),
        "the file has only 1 data row(s); at least 2 are needed for a time series"
    );
}

#[test]
fn binary_bytes_are_refused_at_the_line_of_the_first_nul() {
    let bytes = bytes("binary.bin");
    let nul = bytes
        .iter()
        .position(|&b| b == 0)
        .expect("the file holds a NUL");
    let line = bytes[..nul].split(|&b| b == b'\n').count();

    let error = error("binary.bin");
    assert_eq!(error, IngestError::BinaryData { line });
    assert_eq!(
        error.to_string(),
        format!(
            "line {line}: the file holds a NUL byte, so it looks like a binary file \
             (or UTF-16 text), not a text table"
        )
    );
}

#[test]
fn latin1_text_names_the_line_and_byte() {
    let error = error("invalid_utf8.csv");
    assert_eq!(error, IngestError::NotText { line: 5, byte: 89 });
    assert!(
        error
            .to_string()
            .starts_with("line 5: the file is not UTF-8 text (byte 89 is invalid)"),
        "{error}"
    );
}

#[test]
fn utf16_files_are_named_as_such() {
    for (name, order) in [
        ("utf16le_bom.csv", "little-endian"),
        ("utf16be_bom.csv", "big-endian"),
    ] {
        assert_eq!(
            error(name).to_string(),
            format!(
                "the file is UTF-16 text ({order}; it starts with a byte-order mark), not UTF-8; \
                 save it as UTF-8 (\"CSV UTF-8\" in spreadsheet programs)"
            ),
            "{name}"
        );
    }
}

#[test]
fn a_line_with_another_delimiter_is_named() {
    let error = error("mixed_delimiters.csv");
    assert_eq!(
        error.to_string(),
        "line 6: this line is separated by `;` but line 1 by `,`; use one delimiter throughout \
         the file"
    );
}

#[test]
fn a_line_with_extra_fields_is_named() {
    assert_eq!(
        error("long_line.csv").to_string(),
        "line 5: 5 field(s) where line 1 has 3; is the file cut off, or does a text cell hold \
         an unquoted delimiter?"
    );
}

#[test]
fn short_lines_are_missing_cells_filled_in() {
    let (report, dataset) = load("short_lines.csv");
    assert_eq!(report.bad_cells.total, 4);
    assert_eq!(report.bad_cells.first[0].kind, BadCellKind::Missing);
    assert_line(
        &report,
        "4 bad cell(s); the first at line 4, column `flow`: missing",
    );
    assert_line(&report, "→ interpolated 4 bad cell(s) linearly along time");
    // Line 6 (10:00 → row 4) lost `load` and `flow`: both lie on the line
    // between their neighbours.
    let load = &dataset.channels[1].values;
    assert!((load[4] - 56.0).abs() < 1e-4, "{load:?}");
}

#[test]
fn an_unclosed_quote_is_named_instead_of_swallowing_the_file() {
    let error = error("unclosed_quote.csv");
    assert_eq!(error, IngestError::UnclosedQuote { line: 3 });
    assert_eq!(
        error.to_string(),
        "line 3: a quote (\") opens a field that is never closed, so every line after it would \
         be read as one cell; close the quote or remove it"
    );
}

#[test]
fn quoted_newlines_stay_inside_their_cell() {
    let (report, dataset) = load("quoted_newlines.csv");
    assert_eq!(report.rows, 5);
    assert_eq!(dataset.channels[0].values, [20.1, 20.9, 21.7, 22.4, 23.0]);
    assert_line(&report, "→ dropped text column `note`");
    assert_line(&report, "dropped column(s): `note` (text, not numbers)");
    assert!(report.bad_cells.first.is_empty());
}

#[test]
fn text_in_a_numeric_column_is_interpolated_and_reported() {
    let (report, dataset) = load("text_in_numeric.csv");
    assert_line(
        &report,
        "3 bad cell(s); the first at line 4, column `temp`: text `n/a`",
    );
    assert_line(&report, "→ interpolated 3 bad cell(s) linearly along time");
    let raws: Vec<&str> = report
        .bad_cells
        .first
        .iter()
        .map(|c| c.raw.as_str())
        .collect();
    assert_eq!(raws, ["n/a", "error", "--"]);
    assert!((dataset.channels[0].values[2] - 21.0).abs() < 1e-4);
}

#[test]
fn nan_and_infinity_are_bad_cells() {
    let (report, dataset) = load("nan_inf.csv");
    let kinds: Vec<BadCellKind> = report.bad_cells.first.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            BadCellKind::NaN,
            BadCellKind::Infinite,
            BadCellKind::Infinite,
            BadCellKind::Infinite,
            BadCellKind::NaN
        ]
    );
    assert_line(
        &report,
        "5 bad cell(s); the first at line 3, column `temp`: NaN `NaN`",
    );
    assert!((dataset.channels[0].values[1] - 20.5).abs() < 1e-4);
}

#[test]
fn values_at_the_ends_of_f32_interpolate_without_overflow() {
    let (report, dataset) = load("huge_values.csv");
    assert_line(
        &report,
        "→ filled 1 short gap(s) in time with 3 interpolated row(s)",
    );
    let temp = &dataset.channels[0].values;
    assert_eq!(temp.len(), 8);
    // Row 1 lies halfway between -3e38 and 3e38; rows 3 to 5 fill the gap
    // from 3e38 down to -3e38.
    assert!(temp[1].abs() < 1e32, "{temp:?}");
    assert!((temp[4]).abs() < 1e32, "{temp:?}");
    assert!((temp[3] / 1.5e38 - 1.0).abs() < 1e-3, "{temp:?}");
}

#[test]
fn repeated_timestamps_keep_the_first_row() {
    let (report, dataset) = load("duplicate_timestamps.csv");
    assert_eq!(report.duplicates.count, 3);
    assert_eq!(report.duplicates.first_lines, [5, 8, 9]);
    assert_line(
        &report,
        "→ kept the first of each repeated timestamp and dropped 3 duplicate row(s) (first at \
         line 5)",
    );
    assert_eq!(dataset.len(), 7);
    // 02:00 is on lines 4 (22.0) and 5 (99.0): the first stays.
    assert!((dataset.channels[0].values[2] - 22.0).abs() < 1e-6);
}

#[test]
fn unsorted_rows_are_sorted_and_reported() {
    let (report, dataset) = load("unsorted.csv");
    assert_eq!(report.backwards.first_lines, [6, 10]);
    assert_line(
        &report,
        "→ sorted the rows by time: it went backwards 2 time(s) (first at line 6)",
    );
    let expected: Vec<f32> = (0..10).map(|h| 20.0 + h as f32).collect();
    assert_eq!(dataset.channels[0].values, expected);
}

#[test]
fn a_few_times_in_another_format_are_dropped_by_line() {
    let (report, dataset) = load("mixed_time_formats.csv");
    assert_eq!(report.time_kind, TimeKind::DateTime);
    assert_line(
        &report,
        "1 bad cell(s); the first at line 13, column `time`: text `01/01/2024 11:00`",
    );
    assert_line(
        &report,
        "→ dropped 1 row(s) whose `time` could not be read (first at line 13)",
    );
    assert_line(
        &report,
        "→ filled 1 short gap(s) in time with 1 interpolated row(s)",
    );
    assert_eq!(dataset.len(), 20);
    assert_eq!(dataset.step_secs(), Some(3_600.0));
}

#[test]
fn a_time_column_in_too_many_formats_is_named_not_silently_dropped() {
    let (report, dataset) = load("time_mostly_unreadable.csv");
    assert_eq!(report.time_kind, TimeKind::RowIndex);
    assert!((dataset.time_secs[9] - 9.0).abs() < f64::EPSILON);
    assert_line(
        &report,
        "→ did not use `time` as the time: only 5 of its 10 cells read as a date-time (the first \
         that does not: line 3, `01/01/2024 01:00`); the row number is the time instead",
    );
}

#[test]
fn times_with_and_without_offsets_are_flagged() {
    let (report, dataset) = load("mixed_offsets.csv");
    assert_line(
        &report,
        "→ `time` mixes times without a UTC offset (from line 8), read as UTC, with times that \
         name one (+01:00 from line 2, +02:00 from line 4, Z from line 6, -05:00 from line 9); \
         check the times without an offset",
    );
    // In UTC the rows are one hour apart, from 2024-03-30T23:00Z.
    assert_eq!(report.time_start, "2024-03-30T23:00:00Z");
    let steps: Vec<f64> = dataset.time_secs.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(steps, [3_600.0; 7]);
}

#[test]
fn explicit_offsets_alone_are_not_a_warning() {
    let text = "time,v\n2024-01-01T00:00:00Z,1\n2024-01-01T02:00:00+01:00,2\n\
                2024-01-01T00:00:00-02:00,3\n";
    let done = parse_bytes("offsets.csv", text.as_bytes()).expect("loads");
    assert!(done.report.is_clean(), "{:?}", done.report.actions);
    assert_eq!(done.dataset.step_secs(), Some(3_600.0));
}

#[test]
fn an_empty_column_is_dropped_by_name() {
    let (report, dataset) = load("empty_column.csv");
    assert_line(&report, "→ dropped empty column `spare`");
    assert_line(&report, "dropped column(s): `spare` (empty)");
    let names: Vec<&str> = dataset.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["temp", "load"]);
}

#[test]
fn repeated_header_names_are_renamed_and_reported() {
    let (report, _) = load("duplicate_header.csv");
    assert_eq!(report.channel_names, ["temp", "temp_2", "load", "temp_3"]);
    assert_line(
        &report,
        "→ renamed 2 column(s) whose header name repeats an earlier one: column 3 `temp` → \
         `temp_2`, column 5 `temp` → `temp_3`",
    );
}

/// A table with `columns` sensor columns named by `name` and 20 hourly rows.
fn wide_table(columns: usize, name: impl Fn(usize) -> String) -> String {
    let mut text = String::from("time");
    for column in 0..columns {
        text.push(',');
        text.push_str(&name(column));
    }
    text.push('\n');
    for hour in 0..20 {
        let _ = write!(text, "2024-01-01 {hour:02}:00:00");
        for column in 0..columns {
            let _ = write!(text, ",{}", (hour * (column % 7 + 1)) % 13);
        }
        text.push('\n');
    }
    text
}

#[test]
fn ten_thousand_columns_load() {
    let text = wide_table(10_000, |column| format!("s{column}"));
    let (report, dataset) = {
        let done = parse_bytes("wide.csv", text.as_bytes()).expect("loads");
        (done.report, done.dataset)
    };
    check_dataset("wide.csv", &dataset);
    assert_eq!(report.columns.total, 10_001);
    assert_eq!(report.columns.kept, 10_000);
    assert!(report.is_clean(), "{:?}", report.actions);

    // The suggestion stays small: wide files feed only the target.
    let setup = Setup::suggest(&dataset);
    assert_eq!(setup.targets, ["s9999"]);
    assert!(setup.extra_inputs.is_empty());
}

#[test]
fn ten_thousand_equal_header_names_are_renamed_in_linear_time() {
    let text = wide_table(10_000, |_| "x".to_owned());
    let start = Instant::now();
    let done = parse_bytes("same-names.csv", text.as_bytes()).expect("loads");
    // Renaming used to try every earlier suffix against every earlier name
    // (cubic): minutes for this header. Now it is well under a second.
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );

    let names = &done.report.channel_names;
    assert_eq!(names.len(), 10_000);
    assert_eq!(names[0], "x");
    assert_eq!(names[9_999], "x_10000");
    assert!(
        done.report.actions[0].starts_with(
            "renamed 9999 column(s) whose header name repeats an earlier one: column 3 `x` → `x_2`"
        ),
        "{}",
        done.report.actions[0]
    );
    assert!(done.report.actions[0].ends_with(", and 9989 more"));
}

#[test]
fn a_megabyte_cell_is_a_bad_cell_with_a_short_sample() {
    let long = "overflow ".repeat(120_000);
    let text = format!(
        "time,temp\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,{long}\n2024-01-01 02:00:00,3\n"
    );
    let done = parse_bytes("long-cell.csv", text.as_bytes()).expect("loads");
    check_dataset("long-cell.csv", &done.dataset);
    let cell = &done.report.bad_cells.first[0];
    assert_eq!((cell.line, cell.kind), (3, BadCellKind::Text));
    assert_eq!(cell.raw.chars().count(), 41, "{}", cell.raw);
    assert!(cell.raw.starts_with("overflow overflow") && cell.raw.ends_with('…'));
    assert!(
        done.report
            .summary_lines()
            .iter()
            .all(|line| line.len() < 200)
    );
}

#[test]
fn a_megabyte_line_of_fields_is_a_ragged_line() {
    let fields = vec!["1"; 500_000].join(",");
    let text = format!("time,temp,load\n2024-01-01 00:00:00,1,2\n{fields}\n");
    let error = parse_bytes("long-line.csv", text.as_bytes()).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "line 3: 500000 field(s) where line 1 has 3; is the file cut off, or does a text cell \
         hold an unquoted delimiter?"
    );
}

#[test]
fn a_rul_file_of_one_unit_reads() {
    let options = IngestOptions::default();
    assert_eq!(
        ingest::parse_rul_values(b"112\n", &options).expect("one value"),
        [112.0]
    );
    assert_eq!(
        ingest::parse_rul_values(b"RUL\n", &options)
            .expect_err("a header alone")
            .to_string(),
        "the file has only a header line (line 1) and no data rows"
    );
}

#[test]
fn windows_of_a_part_that_looks_back_stay_under_the_cap() {
    // Found by fuzzing (target `ingest`, the preprocessing after parse): the
    // stride was chosen from the part's length, but validation and test
    // windows may look back into the part before, so there were more of
    // them than the cap. Here 67 validation windows against a cap of 64.
    let (_, dataset) = load("windows_over_cap.csv");
    let split = Split::chronological(dataset.len(), SplitFractions::default()).expect("valid");
    assert_eq!(split.validation, 315..383);
    let spec = WindowSpec {
        lookback: 4,
        horizon: 2,
        stride: 1,
    };
    let series = [dataset.channels[0].values.clone()];
    let count = |stride| {
        let spec = WindowSpec { stride, ..spec };
        prep::make_windows(&series, &[0], &[0], split.validation.clone(), spec)
            .expect("windows")
            .len()
    };

    assert_eq!(
        count(prep::stride_for(split.validation.len(), spec, 64)),
        67
    );
    assert_eq!(
        count(prep::stride_for_part(split.validation.clone(), spec, 64)),
        34
    );
}
