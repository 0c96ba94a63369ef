//! Recovery of LF accuracies on synthetic, conditionally independent data: each LF votes with
//! its coverage; when it votes it is right with its accuracy, else names a wrong class
//! uniformly. Generated with the seeded generator in `synthetic.rs`.

use labelgen::patterns::PatternCounts;

use crate::synthetic::{fit_generative, synthetic};

fn mean_absolute_error(k: usize, seed: u64) -> f64 {
    let (matrix, truth) = synthetic(100_000, 10, k, seed);
    let model = fit_generative(&matrix, &PatternCounts::from_matrix(&matrix));
    assert!(model.diagnostics.converged, "{:?}", model.diagnostics);
    let errors: Vec<f64> = model
        .lf_accuracy
        .iter()
        .zip(&truth)
        .map(|(estimate, truth)| (estimate.unwrap() - truth).abs())
        .collect();
    errors.iter().sum::<f64>() / errors.len() as f64
}

#[test]
fn accuracies_are_recovered_for_two_classes() {
    let error = mean_absolute_error(2, 7);
    eprintln!("k = 2: mean absolute error of LF accuracies {error:.5}");
    assert!(error <= 0.005, "mean absolute error {error}");
}

#[test]
fn accuracies_are_recovered_for_four_classes() {
    let error = mean_absolute_error(4, 11);
    eprintln!("k = 4: mean absolute error of LF accuracies {error:.5}");
    assert!(error <= 0.005, "mean absolute error {error}");
}
