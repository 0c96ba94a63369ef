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

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScores {
    /// The class name.
    pub class: String,
    /// Of the rows labelled this class, the fraction whose gold is this class.
    pub precision: f64,
    /// Of the rows whose gold is this class, the fraction labelled this class.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Rows whose gold is this class.
    pub support: usize,
}

/// Hard labels evaluated against gold: the [`Scores`], each class's scores and the confusion
/// matrix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Rows with a known gold label.
    pub rows: usize,
    /// See [`Scores::accuracy`].
    pub accuracy: f64,
    /// See [`Scores::macro_f1`].
    pub macro_f1: f64,
    /// See [`Scores::coverage`].
    pub coverage: f64,
    /// Per class, in class order.
    pub classes: Vec<ClassScores>,
    /// `confusion[gold][predicted + 1]` (column 0: no label).
    pub confusion: Vec<Vec<usize>>,
}

/// Evaluate `labels` against `gold` (same rows; `-1` gold rows left out) for the classes
/// `classes`.
pub fn evaluate(labels: &[i8], gold: &[i64], classes: &[String]) -> Evaluation {
    let k = classes.len();
    let scores = score(labels, gold, k, |_| true);
    let mut confusion = vec![vec![0usize; k + 1]; k];
    for (label, truth) in labels.iter().zip(gold) {
        if *truth >= 0 {
            confusion[*truth as usize][(i16::from(*label) + 1) as usize] += 1;
        }
    }
    let classes = (0..k)
        .map(|class| {
            let right = confusion[class][class + 1];
            let predicted: usize = confusion.iter().map(|row| row[class + 1]).sum();
            let support: usize = confusion[class].iter().sum();
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let (precision, recall) = (ratio(right, predicted), ratio(right, support));
            ClassScores {
                class: classes[class].clone(),
                precision,
                recall,
                f1: if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                },
                support,
            }
        })
        .collect();
    Evaluation {
        rows: scores.rows,
        accuracy: scores.accuracy,
        macro_f1: scores.macro_f1,
        coverage: scores.coverage,
        classes,
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: gold [0, 0, 1, 1, 1, -1], labels [0, 1, 1, -1, 1, 0]. Known rows: 5, right: 3
    /// (rows 0, 2, 4), labelled: 4. Class 0: tp 1, predicted 1, actual 2 -> F1 2/3. Class 1:
    /// tp 2, predicted 3, actual 3 -> F1 4/6. Macro-F1 2/3.
    /// The labels of `scores_by_hand`: confusion (gold rows, predicted columns, column 0 no
    /// label) [[0, 1, 1], [1, 0, 2]]. Class 0: precision 1/1, recall 1/2, F1 2/3; class 1:
    /// precision 2/3, recall 2/3, F1 2/3.
    #[test]
    fn evaluation_by_hand() {
        let classes = ["A".to_owned(), "B".to_owned()];
        let evaluation = evaluate(&[0, 1, 1, -1, 1, 0], &[0, 0, 1, 1, 1, -1], &classes);
        assert_eq!(evaluation.confusion, [[0, 1, 1], [1, 0, 2]]);
        assert_eq!(evaluation.rows, 5);
        let [a, b] = &evaluation.classes[..] else {
            panic!("two classes")
        };
        assert_eq!((a.precision, a.recall, a.support), (1.0, 0.5, 2));
        assert!((a.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((b.recall - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(b.support, 3);
    }

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
