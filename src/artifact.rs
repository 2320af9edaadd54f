//! The model file: a trained forecaster with everything needed to use it on
//! new data (channel names, normalisation statistics, window geometry).
//!
//! Layout, all integers little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `TWINLAB\0` |
//! | 4 | format version (`u32`) |
//! | 4 | length `n` of the metadata (`u32`) |
//! | n | metadata, UTF-8 JSON ([`ModelMeta`]) |
//! | rest | the weights in burn's record format (burnpack) |
//!
//! The same file is written by the CLI and read by the page, and the other way
//! round.

use serde::{Deserialize, Serialize};

use crate::model::{ForecasterConfig, OutputKind};
use crate::prep::{Normalizer, SplitFractions, WindowSpec};
use crate::rul::RulMeta;
use crate::train::{History, TrainConfig};

/// The first bytes of every model file.
pub const MAGIC: &[u8; 8] = b"TWINLAB\0";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Largest metadata block accepted (guards against a corrupt length field).
const MAX_META_BYTES: usize = 16 << 20;

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The file does not start with the twinlab magic bytes.
    #[error("this is not a twinlab model file (it does not start with `TWINLAB`)")]
    NotAModel,
    /// The file was written by a newer twinlab.
    #[error(
        "model file format {found} is not supported; this twinlab reads format {FORMAT_VERSION}"
    )]
    Version {
        /// The version in the file.
        found: u32,
    },
    /// The file ends before the part its header announces.
    #[error("the model file is cut short: {0}")]
    Truncated(&'static str),
    /// The metadata is not valid.
    #[error("the model file's metadata is damaged: {0}")]
    Meta(String),
    /// The weights do not fit the network the metadata describes.
    #[error("the model file's weights are damaged or do not match its network: {0}")]
    Weights(String),
}

/// What the model file says about its network and its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The network's shape.
    pub network: ForecasterConfig,
    /// Input channel names in feature order (targets first).
    pub input_channels: Vec<String>,
    /// Target channel names (the first input channels).
    pub target_channels: Vec<String>,
    /// z-score statistics of the input channels, fitted on the training part.
    pub normalizer: Normalizer,
    /// Window geometry used in training.
    pub windows: WindowSpec,
    /// How the training series was split.
    pub split: SplitFractions,
    /// Optimiser settings used.
    pub training: TrainConfig,
    /// Loss history of the run.
    pub history: History,
    /// Name of the dataset it was trained on.
    pub dataset: String,
    /// Which backend trained it (`cpu` or `webgpu`).
    pub backend: String,
    /// Set for a remaining-useful-life model (see [`crate::rul`]).
    #[serde(default)]
    pub rul: Option<RulMeta>,
}

/// Writes a model file from its metadata and burnpack weights.
pub fn encode(meta: &ModelMeta, weights: &[u8]) -> Result<Vec<u8>, ArtifactError> {
    let json = serde_json::to_vec(meta).map_err(|err| ArtifactError::Meta(err.to_string()))?;
    let len = u32::try_from(json.len())
        .map_err(|_| ArtifactError::Meta("metadata larger than 4 GiB".to_owned()))?;
    let mut out = Vec::with_capacity(16 + json.len() + weights.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(weights);
    Ok(out)
}

/// Splits a model file into its metadata and its burnpack weights.
pub fn decode(bytes: &[u8]) -> Result<(ModelMeta, &[u8]), ArtifactError> {
    let magic = bytes.get(..8).ok_or(ArtifactError::NotAModel)?;
    if magic != MAGIC {
        return Err(ArtifactError::NotAModel);
    }
    let version = read_u32(bytes, 8).ok_or(ArtifactError::Truncated("no version"))?;
    if version != FORMAT_VERSION {
        return Err(ArtifactError::Version { found: version });
    }
    let len = read_u32(bytes, 12).ok_or(ArtifactError::Truncated("no metadata length"))? as usize;
    if len > MAX_META_BYTES {
        return Err(ArtifactError::Meta(format!(
            "metadata length {len} is implausible"
        )));
    }
    let json = bytes
        .get(16..16 + len)
        .ok_or(ArtifactError::Truncated("the metadata is incomplete"))?;
    let meta: ModelMeta =
        serde_json::from_slice(json).map_err(|err| ArtifactError::Meta(err.to_string()))?;
    check_meta(&meta)?;
    let weights = &bytes[16 + len..];
    if weights.is_empty() {
        return Err(ArtifactError::Truncated("the weights are missing"));
    }
    Ok((meta, weights))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

/// Checks that the metadata agrees with itself, so later indexing is safe.
fn check_meta(meta: &ModelMeta) -> Result<(), ArtifactError> {
    let net = &meta.network;
    net.validate()
        .map_err(|err| ArtifactError::Meta(err.to_string()))?;
    let fail = |what: &str| Err(ArtifactError::Meta(what.to_owned()));
    let features = meta.rul.as_ref().map_or(meta.input_channels.len(), |rul| {
        rul.features(meta.input_channels.len())
    });
    if features != net.features {
        return fail("the number of input channels does not match the network");
    }
    if meta.target_channels.len() != net.targets {
        return fail("the number of target channels does not match the network");
    }
    match (net.output, &meta.rul) {
        (OutputKind::Residual, None) => {
            if meta.target_channels[..] != meta.input_channels[..net.targets] {
                return fail("the target channels are not the first input channels");
            }
        }
        (OutputKind::Direct | OutputKind::PerStep, Some(rul)) => {
            if !(rul.cap.is_finite() && rul.cap > 0.0) {
                return fail("the RUL cap is not a positive number");
            }
        }
        _ => return fail("the network's output does not match the model's task"),
    }
    if meta.normalizer.mean.len() != net.features || meta.normalizer.std.len() != net.features {
        return fail("the normalisation statistics do not cover every input channel");
    }
    if meta.windows.lookback != net.lookback || meta.windows.horizon != net.horizon {
        return fail("the window geometry does not match the network");
    }
    // Networks far past what a browser can hold are refused before allocation.
    if net.hidden > 4096 || net.layers > 16 || net.features > 10_000 || net.horizon > 10_000 {
        return fail("the network is implausibly large");
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::train::StopReason;

    /// A small model's metadata (no network behind it).
    pub(crate) fn meta() -> ModelMeta {
        ModelMeta {
            network: ForecasterConfig {
                features: 2,
                lookback: 4,
                hidden: 3,
                layers: 1,
                horizon: 2,
                targets: 1,
                output: OutputKind::Residual,
                dropout: 0.0,
            },
            input_channels: vec!["a".into(), "b".into()],
            target_channels: vec!["a".into()],
            normalizer: Normalizer {
                mean: vec![0.0, 1.0],
                std: vec![1.0, 2.0],
            },
            windows: WindowSpec {
                lookback: 4,
                horizon: 2,
                stride: 1,
            },
            split: SplitFractions::default(),
            training: TrainConfig::default(),
            history: History {
                train_loss: vec![1.0],
                validation_loss: vec![0.5],
                initial_validation_loss: 2.0,
                best_epoch: Some(0),
                stop: StopReason::EpochsDone,
            },
            dataset: "demo".into(),
            backend: "cpu".into(),
            rul: None,
        }
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&meta(), &[1, 2, 3]).unwrap();
        let (back, weights) = decode(&bytes).unwrap();
        assert_eq!(back, meta());
        assert_eq!(weights, &[1, 2, 3]);
    }

    #[test]
    fn damaged_files_say_what_is_wrong() {
        let good = encode(&meta(), &[1, 2, 3]).unwrap();
        let err = |bytes: &[u8]| decode(bytes).unwrap_err().to_string();
        assert!(err(b"date,value\n1,2\n").contains("not a twinlab model"));
        assert!(err(&good[..10]).contains("cut short"));
        assert!(err(&good[..30]).contains("cut short"));
        assert!(err(&good[..good.len() - 3]).contains("weights are missing"));
        let mut newer = good.clone();
        newer[8] = 9;
        assert!(err(&newer).contains("format 9"));
        let mut bad_json = good.clone();
        bad_json[17] = b'#';
        assert!(err(&bad_json).contains("metadata is damaged"));
    }

    #[test]
    fn inconsistent_metadata_is_refused() {
        let mut m = meta();
        m.normalizer.std.pop();
        let bytes = encode(&m, &[1]).unwrap();
        assert!(
            decode(&bytes)
                .unwrap_err()
                .to_string()
                .contains("normalisation")
        );
    }
}
