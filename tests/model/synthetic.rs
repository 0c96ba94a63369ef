//! Shared by the label-model tests: a seeded synthetic matrix with known LF accuracies, and the
//! default generative fit.

use labelgen::matrix::LabelMatrix;
use labelgen::model::{FitOptions, FittedModel, ModelKind, fit};
use labelgen::patterns::PatternCounts;
use ndarray::Array2;

/// SplitMix64: a small, well-known seeded generator.
pub struct Generator(pub u64);

impl Generator {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.uniform() * bound as f64) as usize
    }
}

/// A matrix of `n` rows and the true accuracies of its `m` LFs.
pub fn synthetic(n: usize, m: usize, k: usize, seed: u64) -> (LabelMatrix, Vec<f64>) {
    let mut random = Generator(seed);
    let accuracy: Vec<f64> = (0..m).map(|_| 0.55 + 0.4 * random.uniform()).collect();
    let coverage: Vec<f64> = (0..m).map(|_| 0.05 + 0.45 * random.uniform()).collect();
    let mut votes = Array2::from_elem((n, m), -1i8);
    for row in 0..n {
        let truth = random.below(k);
        for lf in 0..m {
            if random.uniform() < coverage[lf] {
                let vote = if random.uniform() < accuracy[lf] {
                    truth
                } else {
                    (truth + 1 + random.below(k - 1)) % k
                };
                votes[[row, lf]] = vote as i8;
            }
        }
    }
    let names = (0..m).map(|lf| format!("lf{lf}")).collect();
    let classes = (0..k).map(|class| class.to_string()).collect();
    (LabelMatrix::new(votes, names, classes).unwrap(), accuracy)
}

/// A binary matrix of `n` rows whose true class is 1 with probability `positive`, from `m`
/// conditionally independent LFs that each vote one class: LF `j` votes class `j % 2` on a
/// row of that class with probability `rate` (0.1 to 0.4) and on a row of the other class with
/// a fifth of it. Returns the matrix and the true classes.
pub fn imbalanced_binary(
    n: usize,
    m: usize,
    positive: f64,
    seed: u64,
) -> (LabelMatrix, Vec<usize>) {
    let mut random = Generator(seed);
    let rate: Vec<f64> = (0..m).map(|_| 0.1 + 0.3 * random.uniform()).collect();
    let mut votes = Array2::from_elem((n, m), -1i8);
    let mut truth = Vec::with_capacity(n);
    for row in 0..n {
        let class = usize::from(random.uniform() < positive);
        truth.push(class);
        for lf in 0..m {
            let target = lf % 2;
            let p = if class == target {
                rate[lf]
            } else {
                rate[lf] / 5.0
            };
            if random.uniform() < p {
                votes[[row, lf]] = target as i8;
            }
        }
    }
    let names = (0..m).map(|lf| format!("lf{lf}")).collect();
    let classes = vec!["0".to_owned(), "1".to_owned()];
    (LabelMatrix::new(votes, names, classes).unwrap(), truth)
}

/// The default generative model fitted to `stats` of `matrix`.
pub fn fit_generative(matrix: &LabelMatrix, stats: &PatternCounts) -> FittedModel {
    fit(
        ModelKind::Generative,
        stats,
        matrix.lf_names(),
        matrix.classes(),
        &FitOptions::default(),
        String::new(),
    )
    .unwrap()
}

/// A binary matrix like crowd work: `n` rows whose true class is 1 with probability
/// `positive`, and `m` workers that each see a row with probability 0.3 and then vote both
/// classes, right with their own sensitivity (class 1) and specificity (class 0), drawn in
/// 0.65-0.95. Returns the matrix and the true classes.
pub fn crowd_binary(n: usize, m: usize, positive: f64, seed: u64) -> (LabelMatrix, Vec<usize>) {
    let mut random = Generator(seed);
    let right: Vec<[f64; 2]> = (0..m)
        .map(|_| [0.65 + 0.3 * random.uniform(), 0.65 + 0.3 * random.uniform()])
        .collect();
    let mut votes = Array2::from_elem((n, m), -1i8);
    let mut truth = Vec::with_capacity(n);
    for row in 0..n {
        let class = usize::from(random.uniform() < positive);
        truth.push(class);
        for lf in 0..m {
            if random.uniform() < 0.3 {
                let vote = if random.uniform() < right[lf][class] {
                    class
                } else {
                    1 - class
                };
                votes[[row, lf]] = vote as i8;
            }
        }
    }
    let names = (0..m).map(|lf| format!("worker{lf}")).collect();
    let classes = vec!["0".to_owned(), "1".to_owned()];
    (LabelMatrix::new(votes, names, classes).unwrap(), truth)
}

/// `matrix` with the columns of `other` appended (same rows and classes).
pub fn side_by_side(matrix: &LabelMatrix, other: &LabelMatrix) -> LabelMatrix {
    let votes = ndarray::concatenate(
        ndarray::Axis(1),
        &[matrix.votes().view(), other.votes().view()],
    )
    .unwrap();
    let mut names = matrix.lf_names().to_vec();
    names.extend(other.lf_names().iter().map(|name| format!("{name}_b")));
    LabelMatrix::new(votes, names, matrix.classes().to_vec()).unwrap()
}
