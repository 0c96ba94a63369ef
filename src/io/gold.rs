//! Gold labels from a column of a table, given as `FILE:COLUMN`: class ids (`-1` = unknown) or
//! class names (empty = unknown).

use std::path::{Path, PathBuf};

use super::open::read_columns;
use super::source::TableError;
use crate::table::Values;

/// Errors reading gold labels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GoldError {
    /// Not `FILE:COLUMN`.
    #[error("gold labels are given as FILE:COLUMN (for example `dev.csv:label`), got `{0}`")]
    Spec(String),
    /// The table could not be read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// A value is not a class.
    #[error(
        "`{path}` column `{column}` row {row} (counting from 0): `{value}` is not a class; the \
         classes are {classes}"
    )]
    NotAClass {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The 0-based row.
        row: usize,
        /// The value.
        value: String,
        /// The classes, as ids and names.
        classes: String,
    },
}

/// The file and column of a `FILE:COLUMN` spec, when it is one.
pub fn split_spec(spec: &str) -> Option<(&Path, &str)> {
    spec.rsplit_once(':')
        .filter(|(file, column)| !file.is_empty() && !column.is_empty())
        .map(|(file, column)| (Path::new(file), column))
}

/// Read gold labels from `spec` (`FILE:COLUMN`) for `classes`; `-1` marks an unknown label.
pub fn read_gold(spec: &str, classes: &[String]) -> Result<Vec<i64>, GoldError> {
    let Some((path, column)) = split_spec(spec) else {
        return Err(GoldError::Spec(spec.to_owned()));
    };
    let columns = read_columns(path, &[column.to_owned()])?;
    let values = &columns[0].1;
    let known: Vec<String> = classes
        .iter()
        .enumerate()
        .map(|(id, name)| format!("{id} = {name}"))
        .collect();
    let bad = |row: usize, value: String| GoldError::NotAClass {
        path: path.to_owned(),
        column: column.to_owned(),
        row,
        value,
        classes: known.join(", "),
    };
    let k = classes.len() as i64;
    (0..values.len())
        .map(|row| {
            if !values.is_valid(row) {
                return Ok(-1);
            }
            match values.values() {
                Values::Int(ids) if (-1..k).contains(&ids[row]) => Ok(ids[row]),
                Values::Int(ids) => Err(bad(row, ids[row].to_string())),
                Values::Text { .. } => {
                    let text = values.text(row).unwrap_or_default().trim();
                    if text.is_empty() {
                        return Ok(-1);
                    }
                    match (
                        classes.iter().position(|class| class == text),
                        text.parse::<i64>(),
                    ) {
                        (Some(id), _) => Ok(id as i64),
                        (None, Ok(id)) if (-1..k).contains(&id) => Ok(id),
                        _ => Err(bad(row, text.to_owned())),
                    }
                }
                Values::Float(numbers)
                    if numbers[row].fract() == 0.0 && (-1.0..k as f64).contains(&numbers[row]) =>
                {
                    Ok(numbers[row] as i64)
                }
                Values::Float(numbers) => Err(bad(row, numbers[row].to_string())),
                Values::Bool(flags) => Err(bad(row, (flags[row] != 0).to_string())),
            }
        })
        .collect()
}
