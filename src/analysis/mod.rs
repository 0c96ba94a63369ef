//! LF analysis: coverage, overlap, conflict and accuracy per LF, pairwise overlap and conflict
//! rates, per-LF confusion matrices against gold labels, and the rows behind them (drill-down).
//!
//! The per-LF figures use Snorkel's `LFAnalysis.lf_summary` definitions (fractions of all `n`
//! rows), so users moving from Snorkel recognise them:
//!
//! - `Coverage`: rows where the LF voted;
//! - `Overlaps`: rows where the LF voted and at least one other LF voted too;
//! - `Conflicts`: rows where the LF voted and the row holds at least two different votes (from
//!   any LFs: Snorkel's row-level definition, so an LF agreeing with one side of someone else's
//!   disagreement counts);
//! - `Correct` / `Incorrect`: votes equal / unequal to the gold label, over rows whose gold label
//!   is known; `Emp. Acc.` = Correct / (Correct + Incorrect), with a 95 % Wilson interval.
//!   (Snorkel counts a vote on a row of unknown gold as wrong in `Emp. Acc.`; here such rows are
//!   left out. An LF that never voted on a gold row has no accuracy, where Snorkel prints 0.)
//!
//! Everything is counted in integers in one parallel pass over row chunks and merged, so the
//! result is exact and does not depend on the thread count.

use serde::Serialize;

use crate::matrix::LabelMatrix;
use crate::model::FittedModel;

mod counts;
mod drill_down;

use counts::{Counts, count};
pub use drill_down::{DrillDown, DrillDownError, Show, drill_down};

/// The 97.5 % quantile of the standard normal distribution.
const Z_95: f64 = 1.959_963_984_540_054;

/// Errors analysing a label matrix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// Gold labels do not match the matrix rows.
    #[error(
        "{gold} gold labels for {rows} matrix rows; the gold file must hold the same rows in the same order"
    )]
    GoldRows {
        /// Gold labels given.
        gold: usize,
        /// Matrix rows.
        rows: usize,
    },
    /// A gold label is not a class.
    #[error(
        "gold label {value} on row {row} (counting from 0) is not a class (0..{cardinality}, or \
         -1 = unknown)"
    )]
    GoldClass {
        /// The 0-based row.
        row: usize,
        /// The label.
        value: i64,
        /// Number of classes.
        cardinality: usize,
    },
    /// The model's classes differ from the matrix's.
    #[error("the model's classes {model:?} differ from the matrix's {matrix:?}")]
    ModelClasses {
        /// The model's classes.
        model: Vec<String>,
        /// The matrix's classes.
        matrix: Vec<String>,
    },
    /// The model was fitted on other LFs, so its accuracies are not the matrix LFs'.
    #[error("the model does not fit the matrix: {0}")]
    ModelLfs(String),
}

/// Per-LF statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LfSummary {
    /// Column index.
    pub j: usize,
    /// LF name.
    pub name: String,
    /// The classes the LF voted, as class ids.
    pub polarity: Vec<usize>,
    /// Fraction of rows where the LF voted.
    pub coverage: f64,
    /// Fraction of rows where the LF and at least one other LF voted.
    pub overlaps: f64,
    /// Fraction of rows where the LF voted and the row holds two different votes.
    pub conflicts: f64,
    /// Fraction of rows where the LF voted each class.
    pub class_coverage: Vec<f64>,
    /// Votes equal to the known gold label.
    pub correct: Option<u64>,
    /// Votes different from the known gold label.
    pub incorrect: Option<u64>,
    /// `correct / (correct + incorrect)`; `None` without gold or without votes on gold rows.
    pub empirical_accuracy: Option<f64>,
    /// 95 % Wilson interval of the empirical accuracy.
    pub empirical_accuracy_interval: Option<[f64; 2]>,
    /// The fitted model's estimate of the LF's accuracy.
    pub learned_accuracy: Option<f64>,
}

/// Matrix-level figures (fractions of all rows).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatrixSummary {
    /// Rows.
    pub rows: usize,
    /// LFs.
    pub lfs: usize,
    /// Class names.
    pub classes: Vec<String>,
    /// Rows at least one LF voted on.
    pub label_coverage: f64,
    /// Rows at least two LFs voted on.
    pub label_overlap: f64,
    /// Rows holding two different votes.
    pub label_conflict: f64,
    /// Rows where two or more classes share the most votes (majority vote has a tie).
    pub tie_fraction: f64,
    /// Fraction of all votes cast for each class.
    pub vote_share: Vec<f64>,
    /// Rows with a known gold label, when gold was given.
    pub gold_rows: Option<usize>,
    /// Class distribution of the known gold labels.
    pub gold_balance: Option<Vec<f64>>,
    /// The fitted model's class balance.
    pub model_balance: Option<Vec<f64>>,
}

/// Pairwise rates between LFs (`m x m`, symmetric; the diagonal holds each LF's coverage).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pairwise {
    /// Fraction of rows both LFs voted on.
    pub overlap: Vec<Vec<f64>>,
    /// Fraction of rows both LFs voted on with different votes.
    pub conflict: Vec<Vec<f64>>,
}

/// A full analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Matrix-level figures.
    pub matrix: MatrixSummary,
    /// One entry per LF, in column order.
    pub lfs: Vec<LfSummary>,
    /// Pairwise overlap and conflict.
    pub pairwise: Pairwise,
    /// Per LF, with gold: `confusion[j][gold][vote + 1]` counts (column 0 = abstained).
    pub confusion: Option<Vec<Vec<Vec<u64>>>>,
}

/// The 95 % Wilson score interval of `successes` out of `trials`.
pub fn wilson_interval(successes: u64, trials: u64) -> Option<[f64; 2]> {
    if trials == 0 {
        return None;
    }
    let (s, n) = (successes as f64, trials as f64);
    let p = s / n;
    let z2 = Z_95 * Z_95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// Analyse `matrix`, with gold labels (`-1` = unknown, one per row) and a fitted model whose
/// per-LF accuracy estimates fill `learned_accuracy` (matched by LF name).
pub fn analyze(
    matrix: &LabelMatrix,
    gold: Option<&[i64]>,
    model: Option<&FittedModel>,
) -> Result<Analysis, AnalysisError> {
    check_inputs(matrix, gold, model)?;
    let (n, m, k) = (matrix.n_rows(), matrix.n_lfs(), matrix.cardinality());
    let counts = count(matrix.votes().view(), k, gold);
    let lfs = lf_summaries(matrix, &counts, gold.is_some(), model);
    let pairwise = pairwise(&counts, &lfs, n);
    let confusion = gold.map(|_| {
        (0..m)
            .map(|j| {
                (0..k)
                    .map(|y| {
                        let start = (j * k + y) * (k + 1);
                        counts.confusion[start..start + k + 1].to_vec()
                    })
                    .collect()
            })
            .collect()
    });
    Ok(Analysis {
        matrix: matrix_summary(matrix, &counts, gold.is_some(), model),
        lfs,
        pairwise,
        confusion,
    })
}

/// Refuse gold labels of another length or outside the classes, and a model of other classes
/// or LFs.
fn check_inputs(
    matrix: &LabelMatrix,
    gold: Option<&[i64]>,
    model: Option<&FittedModel>,
) -> Result<(), AnalysisError> {
    let (n, k) = (matrix.n_rows(), matrix.cardinality());
    if let Some(gold) = gold {
        if gold.len() != n {
            return Err(AnalysisError::GoldRows {
                gold: gold.len(),
                rows: n,
            });
        }
        if let Some((row, value)) = gold
            .iter()
            .enumerate()
            .find(|(_, value)| !(-1..k as i64).contains(value))
        {
            return Err(AnalysisError::GoldClass {
                row,
                value: *value,
                cardinality: k,
            });
        }
    }
    if let Some(model) = model
        && model.classes != matrix.classes()
    {
        return Err(AnalysisError::ModelClasses {
            model: model.classes.clone(),
            matrix: matrix.classes().to_vec(),
        });
    }
    if let Some(message) = model.and_then(|model| model.lf_mismatch(matrix.lf_names())) {
        return Err(AnalysisError::ModelLfs(message));
    }
    Ok(())
}

/// `count` of `of` rows as a fraction (0 of none).
fn fraction(count: u64, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 / of as f64
    }
}

/// One summary per LF, in column order.
fn lf_summaries(
    matrix: &LabelMatrix,
    counts: &Counts,
    with_gold: bool,
    model: Option<&FittedModel>,
) -> Vec<LfSummary> {
    let (n, m, k) = (matrix.n_rows(), matrix.n_lfs(), matrix.cardinality());
    let fraction = |count: u64| fraction(count, n);
    let learned = |name: &str| {
        model.and_then(|model| {
            let index = model.lfs.iter().position(|lf| lf == name)?;
            model.lf_accuracy[index]
        })
    };
    (0..m)
        .map(|j| {
            let votes = &counts.class_votes[j * k..(j + 1) * k];
            let (correct, incorrect) = match with_gold {
                true => {
                    let table = &counts.confusion[j * k * (k + 1)..(j + 1) * k * (k + 1)];
                    let correct: u64 = (0..k).map(|y| table[y * (k + 1) + y + 1]).sum();
                    let voted: u64 = (0..k)
                        .map(|y| {
                            table[y * (k + 1) + 1..(y + 1) * (k + 1)]
                                .iter()
                                .sum::<u64>()
                        })
                        .sum();
                    (Some(correct), Some(voted - correct))
                }
                false => (None, None),
            };
            let trials = correct.zip(incorrect).map(|(c, i)| (c, c + i));
            LfSummary {
                j,
                name: matrix.lf_names()[j].clone(),
                polarity: (0..k).filter(|class| votes[*class] > 0).collect(),
                coverage: fraction(votes.iter().sum()),
                overlaps: fraction(counts.overlaps[j]),
                conflicts: fraction(counts.conflicts[j]),
                class_coverage: votes.iter().map(|count| fraction(*count)).collect(),
                correct,
                incorrect,
                empirical_accuracy: trials
                    .filter(|(_, total)| *total > 0)
                    .map(|(c, total)| c as f64 / total as f64),
                empirical_accuracy_interval: trials
                    .and_then(|(c, total)| wilson_interval(c, total)),
                learned_accuracy: learned(&matrix.lf_names()[j]),
            }
        })
        .collect()
}

/// Pairwise overlap (the diagonal: each LF's coverage) and conflict, as fractions of `n` rows.
fn pairwise(counts: &Counts, lfs: &[LfSummary], n: usize) -> Pairwise {
    let m = lfs.len();
    let mut overlap = vec![vec![0.0; m]; m];
    let mut conflict = vec![vec![0.0; m]; m];
    for a in 0..m {
        overlap[a][a] = lfs[a].coverage;
        for b in a + 1..m {
            overlap[a][b] = fraction(counts.both[a * m + b], n);
            overlap[b][a] = overlap[a][b];
            conflict[a][b] = fraction(counts.disagree[a * m + b], n);
            conflict[b][a] = conflict[a][b];
        }
    }
    Pairwise { overlap, conflict }
}

/// The whole matrix's figures: coverage, overlap, conflict, ties, the vote share per class,
/// the gold balance and the model's.
fn matrix_summary(
    matrix: &LabelMatrix,
    counts: &Counts,
    with_gold: bool,
    model: Option<&FittedModel>,
) -> MatrixSummary {
    let (n, m, k) = (matrix.n_rows(), matrix.n_lfs(), matrix.cardinality());
    let total_votes: u64 = counts.class_votes.iter().sum();
    let vote_share = (0..k)
        .map(|class| {
            let votes: u64 = (0..m).map(|j| counts.class_votes[j * k + class]).sum();
            fraction(votes, total_votes as usize)
        })
        .collect();
    let gold_rows = with_gold.then(|| counts.gold_classes.iter().sum::<u64>() as usize);
    let gold_balance = gold_rows.map(|rows| {
        counts
            .gold_classes
            .iter()
            .map(|count| fraction(*count, rows))
            .collect()
    });
    MatrixSummary {
        rows: n,
        lfs: m,
        classes: matrix.classes().to_vec(),
        label_coverage: fraction(counts.covered, n),
        label_overlap: fraction(counts.overlapped, n),
        label_conflict: fraction(counts.conflicted, n),
        tie_fraction: fraction(counts.tied, n),
        vote_share,
        gold_rows,
        gold_balance,
        model_balance: model.map(|model| model.class_balance.clone()),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::counts::BLOCK_ROWS;
    use super::*;

    /// The example matrix of Snorkel's `LFAnalysis` docstrings, with gold `[0, 1, 1, 0, ?]`.
    fn example() -> (LabelMatrix, Vec<i64>) {
        let votes = array![[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]];
        let names = vec!["a".into(), "b".into(), "c".into()];
        let matrix = LabelMatrix::new(votes, names, vec!["no".into(), "yes".into()]).unwrap();
        (matrix, vec![0, 1, 1, 0, -1])
    }

    fn close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    /// Figures from Snorkel's docstrings (coverage 0.8, overlap 0.6, conflict 0.2; per LF
    /// coverage [.4, .8, .4], overlaps [.4, .6, .4], conflicts [.2, .2, 0], polarities
    /// [[0, 1], [0], [0]]) and the rest counted by hand.
    #[test]
    fn statistics_by_hand() {
        let (matrix, gold) = example();
        let analysis = analyze(&matrix, Some(&gold), None).unwrap();
        let summary = &analysis.matrix;
        close(
            &[
                summary.label_coverage,
                summary.label_overlap,
                summary.label_conflict,
            ],
            &[0.8, 0.6, 0.2],
        );
        // Row 2 has one vote for each class: the only tie.
        close(&[summary.tie_fraction], &[0.2]);
        close(&summary.vote_share, &[7.0 / 8.0, 1.0 / 8.0]);
        assert_eq!(summary.gold_rows, Some(4));
        close(summary.gold_balance.as_deref().unwrap(), &[0.5, 0.5]);
        let lfs = &analysis.lfs;
        close(
            &lfs.iter().map(|lf| lf.coverage).collect::<Vec<_>>(),
            &[0.4, 0.8, 0.4],
        );
        close(
            &lfs.iter().map(|lf| lf.overlaps).collect::<Vec<_>>(),
            &[0.4, 0.6, 0.4],
        );
        close(
            &lfs.iter().map(|lf| lf.conflicts).collect::<Vec<_>>(),
            &[0.2, 0.2, 0.0],
        );
        assert_eq!(lfs[0].polarity, [0, 1]);
        assert_eq!(lfs[1].polarity, [0]);
        close(&lfs[0].class_coverage, &[0.2, 0.2]);
        close(&lfs[1].class_coverage, &[0.8, 0.0]);
        // Row 4's gold is unknown: a votes 1 on row 2 (right); b votes 0 on rows 0, 2, 3.
        assert_eq!((lfs[0].correct, lfs[0].incorrect), (Some(1), Some(0)));
        assert_eq!((lfs[1].correct, lfs[1].incorrect), (Some(2), Some(1)));
        close(&[lfs[1].empirical_accuracy.unwrap()], &[2.0 / 3.0]);
        // Wilson 95 % interval of 2 out of 3: 0.2077 to 0.9385 (published tables).
        let [low, high] = lfs[1].empirical_accuracy_interval.unwrap();
        assert!(
            (low - 0.2077).abs() < 1e-4 && (high - 0.9385).abs() < 1e-4,
            "{low} {high}"
        );
        assert_eq!(lfs[0].learned_accuracy, None);
        // Pairs: a and b both vote on rows 2 and 4 and disagree on row 2; a and c share row
        // 4; b and c share rows 0 and 4.
        close(&analysis.pairwise.overlap[0], &[0.4, 0.4, 0.2]);
        close(&analysis.pairwise.overlap[2], &[0.2, 0.4, 0.4]);
        close(&analysis.pairwise.conflict[0], &[0.0, 0.2, 0.0]);
        close(&analysis.pairwise.conflict[1], &[0.2, 0.0, 0.0]);
        // b's confusion: gold 0 rows 0 and 3 (voted 0); gold 1 rows 1 (abstained) and 2 (0).
        let confusion = analysis.confusion.as_ref().unwrap();
        assert_eq!(confusion[1], [vec![0, 2, 0], vec![1, 1, 0]]);
    }

    #[test]
    fn analysis_does_not_depend_on_thread_count() {
        let n = 3 * BLOCK_ROWS + 17;
        let votes =
            ndarray::Array2::from_shape_fn((n, 4), |(row, lf)| ((row * 7 + lf * 13) % 5) as i8 - 2)
                .mapv(|vote| vote.max(-1));
        let names = (0..4).map(|lf| format!("lf{lf}")).collect();
        let classes = vec!["a".into(), "b".into(), "c".into()];
        let matrix = LabelMatrix::new(votes, names, classes).unwrap();
        let gold: Vec<i64> = (0..n).map(|row| (row % 4) as i64 - 1).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = one.install(|| analyze(&matrix, Some(&gold), None).unwrap());
        assert_eq!(single, analyze(&matrix, Some(&gold), None).unwrap());
    }

    #[test]
    fn drill_down_finds_the_rows_and_samples_by_key() {
        let (matrix, gold) = example();
        let conflicts = drill_down(&matrix, "b", Show::Conflicts, None, 10, 1).unwrap();
        assert_eq!((conflicts.matching, conflicts.rows), (1, vec![2]));
        let errors = drill_down(&matrix, "b", Show::Errors, Some(&gold), 10, 1).unwrap();
        assert_eq!(errors.rows, [2]);
        let fires = drill_down(&matrix, "b", Show::Fires, None, 2, 7).unwrap();
        assert_eq!((fires.matching, fires.rows.len()), (4, 2));
        assert!(fires.rows.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            fires,
            drill_down(&matrix, "b", Show::Fires, None, 2, 7).unwrap()
        );
        assert!(matches!(
            drill_down(&matrix, "nope", Show::Fires, None, 2, 7),
            Err(DrillDownError::UnknownLf { .. })
        ));
        assert!(matches!(
            drill_down(&matrix, "b", Show::Errors, None, 2, 7),
            Err(DrillDownError::NoGold)
        ));
    }

    #[test]
    fn bad_gold_is_refused() {
        let (matrix, _) = example();
        assert!(matches!(
            analyze(&matrix, Some(&[0, 1]), None),
            Err(AnalysisError::GoldRows { gold: 2, rows: 5 })
        ));
        assert!(matches!(
            analyze(&matrix, Some(&[0, 1, 2, 0, 0]), None),
            Err(AnalysisError::GoldClass {
                row: 2,
                value: 2,
                ..
            })
        ));
    }
}
