//! Label matrices in Parquet: labelgen's own (one `i8` column per LF, metadata in the
//! file) and other tools' integer vote tables, turned row-major in 8 x 8 byte blocks.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use ndarray::Array2;
use polars::prelude::{DataType, ParquetReader, SerReader};
use rayon::prelude::*;

use super::{
    LoadedMatrix, MatrixReadError, ReadOptions, checked_metadata, foreign_layout, invalid,
    unlisted_columns, vote,
};
use crate::io::matrix_file::METADATA_KEY;
use crate::matrix::{LabelMatrix, RowKeys};

pub(super) fn read_parquet(
    path: &Path,
    options: &ReadOptions,
) -> Result<LoadedMatrix, MatrixReadError> {
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
pub(super) fn row_major(columns: &[impl AsRef<[i8]> + Sync], n_rows: usize) -> Vec<i8> {
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
pub(super) fn transpose_8x8(mut x: [u64; 8]) -> [u64; 8] {
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

pub(super) fn bytes_of(votes: &[i8]) -> [u8; 8] {
    std::array::from_fn(|index| votes[index] as u8)
}

pub(super) fn signed(bytes: [u8; 8]) -> [i8; 8] {
    bytes.map(|byte| byte as i8)
}

/// One LF column of a Parquet matrix as `i8` votes (nulls as abstains), range-checked:
/// borrowed from the column when it is one chunk of `Int8` without nulls (the usual case).
pub(super) fn parquet_votes<'a>(
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
pub(super) fn not_votes(
    path: &Path,
    lf: &str,
    column: &polars::prelude::Column,
) -> MatrixReadError {
    invalid(
        path,
        format!("column `{lf}` is {}, not integer votes", column.dtype()),
    )
}

/// An integer column of another width, or with nulls or several chunks, as `i8` votes.
pub(super) fn converted_votes(
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
