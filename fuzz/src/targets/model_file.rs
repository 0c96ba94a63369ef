//! The model-file loader: never a panic, and a model it accepts labels any matrix of its LFs
//! with probabilities that are finite and sum to 1 (so a damaged file cannot give NaN labels),
//! also with its class balance replaced.

use labelgen::LabelMatrix;
use labelgen::model::{ClassBalance, FittedModel, TieBreak, hard_labels, read_model};

/// Rows of votes for `model`'s LFs, drawn from `seed`: every LF abstaining and voting each
/// class somewhere.
fn matrix(model: &FittedModel, seed: &[u8]) -> LabelMatrix {
    let (m, k) = (model.lfs.len(), model.classes.len());
    let rows = 2 * (k + 1);
    let votes = ndarray::Array2::from_shape_fn((rows, m), |(row, lf)| {
        let byte = seed
            .get((row * m + lf) % seed.len().max(1))
            .copied()
            .unwrap_or(0);
        ((usize::from(byte) + row + lf) % (k + 1)) as i8 - 1
    });
    LabelMatrix::new(votes, model.lfs.clone(), model.classes.clone()).expect("votes in range")
}

fn check_labels(model: &FittedModel, matrix: &LabelMatrix) {
    let probabilities = model.predict_proba(matrix);
    for row in probabilities.rows() {
        let total: f64 = row.sum();
        assert!(
            row.iter().all(|p| p.is_finite() && *p >= 0.0) && (total - 1.0).abs() < 1e-9,
            "probabilities {row} for an accepted model"
        );
    }
    hard_labels(&probabilities, None, TieBreak::Random, 7);
}

pub fn run(data: &[u8]) {
    let path = super::scratch("model.json", data);
    let Ok(model) = read_model(&path) else {
        return;
    };
    let matrix = matrix(&model, data);
    check_labels(&model, &matrix);
    if let Ok(uniform) = model.with_class_balance(&ClassBalance::Uniform, "uniform") {
        check_labels(&uniform, &matrix);
    }
}
