//! Reading label matrices: labelgen's own files (Parquet with metadata, CSV with a `.meta.json`
//! sidecar), integer vote tables written by other tools (Snorkel's `L` saved with pandas), and
//! WRENCH split files, whose `weak_labels` are the matrix and `label` the gold labels.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use rayon::prelude::*;

use super::matrix_file::{METADATA_KEY, MatrixMetadata, sidecar_path};
use super::wrench::read_wrench;
use crate::matrix::{LabelMatrix, MATRIX_FORMAT_VERSION, MAX_CLASSES, RowKeys};

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

fn read_parquet(path: &Path, options: &ReadOptions) -> Result<LoadedMatrix, MatrixReadError> {
    let file = File::open(path).map_err(|source| MatrixReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader
        .get_metadata()
        .map_err(|error| invalid(path, error))?
        .clone();
    let json = metadata
        .key_value_metadata()
        .as_ref()
        .and_then(|pairs| pairs.iter().find(|pair| pair.key == METADATA_KEY))
        .and_then(|pair| pair.value.clone());
    let mut frame = reader.finish().map_err(|error| invalid(path, error))?;
    let layout = match json {
        Some(json) => {
            let layout = checked_metadata(path, &json, options)?;
            let names: Vec<String> = frame
                .get_column_names()
                .iter()
                .map(|name| name.to_string())
                .collect();
            unlisted_columns(path, &names, &layout)?;
            layout
        }
        None => foreign_layout(path, &frame, options)?,
    };
    let cardinality = layout.classes.len();
    let n_rows = frame.height();
    let n_lfs = layout.lfs.len();
    // Each LF column as one contiguous slice of i8 votes (nulls as abstains).
    let mut taken = Vec::with_capacity(n_lfs);
    for lf in &layout.lfs {
        // Taken out of the frame, so each column is freed once converted.
        let column = frame
            .drop_in_place(lf)
            .map_err(|_| invalid(path, format!("its LF column `{lf}` is missing")))?;
        taken.push((lf, column));
    }
    let columns = taken
        .par_iter()
        .map(|(lf, column)| parquet_votes(path, lf, column, cardinality, n_rows))
        .collect::<Result<Vec<Cow<'_, [i8]>>, MatrixReadError>>()?;
    let flat = row_major(&columns, n_rows);
    drop(columns);
    drop(taken);
    let votes =
        Array2::from_shape_vec((n_rows, n_lfs), flat).map_err(|error| invalid(path, error))?;
    let matrix = LabelMatrix::new(votes, layout.lfs, layout.classes)
        .map_err(|error| invalid(path, error))?;
    let matrix = match &layout.row_key {
        Some(name) => {
            let column = frame
                .column(name)
                .map_err(|_| invalid(path, format!("its row-key column `{name}` is missing")))?;
            let keys = if let Ok(text) = column.str() {
                RowKeys::Text(
                    text.iter()
                        .map(|key| key.unwrap_or_default().to_owned())
                        .collect(),
                )
            } else {
                let ints = column
                    .cast(&DataType::Int64)
                    .map_err(|error| invalid(path, error))?;
                RowKeys::Int(
                    ints.i64()
                        .map_err(|error| invalid(path, error))?
                        .iter()
                        .map(Option::unwrap_or_default)
                        .collect(),
                )
            };
            matrix
                .with_row_keys(name.clone(), keys)
                .map_err(|error| invalid(path, error))?
        }
        None => matrix,
    };
    Ok(LoadedMatrix { matrix, gold: None })
}

/// Rows of the columns in one row-major vector: tiles of rows that stay in the L1 cache, in
/// parallel, each transposed in blocks of 8 rows x 8 columns (eight 8-byte loads, a transpose
/// in registers, eight 8-byte stores), the columns and rows left over one by one.
fn row_major(columns: &[impl AsRef<[i8]> + Sync], n_rows: usize) -> Vec<i8> {
    const TILE: usize = 256;
    let n_lfs = columns.len();
    // Zeroed (not filled) so the allocator hands over fresh pages: every byte is written below.
    let mut flat = vec![0i8; n_rows * n_lfs];
    if n_lfs == 0 {
        return flat;
    }
    let full_groups = n_lfs / 8;
    flat.par_chunks_mut(TILE * n_lfs)
        .enumerate()
        .for_each(|(tile_index, tile)| {
            let start = tile_index * TILE;
            let rows = tile.len() / n_lfs;
            let block_rows = rows - rows % 8;
            for row in (0..block_rows).step_by(8) {
                let at = start + row;
                for group in 0..full_groups {
                    let mut block = [0u64; 8];
                    for (lane, word) in block.iter_mut().enumerate() {
                        let column = &columns[group * 8 + lane].as_ref()[at..at + 8];
                        *word = u64::from_le_bytes(bytes_of(column));
                    }
                    let block = transpose_8x8(block);
                    for (offset, word) in block.iter().enumerate() {
                        let cell = (row + offset) * n_lfs + group * 8;
                        tile[cell..cell + 8].copy_from_slice(&signed(word.to_le_bytes()));
                    }
                }
                for (index, column) in columns.iter().enumerate().skip(full_groups * 8) {
                    for offset in 0..8 {
                        tile[(row + offset) * n_lfs + index] = column.as_ref()[at + offset];
                    }
                }
            }
            for row in block_rows..rows {
                for (index, column) in columns.iter().enumerate() {
                    tile[row * n_lfs + index] = column.as_ref()[start + row];
                }
            }
        });
    flat
}

/// Byte `b` of word `i` becomes byte `i` of word `b` (little-endian bytes): three rounds of
/// swapping 4x4, 2x2 and 1x1 sub-blocks across the diagonal.
fn transpose_8x8(mut x: [u64; 8]) -> [u64; 8] {
    for (shift, mask, pairs) in [
        (
            32,
            0x0000_0000_FFFF_FFFF_u64,
            [(0, 4), (1, 5), (2, 6), (3, 7)],
        ),
        (16, 0x0000_FFFF_0000_FFFF, [(0, 2), (1, 3), (4, 6), (5, 7)]),
        (8, 0x00FF_00FF_00FF_00FF, [(0, 1), (2, 3), (4, 5), (6, 7)]),
    ] {
        for (low, high) in pairs {
            let swap = ((x[low] >> shift) ^ x[high]) & mask;
            x[low] ^= swap << shift;
            x[high] ^= swap;
        }
    }
    x
}

fn bytes_of(votes: &[i8]) -> [u8; 8] {
    std::array::from_fn(|index| votes[index] as u8)
}

fn signed(bytes: [u8; 8]) -> [i8; 8] {
    bytes.map(|byte| byte as i8)
}

/// One LF column of a Parquet matrix as `i8` votes (nulls as abstains), range-checked:
/// borrowed from the column when it is one chunk of `Int8` without nulls (the usual case).
fn parquet_votes<'a>(
    path: &Path,
    lf: &str,
    column: &'a polars::prelude::Column,
    cardinality: usize,
    n_rows: usize,
) -> Result<Cow<'a, [i8]>, MatrixReadError> {
    if !column.dtype().is_integer() {
        return Err(not_votes(path, lf, column));
    }
    let borrowed = column
        .i8()
        .ok()
        .filter(|values| values.chunks().len() == 1 && values.null_count() == 0)
        .and_then(|values| values.downcast_iter().next())
        .map(|chunk| Cow::Borrowed(chunk.values().as_slice()));
    let votes = match borrowed {
        Some(votes) => votes,
        None => Cow::Owned(converted_votes(path, lf, column, cardinality, n_rows)?),
    };
    // The smallest and largest vote first (a vectorised pass), the offending row only if needed.
    let (low, high) = votes.iter().fold((i8::MAX, i8::MIN), |(low, high), value| {
        (low.min(*value), high.max(*value))
    });
    let in_range = |value: i8| value >= -1 && i64::from(value) < cardinality as i64;
    let all_in_range = votes.is_empty() || (in_range(low) && in_range(high));
    if !all_in_range && let Some(row) = votes.iter().position(|value| !in_range(*value)) {
        return Err(vote(path, lf, row, i64::from(votes[row]), cardinality).unwrap_err());
    }
    Ok(votes)
}

/// The error for a column `lf` that does not hold integer votes.
fn not_votes(path: &Path, lf: &str, column: &polars::prelude::Column) -> MatrixReadError {
    invalid(
        path,
        format!("column `{lf}` is {}, not integer votes", column.dtype()),
    )
}

/// An integer column of another width, or with nulls or several chunks, as `i8` votes.
fn converted_votes(
    path: &Path,
    lf: &str,
    column: &polars::prelude::Column,
    cardinality: usize,
    n_rows: usize,
) -> Result<Vec<i8>, MatrixReadError> {
    if column.dtype() != &DataType::Int8 {
        // Casting to Int8 would turn large values into nulls: check the range first.
        let wide = column
            .cast(&DataType::Int64)
            .map_err(|_| not_votes(path, lf, column))?;
        let wide = wide.i64().map_err(|error| invalid(path, error))?;
        let bad = wide.iter().enumerate().find_map(|(row, value)| {
            value
                .filter(|value| *value < -1 || *value >= cardinality as i64)
                .map(|value| (row, value))
        });
        if let Some((row, value)) = bad {
            return Err(vote(path, lf, row, value, cardinality).unwrap_err());
        }
    }
    let values = column
        .cast(&DataType::Int8)
        .map_err(|_| not_votes(path, lf, column))?;
    let values = values.i8().map_err(|error| invalid(path, error))?;
    let mut votes = Vec::with_capacity(n_rows);
    for chunk in values.downcast_iter() {
        let slice = chunk.values().as_slice();
        match chunk.validity() {
            None => votes.extend_from_slice(slice),
            Some(bits) => votes.extend(
                slice
                    .iter()
                    .enumerate()
                    .map(|(row, value)| if bits.get_bit(row) { *value } else { -1 }),
            ),
        }
    }
    Ok(votes)
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

fn read_csv(path: &Path, options: &ReadOptions) -> Result<LoadedMatrix, MatrixReadError> {
    let sidecar = sidecar_path(path);
    let mut reader = csv::Reader::from_path(path).map_err(|error| invalid(path, error))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| invalid(path, error))?
        .iter()
        .map(str::to_owned)
        .collect();
    let layout = if sidecar.exists() {
        let json = std::fs::read_to_string(&sidecar).map_err(|source| MatrixReadError::Io {
            path: sidecar.clone(),
            source,
        })?;
        let layout = checked_metadata(path, &json, options)?;
        unlisted_columns(path, &headers, &layout)?;
        layout
    } else {
        Layout {
            classes: numbered_classes(path, options)?,
            lfs: headers.clone(),
            row_key: None,
        }
    };
    let position = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .ok_or_else(|| invalid(path, format!("its column `{name}` is missing")))
    };
    let lf_columns: Vec<usize> = layout
        .lfs
        .iter()
        .map(|lf| position(lf))
        .collect::<Result<_, _>>()?;
    let key_column = layout.row_key.as_deref().map(position).transpose()?;
    let cardinality = layout.classes.len();
    let (mut flat, mut keys) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|error| invalid(path, error))?;
        let line = record.position().map_or(0, csv::Position::line);
        for (lf, column) in layout.lfs.iter().zip(&lf_columns) {
            let text = record.get(*column).unwrap_or_default().trim();
            let value = if text.is_empty() {
                -1
            } else {
                text.parse::<i64>().map_err(|_| {
                    invalid(
                        path,
                        format!("line {line}, column `{lf}`: `{text}` is not an integer vote"),
                    )
                })?
            };
            flat.push(vote(path, lf, row, value, cardinality)?);
        }
        if let Some(column) = key_column {
            keys.push(record.get(column).unwrap_or_default().to_owned());
        }
    }
    let n_rows = flat.len().checked_div(layout.lfs.len()).unwrap_or(0);
    let votes = Array2::from_shape_vec((n_rows, layout.lfs.len()), flat)
        .map_err(|error| invalid(path, error))?;
    let mut matrix = LabelMatrix::new(votes, layout.lfs, layout.classes)
        .map_err(|error| invalid(path, error))?;
    if let Some(name) = layout.row_key {
        matrix = matrix
            .with_row_keys(name, RowKeys::Text(keys))
            .map_err(|error| invalid(path, error))?;
    }
    Ok(LoadedMatrix { matrix, gold: None })
}

/// The class names of a WRENCH split: `label.json` beside it maps ids to names.
fn wrench_classes(path: &Path, options: &ReadOptions) -> Result<Vec<String>, MatrixReadError> {
    let label_file = path.with_file_name("label.json");
    if !label_file.exists() {
        return numbered_classes(path, options);
    }
    let text = std::fs::read_to_string(&label_file).map_err(|source| MatrixReadError::Io {
        path: label_file.clone(),
        source,
    })?;
    let names: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).map_err(|error| {
            invalid(
                &label_file,
                format!("expected {{\"0\": \"name\", ...}}: {error}"),
            )
        })?;
    let mut by_id: Vec<(usize, String)> = Vec::with_capacity(names.len());
    for (id, name) in names {
        let id = id
            .parse::<usize>()
            .map_err(|_| invalid(&label_file, format!("class id `{id}` is not a number")))?;
        by_id.push((id, name));
    }
    by_id.sort();
    if by_id
        .iter()
        .enumerate()
        .any(|(position, (id, _))| position != *id)
    {
        return Err(invalid(
            &label_file,
            "class ids must be 0, 1, 2, ... without gaps",
        ));
    }
    if let Some(cardinality) = options.cardinality
        && cardinality != by_id.len()
    {
        return Err(invalid(
            path,
            format!(
                "--cardinality {cardinality} contradicts `{}`, which names {} classes",
                label_file.display(),
                by_id.len()
            ),
        ));
    }
    Ok(by_id.into_iter().map(|(_, name)| name).collect())
}

fn read_wrench_matrix(path: &Path, options: &ReadOptions) -> Result<LoadedMatrix, MatrixReadError> {
    let split = read_wrench(path).map_err(|error| invalid(path, error))?;
    let classes = wrench_classes(path, options)?;
    let n_lfs = split
        .rows
        .first()
        .map_or(0, |(_, record)| record.weak_labels.len());
    if let Some((id, _)) = split.rows.first().filter(|_| n_lfs == 0) {
        return Err(invalid(
            path,
            format!(
                "row `{id}` has no `weak_labels`, so the split holds no label matrix (to vote \
                 on its rows, run `labelgen apply` with LFs on it)"
            ),
        ));
    }
    let lfs: Vec<String> = (0..n_lfs).map(|index| format!("lf_{index}")).collect();
    let mut votes = Array2::from_elem((split.rows.len(), n_lfs), -1i8);
    let mut gold = Vec::with_capacity(split.rows.len());
    let mut ids = Vec::with_capacity(split.rows.len());
    for (row, (id, record)) in split.rows.iter().enumerate() {
        if record.weak_labels.len() != n_lfs {
            return Err(invalid(
                path,
                format!(
                    "row `{id}` has {} weak labels, the first row {n_lfs}",
                    record.weak_labels.len()
                ),
            ));
        }
        for (index, value) in record.weak_labels.iter().enumerate() {
            votes[[row, index]] = vote(path, &lfs[index], row, *value, classes.len())?;
        }
        if record.label < -1 || record.label >= classes.len() as i64 {
            return Err(invalid(
                path,
                format!(
                    "row `{id}` has gold label {}, outside the {} classes",
                    record.label,
                    classes.len()
                ),
            ));
        }
        gold.push(record.label);
        ids.push(id.clone());
    }
    let matrix = LabelMatrix::new(votes, lfs, classes)
        .and_then(|matrix| matrix.with_row_keys("id".to_owned(), RowKeys::Text(ids)))
        .map_err(|error| invalid(path, error))?;
    Ok(LoadedMatrix {
        matrix,
        gold: Some(gold),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::matrix_file::write_matrix;
    use ndarray::array;

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
