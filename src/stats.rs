//! Sufficient statistics of a label matrix: its distinct vote rows ("patterns") and how often
//! each occurs.
//!
//! Every label model here depends on the matrix only through these counts, under the
//! assumption that rows are independent: fitting costs grow with the number of distinct
//! patterns, not with n, and counts from shards of a dataset add up ([`PatternCounts::merge`]).
//! Patterns are kept sparse (the LFs that voted and their votes), in a canonical order (by a
//! fixed hash of the row, then its bytes), so everything computed from them is deterministic
//! and shards merge to exactly the statistics of the whole.

use rayon::prelude::*;

use crate::matrix::{ABSTAIN, LabelMatrix};

/// Distinct patterns per parallel work item when building the sparse form.
const COUNT_CHUNK_ROWS: usize = 1 << 16;

/// A fixed 64-bit hash of a vote row (multiply-rotate over 8-byte words): fast, and the same on
/// every run, so it can order patterns canonically.
fn row_hash(row: &[i8]) -> u64 {
    let mut hash = row.len() as u64;
    let mut words = row.chunks_exact(8);
    for word in &mut words {
        let bytes: [u8; 8] = std::array::from_fn(|index| word[index] as u8);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(bytes))
            .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    for byte in words.remainder() {
        hash = (hash.rotate_left(5) ^ (*byte as u8 as u64)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    hash ^ (hash >> 29)
}

/// Sparse votes of consecutive patterns and the end offset of each.
type SparsePiece = (Vec<(u32, u8)>, Vec<usize>);

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
    /// Count the distinct rows of `matrix`, in parallel: hash every row, sort by (hash, row),
    /// and merge equal neighbours.
    pub fn from_matrix(matrix: &LabelMatrix) -> Self {
        let (n_lfs, n_rows) = (matrix.n_lfs(), matrix.n_rows());
        let mut result = PatternCounts::empty(n_lfs, matrix.cardinality());
        if n_rows == 0 {
            return result;
        }
        let owned: Vec<i8>;
        let flat: &[i8] = match matrix.votes().as_slice() {
            Some(flat) => flat,
            None => {
                owned = matrix.votes().iter().copied().collect();
                &owned
            }
        };
        let row = |index: usize| &flat[index * n_lfs..(index + 1) * n_lfs];
        let mut keys: Vec<(u64, usize)> = (0..n_rows)
            .into_par_iter()
            .map(|index| (row_hash(row(index)), index))
            .collect();
        keys.par_sort_unstable_by(|left, right| {
            left.0
                .cmp(&right.0)
                .then_with(|| row(left.1).cmp(row(right.1)))
        });
        // (first row, count) of each distinct row, in the canonical order.
        let mut groups: Vec<(usize, u64)> = Vec::new();
        let mut previous: Option<(u64, usize)> = None;
        for (hash, index) in keys {
            match (previous, groups.last_mut()) {
                (Some((last_hash, last_index)), Some(group))
                    if last_hash == hash && row(last_index) == row(index) =>
                {
                    group.1 += 1
                }
                _ => {
                    groups.push((index, 1));
                    previous = Some((hash, index));
                }
            }
        }
        // Sparse votes of each distinct row, built in parallel chunks and joined in order.
        let pieces: Vec<SparsePiece> = groups
            .par_chunks(COUNT_CHUNK_ROWS)
            .map(|chunk| {
                let mut votes = Vec::with_capacity(chunk.len() * n_lfs / 2);
                let mut ends = Vec::with_capacity(chunk.len());
                for (index, _) in chunk {
                    for (lf, vote) in row(*index).iter().enumerate() {
                        if *vote != ABSTAIN {
                            votes.push((lf as u32, *vote as u8));
                        }
                    }
                    ends.push(votes.len());
                }
                (votes, ends)
            })
            .collect();
        result
            .votes
            .reserve(pieces.iter().map(|(votes, _)| votes.len()).sum());
        result.offsets.reserve(groups.len());
        for (votes, ends) in pieces {
            let base = result.votes.len();
            result.votes.extend_from_slice(&votes);
            result.offsets.extend(ends.iter().map(|end| base + end));
        }
        for (_, count) in groups {
            result.counts.push(count);
            result.n_rows += count;
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
        all.sort_unstable_by(|left, right| {
            (row_hash(&left.0), &left.0).cmp(&(row_hash(&right.0), &right.0))
        });
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
    fn distinct_rows_are_counted() {
        let votes = array![[0, -1], [1, 1], [0, -1], [-1, -1], [1, 1], [0, -1]];
        let counts = PatternCounts::from_matrix(&matrix(votes));
        assert_eq!(counts.n_rows(), 6);
        assert_eq!(counts.len(), 3);
        let mut found: Vec<(Vec<(u32, u8)>, u64)> = (0..counts.len())
            .map(|pattern| (counts.pattern(pattern).to_vec(), counts.count(pattern)))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [(vec![], 1), (vec![(0, 0)], 3), (vec![(0, 1), (1, 1)], 2)]
        );
        assert_eq!(counts.vote_counts(), [[3, 2], [0, 2]]);
    }

    #[test]
    fn the_order_does_not_depend_on_row_order() {
        let forward = PatternCounts::from_matrix(&matrix(array![[0, -1], [1, 1], [-1, 0], [1, 1]]));
        let backward =
            PatternCounts::from_matrix(&matrix(array![[1, 1], [-1, 0], [1, 1], [0, -1]]));
        assert_eq!(forward, backward);
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
