//! Columns and batches: the in-memory form of input rows handed to labeling functions.
//!
//! A [`Batch`] holds only the columns the LFs asked for, in the Arrow layout the plugin ABI also
//! uses (text as offsets + bytes, validity as a bitmap), so plugins read the host's buffers
//! without copying.

use serde::{Deserialize, Serialize};

/// The type of a column, as an LF needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A number as `f64`; integer columns convert to it.
    Float,
    /// A 64-bit integer.
    Int,
    /// A boolean.
    Bool,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            ColumnType::Text => "text",
            ColumnType::Float => "float",
            ColumnType::Int => "int",
            ColumnType::Bool => "bool",
        })
    }
}

/// A column to read: its name in the data and the type wanted, or `None` for its own type
/// (text for CSV), as for a row-key column carried through.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnRequest {
    /// Name of the column in the data.
    pub name: String,
    /// Wanted type; `None` keeps the column's own type.
    pub column_type: Option<ColumnType>,
}

impl ColumnRequest {
    /// The column `name` in its own type.
    pub fn own_type(name: impl Into<String>) -> ColumnRequest {
        ColumnRequest {
            name: name.into(),
            column_type: None,
        }
    }

    /// One request per name, each column in its own type.
    pub fn own_types(names: &[String]) -> Vec<ColumnRequest> {
        names.iter().map(ColumnRequest::own_type).collect()
    }
}

/// The values of a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Text: row `i` is `bytes[offsets[i]..offsets[i + 1]]`, valid UTF-8.
    Text {
        /// `len + 1` offsets into `bytes`.
        offsets: Vec<i64>,
        /// The concatenated text.
        bytes: Vec<u8>,
    },
    /// Floats.
    Float(Vec<f64>),
    /// Integers.
    Int(Vec<i64>),
    /// Booleans, one byte (0 or 1) each.
    Bool(Vec<u8>),
}

/// One column of a batch: values and an optional validity bitmap (absent = no nulls).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub(crate) values: Values,
    pub(crate) validity: Option<Vec<u8>>,
    pub(crate) len: usize,
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        match self.values {
            Values::Text { .. } => ColumnType::Text,
            Values::Float(_) => ColumnType::Float,
            Values::Int(_) => ColumnType::Int,
            Values::Bool(_) => ColumnType::Bool,
        }
    }

    /// The values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The validity bitmap, if any value is null.
    pub fn validity(&self) -> Option<&[u8]> {
        self.validity.as_deref()
    }

    /// Whether row `row` holds a value.
    #[inline]
    pub fn is_valid(&self, row: usize) -> bool {
        self.validity
            .as_ref()
            .is_none_or(|bits| bits[row / 8] & (1 << (row % 8)) != 0)
    }

    /// The text of every row (`""` for a null, and for every row of a column that is not
    /// text).
    pub fn texts(&self) -> Vec<String> {
        (0..self.len())
            .map(|row| self.text(row).unwrap_or_default().to_owned())
            .collect()
    }

    /// The text at `row`, or `None` when null or not a text column.
    #[inline]
    pub fn text(&self, row: usize) -> Option<&str> {
        match &self.values {
            Values::Text { offsets, bytes } if self.is_valid(row) => {
                let slice = &bytes[offsets[row] as usize..offsets[row + 1] as usize];
                // SAFETY: builders only accept `&str`, so every row is valid UTF-8.
                Some(unsafe { std::str::from_utf8_unchecked(slice) })
            }
            _ => None,
        }
    }

    /// The number at `row` (integers converted), or `None` when null or not numeric.
    #[inline]
    pub fn number(&self, row: usize) -> Option<f64> {
        if !self.is_valid(row) {
            return None;
        }
        match &self.values {
            Values::Float(values) => Some(values[row]),
            Values::Int(values) => Some(values[row] as f64),
            _ => None,
        }
    }
}

/// The most rows a [`ColumnBuilder`] reserves room for before they arrive.
pub const MAX_RESERVED_ROWS: usize = 1 << 20;

/// Builds a [`Column`] row by row.
#[derive(Debug)]
pub struct ColumnBuilder {
    values: Values,
    validity: Vec<u8>,
    has_null: bool,
    len: usize,
}

impl ColumnBuilder {
    /// An empty builder of `column_type`, sized for `capacity` rows.
    pub fn new(column_type: ColumnType, capacity: usize) -> Self {
        Self::with_text_bytes(column_type, capacity, capacity.saturating_mul(32))
    }

    /// An empty builder sized for `capacity` rows and, for text, `text_bytes` bytes of text.
    /// Both are hints: at most [`MAX_RESERVED_ROWS`] rows (and 32 bytes of text each) are
    /// reserved up front, so a huge hint costs nothing until rows arrive.
    pub fn with_text_bytes(column_type: ColumnType, capacity: usize, text_bytes: usize) -> Self {
        let capacity = capacity.min(MAX_RESERVED_ROWS);
        let text_bytes = text_bytes.min(MAX_RESERVED_ROWS * 32);
        let values = match column_type {
            ColumnType::Text => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Values::Text {
                    offsets,
                    bytes: Vec::with_capacity(text_bytes),
                }
            }
            ColumnType::Float => Values::Float(Vec::with_capacity(capacity)),
            ColumnType::Int => Values::Int(Vec::with_capacity(capacity)),
            ColumnType::Bool => Values::Bool(Vec::with_capacity(capacity)),
        };
        ColumnBuilder {
            values,
            validity: Vec::with_capacity(capacity / 8 + 1),
            has_null: false,
            len: 0,
        }
    }

    fn push_validity(&mut self, valid: bool) {
        if self.len.is_multiple_of(8) {
            self.validity.push(0);
        }
        if valid {
            *self.validity.last_mut().expect("pushed above") |= 1 << (self.len % 8);
        } else {
            self.has_null = true;
        }
        self.len += 1;
    }

    /// Append a text value. Panics if the builder is not for text.
    pub fn push_text(&mut self, text: &str) {
        let Values::Text { offsets, bytes } = &mut self.values else {
            unreachable!("push_text on a non-text builder")
        };
        bytes.extend_from_slice(text.as_bytes());
        offsets.push(bytes.len() as i64);
        self.push_validity(true);
    }

    /// Append a float. Panics if the builder is not for floats.
    pub fn push_float(&mut self, value: f64) {
        let Values::Float(values) = &mut self.values else {
            unreachable!("push_float on a non-float builder")
        };
        values.push(value);
        self.push_validity(true);
    }

    /// Append an integer. Panics if the builder is not for integers.
    pub fn push_int(&mut self, value: i64) {
        let Values::Int(values) = &mut self.values else {
            unreachable!("push_int on a non-int builder")
        };
        values.push(value);
        self.push_validity(true);
    }

    /// Append a boolean. Panics if the builder is not for booleans.
    pub fn push_bool(&mut self, value: bool) {
        let Values::Bool(values) = &mut self.values else {
            unreachable!("push_bool on a non-bool builder")
        };
        values.push(u8::from(value));
        self.push_validity(true);
    }

    /// Append a missing value.
    pub fn push_null(&mut self) {
        match &mut self.values {
            Values::Text { offsets, bytes } => offsets.push(bytes.len() as i64),
            Values::Float(values) => values.push(f64::NAN),
            Values::Int(values) => values.push(0),
            Values::Bool(values) => values.push(0),
        }
        self.push_validity(false);
    }

    /// Bytes held so far: values, text offsets and validity.
    pub fn memory_bytes(&self) -> usize {
        let values = match &self.values {
            Values::Text { offsets, bytes } => offsets.len() * 8 + bytes.len(),
            Values::Float(values) => values.len() * 8,
            Values::Int(values) => values.len() * 8,
            Values::Bool(values) => values.len(),
        };
        values + self.validity.len()
    }

    /// Bytes of text held so far (0 for other types).
    pub fn text_bytes(&self) -> usize {
        match &self.values {
            Values::Text { bytes, .. } => bytes.len(),
            _ => 0,
        }
    }

    /// Append every row of `other`, a builder of the same type.
    pub fn append(&mut self, other: ColumnBuilder) {
        match (&mut self.values, other.values) {
            (
                Values::Text { offsets, bytes },
                Values::Text {
                    offsets: more_offsets,
                    bytes: more_bytes,
                },
            ) => {
                let base = bytes.len() as i64;
                offsets.extend(more_offsets[1..].iter().map(|offset| offset + base));
                bytes.extend_from_slice(&more_bytes);
            }
            (Values::Float(values), Values::Float(more)) => values.extend_from_slice(&more),
            (Values::Int(values), Values::Int(more)) => values.extend_from_slice(&more),
            (Values::Bool(values), Values::Bool(more)) => values.extend_from_slice(&more),
            _ => unreachable!("append of builders of different types"),
        }
        if self.len.is_multiple_of(8) && !other.has_null {
            // Aligned and all valid: whole bytes.
            self.validity
                .extend(std::iter::repeat_n(0xff, other.len.div_ceil(8)));
            self.len += other.len;
            if let Some(last) = self.validity.last_mut()
                && !self.len.is_multiple_of(8)
            {
                *last &= (1u8 << (self.len % 8)) - 1;
            }
            return;
        }
        for row in 0..other.len {
            self.push_validity(other.validity[row / 8] & (1 << (row % 8)) != 0);
        }
    }

    /// The finished column.
    pub fn finish(self) -> Column {
        let validity = self.has_null.then_some(self.validity);
        Column {
            values: self.values,
            validity,
            len: self.len,
        }
    }
}

impl From<Column> for ColumnBuilder {
    fn from(column: Column) -> Self {
        let validity = column
            .validity
            .unwrap_or_else(|| vec![0xff; column.len.div_ceil(8)]);
        let has_null = (0..column.len).any(|row| validity[row / 8] & (1 << (row % 8)) == 0);
        ColumnBuilder {
            values: column.values,
            validity,
            has_null,
            len: column.len,
        }
    }
}

/// A run of consecutive input rows: the requested columns, in request order.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Index of the first row in the whole input.
    pub first_row: u64,
    /// Number of rows.
    pub n_rows: usize,
    /// The columns, in the order they were requested.
    pub columns: Vec<Column>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: &[Option<&str>]) -> ColumnBuilder {
        let mut builder = ColumnBuilder::new(ColumnType::Text, values.len());
        for value in values {
            match value {
                Some(text) => builder.push_text(text),
                None => builder.push_null(),
            }
        }
        builder
    }

    #[test]
    fn appending_keeps_every_value_and_null_at_any_alignment() {
        let first: Vec<Option<&str>> = (0..11)
            .map(|row| if row % 4 == 1 { None } else { Some("x") })
            .collect();
        for split in 0..=first.len() {
            let mut builder = texts(&first[..split]);
            builder.append(texts(&first[split..]));
            let column = builder.finish();
            let back: Vec<Option<&str>> = (0..column.len()).map(|row| column.text(row)).collect();
            assert_eq!(back, first, "split at {split}");
        }
        let mut all_valid = texts(&[Some("a"); 8]);
        all_valid.append(texts(&[Some("b"), Some("c")]));
        let column = all_valid.finish();
        assert_eq!(column.validity(), None);
        assert_eq!(column.text(9), Some("c"));
    }
}
