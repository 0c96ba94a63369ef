//! Sufficient statistics of a label matrix: its distinct vote rows ("patterns") and how often
//! each occurs.
//!
//! Every label model here depends on the matrix only through these counts, under the
//! assumption that rows are independent: fitting costs grow with the number of distinct
//! patterns, not with n, and counts from shards of a dataset add up ([`PatternCounts::merge`]).
//! Patterns are kept sparse (the LFs that voted and their votes), in sorted order, so
//! everything computed from them is deterministic.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::matrix::{ABSTAIN, LabelMatrix};

/// Rows per parallel work item when counting.
const COUNT_CHUNK_ROWS: usize = 1 << 16;

/// Distinct vote patterns of a label matrix with their counts.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternCounts {
    n_lfs: usize,
    cardinality: usize,
    /// Per pattern, its non-abstain votes as (LF index, class), LF order; pattern `p` is
    /// `votes[offsets[p]..offsets[p + 1]]`.
    offsets: Vec<usize>,
    votes: Vec<(u32, u8)>,
    counts: Vec<u64>,
    n_rows: u64,
}

/// Errors combining statistics.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot merge statistics of {left_lfs} LFs x {left_classes} classes with {right_lfs} LFs x {right_classes} classes"
)]
pub struct MergeError {
    left_lfs: usize,
    left_classes: usize,
    right_lfs: usize,
    right_classes: usize,
}

impl PatternCounts {
    /// Count the distinct rows of `matrix`, in parallel.
    pub fn from_matrix(matrix: &LabelMatrix) -> Self {
        let n_lfs = matrix.n_lfs();
        let votes = matrix.votes();
        let rows: Vec<&[i8]> = match votes.as_slice() {
            Some(flat) if n_lfs > 0 => flat.chunks(n_lfs).collect(),
            _ => votes
                .rows()
                .into_iter()
                .map(|row| row.to_slice().unwrap_or(&[]))
                .collect(),
        };
        let partial: Vec<HashMap<&[i8], u64>> = rows
            .par_chunks(COUNT_CHUNK_ROWS)
            .map(|chunk| {
                let mut counts: HashMap<&[i8], u64> = HashMap::new();
                for row in chunk {
                    *counts.entry(*row).or_insert(0) += 1;
                }
                counts
            })
            .collect();
        let mut merged: HashMap<&[i8], u64> = HashMap::new();
        for counts in partial {
            for (row, count) in counts {
                *merged.entry(row).or_insert(0) += count;
            }
        }
        let mut dense: Vec<(&[i8], u64)> = merged.into_iter().collect();
        dense.sort_unstable();
        let mut result = PatternCounts::empty(n_lfs, matrix.cardinality());
        for (row, count) in dense {
            result.push_dense(row, count);
        }
        result
    }

    /// No patterns yet.
    pub fn empty(n_lfs: usize, cardinality: usize) -> Self {
        PatternCounts {
            n_lfs,
            cardinality,
            offsets: vec![0],
            votes: Vec::new(),
            counts: Vec::new(),
            n_rows: 0,
        }
    }

    fn push_dense(&mut self, row: &[i8], count: u64) {
        for (lf, vote) in row.iter().enumerate() {
            if *vote != ABSTAIN {
                self.votes.push((lf as u32, *vote as u8));
            }
        }
        self.offsets.push(self.votes.len());
        self.counts.push(count);
        self.n_rows += count;
    }

    /// Add the counts of `other` (statistics of another shard of the same LFs and classes).
    pub fn merge(&self, other: &PatternCounts) -> Result<PatternCounts, MergeError> {
        if self.n_lfs != other.n_lfs || self.cardinality != other.cardinality {
            return Err(MergeError {
                left_lfs: self.n_lfs,
                left_classes: self.cardinality,
                right_lfs: other.n_lfs,
                right_classes: other.cardinality,
            });
        }
        let mut all: Vec<(Vec<i8>, u64)> = self
            .dense_patterns()
            .chain(other.dense_patterns())
            .collect();
        all.sort_unstable();
        let mut result = PatternCounts::empty(self.n_lfs, self.cardinality);
        let mut index = 0;
        while index < all.len() {
            let mut count = all[index].1;
            while index + 1 < all.len() && all[index + 1].0 == all[index].0 {
                index += 1;
                count += all[index].1;
            }
            result.push_dense(&all[index].0, count);
            index += 1;
        }
        Ok(result)
    }

    fn dense_patterns(&self) -> impl Iterator<Item = (Vec<i8>, u64)> + '_ {
        (0..self.len()).map(|pattern| {
            let mut row = vec![ABSTAIN; self.n_lfs];
            for (lf, vote) in self.pattern(pattern) {
                row[*lf as usize] = *vote as i8;
            }
            (row, self.counts[pattern])
        })
    }

    /// Number of distinct patterns.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Number of rows counted.
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// Number of LFs.
    pub fn n_lfs(&self) -> usize {
        self.n_lfs
    }

    /// Number of classes.
    pub fn cardinality(&self) -> usize {
        self.cardinality
    }

    /// The non-abstain votes of pattern `pattern`, as (LF index, class) in LF order.
    pub fn pattern(&self, pattern: usize) -> &[(u32, u8)] {
        &self.votes[self.offsets[pattern]..self.offsets[pattern + 1]]
    }

    /// How many rows have pattern `pattern`.
    pub fn count(&self, pattern: usize) -> u64 {
        self.counts[pattern]
    }

    /// Per LF, per class, how many rows it voted that class in.
    pub fn vote_counts(&self) -> Vec<Vec<u64>> {
        let mut counts = vec![vec![0u64; self.cardinality]; self.n_lfs];
        for pattern in 0..self.len() {
            for (lf, vote) in self.pattern(pattern) {
                counts[*lf as usize][*vote as usize] += self.counts[pattern];
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn matrix(votes: ndarray::Array2<i8>) -> LabelMatrix {
        let names = (0..votes.ncols()).map(|lf| format!("lf{lf}")).collect();
        LabelMatrix::new(votes, names, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn distinct_rows_are_counted_in_sorted_order() {
        let counts = PatternCounts::from_matrix(&matrix(array![
            [0, -1],
            [1, 1],
            [0, -1],
            [-1, -1],
            [1, 1],
            [0, -1]
        ]));
        assert_eq!(counts.n_rows(), 6);
        assert_eq!(counts.len(), 3);
        // Sorted as dense rows: [-1, -1] < [0, -1] < [1, 1].
        assert_eq!((counts.pattern(0), counts.count(0)), (&[][..], 1));
        assert_eq!((counts.pattern(1), counts.count(1)), (&[(0, 0)][..], 3));
        assert_eq!(
            (counts.pattern(2), counts.count(2)),
            (&[(0, 1), (1, 1)][..], 2)
        );
        assert_eq!(counts.vote_counts(), [[3, 2], [0, 2]]);
    }

    #[test]
    fn shards_merge_to_the_whole() {
        let whole = PatternCounts::from_matrix(&matrix(array![[0, -1], [1, 1], [0, -1], [-1, 0]]));
        let first = PatternCounts::from_matrix(&matrix(array![[0, -1], [1, 1]]));
        let second = PatternCounts::from_matrix(&matrix(array![[0, -1], [-1, 0]]));
        assert_eq!(first.merge(&second).unwrap(), whole);
        assert_eq!(second.merge(&first).unwrap(), whole);
        let other = PatternCounts::from_matrix(&matrix(array![[0]]));
        assert!(first.merge(&other).is_err());
    }
}
