//! Ingest through the public API: the fixture files under `tests/data/ingest`
//! and every dataset the page ships (verbatim copies of `../shared/data`).

// Native only: these tests read files and block on futures.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use twinlab::ingest::{self, DataReport, DropReason, IngestError, IngestOptions, TimeKind};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn parse_file(path: &Path) -> Result<(DataReport, ingest::Dataset), IngestError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = IngestOptions {
        max_bytes: usize::MAX,
        ..IngestOptions::default()
    };
    ingest::parse(&name, &read(path), &options).map(|done| (done.report, done.dataset))
}

fn fixture(name: &str) -> Result<(DataReport, ingest::Dataset), IngestError> {
    parse_file(&root().join("tests/data/ingest").join(name))
}

fn shipped(path: &str) -> (DataReport, ingest::Dataset) {
    parse_file(&root().join("www/data").join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn etth2_is_hourly_and_clean() {
    let (report, dataset) = shipped("ett/ETTh2.csv");
    assert_eq!(report.rows_read, 17_420);
    assert_eq!(report.rows, 17_420);
    assert_eq!(report.columns.total, 8);
    assert_eq!(
        report.channel_names,
        ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    );
    assert_eq!(report.time_kind, TimeKind::DateTime);
    assert_eq!(report.median_step_secs, Some(3_600.0));
    assert_eq!(report.time_start, "2016-07-01T00:00:00Z");
    assert!(report.is_clean(), "{:?}", report.actions);
    assert_eq!(dataset.len(), 17_420);
}

#[test]
fn nab_machine_temperature_keeps_the_first_of_each_repeated_time() {
    let (report, dataset) = shipped("nab/machine_temperature_system_failure.csv");
    assert_eq!(report.rows_read, 22_695);
    assert_eq!(report.duplicates.count, 12);
    assert_eq!(report.rows, 22_683);
    assert_eq!(report.median_step_secs, Some(300.0));
    assert_eq!(report.channel_names, ["value"]);
    assert!(dataset.time_secs.windows(2).all(|pair| pair[1] > pair[0]));
}

#[test]
fn cmapss_files_read_as_space_separated_tables() {
    for (file, rows) in [("train_FD001.txt", 20_631), ("test_FD001.txt", 13_096)] {
        let (report, dataset) = shipped(&format!("cmapss/{file}"));
        assert_eq!(report.rows_read, rows, "{file}");
        assert_eq!(dataset.len(), rows, "{file}");
        assert_eq!(report.columns.total, 26, "{file}");
        assert_eq!(report.delimiter, "whitespace", "{file}");
        assert!(!report.has_header, "{file}");
        // Settings 3 and six sensors never change in FD001.
        assert_eq!(
            report.constant_columns.len(),
            7,
            "{file}: {:?}",
            report.constant_columns
        );
    }

    let (report, _) = shipped("cmapss/RUL_FD001.txt");
    assert_eq!((report.rows, report.columns.total), (100, 1));
}

#[test]
fn the_shipped_copies_are_the_shared_files() {
    // Where the shared data folder is present (it is on the development
    // machines), the copies in www/data must be byte for byte the same.
    let shared = root().join("../shared/data");
    if !shared.is_dir() {
        eprintln!("{} is absent: nothing to compare", shared.display());
        return;
    }
    for path in [
        "ett/ETTh2.csv",
        "nab/machine_temperature_system_failure.csv",
        "nab/combined_windows.json",
        "cmapss/train_FD001.txt",
        "cmapss/test_FD001.txt",
        "cmapss/RUL_FD001.txt",
    ] {
        assert_eq!(
            read(&shared.join(path)),
            read(&root().join("www/data").join(path)),
            "{path}"
        );
    }
}

#[test]
fn bad_cells_are_named_and_interpolated() {
    let (report, dataset) = fixture("bad_cells.csv").unwrap();
    assert_eq!(report.bad_cells.total, 5);
    assert_eq!(report.bad_cells.interpolated, 5);
    let first = &report.bad_cells.first[0];
    assert_eq!((first.line, first.column.as_str()), (3, "a"));
    let kinds: Vec<_> = report
        .bad_cells
        .first
        .iter()
        .map(|c| c.kind.describe())
        .collect();
    assert_eq!(kinds, ["empty", "NaN", "infinite", "infinite", "text"]);
    assert!(
        dataset
            .channels
            .iter()
            .all(|c| c.values.iter().all(|v| v.is_finite()))
    );
    // `a` is 1 at 00:00 and 4 at 00:03: the two cells between are 2 and 3.
    assert_eq!(&dataset.channels[0].values[..4], &[1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn constant_and_text_columns_are_dropped_with_their_reason() {
    let (report, _) = fixture("constant.csv").unwrap();
    assert_eq!(report.channel_names, ["speed"]);
    let reasons: Vec<_> = report
        .dropped_columns
        .iter()
        .map(|c| (c.name.as_str(), c.reason))
        .collect();
    assert!(
        reasons.contains(&("mode", DropReason::Constant)),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("status", DropReason::Text)),
        "{reasons:?}"
    );
}

#[test]
fn duplicate_and_backwards_times_are_sorted_out() {
    let (report, dataset) = fixture("duplicates_backwards.csv").unwrap();
    assert_eq!(report.duplicates.count, 2);
    assert_eq!(report.duplicates.first_lines[0], 5);
    assert_eq!(report.backwards.count, 2);
    assert_eq!(
        dataset.channels[0].values,
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    );
}

#[test]
fn every_time_format_is_read() {
    let cases = [
        ("epoch_seconds.csv", TimeKind::EpochSeconds, 60.0),
        ("epoch_millis.csv", TimeKind::EpochMillis, 0.5),
        ("iso_t_z.csv", TimeKind::DateTime, 60.0),
        ("semicolon_decimal_comma.csv", TimeKind::DateTime, 600.0),
        ("tab.tsv", TimeKind::DateTime, 86_400.0),
        ("no_header.csv", TimeKind::RowIndex, 1.0),
    ];
    for (file, kind, step) in cases {
        let (report, _) = fixture(file).unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_eq!(report.time_kind, kind, "{file}");
        assert_eq!(report.median_step_secs, Some(step), "{file}");
    }

    // Offsets are applied: all four rows are one minute apart in UTC.
    let (_, dataset) = fixture("iso_t_z.csv").unwrap();
    let steps: Vec<f64> = dataset.time_secs.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(steps, [60.0, 60.0, 60.0]);

    let (report, dataset) = fixture("semicolon_decimal_comma.csv").unwrap();
    assert!(report.decimal_comma);
    assert!((dataset.channels[0].values[0] - 21.5).abs() < 1e-6);
}

#[test]
fn short_gaps_are_filled_and_long_ones_kept_as_breaks() {
    let (report, dataset) = fixture("gaps.csv").unwrap();
    assert_eq!(report.gaps.count, 2);
    assert_eq!(report.gaps.interpolated, 1);
    assert_eq!(report.gaps.left_as_breaks, 1);
    assert_eq!(report.gaps.rows_inserted, 2);
    assert_eq!(dataset.len(), 13);
    assert_eq!(
        &dataset.channels[0].values[..6],
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
}

#[test]
fn quoted_newlines_stay_in_their_cell_and_lines_stay_right() {
    let (report, _) = fixture("quoted_newline.csv").unwrap();
    assert_eq!(report.rows_read, 4);
    let bad = &report.bad_cells.first[0];
    // The row with `oops` starts on line 5 because the quoted cell above
    // spans two lines.
    assert_eq!((bad.line, bad.raw.as_str()), (5, "oops"));
}

#[test]
fn unusable_files_say_what_is_wrong_and_where() {
    let err = fixture("header_only.csv").unwrap_err();
    assert!(
        err.to_string().contains("only a header line (line 1)"),
        "{err}"
    );

    let err = fixture("ragged.csv").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("line 4: 5 field(s) where line 1 has 3"),
        "{err}"
    );

    let err = parse_file(&root().join("www/data/ett/LICENSE")).unwrap_err();
    assert!(err.to_string().contains("line"), "{err}");
}
