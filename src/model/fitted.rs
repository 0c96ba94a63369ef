//! A fitted label model: its classes, LFs, class balance, parameters, estimated LF accuracies
//! and diagnostics; the posterior of a row's votes and the probabilities of a matrix.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    ClassBalance, FitError, ModelKind, RecordedOptions, check_balance, dawid_skene, generative,
    gold, hyper, majority, snorkel,
};
use crate::matrix::{ABSTAIN, LabelMatrix};
use crate::patterns::Vote;

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
