//! WRENCH split files as label matrices: `weak_labels` are the votes, `label` the gold
//! labels.

use std::path::Path;

use ndarray::Array2;

use super::{LoadedMatrix, MatrixReadError, ReadOptions, invalid, numbered_classes, vote};
use crate::io::wrench::read_wrench;
use crate::matrix::{LabelMatrix, RowKeys};

/// The class names of a WRENCH split: `label.json` beside it maps ids to names.
pub(super) fn wrench_classes(
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<String>, MatrixReadError> {
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

pub(super) fn read_wrench_matrix(
    path: &Path,
    options: &ReadOptions,
) -> Result<LoadedMatrix, MatrixReadError> {
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
