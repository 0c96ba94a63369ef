//! Snorkel's label model (Ratner et al., "Training Complex Models with Multi-Task Weak
//! Supervision", AAAI 2019), as Snorkel 0.10.0's `LabelModel` fits it, so users can reproduce
//! Snorkel's numbers.
//!
//! Symbols, as in Snorkel's code: `O` (d x d, `d = m k`) is the overlap matrix of one-hot votes,
//! `O = L_augᵀ L_aug / n` (abstains are not one-hot: they carry no information here); `μ` (d x k)
//! holds `μ[j k + v][y] = P(λ_j = v | Y = y)`; `P = diag(p)` is the class balance. The loss is
//! `‖(O - μ P μᵀ)[mask]‖² + ‖rowsum(μ P) - diag(O)‖²`, the mask leaving out each LF's own block.
//! As in Snorkel: `μ` starts at `clamp(O_ii · 0.7 / p_y, 0, 1)` on each LF's diagonal, scaled by
//! one draw of NumPy's legacy generator seeded with the seed; full-batch SGD with momentum 0.9
//! and learning rate 0.01 runs for `max_iterations` epochs; `μ` is clamped to
//! `[mu_eps, 1 - mu_eps]` and its columns permuted to trust the LFs most. Labels use the votes
//! only: `P(y | λ) ∝ p_y Π_{j voted} μ[j k + λ_j][y]`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    ClassBalance, Diagnostics, FitError, FitOptions, FittedModel, Parameters, fixed_balance,
    softmax,
};
use crate::patterns::{PatternCounts, Vote};

const LEARNING_RATE: f64 = 0.01;
const MOMENTUM: f64 = 0.9;
const PRECISION_INIT: f64 = 0.7;
const PATTERN_CHUNK: usize = 4096;

/// Fitted parameters of Snorkel's model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnorkelParameters {
    /// `p`: the class balance.
    pub class_balance: Vec<f64>,
    /// `μ`, row `j k + v`, column `y`: `P(λ_j = v | Y = y)`.
    pub mu: Vec<Vec<f64>>,
}

impl SnorkelParameters {
    /// The same `μ` with another class balance.
    pub(crate) fn with_class_balance(&self, class_balance: Vec<f64>) -> Self {
        SnorkelParameters {
            class_balance,
            mu: self.mu.clone(),
        }
    }

    /// `P(Y | votes)` into `out`, from the votes alone.
    pub fn posterior(&self, votes: &[Vote], out: &mut [f64]) {
        let k = self.class_balance.len();
        let mut logits: Vec<f64> = self.class_balance.iter().map(|p| p.ln()).collect();
        for vote in votes {
            let Some(row) = self.mu.get(vote.lf() * k + vote.class()) else {
                continue;
            };
            for (logit, mu) in logits.iter_mut().zip(row) {
                *logit += mu.ln();
            }
        }
        softmax(&logits, out);
    }
}

/// NumPy's legacy `RandomState`: MT19937 seeded by `init_genrand`, doubles by `genrand_res53`.
struct LegacyNumpyRandom {
    state: [u32; 624],
    index: usize,
}

impl LegacyNumpyRandom {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for index in 1..624 {
            let previous = state[index - 1];
            state[index] = 1_812_433_253u32
                .wrapping_mul(previous ^ (previous >> 30))
                .wrapping_add(index as u32);
        }
        LegacyNumpyRandom { state, index: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for current in 0..624 {
                let y = (self.state[current] & 0x8000_0000)
                    | (self.state[(current + 1) % 624] & 0x7fff_ffff);
                let twist = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.state[current] = self.state[(current + 397) % 624] ^ (y >> 1) ^ twist;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `np.random.random()`.
    fn random(&mut self) -> f64 {
        let high = (self.next_u32() >> 5) as f64;
        let low = (self.next_u32() >> 6) as f64;
        (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
    }
}

/// `O = L_augᵀ L_aug / n`, from the pattern counts, in parallel.
fn overlaps(stats: &PatternCounts) -> Vec<f64> {
    let d = stats.n_lfs() * stats.cardinality();
    let k = stats.cardinality();
    let indices: Vec<usize> = (0..stats.len()).collect();
    let partial: Vec<Vec<f64>> = indices
        .par_chunks(PATTERN_CHUNK)
        .map(|chunk| {
            let mut o = vec![0.0; d * d];
            for pattern in chunk {
                let count = stats.count(*pattern) as f64;
                let votes = stats.pattern(*pattern);
                for vote_a in votes {
                    let a = vote_a.lf() * k + vote_a.class();
                    for vote_b in votes {
                        o[a * d + vote_b.lf() * k + vote_b.class()] += count;
                    }
                }
            }
            o
        })
        .collect();
    let n = stats.n_rows() as f64;
    let mut o = vec![0.0; d * d];
    for part in partial {
        for (total, value) in o.iter_mut().zip(part) {
            *total += value;
        }
    }
    o.iter_mut().for_each(|value| *value /= n);
    o
}

/// Loss and gradient of Snorkel's objective at `mu` (d x k, row-major).
fn loss_and_gradient(o: &[f64], mu: &[f64], p: &[f64], d: usize, k: usize) -> (f64, Vec<f64>) {
    let mut gradient = vec![0.0; d * k];
    let mut loss = 0.0;
    // Residual R = (O - μ P μᵀ) on the mask (pairs of different LFs), and the row-sum term.
    let mut residual = vec![0.0; d * d];
    for a in 0..d {
        for b in 0..d {
            if a / k == b / k {
                continue;
            }
            let model: f64 = (0..k).map(|y| mu[a * k + y] * p[y] * mu[b * k + y]).sum();
            let r = o[a * d + b] - model;
            residual[a * d + b] = r;
            loss += r * r;
        }
    }
    // d/dμ ‖R‖² = -4 R μ P (R is symmetric).
    for a in 0..d {
        for y in 0..k {
            let mut total = 0.0;
            for b in 0..d {
                total += residual[a * d + b] * mu[b * k + y];
            }
            gradient[a * k + y] -= 4.0 * total * p[y];
        }
        let row_sum: f64 = (0..k).map(|y| mu[a * k + y] * p[y]).sum();
        let s = row_sum - o[a * d + a];
        loss += s * s;
        for y in 0..k {
            gradient[a * k + y] += 2.0 * s * p[y];
        }
    }
    (loss, gradient)
}

/// The permutation of columns (within groups of equal prior) that maximises the summed
/// probability of the LFs being right, as Snorkel's `_break_col_permutation_symmetry` does.
fn best_permutation(mu: &[f64], p: &[f64], m: usize, k: usize) -> Vec<usize> {
    // score[i][j] = Σ_lf μ[lf k + i][j] p[j]: taking column j as class i.
    let score = |i: usize, j: usize| {
        (0..m)
            .map(|lf| mu[(lf * k + i) * k + j] * p[j])
            .sum::<f64>()
    };
    let same_group = |i: usize, j: usize| (p[i] * 1000.0).round() == (p[j] * 1000.0).round();
    let mut best: (f64, Vec<usize>) = (f64::NEG_INFINITY, (0..k).collect());
    let mut permutation: Vec<usize> = (0..k).collect();
    // Heap's algorithm over all permutations (k is small for label models).
    let mut counters = vec![0usize; k];
    let mut consider = |permutation: &[usize]| {
        if (0..k).all(|i| same_group(i, permutation[i])) {
            let total: f64 = (0..k).map(|i| score(i, permutation[i])).sum();
            if total > best.0 + 1e-12 {
                best = (total, permutation.to_vec());
            }
        }
    };
    consider(&permutation);
    let mut i = 0;
    while i < k && k <= 8 {
        if counters[i] < i {
            if i % 2 == 0 {
                permutation.swap(0, i)
            } else {
                permutation.swap(counters[i], i)
            }
            consider(&permutation);
            counters[i] += 1;
            i = 0;
        } else {
            counters[i] = 0;
            i += 1;
        }
    }
    best.1
}

/// Fit Snorkel's model as Snorkel 0.10.0 does (see the module documentation).
pub fn fit(stats: &PatternCounts, options: &FitOptions) -> Result<FittedModel, FitError> {
    let (m, k) = (stats.n_lfs(), stats.cardinality());
    let d = m * k;
    let n = stats.n_rows() as f64;
    let mut warnings = Vec::new();
    let p = match options.class_balance {
        ClassBalance::Estimated => {
            warnings.push(
                "Snorkel's model does not estimate the class balance; it assumes a uniform one"
                    .to_owned(),
            );
            vec![1.0 / k as f64; k]
        }
        _ => fixed_balance(options, k).expect("not estimated"),
    };
    let o = overlaps(stats);
    let scale = LegacyNumpyRandom::new(options.seed as u32).random();
    let mut mu = vec![0.0; d * k];
    for lf in 0..m {
        for y in 0..k {
            let index = lf * k + y;
            mu[index * k + y] =
                (o[index * d + index] * PRECISION_INIT / p[y]).clamp(0.0, 1.0) * scale;
        }
    }
    let mut velocity = vec![0.0; d * k];
    let mut loss = 0.0;
    for _ in 0..options.max_iterations {
        let (value, gradient) = loss_and_gradient(&o, &mu, &p, d, k);
        loss = value;
        for ((mu, velocity), gradient) in mu.iter_mut().zip(velocity.iter_mut()).zip(&gradient) {
            *velocity = MOMENTUM * *velocity + gradient;
            *mu -= LEARNING_RATE * *velocity;
        }
    }
    let mu_eps = (0.01f64).min(1.0 / 10f64.powf(n.log10().ceil()));
    mu.iter_mut()
        .for_each(|value| *value = value.clamp(mu_eps, 1.0 - mu_eps));
    let permutation = best_permutation(&mu, &p, m, k);
    let mu: Vec<Vec<f64>> = (0..d)
        .map(|row| {
            permutation
                .iter()
                .map(|column| mu[row * k + column])
                .collect()
        })
        .collect();
    let coverage: Vec<f64> = stats
        .vote_counts()
        .iter()
        .map(|counts| counts.iter().sum::<u64>() as f64 / n)
        .collect();
    let lf_accuracy = (0..m)
        .map(|lf| {
            (coverage[lf] > 0.0).then(|| {
                let right: f64 = (0..k).map(|y| mu[lf * k + y][y] * p[y]).sum();
                (right / coverage[lf]).clamp(1e-6, 1.0)
            })
        })
        .collect();
    Ok(FittedModel {
        classes: Vec::new(),
        lfs: Vec::new(),
        class_balance: p.clone(),
        lf_accuracy,
        diagnostics: Diagnostics {
            iterations: options.max_iterations,
            converged: true,
            objective: loss,
            warnings,
            ..Diagnostics::default()
        },
        parameters: Parameters::Snorkel(SnorkelParameters {
            class_balance: p,
            mu,
        }),
        training_fingerprint: String::new(),
        fit_options: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `np.random.seed(123); np.random.random()` and `np.random.seed(0); np.random.random()`.
    #[test]
    fn legacy_numpy_random_matches_numpy() {
        assert_eq!(LegacyNumpyRandom::new(123).random(), 0.6964691855978616);
        assert_eq!(LegacyNumpyRandom::new(0).random(), 0.5488135039273248);
    }

    /// The analytic gradient matches finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let (d, k) = (6, 2);
        let o: Vec<f64> = (0..d * d)
            .map(|index| ((index * 7919 % 97) as f64) / 500.0)
            .collect();
        let o: Vec<f64> = (0..d * d)
            .map(|index| (o[index] + o[(index % d) * d + index / d]) / 2.0)
            .collect();
        let mu: Vec<f64> = (0..d * k)
            .map(|index| 0.1 + (index * 13 % 7) as f64 / 10.0)
            .collect();
        let p = [0.4, 0.6];
        let (_, gradient) = loss_and_gradient(&o, &mu, &p, d, k);
        for index in 0..d * k {
            let (mut up, mut down) = (mu.clone(), mu.clone());
            up[index] += 1e-6;
            down[index] -= 1e-6;
            let numeric = (loss_and_gradient(&o, &up, &p, d, k).0
                - loss_and_gradient(&o, &down, &p, d, k).0)
                / 2e-6;
            assert!(
                (numeric - gradient[index]).abs() < 1e-6,
                "{index}: {numeric} vs {}",
                gradient[index]
            );
        }
    }
}
