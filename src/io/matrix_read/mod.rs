//! Reading label matrices: labelgen's own files (Parquet with metadata, CSV with a `.meta.json`
//! sidecar), integer vote tables written by other tools (Snorkel's `L` saved with pandas), and
//! WRENCH split files, whose `weak_labels` are the matrix and `label` the gold labels.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::matrix_file::{MatrixMetadata, sidecar_path};
use crate::matrix::{LabelMatrix, MATRIX_FORMAT_VERSION, MAX_CLASSES};

mod csv_file;
mod parquet_file;
mod wrench_file;

use csv_file::read_csv;
use parquet_file::read_parquet;
use wrench_file::read_wrench_matrix;

/// How to read a matrix that does not say everything about itself.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The number of classes, as the user gave it; checked against labelgen metadata.
    pub cardinality: Option<usize>,
    /// The number of classes to assume for a matrix without metadata when the user gave none
    /// (for example the model's, when labelling).
    pub fallback_cardinality: Option<usize>,
}

/// A label matrix and, for WRENCH splits, the gold labels it came with (`-1` = unknown).
#[derive(Clone, Debug)]
pub struct LoadedMatrix {
    /// The votes.
    pub matrix: LabelMatrix,
    /// Gold labels per row, when the file has them.
    pub gold: Option<Vec<i64>>,
}

/// Errors reading a label matrix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixReadError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The extension names no matrix format.
    #[error(
        "cannot tell the format of label matrix `{path}`; use .parquet, .csv or a WRENCH split .json"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a readable label matrix.
    #[error("`{path}` is not a usable label matrix: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Nothing says how many classes there are.
    #[error(
        "`{path}` does not say how many classes there are (it has no labelgen metadata); pass \
         --cardinality K"
    )]
    NoCardinality {
        /// The file.
        path: PathBuf,
    },
    /// A format version this labelgen does not read.
    #[error(
        "`{path}` is a label matrix of format version {found}, but this labelgen reads version \
         {MATRIX_FORMAT_VERSION}; re-create it with this labelgen's `apply`"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// A vote outside `-1..k`.
    #[error(
        "`{path}`: LF `{lf}` votes {vote} on row {row} (counting from 0), outside -1..{cardinality} \
         (abstain or a class id)"
    )]
    Vote {
        /// The file.
        path: PathBuf,
        /// The LF column.
        lf: String,
        /// The 0-based row.
        row: usize,
        /// The vote.
        vote: i64,
        /// The number of classes.
        cardinality: usize,
    },
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> MatrixReadError {
    MatrixReadError::Invalid {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// The files [`read_matrix`] reads for `path`: the file, and the `.meta.json` sidecar of a CSV
/// matrix or the `label.json` beside a WRENCH split.
pub fn files_read(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_owned()];
    match path.extension().and_then(|extension| extension.to_str()) {
        Some(extension) if extension.eq_ignore_ascii_case("csv") => files.push(sidecar_path(path)),
        Some(extension) if extension.eq_ignore_ascii_case("json") => {
            files.push(path.with_file_name("label.json"))
        }
        _ => {}
    }
    files
}

/// Read the label matrix at `path`: `.parquet`, `.csv` or a WRENCH split `.json`.
pub fn read_matrix(path: &Path, options: &ReadOptions) -> Result<LoadedMatrix, MatrixReadError> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("parquet") | Some("pq") => read_parquet(path, options),
        Some("csv") => read_csv(path, options),
        Some("json") => read_wrench_matrix(path, options),
        _ => Err(MatrixReadError::UnknownFormat {
            path: path.to_owned(),
        }),
    }
}

/// Classes, LF names and row-key column: from labelgen's metadata, or for a foreign matrix
/// from `options` and the vote columns found.
struct Layout {
    classes: Vec<String>,
    lfs: Vec<String>,
    row_key: Option<String>,
}

fn numbered_classes(path: &Path, options: &ReadOptions) -> Result<Vec<String>, MatrixReadError> {
    match options.cardinality.or(options.fallback_cardinality) {
        Some(cardinality) if (2..=MAX_CLASSES).contains(&cardinality) => {
            Ok((0..cardinality).map(|class| class.to_string()).collect())
        }
        Some(cardinality) => Err(invalid(
            path,
            format!(
                "--cardinality {cardinality}: give between 2 and {MAX_CLASSES} classes (votes \
                 are 8-bit integers)"
            ),
        )),
        None => Err(MatrixReadError::NoCardinality {
            path: path.to_owned(),
        }),
    }
}

fn checked_metadata(
    path: &Path,
    json: &str,
    options: &ReadOptions,
) -> Result<Layout, MatrixReadError> {
    let metadata: MatrixMetadata = serde_json::from_str(json).map_err(|error| {
        invalid(
            path,
            format!("its labelgen metadata is unreadable: {error}"),
        )
    })?;
    if metadata.format_version != MATRIX_FORMAT_VERSION {
        return Err(MatrixReadError::Version {
            path: path.to_owned(),
            found: metadata.format_version,
        });
    }
    if let Some(cardinality) = options.cardinality
        && cardinality != metadata.classes.len()
    {
        return Err(invalid(
            path,
            format!(
                "--cardinality {cardinality} contradicts its metadata, which has {} classes",
                metadata.classes.len()
            ),
        ));
    }
    Ok(Layout {
        classes: metadata.classes,
        lfs: metadata.lfs,
        row_key: metadata.row_key,
    })
}

/// A labelgen matrix has exactly the columns its metadata lists (the LFs and the row key): a
/// column it does not list would be dropped without a word.
fn unlisted_columns(
    path: &Path,
    columns: &[String],
    layout: &Layout,
) -> Result<(), MatrixReadError> {
    let unlisted: Vec<String> = columns
        .iter()
        .filter(|name| !layout.lfs.contains(name) && layout.row_key.as_ref() != Some(*name))
        .map(|name| format!("`{name}`"))
        .collect();
    if unlisted.is_empty() {
        return Ok(());
    }
    Err(invalid(
        path,
        format!(
            "its labelgen metadata lists {} LFs but not its columns {}, which would be left out; \
             the metadata does not describe this file (re-create it with `labelgen apply`, or \
             remove the metadata to read every integer column as an LF)",
            layout.lfs.len(),
            unlisted.join(", ")
        ),
    ))
}

/// Check and narrow one vote.
fn vote(
    path: &Path,
    lf: &str,
    row: usize,
    value: i64,
    cardinality: usize,
) -> Result<i8, MatrixReadError> {
    if value < -1 || value >= cardinality as i64 {
        return Err(MatrixReadError::Vote {
            path: path.to_owned(),
            lf: lf.to_owned(),
            row,
            vote: value,
            cardinality,
        });
    }
    Ok(value as i8)
}

/// A matrix written by another tool: every integer column is an LF (pandas' index is skipped).
fn foreign_layout(
    path: &Path,
    frame: &DataFrame,
    options: &ReadOptions,
) -> Result<Layout, MatrixReadError> {
    let classes = numbered_classes(path, options)?;
    let mut lfs = Vec::new();
    for column in frame.columns() {
        let name = column.name().as_str();
        if name == "__index_level_0__" {
            continue;
        }
        if !column.dtype().is_integer() {
            return Err(invalid(
                path,
                format!(
                    "column `{name}` is {}; a matrix without labelgen metadata must hold only integer vote columns",
                    column.dtype()
                ),
            ));
        }
        lfs.push(name.to_owned());
    }
    Ok(Layout {
        classes,
        lfs,
        row_key: None,
    })
}

#[cfg(test)]
mod tests {
    use super::parquet_file::row_major;
    use super::*;
    use crate::io::matrix_file::write_matrix;
    use crate::matrix::RowKeys;
    use ndarray::array;
    use std::fs::File;

    fn sample() -> LabelMatrix {
        LabelMatrix::new(
            array![[0, -1], [1, 1], [-1, -1]],
            vec!["a".into(), "b".into()],
            vec!["NO".into(), "YES".into()],
        )
        .unwrap()
        .with_row_keys(
            "id".into(),
            RowKeys::Text(vec!["x".into(), "y".into(), "z".into()]),
        )
        .unwrap()
    }

    #[test]
    fn row_major_transposes_every_shape() {
        // Shapes around the 8 x 8 blocks and the 256-row tiles; cell (row, lf) is a value no
        // other cell of its neighbourhood has, so a misplaced byte shows.
        for n_lfs in [0, 1, 7, 8, 9, 16, 17, 50] {
            for n_rows in [0, 1, 7, 8, 9, 255, 256, 257, 1000] {
                let cell = |row: usize, lf: usize| ((row * 31 + lf * 7) % 251) as i8;
                let columns: Vec<Vec<i8>> = (0..n_lfs)
                    .map(|lf| (0..n_rows).map(|row| cell(row, lf)).collect())
                    .collect();
                let flat = row_major(&columns, n_rows);
                assert_eq!(flat.len(), n_rows * n_lfs);
                for row in 0..n_rows {
                    for lf in 0..n_lfs {
                        assert_eq!(flat[row * n_lfs + lf], cell(row, lf), "{n_rows} x {n_lfs}");
                    }
                }
            }
        }
    }

    #[test]
    fn labelgen_files_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["L.parquet", "L.csv"] {
            let path = dir.path().join(name);
            write_matrix(&path, &sample()).unwrap();
            let loaded = read_matrix(&path, &ReadOptions::default()).unwrap();
            assert_eq!(loaded.matrix, sample(), "{name}");
            assert!(loaded.gold.is_none());
        }
    }

    /// Read `path` as a matrix of `cardinality` classes.
    fn read_with(path: &Path, cardinality: usize) -> Result<LoadedMatrix, MatrixReadError> {
        read_matrix(
            path,
            &ReadOptions {
                cardinality: Some(cardinality),
                fallback_cardinality: None,
            },
        )
    }

    /// Write `frame` to `path` in row groups of `row_group` rows (polars' default if `None`).
    fn write_parquet(path: &Path, frame: &mut DataFrame, row_group: Option<usize>) {
        polars::prelude::ParquetWriter::new(File::create(path).unwrap())
            .with_row_group_size(row_group)
            .finish(frame)
            .unwrap();
    }

    #[test]
    fn foreign_matrices_need_a_cardinality() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snorkel_L.csv");
        std::fs::write(&path, "lf_a,lf_b\n0,-1\n2,1\n").unwrap();
        let error = read_matrix(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("pass --cardinality K"), "{error}");
        let loaded = read_with(&path, 3).unwrap();
        assert_eq!(loaded.matrix.votes(), &array![[0, -1], [2, 1]]);
        assert_eq!(loaded.matrix.classes(), ["0", "1", "2"]);
        let error = read_with(&path, 2).unwrap_err().to_string();
        assert!(
            error.contains("LF `lf_a` votes 2 on row 1 (counting from 0), outside -1..2"),
            "{error}"
        );

        let parquet = dir.path().join("pandas_L.parquet");
        write_parquet(
            &parquet,
            &mut polars::prelude::df!("__index_level_0__" => [0i64, 1], "lf_a" => [0i64, 1], "lf_b" => [-1i32, 0]).unwrap(),
            None,
        );
        let loaded = read_with(&parquet, 2).unwrap();
        assert_eq!(loaded.matrix.lf_names(), ["lf_a", "lf_b"]);
        assert_eq!(loaded.matrix.votes(), &array![[0, -1], [1, 0]]);

        // Nulls (a pandas nullable column, say) are abstains; several row groups read whole.
        write_parquet(
            &parquet,
            &mut polars::prelude::df!(
                "lf_a" => [Some(1i8), None, Some(0), None, Some(-1)],
                "lf_b" => [0i8, 1, -1, 1, 0]
            )
            .unwrap(),
            Some(2),
        );
        let loaded = read_with(&parquet, 2).unwrap();
        assert_eq!(
            loaded.matrix.votes(),
            &array![[1, 0], [-1, 1], [0, -1], [-1, 1], [-1, 0]]
        );

        // Two columns of one name (a CSV header allows it): refused, naming both.
        std::fs::write(&path, "lf_a,lf_b,lf_a\n0,-1,1\n").unwrap();
        let error = read_with(&path, 2).unwrap_err().to_string();
        assert!(
            error.contains("LF `lf_a` names two columns (0 and 2, counting from 0)"),
            "{error}"
        );

        // Int8 columns (read in place): a vote outside the classes names its row, either side.
        for (bad, row) in [(2i8, 2), (-2, 1)] {
            let mut votes = vec![0i8, 1, -1, 1];
            votes[row] = bad;
            write_parquet(
                &parquet,
                &mut polars::prelude::df!("lf_a" => [1i8, 0, 0, -1], "lf_b" => votes).unwrap(),
                None,
            );
            let error = read_with(&parquet, 2).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "LF `lf_b` votes {bad} on row {row} (counting from 0), outside -1..2"
                )),
                "{error}"
            );
        }
    }

    #[test]
    fn a_newer_format_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("L.csv");
        write_matrix(&path, &sample()).unwrap();
        let sidecar = sidecar_path(&path);
        let json = std::fs::read_to_string(&sidecar)
            .unwrap()
            .replace("\"format_version\":1", "\"format_version\":99");
        std::fs::write(&sidecar, json).unwrap();
        let error = read_matrix(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("format version 99, but this labelgen reads version 1"),
            "{error}"
        );
    }

    /// A split with texts but no votes (the input of `apply`) is not a matrix: the error says
    /// so and names the row, instead of an empty matrix failing later.
    #[test]
    fn a_wrench_split_without_votes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unlabelled.json");
        std::fs::write(&path, r#"{"7": {"label": -1, "data": {"text": "hi"}}}"#).unwrap();
        let error = read_with(&path, 2).unwrap_err().to_string();
        assert!(
            error.contains("row `7` has no `weak_labels`")
                && error.contains("run `labelgen apply`"),
            "{error}"
        );
    }

    #[test]
    fn wrench_splits_give_votes_gold_keys_and_class_names() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/youtube/test.json");
        let loaded = read_matrix(&path, &ReadOptions::default()).unwrap();
        assert_eq!(loaded.matrix.classes(), ["HAM", "SPAM"]);
        assert_eq!(loaded.matrix.n_rows(), 250);
        assert_eq!(loaded.matrix.n_lfs(), 10);
        let gold = loaded.gold.unwrap();
        assert_eq!(gold.len(), 250);
        assert!(gold.iter().all(|label| *label == 0 || *label == 1));
        let Some(("id", RowKeys::Text(ids))) = loaded.matrix.row_keys() else {
            panic!("ids as keys")
        };
        assert_eq!(ids.len(), 250);
    }
}
