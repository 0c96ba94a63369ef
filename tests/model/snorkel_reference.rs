//! labelgen's `snorkel` model against Snorkel 0.10.0's own `LabelModel` probabilities on the
//! youtube test split (fixture and settings: tests/fixtures/snorkel/README.md).

use std::path::Path;

use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::model::{FitOptions, ModelKind, fit};
use labelgen::patterns::PatternCounts;

#[test]
fn snorkel_model_reproduces_snorkel_probabilities() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let train = read_matrix(
        &root.join("datasets/youtube/train.json"),
        &ReadOptions::default(),
    )
    .unwrap();
    let test = read_matrix(
        &root.join("datasets/youtube/test.json"),
        &ReadOptions::default(),
    )
    .unwrap();
    // Snorkel's settings: 500 epochs, lr 0.01 (fixed in the model), seed 123, uniform balance, l2 0.
    let options = FitOptions {
        max_iterations: 500,
        seed: 123,
        ..FitOptions::default()
    };
    let stats = PatternCounts::from_matrix(&train.matrix);
    let model = fit(
        ModelKind::Snorkel,
        &stats,
        train.matrix.lf_names(),
        train.matrix.classes(),
        &options,
        String::new(),
    )
    .unwrap();
    let ours = model.predict_proba(&test.matrix);
    let text = std::fs::read_to_string(root.join("tests/fixtures/snorkel/youtube_test_proba.csv"))
        .unwrap();
    let reference: Vec<Vec<f64>> = text
        .lines()
        .map(|line| {
            line.split(',')
                .map(|value| value.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(reference.len(), ours.nrows());
    for (row, expected) in reference.iter().enumerate() {
        for (class, value) in expected.iter().enumerate() {
            // Snorkel computes in float32.
            assert!(
                (ours[[row, class]] - value).abs() < 1e-5,
                "row {row} class {class}: {} vs {value}",
                ours[[row, class]]
            );
        }
    }
}
