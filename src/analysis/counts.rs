//! The counting kernel of [`super::analyze`]: per-LF and pairwise counts of a matrix, in one
//! parallel pass over blocks of rows with bitsets, merged exactly.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// Integer counts of one chunk of rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) m: usize,
    pub(super) k: usize,
    pub(super) covered: u64,
    pub(super) overlapped: u64,
    pub(super) conflicted: u64,
    pub(super) tied: u64,
    /// `class_votes[j k + c]`.
    pub(super) class_votes: Vec<u64>,
    pub(super) overlaps: Vec<u64>,
    pub(super) conflicts: Vec<u64>,
    /// Upper triangle, `both[a m + b]` for `a < b`.
    pub(super) both: Vec<u64>,
    pub(super) disagree: Vec<u64>,
    /// `confusion[(j k + gold) (k + 1) + vote + 1]`.
    pub(super) confusion: Vec<u64>,
    pub(super) gold_classes: Vec<u64>,
}

impl Counts {
    fn new(m: usize, k: usize, gold: bool) -> Self {
        Counts {
            m,
            k,
            covered: 0,
            overlapped: 0,
            conflicted: 0,
            tied: 0,
            class_votes: vec![0; m * k],
            overlaps: vec![0; m],
            conflicts: vec![0; m],
            both: vec![0; m * m],
            disagree: vec![0; m * m],
            confusion: if gold {
                vec![0; m * k * (k + 1)]
            } else {
                Vec::new()
            },
            gold_classes: vec![0; k],
        }
    }

    fn add(mut self, other: Counts) -> Counts {
        self.covered += other.covered;
        self.overlapped += other.overlapped;
        self.conflicted += other.conflicted;
        self.tied += other.tied;
        for (target, source) in [
            (&mut self.class_votes, &other.class_votes),
            (&mut self.overlaps, &other.overlaps),
            (&mut self.conflicts, &other.conflicts),
            (&mut self.both, &other.both),
            (&mut self.disagree, &other.disagree),
            (&mut self.confusion, &other.confusion),
            (&mut self.gold_classes, &other.gold_classes),
        ] {
            for (target, source) in target.iter_mut().zip(source) {
                *target += source;
            }
        }
        self
    }

    /// Count one row: `row` holds its votes, `gold` its gold class if known.
    #[cfg(test)]
    fn row(
        &mut self,
        row: &[i8],
        gold: Option<usize>,
        voters: &mut Vec<(usize, usize)>,
        tally: &mut [u32],
    ) {
        let (m, k) = (self.m, self.k);
        voters.clear();
        for (lf, vote) in row.iter().enumerate() {
            if *vote >= 0 {
                voters.push((lf, *vote as usize));
            }
        }
        if let Some(gold) = gold {
            self.gold_classes[gold] += 1;
            for (lf, vote) in row.iter().enumerate() {
                let cell = (lf * k + gold) * (k + 1) + (i16::from(*vote) + 1) as usize;
                self.confusion[cell] += 1;
            }
        }
        if voters.is_empty() {
            return;
        }
        self.covered += 1;
        tally.iter_mut().for_each(|count| *count = 0);
        for (lf, class) in voters.iter() {
            self.class_votes[lf * k + class] += 1;
            tally[*class] += 1;
        }
        let distinct = tally.iter().filter(|count| **count > 0).count();
        let most = tally.iter().copied().max().unwrap_or(0);
        if tally.iter().filter(|count| **count == most).count() > 1 {
            self.tied += 1;
        }
        let overlapped = voters.len() > 1;
        let conflicted = distinct > 1;
        self.overlapped += u64::from(overlapped);
        self.conflicted += u64::from(conflicted);
        for (index, (a, class_a)) in voters.iter().enumerate() {
            self.overlaps[*a] += u64::from(overlapped);
            self.conflicts[*a] += u64::from(conflicted);
            for (b, class_b) in &voters[index + 1..] {
                self.both[a * m + b] += 1;
                self.disagree[a * m + b] += u64::from(class_a != class_b);
            }
        }
    }
}

/// Count every row of `votes` (`n x m`) with bitsets: see [`Counts::block`].
pub(super) fn count(votes: ArrayView2<'_, i8>, k: usize, gold: Option<&[i64]>) -> Counts {
    let (n, m) = votes.dim();
    let blocks = n.div_ceil(BLOCK_ROWS);
    (0..blocks)
        .into_par_iter()
        .fold(
            || (Counts::new(m, k, gold.is_some()), Scratch::default()),
            |(mut counts, mut scratch), block| {
                let rows = block * BLOCK_ROWS..((block + 1) * BLOCK_ROWS).min(n);
                counts.block(votes, rows, gold, &mut scratch);
                (counts, scratch)
            },
        )
        .map(|(counts, _)| counts)
        .reduce(|| Counts::new(m, k, gold.is_some()), Counts::add)
}

/// Count every row of `votes` one row at a time: the direct definition, which the bitset
/// path must reproduce exactly (tested).
#[cfg(test)]
fn count_by_rows(votes: ArrayView2<'_, i8>, k: usize, gold: Option<&[i64]>) -> Counts {
    let (n, m) = votes.dim();
    let mut counts = Counts::new(m, k, gold.is_some());
    let mut voters = Vec::with_capacity(m);
    let mut tally = vec![0u32; k];
    for row in 0..n {
        let row_votes: Vec<i8> = votes.row(row).to_vec();
        let gold = gold.and_then(|gold| usize::try_from(gold[row]).ok());
        counts.row(&row_votes, gold, &mut voters, &mut tally);
    }
    counts
}

/// Rows per block of the bitset pass (a multiple of 64).
pub(super) const BLOCK_ROWS: usize = 4096;

/// Reused buffers of the bitset pass.
#[derive(Default)]
struct Scratch {
    /// `bits[(j (k + 1) + v + 1) W + w]`: rows of the block where LF `j` voted `v` (slot 0 =
    /// abstained).
    bits: Vec<u64>,
    /// Per `(j, slot)`: any bit set in the block.
    used: Vec<bool>,
    voter_list: Vec<(usize, usize)>,
}

/// Rows of a block where two or more classes share the most votes (and some LF voted).
///
/// Bit-sliced: each class's vote count per row is kept in binary across bit planes (plane
/// `p` holds bit `p` of 64 rows' counts per word) and every LF's class bitset is added with a
/// ripple carry; then a running maximum over classes, with a flag for "reached twice", is
/// kept with bit-sliced comparisons. All in word operations, no per-row loop.
fn ties(used: &[bool], bits: &[u64], m: usize, k: usize, words: usize) -> Vec<u64> {
    let slots = k + 1;
    let planes = (usize::BITS - m.leading_zeros()) as usize;
    let mut best = vec![0u64; planes * words];
    let mut tied = vec![0u64; words];
    let mut count = vec![0u64; planes * words];
    for class in 0..k {
        count.iter_mut().for_each(|word| *word = 0);
        let mut any = false;
        for lf in 0..m {
            if !used[lf * slots + class + 1] {
                continue;
            }
            any = true;
            let start = (lf * slots + class + 1) * words;
            for w in 0..words {
                let mut carry = bits[start + w];
                for plane in 0..planes {
                    if carry == 0 {
                        break;
                    }
                    let cell = &mut count[plane * words + w];
                    let sum = *cell ^ carry;
                    carry &= *cell;
                    *cell = sum;
                }
            }
        }
        if !any {
            continue;
        }
        for w in 0..words {
            // Compare count and best from the top plane down: greater, equal.
            let (mut greater, mut equal) = (0u64, !0u64);
            for plane in (0..planes).rev() {
                let (c, b) = (count[plane * words + w], best[plane * words + w]);
                greater |= equal & c & !b;
                equal &= !(c ^ b);
            }
            let nonzero = (0..planes).fold(0u64, |acc, plane| acc | count[plane * words + w]);
            // A larger count replaces the best and clears the tie; an equal nonzero one ties.
            tied[w] = (tied[w] & !greater) | (equal & nonzero);
            for plane in 0..planes {
                let cell = &mut best[plane * words + w];
                *cell = (*cell & !greater) | (count[plane * words + w] & greater);
            }
        }
    }
    tied
}

fn and_count(a: &[u64], b: &[u64]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| u64::from((x & y).count_ones()))
        .sum()
}

fn ones(words: &[u64]) -> u64 {
    words.iter().map(|word| u64::from(word.count_ones())).sum()
}

impl Counts {
    /// Count the rows `rows` of `votes`. Each (LF, vote) becomes a bitset over the block's
    /// rows; coverage, overlaps, conflicts, class votes and confusion counts are then
    /// popcounts of ANDs of bitsets, row-level figures are ORs and "at least two" folds. LF
    /// pairs are counted the cheaper of two exact ways: popcounts of bitset pairs (cost
    /// `m² (k + 1) / 2` per 64 rows) or each row's voter pairs (cost `voters²/2` per row), so
    /// many sparse LFs stay fast too. Ties come from bit-sliced vote counters ([`ties`]).
    /// One long function on purpose: a numeric kernel whose every figure reads the bitsets it
    /// builds, in one pass over the block.
    fn block(
        &mut self,
        votes: ArrayView2<'_, i8>,
        rows: std::ops::Range<usize>,
        gold: Option<&[i64]>,
        scratch: &mut Scratch,
    ) {
        let (m, k) = (self.m, self.k);
        let slots = k + 1;
        let n_rows = rows.len();
        let words = n_rows.div_ceil(64);
        scratch.bits.clear();
        scratch.bits.resize(m * slots * words, 0);
        let bits = &mut scratch.bits;
        let mut row_buffer = vec![0i8; m];
        // 64 rows at a time into a small (LF, slot) table that stays in L1, then out to the
        // block's bitsets.
        let mut local = vec![0u64; m * slots];
        for word in 0..words {
            local.iter_mut().for_each(|cell| *cell = 0);
            let first = rows.start + word * 64;
            for (index, row) in (first..(first + 64).min(rows.end)).enumerate() {
                let view = votes.row(row);
                let slice = match view.as_slice() {
                    Some(slice) => slice,
                    None => {
                        row_buffer
                            .iter_mut()
                            .zip(view.iter())
                            .for_each(|(t, v)| *t = *v);
                        &row_buffer
                    }
                };
                let bit = 1u64 << index;
                for (cells, vote) in local.chunks_exact_mut(slots).zip(slice) {
                    cells[(i16::from(*vote) + 1) as usize] |= bit;
                }
            }
            for (set, value) in local.iter().enumerate() {
                bits[set * words + word] = *value;
            }
        }
        let set = |lf: usize, slot: usize| &bits[(lf * slots + slot) * words..][..words];
        scratch.used.clear();
        scratch.used.extend(
            (0..m * slots).map(|index| set(index / slots, index % slots).iter().any(|w| *w != 0)),
        );
        // Row-level bitsets: voted (per LF), covered, two or more voters, two or more classes.
        let mut any = vec![0u64; m * words];
        let mut covered = vec![0u64; words];
        let mut twice = vec![0u64; words];
        let mut class_any = vec![0u64; k * words];
        for lf in 0..m {
            let voted = &mut any[lf * words..(lf + 1) * words];
            for slot in 1..slots {
                if !scratch.used[lf * slots + slot] {
                    continue;
                }
                let class_bits = set(lf, slot);
                self.class_votes[lf * k + slot - 1] += ones(class_bits);
                for (w, word) in class_bits.iter().enumerate() {
                    voted[w] |= word;
                    class_any[(slot - 1) * words + w] |= word;
                }
            }
            for w in 0..words {
                twice[w] |= covered[w] & voted[w];
                covered[w] |= voted[w];
            }
        }
        let mut seen = vec![0u64; words];
        let mut conflicted = vec![0u64; words];
        for class in 0..k {
            for w in 0..words {
                let word = class_any[class * words + w];
                conflicted[w] |= seen[w] & word;
                seen[w] |= word;
            }
        }
        self.tied += ones(&ties(&scratch.used, bits, m, k, words));
        self.covered += ones(&covered);
        self.overlapped += ones(&twice);
        self.conflicted += ones(&conflicted);
        for lf in 0..m {
            let voted = &any[lf * words..(lf + 1) * words];
            self.overlaps[lf] += and_count(voted, &twice);
            self.conflicts[lf] += and_count(voted, &conflicted);
        }
        // Gold: one bitset per class, then popcounts against each (LF, vote).
        if let Some(gold) = gold {
            let mut gold_bits = vec![0u64; k * words];
            for (offset, row) in rows.clone().enumerate() {
                if let Ok(class) = usize::try_from(gold[row]) {
                    gold_bits[class * words + offset / 64] |= 1 << (offset % 64);
                }
            }
            for class in 0..k {
                let gold_class = &gold_bits[class * words..(class + 1) * words];
                let rows_of_class = ones(gold_class);
                self.gold_classes[class] += rows_of_class;
                for lf in 0..m {
                    let base = (lf * k + class) * slots;
                    let mut voted = 0;
                    for slot in 1..slots {
                        if scratch.used[lf * slots + slot] {
                            let count = and_count(set(lf, slot), gold_class);
                            self.confusion[base + slot] += count;
                            voted += count;
                        }
                    }
                    self.confusion[base] += rows_of_class - voted;
                }
            }
        }
        // Pairs: bitsets or rows, whichever costs less here.
        // Word operations of the bitset way: every pair's "voted" words, plus the pairs of
        // (LF, class) sets in use for agreement. A row pair costs a few random-access
        // increments, about four word operations (measured with `cargo bench --bench
        // analyze`); rows hold Σ voters² / 2 pairs, at least (Σ voters)² / (2 rows).
        let class_sets = (0..m * slots)
            .filter(|index| index % slots != 0 && scratch.used[*index])
            .count() as u64;
        let bitset_cost =
            (m as u64 * m as u64 + class_sets * class_sets / k as u64) * words as u64 / 2;
        let votes_cast: u64 = (0..m)
            .map(|lf| ones(&any[lf * words..(lf + 1) * words]))
            .sum();
        let row_cost = 4 * votes_cast * votes_cast / (2 * n_rows.max(1) as u64);
        let by_rows = bitset_cost > row_cost;
        if !by_rows {
            for a in 0..m {
                let voted_a = &any[a * words..(a + 1) * words];
                for b in a + 1..m {
                    let both = and_count(voted_a, &any[b * words..(b + 1) * words]);
                    if both == 0 {
                        continue;
                    }
                    let mut agree = 0;
                    for slot in 1..slots {
                        if scratch.used[a * slots + slot] && scratch.used[b * slots + slot] {
                            agree += and_count(set(a, slot), set(b, slot));
                        }
                    }
                    self.both[a * m + b] += both;
                    self.disagree[a * m + b] += both - agree;
                }
            }
        }
        // Pairs row by row, when cheaper so.
        if by_rows {
            for (offset, row) in rows.enumerate() {
                if twice[offset / 64] >> (offset % 64) & 1 == 0 {
                    continue;
                }
                scratch.voter_list.clear();
                let voting = votes.row(row).into_iter().enumerate();
                scratch.voter_list.extend(
                    voting
                        .filter(|(_, vote)| **vote >= 0)
                        .map(|(lf, vote)| (lf, *vote as usize)),
                );
                for (index, (a, class_a)) in scratch.voter_list.iter().enumerate() {
                    for (b, class_b) in &scratch.voter_list[index + 1..] {
                        self.both[a * m + b] += 1;
                        self.disagree[a * m + b] += u64::from(class_a != class_b);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitset pass equals the row-by-row definition, on dense matrices (pairs from
    /// bitsets) and on sparse ones with many LFs (pairs from rows), with partial last blocks.
    #[test]
    fn bitset_counts_equal_row_by_row_counts() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (n, m, k, coverage) in [
            (BLOCK_ROWS + 100, 6, 2, 0.6),
            (2 * BLOCK_ROWS + 1, 12, 5, 0.3),
            (BLOCK_ROWS + 64, 150, 3, 0.01),
            (70, 3, 20, 0.9),
        ] {
            let votes = ndarray::Array2::from_shape_simple_fn((n, m), || {
                if (next() % 10_000) as f64 / 10_000.0 < coverage {
                    (next() % k as u64) as i8
                } else {
                    -1
                }
            });
            let gold: Vec<i64> = (0..n)
                .map(|_| (next() % (k as u64 + 1)) as i64 - 1)
                .collect();
            let fast = count(votes.view(), k, Some(&gold));
            assert_eq!(
                fast,
                count_by_rows(votes.view(), k, Some(&gold)),
                "n={n} m={m} k={k}"
            );
            assert_eq!(
                count(votes.view(), k, None),
                count_by_rows(votes.view(), k, None)
            );
            assert!(
                fast.tied > 0 && fast.conflicted > 0,
                "the case exercises ties"
            );
        }
    }
}
