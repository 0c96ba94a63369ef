//! The default class balance (`auto`): uniform unless, with two classes, a likelihood-ratio test
//! on the LFs that vote both rejects it; then theirs. Checked against separate fits of the same
//! model and against the generator's true classes.

use labelgen::matrix::LabelMatrix;
use labelgen::model::{
    BalanceChoice, BalanceTest, ClassBalance, FitOptions, FittedModel, ModelKind, fit,
};
use labelgen::patterns::PatternCounts;

use crate::synthetic::{crowd_binary, imbalanced_binary, side_by_side, synthetic};

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
        .expect("the default fit records its balance test");
    (model, test)
}

/// The same optimum as `other` (reached from another start when every LF votes several
/// classes: the test's optimum): the same balance, probabilities within 1e-3 (the optimiser stops at
/// a gradient norm of 1e-6, where the likelihood is flat).
fn assert_same_model(model: &FittedModel, other: &FittedModel, matrix: &LabelMatrix) {
    assert_eq!(model.class_balance, other.class_balance);
    let (ours, theirs) = (model.predict_proba(matrix), other.predict_proba(matrix));
    let gap = (&ours - &theirs)
        .iter()
        .fold(0.0f64, |gap, value| gap.max(value.abs()));
    assert!(gap < 1e-3, "probabilities differ by {gap}");
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

/// Crowd workers voting both classes, 10 % positive rows: the test rejects a uniform balance;
/// its statistic is twice the log-likelihood gap of the two maximum-likelihood fits (each
/// objective is a negative mean log-likelihood); the free balance is the generator's, the model
/// is the fit with that balance given, and its labels beat a uniform balance's.
#[test]
fn workers_voting_both_classes_identify_an_imbalanced_balance() {
    let (matrix, truth) = crowd_binary(20_000, 12, 0.1, 3);
    let (auto, test) = auto_fit(&matrix);
    assert_eq!(test.chosen, BalanceChoice::Estimated);
    assert_eq!((test.lfs, test.rows, test.degrees), (12, 20_000, 1));
    assert!(test.statistic > test.critical, "{test:?}");
    assert!((test.critical - 10.8276).abs() < 1e-4);

    let uniform = fit_with(&matrix, ClassBalance::Uniform, 0.0);
    let free = fit_with(&matrix, ClassBalance::Estimated, 0.0);
    let by_hand = 2.0 * 20_000.0 * (uniform.diagnostics.objective - free.diagnostics.objective);
    assert!(
        (test.statistic - by_hand).abs() < 1e-6 * by_hand,
        "{} vs {by_hand}",
        test.statistic
    );
    let share = truth.iter().filter(|class| **class == 1).count() as f64 / truth.len() as f64;
    assert!(
        (test.free_balance[1] - share).abs() < 0.01,
        "{test:?} vs {share}"
    );
    let given = fit_with(
        &matrix,
        ClassBalance::Given(test.free_balance.clone()),
        10.0,
    );
    assert_same_model(&auto, &given, &matrix);

    let uniform_default = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    let (with_test, without) = (
        covered_accuracy(&auto, &matrix, &truth),
        covered_accuracy(&uniform_default, &matrix, &truth),
    );
    assert!(with_test > without + 0.02, "{with_test} vs {without}");
}

/// LFs that each vote one class cannot move the balance, however imbalanced the rows: there is
/// no test fit, the balance is uniform, and the model is the uniform fit.
#[test]
fn lfs_voting_one_class_keep_a_uniform_balance() {
    let (matrix, _) = imbalanced_binary(20_000, 10, 0.1, 3);
    let (auto, test) = auto_fit(&matrix);
    assert_eq!(test.chosen, BalanceChoice::Uniform);
    assert_eq!((test.lfs, test.rows, test.statistic), (0, 0, 0.0));
    let uniform = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    assert_eq!(auto.class_balance, [0.5, 0.5]);
    assert_eq!(auto.parameters, uniform.parameters);
}

/// With both kinds of LF, the test fits the multi-class LFs alone: its statistic is that of
/// the matrix of their columns.
#[test]
fn the_test_reads_only_the_lfs_voting_several_classes() {
    let (workers, _) = crowd_binary(10_000, 6, 0.15, 11);
    let (keywords, _) = imbalanced_binary(10_000, 4, 0.5, 12);
    let both = side_by_side(&workers, &keywords);
    let (_, test) = auto_fit(&both);
    let (_, alone) = auto_fit(&workers);
    assert_eq!(test.lfs, 6);
    assert_eq!(test.statistic, alone.statistic);
    assert_eq!(test.free_balance, alone.free_balance);
}

/// Balanced rows: the test keeps the balance uniform, and the model is the uniform fit.
#[test]
fn a_balanced_task_keeps_a_uniform_balance() {
    let (matrix, _) = crowd_binary(20_000, 10, 0.5, 5);
    let (auto, test) = auto_fit(&matrix);
    assert_eq!(test.chosen, BalanceChoice::Uniform);
    assert!(test.statistic <= test.critical, "{test:?}");
    let uniform = fit_with(&matrix, ClassBalance::Uniform, 10.0);
    assert_eq!(auto.class_balance, [0.5, 0.5]);
    assert_same_model(&auto, &uniform, &matrix);
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
