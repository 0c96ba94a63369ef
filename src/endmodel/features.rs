//! Text features: hashed word n-grams (and optional character n-grams) with TF-IDF weights.
//!
//! - Tokens: maximal runs of alphanumeric characters or `_` in the lowercased text (Unicode
//!   `char::to_lowercase`), so `"Check-it OUT!!"` gives `check`, `it`, `out`.
//! - Word n-grams for `n` in `1..=word_ngrams` (default 2: unigrams and bigrams); character
//!   n-grams of lengths `char_ngrams` (default 4 only) inside each token padded with one space
//!   on both sides (scikit-learn's `char_wb`). Character n-grams let the classifier generalise
//!   across spellings, inflections and words no LF named (`subscribe`, `subscribed`,
//!   `subscribers`); one length keeps the feature count, and so training time, moderate.
//! - Each n-gram is hashed (64-bit FNV-1a over its bytes, with a kind tag and separators, then
//!   SplitMix64's finaliser) into `2^hash_bits` buckets. No vocabulary to store, and the same
//!   text always gives the same features.
//! - Term frequency `tf` is the bucket's count, or `1 + ln(count)` with `sublinear_tf`
//!   (default); `idf(f) = ln((1 + n) / (1 + df(f))) + 1` over the training rows (scikit-learn's
//!   smooth idf); each row is scaled to unit L2 norm.
//!
//! [`FeatureConfig`] is saved with the classifier, so prediction featurises exactly as training
//! did.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How text becomes features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Number of hash buckets is `2^hash_bits`.
    pub hash_bits: u32,
    /// Word n-grams from 1 to this (0 = none).
    pub word_ngrams: usize,
    /// Character n-gram lengths (inclusive range), if any.
    pub char_ngrams: Option<(usize, usize)>,
    /// `1 + ln(count)` instead of the count.
    pub sublinear_tf: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            hash_bits: 18,
            word_ngrams: 2,
            char_ngrams: Some((4, 4)),
            sublinear_tf: true,
        }
    }
}

/// Rows of sparse features (compressed sparse rows), indices sorted within each row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseRows {
    /// `offsets[i]..offsets[i + 1]` are row `i`'s entries.
    pub offsets: Vec<usize>,
    /// Feature (bucket) of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub values: Vec<f32>,
}

impl SparseRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `row` as (indices, values).
    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let range = self.offsets[row]..self.offsets[row + 1];
        (&self.indices[range.clone()], &self.values[range])
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn finish(mut hash: u64) -> u64 {
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// The tokens of `text`: lowercased runs of alphanumeric characters and `_`.
pub fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for character in text.chars() {
        if character.is_alphanumeric() || character == '_' {
            current.extend(character.to_lowercase());
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

impl FeatureConfig {
    /// Number of feature buckets.
    pub fn dimension(&self) -> usize {
        1 << self.hash_bits
    }

    fn bucket(&self, hash: u64) -> u32 {
        (finish(hash) & (self.dimension() as u64 - 1)) as u32
    }

    /// The bucket of each n-gram of `text`, with repeats (unsorted).
    pub fn buckets(&self, text: &str) -> Vec<u32> {
        let tokens = tokens(text);
        let mut buckets = Vec::new();
        for n in 1..=self.word_ngrams {
            for gram in tokens.windows(n) {
                let mut hash = fnv(FNV_OFFSET, &[b'w', n as u8]);
                for token in gram {
                    hash = fnv(hash, token.as_bytes());
                    hash = fnv(hash, &[0x1f]);
                }
                buckets.push(self.bucket(hash));
            }
        }
        if let Some((low, high)) = self.char_ngrams {
            for token in &tokens {
                let padded: Vec<char> = std::iter::once(' ')
                    .chain(token.chars())
                    .chain(std::iter::once(' '))
                    .collect();
                for n in low..=high {
                    for gram in padded.windows(n) {
                        let mut hash = fnv(FNV_OFFSET, &[b'c', n as u8]);
                        let mut buffer = [0u8; 4];
                        for character in gram {
                            hash = fnv(hash, character.encode_utf8(&mut buffer).as_bytes());
                        }
                        buckets.push(self.bucket(hash));
                    }
                }
            }
        }
        buckets
    }

    /// Term frequencies of each text (sorted buckets, tf weights), in parallel; row order kept.
    pub fn term_frequencies<S: AsRef<str> + Sync>(&self, texts: &[S]) -> SparseRows {
        let rows: Vec<(Vec<u32>, Vec<f32>)> = texts
            .par_iter()
            .map(|text| {
                let mut buckets = self.buckets(text.as_ref());
                buckets.sort_unstable();
                let mut indices = Vec::new();
                let mut values = Vec::new();
                for bucket in buckets {
                    if indices.last() == Some(&bucket) {
                        *values.last_mut().expect("paired") += 1.0;
                    } else {
                        indices.push(bucket);
                        values.push(1.0f32);
                    }
                }
                if self.sublinear_tf {
                    for value in &mut values {
                        *value = 1.0 + value.ln();
                    }
                }
                (indices, values)
            })
            .collect();
        let mut sparse = SparseRows {
            offsets: Vec::with_capacity(rows.len() + 1),
            indices: Vec::new(),
            values: Vec::new(),
        };
        sparse.offsets.push(0);
        for (indices, values) in rows {
            sparse.indices.extend(indices);
            sparse.values.extend(values);
            sparse.offsets.push(sparse.indices.len());
        }
        sparse
    }
}

/// Inverse document frequencies from the training rows: `(bucket, idf)` for every bucket
/// seen, in bucket order. Buckets never seen in training get no weight (their features are
/// dropped at prediction).
pub fn inverse_document_frequency(rows: &SparseRows) -> Vec<(u32, f32)> {
    // Indices are unique within a row, so counting entries counts documents.
    let dimension = rows.indices.iter().max().map_or(0, |max| *max as usize + 1);
    let mut document_frequency = vec![0u64; dimension];
    for index in &rows.indices {
        document_frequency[*index as usize] += 1;
    }
    let n = rows.len() as f64;
    document_frequency
        .into_iter()
        .enumerate()
        .filter(|(_, df)| *df > 0)
        .map(|(bucket, df)| {
            (
                bucket as u32,
                (((1.0 + n) / (1.0 + df as f64)).ln() + 1.0) as f32,
            )
        })
        .collect()
}

/// Multiply each entry by its bucket's idf (dropping buckets without one), scale each row to
/// unit L2 norm, and renumber the features by their position in `idf` (so a model has one
/// weight per bucket seen in training, not per possible bucket), in place.
pub fn apply_idf(rows: &mut SparseRows, idf: &[(u32, f32)]) {
    let mut kept_indices = Vec::with_capacity(rows.indices.len());
    let mut kept_values = Vec::with_capacity(rows.values.len());
    let mut offsets = Vec::with_capacity(rows.offsets.len());
    offsets.push(0);
    for row in 0..rows.len() {
        let (indices, values) = rows.row(row);
        let start = kept_values.len();
        for (index, value) in indices.iter().zip(values) {
            if let Ok(position) = idf.binary_search_by_key(index, |(bucket, _)| *bucket) {
                kept_indices.push(position as u32);
                kept_values.push(value * idf[position].1);
            }
        }
        let norm = kept_values[start..]
            .iter()
            .map(|value| f64::from(*value) * f64::from(*value))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            for value in &mut kept_values[start..] {
                *value = (f64::from(*value) / norm) as f32;
            }
        }
        offsets.push(kept_indices.len());
    }
    *rows = SparseRows {
        offsets,
        indices: kept_indices,
        values: kept_values,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lowercased_alphanumeric_runs() {
        assert_eq!(
            tokens("Check-it OUT!! ÉTÉ_2 x"),
            ["check", "it", "out", "été_2", "x"]
        );
        assert!(tokens(" !! ").is_empty());
    }

    #[test]
    fn hashing_is_fixed_and_n_grams_are_counted() {
        let config = FeatureConfig::default();
        // FNV-1a of the empty input is the offset basis (the published constant).
        assert_eq!(fnv(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (published test vector).
        assert_eq!(fnv(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        // Three tokens: 3 unigrams + 2 bigrams; order matters for bigrams only.
        let buckets = config.buckets("a b a");
        assert_eq!(buckets.len(), 5);
        assert_eq!(
            buckets[0], buckets[2],
            "the two `a` unigrams share a bucket"
        );
        assert_ne!(buckets[3], buckets[4], "`a b` and `b a` differ");
        assert!(
            buckets
                .iter()
                .all(|bucket| (*bucket as usize) < config.dimension())
        );
        // Case and punctuation do not matter.
        assert_eq!(config.buckets("A, B; a!"), buckets);
        // Character n-grams of "ab" padded to " ab ": 2 bigrams... (" a", "ab", "b ") and
        // trigrams (" ab", "ab ").
        let chars = FeatureConfig {
            word_ngrams: 0,
            char_ngrams: Some((2, 3)),
            ..FeatureConfig::default()
        };
        assert_eq!(chars.buckets("ab").len(), 5);
    }

    /// A hand-computed TF-IDF: three documents, raw counts.
    ///
    /// Docs: "x x y", "y", "z". With unigrams only and raw tf: n = 3; df(x) = 1, df(y) = 2,
    /// df(z) = 1; idf(x) = ln(4/2) + 1 = 1.693147, idf(y) = ln(4/3) + 1 = 1.287682. Row 0 before
    /// normalising: x = 2 · 1.693147 = 3.386294, y = 1.287682; norm = 3.622860; so x = 0.934702,
    /// y = 0.355432. Rows 1 and 2 have a single feature: 1.0.
    #[test]
    fn tf_idf_by_hand() {
        let config = FeatureConfig {
            word_ngrams: 1,
            sublinear_tf: false,
            ..FeatureConfig::default()
        };
        let mut rows = config.term_frequencies(&["x x y", "y", "z"]);
        let idf = inverse_document_frequency(&rows);
        assert_eq!(idf.len(), 3);
        let bucket = |word: &str| config.buckets(word)[0];
        let idf_of = |word: &str| idf.iter().find(|(b, _)| *b == bucket(word)).unwrap().1;
        assert!((idf_of("x") - 1.693_147).abs() < 1e-6);
        assert!((idf_of("y") - 1.287_682).abs() < 1e-6);
        apply_idf(&mut rows, &idf);
        let (indices, values) = rows.row(0);
        let position =
            |word: &str| idf.iter().position(|(b, _)| *b == bucket(word)).unwrap() as u32;
        let value = |word: &str| values[indices.iter().position(|i| *i == position(word)).unwrap()];
        assert!((value("x") - 0.934_702).abs() < 1e-6, "{values:?}");
        assert!((value("y") - 0.355_432).abs() < 1e-6, "{values:?}");
        assert_eq!(rows.row(1).1, [1.0]);
        // A bucket unseen in training is dropped at prediction.
        let mut unseen = config.term_frequencies(&["w y"]);
        apply_idf(&mut unseen, &idf);
        assert_eq!(unseen.row(0).0, [position("y")]);
    }
}
