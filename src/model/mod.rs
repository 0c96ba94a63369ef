//! Label models: learn how good each LF is without gold labels and turn votes into
//! probabilistic labels.
//!
//! A model is fitted from [`PatternCounts`] (the distinct vote rows and their counts), so after
//! one pass over the matrix the cost of fitting does not depend on n. The fitted model
//! ([`FittedModel`]) is a different type from the options that produced it; it computes
//! `P(Y | votes)` for any row, and is saved as versioned JSON.

mod chi_squared;
pub mod dawid_skene;
mod fitted;
pub mod generative;
pub mod gold;
pub mod hyper;
pub mod majority;
mod options;
mod saved;
pub mod snorkel;

pub use saved::{
    MODEL_FORMAT_VERSION, ModelFileError, model_json, parse_model, read_model, write_model,
};

pub use fitted::{AlignError, BalanceChoice, BalanceTest, Diagnostics, FittedModel, Parameters};
pub use options::{ClassBalance, FitOptions, ModelKind, RecordedOptions, UnknownModelKind};

pub use crate::hard_labels::{TieBreak, hard_labels, row_key_hash};
use crate::patterns::PatternCounts;

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
    use crate::matrix::LabelMatrix;
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
