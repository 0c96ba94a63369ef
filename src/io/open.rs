//! Opening a table: the reader for its format (CSV, TSV, Parquet, NDJSON, WRENCH JSON), and
//! whole columns read at once. Apart from [`super::source`], which every reader builds on, so
//! that the readers and what they share import no file that imports them.

use std::path::Path;

use super::csv::CsvSource;
use super::json::NdjsonSource;
use super::parquet::ParquetSource;
use super::source::{BatchSource, OpenContext, TableError, TableFormat};
use super::wrench::WrenchSource;
use crate::table::{Column, ColumnBuilder, ColumnRequest, ColumnType};

/// Open `path` and check that it has every requested column with a usable type.
///
/// `needed_by` names, per requested column, who needs it (for error messages). Batches hold at
/// most `batch_rows` rows.
pub fn open_table(
    path: &Path,
    format: TableFormat,
    requests: &[ColumnRequest],
    needed_by: &dyn Fn(&str) -> String,
    batch_rows: usize,
) -> Result<Box<dyn BatchSource>, TableError> {
    let batch_rows = batch_rows.max(8);
    let context = OpenContext {
        path,
        requests,
        needed_by,
        batch_rows,
    };
    match format {
        TableFormat::Csv { delimiter } => Ok(Box::new(CsvSource::open(&context, delimiter)?)),
        TableFormat::Parquet => Ok(Box::new(ParquetSource::open(&context)?)),
        TableFormat::Ndjson => Ok(Box::new(NdjsonSource::open(&context)?)),
        TableFormat::Wrench => Ok(Box::new(WrenchSource::open(&context)?)),
    }
}

/// Read the whole of columns `names` of the table at `path`, each in its own type (text for
/// CSV). For carrying source columns into outputs; the file's rows must fit in memory.
pub fn read_columns(path: &Path, names: &[String]) -> Result<Vec<(String, Column)>, TableError> {
    let format = TableFormat::from_path(path)?;
    let requests = ColumnRequest::own_types(names);
    let mut source = open_table(path, format, &requests, &|_| String::new(), 1 << 16)?;
    let mut builders: Vec<Option<ColumnBuilder>> = names.iter().map(|_| None).collect();
    while let Some(read) = source.next_batch()? {
        for part in read.parts {
            for (builder, column) in builders.iter_mut().zip(part.columns) {
                match builder {
                    Some(builder) => builder.append(column.into()),
                    None => *builder = Some(column.into()),
                }
            }
        }
    }
    Ok(names
        .iter()
        .zip(builders)
        .map(|(name, builder)| {
            let column = builder
                .map(ColumnBuilder::finish)
                .unwrap_or_else(|| ColumnBuilder::new(ColumnType::Text, 0).finish());
            (name.clone(), column)
        })
        .collect())
}

/// The column names of the table at `path`, in file order (for a WRENCH split: `id`, `label`
/// and the keys of the first row's `data`).
pub fn column_names(path: &Path) -> Result<Vec<String>, TableError> {
    let format = TableFormat::from_path(path)?;
    // Every reader answers a request for a column the table lacks with the columns it has.
    let probe = [ColumnRequest::own_type("\u{0}labelgen: list the columns")];
    let mut source = match open_table(path, format, &probe, &|_| String::new(), 1) {
        Err(TableError::MissingColumn { available, .. }) => return Ok(available),
        Err(error) => return Err(error),
        Ok(source) => source,
    };
    match source.next_batch() {
        Err(TableError::MissingColumn { available, .. }) => Ok(available),
        Err(error) => Err(error),
        Ok(_) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_of_every_format() {
        let folder = tempfile::tempdir().unwrap();
        let csv = folder.path().join("t.csv");
        std::fs::write(&csv, "id,text,score\n1,a,2\n").unwrap();
        assert_eq!(column_names(&csv).unwrap(), ["id", "text", "score"]);
        let ndjson = folder.path().join("t.ndjson");
        std::fs::write(&ndjson, "{\"b\": 1, \"a\": \"x\"}\n").unwrap();
        let mut names = column_names(&ndjson).unwrap();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        let wrench = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/youtube/test.json");
        assert_eq!(column_names(&wrench).unwrap(), ["id", "label", "text"]);
    }
}
