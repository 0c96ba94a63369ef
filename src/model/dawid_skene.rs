//! Dawid-Skene (1979): every LF has a full confusion matrix `θ_j[y][v] = P(λ_j = v | Y = y)`
//! over the outcomes `v ∈ {abstain, 0, ..., k-1}` (abstain is an observed outcome, not missing
//! data), fitted by EM from majority-vote responsibilities. Counts are smoothed by a small
//! pseudo-count so no outcome gets probability 0.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Diagnostics, FitError, FitOptions, FittedModel, Parameters, fixed_balance, majority, softmax,
};
use crate::patterns::{PatternCounts, Vote};

/// Patterns per parallel work item.
const PATTERN_CHUNK: usize = 4096;
/// Pseudo-count added to every (class, outcome) cell.
const SMOOTHING: f64 = 0.01;

type Tables = (Vec<f64>, Vec<Vec<Vec<f64>>>);

/// Fitted Dawid-Skene parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DawidSkeneParameters {
    /// `P(Y = y)`.
    pub class_balance: Vec<f64>,
    /// `confusion[j][y][v]`: `P(λ_j = v | Y = y)`, where `v = 0` is abstain and `v = c + 1` is
    /// class `c`.
    pub confusion: Vec<Vec<Vec<f64>>>,
    #[serde(skip)]
    cached: std::sync::OnceLock<Tables>,
}

impl PartialEq for DawidSkeneParameters {
    fn eq(&self, other: &Self) -> bool {
        self.class_balance == other.class_balance && self.confusion == other.confusion
    }
}

impl DawidSkeneParameters {
    /// Log-odds tables: `base[y] = log π_y + Σ_j log θ_j[y][abstain]`, `delta[j][c][y] =
    /// log θ_j[y][c + 1] - log θ_j[y][abstain]`.
    fn tables(&self) -> &Tables {
        self.cached.get_or_init(|| self.compute_tables())
    }

    fn compute_tables(&self) -> Tables {
        let k = self.class_balance.len();
        let mut base: Vec<f64> = self.class_balance.iter().map(|p| p.ln()).collect();
        let mut delta = Vec::with_capacity(self.confusion.len());
        for confusion in &self.confusion {
            for (class, row) in confusion.iter().enumerate() {
                base[class] += row[0].ln();
            }
            delta.push(
                (0..k)
                    .map(|vote| {
                        (0..k)
                            .map(|class| confusion[class][vote + 1].ln() - confusion[class][0].ln())
                            .collect()
                    })
                    .collect(),
            );
        }
        (base, delta)
    }

    /// The same confusion matrices with another class balance.
    pub(crate) fn with_class_balance(&self, class_balance: Vec<f64>) -> Self {
        DawidSkeneParameters {
            class_balance,
            confusion: self.confusion.clone(),
            cached: std::sync::OnceLock::new(),
        }
    }

    /// `P(Y | votes)` into `out`.
    pub fn posterior(&self, votes: &[Vote], out: &mut [f64]) {
        let (base, delta) = self.tables();
        posterior_from(base, delta, votes, out);
    }

    fn lf_accuracy(&self) -> Vec<Option<f64>> {
        self.confusion
            .iter()
            .map(|confusion| {
                let voting: f64 = confusion
                    .iter()
                    .zip(&self.class_balance)
                    .map(|(row, p)| p * (1.0 - row[0]))
                    .sum();
                let right: f64 = confusion
                    .iter()
                    .enumerate()
                    .zip(&self.class_balance)
                    .map(|((class, row), p)| p * row[class + 1])
                    .sum();
                (voting > 1e-9).then(|| right / voting)
            })
            .collect()
    }
}

fn posterior_from(base: &[f64], delta: &[Vec<Vec<f64>>], votes: &[Vote], out: &mut [f64]) -> f64 {
    let mut logits = base.to_vec();
    for vote in votes {
        for (logit, delta) in logits.iter_mut().zip(&delta[vote.lf()][vote.class()]) {
            *logit += delta;
        }
    }
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logits.iter().map(|logit| (logit - max).exp()).sum();
    softmax(&logits, out);
    max + total.ln()
}

/// Expected counts: per class `N_y`, per LF, class and voted class the mass, and the
/// log-likelihood.
struct Counts {
    log_likelihood: f64,
    class: Vec<f64>,
    votes: Vec<Vec<Vec<f64>>>,
}

fn expectation(stats: &PatternCounts, parameters: Option<&DawidSkeneParameters>) -> Counts {
    let (m, k) = (stats.n_lfs(), stats.cardinality());
    let tables = parameters.map(DawidSkeneParameters::tables);
    let indices: Vec<usize> = (0..stats.len()).collect();
    let partial: Vec<Counts> = indices
        .par_chunks(PATTERN_CHUNK)
        .map(|chunk| {
            let mut counts = Counts {
                log_likelihood: 0.0,
                class: vec![0.0; k],
                votes: vec![vec![vec![0.0; k]; k]; m],
            };
            let mut r = vec![0.0; k];
            for pattern in chunk {
                let votes = stats.pattern(*pattern);
                let n = stats.count(*pattern) as f64;
                match &tables {
                    Some((base, delta)) => {
                        counts.log_likelihood += n * posterior_from(base, delta, votes, &mut r)
                    }
                    None => majority::posterior(votes, &mut r),
                }
                for (class, p) in r.iter().enumerate() {
                    counts.class[class] += n * p;
                }
                for vote in votes {
                    for (class, p) in r.iter().enumerate() {
                        counts.votes[vote.lf()][class][vote.class()] += n * p;
                    }
                }
            }
            counts
        })
        .collect();
    let mut total = Counts {
        log_likelihood: 0.0,
        class: vec![0.0; k],
        votes: vec![vec![vec![0.0; k]; k]; m],
    };
    for counts in partial {
        total.log_likelihood += counts.log_likelihood;
        for (mine, theirs) in total.class.iter_mut().zip(&counts.class) {
            *mine += theirs;
        }
        for (mine, theirs) in total
            .votes
            .iter_mut()
            .flatten()
            .flatten()
            .zip(counts.votes.iter().flatten().flatten())
        {
            *mine += theirs;
        }
    }
    total
}

fn maximisation(counts: &Counts, n: f64, balance: &Option<Vec<f64>>) -> DawidSkeneParameters {
    let k = counts.class.len();
    let class_balance = match balance {
        Some(balance) => balance.clone(),
        None => counts
            .class
            .iter()
            .map(|mass| (mass + SMOOTHING) / (n + k as f64 * SMOOTHING))
            .collect(),
    };
    let confusion = counts
        .votes
        .iter()
        .map(|per_class| {
            per_class
                .iter()
                .zip(&counts.class)
                .map(|(voted, total)| {
                    let abstained = (total - voted.iter().sum::<f64>()).max(0.0);
                    let denominator = total + (k as f64 + 1.0) * SMOOTHING;
                    std::iter::once(abstained)
                        .chain(voted.iter().copied())
                        .map(|mass| (mass + SMOOTHING) / denominator)
                        .collect()
                })
                .collect()
        })
        .collect();
    DawidSkeneParameters {
        class_balance,
        confusion,
        cached: std::sync::OnceLock::new(),
    }
}

/// Fit Dawid-Skene by EM until the mean log-likelihood improves by less than the tolerance.
pub fn fit(stats: &PatternCounts, options: &FitOptions) -> Result<FittedModel, FitError> {
    let n = stats.n_rows() as f64;
    let balance = fixed_balance(options, stats.cardinality());
    let mut parameters = maximisation(&expectation(stats, None), n, &balance);
    let (mut previous, mut iterations, mut converged) = (f64::NEG_INFINITY, 0, false);
    while iterations < options.max_iterations {
        let counts = expectation(stats, Some(&parameters));
        iterations += 1;
        let mean = counts.log_likelihood / n;
        parameters = maximisation(&counts, n, &balance);
        if (mean - previous).abs() < options.tolerance {
            converged = true;
            previous = mean;
            break;
        }
        previous = mean;
    }
    let diagnostics =
        Diagnostics::of_iterations("EM", iterations, converged, -previous, options.tolerance);
    let (class_balance, lf_accuracy) = (parameters.class_balance.clone(), parameters.lf_accuracy());
    Ok(FittedModel::unnamed(
        Parameters::DawidSkene(parameters),
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

    /// By hand, for one LF with confusion rows [abstain, 0, 1] = [0.5, 0.4, 0.1] for Y = 0 and
    /// [0.5, 0.1, 0.4] for Y = 1 and a uniform prior: P(Y = 0 | vote 0) = 0.4 / 0.5 = 0.8;
    /// P(Y = 0 | abstain) = 0.5; the accuracy of a cast vote is 0.4 / 0.5 = 0.8.
    #[test]
    fn posterior_and_accuracy_by_hand() {
        let parameters = DawidSkeneParameters {
            class_balance: vec![0.5, 0.5],
            confusion: vec![vec![vec![0.5, 0.4, 0.1], vec![0.5, 0.1, 0.4]]],
            cached: std::sync::OnceLock::new(),
        };
        let mut out = [0.0; 2];
        parameters.posterior(&[Vote::new(0, 0)], &mut out);
        assert!((out[0] - 0.8).abs() < 1e-12, "{out:?}");
        parameters.posterior(&[], &mut out);
        assert!((out[0] - 0.5).abs() < 1e-12, "{out:?}");
        assert!((parameters.lf_accuracy()[0].unwrap() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn em_never_lowers_its_objective_and_converges() {
        let votes = array![
            [0, 0, -1],
            [1, 1, 1],
            [0, -1, 0],
            [1, 0, 1],
            [0, 0, 0],
            [-1, 1, 1]
        ];
        let names = vec!["a".into(), "b".into(), "c".into()];
        let matrix = LabelMatrix::new(votes, names, vec!["x".into(), "y".into()]).unwrap();
        let stats = PatternCounts::from_matrix(&matrix);
        // With pseudo-counts EM maximises the log-posterior: the likelihood plus the Dirichlet
        // log-prior `SMOOTHING * sum(log theta)`, and the same on the class balance.
        let log_posterior = |parameters: &DawidSkeneParameters, log_likelihood: f64| {
            let cells = parameters.confusion.iter().flatten().flatten();
            let prior = cells
                .chain(&parameters.class_balance)
                .map(|p| p.ln())
                .sum::<f64>();
            log_likelihood + SMOOTHING * prior
        };
        let mut parameters = maximisation(&expectation(&stats, None), 6.0, &None);
        let mut previous = f64::NEG_INFINITY;
        for _ in 0..20 {
            let counts = expectation(&stats, Some(&parameters));
            let objective = log_posterior(&parameters, counts.log_likelihood);
            assert!(
                objective >= previous - 1e-9,
                "EM lowered its objective: {objective} < {previous}"
            );
            previous = objective;
            parameters = maximisation(&counts, 6.0, &None);
        }
        let options = FitOptions {
            class_balance: super::super::ClassBalance::Estimated,
            ..FitOptions::default()
        };
        assert!(fit(&stats, &options).unwrap().diagnostics.converged);
    }
}
