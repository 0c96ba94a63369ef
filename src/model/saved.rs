//! Fitted models on disk: versioned JSON with a `kind` tag, never a binary dump.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FittedModel, ModelKind};
use crate::io::atomic::{AtomicFile, OutputError};

/// Version of the model file format.
pub const MODEL_FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format_version: u32,
    kind: ModelKind,
    labelgen_version: String,
    #[serde(flatten)]
    model: FittedModel,
}

/// Errors reading a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// The file could not be read.
    #[error("cannot read model `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another format version.
    #[error(
        "model `{path}` has format version {found}, but this labelgen reads version \
         {MODEL_FORMAT_VERSION}; fit it again with this labelgen"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
    },
    /// Not a model file.
    #[error("`{path}` is not a labelgen model file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Write `model` to `path` as JSON, atomically.
pub fn write_model(path: &Path, model: &FittedModel) -> Result<(), OutputError> {
    let file = ModelFile {
        format_version: MODEL_FORMAT_VERSION,
        kind: model.kind(),
        labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
        model: model.clone(),
    };
    let mut out = AtomicFile::create(path)?;
    let json = serde_json::to_vec_pretty(&file).expect("models serialize");
    out.writer()
        .write_all(&json)
        .map_err(|error| out.error(error))?;
    out.commit()
}

/// Read a model written by [`write_model`].
pub fn read_model(path: &Path) -> Result<FittedModel, ModelFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| ModelFileError::Invalid {
        path: path.to_owned(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
    let Some(version) = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    else {
        return Err(invalid("it has no `format_version`".to_owned()));
    };
    if version != u64::from(MODEL_FORMAT_VERSION) {
        return Err(ModelFileError::Version {
            path: path.to_owned(),
            found: version,
        });
    }
    let file: ModelFile =
        serde_json::from_value(value).map_err(|error| invalid(error.to_string()))?;
    Ok(file.model)
}
