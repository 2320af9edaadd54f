//! Fleet files: many assets in one table, one row per asset and time step.
//!
//! Run-to-failure data such as NASA's C-MAPSS has a unit (asset) column, a
//! cycle column and sensor columns; the rows of one unit are its life. Such a
//! file must not go through [`parse`](super::parse), which would sort every
//! row by time and drop the repeated cycles of different units. [`parse_fleet`]
//! reads the same delimited text, finds the unit and cycle columns, and keeps
//! each unit's rows apart, in cycle order.
//!
//! A separate file of true remaining useful life (one number per unit, in
//! unit order, as C-MAPSS's `RUL_FD001.txt`) is read by [`parse_rul_values`].

use serde::{Deserialize, Serialize};

use super::read::{self, RawTable};
use super::repair;
use super::report::{BadCell, BadCells, LineList, REPORT_LIST_LIMIT};
use super::{IngestError, IngestOptions, sniff};

/// Column names that identify the asset, compared without case.
const UNIT_NAMES: [&str; 12] = [
    "unit",
    "unit_id",
    "unit_number",
    "unitnumber",
    "id",
    "asset",
    "asset_id",
    "engine",
    "engine_id",
    "machine",
    "machine_id",
    "device_id",
];

/// Column names that count time steps within an asset's life.
const CYCLE_NAMES: [&str; 9] = [
    "cycle",
    "cycles",
    "time",
    "time_cycles",
    "time_in_cycles",
    "step",
    "t",
    "timestep",
    "age",
];

/// Column names of a remaining-useful-life label.
const RUL_NAMES: [&str; 3] = ["rul", "remaining_useful_life", "remaining_life"];

/// Which columns of a fleet file have which role; `None` finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetColumns {
    /// The asset id column. Found by name (`unit`, `id`, `asset`, `engine`,
    /// …) or, in a file without a header, as the first column.
    pub unit: Option<String>,
    /// The time-step column. Found by name (`cycle`, `time`, `step`, …) or,
    /// without a header, as the second column.
    pub cycle: Option<String>,
    /// A remaining-useful-life column, if the file has one (`rul`, …).
    pub rul: Option<String>,
}

/// One asset's rows, in cycle order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// The asset id as written in the file.
    pub id: i64,
    /// Cycle of each row, strictly increasing.
    pub cycles: Vec<f64>,
    /// File line of each row (1-based, the header counted).
    pub lines: Vec<usize>,
    /// Sensor values, `[channel][row]`, bad cells interpolated within the unit.
    pub channels: Vec<Vec<f32>>,
    /// The file's RUL column for each row, when it has one.
    pub rul: Option<Vec<f32>>,
}

impl Unit {
    /// Number of rows (cycles) of this unit.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cycles.len()
    }

    /// Whether the unit has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cycles.is_empty()
    }
}

/// A fleet: units that share their sensor columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Display name (file name or demo name).
    pub name: String,
    /// The unit id column.
    pub unit_column: String,
    /// The cycle column.
    pub cycle_column: String,
    /// The RUL column, when the file has one.
    pub rul_column: Option<String>,
    /// Sensor (and setting) channel names; every unit has these channels.
    pub channel_names: Vec<String>,
    /// Channels whose every reading in the file is the same.
    pub constant_channels: Vec<String>,
    /// Units in the order they first appear in the file.
    pub units: Vec<Unit>,
}

impl Fleet {
    /// Position of channel `name`.
    #[must_use]
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channel_names
            .iter()
            .position(|channel| channel == name)
    }

    /// Rows over all units.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.units.iter().map(Unit::len).sum()
    }
}

/// What [`parse_fleet`] found and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// Data rows read (header excluded).
    pub rows_read: usize,
    /// Rows kept over all units.
    pub rows: usize,
    /// Columns in the file.
    pub columns: usize,
    /// The delimiter, as in [`DataReport::delimiter`](super::DataReport).
    pub delimiter: String,
    /// Whether the first line was a header.
    pub has_header: bool,
    /// The unit, cycle and RUL columns used.
    pub roles: FleetColumns,
    /// Number of units.
    pub units: usize,
    /// Fewest, median and most cycles of a unit.
    pub cycles_per_unit: (usize, usize, usize),
    /// Sensor channels kept (constant ones included, see below).
    pub channel_names: Vec<String>,
    /// Channels that never change; the RUL pipeline does not use them.
    pub constant_channels: Vec<String>,
    /// Columns that held text and were left out.
    pub text_columns: Vec<String>,
    /// Bad sensor cells, interpolated within their unit.
    pub bad_cells: BadCells,
    /// Rows dropped because their unit or cycle cell was unreadable.
    pub unreadable_rows: LineList,
    /// Rows dropped because their unit already had that cycle.
    pub duplicate_cycles: LineList,
    /// Units whose rows were not in cycle order in the file (they were sorted).
    pub unsorted_units: Vec<i64>,
    /// Units whose rows were not together in the file (they were gathered).
    pub split_units: Vec<i64>,
    /// What was done about each issue.
    pub actions: Vec<String>,
}

impl FleetReport {
    /// The report as lines of plain text, most important first.
    #[must_use]
    pub fn summary_lines(&self) -> Vec<String> {
        let header = if self.has_header {
            "with a header"
        } else {
            "no header"
        };
        let (fewest, median, most) = self.cycles_per_unit;
        let mut lines = vec![
            format!(
                "{} rows × {} columns ({} delimiter, {header})",
                self.rows_read, self.columns, self.delimiter
            ),
            format!(
                "fleet: {} unit(s) by `{}`, time step `{}`; {fewest}–{most} cycles per unit \
                 (median {median})",
                self.units,
                self.roles.unit.as_deref().unwrap_or("?"),
                self.roles.cycle.as_deref().unwrap_or("?"),
            ),
            format!(
                "{} sensor channel(s): {}",
                self.channel_names.len(),
                self.channel_names.join(", ")
            ),
        ];
        if let Some(rul) = &self.roles.rul {
            lines.push(format!("remaining useful life given in column `{rul}`"));
        }
        if !self.constant_channels.is_empty() {
            lines.push(format!(
                "constant channel(s), not used: {}",
                self.constant_channels.join(", ")
            ));
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
        lines.extend(self.actions.iter().map(|action| format!("→ {action}")));
        lines.push(format!(
            "{} rows ready in {} unit(s)",
            self.rows, self.units
        ));
        lines
    }
}

/// A fleet file read into units, with its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestedFleet {
    /// The units.
    pub fleet: Fleet,
    /// What was found and done.
    pub report: FleetReport,
}

/// Reads a fleet file: one row per unit and cycle.
///
/// `columns` names the unit, cycle and RUL columns where the file's own names
/// are not recognised. Rows of a unit are gathered and sorted by cycle; a
/// repeated cycle keeps its first row; bad sensor cells are interpolated
/// along the unit's cycles. Never panics; a file that has no usable unit or
/// cycle column is an [`IngestError`] that says which.
pub fn parse_fleet(
    name: &str,
    bytes: &[u8],
    columns: &FleetColumns,
    options: &IngestOptions,
) -> Result<IngestedFleet, IngestError> {
    if bytes.len() > options.max_bytes {
        return Err(IngestError::TooLarge {
            size: bytes.len(),
            limit: options.max_bytes,
        });
    }
    let text = sniff::decode(bytes)?;
    let table = read::read_table(text)?;
    let rows_read = table.row_count();
    if rows_read < 2 {
        return Err(IngestError::TooFewRows { rows: rows_read });
    }

    let Roles { unit, cycle, rul } = find_roles(&table, columns)?;

    let mut actions: Vec<String> = table.renamed_action().into_iter().collect();
    let mut text_columns = Vec::new();
    let sensors: Vec<usize> = (0..table.names.len())
        .filter(|&c| c != unit && c != cycle && Some(c) != rul)
        .filter(|&c| {
            let data = &table.columns[c];
            let usable = data.bad < data.values.len() && data.text * 2 < data.values.len();
            if !usable {
                text_columns.push(table.names[c].clone());
            }
            usable
        })
        .collect();
    if !text_columns.is_empty() {
        actions.push(format!(
            "left out {} column(s) without numbers: {}",
            text_columns.len(),
            quote_all(&text_columns)
        ));
    }
    if sensors.is_empty() {
        return Err(IngestError::NoNumericColumn {
            columns: table.names.len(),
        });
    }

    let grouped = group_rows(&table, unit, cycle)?;
    note_row_actions(&grouped, &table.names[cycle], &mut actions);

    let roles = Roles { unit, cycle, rul };
    let (units, bad) = build_units(&table, roles, &sensors, grouped.units, &mut actions);
    if bad.total > 0 {
        actions.push(format!(
            "interpolated {} bad cell(s) along the cycles of their unit",
            bad.total
        ));
    }

    let channel_names: Vec<String> = sensors.iter().map(|&c| table.names[c].clone()).collect();
    let constant_channels = constant_channels(&units, &channel_names);
    let cycles_per_unit = cycles_per_unit(&units);

    let fleet = Fleet {
        name: name.to_owned(),
        unit_column: table.names[unit].clone(),
        cycle_column: table.names[cycle].clone(),
        rul_column: rul.map(|c| table.names[c].clone()),
        channel_names: channel_names.clone(),
        constant_channels: constant_channels.clone(),
        units,
    };
    let report = FleetReport {
        rows_read,
        rows: fleet.rows(),
        columns: table.names.len(),
        delimiter: table.delimiter.describe(table.names.len()),
        has_header: table.has_header,
        roles: FleetColumns {
            unit: Some(fleet.unit_column.clone()),
            cycle: Some(fleet.cycle_column.clone()),
            rul: fleet.rul_column.clone(),
        },
        units: fleet.units.len(),
        cycles_per_unit,
        channel_names,
        constant_channels,
        text_columns,
        bad_cells: bad.finish(),
        unreadable_rows: grouped.unreadable,
        duplicate_cycles: grouped.duplicates,
        unsorted_units: grouped.unsorted,
        split_units: grouped.split,
        actions,
    };
    log::info!(
        "ingest: fleet `{name}`: {} units, {} rows, {} channels",
        report.units,
        report.rows,
        report.channel_names.len()
    );
    Ok(IngestedFleet { fleet, report })
}

/// Columns of the unit id, the cycle and the RUL label.
#[derive(Debug, Clone, Copy)]
struct Roles {
    unit: usize,
    cycle: usize,
    rul: Option<usize>,
}

fn find_roles(table: &RawTable, columns: &FleetColumns) -> Result<Roles, IngestError> {
    let unit = find_role(table, columns.unit.as_deref(), &UNIT_NAMES, 0, "unit")?;
    let cycle = find_role(table, columns.cycle.as_deref(), &CYCLE_NAMES, 1, "cycle")?;
    if unit == cycle {
        return Err(IngestError::FleetColumns {
            message: format!(
                "the unit and the cycle are both column `{}`; name them apart",
                table.names[unit]
            ),
        });
    }
    let rul = match columns.rul.as_deref() {
        Some(wanted) => Some(column_named(table, wanted, "RUL")?),
        None => table.names.iter().position(|n| is_named(n, &RUL_NAMES)),
    };

    Ok(Roles { unit, cycle, rul })
}

/// Each unit's cycles, lines, sensor values and RUL label, bad cells
/// interpolated along its cycles.
fn build_units(
    table: &RawTable,
    roles: Roles,
    sensors: &[usize],
    grouped: Vec<(i64, Vec<usize>)>,
    actions: &mut Vec<String>,
) -> (Vec<Unit>, BadCellLog) {
    // A unit without one readable value in a column gets the column's mean
    // over the whole file, the most neutral value known here.
    let column_means: Vec<f32> = sensors
        .iter()
        .map(|&c| {
            let good: Vec<f64> = table.columns[c]
                .values
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| f64::from(v))
                .collect();
            (good.iter().sum::<f64>() / good.len().max(1) as f64) as f32
        })
        .collect();
    let mut bad = BadCellLog::default();
    let mut units = Vec::with_capacity(grouped.len());
    for (id, rows) in grouped {
        let cycles: Vec<f64> = rows
            .iter()
            .map(|&r| f64::from(table.columns[roles.cycle].values[r]))
            .collect();
        let lines: Vec<usize> = rows.iter().map(|&r| table.lines[r]).collect();
        let mut channels = Vec::with_capacity(sensors.len());
        for (&column, &mean) in sensors.iter().zip(&column_means) {
            let mut values = repair::select(&table.columns[column].values, &rows);
            bad.note(table, column, &rows, &values);
            if repair::interpolate_bad(&cycles, &mut values).is_none() {
                values.fill(mean);
                actions.push(format!(
                    "unit {id}: column `{}` has no readable value; set to the column's mean {mean}",
                    table.names[column]
                ));
            }
            channels.push(values);
        }
        let rul_values = roles.rul.map(|c| {
            let mut values = repair::select(&table.columns[c].values, &rows);
            bad.note(table, c, &rows, &values);
            if repair::interpolate_bad(&cycles, &mut values).is_none() {
                values.fill(f32::NAN);
            }
            values
        });
        units.push(Unit {
            id,
            cycles,
            lines,
            channels,
            rul: rul_values,
        });
    }
    (units, bad)
}

/// The channels whose every value in every unit is the same.
fn constant_channels(units: &[Unit], names: &[String]) -> Vec<String> {
    (0..names.len())
        .filter(|&i| {
            let all: Vec<f32> = units
                .iter()
                .flat_map(|u| u.channels[i].iter().copied())
                .collect();
            repair::is_constant(&all)
        })
        .map(|i| names[i].clone())
        .collect()
}

/// Fewest, median and most rows of a unit.
fn cycles_per_unit(units: &[Unit]) -> (usize, usize, usize) {
    let mut lengths: Vec<usize> = units.iter().map(Unit::len).collect();
    lengths.sort_unstable();
    (
        lengths.first().copied().unwrap_or(0),
        lengths.get(lengths.len() / 2).copied().unwrap_or(0),
        lengths.last().copied().unwrap_or(0),
    )
}

/// Reads a file of true RUL values: one number per line (the first numeric
/// column when there are several), one line per unit in unit order.
pub fn parse_rul_values(bytes: &[u8], options: &IngestOptions) -> Result<Vec<f32>, IngestError> {
    if bytes.len() > options.max_bytes {
        return Err(IngestError::TooLarge {
            size: bytes.len(),
            limit: options.max_bytes,
        });
    }
    let text = sniff::decode(bytes)?;
    let table = read::read_table(text)?;
    let column = table
        .columns
        .iter()
        .position(|data| data.bad < data.values.len())
        .ok_or(IngestError::NoNumericColumn {
            columns: table.names.len(),
        })?;
    let data = &table.columns[column];
    if let Some((line, kind, raw)) = data.first_bad.first() {
        return Err(IngestError::FleetColumns {
            message: format!(
                "line {line}: the RUL value `{raw}` is {}; every line needs one number",
                kind.describe()
            ),
        });
    }
    if let Some(row) = data.values.iter().position(|v| *v < 0.0) {
        return Err(IngestError::FleetColumns {
            message: format!(
                "line {}: a remaining useful life cannot be negative ({})",
                table.lines[row], data.values[row]
            ),
        });
    }
    Ok(data.values.clone())
}

fn is_named(name: &str, names: &[&str]) -> bool {
    let lower = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    names.contains(&lower.as_str())
}

fn quote_all(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn column_named(table: &RawTable, wanted: &str, role: &str) -> Result<usize, IngestError> {
    table
        .names
        .iter()
        .position(|name| name == wanted)
        .ok_or_else(|| IngestError::FleetColumns {
            message: format!(
                "there is no column `{wanted}` for the {role}; the columns are {}",
                quote_all(&table.names)
            ),
        })
}

/// The column of a role: the one asked for, one with a known name, or (in a
/// file without a header) the column at `position`.
fn find_role(
    table: &RawTable,
    wanted: Option<&str>,
    names: &[&str],
    position: usize,
    role: &str,
) -> Result<usize, IngestError> {
    if let Some(wanted) = wanted {
        return column_named(table, wanted, role);
    }
    if let Some(found) = table.names.iter().position(|n| is_named(n, names)) {
        return Ok(found);
    }
    if !table.has_header && position < table.names.len() {
        return Ok(position);
    }
    Err(IngestError::FleetColumns {
        message: format!(
            "no {role} column: name one (for example `{}`) among {}",
            names[0],
            quote_all(&table.names)
        ),
    })
}

/// Row indices of each unit, in cycle order, and what was odd about them.
#[derive(Debug, Default)]
struct Grouped {
    units: Vec<(i64, Vec<usize>)>,
    unreadable: LineList,
    duplicates: LineList,
    unsorted: Vec<i64>,
    split: Vec<i64>,
}

fn group_rows(table: &RawTable, unit: usize, cycle: usize) -> Result<Grouped, IngestError> {
    let ids = &table.columns[unit].values;
    let cycles = &table.columns[cycle].values;
    let mut grouped = Grouped::default();
    let mut position: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let mut last_unit: Option<i64> = None;

    for row in 0..ids.len() {
        let (id, step) = (ids[row], cycles[row]);
        if !(id.is_finite() && step.is_finite()) {
            grouped.unreadable.push(table.lines[row]);
            continue;
        }
        if id.fract() != 0.0 {
            return Err(IngestError::FleetColumns {
                message: format!(
                    "line {}: the unit id `{id}` in column `{}` is not a whole number",
                    table.lines[row], table.names[unit]
                ),
            });
        }
        let id = id as i64;
        let index = *position.entry(id).or_insert_with(|| {
            grouped.units.push((id, Vec::new()));
            grouped.units.len() - 1
        });
        if last_unit != Some(id)
            && !grouped.units[index].1.is_empty()
            && !grouped.split.contains(&id)
        {
            grouped.split.push(id);
        }
        last_unit = Some(id);
        grouped.units[index].1.push(row);
    }
    if grouped.units.is_empty() {
        return Err(IngestError::FleetColumns {
            message: format!(
                "no row has a readable unit (`{}`) and cycle (`{}`)",
                table.names[unit], table.names[cycle]
            ),
        });
    }

    for (id, rows) in &mut grouped.units {
        let sorted = rows
            .windows(2)
            .all(|pair| cycles[pair[0]] < cycles[pair[1]]);
        if !sorted {
            if rows
                .windows(2)
                .any(|pair| cycles[pair[0]] > cycles[pair[1]])
            {
                grouped.unsorted.push(*id);
            }
            // Stable, so the first of repeated cycles stays first.
            rows.sort_by(|&a, &b| cycles[a].total_cmp(&cycles[b]));
            let mut kept: Vec<usize> = Vec::with_capacity(rows.len());
            for &row in rows.iter() {
                match kept.last() {
                    Some(&prev) if cycles[prev].total_cmp(&cycles[row]).is_eq() => {
                        grouped.duplicates.push(table.lines[row]);
                    }
                    _ => kept.push(row),
                }
            }
            *rows = kept;
        }
    }
    Ok(grouped)
}

fn note_row_actions(grouped: &Grouped, cycle_name: &str, actions: &mut Vec<String>) {
    if let Some(line) = grouped.unreadable.first_lines.first() {
        actions.push(format!(
            "dropped {} row(s) whose unit or cycle could not be read (first at line {line})",
            grouped.unreadable.count
        ));
    }
    if !grouped.split.is_empty() {
        actions.push(format!(
            "gathered the rows of {} unit(s) that were spread over the file",
            grouped.split.len()
        ));
    }
    if !grouped.unsorted.is_empty() {
        actions.push(format!(
            "sorted the rows of {} unit(s) by `{cycle_name}`",
            grouped.unsorted.len()
        ));
    }
    if let Some(line) = grouped.duplicates.first_lines.first() {
        actions.push(format!(
            "kept the first of each repeated cycle and dropped {} row(s) (first at line {line})",
            grouped.duplicates.count
        ));
    }
}

/// Bad sensor cells of the kept rows, in file order.
#[derive(Debug, Default)]
struct BadCellLog {
    total: usize,
    first: Vec<BadCell>,
}

impl BadCellLog {
    fn note(&mut self, table: &RawTable, column: usize, rows: &[usize], values: &[f32]) {
        let data = &table.columns[column];
        let bad_here = values.iter().filter(|v| !v.is_finite()).count();
        if bad_here == 0 {
            return;
        }
        self.total += bad_here;
        let unit_lines: Vec<usize> = rows.iter().map(|&r| table.lines[r]).collect();
        for (line, kind, raw) in &data.first_bad {
            if self.first.len() >= REPORT_LIST_LIMIT * 4 {
                break;
            }
            if unit_lines.contains(line) {
                self.first.push(BadCell {
                    line: *line,
                    column: table.names[column].clone(),
                    raw: raw.clone(),
                    kind: *kind,
                });
            }
        }
    }

    fn finish(mut self) -> BadCells {
        self.first.sort_by_key(|cell| cell.line);
        self.first.dedup();
        self.first.truncate(REPORT_LIST_LIMIT);
        BadCells {
            total: self.total,
            interpolated: self.total,
            first: self.first,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(text: &str) -> IngestedFleet {
        parse_fleet(
            "f.csv",
            text.as_bytes(),
            &FleetColumns::default(),
            &IngestOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn units_are_found_by_name_and_kept_apart() {
        let done = fleet(
            "unit,cycle,temp,vib\n1,1,10,0.1\n1,2,11,0.2\n2,1,20,0.3\n2,2,21,0.4\n2,3,22,0.5\n",
        );
        let units = &done.fleet.units;
        assert_eq!(units.len(), 2);
        assert_eq!((units[0].id, units[0].len()), (1, 2));
        assert_eq!(units[1].cycles, [1.0, 2.0, 3.0]);
        assert_eq!(units[1].channels[0], [20.0, 21.0, 22.0]);
        assert_eq!(done.fleet.channel_names, ["temp", "vib"]);
        assert!(done.report.actions.is_empty(), "{:?}", done.report.actions);
    }

    #[test]
    fn headerless_files_take_the_first_two_columns() {
        let done = fleet("1 1 5.0 7  \n1 2 5.5 7  \n2 1 6.0 7  \n2 2 6.5 7  \n");
        assert_eq!(done.fleet.unit_column, "col1");
        assert_eq!(done.fleet.cycle_column, "col2");
        assert_eq!(done.fleet.constant_channels, ["col4"]);
    }

    #[test]
    fn spread_unsorted_and_repeated_rows_are_repaired_and_reported() {
        let done = fleet("id,time,x\n1,2,2\n2,1,10\n1,1,1\n1,2,99\n2,2,,\n");
        let units = &done.fleet.units;
        assert_eq!(units[0].cycles, [1.0, 2.0]);
        assert_eq!(units[0].channels[0], [1.0, 2.0]);
        assert_eq!(done.report.duplicate_cycles.first_lines, [5]);
        assert_eq!(done.report.split_units, [1, 2]);
        assert_eq!(done.report.unsorted_units, [1]);
        assert_eq!(units[1].channels[0], [10.0, 10.0]);
        assert_eq!(done.report.bad_cells.total, 1);
        assert_eq!(done.report.bad_cells.first[0].line, 6);
    }

    #[test]
    fn a_rul_column_is_found_and_not_a_sensor() {
        let done = fleet("unit,cycle,s1,RUL\n1,1,3,1\n1,2,4,0\n");
        assert_eq!(done.fleet.rul_column.as_deref(), Some("RUL"));
        assert_eq!(done.fleet.channel_names, ["s1"]);
        assert_eq!(done.fleet.units[0].rul.as_deref(), Some(&[1.0, 0.0][..]));
    }

    #[test]
    fn missing_roles_and_fractional_ids_are_clear_errors() {
        let options = IngestOptions::default();
        let none = FleetColumns::default();
        let err = parse_fleet("f.csv", b"a,b\n1,2\n3,4\n", &none, &options).unwrap_err();
        assert!(err.to_string().contains("no unit column"), "{err}");

        let err =
            parse_fleet("f.csv", b"unit,cycle,x\n1.5,1,2\n2,1,3\n", &none, &options).unwrap_err();
        assert!(
            err.to_string().starts_with("line 2: the unit id `1.5`"),
            "{err}"
        );

        let named = FleetColumns {
            unit: Some("engine_no".into()),
            ..FleetColumns::default()
        };
        let err =
            parse_fleet("f.csv", b"unit,cycle,x\n1,1,2\n2,1,3\n", &named, &options).unwrap_err();
        assert!(
            err.to_string()
                .contains("no column `engine_no` for the unit"),
            "{err}"
        );
    }

    #[test]
    fn rul_files_are_one_number_per_line() {
        let options = IngestOptions::default();
        assert_eq!(
            parse_rul_values(b"112 \n98 \n69 \n", &options).unwrap(),
            [112.0, 98.0, 69.0]
        );
        let err = parse_rul_values(b"112\nabc\n69\n", &options).unwrap_err();
        assert!(
            err.to_string().starts_with("line 2: the RUL value `abc`"),
            "{err}"
        );
        let err = parse_rul_values(b"5\n-3\n", &options).unwrap_err();
        assert!(err.to_string().contains("cannot be negative"), "{err}");
    }
}
