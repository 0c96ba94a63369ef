//! The default label model: a class-conditional generative model of the votes.
//!
//! LFs are independent given the true class `Y`. For LF `j`, let `S_j` be the classes it ever
//! voted in training (its polarity). Then
//!
//! - `P(λ_j = abstain | Y = y) = 1 - c[j][y]`: abstaining depends on the class, because most
//!   LFs fire on one class far more than on others (abstaining is information);
//! - `P(λ_j = v | Y = y) = c[j][y] · q_j(v | y)` for `v` in `S_j`, where `q_j(y | y) = α_j`
//!   (the LF's accuracy when it votes) and the other classes of `S_j` share `1 - α_j` equally;
//!   an LF with one class (`|S_j| = 1`) always votes it; when `y` is not in `S_j`, every vote is
//!   wrong and `q_j` is uniform over `S_j`;
//! - `P(Y = y) = π[y]`, the class balance.
//!
//! That is `m (k + 1) + k - 1` parameters, against `m k²` for a full confusion matrix
//! (Dawid-Skene), which keeps the model stable on small data and many classes.
//!
//! The fit maximises the marginal likelihood `Σ_patterns n_p log Σ_y P(y, pattern)` minus an L2
//! penalty (strength `l2`, on the logits) pulling the parameters toward a neutral model in which
//! every LF is right 70 % of the time it votes and the classes are balanced. It starts from the
//! parameters majority vote implies, takes a few EM steps (closed form for this model), then
//! runs argmin's L-BFGS on the penalised objective to convergence. The E-step runs over the
//! distinct patterns in fixed chunks summed in order, so results do not depend on thread count.
//!
//! A row's probabilistic label is `P(Y | the votes cast)`: the LFs that abstained on it are left
//! out (see [`GenerativeParameters::posterior`] for why), so a row no LF covered gets the class
//! balance.
//!
//! Symbols: `π` = `class_balance`, `c` = `coverage`, `α` = `accuracy`, `S` = `polarity`.

use std::sync::{Mutex, OnceLock};

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Diagnostics, FitError, FitOptions, FittedModel, Parameters, fixed_balance, majority, softmax,
};
use crate::stats::{PatternCounts, Vote};

/// Patterns per parallel work item in the E-step.
const PATTERN_CHUNK: usize = 4096;
/// EM steps before L-BFGS.
const WARM_EM_STEPS: usize = 2;
/// Probabilities are kept inside `[FLOOR, 1 - FLOOR]`.
const FLOOR: f64 = 1e-6;
/// Accuracy the penalty pulls toward: LFs are better than random.
const PRIOR_ACCURACY: f64 = 0.7;

/// The fitted parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GenerativeParameters {
    /// `π`: `P(Y = y)`.
    pub class_balance: Vec<f64>,
    /// `c[j][y]`: `P(LF j votes | Y = y)`.
    pub coverage: Vec<Vec<f64>>,
    /// `α_j`: `P(LF j votes y | it votes, Y = y)` for `y` in its polarity (1 when it has one class).
    pub accuracy: Vec<f64>,
    /// `S_j`: the classes LF `j` voted in training.
    pub polarity: Vec<Vec<bool>>,
    #[serde(skip)]
    tables: OnceLock<Tables>,
}

impl PartialEq for GenerativeParameters {
    fn eq(&self, other: &Self) -> bool {
        self.class_balance == other.class_balance
            && self.coverage == other.coverage
            && self.accuracy == other.accuracy
            && self.polarity == other.polarity
    }
}

/// Log-probability tables. For the fit (the model's exact posterior): `base[y] = log π_y +
/// Σ_j log(1 - c_jy)` and, per LF and vote, `delta[j][v][y] = log P(λ_j = v | y) - log(1 -
/// c_jy)` (0 for votes outside the LF's polarity, which carry no evidence). For labels (see
/// [`GenerativeParameters::posterior`]): `prior[y] = log π_y` and `evidence[j][v][y] = log
/// P(λ_j = v | y)`.
#[derive(Clone, Debug, Default)]
struct Tables {
    k: usize,
    base: Vec<f64>,
    /// `delta[(j k + v) k + y]`.
    delta: Vec<f64>,
    prior: Vec<f64>,
    /// `evidence[(j k + v) k + y]`.
    evidence: Vec<f64>,
}

impl Tables {
    /// The log-joint `log P(y, votes)` of each class into `logits`.
    #[inline]
    fn logits(&self, votes: &[Vote], logits: &mut [f64]) {
        Self::sum_logits(&self.base, &self.delta, self.k, votes, logits);
    }

    /// `log P(y) + Σ_{j voted} log P(λ_j = v_j | y)` of each class into `logits`.
    #[inline]
    fn vote_logits(&self, votes: &[Vote], logits: &mut [f64]) {
        Self::sum_logits(&self.prior, &self.evidence, self.k, votes, logits);
    }

    #[inline]
    fn sum_logits(base: &[f64], table: &[f64], k: usize, votes: &[Vote], logits: &mut [f64]) {
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

/// Normalise `logits` into probabilities in place; returns `log Σ exp(logits)`.
#[inline]
fn normalise(logits: &mut [f64]) -> f64 {
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
    fn new(
        class_balance: Vec<f64>,
        coverage: Vec<Vec<f64>>,
        accuracy: Vec<f64>,
        polarity: Vec<Vec<bool>>,
    ) -> Self {
        GenerativeParameters {
            class_balance,
            coverage,
            accuracy,
            polarity,
            tables: OnceLock::new(),
        }
    }

    /// `q_j(v | y)`.
    fn vote_share(&self, lf: usize, vote: usize, class: usize) -> f64 {
        let polarity = &self.polarity[lf];
        let size = polarity.iter().filter(|member| **member).count() as f64;
        if !polarity[vote] {
            0.0
        } else if !polarity[class] {
            1.0 / size
        } else if size == 1.0 {
            1.0
        } else if vote == class {
            self.accuracy[lf]
        } else {
            (1.0 - self.accuracy[lf]) / (size - 1.0)
        }
    }

    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            let k = self.class_balance.len();
            let mut base: Vec<f64> = self
                .class_balance
                .iter()
                .map(|p| p.max(f64::MIN_POSITIVE).ln())
                .collect();
            let prior = base.clone();
            let mut delta = vec![0.0; self.coverage.len() * k * k];
            let mut evidence = vec![0.0; self.coverage.len() * k * k];
            for (lf, coverage) in self.coverage.iter().enumerate() {
                for (class, c) in coverage.iter().enumerate() {
                    base[class] += (1.0 - c).ln();
                }
                for vote in (0..k).filter(|vote| self.polarity[lf][*vote]) {
                    for (class, c) in coverage.iter().enumerate() {
                        let share = self.vote_share(lf, vote, class);
                        let index = (lf * k + vote) * k + class;
                        evidence[index] = (c * share).max(f64::MIN_POSITIVE).ln();
                        delta[index] = evidence[index] - (1.0 - c).ln();
                    }
                }
            }
            Tables {
                k,
                base,
                delta,
                prior,
                evidence,
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

    /// The model's exact posterior `P(Y | the votes and the abstains)`, used by the fit.
    #[cfg(test)]
    fn exact_posterior(&self, votes: &[Vote], out: &mut [f64]) {
        self.tables().logits(votes, out);
        normalise(out);
    }

    /// Per LF, `P(vote is right | it votes)` under the model.
    fn lf_accuracy(&self) -> Vec<Option<f64>> {
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

/// Expected counts from one E-step: the sufficient statistics of the M-step and the gradient.
#[derive(Clone, Debug)]
struct Expected {
    k: usize,
    log_likelihood: f64,
    /// `N_y = Σ_p n_p r_py`.
    class: Vec<f64>,
    /// `V[j k + y] = Σ_p n_p r_py [j voted]`.
    voted: Vec<f64>,
    /// `C_j = Σ_p n_p r_{p, v_pj}`, mass on the class LF j voted.
    right: Vec<f64>,
    /// `W_j = Σ_p n_p Σ_{y in S_j} r_py [j voted]`.
    in_polarity: Vec<f64>,
}

impl Expected {
    fn zeros(n_lfs: usize, k: usize) -> Self {
        Expected {
            k,
            log_likelihood: 0.0,
            class: vec![0.0; k],
            voted: vec![0.0; n_lfs * k],
            right: vec![0.0; n_lfs],
            in_polarity: vec![0.0; n_lfs],
        }
    }

    /// `V` of LF `lf`, per class.
    fn voted(&self, lf: usize) -> &[f64] {
        &self.voted[lf * self.k..(lf + 1) * self.k]
    }

    fn add(&mut self, other: &Expected) {
        self.log_likelihood += other.log_likelihood;
        add_into(&mut self.class, &other.class);
        add_into(&mut self.voted, &other.voted);
        add_into(&mut self.right, &other.right);
        add_into(&mut self.in_polarity, &other.in_polarity);
    }

    /// Accumulate pattern `votes` seen `count` times with posterior `r`; `polarity` is flat
    /// (`j k + y`).
    #[inline]
    fn record(&mut self, votes: &[Vote], count: f64, r: &[f64], polarity: &[bool]) {
        let k = self.k;
        for (total, p) in self.class.iter_mut().zip(r) {
            *total += count * p;
        }
        for vote in votes {
            let lf = vote.lf();
            let mut mass = 0.0;
            for ((voted, p), member) in self.voted[lf * k..(lf + 1) * k]
                .iter_mut()
                .zip(r)
                .zip(&polarity[lf * k..(lf + 1) * k])
            {
                *voted += count * p;
                if *member {
                    mass += p;
                }
            }
            self.right[lf] += count * r[vote.class()];
            self.in_polarity[lf] += count * mass;
        }
    }
}

fn add_into(target: &mut [f64], source: &[f64]) {
    for (target, source) in target.iter_mut().zip(source) {
        *target += source;
    }
}

/// One E-step: posteriors of every pattern under `parameters` (or under majority vote).
fn expectation(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
    polarity: &[Vec<bool>],
) -> Expected {
    // Fixed-size arrays let the compiler unroll the per-class loops for the usual small k.
    match stats.cardinality() {
        2 => expectation_for::<2>(stats, parameters, polarity),
        3 => expectation_for::<3>(stats, parameters, polarity),
        4 => expectation_for::<4>(stats, parameters, polarity),
        5 => expectation_for::<5>(stats, parameters, polarity),
        6 => expectation_for::<6>(stats, parameters, polarity),
        7 => expectation_for::<7>(stats, parameters, polarity),
        8 => expectation_for::<8>(stats, parameters, polarity),
        _ => expectation_dynamic(stats, parameters, polarity),
    }
}

/// The E-step for `K` classes; see [`expectation_dynamic`] for what it computes.
fn expectation_for<const K: usize>(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
    polarity: &[Vec<bool>],
) -> Expected {
    let n_lfs = stats.n_lfs();
    let masks: Vec<[f64; K]> = polarity
        .iter()
        .map(|classes| std::array::from_fn(|class| if classes[class] { 1.0 } else { 0.0 }))
        .collect();
    let tables = parameters.map(GenerativeParameters::tables);
    let delta: Option<(&[f64], [f64; K])> = tables.map(|tables| {
        (
            tables.delta.as_slice(),
            std::array::from_fn(|class| tables.base[class]),
        )
    });
    let chunks = stats.len().div_ceil(PATTERN_CHUNK);
    let partial: Vec<Expected> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut log_likelihood = 0.0;
            let mut class = [0.0; K];
            let mut voted = vec![[0.0; K]; n_lfs];
            let mut right = vec![0.0; n_lfs];
            let mut in_polarity = vec![0.0; n_lfs];
            let mut r = [0.0; K];
            for pattern in chunk * PATTERN_CHUNK..((chunk + 1) * PATTERN_CHUNK).min(stats.len()) {
                let votes = stats.pattern(pattern);
                let count = stats.count(pattern) as f64;
                match delta {
                    Some((delta, base)) => {
                        let mut logits = base;
                        for vote in votes {
                            let start = (vote.lf() * K + vote.class()) * K;
                            let row: &[f64; K] =
                                delta[start..start + K].try_into().expect("K values");
                            for y in 0..K {
                                logits[y] += row[y];
                            }
                        }
                        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                        let mut total = 0.0;
                        for y in 0..K {
                            r[y] = (logits[y] - max).exp();
                            total += r[y];
                        }
                        let scale = 1.0 / total;
                        for value in r.iter_mut() {
                            *value *= scale;
                        }
                        log_likelihood += count * (max + total.ln());
                    }
                    None => majority::posterior(votes, &mut r),
                }
                let weighted: [f64; K] = std::array::from_fn(|y| count * r[y]);
                for y in 0..K {
                    class[y] += weighted[y];
                }
                for vote in votes {
                    let lf = vote.lf();
                    let (sums, mask) = (&mut voted[lf], &masks[lf]);
                    let mut mass = 0.0;
                    for y in 0..K {
                        sums[y] += weighted[y];
                        mass += weighted[y] * mask[y];
                    }
                    right[lf] += weighted[vote.class()];
                    in_polarity[lf] += mass;
                }
            }
            Expected {
                k: K,
                log_likelihood,
                class: class.to_vec(),
                voted: voted.into_iter().flatten().collect(),
                right,
                in_polarity,
            }
        })
        .collect();
    let mut total = Expected::zeros(n_lfs, K);
    for expected in &partial {
        total.add(expected);
    }
    total
}

/// One E-step: posteriors of every pattern under `parameters` (or under majority vote), and
/// the expected counts they imply.
fn expectation_dynamic(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
    polarity: &[Vec<bool>],
) -> Expected {
    let (n_lfs, k) = (stats.n_lfs(), stats.cardinality());
    let flat_polarity: Vec<bool> = polarity.iter().flatten().copied().collect();
    let tables = parameters.map(GenerativeParameters::tables);
    let chunks = stats.len().div_ceil(PATTERN_CHUNK);
    let partial: Vec<Expected> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut expected = Expected::zeros(n_lfs, k);
            let mut r = vec![0.0; k];
            for pattern in chunk * PATTERN_CHUNK..((chunk + 1) * PATTERN_CHUNK).min(stats.len()) {
                let votes = stats.pattern(pattern);
                let count = stats.count(pattern) as f64;
                match tables {
                    Some(tables) => {
                        tables.logits(votes, &mut r);
                        expected.log_likelihood += count * normalise(&mut r);
                    }
                    None => majority::posterior(votes, &mut r),
                }
                expected.record(votes, count, &r, &flat_polarity);
            }
            expected
        })
        .collect();
    let mut total = Expected::zeros(n_lfs, k);
    for expected in &partial {
        total.add(expected);
    }
    total
}

fn clamp(p: f64) -> f64 {
    p.clamp(FLOOR, 1.0 - FLOOR)
}

/// The class an LF votes, when it votes exactly one.
fn single_class(polarity: &[bool]) -> Option<usize> {
    let mut classes = polarity
        .iter()
        .enumerate()
        .filter(|(_, member)| **member)
        .map(|(class, _)| class);
    match (classes.next(), classes.next()) {
        (Some(class), None) => Some(class),
        _ => None,
    }
}

/// The lowest accuracy allowed to an LF voting `size` classes: chance.
fn accuracy_floor(size: usize) -> f64 {
    1.0 / size.max(1) as f64
}

/// The M-step: the parameters that maximise the expected complete log-likelihood, projected
/// onto the model's constraints (no LF is evidence against the class it votes).
fn maximisation(
    expected: &Expected,
    n: f64,
    balance: &Option<Vec<f64>>,
    polarity: &[Vec<bool>],
) -> GenerativeParameters {
    let class_balance = match balance {
        Some(balance) => balance.clone(),
        None => expected.class.iter().map(|mass| clamp(mass / n)).collect(),
    };
    let coverage = (0..polarity.len())
        .map(|lf| expected.voted(lf))
        .zip(polarity)
        .map(|(voted, classes)| {
            let mut coverage: Vec<f64> = voted
                .iter()
                .zip(&expected.class)
                .map(|(v, total)| clamp(v / total.max(FLOOR)))
                .collect();
            if let Some(own) = single_class(classes) {
                let top = coverage[own];
                coverage.iter_mut().for_each(|c| *c = c.min(top));
            }
            coverage
        })
        .collect();
    let accuracy = expected
        .right
        .iter()
        .zip(&expected.in_polarity)
        .zip(polarity)
        .map(|((right, mass), classes)| {
            let floor = accuracy_floor(classes.iter().filter(|member| **member).count());
            if *mass > 0.0 {
                clamp((right / mass).max(floor + FLOOR))
            } else {
                PRIOR_ACCURACY.max(floor + FLOOR)
            }
        })
        .collect();
    GenerativeParameters::new(class_balance, coverage, accuracy, polarity.to_vec())
}

/// Where each parameter sits in the unconstrained vector optimised by L-BFGS, and how it maps
/// to probabilities:
/// - class balance: softmax of `k` logits (when estimated);
/// - an LF voting one class `c`: `c[c] = σ(θ_c)` and `c[y] = c[c] σ(θ_y)` for `y ≠ c`, so it never
///   fires more often on other classes than on its own;
/// - an LF voting several classes `S`: `c[y] = σ(θ_y)` and `α = 1/|S| + (1 - 1/|S|) σ(θ_α)`, so
///   it is never worse than chance.
struct Layout {
    k: usize,
    n_lfs: usize,
    balance_free: bool,
    /// Per LF, its one class, if it votes one.
    single: Vec<Option<usize>>,
    /// Per LF, the accuracy floor and the index of its accuracy logit, if it votes several.
    accuracy: Vec<Option<(f64, usize)>>,
    len: usize,
}

impl Layout {
    fn new(k: usize, polarity: &[Vec<bool>], balance_free: bool) -> Self {
        let n_lfs = polarity.len();
        let mut next = if balance_free { k } else { 0 } + n_lfs * k;
        let accuracy = polarity
            .iter()
            .map(|classes| {
                let size = classes.iter().filter(|member| **member).count();
                (size >= 2).then(|| {
                    next += 1;
                    (accuracy_floor(size), next - 1)
                })
            })
            .collect();
        let single = polarity
            .iter()
            .map(|classes| single_class(classes))
            .collect();
        Layout {
            k,
            n_lfs,
            balance_free,
            single,
            accuracy,
            len: next,
        }
    }

    fn coverage_index(&self, lf: usize, class: usize) -> usize {
        (if self.balance_free { self.k } else { 0 }) + lf * self.k + class
    }

    fn to_vector(&self, parameters: &GenerativeParameters) -> Vec<f64> {
        let mut theta = vec![0.0; self.len];
        if self.balance_free {
            for (class, p) in parameters.class_balance.iter().enumerate() {
                theta[class] = p.ln();
            }
        }
        for lf in 0..self.n_lfs {
            let coverage = &parameters.coverage[lf];
            for class in 0..self.k {
                theta[self.coverage_index(lf, class)] = match self.single[lf] {
                    Some(own) if own != class => logit(coverage[class] / coverage[own]),
                    _ => logit(coverage[class]),
                };
            }
            if let Some((floor, index)) = self.accuracy[lf] {
                theta[index] = logit((parameters.accuracy[lf] - floor) / (1.0 - floor));
            }
        }
        theta
    }

    fn parameters(
        &self,
        theta: &[f64],
        balance: &Option<Vec<f64>>,
        polarity: &[Vec<bool>],
    ) -> GenerativeParameters {
        let class_balance = match balance {
            Some(balance) => balance.clone(),
            None => {
                let mut out = vec![0.0; self.k];
                softmax(&theta[..self.k], &mut out);
                out.into_iter().map(clamp).collect()
            }
        };
        let coverage = (0..self.n_lfs)
            .map(|lf| {
                let raw = |class| sigmoid(theta[self.coverage_index(lf, class)]);
                (0..self.k)
                    .map(|class| match self.single[lf] {
                        Some(own) if own != class => clamp(clamp(raw(own)) * raw(class)),
                        _ => clamp(raw(class)),
                    })
                    .collect()
            })
            .collect();
        let accuracy = self
            .accuracy
            .iter()
            .map(|slot| {
                slot.map_or(1.0, |(floor, index)| {
                    clamp(floor + (1.0 - floor) * sigmoid(theta[index]))
                })
            })
            .collect();
        GenerativeParameters::new(class_balance, coverage, accuracy, polarity.to_vec())
    }

    /// The gradient of the log-likelihood with respect to `theta`, from the expected counts.
    fn log_likelihood_gradient(
        &self,
        theta: &[f64],
        parameters: &GenerativeParameters,
        expected: &Expected,
        n: f64,
    ) -> Vec<f64> {
        let mut gradient = vec![0.0; self.len];
        if self.balance_free {
            for (class, slot) in gradient.iter_mut().take(self.k).enumerate() {
                *slot = expected.class[class] - n * parameters.class_balance[class];
            }
        }
        for lf in 0..self.n_lfs {
            let c = &parameters.coverage[lf];
            let (voted, total) = (expected.voted(lf), &expected.class);
            // d log L / d c[y] times c[y]: V/c·c - (N - V)/(1 - c)·c.
            let scaled = |class: usize| {
                voted[class] - (total[class] - voted[class]) * c[class] / (1.0 - c[class])
            };
            match self.single[lf] {
                Some(own) => {
                    let mut own_gradient = voted[own] - c[own] * total[own];
                    for class in (0..self.k).filter(|class| *class != own) {
                        own_gradient += scaled(class) * (1.0 - c[own]);
                        let ratio = sigmoid(theta[self.coverage_index(lf, class)]);
                        gradient[self.coverage_index(lf, class)] = scaled(class) * (1.0 - ratio);
                    }
                    gradient[self.coverage_index(lf, own)] = own_gradient;
                }
                None => {
                    for class in 0..self.k {
                        gradient[self.coverage_index(lf, class)] =
                            voted[class] - c[class] * total[class];
                    }
                }
            }
            if let Some((floor, index)) = self.accuracy[lf] {
                let alpha = parameters.accuracy[lf];
                let (right, mass) = (expected.right[lf], expected.in_polarity[lf]);
                let share = sigmoid(theta[index]);
                gradient[index] = (right / alpha - (mass - right) / (1.0 - alpha))
                    * (1.0 - floor)
                    * share
                    * (1.0 - share);
            }
        }
        gradient
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    let p = clamp(p);
    (p / (1.0 - p)).ln()
}

/// Parameters, cost and gradient of one evaluation.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The penalised negative mean log-likelihood, for argmin.
struct Objective<'a> {
    stats: &'a PatternCounts,
    layout: Layout,
    balance: Option<Vec<f64>>,
    polarity: Vec<Vec<bool>>,
    /// Where the L2 penalty pulls.
    prior: Vec<f64>,
    l2: f64,
    /// The last evaluation, since argmin asks for cost and gradient separately.
    cache: Mutex<Option<Evaluation>>,
}

impl Objective<'_> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        if let Ok(cache) = self.cache.lock()
            && let Some((cached, cost, gradient)) = cache.as_ref()
            && cached.as_slice() == theta
        {
            return (*cost, gradient.clone());
        }
        let parameters = self.layout.parameters(theta, &self.balance, &self.polarity);
        let expected = expectation(self.stats, Some(&parameters), &self.polarity);
        let n = self.stats.n_rows() as f64;
        let mut gradient = self
            .layout
            .log_likelihood_gradient(theta, &parameters, &expected, n);
        // A Gaussian prior of precision `l2` on the logits (MAP): its weight against the data
        // shrinks as n grows, as a prior's should.
        let strength = self.l2 / n;
        let mut cost = -expected.log_likelihood / n;
        for ((gradient, theta), prior) in gradient.iter_mut().zip(theta).zip(&self.prior) {
            *gradient = -*gradient / n + strength * (theta - prior);
            cost += 0.5 * strength * (theta - prior).powi(2);
        }
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((theta.to_vec(), cost, gradient.clone()));
        }
        (cost, gradient)
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta).1)
    }
}

/// The vector the L2 penalty pulls toward: a model in which every LF is right
/// [`PRIOR_ACCURACY`] (`a`) of the time it votes, votes as often as it does in the data (`β`),
/// and the classes are balanced. For an LF voting one class `c`, that is `c[c] = β a k` and a
/// ratio `c[y] / c[c] = (1 - a) / ((k - 1) a)`; for an LF voting several, coverage `β` for
/// every class and accuracy `a`.
fn neutral_prior(stats: &PatternCounts, layout: &Layout) -> Vec<f64> {
    let n = stats.n_rows() as f64;
    let k = layout.k as f64;
    let a = PRIOR_ACCURACY;
    let mut prior = vec![0.0; layout.len];
    for (lf, counts) in stats.vote_counts().iter().enumerate() {
        let coverage = counts.iter().sum::<u64>() as f64 / n;
        for class in 0..layout.k {
            prior[layout.coverage_index(lf, class)] = match layout.single[lf] {
                Some(own) if own == class => logit(coverage * a * k),
                Some(_) => logit((1.0 - a) / ((k - 1.0) * a)),
                None => logit(coverage),
            };
        }
        if let Some((floor, index)) = layout.accuracy[lf] {
            prior[index] = logit(((a - floor) / (1.0 - floor)).max(0.5));
        }
    }
    prior
}

/// Fit the generative model to `stats`.
pub fn fit(stats: &PatternCounts, options: &FitOptions) -> Result<FittedModel, FitError> {
    let k = stats.cardinality();
    let n = stats.n_rows() as f64;
    let polarity: Vec<Vec<bool>> = stats
        .vote_counts()
        .iter()
        .map(|counts| counts.iter().map(|count| *count > 0).collect())
        .collect();
    let balance = fixed_balance(options, k);

    // Start where majority vote points, then a few EM steps.
    let mut parameters = maximisation(&expectation(stats, None, &polarity), n, &balance, &polarity);
    for _ in 0..WARM_EM_STEPS {
        parameters = maximisation(
            &expectation(stats, Some(&parameters), &polarity),
            n,
            &balance,
            &polarity,
        );
    }

    let layout = Layout::new(k, &polarity, balance.is_none());
    let start = layout.to_vector(&parameters);
    let prior = neutral_prior(stats, &layout);
    let objective = Objective {
        stats,
        layout,
        balance: balance.clone(),
        polarity: polarity.clone(),
        prior,
        l2: options.l2,
        cache: Mutex::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(options.tolerance)
        .and_then(|solver| solver.with_tolerance_cost(1e-14))
        .map_err(|error| FitError::Optimiser(error.to_string()))?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start).max_iters(options.max_iterations))
        .run()
        .map_err(|error| FitError::Optimiser(error.to_string()))?;
    let state = result.state();
    let theta = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| FitError::Optimiser("no solution".to_owned()))?;
    let converged = matches!(
        state.get_termination_status(),
        TerminationStatus::Terminated(
            TerminationReason::SolverConverged | TerminationReason::TargetCostReached
        )
    );
    let objective_value = state.get_best_cost();
    let iterations = state.get_iter();
    let fitted = result
        .problem
        .problem
        .as_ref()
        .map(|objective| objective.layout.parameters(&theta, &balance, &polarity));
    let parameters =
        fitted.ok_or_else(|| FitError::Optimiser("the objective was lost".to_owned()))?;

    let diagnostics = Diagnostics::of_iterations(
        "the optimiser",
        iterations,
        converged,
        objective_value,
        options.tolerance,
    );
    let (class_balance, lf_accuracy) = (parameters.class_balance.clone(), parameters.lf_accuracy());
    Ok(FittedModel::unnamed(
        Parameters::Generative(parameters),
        class_balance,
        lf_accuracy,
        diagnostics,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::LabelMatrix;
    use ndarray::array;

    fn small_stats(cardinality: usize) -> PatternCounts {
        let votes = array![
            [0, -1, 1, -1],
            [0, 0, -1, 2 % cardinality as i8],
            [-1, 1, 1, -1],
            [0, -1, -1, 0],
            [-1, -1, 1, 1],
            [0, 1, -1, -1],
            [-1, -1, -1, -1],
            [0, 0, 1, 0]
        ];
        let classes = (0..cardinality).map(|class| class.to_string()).collect();
        let names = (0..4).map(|lf| format!("lf{lf}")).collect();
        PatternCounts::from_matrix(&LabelMatrix::new(votes, names, classes).unwrap())
    }

    /// One LF voting class 1, `c = [0.2, 0.6]`, uniform classes: by hand, P(vote) = 0.5·0.2 +
    /// 0.5·0.6 = 0.4, P(abstain) = 0.6, P(Y = 1 | vote) = 0.3 / 0.4 = 0.75, P(Y = 1 | abstain)
    /// = 0.2 / 0.6 = 1/3, and for 3 votes and 1 abstain the log-likelihood is 3 ln 0.4 + ln 0.6.
    /// The label of a row leaves abstains out: the all-abstain row gets the class balance.
    #[test]
    fn likelihood_and_posterior_by_hand() {
        let parameters = GenerativeParameters::new(
            vec![0.5, 0.5],
            vec![vec![0.2, 0.6]],
            vec![1.0],
            vec![vec![false, true]],
        );
        let mut out = [0.0; 2];
        parameters.exact_posterior(&[Vote::new(0, 1)], &mut out);
        assert!((out[1] - 0.75).abs() < 1e-12, "{out:?}");
        parameters.exact_posterior(&[], &mut out);
        assert!((out[1] - 1.0 / 3.0).abs() < 1e-12, "{out:?}");
        parameters.posterior(&[Vote::new(0, 1)], &mut out);
        assert!((out[1] - 0.75).abs() < 1e-12, "{out:?}");
        parameters.posterior(&[], &mut out);
        assert_eq!(out, [0.5, 0.5]);
        let votes = array![[1], [1], [-1], [1]];
        let matrix =
            LabelMatrix::new(votes, vec!["lf".into()], vec!["a".into(), "b".into()]).unwrap();
        let stats = PatternCounts::from_matrix(&matrix);
        let expected = expectation(&stats, Some(&parameters), &parameters.polarity);
        let by_hand = 3.0 * 0.4f64.ln() + 0.6f64.ln();
        assert!((expected.log_likelihood - by_hand).abs() < 1e-12);
        let accuracy = parameters.lf_accuracy()[0].unwrap();
        assert!((accuracy - 0.75).abs() < 1e-12, "{accuracy}");
    }

    /// The analytic gradient of the penalised objective matches central finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        for (cardinality, balance) in [(2, None), (3, None), (3, Some(vec![0.2, 0.3, 0.5]))] {
            let stats = small_stats(cardinality);
            let polarity: Vec<Vec<bool>> = stats
                .vote_counts()
                .iter()
                .map(|counts| counts.iter().map(|count| *count > 0).collect())
                .collect();
            let layout = Layout::new(cardinality, &polarity, balance.is_none());
            let prior = neutral_prior(&stats, &layout);
            let len = layout.len;
            let objective = Objective {
                stats: &stats,
                layout,
                balance,
                polarity,
                prior,
                l2: 0.5,
                cache: Mutex::new(None),
            };
            let theta: Vec<f64> = (0..len)
                .map(|index| 0.3 * ((index * 7 % 5) as f64 - 2.0))
                .collect();
            let (_, gradient) = objective.evaluate(&theta);
            for index in 0..len {
                let step = 1e-6;
                let mut up = theta.clone();
                up[index] += step;
                let mut down = theta.clone();
                down[index] -= step;
                let numeric =
                    (objective.evaluate(&up).0 - objective.evaluate(&down).0) / (2.0 * step);
                assert!(
                    (numeric - gradient[index]).abs() < 1e-6,
                    "k={cardinality} parameter {index}: {numeric} vs {}",
                    gradient[index]
                );
            }
        }
    }
}
