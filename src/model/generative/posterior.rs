//! The posterior of a row's votes under the fitted parameters, and the tables it is
//! computed from.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::PRIOR_ACCURACY;
use crate::matrix::voted_mask;
use crate::patterns::Vote;

/// The fitted parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GenerativeParameters {
    /// `π`: `P(Y = y)`.
    pub class_balance: Vec<f64>,
    /// `c[j][y]`: `P(LF j votes | Y = y)`.
    pub coverage: Vec<Vec<f64>>,
    /// `q[j][y][v]`: `P(LF j votes v | it votes, Y = y)`; each row sums to 1 over the LF's
    /// polarity.
    pub confusion: Vec<Vec<Vec<f64>>>,
    /// `S_j`: the classes LF `j` voted in training.
    pub polarity: Vec<Vec<bool>>,
    #[serde(skip)]
    tables: OnceLock<Tables>,
}

impl PartialEq for GenerativeParameters {
    fn eq(&self, other: &Self) -> bool {
        self.class_balance == other.class_balance
            && self.coverage == other.coverage
            && self.confusion == other.confusion
            && self.polarity == other.polarity
    }
}

/// Log-probability tables. For the fit (the model's exact posterior): `base[y] = log π_y +
/// Σ_j log(1 - c_jy)` and, per LF and vote, `delta[j][v][y] = log P(λ_j = v | y) - log(1 -
/// c_jy)` (0 for votes outside the LF's polarity, which the fitted data never holds). For
/// labels (see [`GenerativeParameters::posterior`]): `prior[y] = log π_y` and
/// `evidence[j][v][y] = log P(λ_j = v | y)`; for a vote outside the LF's polarity (a class it
/// never voted in training), the prior's `log a` for `y = v` and `log((1 - a) / (k - 1))`
/// otherwise, `a` the prior accuracy.
#[derive(Clone, Debug, Default)]
pub(super) struct Tables {
    pub(super) k: usize,
    pub(super) base: Vec<f64>,
    /// `delta[(j k + v) k + y]`.
    pub(super) delta: Vec<f64>,
    pub(super) prior: Vec<f64>,
    /// `evidence[(j k + v) k + y]`.
    pub(super) evidence: Vec<f64>,
    /// `evidence` laid out for dense rows: `dense[(j (k + 1) + v + 1) k + y]`, zeros for an
    /// abstain (`v = -1`), so a row is summed without a branch per cell.
    pub(super) dense: Vec<f64>,
}

impl Tables {
    /// The log-joint `log P(y, votes)` of each class into `logits`.
    #[inline]
    pub(super) fn logits(&self, votes: &[Vote], logits: &mut [f64]) {
        Self::sum_logits(&self.base, &self.delta, self.k, votes, logits);
    }

    /// `log P(y) + Σ_{j voted} log P(λ_j = v_j | y)` of each class into `logits`.
    #[inline]
    pub(super) fn vote_logits(&self, votes: &[Vote], logits: &mut [f64]) {
        Self::sum_logits(&self.prior, &self.evidence, self.k, votes, logits);
    }

    #[inline]
    pub(super) fn sum_logits(
        base: &[f64],
        table: &[f64],
        k: usize,
        votes: &[Vote],
        logits: &mut [f64],
    ) {
        logits.copy_from_slice(base);
        for vote in votes {
            let start = (vote.lf() * k + vote.class()) * k;
            if let Some(delta) = table.get(start..start + k) {
                for (logit, delta) in logits.iter_mut().zip(delta) {
                    *logit += delta;
                }
            }
        }
    }
}

/// [`GenerativeParameters::posterior_dense`] for `K` classes (the per-class loops unrolled).
pub(super) fn posterior_dense_for<const K: usize>(
    tables: &Tables,
    dense: &[i8],
    n_lfs: usize,
    out: &mut [f64],
) {
    let prior: [f64; K] = std::array::from_fn(|class| tables.prior[class]);
    // Rows of `K` log-probabilities, indexed whole (one bound check a vote).
    let rows = tables.dense.as_chunks::<K>().0;
    for (cells, out) in dense.chunks_exact(n_lfs).zip(out.chunks_exact_mut(K)) {
        let mut logits = prior;
        // Only the votes, in LF order, found by a bit mask per 64 LFs: an abstain's row is
        // zeros, so skipping it changes no bit of the sum.
        for (block, cells) in cells.chunks(64).enumerate() {
            let mut mask = voted_mask(cells);
            while mask != 0 {
                let lane = mask.trailing_zeros() as usize;
                let evidence = &rows[(block * 64 + lane) * (K + 1) + (cells[lane] + 1) as usize];
                for class in 0..K {
                    logits[class] += evidence[class];
                }
                mask &= mask - 1;
            }
        }
        normalise(&mut logits);
        out.copy_from_slice(&logits);
    }
}

/// Normalise `logits` into probabilities in place; returns `log Σ exp(logits)`.
#[inline]
pub(super) fn normalise(logits: &mut [f64]) -> f64 {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for logit in logits.iter_mut() {
        *logit = (*logit - max).exp();
        total += *logit;
    }
    for probability in logits.iter_mut() {
        *probability /= total;
    }
    max + total.ln()
}

impl GenerativeParameters {
    pub(super) fn new(
        class_balance: Vec<f64>,
        coverage: Vec<Vec<f64>>,
        confusion: Vec<Vec<Vec<f64>>>,
        polarity: Vec<Vec<bool>>,
    ) -> Self {
        GenerativeParameters {
            class_balance,
            coverage,
            confusion,
            polarity,
            tables: OnceLock::new(),
        }
    }

    /// The same LF parameters with another class balance.
    pub(crate) fn with_class_balance(&self, class_balance: Vec<f64>) -> Self {
        GenerativeParameters::new(
            class_balance,
            self.coverage.clone(),
            self.confusion.clone(),
            self.polarity.clone(),
        )
    }

    /// `q_j(v | y)`.
    pub(super) fn vote_share(&self, lf: usize, vote: usize, class: usize) -> f64 {
        if self.polarity[lf][vote] {
            self.confusion[lf][class][vote]
        } else {
            0.0
        }
    }

    pub(super) fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            let k = self.class_balance.len();
            let mut base: Vec<f64> = self
                .class_balance
                .iter()
                .map(|p| p.max(f64::MIN_POSITIVE).ln())
                .collect();
            let prior = base.clone();
            // A vote for a class the LF never voted in training (labelling new rows) has no
            // fitted parameter: it counts as the prior sees every LF, right `a` of the time,
            // its errors spread over the other classes (log-probabilities for a wrong and a
            // right class; the LF's coverage, unknown for that class, is left out).
            let a = prior_accuracy(k);
            let unseen_vote = [((1.0 - a) / (k - 1).max(1) as f64).ln(), a.ln()];
            let mut delta = vec![0.0; self.coverage.len() * k * k];
            let mut evidence = vec![0.0; self.coverage.len() * k * k];
            for (lf, coverage) in self.coverage.iter().enumerate() {
                for (class, c) in coverage.iter().enumerate() {
                    base[class] += (1.0 - c).ln();
                }
                for vote in 0..k {
                    for (class, c) in coverage.iter().enumerate() {
                        let index = (lf * k + vote) * k + class;
                        if self.polarity[lf][vote] {
                            let share = self.vote_share(lf, vote, class);
                            evidence[index] = (c * share).max(f64::MIN_POSITIVE).ln();
                            delta[index] = evidence[index] - (1.0 - c).ln();
                        } else {
                            evidence[index] = unseen_vote[usize::from(class == vote)];
                        }
                    }
                }
            }
            let mut dense = vec![0.0; self.coverage.len() * (k + 1) * k];
            for (lf, lf_dense) in dense.chunks_exact_mut((k + 1) * k).enumerate() {
                lf_dense[k..].copy_from_slice(&evidence[lf * k * k..(lf + 1) * k * k]);
            }
            Tables {
                k,
                base,
                delta,
                prior,
                evidence,
                dense,
            }
        })
    }

    /// The probabilistic label of a row into `out`: `P(Y = y | the votes cast)`, i.e. the class
    /// balance times, for each LF that voted, the model's probability of that vote given `y`
    /// (which includes the LF's class-conditional coverage). The LFs that abstained on the row
    /// are left out, as in Snorkel's `predict_proba`: the fit uses every abstain (that is how it
    /// learns the coverages), but real LFs abstain together far more than conditional
    /// independence predicts (they share keywords, and most rows match none), so multiplying
    /// dozens of abstain terms per row piles up correlated evidence that drowns the votes.
    /// Leaving them out keeps the votes in charge, and gives a row no LF covered exactly the
    /// class balance.
    pub fn posterior(&self, votes: &[Vote], out: &mut [f64]) {
        self.tables().vote_logits(votes, out);
        normalise(out);
    }

    /// [`GenerativeParameters::posterior`] of each row of `dense` (row-major, `n_lfs` votes a
    /// row, every vote in `-1..k`) into `out` (`k` probabilities a row).
    pub(crate) fn posterior_dense(&self, dense: &[i8], n_lfs: usize, out: &mut [f64]) {
        let tables = self.tables();
        match tables.k {
            2 => posterior_dense_for::<2>(tables, dense, n_lfs, out),
            3 => posterior_dense_for::<3>(tables, dense, n_lfs, out),
            4 => posterior_dense_for::<4>(tables, dense, n_lfs, out),
            5 => posterior_dense_for::<5>(tables, dense, n_lfs, out),
            6 => posterior_dense_for::<6>(tables, dense, n_lfs, out),
            7 => posterior_dense_for::<7>(tables, dense, n_lfs, out),
            8 => posterior_dense_for::<8>(tables, dense, n_lfs, out),
            k => {
                for (cells, out) in dense.chunks_exact(n_lfs).zip(out.chunks_exact_mut(k)) {
                    out.copy_from_slice(&tables.prior);
                    for (lf, vote) in cells.iter().enumerate() {
                        let start = (lf * (k + 1) + (*vote + 1) as usize) * k;
                        for (logit, evidence) in out.iter_mut().zip(&tables.dense[start..start + k])
                        {
                            *logit += evidence;
                        }
                    }
                    normalise(out);
                }
            }
        }
    }

    /// The model's exact posterior `P(Y | the votes and the abstains)`, used by the fit.
    #[cfg(test)]
    pub(super) fn exact_posterior(&self, votes: &[Vote], out: &mut [f64]) {
        self.tables().logits(votes, out);
        normalise(out);
    }

    /// Per LF, `P(vote is right | it votes)` under the model.
    pub(super) fn lf_accuracy(&self) -> Vec<Option<f64>> {
        let k = self.class_balance.len();
        (0..self.coverage.len())
            .map(|lf| {
                if !self.polarity[lf].iter().any(|member| *member) {
                    return None;
                }
                let voting: f64 = (0..k)
                    .map(|y| self.class_balance[y] * self.coverage[lf][y])
                    .sum();
                let right: f64 = (0..k)
                    .map(|y| {
                        self.class_balance[y] * self.coverage[lf][y] * self.vote_share(lf, y, y)
                    })
                    .sum();
                Some(right / voting)
            })
            .collect()
    }
}

/// The accuracy the prior expects of an LF voting `size` classes: [`PRIOR_ACCURACY`], and at
/// least halfway between chance and perfect.
pub fn prior_accuracy(size: usize) -> f64 {
    PRIOR_ACCURACY.max(0.5 + 0.5 / size.max(1) as f64)
}
