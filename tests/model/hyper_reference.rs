//! labelgen's `hyper` model against the Hyper Label Model's own implementation (PyPI hyperlm
//! 0.0.5; fixtures and how they were made: tests/fixtures/hyperlm/README.md).

use std::path::Path;

use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::matrix::LabelMatrix;
use labelgen::model::{FitOptions, FittedModel, ModelKind, fit};
use labelgen::patterns::PatternCounts;
use ndarray::Array2;

fn fixture(name: &str) -> Vec<Vec<f64>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hyperlm")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            line.split(',')
                .map(|value| value.parse().unwrap())
                .collect()
        })
        .collect()
}

fn fit_hyper(matrix: &LabelMatrix) -> FittedModel {
    let stats = PatternCounts::from_matrix(matrix);
    let options = FitOptions::default();
    fit(
        ModelKind::Hyper,
        &stats,
        matrix.lf_names(),
        matrix.classes(),
        &options,
        String::new(),
    )
    .unwrap()
}

/// Every covered row's probabilities equal the reference's to 1e-5 (hyperlm computes in
/// float32); an uncovered row gets the class balance.
fn assert_matches(matrix: &LabelMatrix, ours: &Array2<f64>, reference: &[Vec<f64>]) {
    assert_eq!(reference.len(), ours.nrows());
    let k = matrix.cardinality();
    for (row, expected) in reference.iter().enumerate() {
        let covered = matrix.votes().row(row).iter().any(|vote| *vote >= 0);
        for (class, value) in expected.iter().enumerate() {
            let ours = ours[[row, class]];
            let want = if covered { *value } else { 1.0 / k as f64 };
            assert!(
                (ours - want).abs() < 1e-5,
                "row {row} class {class}: {ours} vs {want}"
            );
        }
    }
}

/// The bundled youtube train split's label matrix.
fn youtube_train() -> labelgen::io::matrix_read::LoadedMatrix {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    read_matrix(
        &root.join("datasets/youtube/train.json"),
        &ReadOptions::default(),
    )
    .unwrap()
}

#[test]
fn hyper_model_reproduces_hyperlm_on_the_youtube_train_split() {
    let train = youtube_train();
    let model = fit_hyper(&train.matrix);
    let ours = model.predict_proba(&train.matrix);
    assert_matches(&train.matrix, &ours, &fixture("youtube_train_proba.csv"));
}

#[test]
fn hyper_model_reproduces_hyperlm_with_three_classes() {
    let votes = fixture("three_class_votes.csv");
    let (rows, lfs) = (votes.len(), votes[0].len());
    let cells = votes.iter().flatten().map(|vote| *vote as i8).collect();
    let matrix = LabelMatrix::new(
        Array2::from_shape_vec((rows, lfs), cells).unwrap(),
        (0..lfs).map(|lf| format!("lf{lf}")).collect(),
        vec!["a".into(), "b".into(), "c".into()],
    )
    .unwrap();
    let model = fit_hyper(&matrix);
    assert_matches(
        &matrix,
        &model.predict_proba(&matrix),
        &fixture("three_class_proba.csv"),
    );
}

/// Inductive: labelling rows after the fit uses only what the model file keeps, so a saved
/// and reloaded model labels the training rows exactly as the fit did.
#[test]
fn a_saved_hyper_model_labels_as_the_fit_did() {
    let train = youtube_train();
    let model = fit_hyper(&train.matrix);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("hyper.json");
    labelgen::model::write_model(&path, &model).unwrap();
    let loaded = labelgen::model::read_model(&path).unwrap();
    assert_eq!(
        loaded.predict_proba(&train.matrix),
        model.predict_proba(&train.matrix)
    );
}
