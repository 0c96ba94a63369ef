//! Multinomial logistic regression trained on soft labels (noise-aware cross-entropy).
//!
//! For rows `x_i` (sparse), targets `p_i` (a probability per class: the label model's
//! probabilistic labels, or one-hot) and row weights `w_i`, minimise
//!
//! `J(W, b) = (1 / Σ w_i) Σ_i w_i Σ_c -p_ic log softmax(W x_i + b)_c + (λ / 2) ||W||²`
//!
//! whose gradient is `(1 / Σ w) Σ_i w_i (softmax_i - p_i) x_iᵀ + λ W` (and the same without
//! `x` and `λ` for `b`). Minimising it is the expected cross-entropy under the label
//! distribution: a row the label model is unsure of pulls weakly in each direction instead of
//! teaching one hard, possibly wrong, class. Optimised with argmin's L-BFGS.
//!
//! Determinism: the objective and gradient are summed over row pieces whose number depends
//! only on the data's size, each piece in row order, the pieces in order, so results do not
//! depend on the thread count.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use super::features::SparseRows;

/// Training data: features, soft targets (rows x classes, row-major) and row weights.
pub struct TrainingSet<'a> {
    /// Features.
    pub rows: &'a SparseRows,
    /// `targets[i k + c]`.
    pub targets: &'a [f64],
    /// Row weights.
    pub weights: &'a [f64],
    /// Number of classes.
    pub classes: usize,
    /// Number of features (buckets).
    pub dimension: usize,
}

/// Number of row pieces the objective is computed in: up to 16, fewer when the parameter
/// vector is large (each piece holds a dense gradient; at most about 256 MB in all). A function
/// of the data's size only, so sums happen in the same order whatever the thread count.
fn gradient_pieces(rows: usize, parameters: usize) -> usize {
    let budget = (256usize << 20) / (8 * parameters.max(1));
    budget.clamp(1, 16).min(rows.max(1))
}

/// Parameters with the objective and gradient there.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The objective with its gradient, evaluated together and cached by parameter vector.
struct Objective<'a> {
    data: &'a TrainingSet<'a>,
    l2: f64,
    total_weight: f64,
    cache: Mutex<Option<Evaluated>>,
}

/// Class scores of one row: `b + W x`; `theta` holds `W` feature-major (`f k + c`) then `b`.
fn scores(
    theta: &[f64],
    k: usize,
    dimension: usize,
    indices: &[u32],
    values: &[f32],
    out: &mut [f64],
) {
    out.copy_from_slice(&theta[dimension * k..dimension * k + k]);
    for (index, value) in indices.iter().zip(values) {
        let weights = &theta[*index as usize * k..(*index as usize + 1) * k];
        for (score, weight) in out.iter_mut().zip(weights) {
            *score += f64::from(*value) * weight;
        }
    }
}

/// Softmax of `scores` in place; returns `log Σ exp(scores)`.
pub(crate) fn softmax(scores: &mut [f64]) -> f64 {
    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for score in scores.iter_mut() {
        *score = (*score - max).exp();
        total += *score;
    }
    for score in scores.iter_mut() {
        *score /= total;
    }
    max + total.ln()
}

impl Objective<'_> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        if let Some((cached, cost, gradient)) = self.cache.lock().expect("cache").as_ref()
            && cached.as_slice() == theta
        {
            return (*cost, gradient.clone());
        }
        let data = self.data;
        let (k, dimension, n) = (data.classes, data.dimension, data.rows.len());
        let len = theta.len();
        // One pass per row chunk: scores, loss, and the gradient accumulated row by row into
        // the chunk's own dense buffer; the chunks (a number fixed by the data's size, not by
        // the thread count) are then summed in order.
        let pieces = gradient_pieces(n, len);
        let rows_per_piece = n.div_ceil(pieces).max(1);
        let partial: Vec<(f64, Vec<f64>)> = (0..pieces)
            .into_par_iter()
            .map(|piece| {
                let rows = piece * rows_per_piece..((piece + 1) * rows_per_piece).min(n);
                let mut loss = 0.0;
                let mut gradient = vec![0.0; len];
                let mut probability = vec![0.0; k];
                let mut residual = vec![0.0; k];
                for row in rows {
                    let (indices, values) = data.rows.row(row);
                    scores(theta, k, dimension, indices, values, &mut probability);
                    let max = probability
                        .iter()
                        .cloned()
                        .fold(f64::NEG_INFINITY, f64::max);
                    let log_total = max
                        + probability
                            .iter()
                            .map(|s| (s - max).exp())
                            .sum::<f64>()
                            .ln();
                    let weight = data.weights[row] / self.total_weight;
                    let target = &data.targets[row * k..(row + 1) * k];
                    for (score, p) in probability.iter().zip(target) {
                        loss -= weight * p * (score - log_total);
                    }
                    for class in 0..k {
                        residual[class] =
                            weight * ((probability[class] - log_total).exp() - target[class]);
                    }
                    for (index, value) in indices.iter().zip(values) {
                        let cell = &mut gradient[*index as usize * k..(*index as usize + 1) * k];
                        for (g, r) in cell.iter_mut().zip(&residual) {
                            *g += f64::from(*value) * r;
                        }
                    }
                    for (g, r) in gradient[dimension * k..].iter_mut().zip(&residual) {
                        *g += r;
                    }
                }
                (loss, gradient)
            })
            .collect();
        let mut cost = 0.0;
        let mut gradient = vec![0.0; len];
        for (loss, piece) in partial {
            cost += loss;
            for (total, value) in gradient.iter_mut().zip(piece) {
                *total += value;
            }
        }
        for (g, w) in gradient[..dimension * k]
            .iter_mut()
            .zip(&theta[..dimension * k])
        {
            *g += self.l2 * w;
            cost += 0.5 * self.l2 * w * w;
        }
        *self.cache.lock().expect("cache") = Some((theta.to_vec(), cost, gradient.clone()));
        (cost, gradient)
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta).1)
    }
}

/// How the optimiser ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// L-BFGS iterations.
    pub iterations: u64,
    /// Whether it met its tolerance (rather than the iteration limit).
    pub converged: bool,
    /// The final objective value.
    pub objective: f64,
}

/// Minimise the objective from `start` (or zeros) with L2 strength `l2`.
pub fn train(
    data: &TrainingSet<'_>,
    l2: f64,
    max_iterations: u64,
    tolerance: f64,
    start: Option<Vec<f64>>,
) -> Result<(Vec<f64>, TrainReport), Box<dyn std::error::Error + Send + Sync>> {
    let len = data.dimension * data.classes + data.classes;
    let total_weight: f64 = data.weights.iter().sum();
    if total_weight <= 0.0 {
        return Err("the training rows have no weight".into());
    }
    let objective = Objective {
        data,
        l2,
        total_weight,
        cache: Mutex::new(None),
    };
    let start = start.unwrap_or_else(|| vec![0.0; len]);
    let line_search = MoreThuenteLineSearch::new();
    let solver = LBFGS::new(line_search, 10)
        .with_tolerance_grad(tolerance)?
        .with_tolerance_cost(1e-12)?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start.clone()).max_iters(max_iterations))
        .run()?;
    let state = result.state();
    let converged = matches!(
        state.get_termination_status(),
        TerminationStatus::Terminated(
            TerminationReason::SolverConverged | TerminationReason::TargetCostReached
        )
    );
    let best = state.get_best_param().cloned().unwrap_or(start);
    let objective = state.get_best_cost();
    Ok((
        best,
        TrainReport {
            iterations: state.get_iter(),
            converged,
            objective,
        },
    ))
}

/// Class probabilities of every row, rows x classes row-major; rows in parallel.
pub fn predict(theta: &[f64], rows: &SparseRows, k: usize, dimension: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows.len() * k];
    out.par_chunks_mut(k)
        .enumerate()
        .for_each(|(row, probability)| {
            let (indices, values) = rows.row(row);
            scores(theta, k, dimension, indices, values, probability);
            softmax(probability);
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (SparseRows, Vec<f64>, Vec<f64>) {
        // Four rows over 6 features; soft targets.
        let rows = SparseRows {
            offsets: vec![0, 2, 3, 5, 6],
            indices: vec![0, 3, 1, 2, 5, 4],
            values: vec![0.6, 0.8, 1.0, 0.5, 0.5, 1.0],
        };
        let targets = vec![0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 0.0, 1.0];
        let weights = vec![1.0, 2.0, 0.5, 1.0];
        (rows, targets, weights)
    }

    /// The objective on the toy set with L2 strength `l2`, handed to `check`.
    fn with_toy_objective(l2: f64, check: impl FnOnce(&Objective<'_>)) {
        let (rows, targets, weights) = toy();
        let data = TrainingSet {
            rows: &rows,
            targets: &targets,
            weights: &weights,
            classes: 2,
            dimension: 6,
        };
        check(&Objective {
            data: &data,
            l2,
            total_weight: weights.iter().sum(),
            cache: Mutex::new(None),
        });
    }

    /// The analytic gradient of the soft-label loss matches central finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        with_toy_objective(0.3, |objective| {
            let theta: Vec<f64> = (0..14).map(|i| 0.2 * ((i * 5 % 7) as f64 - 3.0)).collect();
            crate::test_support::assert_gradient_matches(
                |theta| objective.evaluate(theta),
                &theta,
                1e-7,
                "soft-label loss",
            );
        });
    }

    /// The loss at zero weights is ln k (uniform predictions) whatever the targets.
    #[test]
    fn loss_at_zero_is_log_k() {
        with_toy_objective(1.0, |objective| {
            let (cost, _) = objective.evaluate(&[0.0; 14]);
            assert!((cost - 2f64.ln()).abs() < 1e-12);
        });
    }
}
