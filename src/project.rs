//! The project file: everything the page needs to put the user's work back
//! (the data, or which demo it was, the column roles, the model with its
//! preprocessing statistics, the twin's settings, history and event log),
//! as one byte string. The page keeps the current project in the browser's
//! storage and offers it for download; importing one puts it back.
//!
//! Layout: the magic bytes [`MAGIC`], the format version (u32, little
//! endian), the body's length (u64) and its CRC-32 (u32), then the body:
//! a [`Project`] in CBOR. A file that is cut short, altered, from a newer
//! twinlab or not a project at all is refused whole with an error that says
//! which, before anything is used; embedded model files are checked too.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::artifact;
use crate::pipeline::Setup;
use crate::session::{SessionConfig, SessionHistory};
use crate::twin::Event;

/// The first bytes of every project file.
pub const MAGIC: &[u8; 16] = b"TWINLAB PROJECT\n";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Bytes before the body: magic, version, length, checksum.
const HEADER_LEN: usize = 16 + 4 + 8 + 4;

/// Largest data file kept inside a project; a larger one is named but must
/// be loaded again after a restore.
pub const MAX_EMBEDDED_BYTES: usize = 32 * 1024 * 1024;

/// Why bytes are not a usable project.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProjectError {
    /// Not a project file (maybe a model file: see [`is_model_file`]).
    #[error("this is not a twinlab project file (it does not start with `TWINLAB PROJECT`)")]
    NotAProject,
    /// Shorter than its header says.
    #[error("the project file is cut short: {got} of {expected} bytes are there")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes there are.
        got: u64,
    },
    /// The body does not match its checksum.
    #[error("the project file is damaged: its contents do not match their checksum")]
    Corrupted,
    /// Written by a newer twinlab.
    #[error("the project file has format version {0}; this twinlab reads version {FORMAT_VERSION}")]
    Version(u32),
    /// The body is not a project.
    #[error("the project file's contents cannot be read: {0}")]
    Body(String),
    /// An embedded model file is not a valid model.
    #[error("the project's model is not usable: {0}")]
    Model(String),
    /// The project could not be written.
    #[error("the project could not be written: {0}")]
    Write(String),
}

/// Where a saved data file's bytes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A demo that ships with the page, by its key.
    Demo {
        /// The demo's key.
        key: String,
    },
    /// The bytes themselves.
    Embedded {
        /// The file's bytes.
        bytes: ByteBuf,
    },
    /// Kept beside the project in the browser's storage, not inside it
    /// (the page's own saves, so that a large file is not written again
    /// with every change of the twin; an exported project embeds it).
    Browser {
        /// Its size in bytes.
        size: u64,
        /// Tells it from another file of that name and size.
        id: u32,
    },
    /// Too large to keep ([`MAX_EMBEDDED_BYTES`]); only its name and size
    /// are saved.
    Omitted {
        /// Its size in bytes.
        size: u64,
    },
}

/// A data file of the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// The file's name.
    pub name: String,
    /// Its bytes, or where to get them.
    pub source: DataSource,
}

impl DataFile {
    /// `bytes` kept inside the project when they are small enough.
    #[must_use]
    pub fn keep(name: &str, bytes: &[u8]) -> Self {
        let source = if bytes.len() <= MAX_EMBEDDED_BYTES {
            DataSource::Embedded {
                bytes: ByteBuf::from(bytes.to_vec()),
            }
        } else {
            DataSource::Omitted {
                size: bytes.len() as u64,
            }
        };
        Self {
            name: name.to_owned(),
            source,
        }
    }

    /// A demo file, by the demo's key.
    #[must_use]
    pub fn demo(name: &str, key: &str) -> Self {
        Self {
            name: name.to_owned(),
            source: DataSource::Demo {
                key: key.to_owned(),
            },
        }
    }
}

/// The fleet files of the remaining-useful-life task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetFiles {
    /// The run-to-failure fleet to train on.
    pub train: Option<DataFile>,
    /// The fleet to predict.
    pub test: Option<DataFile>,
    /// The test fleet's true RUL at its last cycle.
    pub true_rul: Option<DataFile>,
}

/// The live twin's part of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinProject {
    /// The page's name for the twin's source (`sim`, `nab`, `dataset`).
    pub source: String,
    /// Commissioning, forecaster, bands, adaptation and the twin's settings.
    pub config: SessionConfig,
    /// Settings the user wrote for this asset, if any.
    pub custom: bool,
    /// Replay speed.
    pub speed: f64,
    /// Whether it was streaming.
    pub playing: bool,
    /// Faults, operator actions and position, to rebuild the session.
    pub history: SessionHistory,
    /// The event log as it was saved (the rebuilt session gives it again).
    pub events: Vec<Event>,
}

/// One user's work in the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// The task on show (`twin`, `forecast`, `rul`).
    pub task: String,
    /// The series of the forecast task (which the twin can replay).
    pub series: Option<DataFile>,
    /// The column roles and training settings chosen for the series.
    pub setup: Option<Setup>,
    /// The fleet files of the RUL task.
    pub fleet: FleetFiles,
    /// The model file last trained or loaded (its metadata holds the
    /// preprocessing statistics and says which task it is for).
    pub model: Option<ByteBuf>,
    /// The live twin.
    pub twin: Option<TwinProject>,
}

impl Project {
    /// The project as a file.
    pub fn encode(&self) -> Result<Vec<u8>, ProjectError> {
        let mut body = Vec::new();
        ciborium::into_writer(self, &mut body)
            .map_err(|err| ProjectError::Write(err.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads a project file, checking all of it (embedded models too).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProjectError> {
        if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
            // A prefix of the magic is a project cut short.
            let prefix = !bytes.is_empty() && MAGIC.starts_with(bytes);
            return Err(if prefix {
                ProjectError::Truncated {
                    expected: HEADER_LEN as u64,
                    got: bytes.len() as u64,
                }
            } else {
                ProjectError::NotAProject
            });
        }
        let header = bytes.get(..HEADER_LEN).ok_or(ProjectError::Truncated {
            expected: HEADER_LEN as u64,
            got: bytes.len() as u64,
        })?;
        let version = u32::from_le_bytes(field(header, 16));
        if version != FORMAT_VERSION {
            return Err(ProjectError::Version(version));
        }
        let len = u64::from_le_bytes(field(header, 20));
        let crc = u32::from_le_bytes(field(header, 28));
        let body = &bytes[HEADER_LEN..];
        let expected = (HEADER_LEN as u64).saturating_add(len);
        if (body.len() as u64) < len {
            return Err(ProjectError::Truncated {
                expected,
                got: bytes.len() as u64,
            });
        }
        if (body.len() as u64) > len {
            return Err(ProjectError::Body(format!(
                "{} bytes follow the project's end",
                body.len() as u64 - len
            )));
        }
        if crc32fast::hash(body) != crc {
            return Err(ProjectError::Corrupted);
        }
        let project: Self =
            ciborium::from_reader(body).map_err(|err| ProjectError::Body(err.to_string()))?;
        if let Some(model) = &project.model {
            artifact::decode(model).map_err(|err| ProjectError::Model(err.to_string()))?;
        }
        Ok(project)
    }
}

/// Whether `bytes` start like a twinlab model file (which the page's
/// project import also takes).
#[must_use]
pub fn is_model_file(bytes: &[u8]) -> bool {
    bytes.starts_with(artifact::MAGIC)
}

fn field<const N: usize>(header: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&header[at..at + N]);
    out
}

#[cfg(test)]
mod tests;
