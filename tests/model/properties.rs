//! Invariants of the label models.

use std::path::Path;

use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::matrix::LabelMatrix;
use labelgen::model::{FitOptions, ModelKind, fit};
use labelgen::stats::PatternCounts;

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
    let (n, m, k) = (100_000, 24, 3);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let votes = ndarray::Array2::from_shape_fn((n, m), |(row, lf)| {
        let truth = row % k;
        if uniform() < 0.3 {
            let right = uniform() < 0.55 + 0.015 * lf as f64;
            (if right {
                truth
            } else {
                (truth + 1 + lf % 2) % k
            }) as i8
        } else {
            -1
        }
    });
    let names: Vec<String> = (0..m).map(|lf| format!("lf{lf}")).collect();
    let classes: Vec<String> = (0..k).map(|class| class.to_string()).collect();
    let matrix = LabelMatrix::new(votes, names, classes).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let stats = PatternCounts::from_matrix(&matrix);
            assert!(stats.len() > 65_536, "{} patterns", stats.len());
            let model = fit(
                ModelKind::Generative,
                &stats,
                matrix.lf_names(),
                matrix.classes(),
                &FitOptions::default(),
                matrix.fingerprint(),
            )
            .unwrap();
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
