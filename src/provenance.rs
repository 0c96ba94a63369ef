//! Where a label matrix comes from: its LFs (name, origin, columns read, fingerprint), the
//! data file and its hash, the column map, and a fingerprint over all of them. Below both the
//! matrix, which records it, and the LFs, which describe themselves with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::table::ColumnType;

/// Where an LF comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LfOrigin {
    /// A declarative TOML file.
    Declarative {
        /// The file, as given.
        file: PathBuf,
        /// Its kind (`keyword`, `regex`, ...).
        kind: String,
    },
    /// A Rust plugin.
    Plugin {
        /// The shared library, as given.
        library: PathBuf,
        /// The plugin's own name.
        plugin: String,
        /// The plugin's version.
        version: String,
    },
}

/// What the engine knows of one LF.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LfInfo {
    /// The LF's name, which is also its label-matrix column.
    pub name: String,
    /// Where it comes from.
    pub origin: LfOrigin,
    /// The columns it reads, as it names them, with their types.
    pub columns: Vec<(String, ColumnType)>,
    /// BLAKE3 (hex) of what defines it: its TOML definition and list files, or the plugin
    /// library's bytes and the LF name.
    pub fingerprint: String,
}

/// What made a label matrix: recorded in its file so every output says where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// labelgen's version.
    pub labelgen_version: String,
    /// The input data file, as given.
    pub data_path: String,
    /// BLAKE3 (hex) of the input data file.
    pub data_hash: String,
    /// LF column name -> data column name, where remapped.
    pub column_map: std::collections::BTreeMap<String, String>,
    /// BLAKE3 (hex) over the data hash, the classes, the column map and every LF's name and
    /// fingerprint (in name order, so it does not depend on the order LF sources were given).
    pub fingerprint: String,
    /// The LFs, in column order.
    pub lfs: Vec<LfInfo>,
}

/// What made a matrix: labelgen's version, the data file and its hash, the column map, the LFs,
/// and a fingerprint over all of them (LFs in name order).
pub fn provenance(
    classes: &[String],
    lfs: &[LfInfo],
    data: &Path,
    data_hash: blake3::Hash,
    column_map: &BTreeMap<String, String>,
) -> Provenance {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"labelgen label matrix\0");
    hasher.update(data_hash.as_bytes());
    for class in classes {
        hasher.update(class.as_bytes()).update(b"\0");
    }
    for (column, target) in column_map {
        hasher
            .update(column.as_bytes())
            .update(b"\0")
            .update(target.as_bytes())
            .update(b"\0");
    }
    let mut by_name: Vec<_> = lfs.iter().collect();
    by_name.sort_by(|left, right| left.name.cmp(&right.name));
    for info in by_name {
        hasher
            .update(info.name.as_bytes())
            .update(b"\0")
            .update(info.fingerprint.as_bytes());
    }
    Provenance {
        labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
        data_path: data.display().to_string(),
        data_hash: data_hash.to_hex().to_string(),
        column_map: column_map.clone(),
        fingerprint: hasher.finalize().to_hex().to_string(),
        lfs: lfs.to_vec(),
    }
}
