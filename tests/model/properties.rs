//! Invariants of the label models.

use std::path::Path;

use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::matrix::LabelMatrix;
use labelgen::model::{FitOptions, ModelKind, fit};
use labelgen::patterns::PatternCounts;

fn youtube_train() -> LabelMatrix {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/youtube/train.json");
    read_matrix(&path, &ReadOptions::default()).unwrap().matrix
}

/// Permuting the LF columns permutes the per-LF parameters and leaves the probabilities alone
/// (up to floating-point summation order).
#[test]
fn permuting_lfs_permutes_only_the_parameters() {
    let matrix = youtube_train();
    let order: Vec<usize> = (0..matrix.n_lfs()).rev().collect();
    let names: Vec<String> = order
        .iter()
        .map(|lf| matrix.lf_names()[*lf].clone())
        .collect();
    let permuted = LabelMatrix::new(
        matrix.votes().select(ndarray::Axis(1), &order),
        names,
        matrix.classes().to_vec(),
    )
    .unwrap();
    for kind in [
        ModelKind::Generative,
        ModelKind::DawidSkene,
        ModelKind::Majority,
    ] {
        let fit_on = |m: &LabelMatrix| {
            fit(
                kind,
                &PatternCounts::from_matrix(m),
                m.lf_names(),
                m.classes(),
                &FitOptions::default(),
                String::new(),
            )
            .unwrap()
        };
        let (original, reversed) = (fit_on(&matrix), fit_on(&permuted));
        for (position, lf) in order.iter().enumerate() {
            match (original.lf_accuracy[*lf], reversed.lf_accuracy[position]) {
                (Some(left), Some(right)) => assert!(
                    (left - right).abs() < 1e-6,
                    "{kind:?} LF {lf}: {left} vs {right}"
                ),
                (left, right) => assert_eq!(left, right, "{kind:?} LF {lf}"),
            }
        }
        let (p, q) = (
            original.predict_proba(&matrix),
            reversed.predict_proba(&permuted),
        );
        let largest = p
            .iter()
            .zip(q.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(largest < 1e-6, "{kind:?}: probabilities moved by {largest}");
    }
}

/// On a matrix with more distinct vote rows than the fit samples from (65,536), so that the fit
/// takes the sampled start and EM path with its parallel passes, the thread count changes no
/// bit of the fitted model or of the probabilities.
#[test]
fn large_fits_do_not_depend_on_the_thread_count() {
    let (matrix, _) = crate::synthetic::synthetic(100_000, 24, 3, 5);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let stats = PatternCounts::from_matrix(&matrix);
            assert!(stats.len() > 65_536, "{} patterns", stats.len());
            let model = crate::synthetic::fit_generative(&matrix, &stats);
            assert!(model.diagnostics.converged, "{:?}", model.diagnostics);
            (
                serde_json::to_string(&model).unwrap(),
                matrix.lf_coverage(),
                matrix.covered(),
                model.predict_proba(&matrix),
            )
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "{threads} threads changed the output");
    }
}
