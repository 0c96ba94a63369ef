//! Drill-down: the rows behind an LF's figures (where it fires, conflicts or errs), sampled by
//! a hash of their keys.

use rayon::prelude::*;
use serde::Serialize;

use super::AnalysisError;
use crate::matrix::LabelMatrix;

/// Which rows a drill-down shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    /// Rows where the LF voted.
    Fires,
    /// Rows where the LF voted and another LF voted a different class.
    Conflicts,
    /// Rows where the LF's vote differs from the known gold label.
    Errors,
}

/// Errors choosing drill-down rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrillDownError {
    /// No LF of that name.
    #[error("no LF named `{name}` in the matrix; its LFs are: {known}")]
    UnknownLf {
        /// The name asked for.
        name: String,
        /// The matrix's LF names.
        known: String,
    },
    /// `errors` needs gold labels.
    #[error("showing an LF's errors needs gold labels: pass --gold FILE:COLUMN")]
    NoGold,
    /// Gold labels do not match the matrix rows.
    #[error(transparent)]
    Gold(#[from] AnalysisError),
}

/// The rows a drill-down shows and how many matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrillDown {
    /// The LF's column.
    pub lf: usize,
    /// What was asked for.
    pub show: Show,
    /// Rows that match.
    pub matching: usize,
    /// The sampled rows, in row order.
    pub rows: Vec<usize>,
}

/// Up to `sample` rows where LF `name` fired, conflicted, or erred (per `show`), chosen at
/// random by a seeded hash of each row's key (the same rows whatever the thread count or row
/// order) and returned in row order.
pub fn drill_down(
    matrix: &LabelMatrix,
    name: &str,
    show: Show,
    gold: Option<&[i64]>,
    sample: usize,
    seed: u64,
) -> Result<DrillDown, DrillDownError> {
    let lf = matrix
        .lf_names()
        .iter()
        .position(|lf| lf == name)
        .ok_or_else(|| DrillDownError::UnknownLf {
            name: name.to_owned(),
            known: matrix.lf_names().join(", "),
        })?;
    if let Some(gold) = gold
        && gold.len() != matrix.n_rows()
    {
        return Err(AnalysisError::GoldRows {
            gold: gold.len(),
            rows: matrix.n_rows(),
        }
        .into());
    }
    if show == Show::Errors && gold.is_none() {
        return Err(DrillDownError::NoGold);
    }
    let votes = matrix.votes();
    let matches = |row: usize| {
        let vote = votes[[row, lf]];
        vote >= 0
            && match show {
                Show::Fires => true,
                Show::Conflicts => votes
                    .row(row)
                    .iter()
                    .any(|other| *other >= 0 && *other != vote),
                Show::Errors => {
                    gold.is_some_and(|gold| gold[row] >= 0 && gold[row] != i64::from(vote))
                }
            }
    };
    let keys = matrix.row_keys().map(|(_, keys)| keys);
    let mut candidates: Vec<(u64, usize)> = (0..matrix.n_rows())
        .into_par_iter()
        .filter(|row| matches(*row))
        .map(|row| (crate::hard_labels::row_key_hash(keys, row, seed), row))
        .collect();
    let matching = candidates.len();
    if sample < candidates.len() {
        candidates.select_nth_unstable(sample);
        candidates.truncate(sample);
    }
    let mut rows: Vec<usize> = candidates.into_iter().map(|(_, row)| row).collect();
    rows.sort_unstable();
    Ok(DrillDown {
        lf,
        show,
        matching,
        rows,
    })
}
