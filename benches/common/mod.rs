//! The synthetic label matrix the benches share: conditionally independent LFs, coverage
//! 0.05-0.5, accuracy 0.55-0.95, a wrong vote naming another class uniformly (the recipe of
//! `benches/make_matrix.py`), seeded.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use labelgen::LabelMatrix;
use ndarray::Array2;

/// Rows, LFs and classes of the benches' matrix.
pub const SHAPE: (usize, usize, usize) = (1_000_000, 50, 4);

/// The [`SHAPE`] matrix with its true classes, and a criterion group `name` over it (10 samples,
/// throughput in rows).
pub fn matrix_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> (LabelMatrix, Vec<i64>, BenchmarkGroup<'a, WallTime>) {
    let (n, m, k) = SHAPE;
    let (matrix, gold) = synthetic(n, m, k);
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    (matrix, gold, group)
}

/// xorshift64*: a small seeded generator, enough for synthetic votes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` x `m` votes over `k` classes, and the true class of every row.
fn synthetic(n: usize, m: usize, k: usize) -> (LabelMatrix, Vec<i64>) {
    let mut rng = Rng(0x5eed);
    let coverage: Vec<f64> = (0..m).map(|_| 0.05 + 0.45 * rng.uniform()).collect();
    let accuracy: Vec<f64> = (0..m).map(|_| 0.55 + 0.4 * rng.uniform()).collect();
    let gold: Vec<i64> = (0..n).map(|_| (rng.next() % k as u64) as i64).collect();
    let votes = Array2::from_shape_fn((n, m), |(row, lf)| {
        if rng.uniform() >= coverage[lf] {
            -1
        } else if rng.uniform() < accuracy[lf] {
            gold[row] as i8
        } else {
            ((gold[row] as u64 + 1 + rng.next() % (k as u64 - 1)) % k as u64) as i8
        }
    });
    let names = (0..m).map(|lf| format!("lf_{lf}")).collect();
    let classes = (0..k).map(|class| class.to_string()).collect();
    (
        LabelMatrix::new(votes, names, classes).expect("valid"),
        gold,
    )
}
