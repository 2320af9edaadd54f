//! Fuzzes loading a model file: `artifact::decode` and the full
//! `TrainedModel::from_file_bytes` on the CPU backend.
//!
//! Any bytes must give either an error with a message or a model whose
//! network answers one window of zeros with a forecast of the declared size.
//! The seed corpus holds real model files (a channel forecaster and a RUL
//! model), so mutations reach the weights and every field of the metadata.
//! A custom mutator mutates the metadata or the weights on their own half of
//! the time and writes the metadata length back, so that a mutated metadata
//! block is still read as such instead of failing on its length field.

#![no_main]

use std::sync::OnceLock;

use burn::tensor::Device;
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use twinlab::artifact;
use twinlab::pipeline::TrainedModel;
use twinlab::train;

/// Largest input window run through a loaded network, in values; bigger
/// (but valid) networks are only loaded, so that each run stays fast.
const MAX_WINDOW_VALUES: usize = 4_096;

/// Whether to print how far each input got (`TWINLAB_FUZZ_TRACE=1`), to see
/// how deep a corpus reaches: `model fuzz/corpus/model -runs=0`.
fn trace(stage: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("TWINLAB_FUZZ_TRACE").is_some()) {
        eprintln!("twinlab-fuzz: {stage}");
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Err(error) = artifact::decode(bytes) {
        assert!(!error.to_string().is_empty());
        trace("refused by decode");
        return;
    }

    let device = Device::flex();
    let model = match train::block_on(TrainedModel::from_file_bytes(bytes, &device)) {
        Ok(model) => model,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            trace("refused by from_file_bytes");
            return;
        }
    };

    let config = &model.meta.network;
    let window = config.lookback.saturating_mul(config.features);
    if model.meta.rul.is_some() || window > MAX_WINDOW_VALUES {
        trace("loaded");
        return;
    }
    let zeros = vec![0.0; window];
    let forecast = train::block_on(model.network.predict(config, &zeros, &device))
        .expect("a loaded network forecasts a window of the declared shape");
    assert_eq!(forecast.len(), config.horizon * config.targets);
    trace("loaded and forecast");
});

/// Bytes before the metadata: magic, version and metadata length.
const HEADER: usize = 16;

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let Some(json_len) = data
        .get(12..HEADER)
        .and_then(|raw| <[u8; 4]>::try_from(raw).ok())
        .map(|raw| u32::from_le_bytes(raw) as usize)
        .filter(|&len| seed % 2 == 1 && HEADER + len <= size && data.starts_with(artifact::MAGIC))
    else {
        return fuzzer_mutate(data, size, max_size);
    };

    let mut json = data[HEADER..HEADER + json_len].to_vec();
    let mut weights = data[HEADER + json_len..size].to_vec();
    let (part, other) = if seed % 4 == 1 {
        (&mut json, weights.len())
    } else {
        (&mut weights, json.len())
    };
    let room = max_size.saturating_sub(HEADER + other);
    if room == 0 {
        return fuzzer_mutate(data, size, max_size);
    }
    let old = part.len().min(room);
    part.resize(room, 0);
    let new = fuzzer_mutate(part, old, room);
    part.truncate(new);

    let Ok(len) = u32::try_from(json.len()) else {
        return fuzzer_mutate(data, size, max_size);
    };
    data[12..HEADER].copy_from_slice(&len.to_le_bytes());
    data[HEADER..HEADER + json.len()].copy_from_slice(&json);
    let end = HEADER + json.len() + weights.len();
    data[HEADER + json.len()..end].copy_from_slice(&weights);
    end
});
