//! WRENCH benchmark split files: `{id: {"label": gold or -1, "weak_labels": [...], "data": {...}}}`.
//!
//! As a table, a split has the columns `id` (the key, text), `label` (the gold class, integer;
//! -1 = unknown) and one column per field of `data`, in file order of the rows.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};

use super::json::{json_type, push_json};
use super::source::{BatchSource, OpenContext, SourceBatch, TableError};
use crate::table::{Batch, ColumnBuilder, ColumnType};

/// One row of a WRENCH split.
#[derive(Clone, Debug, Deserialize)]
pub struct WrenchRecord {
    /// Gold class id, or -1 when unknown.
    #[serde(default = "unknown_label")]
    pub label: i64,
    /// One vote per LF, -1 = abstain.
    #[serde(default)]
    pub weak_labels: Vec<i64>,
    /// The input fields.
    #[serde(default)]
    pub data: Map<String, Value>,
}

fn unknown_label() -> i64 {
    -1
}

/// A whole WRENCH split, rows in file order.
#[derive(Clone, Debug)]
pub struct WrenchSplit {
    /// Row keys and records, in file order.
    pub rows: Vec<(String, WrenchRecord)>,
    /// BLAKE3 hash of the file.
    pub hash: blake3::Hash,
}

struct OrderedRows(Vec<(String, WrenchRecord)>);

impl<'de> Deserialize<'de> for OrderedRows {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowsVisitor;
        impl<'de> Visitor<'de> for RowsVisitor {
            type Value = OrderedRows;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("an object mapping row ids to {label, weak_labels, data}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedRows, A::Error> {
                let mut rows = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, WrenchRecord>()? {
                    rows.push(entry);
                }
                Ok(OrderedRows(rows))
            }
        }
        deserializer.deserialize_map(RowsVisitor)
    }
}

/// Read a WRENCH split file.
pub fn read_wrench(path: &Path) -> Result<WrenchSplit, TableError> {
    let bytes = std::fs::read(path).map_err(|source| TableError::Io {
        path: path.to_owned(),
        source,
    })?;
    let hash = blake3::hash(&bytes);
    let rows =
        serde_json::from_slice::<OrderedRows>(&bytes).map_err(|error| TableError::Malformed {
            path: path.to_owned(),
            line: error.line() as u64,
            message: format!("not a WRENCH split file: {error}"),
        })?;
    Ok(WrenchSplit { rows: rows.0, hash })
}

enum Field {
    Id,
    Label,
    Data(String),
}

/// Serves a WRENCH split as a table.
pub(crate) struct WrenchSource {
    path: PathBuf,
    split: WrenchSplit,
    fields: Vec<(Field, ColumnType)>,
    next_row: usize,
    batch_rows: usize,
}

impl WrenchSource {
    pub fn open(context: &OpenContext<'_>) -> Result<WrenchSource, TableError> {
        let split = read_wrench(context.path)?;
        let first = split.rows.first().map(|(_, record)| record);
        let mut fields = Vec::with_capacity(context.requests.len());
        for request in context.requests {
            let (field, own_type) = match request.name.as_str() {
                "id" => (Field::Id, ColumnType::Text),
                "label" => (Field::Label, ColumnType::Int),
                name => {
                    let value = first.and_then(|record| record.data.get(name));
                    if first.is_some() && value.is_none() {
                        let mut available = vec!["id".to_owned(), "label".to_owned()];
                        available.extend(
                            first
                                .into_iter()
                                .flat_map(|record| record.data.keys().cloned()),
                        );
                        return Err(context.missing(name, available));
                    }
                    (
                        Field::Data(name.to_owned()),
                        value.and_then(json_type).unwrap_or(ColumnType::Text),
                    )
                }
            };
            let column_type = request.column_type.unwrap_or(own_type);
            let compatible = match field {
                Field::Id => column_type == ColumnType::Text,
                Field::Label => matches!(column_type, ColumnType::Int | ColumnType::Float),
                Field::Data(_) => true,
            };
            if !compatible {
                return Err(context.wrong_type(&request.name, column_type, own_type.to_string()));
            }
            fields.push((field, column_type));
        }
        Ok(WrenchSource {
            path: context.path.to_owned(),
            split,
            fields,
            next_row: 0,
            batch_rows: context.batch_rows,
        })
    }
}

impl BatchSource for WrenchSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        let start = self.next_row;
        let end = start
            .saturating_add(self.batch_rows)
            .min(self.split.rows.len());
        if start >= end {
            return Ok(None);
        }
        let mut builders: Vec<ColumnBuilder> = self
            .fields
            .iter()
            .map(|(_, column_type)| ColumnBuilder::new(*column_type, end - start))
            .collect();
        for (id, record) in &self.split.rows[start..end] {
            for ((field, column_type), builder) in self.fields.iter().zip(builders.iter_mut()) {
                let result = match field {
                    Field::Id => {
                        builder.push_text(id);
                        Ok(())
                    }
                    Field::Label if *column_type == ColumnType::Float => {
                        builder.push_float(record.label as f64);
                        Ok(())
                    }
                    Field::Label => {
                        builder.push_int(record.label);
                        Ok(())
                    }
                    Field::Data(name) => push_json(builder, *column_type, record.data.get(name)),
                };
                result.map_err(|message| TableError::BadField {
                    path: self.path.clone(),
                    row: id.clone(),
                    field: field_name(field).to_owned(),
                    message,
                })?;
            }
        }
        self.next_row = end;
        let batch = Batch {
            first_row: start as u64,
            n_rows: end - start,
            columns: builders.into_iter().map(ColumnBuilder::finish).collect(),
        };
        Ok(Some(SourceBatch {
            parts: vec![batch],
            position: end as u64,
        }))
    }

    fn progress_total(&self) -> Option<u64> {
        Some(self.split.rows.len() as u64)
    }

    fn content_hash(&mut self) -> Result<blake3::Hash, TableError> {
        Ok(self.split.hash)
    }
}

fn field_name(field: &Field) -> &str {
    match field {
        Field::Id => "id",
        Field::Label => "label",
        Field::Data(name) => name,
    }
}
