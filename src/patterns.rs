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

use crate::matrix::{ABSTAIN, LabelMatrix, vote_bytes, voted_mask};

/// Distinct patterns per parallel work item when building the sparse form.
const COUNT_CHUNK_ROWS: usize = 1 << 16;

/// How many groups ahead the fill loop asks for the row it will copy.
const PREFETCH_DISTANCE: usize = 8;

/// Ask the processor to start loading `data` into the cache (a hint; nothing on other
/// architectures).
#[inline]
fn prefetch(data: &[i8]) {
    #[cfg(target_arch = "x86_64")]
    for line in data.chunks(64).chain(data.last().map(std::slice::from_ref)) {
        // SAFETY: a prefetch is a hint that never faults, and the pointer is in bounds.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// A fixed 64-bit hash of a vote row (multiply-rotate over 8-byte words): fast, and the same on
/// every run, so it can order patterns canonically.
fn row_hash(row: &[i8]) -> u64 {
    let bytes = vote_bytes(row);
    let mut hash = row.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    for byte in words.remainder() {
        hash = (hash.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    hash ^ (hash >> 29)
}

/// `keys` (a row's hash and what identifies the row) sorted by hash, equal hashes by `tie` on
/// the rows. The
/// hashes are uniform, so their top bits spread the keys evenly over buckets of a few keys each:
/// one counting pass and one scatter place every key in its bucket, and the buckets, sorted in
/// parallel, are tiny (several times faster than a comparison sort of the whole).
fn sort_by_hash<T: Copy + Default + Send + Sync>(
    keys: Vec<(u64, T)>,
    tie: impl Fn(T, T) -> std::cmp::Ordering + Sync,
) -> Vec<(u64, T)> {
    let compare =
        |left: &(u64, T), right: &(u64, T)| left.0.cmp(&right.0).then_with(|| tie(left.1, right.1));
    let bits = (usize::BITS - keys.len().leading_zeros())
        .saturating_sub(2)
        .clamp(1, 24);
    let bucket = |hash: u64| (hash >> (64 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for (hash, _) in &keys {
        starts[bucket(*hash) + 1] += 1;
    }
    for index in 1..starts.len() {
        starts[index] += starts[index - 1];
    }
    let mut sorted = vec![(0u64, T::default()); keys.len()];
    let mut next = starts.clone();
    for key in keys {
        let slot = &mut next[bucket(key.0)];
        sorted[*slot] = key;
        *slot += 1;
    }
    // Runs of whole buckets, about BUCKET_RUN keys each, sorted in parallel.
    const BUCKET_RUN: usize = 1 << 14;
    let mut runs = Vec::new();
    let mut rest = sorted.as_mut_slice();
    let (mut first, mut taken) = (0, 0);
    while first + 1 < starts.len() {
        let mut last = first + 1;
        while last + 1 < starts.len() && starts[last] - starts[first] < BUCKET_RUN {
            last += 1;
        }
        let (run, tail) = rest.split_at_mut(starts[last] - taken);
        runs.push((run, first, last));
        taken = starts[last];
        rest = tail;
        first = last;
    }
    runs.into_par_iter().for_each(|(run, first, last)| {
        let base = starts[first];
        for bucket in first..last {
            run[starts[bucket] - base..starts[bucket + 1] - base].sort_unstable_by(compare);
        }
    });
    sorted
}

/// Bits of a [`RowKey`] that hold the row's vote count (enough for the 2^24 LFs a [`Vote`]
/// can name).
const LENGTH_BITS: u32 = 24;

/// A row's index (40 bits) and how many votes it holds (24 bits), in one word so the sorted
/// keys carry both.
#[derive(Clone, Copy, Debug, Default)]
struct RowKey(u64);

impl RowKey {
    fn new(index: usize, votes: usize) -> Self {
        RowKey(((index as u64) << LENGTH_BITS) | votes as u64)
    }

    fn index(self) -> usize {
        (self.0 >> LENGTH_BITS) as usize
    }

    fn votes(self) -> usize {
        (self.0 & ((1 << LENGTH_BITS) - 1)) as usize
    }
}

/// One non-abstain vote: the LF's index (24 bits) and the class (8 bits), packed in 4 bytes so
/// the sparse patterns of large matrices stay small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vote(u32);

impl Vote {
    /// LF `lf` (below 2^24) voting `class`.
    pub fn new(lf: usize, class: u8) -> Vote {
        debug_assert!(lf < 1 << 24, "at most 2^24 LFs");
        Vote(((lf as u32) << 8) | u32::from(class))
    }

    /// The LF's index.
    pub fn lf(self) -> usize {
        (self.0 >> 8) as usize
    }

    /// The class voted.
    pub fn class(self) -> usize {
        (self.0 & 0xff) as usize
    }
}

/// [`PatternCounts`]' mark of a pattern whose class is not known.
const UNKNOWN_CLASS: u8 = u8::MAX;

/// Distinct vote patterns of a label matrix with their counts.
#[derive(Clone, Debug)]
pub struct PatternCounts {
    n_lfs: usize,
    cardinality: usize,
    /// Per pattern, its non-abstain votes in LF order; pattern `p` is
    /// `votes[offsets[p]..offsets[p + 1]]`.
    offsets: Vec<usize>,
    votes: Vec<Vote>,
    counts: Vec<u64>,
    /// Per pattern, its rows' known class (gold labels), or [`UNKNOWN_CLASS`]; empty when no
    /// row's class is known (see [`PatternCounts::with_labelled`]).
    known: Vec<u8>,
    n_rows: u64,
    /// [`PatternCounts::vote_counts`], computed on first use (every model asks for it).
    vote_counts: std::sync::OnceLock<Vec<Vec<u64>>>,
}

impl PartialEq for PatternCounts {
    fn eq(&self, other: &Self) -> bool {
        (self.n_lfs, self.cardinality, self.n_rows)
            == (other.n_lfs, other.cardinality, other.n_rows)
            && self.offsets == other.offsets
            && self.votes == other.votes
            && self.counts == other.counts
            && self.known == other.known
    }
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
        let flat = matrix.row_major();
        let flat: &[i8] = &flat;
        let row = |index: usize| &flat[index * n_lfs..(index + 1) * n_lfs];
        // Hash, index and vote count of every row in one pass in row order, since every later
        // pass visits rows in hash order (random access): the key carries what they need.
        assert!(
            (n_rows as u64) < 1 << (64 - LENGTH_BITS),
            "at most 2^40 rows"
        );
        let keys: Vec<(u64, RowKey)> = (0..n_rows)
            .into_par_iter()
            .map(|index| {
                let votes = row(index)
                    .chunks(64)
                    .map(|cells| voted_mask(cells).count_ones() as usize)
                    .sum();
                (row_hash(row(index)), RowKey::new(index, votes))
            })
            .collect();
        let mut keys = sort_by_hash(keys, |left, right| {
            row(left.index()).cmp(row(right.index()))
        });
        // (count, first row) of each distinct row, in the canonical order, written over the
        // sorted keys (group `g` is written once key `g` or a later one has been read), and
        // where its sparse votes will start; room for every row to be distinct (pages never
        // written are never touched).
        result.offsets.reserve(n_rows);
        let mut previous: Option<(u64, usize)> = None;
        let mut distinct = 0;
        for position in 0..keys.len() {
            let (hash, key) = keys[position];
            let index = key.index();
            match previous {
                Some((last_hash, last_index))
                    if last_hash == hash && row(last_index) == row(index) =>
                {
                    keys[distinct - 1].0 += 1
                }
                _ => {
                    keys[distinct] = (1, key);
                    distinct += 1;
                    let last = *result.offsets.last().expect("offsets start with 0");
                    result.offsets.push(last + key.votes());
                    previous = Some((hash, index));
                }
            }
        }
        keys.truncate(distinct);
        let groups = keys;
        // Sparse votes of each distinct row, written in parallel straight into place: disjoint
        // slices of the uninitialised vector, which together cover it.
        let total = *result.offsets.last().expect("offsets start with 0");
        result.votes = Vec::with_capacity(total);
        let mut slices = Vec::with_capacity(groups.len().div_ceil(COUNT_CHUNK_ROWS));
        let mut rest = &mut result.votes.spare_capacity_mut()[..total];
        for start in (0..groups.len()).step_by(COUNT_CHUNK_ROWS) {
            let end = (start + COUNT_CHUNK_ROWS).min(groups.len());
            let (slice, tail) = rest.split_at_mut(result.offsets[end] - result.offsets[start]);
            slices.push((start..end, slice));
            rest = tail;
        }
        let written: usize = slices
            .into_par_iter()
            .map(|(range, slice)| {
                let mut next = 0;
                let groups = &groups[range];
                for (position, (_, key)) in groups.iter().enumerate() {
                    // The rows come in hash order: fetch one a few groups ahead.
                    if let Some((_, ahead)) = groups.get(position + PREFETCH_DISTANCE) {
                        prefetch(row(ahead.index()));
                    }
                    // Per block of 64 LFs, a bit mask of the cells that hold a vote, then one
                    // step per vote (a quarter of the cells in a typical row), not per cell.
                    let out = &mut slice[next..next + key.votes()];
                    let mut length = 0;
                    for (block, cells) in row(key.index()).chunks(64).enumerate() {
                        let mut mask = voted_mask(cells);
                        while mask != 0 {
                            let lane = mask.trailing_zeros() as usize;
                            out[length].write(Vote::new(block * 64 + lane, cells[lane] as u8));
                            length += 1;
                            mask &= mask - 1;
                        }
                    }
                    next += length;
                }
                assert_eq!(next, slice.len(), "a slice of sparse votes was not filled");
                next
            })
            .sum();
        assert_eq!(written, total, "the sparse votes were not all written");
        // SAFETY: the slices split `[0, total)` of the spare capacity without overlap, and each
        // was written in full (both asserted above).
        unsafe { result.votes.set_len(total) };
        result.counts = groups.into_iter().map(|(count, _)| count).collect();
        result.n_rows = result.counts.iter().sum();
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
            known: Vec::new(),
            n_rows: 0,
            vote_counts: std::sync::OnceLock::new(),
        }
    }

    fn push_dense(&mut self, row: &[i8], count: u64) {
        for (lf, vote) in row.iter().enumerate() {
            if *vote != ABSTAIN {
                self.votes.push(Vote::new(lf, *vote as u8));
            }
        }
        self.offsets.push(self.votes.len());
        self.counts.push(count);
        self.n_rows += count;
        self.vote_counts = std::sync::OnceLock::new();
    }

    /// Every `step`-th pattern with its count. The canonical order is by a hash of the row, so
    /// this is a deterministic, pseudo-random sample (used to find a good starting point for a
    /// fit before the passes over every pattern).
    pub fn every_nth(&self, step: usize) -> PatternCounts {
        let mut sample = PatternCounts::empty(self.n_lfs, self.cardinality);
        // Labelled rows are few and worth more than their number: the sample keeps them all.
        let step = step.max(1);
        for pattern in 0..self.len() {
            if pattern % step == 0 || self.known_class(pattern).is_some() {
                sample.votes.extend_from_slice(self.pattern(pattern));
                sample.offsets.push(sample.votes.len());
                sample.counts.push(self.counts[pattern]);
                sample.n_rows += self.counts[pattern];
                if !self.known.is_empty() {
                    sample.known.push(self.known[pattern]);
                }
            }
        }
        sample
    }

    /// These statistics and, as more patterns, the rows of `labelled` whose class is known
    /// (`classes[row]`, `-1` = unknown, those rows skipped): each distinct (votes, class) pair
    /// with its count. Models that use known classes ([`PatternCounts::known_class`]) fit those
    /// rows with their class observed; the others see them as more rows.
    pub fn with_labelled(&self, labelled: &LabelMatrix, classes: &[i64]) -> PatternCounts {
        let k = self.cardinality;
        let mut result = self.clone();
        result.known = vec![UNKNOWN_CLASS; result.counts.len()];
        let mut rows: Vec<(Vec<i8>, u8)> = labelled
            .votes()
            .rows()
            .into_iter()
            .zip(classes)
            .filter_map(|(row, class)| {
                let class = u8::try_from(*class)
                    .ok()
                    .filter(|class| usize::from(*class) < k)?;
                Some((row.to_vec(), class))
            })
            .collect();
        rows.sort_unstable();
        for group in rows.chunk_by(|left, right| left == right) {
            result.push_dense(&group[0].0, group.len() as u64);
            result.known.push(group[0].1);
        }
        result
    }

    /// The known class of pattern `pattern`'s rows (gold labels), if any.
    pub fn known_class(&self, pattern: usize) -> Option<usize> {
        self.known
            .get(pattern)
            .filter(|class| **class != UNKNOWN_CLASS)
            .map(|class| usize::from(*class))
    }

    /// Whether some rows' class is known.
    pub fn has_labelled(&self) -> bool {
        self.known.iter().any(|class| *class != UNKNOWN_CLASS)
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
        let all = self
            .dense_patterns()
            .chain(other.dense_patterns())
            .collect();
        Ok(PatternCounts::from_dense(self.n_lfs, self.cardinality, all))
    }

    /// The statistics of the matrix made of the columns `lfs` alone (in that order): the
    /// patterns that differ only in the other columns merge. For a model fitted on some of the
    /// LFs, without a second pass over the rows.
    pub fn restricted(&self, lfs: &[usize]) -> PatternCounts {
        let projected = self
            .dense_patterns()
            .map(|(row, count)| (lfs.iter().map(|lf| row[*lf]).collect(), count))
            .collect();
        PatternCounts::from_dense(lfs.len(), self.cardinality, projected)
    }

    /// Statistics of dense vote rows (`n_lfs` votes each, `-1` = abstain, the others below
    /// `cardinality`: the caller checks) with their counts, equal rows merged, in the canonical
    /// order.
    pub(crate) fn from_dense_rows(
        n_lfs: usize,
        cardinality: usize,
        rows: Vec<(Vec<i8>, u64)>,
    ) -> PatternCounts {
        PatternCounts::from_dense(n_lfs, cardinality, rows)
    }

    /// Statistics of dense rows with counts, equal rows merged, in the canonical order.
    fn from_dense(n_lfs: usize, cardinality: usize, mut all: Vec<(Vec<i8>, u64)>) -> Self {
        all.sort_unstable_by(|left, right| {
            (row_hash(&left.0), &left.0).cmp(&(row_hash(&right.0), &right.0))
        });
        let mut result = PatternCounts::empty(n_lfs, cardinality);
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
        result
    }

    fn dense_patterns(&self) -> impl Iterator<Item = (Vec<i8>, u64)> + '_ {
        (0..self.len()).map(|pattern| {
            let mut row = vec![ABSTAIN; self.n_lfs];
            for vote in self.pattern(pattern) {
                row[vote.lf()] = vote.class() as i8;
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

    /// The non-abstain votes of pattern `pattern`, in LF order.
    pub fn pattern(&self, pattern: usize) -> &[Vote] {
        &self.votes[self.offsets[pattern]..self.offsets[pattern + 1]]
    }

    /// How many rows have pattern `pattern`.
    pub fn count(&self, pattern: usize) -> u64 {
        self.counts[pattern]
    }

    /// Per LF, per class, how many rows it voted that class in.
    pub fn vote_counts(&self) -> &[Vec<u64>] {
        self.vote_counts.get_or_init(|| self.count_votes())
    }

    fn count_votes(&self) -> Vec<Vec<u64>> {
        let k = self.cardinality;
        let flat = (0..self.len().div_ceil(COUNT_CHUNK_ROWS))
            .into_par_iter()
            .map(|chunk| {
                let mut counts = vec![0u64; self.n_lfs * k];
                let end = ((chunk + 1) * COUNT_CHUNK_ROWS).min(self.len());
                for pattern in chunk * COUNT_CHUNK_ROWS..end {
                    for vote in self.pattern(pattern) {
                        counts[vote.lf() * k + vote.class()] += self.counts[pattern];
                    }
                }
                counts
            })
            .reduce(
                || vec![0u64; self.n_lfs * k],
                |mut left, right| {
                    left.iter_mut()
                        .zip(right)
                        .for_each(|(left, right)| *left += right);
                    left
                },
            );
        flat.chunks(k.max(1)).map(<[u64]>::to_vec).collect()
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
        let mut found: Vec<(Vec<Vote>, u64)> = (0..counts.len())
            .map(|pattern| (counts.pattern(pattern).to_vec(), counts.count(pattern)))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                (vec![], 1),
                (vec![Vote::new(0, 0)], 3),
                (vec![Vote::new(0, 1), Vote::new(1, 1)], 2)
            ]
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

    /// A restriction to some LFs merges the rows that differ only in the others: the same as
    /// counting the matrix of those columns.
    #[test]
    fn a_restriction_counts_the_chosen_columns() {
        let votes = array![[0, -1, 1], [0, 1, 1], [-1, 1, -1], [0, -1, 0]];
        let whole = PatternCounts::from_matrix(&matrix(votes.clone()));
        let columns = votes.select(ndarray::Axis(1), &[2, 0]);
        let names = vec!["lf2".to_owned(), "lf0".to_owned()];
        let alone = LabelMatrix::new(columns, names, vec!["a".into(), "b".into()]).unwrap();
        assert_eq!(
            whole.restricted(&[2, 0]),
            PatternCounts::from_matrix(&alone)
        );
    }

    /// Labelled rows become patterns of their own, by (votes, class), kept whole by a sample.
    #[test]
    fn labelled_rows_are_patterns_with_a_class() {
        let stats = PatternCounts::from_matrix(&matrix(array![[0, -1], [1, 1], [0, -1]]));
        let labelled = matrix(array![[0, -1], [0, -1], [0, -1], [1, 1]]);
        let both = stats.with_labelled(&labelled, &[1, 1, -1, 0]);
        assert_eq!((both.len(), both.n_rows()), (4, 6));
        let known: Vec<(Option<usize>, u64)> = (0..both.len())
            .map(|p| (both.known_class(p), both.count(p)))
            .collect();
        assert_eq!(known[2..], [(Some(1), 2), (Some(0), 1)]);
        assert!(both.has_labelled() && !stats.has_labelled());
        let sample = both.every_nth(10);
        assert_eq!(sample.len(), 3, "pattern 0 and the two labelled ones");
        assert_eq!(sample.known_class(2), Some(0));
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

    /// Larger matrices (buckets of the hash sort spread over several parallel runs, with many
    /// duplicates or almost none): the counts are those of a plain map, the patterns come in
    /// the canonical order (hash, then bytes), and two halves merge to the whole.
    #[test]
    fn large_matrices_count_like_a_map_in_canonical_order() {
        let mut uniform = crate::test_support::uniform_stream(0x0123_4567_89ab_cdef);
        for m in [6, 30, 130] {
            let n = 60_000;
            let votes = ndarray::Array2::from_shape_fn((n, m), |_| {
                let draw = uniform();
                if draw < 0.6 {
                    -1
                } else if draw < 0.8 {
                    0
                } else {
                    1
                }
            });
            let counts = PatternCounts::from_matrix(&matrix(votes.clone()));
            let mut expected = std::collections::BTreeMap::<Vec<i8>, u64>::new();
            for row in votes.rows() {
                *expected.entry(row.to_vec()).or_default() += 1;
            }
            let dense = |pattern: usize| {
                let mut row = vec![ABSTAIN; m];
                for vote in counts.pattern(pattern) {
                    row[vote.lf()] = vote.class() as i8;
                }
                row
            };
            assert_eq!(counts.len(), expected.len(), "{m} LFs");
            assert_eq!(counts.n_rows(), n as u64);
            for pattern in 0..counts.len() {
                assert_eq!(Some(&counts.count(pattern)), expected.get(&dense(pattern)));
                if pattern > 0 {
                    let (before, here) = (dense(pattern - 1), dense(pattern));
                    assert!((row_hash(&before), &before) < (row_hash(&here), &here));
                }
            }
            let half = |range: std::ops::Range<usize>| {
                PatternCounts::from_matrix(&matrix(votes.slice(ndarray::s![range, ..]).to_owned()))
            };
            assert_eq!(half(0..n / 2).merge(&half(n / 2..n)).unwrap(), counts);
        }
    }
}
