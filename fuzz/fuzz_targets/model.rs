//! Fuzzes loading a model file: `artifact::decode` and the full
//! `TrainedModel::from_file_bytes` on the CPU backend.
//!
//! Any bytes must give either an error with a message or a model whose
//! network answers one window of zeros with a forecast of the declared size.
//! The seed corpus holds real model files (a channel forecaster and a RUL
//! model), so mutations reach the weights and every field of the metadata.

#![no_main]

use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use twinlab::artifact;
use twinlab::pipeline::TrainedModel;
use twinlab::train;

/// Largest input window run through a loaded network, in values; bigger
/// (but valid) networks are only loaded, so that each run stays fast.
const MAX_WINDOW_VALUES: usize = 4_096;

fuzz_target!(|bytes: &[u8]| {
    if let Err(error) = artifact::decode(bytes) {
        assert!(!error.to_string().is_empty());
        return;
    }

    let device = Device::flex();
    let model = match train::block_on(TrainedModel::from_file_bytes(bytes, &device)) {
        Ok(model) => model,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };

    let config = &model.meta.network;
    let window = config.lookback.saturating_mul(config.features);
    if model.meta.rul.is_some() || window > MAX_WINDOW_VALUES {
        return;
    }
    let zeros = vec![0.0; window];
    let forecast = train::block_on(model.network.predict(config, &zeros, &device))
        .expect("a loaded network forecasts a window of the declared shape");
    assert_eq!(forecast.len(), config.horizon * config.targets);
});
