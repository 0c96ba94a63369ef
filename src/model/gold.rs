//! A few gold labels, used well: a labelled dev set (often 50-500 rows a user labelled by hand)
//! chooses among the label models by their cross-validated accuracy on it, and enters the fit
//! of the generative model with its rows' classes observed.
//!
//! The labelled rows are votes of the same LFs with a known class. For each candidate model
//! ([`CANDIDATES`]), the rows are split into up to [`FOLDS`] folds (by a seeded hash of the row,
//! so the split does not depend on row order); the model is fitted on the training rows plus
//! the labelled rows of the other folds, and scored on the held-out fold: the share of its rows
//! whose class the model ranks first (a tie counting as the share of tied classes that are
//! right, the expected accuracy of a random tie-break). The candidate with the highest mean
//! wins; the default generative model wins a tie, and another model must beat it by more than
//! one labelled row's worth. The winner is then fitted on every labelled row. The class balance,
//! unless the options give one, is the labelled rows' (add-one smoothed; see
//! [`ClassBalance::of_gold`]).
//!
//! In the generative model's likelihood a labelled row counts with its class observed (its
//! joint probability with the votes rather than the sum over classes), which pins the accuracies
//! and the balance where the votes alone leave them loose. The other models see the labelled
//! rows as more rows of votes.

use serde::{Deserialize, Serialize};

use super::{ClassBalance, FitError, FitOptions, FittedModel, ModelKind, fit};
use crate::matrix::LabelMatrix;
use crate::patterns::PatternCounts;

/// The models compared, the default first (it wins ties).
pub const CANDIDATES: [ModelKind; 5] = [
    ModelKind::Generative,
    ModelKind::Majority,
    ModelKind::DawidSkene,
    ModelKind::Snorkel,
    ModelKind::Hyper,
];

/// At most this many cross-validation folds.
pub const FOLDS: usize = 5;

/// Labelled rows: votes of the training matrix's LFs (same columns) and a class per row (`-1`
/// when unknown: skipped).
#[derive(Clone, Copy, Debug)]
pub struct GoldRows<'a> {
    /// The votes.
    pub matrix: &'a LabelMatrix,
    /// The classes.
    pub classes: &'a [i64],
}

/// One candidate's cross-validated accuracy on the labelled rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The model.
    pub model: ModelKind,
    /// Its mean held-out accuracy.
    pub accuracy: f64,
}

/// What choosing a model by the labelled rows measured, as the model file records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoldSelection {
    /// Labelled rows used.
    pub rows: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Every candidate's score, in [`CANDIDATES`] order.
    pub scores: Vec<CandidateScore>,
    /// The model fitted.
    pub chosen: ModelKind,
}

/// The labelled rows of `gold` with a class, as (row, class).
fn labelled(gold: &GoldRows, k: usize) -> Vec<(usize, i64)> {
    gold.classes
        .iter()
        .enumerate()
        .filter(|(_, class)| usize::try_from(**class).is_ok_and(|class| class < k))
        .map(|(row, class)| (row, *class))
        .collect()
}

/// A row's fold: a seeded hash of its position in the labelled matrix.
fn fold_of(row: usize, seed: u64, folds: usize) -> usize {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(&seed.to_le_bytes())
        .update(&(row as u64).to_le_bytes());
    let bytes = hasher.finalize();
    (u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes")) % folds as u64) as usize
}

/// `gold`'s classes with those of the rows `keep` rejects set to unknown.
fn classes_where(gold: &GoldRows, keep: impl Fn(usize) -> bool) -> Vec<i64> {
    gold.classes
        .iter()
        .enumerate()
        .map(|(row, class)| if keep(row) { *class } else { -1 })
        .collect()
}

/// The expected accuracy of `model` on the rows of `gold` that `rows` lists.
fn held_out_accuracy(model: &FittedModel, gold: &GoldRows, rows: &[(usize, i64)]) -> f64 {
    let k = model.classes.len();
    let mut out = vec![0.0; k];
    let mut right = 0.0;
    for (row, class) in rows {
        let votes: Vec<_> = gold
            .matrix
            .votes()
            .row(*row)
            .iter()
            .enumerate()
            .filter(|(_, vote)| **vote >= 0)
            .map(|(lf, vote)| crate::patterns::Vote::new(lf, *vote as u8))
            .collect();
        model.posterior(&votes, &mut out);
        let best = out.iter().cloned().fold(f64::MIN, f64::max);
        let tied = out.iter().filter(|p| **p >= best - 1e-12).count() as f64;
        if out[*class as usize] >= best - 1e-12 {
            right += 1.0 / tied;
        }
    }
    right
}

/// A model of `kind` fitted to `stats` ([`fit`]), or, with labelled rows, the model they
/// choose and enter ([`fit_with_gold`]; `kind` is then not used). What `labelgen fit` and the
/// Python package's `fit` call.
pub fn fit_with_optional_gold(
    kind: super::ModelKind,
    stats: &PatternCounts,
    gold: Option<GoldRows>,
    lfs: &[String],
    classes: &[String],
    options: &FitOptions,
    training_fingerprint: String,
) -> Result<FittedModel, FitError> {
    match gold {
        Some(gold) => fit_with_gold(stats, gold, lfs, classes, options, training_fingerprint),
        None => fit(kind, stats, lfs, classes, options, training_fingerprint),
    }
}

/// Choose a model by its cross-validated accuracy on `gold` and fit it on `stats` and every
/// labelled row (see the module documentation). `lfs`, `classes` and the fingerprint are the
/// training matrix's, as for [`fit`].
pub fn fit_with_gold(
    stats: &PatternCounts,
    gold: GoldRows,
    lfs: &[String],
    classes: &[String],
    options: &FitOptions,
    training_fingerprint: String,
) -> Result<FittedModel, FitError> {
    let k = stats.cardinality();
    if gold.matrix.n_lfs() != stats.n_lfs() || gold.classes.len() != gold.matrix.n_rows() {
        return Err(FitError::BadOption(format!(
            "the labelled rows have {} LFs and {} classes for {} rows; the training matrix has {} \
             LFs",
            gold.matrix.n_lfs(),
            gold.classes.len(),
            gold.matrix.n_rows(),
            stats.n_lfs()
        )));
    }
    let rows = labelled(&gold, k);
    if rows.is_empty() {
        return Err(FitError::NoData(
            "no labelled row has a class: give gold labels (class ids or names) for some rows"
                .to_owned(),
        ));
    }
    let options = FitOptions {
        class_balance: match &options.class_balance {
            ClassBalance::Auto => {
                ClassBalance::of_gold(gold.classes, k).expect("rows are labelled")
            }
            given => given.clone(),
        },
        ..options.clone()
    };
    let folds = FOLDS.min(rows.len());
    let mut scores = Vec::with_capacity(CANDIDATES.len());
    for kind in CANDIDATES {
        let mut right = 0.0;
        if folds >= 2 {
            for fold in 0..folds {
                let training =
                    classes_where(&gold, |row| fold_of(row, options.seed, folds) != fold);
                let held: Vec<(usize, i64)> = rows
                    .iter()
                    .copied()
                    .filter(|(row, _)| fold_of(*row, options.seed, folds) == fold)
                    .collect();
                let stats = stats.with_labelled(gold.matrix, &training);
                let model = fit(kind, &stats, lfs, classes, &options, String::new())?;
                right += held_out_accuracy(&model, &gold, &held);
            }
        }
        scores.push(CandidateScore {
            model: kind,
            accuracy: right / rows.len() as f64,
        });
    }
    let default = scores[0].accuracy;
    let margin = 1.0 / rows.len() as f64;
    let chosen = scores
        .iter()
        .skip(1)
        .filter(|score| score.accuracy > default + margin)
        .max_by(|left, right| left.accuracy.total_cmp(&right.accuracy))
        .map_or(ModelKind::Generative, |score| score.model);
    let all = stats.with_labelled(gold.matrix, gold.classes);
    let mut model = fit(chosen, &all, lfs, classes, &options, training_fingerprint)?;
    model.diagnostics.gold_selection = Some(GoldSelection {
        rows: rows.len(),
        folds,
        scores,
        chosen,
    });
    Ok(model)
}
