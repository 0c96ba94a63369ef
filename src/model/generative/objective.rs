//! The penalised objective L-BFGS minimises: the parameter layout as one vector, the
//! marginal log-likelihood and its gradient, and the neutral prior it is pulled toward.

use std::sync::Mutex;

use argmin::core::{CostFunction, Gradient};

use super::em::{
    Expected, clamp, expectation, members, neutral_confusion, shares_coverage, single_class,
};
use super::posterior::GenerativeParameters;
use super::{CONFUSION_PRIOR_SCALE, FLOOR, PRIOR_ACCURACY};
use crate::model::softmax;
use crate::patterns::PatternCounts;

/// Where each parameter sits in the unconstrained vector optimised by L-BFGS, and how it maps
/// to probabilities:
/// - class balance: softmax of `k` logits (when estimated);
/// - an LF voting one class `c`: `c[c] = σ(θ_c)` and `c[y] = c[c] σ(θ_y)` for `y ≠ c`, so it never
///   fires more often on other classes than on its own;
/// - an LF voting several classes `S`: `c[y] = σ(θ_y)`, and for each `y` in `S` the confusion row
///   `q(· | y)` is a softmax over `S` of `|S| - 1` logits `θ_yv = ln(q(v | y) / q(y | y))`, `v ≠ y`
///   (no redundant direction, which would leave the optimiser a nearly flat valley).
pub(super) struct Layout {
    pub(super) k: usize,
    pub(super) n_lfs: usize,
    pub(super) balance_free: bool,
    /// Per LF, its one class, if it votes one.
    pub(super) single: Vec<Option<usize>>,
    /// Per LF voting several classes: its classes and the index of its first confusion logit
    /// (row `y`'s `|S| - 1` logits, in class order without `y`, from `start + row · (|S| - 1)`).
    pub(super) confusion: Vec<Option<(Vec<usize>, usize)>>,
    /// Per LF, [`Layout::confusion_indices`], listed once (every evaluation walks them).
    pub(super) indices: Vec<Vec<(usize, usize, usize)>>,
    /// Per LF, where its coverage logits start, and whether it has one for every class (an LF
    /// voting one class) or one shared by all classes (an LF voting several: see
    /// [`shares_coverage`]).
    pub(super) coverage_start: Vec<usize>,
    pub(super) shared: Vec<bool>,
    /// Per parameter, its prior precision in units of `l2`.
    pub(super) precision: Vec<f64>,
    pub(super) len: usize,
}

impl Layout {
    pub(super) fn new(k: usize, polarity: &[Vec<bool>], balance_free: bool) -> Self {
        let n_lfs = polarity.len();
        let mut next = if balance_free { k } else { 0 };
        let shared: Vec<bool> = polarity
            .iter()
            .map(|classes| shares_coverage(classes))
            .collect();
        let coverage_start = shared
            .iter()
            .map(|shared| {
                let start = next;
                next += if *shared { 1 } else { k };
                start
            })
            .collect();
        let confusion_start = next;
        let confusion = polarity
            .iter()
            .map(|classes| {
                let classes = members(classes);
                (classes.len() >= 2).then(|| {
                    let start = next;
                    next += classes.len() * (classes.len() - 1);
                    (classes, start)
                })
            })
            .collect();
        let single = polarity
            .iter()
            .map(|classes| single_class(classes))
            .collect();
        let mut precision = vec![1.0; next];
        precision[confusion_start..].fill(CONFUSION_PRIOR_SCALE);
        let mut layout = Layout {
            k,
            n_lfs,
            balance_free,
            single,
            confusion,
            indices: Vec::new(),
            coverage_start,
            shared,
            precision,
            len: next,
        };
        layout.indices = (0..n_lfs).map(|lf| layout.list_indices(lf)).collect();
        layout
    }

    pub(super) fn coverage_index(&self, lf: usize, class: usize) -> usize {
        self.coverage_start[lf] + if self.shared[lf] { 0 } else { class }
    }

    /// The confusion logits of an LF voting several classes, as `(y, v, index)`, `v ≠ y`.
    pub(super) fn confusion_indices(&self, lf: usize) -> &[(usize, usize, usize)] {
        &self.indices[lf]
    }

    pub(super) fn list_indices(&self, lf: usize) -> Vec<(usize, usize, usize)> {
        let Some((classes, start)) = &self.confusion[lf] else {
            return Vec::new();
        };
        let mut indices = Vec::with_capacity(classes.len() * (classes.len() - 1));
        for &class in classes {
            for &vote in classes.iter().filter(|vote| **vote != class) {
                indices.push((class, vote, start + indices.len()));
            }
        }
        indices
    }

    pub(super) fn to_vector(&self, parameters: &GenerativeParameters) -> Vec<f64> {
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
            let confusion = &parameters.confusion[lf];
            for &(class, vote, index) in self.confusion_indices(lf) {
                theta[index] = (confusion[class][vote].max(FLOOR) / confusion[class][class]).ln();
            }
        }
        theta
    }

    pub(super) fn parameters(
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
        let confusion = (0..self.n_lfs)
            .map(|lf| {
                let mut confusion = neutral_confusion(&polarity[lf]);
                let indices = self.confusion_indices(lf);
                // Row y: exp(θ_yv) for v ≠ y and 1 for v = y, over their sum.
                let mut totals = vec![1.0; self.k];
                for &(class, vote, index) in indices {
                    confusion[class][vote] = theta[index].exp();
                    totals[class] += confusion[class][vote];
                }
                for &(class, vote, _) in indices {
                    confusion[class][vote] /= totals[class];
                    confusion[class][class] = 1.0 / totals[class];
                }
                confusion
            })
            .collect();
        GenerativeParameters::new(class_balance, coverage, confusion, polarity.to_vec())
    }

    /// The objective (penalised negative mean log-likelihood) and its gradient at `theta`, from
    /// the log-likelihood and the expected counts at `parameters` (the parameters of `theta`).
    /// With the counts of an E-step at `parameters`, this is the marginal objective's gradient
    /// (Fisher's identity), so EM learns its own distance from the optimum for free.
    pub(super) fn penalised(
        &self,
        theta: &[f64],
        parameters: &GenerativeParameters,
        expected: &Expected,
        log_likelihood: f64,
        penalty: &Penalty,
    ) -> (f64, Vec<f64>) {
        let n = penalty.n;
        let mut gradient = self.log_likelihood_gradient(theta, parameters, expected, n);
        let mut cost = -log_likelihood / n;
        for (((gradient, theta), prior), scale) in gradient
            .iter_mut()
            .zip(theta)
            .zip(penalty.prior)
            .zip(&self.precision)
        {
            let strength = penalty.l2 * scale / n;
            *gradient = -*gradient / n + strength * (theta - prior);
            cost += 0.5 * strength * (theta - prior).powi(2);
        }
        (cost, gradient)
    }

    /// The gradient of the log-likelihood with respect to `theta`, from the expected counts.
    pub(super) fn log_likelihood_gradient(
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
                        gradient[self.coverage_index(lf, class)] +=
                            voted[class] - c[class] * total[class];
                    }
                }
            }
            // Softmax rows (the diagonal logit fixed at 0): d/dθ_yv of Σ_v' N_yv' log q(v' | y) =
            // N_yv - N_y q(v | y), where N_y = V[y] since the LF votes only its own classes in
            // the data it was fitted on.
            for &(class, vote, index) in self.confusion_indices(lf) {
                gradient[index] = expected.by_vote(lf, vote)[class]
                    - voted[class] * parameters.confusion[lf][class][vote];
            }
        }
        gradient
    }
}

pub(super) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub(super) fn logit(p: f64) -> f64 {
    let p = clamp(p);
    (p / (1.0 - p)).ln()
}

/// Parameters, cost and gradient of one evaluation.
pub(super) type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// What an [`Objective`] measures the parameters against.
#[derive(Clone, Copy)]
pub(super) enum Data<'a> {
    /// The marginal likelihood of the patterns: one pass over them per evaluation.
    Marginal(&'a PatternCounts),
    /// The expected complete-data likelihood under fixed expected counts (EM's M-step
    /// objective): no pass over the data.
    Complete(&'a Expected),
}

/// The penalised negative mean log-likelihood, for argmin.
pub(super) struct Objective<'a> {
    pub(super) data: Data<'a>,
    /// Rows.
    pub(super) n: f64,
    pub(super) layout: Layout,
    pub(super) balance: Option<Vec<f64>>,
    pub(super) polarity: Vec<Vec<bool>>,
    /// Where the L2 penalty pulls.
    pub(super) prior: Vec<f64>,
    pub(super) l2: f64,
    /// The last evaluation, since argmin asks for cost and gradient separately.
    pub(super) cache: Mutex<Option<Evaluation>>,
}

impl Objective<'_> {
    pub(super) fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        if let Ok(cache) = self.cache.lock()
            && let Some((cached, cost, gradient)) = cache.as_ref()
            && cached.as_slice() == theta
        {
            return (*cost, gradient.clone());
        }
        let parameters = self.layout.parameters(theta, &self.balance, &self.polarity);
        let (cost, gradient) = match self.data {
            Data::Marginal(stats) => {
                let expected = expectation(stats, Some(&parameters));
                self.layout.penalised(
                    theta,
                    &parameters,
                    &expected,
                    expected.log_likelihood,
                    &self.penalty(),
                )
            }
            Data::Complete(expected) => self.layout.penalised(
                theta,
                &parameters,
                expected,
                complete_log_likelihood(&parameters, expected),
                &self.penalty(),
            ),
        };
        self.remember(theta, cost, &gradient);
        (cost, gradient)
    }

    pub(super) fn penalty(&self) -> Penalty<'_> {
        Penalty {
            n: self.n,
            prior: &self.prior,
            l2: self.l2,
        }
    }

    /// Keep an evaluation for argmin's next question about the same `theta`.
    pub(super) fn remember(&self, theta: &[f64], cost: f64, gradient: &[f64]) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((theta.to_vec(), cost, gradient.to_vec()));
        }
    }
}

/// The Gaussian prior of precision `l2` on the logits (MAP), centred on `prior`, for `n` rows:
/// its weight against the data shrinks as `n` grows, as a prior's should.
pub(super) struct Penalty<'a> {
    pub(super) n: f64,
    pub(super) prior: &'a [f64],
    pub(super) l2: f64,
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

/// The expected complete-data log-likelihood `Σ_y N_y ln π_y + Σ_j Σ_y (V_jy ln c_jy + (N_y -
/// V_jy) ln(1 - c_jy) + Σ_v N_jyv ln q_j(v | y))` under the counts of one E-step. Its gradient
/// at fixed counts is [`Layout::log_likelihood_gradient`].
pub(super) fn complete_log_likelihood(
    parameters: &GenerativeParameters,
    expected: &Expected,
) -> f64 {
    let k = expected.k;
    let mut total: f64 = (0..k)
        .map(|y| expected.class[y] * parameters.class_balance[y].ln())
        .sum();
    for (lf, coverage) in parameters.coverage.iter().enumerate() {
        let voted = expected.voted(lf);
        for y in 0..k {
            total += voted[y] * coverage[y].ln()
                + (expected.class[y] - voted[y]) * (1.0 - coverage[y]).ln();
            let voted_classes = parameters.polarity[lf].iter().enumerate();
            for vote in voted_classes.filter_map(|(vote, voted)| voted.then_some(vote)) {
                let mass = expected.by_vote(lf, vote)[y];
                if mass > 0.0 {
                    total += mass * parameters.confusion[lf][y][vote].ln();
                }
            }
        }
    }
    total
}

/// The vector the L2 penalty pulls toward: a model in which every LF is right
/// [`PRIOR_ACCURACY`] (`a`) of the time it votes, votes as often as it does in the data (`β`),
/// and the classes are balanced. For an LF voting one class `c`, that is `c[c] = β a k` and a
/// ratio `c[y] / c[c] = (1 - a) / ((k - 1) a)`; for an LF voting several, coverage `β` for
/// every class and the confusion rows of [`neutral_confusion`] (right [`prior_accuracy`] of
/// the time).
pub(super) fn neutral_prior(stats: &PatternCounts, layout: &Layout) -> Vec<f64> {
    let n = stats.n_rows() as f64;
    let k = layout.k as f64;
    let a = PRIOR_ACCURACY;
    let mut prior = vec![0.0; layout.len];
    for (lf, counts) in stats.vote_counts().iter().enumerate() {
        let polarity: Vec<bool> = counts.iter().map(|count| *count > 0).collect();
        let coverage = counts.iter().sum::<u64>() as f64 / n;
        for class in 0..layout.k {
            prior[layout.coverage_index(lf, class)] = match layout.single[lf] {
                Some(own) if own == class => logit(coverage * a * k),
                Some(_) => logit((1.0 - a) / ((k - 1.0) * a)),
                None => logit(coverage),
            };
        }
        let confusion = neutral_confusion(&polarity);
        for &(class, vote, index) in layout.confusion_indices(lf) {
            prior[index] = (confusion[class][vote] / confusion[class][class]).ln();
        }
    }
    prior
}
