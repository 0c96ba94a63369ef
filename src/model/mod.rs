//! Label models: learn how good each LF is without gold labels and turn votes into
//! probabilistic labels.
//!
//! A model is fitted from [`PatternCounts`] (the distinct vote rows and their counts), so after
//! one pass over the matrix the cost of fitting does not depend on n. The fitted model
//! ([`FittedModel`]) is a different type from the options that produced it; it computes
//! `P(Y | votes)` for any row, and is saved as versioned JSON.

mod chi_squared;
pub mod dawid_skene;
pub mod generative;
pub mod gold;
pub mod hyper;
pub mod majority;
mod saved;
pub mod snorkel;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use saved::{
    MODEL_FORMAT_VERSION, ModelFileError, model_json, parse_model, read_model, write_model,
};

pub use crate::hard_labels::{TieBreak, hard_labels, row_key_hash};
use crate::matrix::{ABSTAIN, LabelMatrix};
use crate::stats::{PatternCounts, Vote};

/// The label models labelgen fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ModelKind {
    /// Majority vote (the baseline).
    Majority,
    /// Class-conditional generative model of the votes (the default).
    Generative,
    /// Dawid-Skene: full confusion matrices with abstain as an outcome, by EM.
    DawidSkene,
    /// Snorkel 0.10's matrix-completion model, fitted as Snorkel fits it.
    Snorkel,
    /// The Hyper Label Model (a pre-trained graph network; see [`hyper`]).
    Hyper,
}

/// How the class balance `P(Y)` is set.
///
/// The default, [`ClassBalance::Auto`], is uniform unless the votes clearly say otherwise: when
/// LFs are correlated or weak, a learned balance can absorb the correlation and skew every
/// label toward one class, which a uniform prior cannot; when a binary task is far from
/// balanced, a uniform prior tilts every conflict toward the rare class.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ClassBalance {
    /// Uniform, unless, with two classes, a likelihood-ratio test on the LFs that vote both
    /// rejects it; then theirs (see [`generative`]'s module documentation). With more classes,
    /// and for the models other than the generative one, this is [`ClassBalance::Uniform`].
    #[default]
    Auto,
    /// Learned with the other parameters (a prior pulls it toward uniform).
    Estimated,
    /// Every class equally likely.
    Uniform,
    /// Given by the user (normalised to sum to 1).
    Given(Vec<f64>),
}

impl std::str::FromStr for ClassBalance {
    type Err = String;

    /// `auto`, `uniform`, `estimated`, or one number per class separated by commas (`0.7, 0.3`).
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(ClassBalance::Auto),
            "uniform" => Ok(ClassBalance::Uniform),
            "estimated" => Ok(ClassBalance::Estimated),
            word if !word.contains(',') && word.trim().parse::<f64>().is_err() => Err(format!(
                "`{word}` is not a class balance: give auto, uniform, estimated or one number per \
                 class (for example 0.7,0.3)"
            )),
            numbers => numbers
                .split(',')
                .map(|number| {
                    number
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| format!("`{number}` is not a number"))
                })
                .collect::<Result<Vec<f64>, String>>()
                .map(ClassBalance::Given),
        }
    }
}

impl ClassBalance {
    /// The class balance of gold labels (a labelled dev set): `(n_y + 1) / (n + k)` over the `n`
    /// rows whose label is a class (`-1`, unknown, is skipped). The added one keeps a class the
    /// sample missed possible. `None` when no row is labelled.
    pub fn of_gold(gold: &[i64], cardinality: usize) -> Option<ClassBalance> {
        let mut counts = vec![1.0; cardinality];
        let mut labelled = 0;
        for label in gold {
            if let Some(count) = usize::try_from(*label)
                .ok()
                .and_then(|class| counts.get_mut(class))
            {
                *count += 1.0;
                labelled += 1;
            }
        }
        let total = (labelled + cardinality) as f64;
        (labelled > 0).then(|| ClassBalance::Given(counts.iter().map(|c| c / total).collect()))
    }

    /// The option's name: `auto`, `uniform`, `estimated` or `given`.
    pub fn name(&self) -> &'static str {
        match self {
            ClassBalance::Auto => "auto",
            ClassBalance::Uniform => "uniform",
            ClassBalance::Estimated => "estimated",
            ClassBalance::Given(_) => "given",
        }
    }

    /// `P(Y)` for `cardinality` classes (a given balance normalised to sum to 1); `None` when
    /// it is to be estimated. `Auto` is uniform here: the generative fit decides it before.
    fn probabilities(&self, cardinality: usize) -> Option<Vec<f64>> {
        match self {
            ClassBalance::Estimated => None,
            ClassBalance::Auto | ClassBalance::Uniform => {
                Some(vec![1.0 / cardinality as f64; cardinality])
            }
            ClassBalance::Given(balance) => {
                let total: f64 = balance.iter().sum();
                Some(balance.iter().map(|p| p / total).collect())
            }
        }
    }
}

/// Options for fitting a label model.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// The class balance.
    pub class_balance: ClassBalance,
    /// Precision of the Gaussian prior on the model's logits, centred on a neutral model (every
    /// LF 70 % accurate): 10 means a standard deviation of about 0.3; its weight against the
    /// data shrinks as the number of rows grows.
    pub l2: f64,
    /// Iteration limit of the optimiser.
    pub max_iterations: u64,
    /// Convergence tolerance on the gradient norm of the objective.
    pub tolerance: f64,
    /// Seed (recorded; the fit itself is deterministic).
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            class_balance: ClassBalance::Auto,
            l2: 10.0,
            max_iterations: 500,
            tolerance: 1e-6,
            seed: 123,
        }
    }
}

/// What happened while fitting.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Optimiser iterations.
    pub iterations: u64,
    /// Whether the optimiser met its tolerance.
    pub converged: bool,
    /// Final objective (negative mean log-likelihood plus penalty; 0 for majority vote).
    pub objective: f64,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// With `--class-balance auto` on two classes, the likelihood-ratio test that chose the
    /// balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_test: Option<BalanceTest>,
    /// With labelled rows (`fit --gold`), how they chose the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_selection: Option<gold::GoldSelection>,
}

/// The test behind [`ClassBalance::Auto`] (see [`generative`]): twice the log-likelihood a free
/// class balance gains over a uniform one in the model of the LFs that vote two classes or more,
/// both fitted by maximum likelihood, against the chi-squared critical value of `k - 1` degrees
/// of freedom at 0.1 %.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalanceTest {
    /// `2 (ln L_free - ln L_uniform)` (0 when no LF votes two classes).
    pub statistic: f64,
    /// The critical value it was compared with.
    pub critical: f64,
    /// Its degrees of freedom, `k - 1`.
    #[serde(default = "one")]
    pub degrees: usize,
    /// How many LFs the test's model had: those that vote two classes or more.
    #[serde(default)]
    pub lfs: usize,
    /// How many rows it was fitted on (an evenly spaced sample of the distinct vote patterns
    /// when there are many).
    #[serde(default)]
    pub rows: u64,
    /// The free fit's class balance (maximum likelihood); uniform when there was no fit.
    pub free_balance: Vec<f64>,
    /// What the test decided.
    pub chosen: BalanceChoice,
}

fn one() -> usize {
    1
}

/// The class balance the test chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BalanceChoice {
    /// Every class equally likely: the votes do not identify another balance.
    Uniform,
    /// The free fit's balance.
    Estimated,
}

impl BalanceTest {
    /// Whether the test rejected a uniform balance, so the balance was estimated.
    pub fn estimates(&self) -> bool {
        self.chosen == BalanceChoice::Estimated
    }
}

/// Errors fitting a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// Nothing to learn from.
    #[error("{0}")]
    NoData(String),
    /// An option is out of range.
    #[error("{0}")]
    BadOption(String),
    /// The optimiser failed.
    #[error("the optimiser failed: {0}")]
    Optimiser(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a label matrix does not fit a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlignError {
    /// The matrix has other classes.
    #[error(
        "the matrix has the classes [{}] but the model was fitted on [{}]",
        matrix.join(", "),
        model.join(", ")
    )]
    OtherClasses {
        /// The matrix's classes.
        matrix: Vec<String>,
        /// The model's classes.
        model: Vec<String>,
    },
    /// Other LFs, or the matrix could not be reordered.
    #[error(transparent)]
    Matrix(#[from] crate::matrix::MatrixError),
}

/// Model-specific parameters of a fitted model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Parameters {
    /// Majority vote has none.
    Majority,
    /// See [`generative`].
    Generative(generative::GenerativeParameters),
    /// See [`dawid_skene`].
    DawidSkene(dawid_skene::DawidSkeneParameters),
    /// See [`snorkel`].
    Snorkel(snorkel::SnorkelParameters),
    /// See [`hyper`].
    Hyper(hyper::HyperParameters),
}

/// A fitted label model: classes, LFs, class balance, parameters and estimated LF accuracies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedModel {
    /// Class names, in id order.
    pub classes: Vec<String>,
    /// LF names, in matrix column order.
    pub lfs: Vec<String>,
    /// `P(Y = y)`.
    pub class_balance: Vec<f64>,
    /// Per LF, the estimated probability that a vote it casts is right (`None` when it never
    /// votes, or for majority vote, which does not estimate accuracies).
    pub lf_accuracy: Vec<Option<f64>>,
    /// The parameters.
    pub parameters: Parameters,
    /// How the fit went.
    pub diagnostics: Diagnostics,
    /// Fingerprint of the training matrix.
    pub training_fingerprint: String,
    /// The options it was fitted with (absent from files written before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_options: Option<RecordedOptions>,
}

/// The options a model was fitted with, as its file records them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedOptions {
    /// Where the class balance came from: `uniform`, `estimated`, `given`, or what the caller
    /// says (the gold labels it was counted from).
    pub class_balance: String,
    /// See [`FitOptions::l2`].
    pub l2: f64,
    /// See [`FitOptions::max_iterations`].
    pub max_iterations: u64,
    /// See [`FitOptions::tolerance`].
    pub tolerance: f64,
    /// See [`FitOptions::seed`].
    pub seed: u64,
    /// Where the class balance the model labels with came from, when it replaced the fitted
    /// one after the fit ([`FittedModel::with_class_balance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_class_balance: Option<String>,
}

impl RecordedOptions {
    /// The record of `options`.
    pub fn of(options: &FitOptions) -> RecordedOptions {
        RecordedOptions {
            class_balance: options.class_balance.name().to_owned(),
            l2: options.l2,
            max_iterations: options.max_iterations,
            tolerance: options.tolerance,
            seed: options.seed,
            label_class_balance: None,
        }
    }
}

impl FittedModel {
    /// Record where the class balance it was fitted with came from (for example the gold labels
    /// it was counted from), in place of the option's name.
    pub fn record_class_balance_source(&mut self, source: String) {
        if let Some(recorded) = &mut self.fit_options {
            recorded.class_balance = source;
        }
    }

    /// This model with its class balance replaced by `balance` for labelling: every row's
    /// `P(Y | votes)` becomes `balance[y]` times the same likelihood of its votes, renormalised
    /// (Bayes' rule under a shifted prior); with the generative and Snorkel models, whose labels
    /// use only the votes cast, a row no LF covered gets `balance` itself. For rows whose class
    /// balance differs from the one the model was fitted with, or to label by the likelihood
    /// alone (`Uniform`). The LF parameters are unchanged. Majority vote has no class prior to
    /// replace, and only a fit estimates a balance.
    ///
    /// `source` says where `balance` came from; the model's record of its options keeps it.
    pub fn with_class_balance(
        &self,
        balance: &ClassBalance,
        source: &str,
    ) -> Result<FittedModel, FitError> {
        let k = self.classes.len();
        if matches!(balance, ClassBalance::Estimated | ClassBalance::Auto) {
            return Err(FitError::BadOption(format!(
                "`{}`: a class balance is estimated or tested only when fitting; to label, give \
                 one (uniform, numbers, or gold labels)",
                balance.name()
            )));
        }
        check_balance(balance, k)?;
        let balance = balance.probabilities(k).expect("not estimated");
        let parameters = match &self.parameters {
            Parameters::Majority => {
                return Err(FitError::BadOption(
                    "majority vote has no class prior to replace: its labels come from the votes \
                     alone"
                        .to_owned(),
                ));
            }
            Parameters::Generative(parameters) => {
                Parameters::Generative(parameters.with_class_balance(balance.clone()))
            }
            Parameters::DawidSkene(parameters) => {
                Parameters::DawidSkene(parameters.with_class_balance(balance.clone()))
            }
            Parameters::Snorkel(parameters) => {
                Parameters::Snorkel(parameters.with_class_balance(balance.clone()))
            }
            Parameters::Hyper(parameters) => {
                Parameters::Hyper(parameters.with_class_balance(balance.clone()))
            }
        };
        let mut fit_options = self.fit_options.clone();
        if let Some(recorded) = &mut fit_options {
            recorded.label_class_balance = Some(source.to_owned());
        }
        Ok(FittedModel {
            class_balance: balance,
            parameters,
            fit_options,
            ..self.clone()
        })
    }

    /// The votes of `matrix` (aligned to this model) for classes their LF never voted in the
    /// training matrix, as (LF, class, votes), for the generative model, which has no fitted
    /// parameter for them and counts them at its prior accuracy. Empty for the other models,
    /// whose parameters cover every class.
    pub fn votes_outside_training(&self, matrix: &LabelMatrix) -> Vec<(String, String, usize)> {
        let Parameters::Generative(parameters) = &self.parameters else {
            return Vec::new();
        };
        // Only an LF that left a class out in training can vote outside its polarity: when
        // every LF voted every class, no pass over the matrix is needed.
        if parameters.polarity.iter().flatten().all(|voted| *voted) {
            return Vec::new();
        }
        let mut outside = Vec::new();
        for (lf, counts) in matrix.vote_counts().iter().enumerate() {
            for (class, count) in counts.iter().enumerate() {
                if *count > 0 && !parameters.polarity[lf][class] {
                    outside.push((self.lfs[lf].clone(), self.classes[class].clone(), *count));
                }
            }
        }
        outside
    }

    /// The model's kind.
    pub fn kind(&self) -> ModelKind {
        match self.parameters {
            Parameters::Majority => ModelKind::Majority,
            Parameters::Generative(_) => ModelKind::Generative,
            Parameters::DawidSkene(_) => ModelKind::DawidSkene,
            Parameters::Snorkel(_) => ModelKind::Snorkel,
            Parameters::Hyper(_) => ModelKind::Hyper,
        }
    }

    /// `P(Y | votes)` for one row given its non-abstain votes, into `out`.
    pub fn posterior(&self, votes: &[Vote], out: &mut [f64]) {
        match &self.parameters {
            Parameters::Majority => majority::posterior(votes, out),
            Parameters::Generative(parameters) => parameters.posterior(votes, out),
            Parameters::DawidSkene(parameters) => parameters.posterior(votes, out),
            Parameters::Snorkel(parameters) => parameters.posterior(votes, out),
            Parameters::Hyper(parameters) => parameters.posterior(votes, out),
        }
    }

    /// `matrix` with its columns in this model's LF order, or why it does not fit the model
    /// (other classes, missing or unknown LFs).
    pub fn align(&self, matrix: LabelMatrix) -> Result<LabelMatrix, AlignError> {
        // A matrix from another tool names its classes by id: those ids are this model's.
        let numbered = matrix
            .classes()
            .iter()
            .enumerate()
            .all(|(id, name)| *name == id.to_string());
        let same_classes = matrix.classes() == self.classes.as_slice()
            || (numbered && matrix.cardinality() == self.classes.len());
        if !same_classes {
            return Err(AlignError::OtherClasses {
                matrix: matrix.classes().to_vec(),
                model: self.classes.clone(),
            });
        }
        if matrix.lf_names() == self.lfs.as_slice() && matrix.classes() == self.classes.as_slice() {
            return Ok(matrix);
        }
        if let Some(error) = self.lf_mismatch_error(matrix.lf_names()) {
            return Err(error.into());
        }
        if matrix.classes() == self.classes.as_slice() {
            return Ok(matrix.in_lf_order(&self.lfs)?);
        }
        // A numbered matrix takes this model's class names along with its LF order.
        let renamed = match matrix.row_keys() {
            Some((name, keys)) => LabelMatrix::new(
                matrix.votes().clone(),
                matrix.lf_names().to_vec(),
                self.classes.clone(),
            )
            .and_then(|renamed| renamed.with_row_keys(name.to_owned(), keys.clone())),
            None => LabelMatrix::new(
                matrix.votes().clone(),
                matrix.lf_names().to_vec(),
                self.classes.clone(),
            ),
        }?;
        Ok(renamed.in_lf_order(&self.lfs)?)
    }

    /// Why a matrix of LFs `lf_names` (in any order) does not fit this model, if it does not.
    pub fn lf_mismatch(&self, lf_names: &[String]) -> Option<String> {
        self.lf_mismatch_error(lf_names)
            .map(|error| error.to_string())
    }

    fn lf_mismatch_error(&self, lf_names: &[String]) -> Option<crate::matrix::MatrixError> {
        let missing: Vec<String> = self
            .lfs
            .iter()
            .filter(|lf| !lf_names.contains(lf))
            .cloned()
            .collect();
        let unknown: Vec<String> = lf_names
            .iter()
            .filter(|lf| !self.lfs.contains(lf))
            .cloned()
            .collect();
        (!missing.is_empty() || !unknown.is_empty())
            .then_some(crate::matrix::MatrixError::OtherLfs { missing, unknown })
    }

    /// `P(Y | votes)` for every row of `matrix` (rows x classes), in parallel.
    pub fn predict_proba(&self, matrix: &LabelMatrix) -> Array2<f64> {
        let k = self.classes.len();
        let mut probabilities = Array2::<f64>::zeros((matrix.n_rows(), k));
        let n_lfs = matrix.n_lfs();
        let dense = matrix.row_major();
        let dense: &[i8] = &dense;
        if n_lfs == 0 {
            for mut row in probabilities.rows_mut() {
                if let Some(out) = row.as_slice_mut() {
                    self.posterior(&[], out);
                }
            }
        } else if let Some(flat) = probabilities.as_slice_mut() {
            flat.par_chunks_mut(k * 4096)
                .zip(dense.par_chunks(n_lfs * 4096))
                .for_each(|(block, cells)| match &self.parameters {
                    Parameters::Generative(parameters) => {
                        parameters.posterior_dense(cells, n_lfs, block)
                    }
                    _ => {
                        let mut sparse = Vec::with_capacity(n_lfs);
                        for (offset, out) in block.chunks_mut(k).enumerate() {
                            sparse.clear();
                            let row = &cells[offset * n_lfs..(offset + 1) * n_lfs];
                            for (lf, vote) in row.iter().enumerate() {
                                if *vote != ABSTAIN {
                                    sparse.push(Vote::new(lf, *vote as u8));
                                }
                            }
                            self.posterior(&sparse, out);
                        }
                    }
                });
        }
        probabilities
    }
}

/// Fit a model of `kind` to `stats` with the LF and class names of the training matrix.
pub fn fit(
    kind: ModelKind,
    stats: &PatternCounts,
    lfs: &[String],
    classes: &[String],
    options: &FitOptions,
    training_fingerprint: String,
) -> Result<FittedModel, FitError> {
    check_inputs(stats, options)?;
    let mut model = match kind {
        ModelKind::Majority => majority::fit(stats, options)?,
        ModelKind::Generative => generative::fit(stats, options)?,
        ModelKind::DawidSkene => dawid_skene::fit(stats, options)?,
        ModelKind::Snorkel => snorkel::fit(stats, options)?,
        ModelKind::Hyper => hyper::fit(stats, options)?,
    };
    model.lfs = lfs.to_vec();
    model.classes = classes.to_vec();
    model.training_fingerprint = training_fingerprint;
    model.fit_options = Some(RecordedOptions::of(options));
    add_vote_warnings(stats, &mut model);
    Ok(model)
}

fn check_inputs(stats: &PatternCounts, options: &FitOptions) -> Result<(), FitError> {
    if stats.n_rows() == 0 {
        return Err(FitError::NoData("the label matrix has no rows".to_owned()));
    }
    if stats.n_lfs() == 0 {
        return Err(FitError::NoData(
            "the label matrix has no LF columns".to_owned(),
        ));
    }
    if stats
        .vote_counts()
        .iter()
        .all(|counts| counts.iter().all(|count| *count == 0))
    {
        return Err(FitError::NoData(
            "no LF voted on any row: there is nothing to learn from".to_owned(),
        ));
    }
    check_balance(&options.class_balance, stats.cardinality())?;
    let l2_ok = options.l2 >= 0.0 && options.l2.is_finite();
    if !l2_ok || options.tolerance.is_nan() || options.tolerance <= 0.0 {
        return Err(FitError::BadOption(
            "the L2 strength must be >= 0 and the tolerance > 0".to_owned(),
        ));
    }
    Ok(())
}

/// A given class balance must have one positive number per class.
fn check_balance(balance: &ClassBalance, cardinality: usize) -> Result<(), FitError> {
    if let ClassBalance::Given(balance) = balance
        && (balance.len() != cardinality || balance.iter().any(|p| !p.is_finite() || *p <= 0.0))
    {
        return Err(FitError::BadOption(format!(
            "the class balance needs {cardinality} positive numbers, got {balance:?}"
        )));
    }
    Ok(())
}

/// How far below chance an estimated LF accuracy must be to be called worse than random: half
/// the last printed digit, so an LF the model cannot tell from noise, estimated at chance give
/// or take rounding, is not reported as "0.500 < 0.500".
const CHANCE_MARGIN: f64 = 5e-4;

/// The accuracy an LF would have if its votes had nothing to do with the class: the class
/// balance of the classes it votes, weighted by how often it votes each (`1 / k` under a
/// uniform balance; under a skewed one, an LF for a rare class is right less than half the
/// time even when its votes carry information).
fn chance_accuracy(votes: &[u64], balance: &[f64]) -> f64 {
    let total: u64 = votes.iter().sum();
    votes
        .iter()
        .zip(balance)
        .map(|(count, share)| *count as f64 * share)
        .sum::<f64>()
        / total as f64
}

fn add_vote_warnings(stats: &PatternCounts, model: &mut FittedModel) {
    let counts = stats.vote_counts();
    if model.lfs.len() == 1 {
        model
            .diagnostics
            .warnings
            .push("only one LF: the model can only repeat its votes".to_owned());
    }
    for (lf, name) in model.lfs.iter().enumerate() {
        if counts[lf].iter().all(|count| *count == 0) {
            model.diagnostics.warnings.push(format!(
                "LF `{name}` never votes; it carries no information"
            ));
        } else if let Some(accuracy) = model.lf_accuracy[lf]
            && let chance = chance_accuracy(&counts[lf], &model.class_balance)
            && accuracy < chance - CHANCE_MARGIN
        {
            model.diagnostics.warnings.push(format!(
                "LF `{name}` is estimated worse than random ({accuracy:.3} < {chance:.3}, its \
                 accuracy were its votes unrelated to the class); check its logic or its label"
            ));
        }
    }
}

impl FittedModel {
    /// A model as a fitting routine returns it: names and fingerprint are filled in by [`fit`].
    pub(crate) fn unnamed(
        parameters: Parameters,
        class_balance: Vec<f64>,
        lf_accuracy: Vec<Option<f64>>,
        diagnostics: Diagnostics,
    ) -> FittedModel {
        FittedModel {
            classes: Vec::new(),
            lfs: Vec::new(),
            class_balance,
            lf_accuracy,
            parameters,
            diagnostics,
            training_fingerprint: String::new(),
            fit_options: None,
        }
    }
}

impl Diagnostics {
    /// Diagnostics of an iterative fit by `method`, warning when it did not converge.
    pub(crate) fn of_iterations(
        method: &str,
        iterations: u64,
        converged: bool,
        objective: f64,
        tolerance: f64,
    ) -> Self {
        let warnings = if converged {
            Vec::new()
        } else {
            vec![format!(
                "{method} stopped after {iterations} iterations without meeting the tolerance {tolerance}"
            )]
        };
        Diagnostics {
            iterations,
            converged,
            objective,
            warnings,
            ..Diagnostics::default()
        }
    }
}

/// The class balance fixed by `options`, or `None` when it is to be estimated.
pub(crate) fn fixed_balance(options: &FitOptions, cardinality: usize) -> Option<Vec<f64>> {
    options.class_balance.probabilities(cardinality)
}

/// Softmax of `logits` into `out` (stable).
pub(crate) fn softmax(logits: &[f64], out: &mut [f64]) {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for (out, logit) in out.iter_mut().zip(logits) {
        *out = (logit - max).exp();
        total += *out;
    }
    for out in out.iter_mut() {
        *out /= total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// `kind` fitted on `matrix` with `options`.
    fn fit_on(kind: ModelKind, matrix: &LabelMatrix, options: &FitOptions) -> FittedModel {
        let stats = PatternCounts::from_matrix(matrix);
        fit(
            kind,
            &stats,
            matrix.lf_names(),
            matrix.classes(),
            options,
            String::new(),
        )
        .unwrap()
    }

    #[test]
    fn class_balances_parse_from_their_names_or_numbers() {
        let parsed = |text: &str| text.parse::<ClassBalance>();
        assert_eq!(parsed("uniform"), Ok(ClassBalance::Uniform));
        assert_eq!(parsed("estimated"), Ok(ClassBalance::Estimated));
        assert_eq!(parsed(" 0.7, 0.3"), Ok(ClassBalance::Given(vec![0.7, 0.3])));
        assert_eq!(parsed("0.5,x"), Err("`x` is not a number".to_owned()));
        assert_eq!(parsed("auto"), Ok(ClassBalance::Auto));
        assert_eq!(
            parsed("balanced"),
            Err("`balanced` is not a class balance: give auto, uniform, estimated or one number per class (for example 0.7,0.3)".to_owned())
        );
    }

    #[test]
    fn class_balance_of_gold_labels_is_add_one_smoothed() {
        // 3 rows of class 0, 1 of class 2, none of class 1, two unknown: (3+1, 0+1, 1+1) / (4+3).
        let balance = ClassBalance::of_gold(&[0, 2, -1, 0, 0, -1], 3);
        assert_eq!(
            balance,
            Some(ClassBalance::Given(vec![4.0 / 7.0, 1.0 / 7.0, 2.0 / 7.0]))
        );
        assert_eq!(ClassBalance::of_gold(&[-1, -1], 2), None);
        assert_eq!(ClassBalance::of_gold(&[], 2), None);
    }

    /// Replacing the class balance is Bayes' rule under a shifted prior: each row's new
    /// probabilities are the old ones times `new / old` balance, renormalised, whatever the
    /// model; LF parameters stay. Majority vote and `Estimated` are refused.
    #[test]
    fn a_new_class_balance_shifts_every_posterior_by_bayes_rule() {
        let matrix = LabelMatrix::new(
            array![
                [0, 0, -1],
                [1, -1, 1],
                [2, 2, 2],
                [0, 1, -1],
                [-1, -1, -1],
                [2, -1, 0],
                [1, 1, 1],
                [0, -1, 0]
            ],
            vec!["a".into(), "b".into(), "c".into()],
            vec!["x".into(), "y".into(), "z".into()],
        )
        .unwrap();
        let fitted_with = FitOptions {
            class_balance: ClassBalance::Given(vec![0.3, 0.5, 0.2]),
            ..FitOptions::default()
        };
        for kind in [
            ModelKind::Generative,
            ModelKind::DawidSkene,
            ModelKind::Snorkel,
        ] {
            let model = fit_on(kind, &matrix, &fitted_with);
            let old = model.class_balance.clone();
            let shifted = model
                .with_class_balance(&ClassBalance::Given(vec![1.0, 1.0, 2.0]), "given")
                .unwrap();
            let new = [0.25, 0.25, 0.5];
            assert_eq!(shifted.class_balance, new);
            assert_eq!(shifted.lf_accuracy, model.lf_accuracy);
            let recorded = shifted.fit_options.as_ref().unwrap();
            assert_eq!(recorded.label_class_balance.as_deref(), Some("given"));
            assert_eq!(recorded.class_balance, "given");
            let (before, after) = (model.predict_proba(&matrix), shifted.predict_proba(&matrix));
            for (before, after) in before.rows().into_iter().zip(after.rows()) {
                let weighted: Vec<f64> = (0..3).map(|y| before[y] * new[y] / old[y]).collect();
                let total: f64 = weighted.iter().sum();
                for y in 0..3 {
                    assert!(
                        (after[y] - weighted[y] / total).abs() < 1e-12,
                        "{kind:?}: {before} -> {after}"
                    );
                }
            }
            let uniform = model
                .with_class_balance(&ClassBalance::Uniform, "uniform")
                .unwrap();
            assert_eq!(uniform.class_balance, [1.0 / 3.0; 3]);
            assert!(
                model
                    .with_class_balance(&ClassBalance::Estimated, "x")
                    .is_err()
            );
            assert!(
                model
                    .with_class_balance(&ClassBalance::Given(vec![1.0, 0.0, 1.0]), "x")
                    .is_err()
            );
        }
        let majority = fit_on(ModelKind::Majority, &matrix, &fitted_with);
        assert!(
            majority
                .with_class_balance(&ClassBalance::Uniform, "x")
                .is_err()
        );
    }

    /// The vote warnings of a model of `accuracy` per LF and class balance `balance` over the
    /// matrix `votes` (LFs named a, b, ...; classes x, y).
    fn vote_warnings(
        votes: ndarray::Array2<i8>,
        balance: Vec<f64>,
        accuracy: Vec<Option<f64>>,
    ) -> Vec<String> {
        let names = ["a", "b", "silent"][..votes.ncols()]
            .iter()
            .map(|name| name.to_string())
            .collect();
        let matrix = LabelMatrix::new(votes, names, vec!["x".into(), "y".into()]).unwrap();
        let stats = PatternCounts::from_matrix(&matrix);
        let mut model = FittedModel::unnamed(
            Parameters::Majority,
            balance,
            accuracy,
            Diagnostics::default(),
        );
        model.lfs = matrix.lf_names().to_vec();
        model.classes = matrix.classes().to_vec();
        add_vote_warnings(&stats, &mut model);
        model.diagnostics.warnings
    }

    #[test]
    fn lfs_below_chance_are_reported_and_those_at_chance_are_not() {
        let warnings = vote_warnings(
            array![[0, 1, -1], [1, 1, -1], [0, 0, -1]],
            vec![0.5, 0.5],
            vec![Some(0.4), Some(0.5 - 1e-9), None],
        );
        assert_eq!(
            warnings,
            [
                "LF `a` is estimated worse than random (0.400 < 0.500, its accuracy were its votes unrelated to the class); check its logic or its label",
                "LF `silent` never votes; it carries no information",
            ]
        );
    }

    /// Under a skewed balance chance is the balance of the classes an LF votes, weighted by its
    /// votes: by hand, with `[0.8, 0.2]`, LF `a` (votes x, y, x) has chance (2 · 0.8 + 0.2) / 3
    /// = 0.6, so 0.55 is below it; LF `b` votes only y, chance 0.2, so 0.3 is not (an LF for a
    /// rare class may be right less than half the time and still carry information).
    #[test]
    fn chance_follows_the_class_balance() {
        let warnings = vote_warnings(
            array![[0, 1], [1, 1], [0, -1]],
            vec![0.8, 0.2],
            vec![Some(0.55), Some(0.3)],
        );
        assert_eq!(
            warnings,
            [
                "LF `a` is estimated worse than random (0.550 < 0.600, its accuracy were its votes unrelated to the class); check its logic or its label"
            ]
        );
    }

    #[test]
    fn models_round_trip_and_other_versions_are_refused() {
        let matrix = LabelMatrix::new(
            array![[0, 1], [1, 1], [-1, 0]],
            vec!["a".into(), "b".into()],
            vec!["x".into(), "y".into()],
        )
        .unwrap();
        let stats = PatternCounts::from_matrix(&matrix);
        let model = fit(
            ModelKind::Generative,
            &stats,
            matrix.lf_names(),
            matrix.classes(),
            &FitOptions::default(),
            "abc".into(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_model(&path, &model).unwrap();
        let back = read_model(&path).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.predict_proba(&matrix), model.predict_proba(&matrix));
        let json = std::fs::read_to_string(&path).unwrap();
        assert!(json.contains("\"kind\": \"generative\""), "{json}");
        std::fs::write(
            &path,
            json.replace("\"format_version\": 2", "\"format_version\": 1"),
        )
        .unwrap();
        let error = read_model(&path).unwrap_err().to_string();
        assert!(
            error.contains("format version 1, but this labelgen reads version 2"),
            "{error}"
        );
    }

    #[test]
    fn probabilities_sum_to_one_and_bad_inputs_are_refused() {
        let matrix = LabelMatrix::new(
            array![[0, 1, -1], [2, 2, 2], [-1, -1, -1], [1, -1, 0]],
            vec!["a".into(), "b".into(), "c".into()],
            vec!["x".into(), "y".into(), "z".into()],
        )
        .unwrap();
        for kind in [
            ModelKind::Majority,
            ModelKind::Generative,
            ModelKind::DawidSkene,
        ] {
            let model = fit_on(kind, &matrix, &FitOptions::default());
            for row in model.predict_proba(&matrix).rows() {
                assert!(
                    (row.sum() - 1.0).abs() < 1e-9
                        && row.iter().all(|p| p.is_finite() && *p >= 0.0),
                    "{row}"
                );
            }
        }
        let silent = LabelMatrix::new(
            array![[-1, -1], [-1, -1]],
            vec!["a".into(), "b".into()],
            vec!["x".into(), "y".into()],
        )
        .unwrap();
        let error = fit(
            ModelKind::Generative,
            &PatternCounts::from_matrix(&silent),
            silent.lf_names(),
            silent.classes(),
            &FitOptions::default(),
            String::new(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("no LF voted on any row"),
            "{error}"
        );
        let never = LabelMatrix::new(
            array![[0, -1], [1, -1]],
            vec!["a".into(), "b".into()],
            vec!["x".into(), "y".into()],
        )
        .unwrap();
        let model = fit(
            ModelKind::Generative,
            &PatternCounts::from_matrix(&never),
            never.lf_names(),
            never.classes(),
            &FitOptions::default(),
            String::new(),
        )
        .unwrap();
        crate::test_support::assert_warns(&model.diagnostics, "LF `b` never votes");
    }
}
