//! CSV (and TSV) input, streamed in batches with exact line numbers in errors.

use std::fs::File;
use std::path::PathBuf;

use super::source::{
    BatchSource, HashingReader, OpenContext, SourceBatch, TableError, push_parsed,
};
use super::table::{Batch, ColumnBuilder, ColumnType};

/// Reads the requested columns of a CSV file with a header row.
pub(crate) struct CsvSource {
    path: PathBuf,
    reader: csv::Reader<HashingReader<File>>,
    /// Per requested column: its field index, name and type (text when the request keeps the
    /// column's own type: CSV has no types).
    fields: Vec<(usize, String, ColumnType)>,
    record: csv::ByteRecord,
    batch_rows: usize,
    next_row: u64,
    total_bytes: u64,
    finished: bool,
}

impl CsvSource {
    pub fn open(context: &OpenContext<'_>, delimiter: u8) -> Result<CsvSource, TableError> {
        let file = File::open(context.path).map_err(|source| context.io(source))?;
        let total_bytes = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 20)
            .from_reader(HashingReader::new(file));
        let path = context.path.to_owned();
        let headers = reader
            .byte_headers()
            .map_err(|error| csv_error(&path, error))?
            .clone();
        let names: Vec<String> = headers
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        let mut fields = Vec::with_capacity(context.requests.len());
        for request in context.requests {
            let Some(index) = names.iter().position(|name| *name == request.name) else {
                return Err(context.missing(&request.name, names));
            };
            fields.push((
                index,
                request.name.clone(),
                request.column_type.unwrap_or(ColumnType::Text),
            ));
        }
        Ok(CsvSource {
            path,
            reader,
            fields,
            record: csv::ByteRecord::new(),
            batch_rows: context.batch_rows,
            next_row: 0,
            total_bytes,
            finished: false,
        })
    }

    fn push_record(&self, builders: &mut [ColumnBuilder]) -> Result<(), TableError> {
        let line = self.record.position().map_or(0, |position| position.line());
        for ((index, name, column_type), builder) in self.fields.iter().zip(builders.iter_mut()) {
            let bytes = self.record.get(*index).unwrap_or_default();
            let bad_value = |message: String| TableError::BadValue {
                path: self.path.clone(),
                line,
                column: name.clone(),
                message,
            };
            let text = std::str::from_utf8(bytes).map_err(|_| {
                bad_value("not valid UTF-8; re-encode the file as UTF-8".to_owned())
            })?;
            push_parsed(builder, *column_type, text).map_err(bad_value)?;
        }
        Ok(())
    }
}

fn csv_error(path: &std::path::Path, error: csv::Error) -> TableError {
    let line = error.position().map_or(0, |position| position.line());
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(source) => TableError::Io {
            path: path.to_owned(),
            source,
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => TableError::Malformed {
            path: path.to_owned(),
            line,
            message: format!("expected {expected_len} fields, as in the header, but found {len}"),
        },
        _ => TableError::Malformed {
            path: path.to_owned(),
            line,
            message,
        },
    }
}

impl BatchSource for CsvSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        if self.finished {
            return Ok(None);
        }
        let mut builders: Vec<ColumnBuilder> = self
            .fields
            .iter()
            .map(|(_, _, column_type)| ColumnBuilder::new(*column_type, self.batch_rows))
            .collect();
        let mut n_rows = 0;
        while n_rows < self.batch_rows {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|error| csv_error(&self.path, error))?;
            if !more {
                self.finished = true;
                break;
            }
            self.push_record(&mut builders)?;
            n_rows += 1;
        }
        if n_rows == 0 {
            return Ok(None);
        }
        let batch = Batch {
            first_row: self.next_row,
            n_rows,
            columns: builders.into_iter().map(ColumnBuilder::finish).collect(),
        };
        self.next_row += n_rows as u64;
        Ok(Some(SourceBatch {
            batch,
            position: self.reader.get_ref().bytes_read,
        }))
    }

    fn progress_total(&self) -> Option<u64> {
        Some(self.total_bytes)
    }

    fn content_hash(&mut self) -> Result<blake3::Hash, TableError> {
        Ok(self.reader.get_ref().hash())
    }
}
