//! `labelgen analyze`'s counting pass alone: a synthetic 1,000,000 x 50 matrix with 4 classes
//! (conditionally independent LFs, coverage 0.05-0.5, accuracy 0.55-0.95, the same recipe as
//! `benches/make_matrix.py`) and gold labels, in memory; every figure of the report (per-LF,
//! pairwise, confusion) is computed. Reading the files is outside the timed loop;
//! `benches/compare_analyze.py` times the whole command against Snorkel's `lf_summary`.
//!
//! Run: `cargo bench --bench analyze`.

use criterion::{Criterion, criterion_group, criterion_main};
use labelgen::analysis::analyze;

mod common;
use common::matrix_group;

fn bench(c: &mut Criterion) {
    let (matrix, gold, mut group) = matrix_group(c, "analyze");
    group.bench_function("1M x 50, 4 classes, with gold", |b| {
        b.iter(|| analyze(&matrix, Some(&gold), None).expect("analysis"))
    });
    group.bench_function("1M x 50, 4 classes, no gold", |b| {
        b.iter(|| analyze(&matrix, None, None).expect("analysis"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
