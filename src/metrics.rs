//! Scores of hard labels against gold labels: accuracy, macro-F1 and coverage, with abstains
//! (`-1`) counted as wrong; rows whose gold label is unknown (`-1`) are left out.

use serde::Serialize;

/// Scores of one set of hard labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// Rows with a known gold label.
    pub rows: usize,
    /// Fraction of those rows labelled right (an abstain is wrong).
    pub accuracy: f64,
    /// Mean over classes of F1 (a class with no gold rows and no predictions counts 0).
    pub macro_f1: f64,
    /// Fraction of those rows given a label (not `-1`).
    pub coverage: f64,
}

/// Score `labels` against `gold` for `cardinality` classes. Only rows where `keep` is true count.
pub fn score(
    labels: &[i8],
    gold: &[i64],
    cardinality: usize,
    keep: impl Fn(usize) -> bool,
) -> Scores {
    let (mut rows, mut right, mut labelled) = (0usize, 0usize, 0usize);
    let mut true_positive = vec![0usize; cardinality];
    let mut predicted = vec![0usize; cardinality];
    let mut actual = vec![0usize; cardinality];
    for (row, (label, truth)) in labels.iter().zip(gold).enumerate() {
        if *truth < 0 || !keep(row) {
            continue;
        }
        rows += 1;
        actual[*truth as usize] += 1;
        if *label >= 0 {
            labelled += 1;
            predicted[*label as usize] += 1;
            if i64::from(*label) == *truth {
                right += 1;
                true_positive[*truth as usize] += 1;
            }
        }
    }
    let f1: f64 = (0..cardinality)
        .map(|class| {
            let denominator = predicted[class] + actual[class];
            if denominator == 0 {
                0.0
            } else {
                2.0 * true_positive[class] as f64 / denominator as f64
            }
        })
        .sum();
    let fraction = |count: usize| {
        if rows == 0 {
            0.0
        } else {
            count as f64 / rows as f64
        }
    };
    Scores {
        rows,
        accuracy: fraction(right),
        macro_f1: f1 / cardinality as f64,
        coverage: fraction(labelled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: gold [0, 0, 1, 1, 1, -1], labels [0, 1, 1, -1, 1, 0]. Known rows: 5, right: 3
    /// (rows 0, 2, 4), labelled: 4. Class 0: tp 1, predicted 1, actual 2 -> F1 2/3. Class 1:
    /// tp 2, predicted 3, actual 3 -> F1 4/6. Macro-F1 2/3.
    #[test]
    fn scores_by_hand() {
        let scores = score(&[0, 1, 1, -1, 1, 0], &[0, 0, 1, 1, 1, -1], 2, |_| true);
        assert_eq!(scores.rows, 5);
        assert!((scores.accuracy - 0.6).abs() < 1e-12);
        assert!((scores.coverage - 0.8).abs() < 1e-12);
        assert!((scores.macro_f1 - 2.0 / 3.0).abs() < 1e-12);
        let only_first = score(&[0, 1, 1, -1, 1, 0], &[0, 0, 1, 1, 1, -1], 2, |row| row < 2);
        assert_eq!((only_first.rows, only_first.accuracy), (2, 0.5));
    }
}
