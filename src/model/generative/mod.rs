//! The default label model: a class-conditional generative model of the votes.
//!
//! LFs are independent given the true class `Y`. For LF `j`, let `S_j` be the classes it ever
//! voted in training (its polarity). Then
//!
//! - `P(λ_j = abstain | Y = y) = 1 - c[j][y]`. For an LF voting one class, abstaining depends
//!   on the class (`c[j][own] >= c[j][other]`): it fires on its class more often than on
//!   others, and when it fires is all it says. For an LF voting several classes, `c[j][y] =
//!   c[j]` for every `y`: whether it votes is not evidence, only what it votes (see "Why
//!   coverage is shared" below);
//! - `P(λ_j = v | Y = y) = c[j][y] · q_j(v | y)` for `v` in `S_j`, where `q_j(· | y)` is which
//!   class the LF votes when it votes on a row of class `y`: an LF with one class (`|S_j| = 1`)
//!   always votes it; when `y` is not in `S_j`, every vote is wrong and `q_j` is uniform over
//!   `S_j`; for `y` in `S_j` of an LF voting several classes, `q_j(· | y)` is a free
//!   distribution over `S_j` (a Dawid-Skene confusion row restricted to the LF's classes);
//! - `P(Y = y) = π[y]`, the class balance.
//!
//! The confusion rows are shrunk toward the symmetric model (right 70 % of the time, the rest
//! shared equally) by the prior below (a weaker one than the coverages get), so an LF with few
//! votes keeps one accuracy for all its classes while one with many votes (a crowd worker, a
//! sentiment LF) learns which classes it confuses.
//!
//! The fit maximises the marginal likelihood `Σ_patterns n_p log Σ_y P(y, pattern)` minus an L2
//! penalty (strength `l2`, on the logits) pulling the parameters toward a neutral model in which
//! every LF is right 70 % of the time it votes and the classes are balanced. It starts from the
//! parameters majority vote implies, takes a few EM steps (closed form for this model), then
//! runs argmin's L-BFGS on the penalised objective to convergence. Above 65,536
//! distinct patterns it starts instead from the optimum over an evenly spaced sample of them and
//! runs EM over all of them (M-steps by L-BFGS on the complete-data objective), which stops when
//! the marginal objective's gradient, known from each E-step, meets the tolerance (see
//! `expectation_maximisation`). The E-step runs over the distinct patterns in fixed chunks
//! summed in order, so results do not depend on thread count.
//!
//! A row's probabilistic label is `P(Y | the votes cast)`: the LFs that abstained on it are left
//! out (see [`GenerativeParameters::posterior`] for why), so a row no LF covered gets the class
//! balance. A vote for a class outside the LF's polarity (new rows; an LF that never voted that
//! class in training) has no fitted parameter and counts as the prior expects: right with the
//! prior accuracy, its errors shared by the other classes.
//!
//! The class balance, by default (`ClassBalance::Auto`), is uniform unless, with two classes,
//! the LFs that vote both identify another: the model of those LFs alone is fitted twice by
//! maximum likelihood (no prior), with a uniform and with a free balance, and twice the
//! log-likelihood the free balance gains is compared with the 0.1 % critical value of a
//! chi-squared with one degree of freedom (10.83). Above it, the free balance is fixed for the
//! fit; else it is uniform (see `balance_test`). With more classes it is uniform: there the free
//! likelihood has degenerate maxima in which one class absorbs the rows few LFs vote on, even
//! with LFs voting several classes (measured: a synthetic 6-class set whose LFs vote several
//! classes lost 11 points against majority vote with the test; a real 4-class crowd set gained
//! nothing from it, 0.838 against 0.839).
//!
//! # Why the earlier defaults collapsed on real data (the diagnosis)
//!
//! Measured on real sets the project had not been tuned on (see `docs/label-models.md`), the
//! earlier default (class-dependent coverage for every LF, and a balance test over all LFs)
//! fell far below majority vote in two ways.
//!
//! **Crowdsourcing with many sparse annotators** (covered accuracy 0.61 against majority
//! vote's 0.90). Annotators are assigned batches of items regardless of their class, so who
//! voted on a row says nothing of its class. But a model with a coverage per annotator and
//! class has a far better use for its latent class than the class: the assignment. With 176
//! annotators and three votes an item, a "class" that groups the items of some batches explains
//! who abstained on 173 columns of every row, a likelihood gain that dwarfs what the three
//! votes say; the fit converges there, and its labels follow the batches. Dawid-Skene with
//! abstain as an outcome does the same. A synthetic analogue (items in batches of 20, three
//! workers a batch, 12 % positive: `tests/model/regimes.rs`) reproduces it (0.58 against 0.95).
//! Why coverage is shared: for an LF voting several classes, the votes say what it thinks;
//! sharing one coverage across classes removes the direction in which the latent class can
//! explain abstains instead of votes (0.58 -> 0.96 on that analogue; the real sets unchanged
//! within 0.2 points). An LF voting one class keeps a coverage per class, since when it fires
//! is the only thing it says.
//!
//! **Inverted class balances with LFs voting one class** (spam: all-row accuracy 0.41 against
//! 0.69; relation extraction: 0.16 against 0.50). For an LF voting one class, the balance and
//! its coverages trade off: a rare class that LFs fire on often, or a common class they fire
//! on seldom, explain the same firing counts, and only the pattern of which LFs fire together
//! separates them, through conditional independence. Real keyword LFs break it (they share
//! words; most rows match none), so the maximum-likelihood balance lands anywhere, often on the
//! class the LFs vote most; an imbalance test then only certifies how badly the model is
//! misspecified (a statistic of 557 on a youtube LF set whose balance it inverted). Uncovered
//! rows took that balance, hence the all-row collapse. The balance is therefore estimated only
//! from LFs voting several classes, whose votes identify it (crowd workers, classifiers as
//! LFs), and is uniform otherwise: an uncovered row is then a tie, as under majority vote.

//! Symbols: `π` = `class_balance`, `c` = `coverage`, `q` = `confusion`, `S` = `polarity`.

use std::sync::Mutex;

use argmin::core::{Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use super::{
    BalanceChoice, BalanceTest, ClassBalance, Diagnostics, FitError, FitOptions, FittedModel,
    Parameters, chi_squared, fixed_balance,
};
use crate::patterns::PatternCounts;

mod em;
mod objective;
mod posterior;

use em::{expectation, maximisation};
use objective::{Data, Evaluation, Layout, Objective, Penalty, neutral_prior};
pub use posterior::{GenerativeParameters, prior_accuracy};

/// Patterns per parallel work item in the E-step.
const PATTERN_CHUNK: usize = 4096;
/// EM steps before L-BFGS.
const WARM_EM_STEPS: usize = 2;
/// Above this many distinct patterns, a fit starts from the optimum over a sample of them,
/// refined by EM.
const SAMPLE_PATTERNS: usize = 1 << 16;
/// At most this many EM steps after the sample's optimum.
const EM_STEPS: usize = 50;
/// EM stops when a step improves the objective by less than this (relative).
const EM_TOLERANCE: f64 = 1e-10;
/// Probabilities are kept inside `[FLOOR, 1 - FLOOR]`.
const FLOOR: f64 = 1e-6;
/// Accuracy the penalty pulls toward: LFs are better than random.
const PRIOR_ACCURACY: f64 = 0.7;
/// The prior precision of the confusion log-ratios, in units of `l2`: a tenth, so that at the
/// default `l2` (10) each log-ratio has a unit-normal prior, the usual weakly informative
/// choice for log-odds. The full `l2` would hold every confusion row at the neutral one unless
/// an LF casts hundreds of votes (it weighs like about 50 pseudo-votes per cell).
const CONFUSION_PRIOR_SCALE: f64 = 0.1;

/// Majority vote's parameters, then [`WARM_EM_STEPS`] EM steps.
fn warm_start(
    stats: &PatternCounts,
    balance: &Option<Vec<f64>>,
    polarity: &[Vec<bool>],
) -> GenerativeParameters {
    let n = stats.n_rows() as f64;
    let mut parameters = maximisation(&expectation(stats, None), n, balance, polarity);
    for _ in 0..WARM_EM_STEPS {
        parameters = maximisation(&expectation(stats, Some(&parameters)), n, balance, polarity);
    }
    parameters
}

/// Where an optimisation ended.
struct Optimum {
    parameters: GenerativeParameters,
    /// The parameters as the optimiser's vector.
    theta: Vec<f64>,
    /// The objective there.
    objective: f64,
    converged: bool,
    iterations: u64,
}

/// Minimise the penalised objective of `data` with argmin's L-BFGS, from `start`, to the
/// gradient tolerance `tolerance`. `known` is the objective and gradient at `start` when the
/// caller has them already (it saves a pass over the data).
fn optimise(
    data: Data,
    n: f64,
    start: &GenerativeParameters,
    known: Option<Evaluation>,
    prior: &[f64],
    options: &FitOptions,
    tolerance: f64,
) -> Result<Optimum, FitError> {
    let balance = fixed_balance(options, start.class_balance.len());
    let polarity = start.polarity.clone();
    let layout = Layout::new(start.class_balance.len(), &polarity, balance.is_none());
    let theta = match &known {
        Some((theta, _, _)) => theta.clone(),
        None => layout.to_vector(start),
    };
    let objective = Objective {
        data,
        n,
        layout,
        balance: balance.clone(),
        polarity: polarity.clone(),
        prior: prior.to_vec(),
        l2: options.l2,
        cache: Mutex::new(known),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tolerance)
        .and_then(|solver| solver.with_tolerance_cost(1e-14))
        .map_err(|error| FitError::Optimiser(error.into()))?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(theta).max_iters(options.max_iterations))
        .run()
        .map_err(|error| FitError::Optimiser(error.into()))?;
    let state = result.state();
    let theta = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| FitError::Optimiser("no solution".into()))?;
    let converged = matches!(
        state.get_termination_status(),
        TerminationStatus::Terminated(
            TerminationReason::SolverConverged | TerminationReason::TargetCostReached
        )
    );
    // argmin's L-BFGS drops the problem when its line search fails (it then ends early with
    // the best point so far), so the layout is rebuilt when the objective did not come back.
    let parameters = match &result.problem.problem {
        Some(objective) => objective.layout.parameters(&theta, &balance, &polarity),
        None => Layout::new(start.class_balance.len(), &polarity, balance.is_none())
            .parameters(&theta, &balance, &polarity),
    };
    Ok(Optimum {
        parameters,
        theta,
        objective: state.get_best_cost(),
        converged,
        iterations: state.get_iter(),
    })
}

/// EM from `start`, each E-step one pass over the patterns and each M-step the penalised
/// complete-data optimum (L-BFGS, no pass). Every E-step also gives the marginal objective and
/// its gradient at the current parameters (see [`Layout::penalised`]), so EM stops as soon as
/// that gradient is below the tolerance: the optimum is then certified at no extra cost. When
/// every row holds many votes the posteriors are sharp and EM gets there in a few passes where
/// L-BFGS on the marginal likelihood needs dozens; when EM slows down (a step improves the
/// objective by less than [`EM_TOLERANCE`], relative) or has taken [`EM_STEPS`] (at most the
/// iteration limit), L-BFGS on the marginal likelihood finishes from where it stopped, starting
/// from the last E-step's evaluation.
fn expectation_maximisation(
    stats: &PatternCounts,
    start: GenerativeParameters,
    prior: &[f64],
    options: &FitOptions,
) -> Result<Optimum, FitError> {
    let n = stats.n_rows() as f64;
    let balance = fixed_balance(options, start.class_balance.len());
    let layout = Layout::new(
        start.class_balance.len(),
        &start.polarity,
        balance.is_none(),
    );
    let penalty = Penalty {
        n,
        prior,
        l2: options.l2,
    };
    let limit = EM_STEPS.min(usize::try_from(options.max_iterations).unwrap_or(usize::MAX)) as u64;
    let mut theta = layout.to_vector(&start);
    let mut parameters = layout.parameters(&theta, &balance, &start.polarity);
    let mut previous = f64::INFINITY;
    let mut steps = 0;
    loop {
        let expected = expectation(stats, Some(&parameters));
        let (cost, gradient) = layout.penalised(
            &theta,
            &parameters,
            &expected,
            expected.log_likelihood,
            &penalty,
        );
        let converged = norm(&gradient) < options.tolerance;
        let stalled = previous - cost < EM_TOLERANCE * cost.abs().max(1.0);
        if converged || stalled || steps == limit {
            if converged {
                return Ok(Optimum {
                    parameters,
                    theta,
                    objective: cost,
                    converged,
                    iterations: steps,
                });
            }
            let finish = optimise(
                Data::Marginal(stats),
                n,
                &parameters,
                Some((theta, cost, gradient)),
                prior,
                options,
                options.tolerance,
            )?;
            return Ok(Optimum {
                iterations: steps + finish.iterations,
                ..finish
            });
        }
        previous = cost;
        let step = optimise(
            Data::Complete(&expected),
            n,
            &parameters,
            None,
            prior,
            options,
            1e-10,
        )?;
        (theta, parameters) = (step.theta, step.parameters);
        steps += 1;
    }
}

fn norm(vector: &[f64]) -> f64 {
    vector.iter().map(|value| value * value).sum::<f64>().sqrt()
}

/// Fit the generative model to `stats`.
///
/// With more than [`SAMPLE_PATTERNS`] distinct patterns, the optimum over an evenly spaced
/// sample of them is the starting point: a far better one than majority vote's, so the
/// expensive passes over every pattern are few. The answer is still the optimum over all of
/// them, only reached sooner.
///
/// With [`ClassBalance::Auto`], the balance is first decided by [`balance_test`], then fixed.
pub fn fit(stats: &PatternCounts, options: &FitOptions) -> Result<FittedModel, FitError> {
    if options.class_balance != ClassBalance::Auto {
        return fit_sampling_above(stats, options, SAMPLE_PATTERNS);
    }
    if stats.cardinality() > 2 {
        let uniform = FitOptions {
            class_balance: ClassBalance::Uniform,
            ..options.clone()
        };
        return fit_sampling_above(stats, &uniform, SAMPLE_PATTERNS);
    }
    let (test, start) = balance_test(stats, options)?;
    let class_balance = match test.chosen {
        BalanceChoice::Estimated => ClassBalance::Given(test.free_balance.clone()),
        BalanceChoice::Uniform => ClassBalance::Uniform,
    };
    let resolved = FitOptions {
        class_balance,
        ..options.clone()
    };
    let optimum = optimum_sampling_above(stats, &resolved, SAMPLE_PATTERNS, start.as_ref())?;
    let mut model = model_of(optimum, &resolved);
    model.diagnostics.balance_test = Some(test);
    Ok(model)
}

/// The significance level of the class-balance test.
const BALANCE_TEST_LEVEL: f64 = 0.001;
/// The class-balance test fits at most this many distinct patterns (an evenly spaced sample
/// above): a real imbalance gives a statistic in the hundreds long before, and the fit's cost
/// stays close to a single fit's (on 1M x 50 x 4, 0.45 s of CPU against 0.39 without the test,
/// where the whole [`SAMPLE_PATTERNS`] took 0.60).
const TEST_PATTERNS: usize = 1 << 14;

/// Decide the class balance from the LFs that vote two classes or more, alone.
///
/// A balance is identified by the votes only through LFs whose votes say which class a row is
/// in: an LF voting several classes. The LFs voting one class carry it only through when they
/// fire, which the class balance and their coverages explain equally well, and in real LF sets
/// through correlations that conditional independence does not model (LFs sharing keywords);
/// letting them move the balance inverted it on real sets (see the module documentation). So
/// the test fits the model of the multi-class LFs alone (statistics restricted to them, at
/// most [`TEST_PATTERNS`] distinct patterns, an evenly spaced sample above), by maximum
/// likelihood with a uniform and with a free balance, the free fit nested in the uniform one
/// (it restarts from the uniform optimum should it end below it), and compares twice the
/// log-likelihood gained with the chi-squared critical value of `k - 1` degrees of freedom at
/// [`BALANCE_TEST_LEVEL`]. Above it the free fit's balance is the model's; without an LF
/// voting two classes, or below it, the balance is uniform.
///
/// When the test's model is the whole model (every LF votes several classes), the optimum it
/// chose, over the rows or an evenly spaced sample of them, is also returned: the fit starts
/// there instead of fitting a sample of its own.
fn balance_test(
    stats: &PatternCounts,
    options: &FitOptions,
) -> Result<(BalanceTest, Option<GenerativeParameters>), FitError> {
    let k = stats.cardinality();
    let uniform = vec![1.0 / k as f64; k];
    let critical = chi_squared::critical_value(k - 1, BALANCE_TEST_LEVEL);
    let voters: Vec<usize> = stats
        .vote_counts()
        .iter()
        .enumerate()
        .filter(|(_, counts)| counts.iter().filter(|count| **count > 0).count() >= 2)
        .map(|(lf, _)| lf)
        .collect();
    let mut test = BalanceTest {
        statistic: 0.0,
        critical,
        degrees: k - 1,
        lfs: voters.len(),
        rows: 0,
        free_balance: uniform,
        chosen: BalanceChoice::Uniform,
    };
    if voters.is_empty() {
        return Ok((test, None));
    }
    let restricted;
    let voting = if voters.len() == stats.n_lfs() {
        stats
    } else {
        restricted = stats.restricted(&voters);
        &restricted
    };
    let sample;
    let voting = if voting.len() > TEST_PATTERNS {
        sample = voting.every_nth(voting.len().div_ceil(TEST_PATTERNS));
        &sample
    } else {
        voting
    };
    let maximum_likelihood = |class_balance: ClassBalance, start: Option<&GenerativeParameters>| {
        let options = FitOptions {
            class_balance,
            l2: 0.0,
            ..options.clone()
        };
        fit_from(voting, &options, start)
    };
    // Two independent fits, side by side (each alone leaves a core idle in its M-steps). The
    // free one starts where the uniform one does, not from the uniform optimum: that optimum
    // is distorted when the balance is not uniform, and a free fit started there can stall in
    // a worse local optimum (measured on crowd sets: a balance of 0.70 instead of 0.88).
    let (uniform, free) = rayon::join(
        || maximum_likelihood(ClassBalance::Uniform, None),
        || maximum_likelihood(ClassBalance::Estimated, None),
    );
    let (uniform, mut free) = (uniform?, free?);
    let n = voting.n_rows() as f64;
    let gain = |free: &Optimum| 2.0 * n * (uniform.objective - free.objective);
    if gain(&free) < 0.0 {
        // A free balance contains the uniform one: starting there, it can only gain.
        free = maximum_likelihood(ClassBalance::Estimated, Some(&uniform.parameters))?;
    }
    test.statistic = gain(&free).max(0.0);
    test.rows = voting.n_rows();
    let chosen = if test.statistic > critical {
        test.free_balance = free.parameters.class_balance.clone();
        test.chosen = BalanceChoice::Estimated;
        free
    } else {
        uniform
    };
    let whole = voters.len() == stats.n_lfs();
    Ok((test, whole.then_some(chosen.parameters)))
}

/// [`fit`], starting from a sample's optimum above `sample_patterns` distinct patterns.
fn fit_sampling_above(
    stats: &PatternCounts,
    options: &FitOptions,
    sample_patterns: usize,
) -> Result<FittedModel, FitError> {
    let optimum = optimum_sampling_above(stats, options, sample_patterns, None)?;
    Ok(model_of(optimum, options))
}

/// The fitted model at `optimum`.
fn model_of(optimum: Optimum, options: &FitOptions) -> FittedModel {
    let diagnostics = Diagnostics::of_iterations(
        "the optimiser",
        optimum.iterations,
        optimum.converged,
        optimum.objective,
        options.tolerance,
    );
    let parameters = optimum.parameters;
    let (class_balance, lf_accuracy) = (parameters.class_balance.clone(), parameters.lf_accuracy());
    FittedModel::unnamed(
        Parameters::Generative(parameters),
        class_balance,
        lf_accuracy,
        diagnostics,
    )
}

/// The optimum of `stats` under `options`, from `start` (or majority vote's warm start).
fn fit_from(
    stats: &PatternCounts,
    options: &FitOptions,
    start: Option<&GenerativeParameters>,
) -> Result<Optimum, FitError> {
    optimum_sampling_above(stats, options, SAMPLE_PATTERNS, start)
}

/// The optimum of `stats`, starting from `start` if given, else from a sample's optimum above
/// `sample_patterns` distinct patterns, else from majority vote's warm start.
fn optimum_sampling_above(
    stats: &PatternCounts,
    options: &FitOptions,
    sample_patterns: usize,
    start: Option<&GenerativeParameters>,
) -> Result<Optimum, FitError> {
    let k = stats.cardinality();
    let polarity: Vec<Vec<bool>> = stats
        .vote_counts()
        .iter()
        .map(|counts| counts.iter().map(|count| *count > 0).collect())
        .collect();
    let balance = fixed_balance(options, k);
    let prior = neutral_prior(stats, &Layout::new(k, &polarity, balance.is_none()));
    let n = stats.n_rows() as f64;
    if stats.len() > sample_patterns {
        let start = match start {
            Some(start) => start.clone(),
            None => {
                let sample = stats.every_nth(stats.len().div_ceil(sample_patterns));
                let start = warm_start(&sample, &balance, &polarity);
                expectation_maximisation(&sample, start, &prior, options)?.parameters
            }
        };
        expectation_maximisation(stats, start, &prior, options)
    } else {
        let start = match start {
            Some(start) => start.clone(),
            None => warm_start(stats, &balance, &polarity),
        };
        optimise(
            Data::Marginal(stats),
            n,
            &start,
            None,
            &prior,
            options,
            options.tolerance,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::LabelMatrix;
    use crate::patterns::Vote;
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
            vec![vec![vec![0.0, 1.0], vec![0.0, 1.0]]],
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
        let expected = expectation(&stats, Some(&parameters));
        let by_hand = 3.0 * 0.4f64.ln() + 0.6f64.ln();
        assert!((expected.log_likelihood - by_hand).abs() < 1e-12);
        let accuracy = parameters.lf_accuracy()[0].unwrap();
        assert!((accuracy - 0.75).abs() < 1e-12, "{accuracy}");
    }

    /// Labelled rows count with their class observed: with the parameters of the test above
    /// (`c = [0.2, 0.6]`, uniform classes), a labelled voting row of class 0 adds ln(0.5 · 0.2)
    /// and a labelled abstaining row of class 1 adds ln(0.5 · 0.4) to the log-likelihood, and
    /// their posteriors are their classes.
    #[test]
    fn labelled_rows_count_with_their_class_observed() {
        let parameters = GenerativeParameters::new(
            vec![0.5, 0.5],
            vec![vec![0.2, 0.6]],
            vec![vec![vec![0.0, 1.0], vec![0.0, 1.0]]],
            vec![vec![false, true]],
        );
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let unlabelled = LabelMatrix::new(array![[1], [-1]], vec!["lf".into()], classes.clone());
        let labelled = LabelMatrix::new(array![[1], [-1], [1]], vec!["lf".into()], classes);
        let stats = PatternCounts::from_matrix(&unlabelled.unwrap())
            .with_labelled(&labelled.unwrap(), &[0, 1, -1]);
        assert_eq!(stats.n_rows(), 4, "the row without a class is skipped");
        let expected = expectation(&stats, Some(&parameters));
        let by_hand = 0.4f64.ln() + 0.6f64.ln() + (0.5f64 * 0.2).ln() + (0.5f64 * 0.4).ln();
        assert!((expected.log_likelihood - by_hand).abs() < 1e-12);
        // Class counts: the unlabelled rows' posteriors (0.75 and 1/3 for class 1) plus one row
        // of each class.
        assert!((expected.class[1] - (0.75 + 1.0 / 3.0 + 1.0)).abs() < 1e-12);
        assert!((expected.class[0] - (0.25 + 2.0 / 3.0 + 1.0)).abs() < 1e-12);
    }

    /// Without the prior (`l2 = 0`) the optimum of a tiny matrix lies at the edge of the
    /// parameter space, where argmin's line search gives up; the fit must still return its
    /// best point (flagged as not converged when so), not an error. This 4 x 4 matrix made the
    /// line search fail (found by a random search over small matrices).
    #[test]
    fn a_failed_line_search_still_returns_the_best_point() {
        let votes = array![
            [1, 0, -1, -1],
            [-1, 1, 0, 0],
            [-1, 0, 1, -1],
            [1, -1, -1, 0]
        ];
        let names = (0..4).map(|lf| format!("l{lf}")).collect();
        let matrix = LabelMatrix::new(votes, names, vec!["a".into(), "b".into()]).unwrap();
        let stats = PatternCounts::from_matrix(&matrix);
        let options = FitOptions {
            l2: 0.0,
            ..FitOptions::default()
        };
        let model = super::super::fit(
            super::super::ModelKind::Generative,
            &stats,
            matrix.lf_names(),
            matrix.classes(),
            &options,
            String::new(),
        )
        .unwrap();
        assert!(model.diagnostics.objective.is_finite());
        for row in model.predict_proba(&matrix).rows() {
            assert!(row.iter().all(|p| p.is_finite() && *p >= 0.0), "{row:?}");
            assert!((row.sum() - 1.0).abs() < 1e-9, "{row:?}");
        }
    }

    /// A vote for a class the LF never voted in training counts as the prior expects an LF
    /// (right 70 % of the time, errors shared), by hand: with 3 balanced classes, LF 0 (which
    /// only ever voted class 0) voting class 1 gives `[0.15, 0.7, 0.15]`; beside LF 1's vote,
    /// which has fitted parameters, it multiplies them by `0.7` for class 1 and `0.15` for the
    /// others. The sparse and the dense paths agree.
    #[test]
    fn a_vote_outside_the_polarity_counts_at_the_prior_accuracy() {
        let parameters = GenerativeParameters::new(
            vec![1.0 / 3.0; 3],
            vec![vec![0.5, 0.1, 0.1], vec![0.2, 0.6, 0.2]],
            vec![vec![vec![1.0, 0.0, 0.0]; 3], vec![vec![0.0, 1.0, 0.0]; 3]],
            vec![vec![true, false, false], vec![false, true, false]],
        );
        let mut out = [0.0; 3];
        parameters.posterior(&[Vote::new(0, 1)], &mut out);
        for (got, want) in out.iter().zip([0.15, 0.7, 0.15]) {
            assert!((got - want).abs() < 1e-12, "{out:?}");
        }
        // LF 1 votes 1: P(1 | y) = 0.2, 0.6, 0.2; times the unseen vote's 0.15, 0.7, 0.15.
        parameters.posterior(&[Vote::new(0, 1), Vote::new(1, 1)], &mut out);
        let weights = [0.2 * 0.15, 0.6 * 0.7, 0.2 * 0.15];
        let total: f64 = weights.iter().sum();
        for (got, want) in out.iter().zip(weights) {
            assert!((got - want / total).abs() < 1e-12, "{out:?}");
        }
        let mut dense = [0.0; 3];
        parameters.posterior_dense(&[1, 1], 2, &mut dense);
        assert_eq!(dense, out);
    }

    /// LFs voting every class, each with its own confusions (a row of class `y` is mostly
    /// mistaken for one particular other class), on conditionally independent synthetic data:
    /// the fitted confusion rows recover the true ones, which one accuracy per LF cannot.
    #[test]
    fn confusion_rows_are_recovered() {
        let (n, m, k) = (60_000, 6, 3);
        let mut uniform = crate::test_support::uniform_stream(0x2545_f491_4f6c_dd1d);
        // LF j: right with 0.6 + 0.05 j; a wrong vote names class y + 1 (mod k) 80 % of the time.
        let truth_confusion: Vec<Vec<Vec<f64>>> = (0..m)
            .map(|lf| {
                let right = 0.6 + 0.05 * lf as f64;
                (0..k)
                    .map(|y| {
                        let mut row = vec![0.0; k];
                        row[y] = right;
                        row[(y + 1) % k] = 0.8 * (1.0 - right);
                        row[(y + 2) % k] = 0.2 * (1.0 - right);
                        row
                    })
                    .collect()
            })
            .collect();
        let mut votes = ndarray::Array2::from_elem((n, m), -1i8);
        for row in 0..n {
            let y = ((uniform() * k as f64) as usize).min(k - 1);
            for lf in 0..m {
                if uniform() < 0.4 {
                    let draw = uniform();
                    let confusion = &truth_confusion[lf][y];
                    let vote = if draw < confusion[0] {
                        0
                    } else if draw < confusion[0] + confusion[1] {
                        1
                    } else {
                        2
                    };
                    votes[[row, lf]] = vote;
                }
            }
        }
        let names = (0..m).map(|lf| format!("lf{lf}")).collect();
        let classes = (0..k).map(|class| class.to_string()).collect();
        let stats = PatternCounts::from_matrix(&LabelMatrix::new(votes, names, classes).unwrap());
        let model = fit(&stats, &FitOptions::default()).unwrap();
        let Parameters::Generative(parameters) = &model.parameters else {
            panic!("a generative model")
        };
        let error: f64 = parameters
            .confusion
            .iter()
            .flatten()
            .flatten()
            .zip(truth_confusion.iter().flatten().flatten())
            .map(|(estimate, truth)| (estimate - truth).abs())
            .sum();
        let error = error / (m * k * k) as f64;
        // One accuracy per LF would split each wrong mass equally: off by 0.3 (1 - right) on
        // two cells of every row, 0.05 per cell on average here.
        assert!(
            error < 0.015,
            "mean absolute error of confusion cells {error}"
        );
    }

    /// Starting from a sample's optimum and EM changes where the fit starts, not where it ends:
    /// the same optimum as from majority vote, to the tolerance.
    #[test]
    fn the_sampled_start_reaches_the_same_optimum() {
        let stats = three_class_stats();
        assert!(stats.len() > 4096, "{} patterns", stats.len());
        let options = FitOptions::default();
        let direct = fit_sampling_above(&stats, &options, usize::MAX).unwrap();
        let sampled = fit_sampling_above(&stats, &options, 1024).unwrap();
        assert!(direct.diagnostics.converged && sampled.diagnostics.converged);
        for (left, right) in direct.lf_accuracy.iter().zip(&sampled.lf_accuracy) {
            let (left, right) = (left.unwrap(), right.unwrap());
            assert!((left - right).abs() < 1e-4, "{left} vs {right}");
        }
    }

    /// 20,000 rows, 12 LFs of rising accuracy voting any of 3 classes.
    fn three_class_stats() -> PatternCounts {
        let (n, m, k) = (20_000, 12, 3);
        let mut uniform = crate::test_support::uniform_stream(0x9e37_79b9_7f4a_7c15);
        let mut votes = ndarray::Array2::from_elem((n, m), -1i8);
        for row in 0..n {
            let y = ((uniform() * k as f64) as usize).min(k - 1);
            for lf in 0..m {
                if uniform() < 0.3 {
                    let right = uniform() < 0.6 + 0.03 * lf as f64;
                    let wrong = (y + 1 + (uniform() * 2.0) as usize) % k;
                    votes[[row, lf]] = if right { y } else { wrong } as i8;
                }
            }
        }
        let names = (0..m).map(|lf| format!("lf{lf}")).collect();
        let classes = (0..k).map(|class| class.to_string()).collect();
        PatternCounts::from_matrix(&LabelMatrix::new(votes, names, classes).unwrap())
    }

    /// On the sampled path, EM that runs out of iterations hands over to L-BFGS, which runs out
    /// too: the diagnostics say so (not converged, the iterations spent, a warning), and the
    /// parameters are still valid probabilities.
    #[test]
    fn an_exhausted_iteration_limit_is_reported() {
        let stats = three_class_stats();
        let options = FitOptions {
            max_iterations: 1,
            tolerance: 1e-12,
            ..FitOptions::default()
        };
        let model = fit_sampling_above(&stats, &options, 1024).unwrap();
        assert!(!model.diagnostics.converged);
        // One EM step, then one L-BFGS iteration.
        assert_eq!(model.diagnostics.iterations, 2);
        crate::test_support::assert_warns(&model.diagnostics, "tolerance");
        assert!(model.diagnostics.objective.is_finite());
        let Parameters::Generative(parameters) = &model.parameters else {
            panic!("a generative model")
        };
        assert!((parameters.class_balance.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for row in parameters.confusion.iter().flatten() {
            assert!(row.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
        }
    }

    /// The label of a dense row (the fast path of `predict_proba`, unrolled for up to 8
    /// classes, generic above) is the posterior of its sparse votes, to the bit.
    #[test]
    fn dense_rows_get_the_posterior_of_their_votes() {
        for k in [2usize, 4, 9] {
            let (n, m) = (400, 7);
            let mut uniform = crate::test_support::uniform_stream(0x5851_f42d_4c95_7f2d + k as u64);
            let votes = ndarray::Array2::from_shape_fn((n, m), |(_, lf)| {
                if uniform() < 0.4 {
                    // LF 0 votes one class only; the others any.
                    if lf == 0 {
                        1
                    } else {
                        ((uniform() * k as f64) as usize).min(k - 1) as i8
                    }
                } else {
                    -1
                }
            });
            let names = (0..m).map(|lf| format!("lf{lf}")).collect();
            let classes = (0..k).map(|class| class.to_string()).collect();
            let matrix = LabelMatrix::new(votes.clone(), names, classes).unwrap();
            let stats = PatternCounts::from_matrix(&matrix);
            let mut model = fit(&stats, &FitOptions::default()).unwrap();
            model.classes = (0..k).map(|class| class.to_string()).collect();
            let Parameters::Generative(parameters) = &model.parameters else {
                panic!("a generative model")
            };
            let dense = model.predict_proba(&matrix);
            let mut expected = vec![0.0; k];
            for (row, cells) in votes.rows().into_iter().enumerate() {
                let sparse: Vec<Vote> = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, vote)| **vote >= 0)
                    .map(|(lf, vote)| Vote::new(lf, *vote as u8))
                    .collect();
                parameters.posterior(&sparse, &mut expected);
                assert_eq!(dense.row(row).to_vec(), expected, "k = {k}, row {row}");
            }
        }
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
            let theta: Vec<f64> = (0..layout.len)
                .map(|index| 0.3 * ((index * 7 % 5) as f64 - 2.0))
                .collect();
            // The M-step objective at counts from another point than `theta`.
            let elsewhere = layout.parameters(&vec![0.1; layout.len], &balance, &polarity);
            let expected = expectation(&stats, Some(&elsewhere));
            for data in [Data::Marginal(&stats), Data::Complete(&expected)] {
                let objective = Objective {
                    data,
                    n: stats.n_rows() as f64,
                    layout: Layout::new(cardinality, &polarity, balance.is_none()),
                    balance: balance.clone(),
                    polarity: polarity.clone(),
                    prior: prior.clone(),
                    l2: 0.5,
                    cache: Mutex::new(None),
                };
                crate::test_support::assert_gradient_matches(
                    |theta| objective.evaluate(theta),
                    &theta,
                    1e-6,
                    &format!("k={cardinality}"),
                );
            }
        }
    }
}
