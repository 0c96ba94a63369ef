//! Expectation-maximisation: expected counts of the votes per class (E-step) and the
//! closed-form maximisation of the complete-data likelihood (M-step).

use rayon::prelude::*;

use super::posterior::{GenerativeParameters, normalise, prior_accuracy};
use super::{FLOOR, PATTERN_CHUNK};
use crate::model::majority;
use crate::patterns::{PatternCounts, Vote};

/// Expected counts from one E-step: the sufficient statistics of the M-step and the gradient.
#[derive(Clone, Debug)]
pub(super) struct Expected {
    pub(super) k: usize,
    pub(super) log_likelihood: f64,
    /// `N_y = Σ_p n_p r_py`.
    pub(super) class: Vec<f64>,
    /// `N[(j k + v) k + y] = Σ_p n_p r_py [j voted v]`.
    pub(super) by_vote: Vec<f64>,
    /// `V[j k + y] = Σ_v N[(j k + v) k + y]`, filled by [`Expected::finish`].
    pub(super) voted: Vec<f64>,
}

impl Expected {
    pub(super) fn zeros(n_lfs: usize, k: usize) -> Self {
        Expected {
            k,
            log_likelihood: 0.0,
            class: vec![0.0; k],
            by_vote: vec![0.0; n_lfs * k * k],
            voted: vec![0.0; n_lfs * k],
        }
    }

    /// `V` of LF `lf`, per class.
    pub(super) fn voted(&self, lf: usize) -> &[f64] {
        &self.voted[lf * self.k..(lf + 1) * self.k]
    }

    /// `N` of LF `lf` voting `vote`, per class.
    pub(super) fn by_vote(&self, lf: usize, vote: usize) -> &[f64] {
        let start = (lf * self.k + vote) * self.k;
        &self.by_vote[start..start + self.k]
    }

    pub(super) fn add(&mut self, other: &Expected) {
        self.log_likelihood += other.log_likelihood;
        add_into(&mut self.class, &other.class);
        add_into(&mut self.by_vote, &other.by_vote);
    }

    /// Sum the per-vote counts into `V`.
    pub(super) fn finish(mut self) -> Self {
        let k = self.k;
        for (lf, voted) in self.voted.chunks_mut(k).enumerate() {
            for vote in 0..k {
                add_into(
                    voted,
                    &self.by_vote[(lf * k + vote) * k..(lf * k + vote + 1) * k],
                );
            }
        }
        self
    }

    /// Accumulate pattern `votes` seen `count` times with posterior `r`.
    #[inline]
    pub(super) fn record(&mut self, votes: &[Vote], count: f64, r: &[f64]) {
        let k = self.k;
        for (total, p) in self.class.iter_mut().zip(r) {
            *total += count * p;
        }
        for vote in votes {
            let start = (vote.lf() * k + vote.class()) * k;
            for (sum, p) in self.by_vote[start..start + k].iter_mut().zip(r) {
                *sum += count * p;
            }
        }
    }
}

pub(super) fn add_into(target: &mut [f64], source: &[f64]) {
    for (target, source) in target.iter_mut().zip(source) {
        *target += source;
    }
}

/// One E-step: posteriors of every pattern under `parameters` (or under majority vote).
pub(super) fn expectation(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
) -> Expected {
    // Fixed-size arrays let the compiler unroll the per-class loops for the usual small k.
    let partial = match stats.cardinality() {
        2 => expectation_for::<2>(stats, parameters),
        3 => expectation_for::<3>(stats, parameters),
        4 => expectation_for::<4>(stats, parameters),
        5 => expectation_for::<5>(stats, parameters),
        6 => expectation_for::<6>(stats, parameters),
        7 => expectation_for::<7>(stats, parameters),
        8 => expectation_for::<8>(stats, parameters),
        _ => expectation_dynamic(stats, parameters),
    };
    // The chunks' sums, added in chunk order whatever the thread count.
    let mut total = Expected::zeros(stats.n_lfs(), stats.cardinality());
    for expected in &partial {
        total.add(expected);
    }
    total.finish()
}

/// The E-step for `K` classes; see [`expectation_dynamic`] for what it computes.
pub(super) fn expectation_for<const K: usize>(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
) -> Vec<Expected> {
    let n_lfs = stats.n_lfs();
    let tables = parameters.map(GenerativeParameters::tables);
    // Rows of `K` deltas (indexing whole rows checks one bound per vote, not a slice's two).
    let delta: Option<(&[[f64; K]], [f64; K])> = tables.map(|tables| {
        (
            tables.delta.as_chunks::<K>().0,
            std::array::from_fn(|class| tables.base[class]),
        )
    });
    let chunks = stats.len().div_ceil(PATTERN_CHUNK);
    (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut log_likelihood = 0.0;
            let mut class = [0.0; K];
            let mut by_vote = vec![[0.0; K]; n_lfs * K];
            let mut r = [0.0; K];
            for pattern in chunk * PATTERN_CHUNK..((chunk + 1) * PATTERN_CHUNK).min(stats.len()) {
                let votes = stats.pattern(pattern);
                let count = stats.count(pattern) as f64;
                match delta {
                    Some((delta, base)) => {
                        let mut logits = base;
                        for vote in votes {
                            let row = &delta[vote.lf() * K + vote.class()];
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
                        log_likelihood += count
                            * match stats.known_class(pattern) {
                                // A labelled row's class is observed: its joint probability.
                                Some(class) => logits[class],
                                None => max + total.ln(),
                            };
                    }
                    None => majority::posterior(votes, &mut r),
                }
                if let Some(class) = stats.known_class(pattern) {
                    r = [0.0; K];
                    r[class] = 1.0;
                }
                let weighted: [f64; K] = std::array::from_fn(|y| count * r[y]);
                for y in 0..K {
                    class[y] += weighted[y];
                }
                for vote in votes {
                    let sums = &mut by_vote[vote.lf() * K + vote.class()];
                    for y in 0..K {
                        sums[y] += weighted[y];
                    }
                }
            }
            Expected {
                k: K,
                log_likelihood,
                class: class.to_vec(),
                by_vote: by_vote.into_iter().flatten().collect(),
                voted: Vec::new(),
            }
        })
        .collect()
}

/// One E-step: posteriors of every pattern under `parameters` (or under majority vote), and
/// the expected counts they imply, summed per chunk of [`PATTERN_CHUNK`] patterns.
pub(super) fn expectation_dynamic(
    stats: &PatternCounts,
    parameters: Option<&GenerativeParameters>,
) -> Vec<Expected> {
    let (n_lfs, k) = (stats.n_lfs(), stats.cardinality());
    let tables = parameters.map(GenerativeParameters::tables);
    let chunks = stats.len().div_ceil(PATTERN_CHUNK);
    (0..chunks)
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
                        let joint = stats.known_class(pattern).map(|class| r[class]);
                        let marginal = normalise(&mut r);
                        expected.log_likelihood += count * joint.unwrap_or(marginal);
                    }
                    None => majority::posterior(votes, &mut r),
                }
                if let Some(class) = stats.known_class(pattern) {
                    r.iter_mut().for_each(|p| *p = 0.0);
                    r[class] = 1.0;
                }
                expected.record(votes, count, &r);
            }
            expected
        })
        .collect()
}

pub(super) fn clamp(p: f64) -> f64 {
    p.clamp(FLOOR, 1.0 - FLOOR)
}

/// Whether an LF's coverage is one probability for every class (an LF voting several
/// classes) rather than one per class (an LF voting one).
pub(super) fn shares_coverage(polarity: &[bool]) -> bool {
    polarity.iter().filter(|member| **member).count() >= 2
}

/// The class an LF votes, when it votes exactly one.
pub(super) fn single_class(polarity: &[bool]) -> Option<usize> {
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

/// The members of a polarity.
pub(super) fn members(polarity: &[bool]) -> Vec<usize> {
    (0..polarity.len())
        .filter(|class| polarity[*class])
        .collect()
}

/// `q_j(v | y)` of the neutral model: an LF with one class always votes it; on a class outside
/// its polarity it votes uniformly; otherwise it is right [`prior_accuracy`] of the time and
/// shares the rest equally.
pub(super) fn neutral_confusion(polarity: &[bool]) -> Vec<Vec<f64>> {
    let classes = members(polarity);
    let size = classes.len().max(1) as f64;
    let accuracy = prior_accuracy(classes.len());
    (0..polarity.len())
        .map(|class| {
            let mut row = vec![0.0; polarity.len()];
            for &vote in &classes {
                row[vote] = if !polarity[class] {
                    1.0 / size
                } else if size == 1.0 {
                    1.0
                } else if vote == class {
                    accuracy
                } else {
                    (1.0 - accuracy) / (size - 1.0)
                };
            }
            row
        })
        .collect()
}

/// The M-step: the parameters that maximise the expected complete log-likelihood, projected
/// onto the model's constraints (no LF voting one class fires more often on other classes).
/// Each confusion row gets `|S|` pseudo-votes spread as the neutral row, so a class on which
/// the LF cast no votes keeps the neutral row.
pub(super) fn maximisation(
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
            } else if shares_coverage(classes) {
                let shared = clamp(
                    voted.iter().sum::<f64>() / expected.class.iter().sum::<f64>().max(FLOOR),
                );
                coverage.iter_mut().for_each(|c| *c = shared);
            }
            coverage
        })
        .collect();
    let confusion = polarity
        .iter()
        .enumerate()
        .map(|(lf, classes)| {
            let mut confusion = neutral_confusion(classes);
            let votes = members(classes);
            if votes.len() < 2 {
                return confusion;
            }
            let pseudo = votes.len() as f64;
            for &class in &votes {
                let total: f64 = votes.iter().map(|v| expected.by_vote(lf, *v)[class]).sum();
                for &vote in &votes {
                    let mass = expected.by_vote(lf, vote)[class];
                    confusion[class][vote] =
                        (mass + pseudo * confusion[class][vote]) / (total + pseudo);
                }
            }
            confusion
        })
        .collect();
    GenerativeParameters::new(class_balance, coverage, confusion, polarity.to_vec())
}
