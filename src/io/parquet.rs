//! Parquet input through polars, one row slice at a time so memory stays bounded.

use std::fs::File;
use std::path::PathBuf;

use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};

use super::source::{BatchSource, OpenContext, SourceBatch, TableError};
use crate::table::{Batch, ColumnBuilder, ColumnType};

type Metadata = polars::io::parquet::metadata::FileMetadataRef;

/// The labelgen type of a polars column type, if it has one.
fn native_type(dtype: &DataType) -> Option<ColumnType> {
    match dtype {
        DataType::String => Some(ColumnType::Text),
        DataType::Float32 | DataType::Float64 => Some(ColumnType::Float),
        DataType::Boolean => Some(ColumnType::Bool),
        dtype if dtype.is_integer() => Some(ColumnType::Int),
        _ => None,
    }
}

/// Reads the requested columns of a Parquet file in row slices.
pub(crate) struct ParquetSource {
    path: PathBuf,
    metadata: Metadata,
    columns: Vec<(String, ColumnType)>,
    total_rows: usize,
    next_row: usize,
    batch_rows: usize,
}

fn parquet_error(path: &std::path::Path, error: impl std::fmt::Display) -> TableError {
    TableError::Parquet {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

impl ParquetSource {
    pub fn open(context: &OpenContext<'_>) -> Result<ParquetSource, TableError> {
        let path = context.path;
        let file = File::open(path).map_err(|source| context.io(source))?;
        let mut reader = ParquetReader::new(file);
        let metadata = reader
            .get_metadata()
            .map_err(|error| parquet_error(path, error))?
            .clone();
        let total_rows = metadata.num_rows;
        let empty = reader
            .with_slice(Some((0, 0)))
            .finish()
            .map_err(|error| parquet_error(path, error))?;
        let mut columns = Vec::with_capacity(context.requests.len());
        for request in context.requests {
            let Some(column) = empty.column(&request.name).ok() else {
                let available = empty
                    .get_column_names()
                    .iter()
                    .map(|name| name.to_string())
                    .collect();
                return Err(context.missing(&request.name, available));
            };
            let dtype = column.dtype();
            let own = native_type(dtype);
            let column_type = match (request.column_type, own) {
                (None, Some(own)) => own,
                (Some(ColumnType::Float), Some(ColumnType::Int | ColumnType::Float)) => {
                    ColumnType::Float
                }
                (Some(wanted), Some(own)) if wanted == own => own,
                (wanted, _) => {
                    return Err(context.wrong_type(
                        &request.name,
                        wanted.unwrap_or(ColumnType::Text),
                        dtype.to_string(),
                    ));
                }
            };
            columns.push((request.name.clone(), column_type));
        }
        Ok(ParquetSource {
            path: path.to_owned(),
            metadata,
            columns,
            total_rows,
            next_row: 0,
            batch_rows: context.batch_rows,
        })
    }

    fn read_slice(&self, start: usize, len: usize) -> Result<DataFrame, TableError> {
        let file = File::open(&self.path).map_err(|source| TableError::Io {
            path: self.path.clone(),
            source,
        })?;
        // Each column once: a request may name a column twice (the row key is also an LF's
        // input, `--keep-columns text,text`), and polars refuses a projection that does.
        let mut names: Vec<String> = Vec::with_capacity(self.columns.len());
        for (name, _) in &self.columns {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        let mut reader = ParquetReader::new(file)
            .with_columns(Some(names))
            .with_slice(Some((start, len)));
        reader.set_metadata(self.metadata.clone());
        reader
            .finish()
            .map_err(|error| parquet_error(&self.path, error))
    }
}

fn convert(
    series: &polars::prelude::Series,
    column_type: ColumnType,
) -> polars::prelude::PolarsResult<ColumnBuilder> {
    let mut builder = ColumnBuilder::new(column_type, series.len());
    match column_type {
        ColumnType::Text => series.str()?.iter().for_each(|value| match value {
            Some(text) => builder.push_text(text),
            None => builder.push_null(),
        }),
        ColumnType::Float => series
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .for_each(|value| match value {
                Some(number) => builder.push_float(number),
                None => builder.push_null(),
            }),
        ColumnType::Int => {
            series
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .for_each(|value| match value {
                    Some(number) => builder.push_int(number),
                    None => builder.push_null(),
                })
        }
        ColumnType::Bool => series.bool()?.iter().for_each(|value| match value {
            Some(flag) => builder.push_bool(flag),
            None => builder.push_null(),
        }),
    }
    Ok(builder)
}

impl BatchSource for ParquetSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        if self.next_row >= self.total_rows {
            return Ok(None);
        }
        let len = self.batch_rows.min(self.total_rows - self.next_row);
        let frame = self.read_slice(self.next_row, len)?;
        let mut columns = Vec::with_capacity(self.columns.len());
        for (name, column_type) in &self.columns {
            let series = frame
                .column(name)
                .map_err(|error| parquet_error(&self.path, error))?
                .as_materialized_series();
            let builder =
                convert(series, *column_type).map_err(|error| parquet_error(&self.path, error))?;
            columns.push(builder.finish());
        }
        let batch = Batch {
            first_row: self.next_row as u64,
            n_rows: len,
            columns,
        };
        self.next_row += len;
        Ok(Some(SourceBatch {
            parts: vec![batch],
            position: self.next_row as u64,
        }))
    }

    fn progress_total(&self) -> Option<u64> {
        Some(self.total_rows as u64)
    }

    fn content_hash(&mut self) -> Result<blake3::Hash, TableError> {
        let mut file = File::open(&self.path).map_err(|source| TableError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut hasher = blake3::Hasher::new();
        std::io::copy(&mut file, &mut hasher).map_err(|source| TableError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(hasher.finalize())
    }
}
