//! Label matrices in CSV: labelgen's own (with a `.meta.json` sidecar) and other tools'
//! integer vote tables.

use std::path::Path;

use ndarray::Array2;

use super::{
    Layout, LoadedMatrix, MatrixReadError, ReadOptions, checked_metadata, invalid,
    numbered_classes, unlisted_columns, vote,
};
use crate::io::matrix_file::sidecar_path;
use crate::matrix::{LabelMatrix, RowKeys};

pub(super) fn read_csv(
    path: &Path,
    options: &ReadOptions,
) -> Result<LoadedMatrix, MatrixReadError> {
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
