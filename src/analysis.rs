//! LF analysis: coverage, overlap, conflict and accuracy per LF, pairwise overlap and conflict
//! rates, per-LF confusion matrices against gold labels, and the rows behind them (drill-down).
//!
//! The per-LF figures use Snorkel's `LFAnalysis.lf_summary` definitions (fractions of all `n`
//! rows), so users moving from Snorkel recognise them:
//!
//! - `Coverage`: rows where the LF voted;
//! - `Overlaps`: rows where the LF voted and at least one other LF voted too;
//! - `Conflicts`: rows where the LF voted and the row holds at least two different votes (from
//!   any LFs: Snorkel's row-level definition, so an LF agreeing with one side of someone else's
//!   disagreement counts);
//! - `Correct` / `Incorrect`: votes equal / unequal to the gold label, over rows whose gold label
//!   is known; `Emp. Acc.` = Correct / (Correct + Incorrect), with a 95 % Wilson interval.
//!   (Snorkel counts a vote on a row of unknown gold as wrong in `Emp. Acc.`; here such rows are
//!   left out. An LF that never voted on a gold row has no accuracy, where Snorkel prints 0.)
//!
//! Everything is counted in integers in one parallel pass over row chunks and merged, so the
//! result is exact and does not depend on the thread count.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;

use crate::matrix::LabelMatrix;
use crate::model::FittedModel;

/// The 97.5 % quantile of the standard normal distribution.
const Z_95: f64 = 1.959_963_984_540_054;

/// Errors analysing a label matrix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// Gold labels do not match the matrix rows.
    #[error(
        "{gold} gold labels for {rows} matrix rows; the gold file must hold the same rows in the same order"
    )]
    GoldRows {
        /// Gold labels given.
        gold: usize,
        /// Matrix rows.
        rows: usize,
    },
    /// A gold label is not a class.
    #[error(
        "gold label {value} on row {row} (counting from 0) is not a class (0..{cardinality}, or \
         -1 = unknown)"
    )]
    GoldClass {
        /// The 0-based row.
        row: usize,
        /// The label.
        value: i64,
        /// Number of classes.
        cardinality: usize,
    },
    /// The model's classes differ from the matrix's.
    #[error("the model's classes {model:?} differ from the matrix's {matrix:?}")]
    ModelClasses {
        /// The model's classes.
        model: Vec<String>,
        /// The matrix's classes.
        matrix: Vec<String>,
    },
    /// The model was fitted on other LFs, so its accuracies are not the matrix LFs'.
    #[error("the model does not fit the matrix: {0}")]
    ModelLfs(String),
}

/// Per-LF statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LfSummary {
    /// Column index.
    pub j: usize,
    /// LF name.
    pub name: String,
    /// The classes the LF voted, as class ids.
    pub polarity: Vec<usize>,
    /// Fraction of rows where the LF voted.
    pub coverage: f64,
    /// Fraction of rows where the LF and at least one other LF voted.
    pub overlaps: f64,
    /// Fraction of rows where the LF voted and the row holds two different votes.
    pub conflicts: f64,
    /// Fraction of rows where the LF voted each class.
    pub class_coverage: Vec<f64>,
    /// Votes equal to the known gold label.
    pub correct: Option<u64>,
    /// Votes different from the known gold label.
    pub incorrect: Option<u64>,
    /// `correct / (correct + incorrect)`; `None` without gold or without votes on gold rows.
    pub empirical_accuracy: Option<f64>,
    /// 95 % Wilson interval of the empirical accuracy.
    pub empirical_accuracy_interval: Option<[f64; 2]>,
    /// The fitted model's estimate of the LF's accuracy.
    pub learned_accuracy: Option<f64>,
}

/// Matrix-level figures (fractions of all rows).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatrixSummary {
    /// Rows.
    pub rows: usize,
    /// LFs.
    pub lfs: usize,
    /// Class names.
    pub classes: Vec<String>,
    /// Rows at least one LF voted on.
    pub label_coverage: f64,
    /// Rows at least two LFs voted on.
    pub label_overlap: f64,
    /// Rows holding two different votes.
    pub label_conflict: f64,
    /// Rows where two or more classes share the most votes (majority vote has a tie).
    pub tie_fraction: f64,
    /// Fraction of all votes cast for each class.
    pub vote_share: Vec<f64>,
    /// Rows with a known gold label, when gold was given.
    pub gold_rows: Option<usize>,
    /// Class distribution of the known gold labels.
    pub gold_balance: Option<Vec<f64>>,
    /// The fitted model's class balance.
    pub model_balance: Option<Vec<f64>>,
}

/// Pairwise rates between LFs (`m x m`, symmetric; the diagonal holds each LF's coverage).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pairwise {
    /// Fraction of rows both LFs voted on.
    pub overlap: Vec<Vec<f64>>,
    /// Fraction of rows both LFs voted on with different votes.
    pub conflict: Vec<Vec<f64>>,
}

/// A full analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Matrix-level figures.
    pub matrix: MatrixSummary,
    /// One entry per LF, in column order.
    pub lfs: Vec<LfSummary>,
    /// Pairwise overlap and conflict.
    pub pairwise: Pairwise,
    /// Per LF, with gold: `confusion[j][gold][vote + 1]` counts (column 0 = abstained).
    pub confusion: Option<Vec<Vec<Vec<u64>>>>,
}

/// Integer counts of one chunk of rows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Counts {
    m: usize,
    k: usize,
    covered: u64,
    overlapped: u64,
    conflicted: u64,
    tied: u64,
    /// `class_votes[j k + c]`.
    class_votes: Vec<u64>,
    overlaps: Vec<u64>,
    conflicts: Vec<u64>,
    /// Upper triangle, `both[a m + b]` for `a < b`.
    both: Vec<u64>,
    disagree: Vec<u64>,
    /// `confusion[(j k + gold) (k + 1) + vote + 1]`.
    confusion: Vec<u64>,
    gold_classes: Vec<u64>,
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
fn count(votes: ArrayView2<'_, i8>, k: usize, gold: Option<&[i64]>) -> Counts {
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
const BLOCK_ROWS: usize = 4096;

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

/// The 95 % Wilson score interval of `successes` out of `trials`.
pub fn wilson_interval(successes: u64, trials: u64) -> Option<[f64; 2]> {
    if trials == 0 {
        return None;
    }
    let (s, n) = (successes as f64, trials as f64);
    let p = s / n;
    let z2 = Z_95 * Z_95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// Analyse `matrix`, with gold labels (`-1` = unknown, one per row) and a fitted model whose
/// per-LF accuracy estimates fill `learned_accuracy` (matched by LF name).
pub fn analyze(
    matrix: &LabelMatrix,
    gold: Option<&[i64]>,
    model: Option<&FittedModel>,
) -> Result<Analysis, AnalysisError> {
    let (n, m, k) = (matrix.n_rows(), matrix.n_lfs(), matrix.cardinality());
    if let Some(gold) = gold {
        if gold.len() != n {
            return Err(AnalysisError::GoldRows {
                gold: gold.len(),
                rows: n,
            });
        }
        if let Some((row, value)) = gold
            .iter()
            .enumerate()
            .find(|(_, value)| !(-1..k as i64).contains(value))
        {
            return Err(AnalysisError::GoldClass {
                row,
                value: *value,
                cardinality: k,
            });
        }
    }
    if let Some(model) = model
        && model.classes != matrix.classes()
    {
        return Err(AnalysisError::ModelClasses {
            model: model.classes.clone(),
            matrix: matrix.classes().to_vec(),
        });
    }
    if let Some(message) = model.and_then(|model| model.lf_mismatch(matrix.lf_names())) {
        return Err(AnalysisError::ModelLfs(message));
    }
    let counts = count(matrix.votes().view(), k, gold);
    let fraction = |count: u64| if n == 0 { 0.0 } else { count as f64 / n as f64 };
    let learned = |name: &str| {
        model.and_then(|model| {
            let index = model.lfs.iter().position(|lf| lf == name)?;
            model.lf_accuracy[index]
        })
    };
    let lfs = (0..m)
        .map(|j| {
            let votes = &counts.class_votes[j * k..(j + 1) * k];
            let (correct, incorrect) = match gold {
                Some(_) => {
                    let table = &counts.confusion[j * k * (k + 1)..(j + 1) * k * (k + 1)];
                    let correct: u64 = (0..k).map(|y| table[y * (k + 1) + y + 1]).sum();
                    let voted: u64 = (0..k)
                        .map(|y| {
                            table[y * (k + 1) + 1..(y + 1) * (k + 1)]
                                .iter()
                                .sum::<u64>()
                        })
                        .sum();
                    (Some(correct), Some(voted - correct))
                }
                None => (None, None),
            };
            let trials = correct.zip(incorrect).map(|(c, i)| (c, c + i));
            LfSummary {
                j,
                name: matrix.lf_names()[j].clone(),
                polarity: (0..k).filter(|class| votes[*class] > 0).collect(),
                coverage: fraction(votes.iter().sum()),
                overlaps: fraction(counts.overlaps[j]),
                conflicts: fraction(counts.conflicts[j]),
                class_coverage: votes.iter().map(|count| fraction(*count)).collect(),
                correct,
                incorrect,
                empirical_accuracy: trials
                    .filter(|(_, total)| *total > 0)
                    .map(|(c, total)| c as f64 / total as f64),
                empirical_accuracy_interval: trials
                    .and_then(|(c, total)| wilson_interval(c, total)),
                learned_accuracy: learned(&matrix.lf_names()[j]),
            }
        })
        .collect::<Vec<_>>();
    let mut overlap = vec![vec![0.0; m]; m];
    let mut conflict = vec![vec![0.0; m]; m];
    for a in 0..m {
        overlap[a][a] = lfs[a].coverage;
        for b in a + 1..m {
            overlap[a][b] = fraction(counts.both[a * m + b]);
            overlap[b][a] = overlap[a][b];
            conflict[a][b] = fraction(counts.disagree[a * m + b]);
            conflict[b][a] = conflict[a][b];
        }
    }
    let total_votes: u64 = counts.class_votes.iter().sum();
    let vote_share = (0..k)
        .map(|class| {
            let votes: u64 = (0..m).map(|j| counts.class_votes[j * k + class]).sum();
            if total_votes == 0 {
                0.0
            } else {
                votes as f64 / total_votes as f64
            }
        })
        .collect();
    let gold_rows = gold.map(|_| counts.gold_classes.iter().sum::<u64>() as usize);
    let gold_balance = gold_rows.map(|rows| {
        counts
            .gold_classes
            .iter()
            .map(|count| {
                if rows == 0 {
                    0.0
                } else {
                    *count as f64 / rows as f64
                }
            })
            .collect()
    });
    let confusion = gold.map(|_| {
        (0..m)
            .map(|j| {
                (0..k)
                    .map(|y| {
                        let start = (j * k + y) * (k + 1);
                        counts.confusion[start..start + k + 1].to_vec()
                    })
                    .collect()
            })
            .collect()
    });
    Ok(Analysis {
        matrix: MatrixSummary {
            rows: n,
            lfs: m,
            classes: matrix.classes().to_vec(),
            label_coverage: fraction(counts.covered),
            label_overlap: fraction(counts.overlapped),
            label_conflict: fraction(counts.conflicted),
            tie_fraction: fraction(counts.tied),
            vote_share,
            gold_rows,
            gold_balance,
            model_balance: model.map(|model| model.class_balance.clone()),
        },
        lfs,
        pairwise: Pairwise { overlap, conflict },
        confusion,
    })
}

/// Which rows a drill-down shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    /// Rows where the LF voted.
    Fires,
    /// Rows where the LF voted and another LF voted a different class.
    Conflicts,
    /// Rows where the LF's vote differs from the known gold label.
    Errors,
}

/// Errors choosing drill-down rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrillDownError {
    /// No LF of that name.
    #[error("no LF named `{name}` in the matrix; its LFs are: {known}")]
    UnknownLf {
        /// The name asked for.
        name: String,
        /// The matrix's LF names.
        known: String,
    },
    /// `errors` needs gold labels.
    #[error("showing an LF's errors needs gold labels: pass --gold FILE:COLUMN")]
    NoGold,
    /// Gold labels do not match the matrix rows.
    #[error(transparent)]
    Gold(#[from] AnalysisError),
}

/// The rows a drill-down shows and how many matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrillDown {
    /// The LF's column.
    pub lf: usize,
    /// What was asked for.
    pub show: Show,
    /// Rows that match.
    pub matching: usize,
    /// The sampled rows, in row order.
    pub rows: Vec<usize>,
}

/// Up to `sample` rows where LF `name` fired, conflicted, or erred (per `show`), chosen at
/// random by a seeded hash of each row's key (the same rows whatever the thread count or row
/// order) and returned in row order.
pub fn drill_down(
    matrix: &LabelMatrix,
    name: &str,
    show: Show,
    gold: Option<&[i64]>,
    sample: usize,
    seed: u64,
) -> Result<DrillDown, DrillDownError> {
    let lf = matrix
        .lf_names()
        .iter()
        .position(|lf| lf == name)
        .ok_or_else(|| DrillDownError::UnknownLf {
            name: name.to_owned(),
            known: matrix.lf_names().join(", "),
        })?;
    if let Some(gold) = gold
        && gold.len() != matrix.n_rows()
    {
        return Err(AnalysisError::GoldRows {
            gold: gold.len(),
            rows: matrix.n_rows(),
        }
        .into());
    }
    if show == Show::Errors && gold.is_none() {
        return Err(DrillDownError::NoGold);
    }
    let votes = matrix.votes();
    let matches = |row: usize| {
        let vote = votes[[row, lf]];
        vote >= 0
            && match show {
                Show::Fires => true,
                Show::Conflicts => votes
                    .row(row)
                    .iter()
                    .any(|other| *other >= 0 && *other != vote),
                Show::Errors => {
                    gold.is_some_and(|gold| gold[row] >= 0 && gold[row] != i64::from(vote))
                }
            }
    };
    let keys = matrix.row_keys().map(|(_, keys)| keys);
    let mut candidates: Vec<(u64, usize)> = (0..matrix.n_rows())
        .into_par_iter()
        .filter(|row| matches(*row))
        .map(|row| (crate::hard_labels::row_key_hash(keys, row, seed), row))
        .collect();
    let matching = candidates.len();
    if sample < candidates.len() {
        candidates.select_nth_unstable(sample);
        candidates.truncate(sample);
    }
    let mut rows: Vec<usize> = candidates.into_iter().map(|(_, row)| row).collect();
    rows.sort_unstable();
    Ok(DrillDown {
        lf,
        show,
        matching,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    /// The example matrix of Snorkel's `LFAnalysis` docstrings, with gold `[0, 1, 1, 0, ?]`.
    fn example() -> (LabelMatrix, Vec<i64>) {
        let votes = array![[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]];
        let names = vec!["a".into(), "b".into(), "c".into()];
        let matrix = LabelMatrix::new(votes, names, vec!["no".into(), "yes".into()]).unwrap();
        (matrix, vec![0, 1, 1, 0, -1])
    }

    fn close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    /// Figures from Snorkel's docstrings (coverage 0.8, overlap 0.6, conflict 0.2; per LF
    /// coverage [.4, .8, .4], overlaps [.4, .6, .4], conflicts [.2, .2, 0], polarities
    /// [[0, 1], [0], [0]]) and the rest counted by hand.
    #[test]
    fn statistics_by_hand() {
        let (matrix, gold) = example();
        let analysis = analyze(&matrix, Some(&gold), None).unwrap();
        let summary = &analysis.matrix;
        close(
            &[
                summary.label_coverage,
                summary.label_overlap,
                summary.label_conflict,
            ],
            &[0.8, 0.6, 0.2],
        );
        // Row 2 has one vote for each class: the only tie.
        close(&[summary.tie_fraction], &[0.2]);
        close(&summary.vote_share, &[7.0 / 8.0, 1.0 / 8.0]);
        assert_eq!(summary.gold_rows, Some(4));
        close(summary.gold_balance.as_deref().unwrap(), &[0.5, 0.5]);
        let lfs = &analysis.lfs;
        close(
            &lfs.iter().map(|lf| lf.coverage).collect::<Vec<_>>(),
            &[0.4, 0.8, 0.4],
        );
        close(
            &lfs.iter().map(|lf| lf.overlaps).collect::<Vec<_>>(),
            &[0.4, 0.6, 0.4],
        );
        close(
            &lfs.iter().map(|lf| lf.conflicts).collect::<Vec<_>>(),
            &[0.2, 0.2, 0.0],
        );
        assert_eq!(lfs[0].polarity, [0, 1]);
        assert_eq!(lfs[1].polarity, [0]);
        close(&lfs[0].class_coverage, &[0.2, 0.2]);
        close(&lfs[1].class_coverage, &[0.8, 0.0]);
        // Row 4's gold is unknown: a votes 1 on row 2 (right); b votes 0 on rows 0, 2, 3.
        assert_eq!((lfs[0].correct, lfs[0].incorrect), (Some(1), Some(0)));
        assert_eq!((lfs[1].correct, lfs[1].incorrect), (Some(2), Some(1)));
        close(&[lfs[1].empirical_accuracy.unwrap()], &[2.0 / 3.0]);
        // Wilson 95 % interval of 2 out of 3: 0.2077 to 0.9385 (published tables).
        let [low, high] = lfs[1].empirical_accuracy_interval.unwrap();
        assert!(
            (low - 0.2077).abs() < 1e-4 && (high - 0.9385).abs() < 1e-4,
            "{low} {high}"
        );
        assert_eq!(lfs[0].learned_accuracy, None);
        // Pairs: a and b both vote on rows 2 and 4 and disagree on row 2; a and c share row
        // 4; b and c share rows 0 and 4.
        close(&analysis.pairwise.overlap[0], &[0.4, 0.4, 0.2]);
        close(&analysis.pairwise.overlap[2], &[0.2, 0.4, 0.4]);
        close(&analysis.pairwise.conflict[0], &[0.0, 0.2, 0.0]);
        close(&analysis.pairwise.conflict[1], &[0.2, 0.0, 0.0]);
        // b's confusion: gold 0 rows 0 and 3 (voted 0); gold 1 rows 1 (abstained) and 2 (0).
        let confusion = analysis.confusion.as_ref().unwrap();
        assert_eq!(confusion[1], [vec![0, 2, 0], vec![1, 1, 0]]);
    }

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

    #[test]
    fn analysis_does_not_depend_on_thread_count() {
        let n = 3 * BLOCK_ROWS + 17;
        let votes =
            ndarray::Array2::from_shape_fn((n, 4), |(row, lf)| ((row * 7 + lf * 13) % 5) as i8 - 2)
                .mapv(|vote| vote.max(-1));
        let names = (0..4).map(|lf| format!("lf{lf}")).collect();
        let classes = vec!["a".into(), "b".into(), "c".into()];
        let matrix = LabelMatrix::new(votes, names, classes).unwrap();
        let gold: Vec<i64> = (0..n).map(|row| (row % 4) as i64 - 1).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = one.install(|| analyze(&matrix, Some(&gold), None).unwrap());
        assert_eq!(single, analyze(&matrix, Some(&gold), None).unwrap());
    }

    #[test]
    fn drill_down_finds_the_rows_and_samples_by_key() {
        let (matrix, gold) = example();
        let conflicts = drill_down(&matrix, "b", Show::Conflicts, None, 10, 1).unwrap();
        assert_eq!((conflicts.matching, conflicts.rows), (1, vec![2]));
        let errors = drill_down(&matrix, "b", Show::Errors, Some(&gold), 10, 1).unwrap();
        assert_eq!(errors.rows, [2]);
        let fires = drill_down(&matrix, "b", Show::Fires, None, 2, 7).unwrap();
        assert_eq!((fires.matching, fires.rows.len()), (4, 2));
        assert!(fires.rows.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            fires,
            drill_down(&matrix, "b", Show::Fires, None, 2, 7).unwrap()
        );
        assert!(matches!(
            drill_down(&matrix, "nope", Show::Fires, None, 2, 7),
            Err(DrillDownError::UnknownLf { .. })
        ));
        assert!(matches!(
            drill_down(&matrix, "b", Show::Errors, None, 2, 7),
            Err(DrillDownError::NoGold)
        ));
    }

    #[test]
    fn bad_gold_is_refused() {
        let (matrix, _) = example();
        assert!(matches!(
            analyze(&matrix, Some(&[0, 1]), None),
            Err(AnalysisError::GoldRows { gold: 2, rows: 5 })
        ));
        assert!(matches!(
            analyze(&matrix, Some(&[0, 1, 2, 0, 0]), None),
            Err(AnalysisError::GoldClass {
                row: 2,
                value: 2,
                ..
            })
        ));
    }
}
