//! What a fit is asked for: the kind of model, the class balance, the options, and the options
//! as a model file records them.

use serde::{Deserialize, Serialize};

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
    /// The Hyper Label Model (a pre-trained graph network; see [`hyper`](super::hyper)).
    Hyper,
}

/// A name that is no label model's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a label model: give generative, majority, dawid-skene, snorkel or hyper")]
pub struct UnknownModelKind(pub String);

impl std::str::FromStr for ModelKind {
    type Err = UnknownModelKind;

    /// The names of the model files and of `labelgen fit --model`: `generative`, `majority`,
    /// `dawid-skene`, `snorkel`, `hyper`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .map_err(|_| UnknownModelKind(name.to_owned()))
    }
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
    /// rejects it; then theirs (see [`generative`](super::generative)'s module documentation). With more classes,
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
    pub(super) fn probabilities(&self, cardinality: usize) -> Option<Vec<f64>> {
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
    /// one after the fit ([`FittedModel::with_class_balance`](super::FittedModel::with_class_balance)).
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
