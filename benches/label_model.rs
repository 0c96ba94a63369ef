//! The default label model in memory: counting the distinct patterns of a synthetic 1,000,000
//! x 50 matrix with 4 classes, fitting the generative model to them, and computing every row's
//! probabilistic label (`predict_proba`): what Snorkel's `LabelModel.fit` + `predict_proba`
//! do, which `benches/snorkel_fit.py` times on the same recipe of matrix. Building the matrix
//! is outside the timed loop; `benches/compare_models.py` times the commands end to end.
//!
//! Run: `cargo bench --bench label_model`.

use criterion::{Criterion, criterion_group, criterion_main};
use labelgen::model::{FitOptions, ModelKind, fit};
use labelgen::patterns::PatternCounts;

mod common;
use common::matrix_group;

fn bench(c: &mut Criterion) {
    let (matrix, _, mut group) = matrix_group(c, "label_model");
    let fitted = |matrix| {
        let stats = PatternCounts::from_matrix(matrix);
        fit(
            ModelKind::Generative,
            &stats,
            matrix.lf_names(),
            matrix.classes(),
            &FitOptions::default(),
            String::new(),
        )
        .expect("fit")
    };
    group.bench_function("count, 1M x 50, 4 classes", |b| {
        b.iter(|| PatternCounts::from_matrix(&matrix))
    });
    group.bench_function("count + fit, 1M x 50, 4 classes", |b| {
        b.iter(|| fitted(&matrix))
    });
    let model = fitted(&matrix);
    group.bench_function("predict_proba, 1M x 50, 4 classes", |b| {
        b.iter(|| model.predict_proba(&matrix))
    });
    group.bench_function("count + fit + predict_proba, 1M x 50, 4 classes", |b| {
        b.iter(|| fitted(&matrix).predict_proba(&matrix))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
