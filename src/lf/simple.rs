//! Tests of one value: numeric comparison, text length, lookup of a whole value.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

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

/// Whether the token or character count of `text` compares true to `value`. Counting stops
/// once it has passed `value` (every comparison with `value` then has the same answer), so long
/// texts are not counted to the end.
pub(crate) fn length_holds(text: &str, unit: LengthUnit, op: Comparison, value: f64) -> bool {
    let limit = if value < 0.0 { 0 } else { value as usize + 1 };
    let count = match unit {
        LengthUnit::Tokens => labelgen_sdk::text::token_count_up_to(text, limit + 1),
        LengthUnit::Chars if text.is_ascii() => text.len().min(limit + 1),
        LengthUnit::Chars => text.chars().take(limit + 1).count(),
    };
    op.holds(count as f64, value)
}

/// A list of whole values, lower-cased unless case-sensitive.
#[derive(Clone, Debug)]
pub(crate) struct ValueList {
    entries: HashSet<String>,
    case_sensitive: bool,
}

impl ValueList {
    /// The list of `entries`, compared with or without case.
    pub fn new(entries: Vec<String>, case_sensitive: bool) -> ValueList {
        let entries = entries
            .into_iter()
            .map(|entry| {
                if case_sensitive {
                    entry
                } else {
                    entry.to_lowercase()
                }
            })
            .collect();
        ValueList {
            entries,
            case_sensitive,
        }
    }

    /// Whether the whole of `text` is in the list.
    pub fn contains(&self, text: &str) -> bool {
        if self.case_sensitive || (text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()))
        {
            self.entries.contains(text)
        } else {
            self.entries.contains(&text.to_lowercase())
        }
    }

    /// A digest of the entries and the case mode, for telling lists apart.
    pub fn fingerprint(&self) -> String {
        let mut entries: Vec<&str> = self.entries.iter().map(String::as_str).collect();
        entries.sort_unstable();
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[u8::from(self.case_sensitive)]);
        for entry in entries {
            hasher.update(entry.as_bytes()).update(b"\0");
        }
        hasher.finalize().to_hex().to_string()
    }

    /// The entries, sorted (lower-cased unless case-sensitive).
    #[cfg(test)]
    pub fn sorted(&self) -> Vec<&str> {
        let mut entries: Vec<&str> = self.entries.iter().map(String::as_str).collect();
        entries.sort_unstable();
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let less = |text| length_holds(text, LengthUnit::Tokens, Comparison::Less, 5.0);
        assert!(less("a b  c\td"));
        assert!(!less("one two three four five"));
        assert!(less(""));
        let exactly = |text| length_holds(text, LengthUnit::Tokens, Comparison::Equal, 5.0);
        assert!(exactly("one two three four five"));
        assert!(!exactly("one two three four five six seven"));
    }

    #[test]
    fn length_counts_unicode_chars() {
        let at_most_3 = |text| length_holds(text, LengthUnit::Chars, Comparison::LessOrEqual, 3.0);
        assert!(at_most_3("été"));
        assert!(!at_most_3("abcd"));
        assert!(length_holds(
            "",
            LengthUnit::Chars,
            Comparison::Greater,
            -1.0
        ));
    }

    #[test]
    fn lookup_matches_whole_values_with_optional_case() {
        let insensitive = ValueList::new(vec!["Spam Bot".to_owned()], false);
        assert!(insensitive.contains("spam bot"));
        assert!(insensitive.contains("SPAM BOT"));
        assert!(!insensitive.contains("spam bot 2"));
        assert!(!insensitive.contains("alice"));
        let sensitive = ValueList::new(vec!["Spam Bot".to_owned()], true);
        assert!(sensitive.contains("Spam Bot"));
        assert!(!sensitive.contains("spam bot"));
    }
}
