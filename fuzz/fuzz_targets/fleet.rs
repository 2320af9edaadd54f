//! Fuzzes `ingest::parse_fleet` and `ingest::parse_rul_values` on the same
//! bytes.
//!
//! A fleet that loads must keep its promises: at least one unit, each unit's
//! cycles strictly increasing, every channel (and the RUL column) as long as
//! the cycles, sensor values finite. RUL values that load are finite and not
//! negative.

#![no_main]

use libfuzzer_sys::fuzz_target;
use twinlab::ingest::{self, FleetColumns, IngestOptions};

fuzz_target!(|bytes: &[u8]| {
    let options = IngestOptions::default();
    match ingest::parse_fleet("fuzz.txt", bytes, &FleetColumns::default(), &options) {
        Ok(done) => {
            let fleet = &done.fleet;
            assert!(!fleet.units.is_empty());
            assert_eq!(done.report.rows, fleet.rows());
            assert_eq!(done.report.units, fleet.units.len());
            for unit in &fleet.units {
                assert!(!unit.is_empty(), "unit {} has no rows", unit.id);
                assert!(
                    unit.cycles.windows(2).all(|pair| pair[0] < pair[1]),
                    "unit {}: cycles are not strictly increasing",
                    unit.id
                );
                assert_eq!(unit.lines.len(), unit.len());
                assert_eq!(unit.channels.len(), fleet.channel_names.len());
                for (name, values) in fleet.channel_names.iter().zip(&unit.channels) {
                    assert_eq!(values.len(), unit.len());
                    assert!(
                        values.iter().all(|v| v.is_finite()),
                        "unit {}: channel `{name}` holds a value that is not finite",
                        unit.id
                    );
                }
                if let Some(rul) = &unit.rul {
                    assert_eq!(rul.len(), unit.len());
                }
            }
            assert!(done.report.summary_lines().len() >= 3);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }

    match ingest::parse_rul_values(bytes, &options) {
        Ok(values) => assert!(
            values.iter().all(|v| v.is_finite() && *v >= 0.0),
            "{values:?}"
        ),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
