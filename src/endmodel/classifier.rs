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
//! Determinism: the forward pass runs over fixed row chunks summed in order, and the gradient
//! of each feature is summed over its rows in row order (from a column-major copy), so results
//! do not depend on the thread count.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use super::features::SparseRows;

/// Rows per parallel work item of the forward pass.
const ROW_CHUNK: usize = 2048;
/// Features per parallel work item of the gradient.
const FEATURE_CHUNK: usize = 4096;

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

/// Column-major copy of the features: for each feature, its rows and values in row order.
struct Columns {
    offsets: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<f32>,
}

impl Columns {
    fn new(rows: &SparseRows, dimension: usize) -> Columns {
        let mut counts = vec![0usize; dimension + 1];
        for index in &rows.indices {
            counts[*index as usize + 1] += 1;
        }
        for feature in 0..dimension {
            counts[feature + 1] += counts[feature];
        }
        let mut next = counts.clone();
        let mut row_of = vec![0u32; rows.indices.len()];
        let mut values = vec![0f32; rows.indices.len()];
        for row in 0..rows.len() {
            let (indices, row_values) = rows.row(row);
            for (index, value) in indices.iter().zip(row_values) {
                let slot = &mut next[*index as usize];
                row_of[*slot] = row as u32;
                values[*slot] = *value;
                *slot += 1;
            }
        }
        Columns {
            offsets: counts,
            rows: row_of,
            values,
        }
    }
}

/// The objective with its gradient, evaluated together and cached by parameter vector.
struct Objective<'a> {
    data: &'a TrainingSet<'a>,
    columns: Columns,
    l2: f64,
    total_weight: f64,
    cache: Mutex<Option<(Vec<f64>, f64, Vec<f64>)>>,
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
        // Forward: loss and residuals r_i = w_i (softmax_i - p_i) / Σw, chunk by chunk.
        let chunks = n.div_ceil(ROW_CHUNK);
        let partial: Vec<(f64, Vec<f64>)> = (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let rows = chunk * ROW_CHUNK..((chunk + 1) * ROW_CHUNK).min(n);
                let mut loss = 0.0;
                let mut residual = vec![0.0; rows.len() * k];
                let mut probability = vec![0.0; k];
                for (offset, row) in rows.enumerate() {
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
                    softmax(&mut probability);
                    for class in 0..k {
                        residual[offset * k + class] =
                            weight * (probability[class] - target[class]);
                    }
                }
                (loss, residual)
            })
            .collect();
        let mut cost = 0.0;
        let mut residual = Vec::with_capacity(n * k);
        for (loss, chunk_residual) in partial {
            cost += loss;
            residual.extend(chunk_residual);
        }
        let mut gradient = vec![0.0; theta.len()];
        // Weights: per feature, over its rows in row order.
        gradient[..dimension * k]
            .par_chunks_mut(FEATURE_CHUNK * k)
            .enumerate()
            .for_each(|(chunk, out)| {
                for (offset, cell) in out.chunks_exact_mut(k).enumerate() {
                    let feature = chunk * FEATURE_CHUNK + offset;
                    let range = self.columns.offsets[feature]..self.columns.offsets[feature + 1];
                    for (row, value) in self.columns.rows[range.clone()]
                        .iter()
                        .zip(&self.columns.values[range])
                    {
                        let r = &residual[*row as usize * k..(*row as usize + 1) * k];
                        for (g, r) in cell.iter_mut().zip(r) {
                            *g += f64::from(*value) * r;
                        }
                    }
                }
            });
        for row in residual.chunks_exact(k) {
            for (g, r) in gradient[dimension * k..].iter_mut().zip(row) {
                *g += r;
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
) -> Result<(Vec<f64>, TrainReport), String> {
    let len = data.dimension * data.classes + data.classes;
    let total_weight: f64 = data.weights.iter().sum();
    if total_weight <= 0.0 {
        return Err("the training rows have no weight".to_owned());
    }
    let objective = Objective {
        data,
        columns: Columns::new(data.rows, data.dimension),
        l2,
        total_weight,
        cache: Mutex::new(None),
    };
    let start = start.unwrap_or_else(|| vec![0.0; len]);
    let line_search = MoreThuenteLineSearch::new();
    let solver = LBFGS::new(line_search, 10)
        .with_tolerance_grad(tolerance)
        .map_err(|error| error.to_string())?
        .with_tolerance_cost(1e-12)
        .map_err(|error| error.to_string())?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start.clone()).max_iters(max_iterations))
        .run()
        .map_err(|error| error.to_string())?;
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

    /// The analytic gradient of the soft-label loss matches central finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let (rows, targets, weights) = toy();
        let data = TrainingSet {
            rows: &rows,
            targets: &targets,
            weights: &weights,
            classes: 2,
            dimension: 6,
        };
        let objective = Objective {
            data: &data,
            columns: Columns::new(&rows, 6),
            l2: 0.3,
            total_weight: weights.iter().sum(),
            cache: Mutex::new(None),
        };
        let theta: Vec<f64> = (0..14).map(|i| 0.2 * ((i * 5 % 7) as f64 - 3.0)).collect();
        let (_, gradient) = objective.evaluate(&theta);
        for index in 0..theta.len() {
            let step = 1e-6;
            let mut up = theta.clone();
            up[index] += step;
            let mut down = theta.clone();
            down[index] -= step;
            let numeric = (objective.evaluate(&up).0 - objective.evaluate(&down).0) / (2.0 * step);
            assert!(
                (numeric - gradient[index]).abs() < 1e-7,
                "parameter {index}: {numeric} vs {}",
                gradient[index]
            );
        }
    }

    /// The loss at zero weights is ln k (uniform predictions) whatever the targets.
    #[test]
    fn loss_at_zero_is_log_k() {
        let (rows, targets, weights) = toy();
        let data = TrainingSet {
            rows: &rows,
            targets: &targets,
            weights: &weights,
            classes: 2,
            dimension: 6,
        };
        let objective = Objective {
            data: &data,
            columns: Columns::new(&rows, 6),
            l2: 1.0,
            total_weight: weights.iter().sum(),
            cache: Mutex::new(None),
        };
        let (cost, _) = objective.evaluate(&[0.0; 14]);
        assert!((cost - 2f64.ln()).abs() < 1e-12);
    }
}
