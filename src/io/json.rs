//! Newline-delimited JSON input, and the JSON value conversion shared with WRENCH files.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::source::{
    BATCH_BYTES, BatchSource, HashingReader, OpenContext, SourceBatch, TableError,
};
use crate::table::{Batch, ColumnBuilder, ColumnType};

/// The type a JSON value gives a column that keeps its own type.
pub(crate) fn json_type(value: &Value) -> Option<ColumnType> {
    match value {
        Value::String(_) => Some(ColumnType::Text),
        Value::Bool(_) => Some(ColumnType::Bool),
        Value::Number(number) if number.is_i64() => Some(ColumnType::Int),
        Value::Number(_) => Some(ColumnType::Float),
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Append `value` (absent or `null` = missing) as `column_type`; `Err` says why it cannot be.
pub(crate) fn push_json(
    builder: &mut ColumnBuilder,
    column_type: ColumnType,
    value: Option<&Value>,
) -> Result<(), String> {
    match (column_type, value) {
        (_, None | Some(Value::Null)) => builder.push_null(),
        (ColumnType::Text, Some(Value::String(text))) => builder.push_text(text),
        (ColumnType::Float, Some(Value::Number(number))) => {
            builder.push_float(number.as_f64().unwrap_or(f64::NAN))
        }
        (ColumnType::Int, Some(Value::Number(number))) if number.is_i64() => {
            builder.push_int(number.as_i64().expect("checked is_i64"))
        }
        (ColumnType::Bool, Some(Value::Bool(flag))) => builder.push_bool(*flag),
        (wanted, Some(other)) => {
            return Err(format!(
                "{} is needed but the value is {}",
                wanted,
                json_kind(other)
            ));
        }
    }
    Ok(())
}

/// Reads the requested fields of one JSON object per line.
pub(crate) struct NdjsonSource {
    path: PathBuf,
    reader: BufReader<HashingReader<File>>,
    fields: Vec<(String, ColumnType)>,
    /// The first object, read while opening to check the columns.
    pending: Option<(u64, Map<String, Value>)>,
    line: u64,
    line_buffer: Vec<u8>,
    batch_rows: usize,
    next_row: u64,
    total_bytes: u64,
}

impl NdjsonSource {
    pub fn open(context: &OpenContext<'_>) -> Result<NdjsonSource, TableError> {
        let file = File::open(context.path).map_err(|source| context.io(source))?;
        let total_bytes = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        let mut source = NdjsonSource {
            path: context.path.to_owned(),
            reader: BufReader::with_capacity(1 << 20, HashingReader::new(file)),
            fields: Vec::new(),
            pending: None,
            line: 0,
            line_buffer: Vec::new(),
            batch_rows: context.batch_rows,
            next_row: 0,
            total_bytes,
        };
        source.pending = source.read_object()?.map(|object| (source.line, object));
        let first = source.pending.as_ref().map(|(_, object)| object);
        for request in context.requests {
            let value = first.and_then(|object| object.get(&request.name));
            if first.is_some() && value.is_none() {
                let available = first
                    .map(|object| object.keys().cloned().collect())
                    .unwrap_or_default();
                return Err(context.missing(&request.name, available));
            }
            let column_type = request
                .column_type
                .or_else(|| value.and_then(json_type))
                .unwrap_or(ColumnType::Text);
            source.fields.push((request.name.clone(), column_type));
        }
        Ok(source)
    }

    /// The next non-blank line as an object, or `None` at the end.
    fn read_object(&mut self) -> Result<Option<Map<String, Value>>, TableError> {
        loop {
            self.line_buffer.clear();
            let count = self
                .reader
                .read_until(b'\n', &mut self.line_buffer)
                .map_err(|source| TableError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if count == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.line_buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let malformed = |message: String| TableError::Malformed {
                path: self.path.clone(),
                line: self.line,
                message,
            };
            return match serde_json::from_slice::<Value>(&self.line_buffer) {
                Ok(Value::Object(object)) => Ok(Some(object)),
                Ok(other) => Err(malformed(format!(
                    "expected a JSON object, found {}",
                    json_kind(&other)
                ))),
                Err(error) => Err(malformed(format!("invalid JSON: {error}"))),
            };
        }
    }
}

impl BatchSource for NdjsonSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        let mut builders: Vec<ColumnBuilder> = self
            .fields
            .iter()
            .map(|(_, column_type)| ColumnBuilder::new(*column_type, self.batch_rows))
            .collect();
        let (mut n_rows, mut held) = (0, 0);
        // A batch ends at `batch_rows` rows or at `BATCH_BYTES` of values, whichever comes
        // first: memory follows the data, whatever row count is asked for.
        while n_rows < self.batch_rows && held < BATCH_BYTES {
            let (line, object) = match self.pending.take() {
                Some(pending) => pending,
                None => match self.read_object()? {
                    Some(object) => (self.line, object),
                    None => break,
                },
            };
            for ((name, column_type), builder) in self.fields.iter().zip(builders.iter_mut()) {
                push_json(builder, *column_type, object.get(name)).map_err(|message| {
                    TableError::BadValue {
                        path: self.path.clone(),
                        line,
                        column: name.clone(),
                        message,
                    }
                })?;
            }
            n_rows += 1;
            if n_rows % 1024 == 0 {
                held = builders.iter().map(ColumnBuilder::memory_bytes).sum();
            }
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
            parts: vec![batch],
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
