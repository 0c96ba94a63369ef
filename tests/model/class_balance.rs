//! The default class balance (`auto`): uniform unless, with two classes, a likelihood-ratio test
//! rejects it. Checked against separate fits of the same model and against the generator's
//! true classes.

use labelgen::matrix::LabelMatrix;
use labelgen::model::{BalanceTest, ClassBalance, FitOptions, FittedModel, ModelKind, fit};
use labelgen::stats::PatternCounts;

use crate::synthetic::{imbalanced_binary, synthetic};

fn fit_with(matrix: &LabelMatrix, class_balance: ClassBalance, l2: f64) -> FittedModel {
    let options = FitOptions {
        class_balance,
        l2,
        ..FitOptions::default()
    };
    fit(
        ModelKind::Generative,
        &PatternCounts::from_matrix(matrix),
        matrix.lf_names(),
        matrix.classes(),
        &options,
        String::new(),
    )
    .unwrap()
}

/// The default (`auto`) fit of `matrix` and the balance test it ran.
fn auto_fit(matrix: &LabelMatrix) -> (FittedModel, BalanceTest) {
    let model = fit_with(matrix, ClassBalance::Auto, 10.0);
    let test = model
        .diagnostics
        .balance_test
        .clone()
        .expect("two classes are tested");
    (model, test)
}

/// Share of rows some LF voted on whose most probable class is the true one.
fn covered_accuracy(model: &FittedModel, matrix: &LabelMatrix, truth: &[usize]) -> f64 {
    let probabilities = model.predict_proba(matrix);
    let covered = matrix.covered();
    let (mut right, mut total) = (0, 0);
    for (row, class) in truth.iter().enumerate() {
        if covered[row] {
            let p = probabilities.row(row);
            right += usize::from((p[1] > p[0]) == (*class == 1));
            total += 1;
        }
    }
    right as f64 / total as f64
}

/// 10 % positive rows: the test rejects a uniform balance; its statistic is twice the
/// log-likelihood gap of the two maximum-likelihood fits (each objective is a negative mean
/// log-likelihood); the model is then the `estimated` fit; the maximum-likelihood balance is the
/// generator's, and the labels are right more often than a uniform balance's.
#[test]
fn an_imbalanced_binary_task_gets_an_estimated_balance() {
    let (matrix, truth) = imbalanced_binary(20_000, 10, 0.1, 3);
    let (auto, test) = auto_fit(&matrix);
    assert_eq!(test.chosen, "estimated");
    assert!(test.statistic > test.critical, "{test:?}");
    assert!((test.critical - 10.8276).abs() < 1e-4);

    let uniform = fit_with(&matrix, ClassBalance::Uniform, 0.0);
    let free = fit_with(&matrix, ClassBalance::Estimated, 0.0);
    let by_hand = 2.0 * 20_000.0 * (uniform.diagnostics.objective - free.diagnostics.objective);
    assert!(
        (test.statistic - by_hand).abs() < 1e-9 * by_hand,
        "{} vs {by_hand}",
        test.statistic
    );
    assert_eq!(test.free_balance, free.class_balance);

    let estimated = fit_with(&matrix, ClassBalance::Estimated, 10.0);
    assert_eq!(auto.class_balance, estimated.class_balance);
    assert_eq!(auto.parameters, estimated.parameters);
    // The maximum-likelihood balance recovers the generator's (the model holds here); the
    // fitted one lies between it and uniform, shrunk by the prior.
    let share = truth.iter().filter(|class| **class == 1).count() as f64 / truth.len() as f64;
    assert!(
        (test.free_balance[1] - share).abs() < 0.01,
        "{test:?} vs {share}"
    );
    let positive = auto.class_balance[1];
    assert!(
        positive > test.free_balance[1] && positive < 0.5,
        "{positive} vs {test:?}"
    );

    let uniform_default = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    let (with_test, without) = (
        covered_accuracy(&auto, &matrix, &truth),
        covered_accuracy(&uniform_default, &matrix, &truth),
    );
    assert!(with_test > without + 0.02, "{with_test} vs {without}");
}

/// Balanced rows: the test keeps the balance uniform, and the model is the uniform fit.
#[test]
fn a_balanced_binary_task_keeps_a_uniform_balance() {
    let (matrix, _) = imbalanced_binary(20_000, 10, 0.5, 5);
    let (auto, test) = auto_fit(&matrix);
    assert_eq!(test.chosen, "uniform");
    assert!(test.statistic <= test.critical, "{test:?}");
    let uniform = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    assert_eq!(auto.class_balance, [0.5, 0.5]);
    assert_eq!(auto.parameters, uniform.parameters);
}

/// With more than two classes there is no test: the balance is uniform.
#[test]
fn more_than_two_classes_keep_a_uniform_balance() {
    let (matrix, _) = synthetic(5_000, 8, 3, 9);
    let auto = fit_with(&matrix, ClassBalance::Auto, 10.0);
    assert!(auto.diagnostics.balance_test.is_none());
    let uniform = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    assert_eq!(auto.parameters, uniform.parameters);
    assert_eq!(auto.class_balance, [1.0 / 3.0; 3]);
}
