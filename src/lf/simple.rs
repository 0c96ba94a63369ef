//! One-LF evaluators: numeric threshold, text length, lookup of a whole value.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Chunk, EvalError, Evaluator, VoteSink};
use crate::io::table::ColumnType;

/// A comparison operator, written as in code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `<`
    #[serde(rename = "<")]
    Less,
    /// `<=`
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `>`
    #[serde(rename = ">")]
    Greater,
    /// `>=`
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// `==`
    #[serde(rename = "==")]
    Equal,
    /// `!=`
    #[serde(rename = "!=")]
    NotEqual,
}

impl Comparison {
    /// `left op right`; false when either side is NaN (except `!=`, false too: NaN abstains).
    #[inline]
    pub fn holds(self, left: f64, right: f64) -> bool {
        if left.is_nan() || right.is_nan() {
            return false;
        }
        match self {
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Greater => left > right,
            Comparison::GreaterOrEqual => left >= right,
            Comparison::Equal => left == right,
            Comparison::NotEqual => left != right,
        }
    }
}

/// What a `length` LF counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LengthUnit {
    /// Whitespace-separated tokens (Python's `len(text.split())`).
    #[default]
    Tokens,
    /// Unicode scalar values (Python's `len(text)`).
    Chars,
}

/// Votes `class` when a numeric column compares true to `value`.
pub(crate) struct ThresholdEvaluator {
    inputs: Vec<(String, ColumnType)>,
    op: Comparison,
    value: f64,
    class: i8,
}

impl ThresholdEvaluator {
    pub fn new(column: String, op: Comparison, value: f64, class: i8) -> Self {
        ThresholdEvaluator {
            inputs: vec![(column, ColumnType::Float)],
            op,
            value,
            class,
        }
    }
}

impl Evaluator for ThresholdEvaluator {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        let column = chunk.columns[0];
        for row in 0..chunk.len {
            if column
                .number(chunk.start + row)
                .is_some_and(|number| self.op.holds(number, self.value))
            {
                sink.set(row, 0, self.class);
            }
        }
        Ok(())
    }
}

/// Votes `class` when the token or character count of a text compares true to `value`.
pub(crate) struct LengthEvaluator {
    inputs: Vec<(String, ColumnType)>,
    unit: LengthUnit,
    op: Comparison,
    value: f64,
    class: i8,
}

impl LengthEvaluator {
    pub fn new(column: String, unit: LengthUnit, op: Comparison, value: f64, class: i8) -> Self {
        LengthEvaluator {
            inputs: vec![(column, ColumnType::Text)],
            unit,
            op,
            value,
            class,
        }
    }

    /// The count, or any number above `value` once the count has passed it (every comparison
    /// with `value` then has the same answer), so long texts are not counted to the end.
    fn count(&self, text: &str) -> f64 {
        let limit = if self.value < 0.0 {
            0
        } else {
            self.value as usize + 1
        };
        let count = match self.unit {
            LengthUnit::Tokens => labelgen_sdk::text::token_count_up_to(text, limit + 1),
            LengthUnit::Chars if text.is_ascii() => text.len().min(limit + 1),
            LengthUnit::Chars => text.chars().take(limit + 1).count(),
        };
        count as f64
    }
}

impl Evaluator for LengthEvaluator {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        let column = chunk.columns[0];
        for row in 0..chunk.len {
            if let Some(text) = column.text(chunk.start + row)
                && self.op.holds(self.count(text), self.value)
            {
                sink.set(row, 0, self.class);
            }
        }
        Ok(())
    }
}

/// Votes `class` when the whole value is in a list.
pub(crate) struct LookupValueEvaluator {
    inputs: Vec<(String, ColumnType)>,
    entries: HashSet<String>,
    case_sensitive: bool,
    class: i8,
}

impl LookupValueEvaluator {
    /// `entries` must already be lower-cased when `case_sensitive` is false.
    pub fn new(column: String, entries: HashSet<String>, case_sensitive: bool, class: i8) -> Self {
        LookupValueEvaluator {
            inputs: vec![(column, ColumnType::Text)],
            entries,
            case_sensitive,
            class,
        }
    }
}

impl Evaluator for LookupValueEvaluator {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        let column = chunk.columns[0];
        for row in 0..chunk.len {
            let Some(text) = column.text(chunk.start + row) else {
                continue;
            };
            let found = if self.case_sensitive {
                self.entries.contains(text)
            } else {
                self.entries.contains(&text.to_lowercase())
            };
            if found {
                sink.set(row, 0, self.class);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::table::{Column, ColumnBuilder};

    fn text_column(values: &[Option<&str>]) -> Column {
        let mut builder = ColumnBuilder::new(ColumnType::Text, values.len());
        for value in values {
            match value {
                Some(text) => builder.push_text(text),
                None => builder.push_null(),
            }
        }
        builder.finish()
    }

    fn run(evaluator: &dyn Evaluator, column: &Column) -> Vec<i8> {
        let mut votes = vec![-1; column.len()];
        let chunk = Chunk {
            columns: vec![column],
            start: 0,
            len: column.len(),
            first_row: 0,
        };
        let mut sink = VoteSink {
            votes: &mut votes,
            stride: 1,
            outputs: &[0],
        };
        evaluator.evaluate(&chunk, &mut sink).unwrap();
        votes
    }

    #[test]
    fn comparisons_hold_as_written_and_nan_never_fires() {
        assert!(Comparison::Less.holds(1.0, 2.0));
        assert!(!Comparison::Less.holds(2.0, 2.0));
        assert!(Comparison::LessOrEqual.holds(2.0, 2.0));
        assert!(Comparison::Greater.holds(3.0, 2.0));
        assert!(Comparison::GreaterOrEqual.holds(2.0, 2.0));
        assert!(Comparison::Equal.holds(2.0, 2.0));
        assert!(Comparison::NotEqual.holds(1.0, 2.0));
        assert!(!Comparison::NotEqual.holds(f64::NAN, 2.0));
    }

    #[test]
    fn length_counts_tokens_like_python_split() {
        let column = text_column(&[
            Some("a b  c\td"),
            Some("one two three four five"),
            Some(""),
            None,
        ]);
        let evaluator =
            LengthEvaluator::new("text".into(), LengthUnit::Tokens, Comparison::Less, 5.0, 0);
        assert_eq!(run(&evaluator, &column), [0, -1, 0, -1]);
        let exactly =
            LengthEvaluator::new("text".into(), LengthUnit::Tokens, Comparison::Equal, 5.0, 1);
        assert_eq!(run(&exactly, &column), [-1, 1, -1, -1]);
    }

    #[test]
    fn length_counts_unicode_chars() {
        let column = text_column(&[Some("été"), Some("abcd")]);
        let evaluator = LengthEvaluator::new(
            "text".into(),
            LengthUnit::Chars,
            Comparison::LessOrEqual,
            3.0,
            1,
        );
        assert_eq!(run(&evaluator, &column), [1, -1]);
    }

    #[test]
    fn threshold_abstains_on_missing_values() {
        let mut builder = ColumnBuilder::new(ColumnType::Float, 4);
        builder.push_float(0.95);
        builder.push_float(0.5);
        builder.push_null();
        builder.push_float(0.9);
        let column = builder.finish();
        let evaluator = ThresholdEvaluator::new("score".into(), Comparison::GreaterOrEqual, 0.9, 0);
        assert_eq!(run(&evaluator, &column), [0, -1, -1, 0]);
    }

    #[test]
    fn lookup_matches_whole_values_with_optional_case() {
        let column = text_column(&[Some("Spam Bot"), Some("spam bot 2"), Some("alice")]);
        let entries: HashSet<String> = ["spam bot".to_owned()].into();
        let insensitive = LookupValueEvaluator::new("author".into(), entries, false, 1);
        assert_eq!(run(&insensitive, &column), [1, -1, -1]);
        let entries: HashSet<String> = ["spam bot".to_owned()].into();
        let sensitive = LookupValueEvaluator::new("author".into(), entries, true, 1);
        assert_eq!(run(&sensitive, &column), [-1, -1, -1]);
    }
}
