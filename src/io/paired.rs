//! Columns of a data table read for the rows of a label matrix (to carry into labels, or to
//! show beside votes): the same rows in the same order, checked by the matrix's row keys when
//! the table has that column, so no row is ever paired with another row's data.

use std::path::{Path, PathBuf};

use super::open::read_columns;
use super::source::TableError;
use crate::matrix::{LabelMatrix, RowKeys};
use crate::table::Column;

/// Errors pairing a table's rows with a matrix's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PairingError {
    /// The table could not be read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The table has another number of rows.
    #[error(
        "`{path}` has {rows} rows but the label matrix has {matrix_rows}; give the table the \
         matrix was applied to"
    )]
    Rows {
        /// The table.
        path: PathBuf,
        /// Its rows.
        rows: usize,
        /// The matrix's rows.
        matrix_rows: usize,
    },
    /// A row's key differs from the matrix's key of that row.
    #[error(
        "row {row} (counting from 0) of `{path}` has `{column}` `{key}`, but that row of the label \
         matrix has `{matrix_key}`: the rows are not the ones the matrix was made from, or not in \
         its order; give the table the matrix was applied to"
    )]
    Key {
        /// The table.
        path: PathBuf,
        /// The row-key column.
        column: String,
        /// The first row that differs.
        row: usize,
        /// Its key in the table.
        key: String,
        /// Its key in the matrix.
        matrix_key: String,
    },
}

/// Columns `names` of the table at `data` (as [`read_columns`] reads them) for the rows of
/// `matrix`: the table must have as many rows and, when the matrix has row keys and the table
/// has their column, the same key on every row.
pub fn read_paired_columns(
    data: &Path,
    names: &[String],
    matrix: &LabelMatrix,
) -> Result<Vec<(String, Column)>, PairingError> {
    let key = matrix
        .row_keys()
        .filter(|(name, _)| !names.iter().any(|wanted| wanted == name));
    let mut columns = match key {
        Some((name, _)) => {
            let mut with_key = names.to_vec();
            with_key.push(name.to_owned());
            match read_columns(data, &with_key) {
                Err(TableError::MissingColumn { column, .. }) if column == name => {
                    read_columns(data, names)?
                }
                read => read?,
            }
        }
        None => read_columns(data, names)?,
    };
    if let Some(rows) = columns
        .iter()
        .map(|(_, column)| column.len())
        .find(|rows| *rows != matrix.n_rows())
    {
        return Err(PairingError::Rows {
            path: data.to_owned(),
            rows,
            matrix_rows: matrix.n_rows(),
        });
    }
    let key_column = match key {
        Some(_) if columns.len() > names.len() => columns.pop(),
        _ => None,
    };
    let Some((name, keys)) = matrix.row_keys() else {
        return Ok(columns);
    };
    let table_keys = match &key_column {
        Some((_, column)) => RowKeys::from_column(column),
        None => match columns.iter().find(|(column, _)| column == name) {
            Some((_, column)) => RowKeys::from_column(column),
            None => return Ok(columns),
        },
    };
    if let Some(row) =
        (0..keys.len()).find(|row| key_text(keys, *row) != key_text(&table_keys, *row))
    {
        return Err(PairingError::Key {
            path: data.to_owned(),
            column: name.to_owned(),
            row,
            key: key_text(&table_keys, row),
            matrix_key: key_text(keys, row),
        });
    }
    Ok(columns)
}

/// Row `row`'s key as text (integer keys printed), so text and integer keys of the same rows
/// compare equal.
fn key_text(keys: &RowKeys, row: usize) -> String {
    match keys {
        RowKeys::Text(keys) => keys[row].clone(),
        RowKeys::Int(keys) => keys[row].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn matrix(keys: RowKeys) -> LabelMatrix {
        LabelMatrix::new(
            array![[0], [1], [-1]],
            vec!["lf".into()],
            vec!["A".into(), "B".into()],
        )
        .unwrap()
        .with_row_keys("id".into(), keys)
        .unwrap()
    }

    /// The same rows pair (integer keys in the matrix, text in a CSV); another order, another
    /// row count or a table without the key column are told apart.
    #[test]
    fn rows_pair_only_with_their_own_keys() {
        let folder = tempfile::tempdir().unwrap();
        let data = folder.path().join("data.csv");
        let text = ["text".to_owned()];
        let keyed = matrix(RowKeys::Int(vec![7, 8, 9]));
        std::fs::write(&data, "id,text\n7,a\n8,b\n9,c\n").unwrap();
        let columns = read_paired_columns(&data, &text, &keyed).unwrap();
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0].1.text(2), Some("c"));

        std::fs::write(&data, "id,text\n7,a\n9,c\n8,b\n").unwrap();
        let error = read_paired_columns(&data, &text, &keyed).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "row 1 (counting from 0) of `{}` has `id` `9`, but that row of the label matrix \
                 has `8`: the rows are not the ones the matrix was made from, or not in its \
                 order; give the table the matrix was applied to",
                data.display()
            )
        );

        std::fs::write(&data, "id,text\n7,a\n8,b\n").unwrap();
        let error = read_paired_columns(&data, &text, &keyed).unwrap_err();
        assert!(
            matches!(
                error,
                PairingError::Rows {
                    rows: 2,
                    matrix_rows: 3,
                    ..
                }
            ),
            "{error}"
        );

        // Without the key column the rows pair by position, as before.
        std::fs::write(&data, "text\nx\ny\nz\n").unwrap();
        assert!(read_paired_columns(&data, &text, &keyed).is_ok());
        // Asking for the key column itself checks it too.
        std::fs::write(&data, "id,text\n7,a\n8,b\n10,c\n").unwrap();
        let error = read_paired_columns(&data, &["id".to_owned()], &keyed).unwrap_err();
        assert!(matches!(error, PairingError::Key { row: 2, .. }), "{error}");
    }
}
