//! Labelling: a fitted model's probabilistic and hard labels of a label matrix, and their
//! scores on gold labels. The one implementation behind `labelgen label` and `labelgen score`,
//! the pipeline's label and evaluate stages and the Python package's `Model.label`.

use ndarray::Array2;
use serde::Serialize;

use crate::hard_labels::{TieBreak, hard_labels};
use crate::io::labels_file::{LABELS_FORMAT_VERSION, LabelTable, LabelsMetadata};
use crate::matrix::LabelMatrix;
use crate::metrics::{Scores, score};
use crate::model::FittedModel;
use crate::table::Column;

/// How to turn probabilities into the labels written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelOptions {
    /// How to label rows whose most probable classes tie.
    pub tie_break: TieBreak,
    /// Seed of random tie-breaks.
    pub seed: u64,
    /// Leave out rows no LF voted on.
    pub filter_uncovered: bool,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions {
            tie_break: TieBreak::Abstain,
            seed: 123,
            filter_uncovered: false,
        }
    }
}

/// The labels of a matrix's rows, ready to write with [`Labels::table`].
#[derive(Clone, Debug)]
pub struct Labels {
    /// Rows x classes, `P(Y | votes)`.
    pub probabilities: Array2<f64>,
    /// Hard labels (`-1`: a tie left unlabelled).
    pub labels: Vec<i8>,
    /// Whether any LF voted, per row.
    pub covered: Vec<bool>,
    /// Which rows to write.
    pub keep: Vec<bool>,
    /// What the labels file records about them.
    pub metadata: LabelsMetadata,
}

/// Label `matrix` (already aligned to `model`'s LFs) with `model`.
pub fn label(model: &FittedModel, matrix: &LabelMatrix, options: &LabelOptions) -> Labels {
    let probabilities = model.predict_proba(matrix);
    let labels = hard_labels(
        &probabilities,
        matrix.row_keys().map(|(_, keys)| keys),
        options.tie_break,
        options.seed,
    );
    let covered = matrix.covered();
    let keep = covered
        .iter()
        .map(|covered| *covered || !options.filter_uncovered)
        .collect();
    let metadata = metadata_of(model, matrix, options);
    Labels {
        probabilities,
        labels,
        covered,
        keep,
        metadata,
    }
}

/// The metadata of labels that `model` gave `matrix`.
fn metadata_of(
    model: &FittedModel,
    matrix: &LabelMatrix,
    options: &LabelOptions,
) -> LabelsMetadata {
    LabelsMetadata {
        kind: "labels".to_owned(),
        format_version: LABELS_FORMAT_VERSION,
        labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
        classes: model.classes.clone(),
        model_kind: format!("{:?}", model.kind()).to_lowercase(),
        model_training_fingerprint: model.training_fingerprint.clone(),
        matrix_fingerprint: matrix.fingerprint(),
        tie_break: options.tie_break,
        seed: options.seed,
        filter_uncovered: options.filter_uncovered,
        class_balance: Some(model.class_balance.clone()),
        class_balance_source: Some("model".to_owned()),
    }
}

impl Labels {
    /// The table to write: `matrix`'s row keys, the `source` columns carried over, then the
    /// labels.
    pub fn table<'a>(
        &'a self,
        matrix: &'a LabelMatrix,
        source: &'a [(String, Column)],
    ) -> LabelTable<'a> {
        LabelTable {
            keys: matrix.row_keys(),
            source,
            probabilities: &self.probabilities,
            labels: &self.labels,
            covered: Some(&self.covered),
            keep: &self.keep,
            metadata: &self.metadata,
        }
    }

    /// Rows written.
    pub fn written(&self) -> usize {
        self.keep.iter().filter(|keep| **keep).count()
    }

    /// Rows written without a hard label.
    pub fn without_hard_label(&self) -> usize {
        self.labels
            .iter()
            .zip(&self.keep)
            .filter(|(label, keep)| **keep && **label < 0)
            .count()
    }
}

/// A note on the votes of `matrix` that name classes their LF never voted in the model's
/// training matrix, or `None` when there are none.
pub fn outside_training_note(model: &FittedModel, matrix: &LabelMatrix) -> Option<String> {
    let outside = model.votes_outside_training(matrix);
    if outside.is_empty() {
        return None;
    }
    let listed: Vec<String> = outside
        .iter()
        .map(|(lf, class, count)| format!("`{lf}` {class} x{count}"))
        .collect();
    Some(format!(
        "note: {} votes name classes their LF never voted in the training matrix ({}); the \
         model has no parameter for them and counts each as an LF right {:.0} % of the time",
        outside.iter().map(|(_, _, count)| count).sum::<usize>(),
        listed.join(", "),
        100.0 * crate::model::generative::prior_accuracy(model.classes.len())
    ))
}

/// Scores of hard labels on every row with gold and on the rows some LF voted on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowScores {
    /// Every row with a gold label.
    pub all: Scores,
    /// The covered rows with a gold label.
    pub covered: Scores,
}

/// Scores on `gold` of the hard labels of `probabilities`, rows of `matrix` (whose row keys
/// seed random tie-breaks and whose votes say which rows are covered).
pub fn score_probabilities(
    probabilities: &Array2<f64>,
    matrix: &LabelMatrix,
    gold: &[i64],
    tie_break: TieBreak,
    seed: u64,
) -> RowScores {
    let labels = hard_labels(
        probabilities,
        matrix.row_keys().map(|(_, keys)| keys),
        tie_break,
        seed,
    );
    let covered = matrix.covered();
    let k = probabilities.ncols();
    RowScores {
        all: score(&labels, gold, k, |_| true),
        covered: score(&labels, gold, k, |row| covered[row]),
    }
}

/// Scores on `gold` of `model`'s labels of `matrix`.
pub fn score_model(
    model: &FittedModel,
    matrix: &LabelMatrix,
    gold: &[i64],
    tie_break: TieBreak,
    seed: u64,
) -> RowScores {
    score_probabilities(&model.predict_proba(matrix), matrix, gold, tie_break, seed)
}
