//! The `.stats` reader (`labelgen fit SHARD.stats ...`): never a panic; statistics it accepts
//! write back to the same statistics, merge with themselves to twice the rows (or are refused
//! as too many), and every label model fits them or says why not, with labels that are
//! distributions. The input is tried as a file, and as a file's body with its checksum
//! appended, so that the fuzzer reaches the fields behind the checksum.

use labelgen::LabelMatrix;
use labelgen::model::{FitOptions, ModelKind, fit};
use labelgen::statistics::Statistics;

/// The distinct vote rows of `statistics`, one row each, as a label matrix.
fn patterns_matrix(statistics: &Statistics) -> LabelMatrix {
    let patterns = &statistics.patterns;
    let mut votes = ndarray::Array2::from_elem((patterns.len(), statistics.lfs.len()), -1i8);
    for pattern in 0..patterns.len() {
        for vote in patterns.pattern(pattern) {
            votes[[pattern, vote.lf()]] = vote.class() as i8;
        }
    }
    LabelMatrix::new(votes, statistics.lfs.clone(), statistics.classes.clone())
        .expect("accepted statistics make a valid matrix")
}

fn check(statistics: &Statistics) {
    let written = Statistics::from_bytes(&statistics.to_bytes()).expect("written statistics read");
    assert_eq!(
        &written, statistics,
        "statistics survive writing and reading"
    );
    if let Ok(doubled) = statistics.merge(statistics) {
        assert_eq!(doubled.patterns.n_rows(), 2 * statistics.patterns.n_rows());
        assert_eq!(doubled.patterns.len(), statistics.patterns.len());
    }
    // Small inputs only: a fit's cost grows with the LFs and the patterns.
    if statistics.lfs.len() > 16 || statistics.patterns.len() > 64 {
        return;
    }
    let matrix = patterns_matrix(statistics);
    let options = FitOptions {
        max_iterations: 25,
        ..FitOptions::default()
    };
    for kind in [
        ModelKind::Generative,
        ModelKind::Majority,
        ModelKind::DawidSkene,
    ] {
        let fitted = fit(
            kind,
            &statistics.patterns,
            &statistics.lfs,
            &statistics.classes,
            &options,
            String::new(),
        );
        if let Ok(model) = fitted {
            for row in model.predict_proba(&matrix).rows() {
                let total: f64 = row.sum();
                assert!(
                    row.iter().all(|p| p.is_finite() && *p >= 0.0) && (total - 1.0).abs() < 1e-9,
                    "{kind:?}: probabilities {row}"
                );
            }
        }
    }
}

pub fn run(data: &[u8]) {
    if let Ok(statistics) = Statistics::from_bytes(data) {
        check(&statistics);
    }
    let mut file = data.to_vec();
    file.extend_from_slice(blake3::hash(data).as_bytes());
    if let Ok(statistics) = Statistics::from_bytes(&file) {
        check(&statistics);
    }
}
