//! Unit-test LFs on a few rows with `cargo test`, without labelgen.
//!
//! Build the rows column by column with [`TestRows`], then run one LF function on them with
//! [`TestRows::votes`], or an LF of the whole plugin, as labelgen would run it, with
//! [`Plugin::test`]: it passes the LF only the columns it declared, so an LF reading a column
//! it did not declare fails here as it would in labelgen.
//!
//! ```
//! use labelgen_sdk::testing::TestRows;
//! use labelgen_sdk::{Class, ColumnType, Plugin, Row};
//!
//! const SPAM: Class = Class::new(1);
//!
//! fn shouting(row: &Row) -> Option<Class> {
//!     (row.text("text")?.matches('!').count() >= 3).then_some(SPAM)
//! }
//!
//! fn plugin() -> Plugin {
//!     Plugin::new("demo", "0.1.0", &["HAM", "SPAM"])
//!         .lf("shouting", &[("text", ColumnType::Text)], shouting)
//! }
//!
//! let rows = TestRows::new().text("text", [Some("WIN NOW!!!"), Some("nice song"), None]);
//! assert_eq!(rows.votes(shouting), [Some(SPAM), None, None]);
//! assert_eq!(plugin().test("shouting", &rows), [Some(SPAM), None, None]);
//! ```

use crate::abi::{ColumnView, DTYPE_BOOL, DTYPE_FLOAT, DTYPE_INT, DTYPE_TEXT};
use crate::row::Row;
use crate::{Class, ColumnType, Plugin};

/// A few rows, in the layout labelgen passes to plugins.
#[derive(Debug, Default)]
pub struct TestRows {
    n_rows: Option<usize>,
    columns: Vec<TestColumn>,
}

#[derive(Debug)]
struct TestColumn {
    name: String,
    column_type: ColumnType,
    /// Bit `i` set when row `i` holds a value.
    validity: Vec<u8>,
    /// Text offsets (`n_rows + 1`), empty for other types.
    offsets: Vec<i64>,
    /// Text bytes, or the values' bytes.
    values: Vec<u8>,
}

impl TestRows {
    /// No rows yet: add columns, all of the same length.
    pub fn new() -> TestRows {
        TestRows::default()
    }

    /// Add a text column: `["a", "b"]`, or `[Some("a"), None]` for missing values.
    pub fn text<'v, V: Into<Option<&'v str>>>(
        self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> TestRows {
        let values: Vec<Option<&str>> = values.into_iter().map(Into::into).collect();
        let mut offsets = vec![0i64];
        let mut bytes = Vec::new();
        for value in &values {
            bytes.extend_from_slice(value.unwrap_or_default().as_bytes());
            offsets.push(bytes.len() as i64);
        }
        self.push(name, ColumnType::Text, &values, offsets, bytes)
    }

    /// Add a numeric column (read with [`Row::float`]).
    pub fn float<V: Into<Option<f64>>>(
        self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> TestRows {
        self.fixed(name, ColumnType::Float, values, f64::to_ne_bytes)
    }

    /// Add an integer column (read with [`Row::int`]).
    pub fn int<V: Into<Option<i64>>>(
        self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> TestRows {
        self.fixed(name, ColumnType::Int, values, i64::to_ne_bytes)
    }

    /// Add a boolean column (read with [`Row::bool`]).
    pub fn bool<V: Into<Option<bool>>>(
        self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> TestRows {
        self.fixed(name, ColumnType::Bool, values, |value| [u8::from(value)])
    }

    /// Add a column of fixed-size values, `N` bytes each.
    fn fixed<T: Copy + Default, V: Into<Option<T>>, const N: usize>(
        self,
        name: &str,
        column_type: ColumnType,
        values: impl IntoIterator<Item = V>,
        to_bytes: fn(T) -> [u8; N],
    ) -> TestRows {
        let values: Vec<Option<T>> = values.into_iter().map(Into::into).collect();
        let bytes = values
            .iter()
            .flat_map(|value| to_bytes(value.unwrap_or_default()))
            .collect();
        self.push(name, column_type, &values, Vec::new(), bytes)
    }

    fn push<T>(
        mut self,
        name: &str,
        column_type: ColumnType,
        values: &[Option<T>],
        offsets: Vec<i64>,
        bytes: Vec<u8>,
    ) -> TestRows {
        match self.n_rows {
            Some(n_rows) if n_rows != values.len() => panic!(
                "column `{name}` has {} rows but the columns before it have {n_rows}",
                values.len()
            ),
            _ => self.n_rows = Some(values.len()),
        }
        assert!(
            self.columns.iter().all(|column| column.name != name),
            "column `{name}` is added twice"
        );
        let mut validity = vec![0u8; values.len().div_ceil(8)];
        for (index, value) in values.iter().enumerate() {
            if value.is_some() {
                validity[index / 8] |= 1 << (index % 8);
            }
        }
        self.columns.push(TestColumn {
            name: name.to_owned(),
            column_type,
            validity,
            offsets,
            values: bytes,
        });
        self
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.n_rows.unwrap_or(0)
    }

    /// True before any column is added, or when the columns are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run `lf` on every row, seeing every column; `None` is an abstention.
    pub fn votes<F>(&self, lf: F) -> Vec<Option<Class>>
    where
        F: Fn(&Row<'_>) -> Option<Class>,
    {
        let names: Vec<(String, ColumnType)> = self
            .columns
            .iter()
            .map(|column| (column.name.clone(), column.column_type))
            .collect();
        self.run(&names, &lf)
    }

    /// Run `lf` on every row with the columns `specs` (which must exist with these types).
    fn run(
        &self,
        specs: &[(String, ColumnType)],
        lf: &dyn Fn(&Row<'_>) -> Option<Class>,
    ) -> Vec<Option<Class>> {
        let views: Vec<ColumnView> = specs
            .iter()
            .map(|(name, column_type)| self.view(name, *column_type))
            .collect();
        (0..self.len())
            .map(|index| {
                lf(&Row {
                    columns: &views,
                    specs,
                    index,
                    row_number: index as u64,
                })
            })
            .collect()
    }

    fn view(&self, name: &str, column_type: ColumnType) -> ColumnView {
        let Some(column) = self.columns.iter().find(|column| column.name == name) else {
            let names: Vec<&str> = self
                .columns
                .iter()
                .map(|column| column.name.as_str())
                .collect();
            panic!(
                "the LF declares column `{name}`, which the test rows lack; they have {names:?}"
            );
        };
        assert_eq!(
            column.column_type,
            column_type,
            "column `{name}` is declared as {} but the test rows hold {}",
            column_type.name(),
            column.column_type.name()
        );
        ColumnView {
            dtype: match column_type {
                ColumnType::Text => DTYPE_TEXT,
                ColumnType::Float => DTYPE_FLOAT,
                ColumnType::Int => DTYPE_INT,
                ColumnType::Bool => DTYPE_BOOL,
            },
            validity: column.validity.as_ptr(),
            offsets: if column.offsets.is_empty() {
                std::ptr::null()
            } else {
                column.offsets.as_ptr()
            },
            values: column.values.as_ptr(),
        }
    }
}

impl Plugin {
    /// Run the plugin's LF `lf_name` on `rows` as labelgen would: it sees only the columns it
    /// declared, and a vote outside the plugin's classes fails. Panics (failing the test) with
    /// a message when the LF is unknown, a declared column is missing from `rows`, or the LF
    /// panics.
    pub fn test(&self, lf_name: &str, rows: &TestRows) -> Vec<Option<Class>> {
        let Some(lf) = self.lfs.iter().find(|lf| lf.name == lf_name) else {
            let names: Vec<&str> = self.lfs.iter().map(|lf| lf.name.as_str()).collect();
            panic!("the plugin has no LF `{lf_name}`; it has {names:?}");
        };
        let votes = rows.run(&lf.columns, &lf.function);
        for (row, vote) in votes.iter().enumerate() {
            if let Some(class) = vote {
                assert!(
                    usize::from(class.id()) < self.classes.len(),
                    "LF `{lf_name}` voted class {} on row {row}, but the plugin declares {} \
                     classes ({:?})",
                    class.id(),
                    self.classes.len(),
                    self.classes
                );
            }
        }
        votes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAM: Class = Class::new(0);
    const SPAM: Class = Class::new(1);

    fn rows() -> TestRows {
        TestRows::new()
            .text("text", [Some("Check out my channel"), Some("nice"), None])
            .float("score", [Some(0.9), None, Some(0.1)])
            .int("likes", [3, 0, 7])
            .bool("reply", [true, false, true])
    }

    #[test]
    fn every_column_type_reads_back_with_missing_values() {
        let seen = rows().votes(|row| {
            let text = row.text("text");
            let score = row.float("score");
            let likes = row.int("likes")?;
            let reply = row.bool("reply")?;
            match (text, score, likes, reply) {
                (Some("Check out my channel"), Some(0.9), 3, true) => Some(SPAM),
                (Some("nice"), None, 0, false) => Some(HAM),
                (None, Some(0.1), 7, true) => Some(SPAM),
                _ => None,
            }
        });
        assert_eq!(seen, [Some(SPAM), Some(HAM), Some(SPAM)]);
    }

    fn plugin() -> Plugin {
        Plugin::new("t", "0", &["HAM", "SPAM"])
            .lf("mentions_channel", &[("text", ColumnType::Text)], |row| {
                row.text("text")?.contains("channel").then_some(SPAM)
            })
            .lf("sneaky", &[("text", ColumnType::Text)], |row| {
                row.int("likes").map(|_| HAM)
            })
            .lf("third_class", &[], |_| Some(Class::new(2)))
    }

    #[test]
    fn plugin_lfs_see_only_their_declared_columns() {
        assert_eq!(
            plugin().test("mentions_channel", &rows()),
            [Some(SPAM), None, None]
        );
        let undeclared = std::panic::catch_unwind(|| plugin().test("sneaky", &rows())).unwrap_err();
        let message = undeclared.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("reads column `likes` but declared only"),
            "{message}"
        );
    }

    #[test]
    #[should_panic(expected = "voted class 2 on row 0, but the plugin declares 2 classes")]
    fn votes_outside_the_classes_fail() {
        plugin().test("third_class", &rows());
    }

    #[test]
    #[should_panic(expected = "the plugin has no LF `nope`")]
    fn unknown_lfs_are_named() {
        plugin().test("nope", &rows());
    }

    #[test]
    #[should_panic(expected = "column `b` has 1 rows but the columns before it have 2")]
    fn columns_must_have_the_same_length() {
        let _ = TestRows::new().text("a", ["x", "y"]).text("b", ["z"]);
    }
}
