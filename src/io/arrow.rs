//! Tables held in memory as Arrow record batches (the Python package's DataFrames, Spark's
//! partitions), read as a [`BatchSource`] so that `apply` treats them exactly as files.
//!
//! Each record batch is a struct array whose fields are the columns. A requested column is found
//! by name and converted by the same rules as a Parquet column: text (`Utf8`, `LargeUtf8`,
//! `Utf8View`, or a dictionary of those), floating point, integers (read as floats where an LF
//! wants a number), booleans, or all-null; any other type is refused naming the column. The
//! input's "content hash" hashes the requested columns' values in row order, each with its
//! type, so it does not depend on how the rows were split into batches.

use std::collections::BTreeMap;
use std::path::PathBuf;

use polars_arrow::array::{
    Array, BooleanArray, DictionaryArray, DictionaryKey, PrimitiveArray, StructArray, Utf8Array,
    Utf8ViewArray,
};
use polars_arrow::datatypes::ArrowDataType;

use super::source::{BatchSource, SourceBatch, TableError};
use crate::table::{Batch, Column, ColumnBuilder, ColumnRequest, ColumnType, Values};

/// Record batches, each a struct array of the table's columns, or the error that ended them.
pub type RecordBatches = Box<dyn Iterator<Item = Result<Box<dyn Array>, String>> + Send>;

/// An in-memory Arrow table read batch by batch.
pub struct ArrowSource {
    /// How errors name the input (for example `DataFrame`).
    name: PathBuf,
    batches: RecordBatches,
    requests: Vec<ColumnRequest>,
    /// Per requested column, who needs it (" (needed by LF `x`)"), for error messages.
    needed_by: BTreeMap<String, String>,
    next_row: u64,
    hasher: blake3::Hasher,
}

impl ArrowSource {
    /// A source over `batches` that yields the `requests` columns; `name` is how errors name the
    /// input; `needed_by` says who needs each column.
    pub fn new(
        name: impl Into<PathBuf>,
        batches: RecordBatches,
        requests: &[ColumnRequest],
        needed_by: BTreeMap<String, String>,
    ) -> ArrowSource {
        ArrowSource {
            name: name.into(),
            batches,
            requests: requests.to_vec(),
            needed_by,
            next_row: 0,
            hasher: blake3::Hasher::new(),
        }
    }

    fn needed_by(&self, column: &str) -> String {
        self.needed_by.get(column).cloned().unwrap_or_default()
    }

    fn malformed(&self, message: String) -> TableError {
        TableError::Malformed {
            path: self.name.clone(),
            line: self.next_row + 1,
            message,
        }
    }

    /// The requested columns of one record batch.
    fn convert(&mut self, batch: &dyn Array) -> Result<Batch, TableError> {
        let Some(batch) = batch.as_any().downcast_ref::<StructArray>() else {
            return Err(self.malformed(format!(
                "a record batch is a {:?}, not a struct of columns",
                batch.dtype()
            )));
        };
        let ArrowDataType::Struct(fields) = batch.dtype().to_storage() else {
            unreachable!("a struct array has a struct type");
        };
        let names: Vec<String> = fields.iter().map(|field| field.name.to_string()).collect();
        let mut columns = Vec::with_capacity(self.requests.len());
        for request in &self.requests {
            let mut found = names
                .iter()
                .enumerate()
                .filter(|(_, n)| **n == request.name);
            let index = match (found.next(), found.next()) {
                (Some((index, _)), None) => index,
                (Some((first, _)), Some((second, _))) => {
                    return Err(TableError::DuplicateColumn {
                        path: self.name.clone(),
                        column: request.name.clone(),
                        first,
                        second,
                    });
                }
                (None, _) => {
                    return Err(TableError::MissingColumn {
                        path: self.name.clone(),
                        column: request.name.clone(),
                        needed_by: self.needed_by(&request.name),
                        available: names.clone(),
                    });
                }
            };
            columns.push(self.column(request, batch.values()[index].as_ref())?);
        }
        hash_rows(&mut self.hasher, &columns);
        let n_rows = batch.len();
        let converted = Batch {
            first_row: self.next_row,
            n_rows,
            columns,
        };
        self.next_row += n_rows as u64;
        Ok(converted)
    }

    /// One column, as `request` wants it.
    fn column(&self, request: &ColumnRequest, array: &dyn Array) -> Result<Column, TableError> {
        let dtype = array.dtype().to_storage();
        let own = native_type(dtype);
        let column_type = match (request.column_type, own) {
            (wanted, None) if *dtype == ArrowDataType::Null => wanted.unwrap_or(ColumnType::Text),
            (None, Some(own)) => own,
            (Some(ColumnType::Float), Some(ColumnType::Int | ColumnType::Float)) => {
                ColumnType::Float
            }
            (Some(wanted), Some(own)) if wanted == own => own,
            (wanted, _) => {
                return Err(TableError::WrongType {
                    path: self.name.clone(),
                    column: request.name.clone(),
                    expected: wanted.unwrap_or(ColumnType::Text),
                    found: format!("{dtype:?}"),
                    needed_by: self.needed_by(&request.name),
                });
            }
        };
        let mut builder = ColumnBuilder::new(column_type, array.len());
        if *dtype == ArrowDataType::Null {
            (0..array.len()).for_each(|_| builder.push_null());
            return Ok(builder.finish());
        }
        match column_type {
            ColumnType::Text => push_texts(&mut builder, array),
            ColumnType::Float => push_floats(&mut builder, array),
            ColumnType::Int => {
                push_ints(&mut builder, array).map_err(|(row, value)| TableError::BadValue {
                    path: self.name.clone(),
                    line: self.next_row + row as u64 + 1,
                    column: request.name.clone(),
                    message: format!("{value} does not fit a 64-bit integer"),
                })?
            }
            ColumnType::Bool => {
                let array = array
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .expect("boolean");
                array.iter().for_each(|value| match value {
                    Some(value) => builder.push_bool(value),
                    None => builder.push_null(),
                });
            }
        }
        Ok(builder.finish())
    }
}

/// The column type an Arrow type reads as, if any.
fn native_type(dtype: &ArrowDataType) -> Option<ColumnType> {
    match dtype {
        ArrowDataType::Utf8 | ArrowDataType::LargeUtf8 | ArrowDataType::Utf8View => {
            Some(ColumnType::Text)
        }
        ArrowDataType::Dictionary(_, values, _) => {
            (native_type(values.to_storage()) == Some(ColumnType::Text)).then_some(ColumnType::Text)
        }
        ArrowDataType::Float32 | ArrowDataType::Float64 => Some(ColumnType::Float),
        ArrowDataType::Boolean => Some(ColumnType::Bool),
        ArrowDataType::Int8
        | ArrowDataType::Int16
        | ArrowDataType::Int32
        | ArrowDataType::Int64
        | ArrowDataType::UInt8
        | ArrowDataType::UInt16
        | ArrowDataType::UInt32
        | ArrowDataType::UInt64 => Some(ColumnType::Int),
        _ => None,
    }
}

/// The text at `row` of a text array (any of the three layouts), or `None` for a null.
fn text_at(array: &dyn Array, row: usize) -> Option<&str> {
    if array.is_null(row) {
        return None;
    }
    let any = array.as_any();
    if let Some(array) = any.downcast_ref::<Utf8ViewArray>() {
        return Some(array.value(row));
    }
    if let Some(array) = any.downcast_ref::<Utf8Array<i32>>() {
        return Some(array.value(row));
    }
    any.downcast_ref::<Utf8Array<i64>>()
        .map(|array| array.value(row))
}

fn push_texts(builder: &mut ColumnBuilder, array: &dyn Array) {
    macro_rules! dictionary {
        ($($key:ty),*) => {
            $(if let Some(array) = array.as_any().downcast_ref::<DictionaryArray<$key>>() {
                return push_dictionary(builder, array);
            })*
        };
    }
    dictionary!(i8, i16, i32, i64, u8, u16, u32, u64);
    for row in 0..array.len() {
        match text_at(array, row) {
            Some(text) => builder.push_text(text),
            None => builder.push_null(),
        }
    }
}

fn push_dictionary<K: DictionaryKey>(builder: &mut ColumnBuilder, array: &DictionaryArray<K>) {
    let values = array.values().as_ref();
    for row in 0..array.len() {
        let text = array
            .is_valid(row)
            .then(|| text_at(values, array.key_value(row)))
            .flatten();
        match text {
            Some(text) => builder.push_text(text),
            None => builder.push_null(),
        }
    }
}

/// Each value of a numeric array as `f64` (or `None`), whatever its width.
fn numbers(array: &dyn Array) -> Vec<Option<f64>> {
    macro_rules! widen {
        ($($native:ty),*) => {
            $(if let Some(array) = array.as_any().downcast_ref::<PrimitiveArray<$native>>() {
                return array.iter().map(|value| value.map(|value| *value as f64)).collect();
            })*
        };
    }
    widen!(f64, f32, i64, i32, i16, i8, u64, u32, u16, u8);
    unreachable!("a numeric array")
}

fn push_floats(builder: &mut ColumnBuilder, array: &dyn Array) {
    for value in numbers(array) {
        match value {
            Some(value) => builder.push_float(value),
            None => builder.push_null(),
        }
    }
}

/// Integers as `i64`; `Err` is the first row (and value) that does not fit.
fn push_ints(builder: &mut ColumnBuilder, array: &dyn Array) -> Result<(), (usize, u64)> {
    if let Some(array) = array.as_any().downcast_ref::<PrimitiveArray<u64>>() {
        for (row, value) in array.iter().enumerate() {
            match value {
                Some(value) => builder.push_int(i64::try_from(*value).map_err(|_| (row, *value))?),
                None => builder.push_null(),
            }
        }
        return Ok(());
    }
    macro_rules! widen {
        ($($native:ty),*) => {
            $(if let Some(array) = array.as_any().downcast_ref::<PrimitiveArray<$native>>() {
                array.iter().for_each(|value| match value {
                    Some(value) => builder.push_int(i64::from(*value)),
                    None => builder.push_null(),
                });
                return Ok(());
            })*
        };
    }
    widen!(i64, i32, i16, i8, u32, u16, u8);
    unreachable!("an integer array")
}

/// Add the rows of `columns` to `hasher`, row by row, each value with a tag of its kind (null,
/// text, float, integer, bool), so the hash of a table does not depend on how its rows were
/// split into batches.
fn hash_rows(hasher: &mut blake3::Hasher, columns: &[Column]) {
    let rows = columns.first().map_or(0, Column::len);
    for row in 0..rows {
        for column in columns {
            hash_value(hasher, column, row);
        }
    }
}

fn hash_value(hasher: &mut blake3::Hasher, column: &Column, row: usize) {
    if !column.is_valid(row) {
        hasher.update(b"n");
        return;
    }
    match column.values() {
        Values::Text { .. } => {
            let text = column.text(row).unwrap_or_default();
            hasher
                .update(b"t")
                .update(&(text.len() as u64).to_le_bytes())
                .update(text.as_bytes());
        }
        Values::Float(values) => {
            hasher.update(b"f").update(&values[row].to_le_bytes());
        }
        Values::Int(values) => {
            hasher.update(b"i").update(&values[row].to_le_bytes());
        }
        Values::Bool(values) => {
            hasher.update(b"b").update(&[values[row]]);
        }
    }
}

impl BatchSource for ArrowSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        match self.batches.next() {
            None => Ok(None),
            Some(Err(message)) => Err(self.malformed(message)),
            Some(Ok(array)) => {
                let batch = self.convert(array.as_ref())?;
                Ok(Some(SourceBatch {
                    position: self.next_row,
                    parts: vec![batch],
                }))
            }
        }
    }

    fn progress_total(&self) -> Option<u64> {
        None
    }

    fn content_hash(&mut self) -> Result<blake3::Hash, TableError> {
        Ok(self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ApplyOptions, NoProgress, apply, apply_arrow};
    use crate::lf::{LfSet, LfSource};
    use polars_arrow::datatypes::Field;

    /// The UCI comments of the first video as (id, text) pairs, read from the bundled CSV.
    fn comments() -> Vec<(String, String)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/youtube/raw/Youtube01-Psy.csv"
        );
        let columns = crate::io::open::read_columns(
            std::path::Path::new(path),
            &["COMMENT_ID".into(), "CONTENT".into()],
        )
        .unwrap();
        (0..columns[0].1.len())
            .map(|row| {
                let text = |index: usize| columns[index].1.text(row).unwrap_or_default().to_owned();
                (text(0), text(1))
            })
            .collect()
    }

    /// Record batches of `rows`, `batch_rows` rows each, with the texts as views or as offsets.
    fn batches(rows: &[(String, String)], batch_rows: usize, views: bool) -> RecordBatches {
        let text_type = if views {
            ArrowDataType::Utf8View
        } else {
            ArrowDataType::LargeUtf8
        };
        let fields = vec![
            Field::new("id".into(), ArrowDataType::Utf8View, false),
            Field::new("text".into(), text_type, true),
        ];
        let arrays: Vec<Result<Box<dyn Array>, String>> = rows
            .chunks(batch_rows)
            .map(|chunk| {
                let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
                let texts: Vec<&str> = chunk.iter().map(|(_, text)| text.as_str()).collect();
                let text: Box<dyn Array> = if views {
                    Box::new(Utf8ViewArray::from_slice_values(&texts))
                } else {
                    Box::new(Utf8Array::<i64>::from_slice(&texts))
                };
                let columns = vec![
                    Box::new(Utf8ViewArray::from_slice_values(&ids)) as Box<dyn Array>,
                    text,
                ];
                Ok(Box::new(StructArray::new(
                    ArrowDataType::Struct(fields.clone()),
                    chunk.len(),
                    columns,
                    None,
                )) as Box<dyn Array>)
            })
            .collect();
        Box::new(arrays.into_iter())
    }

    fn youtube_lfs() -> LfSet {
        let toml = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/labeling_functions/youtube_spam.toml"
        );
        LfSet::load(&[LfSource::Declarative(toml.into())]).unwrap()
    }

    /// The same rows as record batches, in any batch size and either text layout, give the
    /// votes and keys the CSV file gives, and one content hash.
    #[test]
    fn record_batches_apply_as_the_file_does() {
        let set = youtube_lfs();
        let rows = comments();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/youtube/raw/Youtube01-Psy.csv"
        );
        let options = ApplyOptions {
            column_map: [("text".to_owned(), "CONTENT".to_owned())].into(),
            id_column: Some("COMMENT_ID".to_owned()),
            ..ApplyOptions::default()
        };
        let from_file = apply(&set, std::path::Path::new(path), &options, &NoProgress).unwrap();
        let options = ApplyOptions {
            id_column: Some("id".to_owned()),
            ..ApplyOptions::default()
        };
        let mut hashes = Vec::new();
        for (batch_rows, views) in [(1000, true), (7, false), (1, true)] {
            let matrix = apply_arrow(
                &set,
                batches(&rows, batch_rows, views),
                "DataFrame",
                &options,
            )
            .unwrap();
            assert_eq!(
                matrix.votes(),
                from_file.votes(),
                "{batch_rows} rows a batch"
            );
            assert_eq!(
                matrix.row_keys().unwrap().1,
                from_file.row_keys().unwrap().1
            );
            hashes.push(matrix.provenance().unwrap().data_hash.clone());
        }
        assert!(
            hashes.windows(2).all(|pair| pair[0] == pair[1]),
            "{hashes:?}"
        );
    }

    /// A column the LFs need that the batches lack, or of another type, is named with the LF.
    #[test]
    fn missing_and_mistyped_columns_are_named() {
        let set = youtube_lfs();
        let rows = vec![("1".to_owned(), "hello".to_owned())];
        let options = ApplyOptions {
            column_map: [("text".to_owned(), "body".to_owned())].into(),
            ..ApplyOptions::default()
        };
        let error = apply_arrow(&set, batches(&rows, 1, true), "DataFrame", &options)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`body`") && error.contains("DataFrame"),
            "{error}"
        );
        assert!(error.contains("text") && error.contains("id"), "{error}");
        let numbers = StructArray::new(
            ArrowDataType::Struct(vec![Field::new(
                "text".into(),
                ArrowDataType::Float64,
                true,
            )]),
            1,
            vec![Box::new(PrimitiveArray::<f64>::from_slice([1.5])) as Box<dyn Array>],
            None,
        );
        let batches: RecordBatches =
            Box::new(vec![Ok(Box::new(numbers) as Box<dyn Array>)].into_iter());
        let error = apply_arrow(&set, batches, "DataFrame", &ApplyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`text`") && error.contains("Float64"),
            "{error}"
        );
    }
}
