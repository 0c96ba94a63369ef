//! Label-matrix files: Parquet (one `Int8` column per LF plus key-value metadata) or CSV (with a
//! `<file>.meta.json` sidecar holding the same metadata). Written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, IntoColumn, KeyValueMetadata, NamedFrom, ParquetWriter, Series};
use serde::{Deserialize, Serialize};

use super::atomic::{AtomicFile, OutputError};
use crate::matrix::{LabelMatrix, MATRIX_FORMAT_VERSION, Provenance, RowKeys};

/// The Parquet key-value metadata key under which labelgen stores [`MatrixMetadata`] as JSON.
pub const METADATA_KEY: &str = "labelgen";

/// What a label-matrix file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixMetadata {
    /// Always `"label_matrix"`.
    pub kind: String,
    /// [`MATRIX_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Class names, class id `i` first... in id order.
    pub classes: Vec<String>,
    /// Number of classes.
    pub cardinality: usize,
    /// LF names, in column order.
    pub lfs: Vec<String>,
    /// Name of the row-key column, if any.
    pub row_key: Option<String>,
    /// What produced the matrix.
    pub provenance: Option<Provenance>,
}

impl MatrixMetadata {
    /// The metadata of `matrix`.
    pub fn of(matrix: &LabelMatrix) -> Self {
        MatrixMetadata {
            kind: "label_matrix".to_owned(),
            format_version: MATRIX_FORMAT_VERSION,
            classes: matrix.classes().to_vec(),
            cardinality: matrix.cardinality(),
            lfs: matrix.lf_names().to_vec(),
            row_key: matrix.row_keys().map(|(name, _)| name.to_owned()),
            provenance: matrix.provenance().cloned(),
        }
    }
}

/// The file formats of a label matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated text.
    Csv,
}

impl MatrixFormat {
    /// The format named by `path`'s extension.
    pub fn from_path(path: &Path) -> Result<Self, OutputError> {
        match path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet") | Some("pq") => Ok(MatrixFormat::Parquet),
            Some("csv") => Ok(MatrixFormat::Csv),
            _ => Err(OutputError::UnknownFormat {
                path: path.to_owned(),
                expected: ".parquet or .csv",
            }),
        }
    }
}

/// The sidecar metadata file of a CSV matrix: `L.csv` -> `L.csv.meta.json`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".meta.json");
    PathBuf::from(name)
}

/// The files written for a table output at `path` (a label matrix, labels or predictions): the
/// file and, for CSV, its `.meta.json` sidecar.
pub fn files_written(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_owned()];
    if path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"))
    {
        files.push(sidecar_path(path));
    }
    files
}

/// A label-matrix output whose file is reserved (so an unwritable path fails before any work)
/// and written in full, or not at all, by [`MatrixOutput::write`].
pub struct MatrixOutput {
    format: MatrixFormat,
    file: AtomicFile,
    sidecar: Option<AtomicFile>,
}

impl MatrixOutput {
    /// Reserve `path`; its extension picks the format.
    pub fn create(path: &Path) -> Result<Self, OutputError> {
        let format = MatrixFormat::from_path(path)?;
        let file = AtomicFile::create(path)?;
        let sidecar = match format {
            MatrixFormat::Csv => Some(AtomicFile::create(&sidecar_path(path))?),
            MatrixFormat::Parquet => None,
        };
        Ok(MatrixOutput {
            format,
            file,
            sidecar,
        })
    }

    /// Write `matrix` and move the file into place.
    pub fn write(mut self, matrix: &LabelMatrix) -> Result<(), OutputError> {
        let metadata =
            serde_json::to_string(&MatrixMetadata::of(matrix)).expect("metadata serializes");
        match self.format {
            MatrixFormat::Parquet => {
                let mut frame = frame(matrix).map_err(|error| self.file.error(error))?;
                ParquetWriter::new(self.file.writer())
                    .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
                        METADATA_KEY.to_owned(),
                        metadata,
                    )])))
                    .finish(&mut frame)
                    .map_err(|error| self.file.error(error))?;
            }
            MatrixFormat::Csv => {
                write_csv(matrix, self.file.writer()).map_err(|error| self.file.error(error))?;
                if let Some(mut sidecar) = self.sidecar.take() {
                    sidecar
                        .writer()
                        .write_all(metadata.as_bytes())
                        .map_err(|error| sidecar.error(error))?;
                    sidecar.commit()?;
                }
            }
        }
        self.file.commit()
    }
}

/// Write `matrix` to `path` (format by extension), atomically.
pub fn write_matrix(path: &Path, matrix: &LabelMatrix) -> Result<(), OutputError> {
    MatrixOutput::create(path)?.write(matrix)
}

fn frame(matrix: &LabelMatrix) -> polars::prelude::PolarsResult<DataFrame> {
    let mut columns = Vec::with_capacity(matrix.n_lfs() + 1);
    if let Some((name, keys)) = matrix.row_keys() {
        let series = match keys {
            RowKeys::Text(keys) => Series::new(name.into(), keys.as_slice()),
            RowKeys::Int(keys) => Series::new(name.into(), keys.as_slice()),
        };
        columns.push(series.into_column());
    }
    for (index, name) in matrix.lf_names().iter().enumerate() {
        let votes: Vec<i8> = matrix.lf_votes(index).to_vec();
        columns.push(Series::new(name.as_str().into(), votes).into_column());
    }
    DataFrame::new(matrix.n_rows(), columns)
}

/// A CSV field, quoted when it holds a delimiter, quote or line break.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

fn write_csv(matrix: &LabelMatrix, out: &mut dyn Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut header: Vec<String> = matrix
        .row_keys()
        .map(|(name, _)| csv_field(name).into_owned())
        .into_iter()
        .collect();
    header.extend(
        matrix
            .lf_names()
            .iter()
            .map(|name| csv_field(name).into_owned()),
    );
    writeln!(out, "{}", header.join(","))?;
    let mut line = Vec::with_capacity(64);
    let mut number = itoa::Buffer::new();
    for (row, votes) in matrix.votes().rows().into_iter().enumerate() {
        line.clear();
        match matrix.row_keys() {
            Some((_, RowKeys::Text(keys))) => {
                line.extend_from_slice(csv_field(&keys[row]).as_bytes())
            }
            Some((_, RowKeys::Int(keys))) => {
                line.extend_from_slice(number.format(keys[row]).as_bytes())
            }
            None => {}
        }
        for (index, vote) in votes.iter().enumerate() {
            if index > 0 || matrix.row_keys().is_some() {
                line.push(b',');
            }
            line.extend_from_slice(number.format(*vote).as_bytes());
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}
