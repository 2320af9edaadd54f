//! Fuzzes reading a project file: `project::Project::decode`.
//!
//! Any bytes must give either an error with a message or a project whose
//! embedded model decodes, and which writes back to a file that reads and
//! writes back to the same bytes. The seed corpus holds a real project exported by the
//! page. A custom mutator mutates the CBOR body alone half of the time and
//! writes its length and CRC-32 back, so that mutations reach the body's
//! decoder instead of stopping at the checksum.

#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use twinlab::artifact;
use twinlab::project::{MAGIC, Project};

fuzz_target!(|bytes: &[u8]| {
    let project = match Project::decode(bytes) {
        Ok(project) => project,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    if let Some(model) = &project.model {
        assert!(artifact::decode(model).is_ok(), "decode checked the model");
    }
    // Compared as files: a project may hold NaN (in settings), which is
    // not equal to itself.
    let again = project.encode().expect("a read project writes back");
    let back = Project::decode(&again).expect("and reads again");
    assert_eq!(back.encode().expect("and writes back again"), again);
});

/// Bytes before the body: magic, version, length, CRC-32.
const HEADER: usize = 16 + 4 + 8 + 4;

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed % 2 == 0 || size < HEADER || !data.starts_with(MAGIC) || max_size <= HEADER {
        return fuzzer_mutate(data, size, max_size);
    }
    let body_len = fuzzer_mutate(&mut data[HEADER..], size - HEADER, max_size - HEADER);
    let body = &data[HEADER..HEADER + body_len];
    let crc = crc32fast::hash(body);
    data[20..28].copy_from_slice(&(body_len as u64).to_le_bytes());
    data[28..32].copy_from_slice(&crc.to_le_bytes());
    HEADER + body_len
});
