//! The row view an LF receives.

use crate::ColumnType;
use crate::abi::ColumnView;

/// One row of the input, as seen by one labeling function: only the columns it declared.
///
/// Accessors return `None` for a missing (null) value. Asking for a column the LF did not
/// declare, or with another type than declared, panics; labelgen reports that panic with the
/// LF's name and the row.
pub struct Row<'a> {
    pub(crate) columns: &'a [ColumnView],
    pub(crate) specs: &'a [(String, ColumnType)],
    pub(crate) index: usize,
    pub(crate) row_number: u64,
}

impl<'a> Row<'a> {
    /// The row's position in the whole input (0-based), for messages.
    pub fn row_number(&self) -> u64 {
        self.row_number
    }

    /// The text in column `column`, declared as [`ColumnType::Text`].
    pub fn text(&self, column: &str) -> Option<&'a str> {
        let view = self.view(column, ColumnType::Text)?;
        // SAFETY: the host passes `n_rows + 1` offsets into a buffer of valid UTF-8 (ABI
        // contract), and `index < n_rows`.
        unsafe {
            let start = *view.offsets.add(self.index);
            let end = *view.offsets.add(self.index + 1);
            let bytes =
                std::slice::from_raw_parts(view.values.add(start as usize), (end - start) as usize);
            Some(std::str::from_utf8_unchecked(bytes))
        }
    }

    /// The number in column `column`, declared as [`ColumnType::Float`].
    pub fn float(&self, column: &str) -> Option<f64> {
        let view = self.view(column, ColumnType::Float)?;
        // SAFETY: a float column holds `n_rows` f64 values (ABI contract).
        Some(unsafe { (view.values as *const f64).add(self.index).read_unaligned() })
    }

    /// The integer in column `column`, declared as [`ColumnType::Int`].
    pub fn int(&self, column: &str) -> Option<i64> {
        let view = self.view(column, ColumnType::Int)?;
        // SAFETY: an int column holds `n_rows` i64 values (ABI contract).
        Some(unsafe { (view.values as *const i64).add(self.index).read_unaligned() })
    }

    /// The boolean in column `column`, declared as [`ColumnType::Bool`].
    pub fn bool(&self, column: &str) -> Option<bool> {
        let view = self.view(column, ColumnType::Bool)?;
        // SAFETY: a bool column holds `n_rows` bytes (ABI contract).
        Some(unsafe { *view.values.add(self.index) != 0 })
    }

    /// The view of a declared column, or `None` when this row's value is null.
    fn view(&self, column: &str, wanted: ColumnType) -> Option<&'a ColumnView> {
        let Some(position) = self.specs.iter().position(|(name, _)| name == column) else {
            let declared: Vec<&str> = self.specs.iter().map(|(name, _)| name.as_str()).collect();
            panic!("the LF reads column `{column}` but declared only {declared:?}");
        };
        let declared_type = self.specs[position].1;
        if declared_type != wanted {
            panic!(
                "column `{column}` is declared as {} but read as {}",
                declared_type.name(),
                wanted.name()
            );
        }
        let view = &self.columns[position];
        if !view.validity.is_null() {
            // SAFETY: a non-null bitmap covers `n_rows` bits (ABI contract).
            let byte = unsafe { *view.validity.add(self.index / 8) };
            if byte & (1 << (self.index % 8)) == 0 {
                return None;
            }
        }
        Some(view)
    }
}
