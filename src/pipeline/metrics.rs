//! What a run measures, as written to `metrics.json`, the manifest and `model_selection.json`.
//! Fields are declared in alphabetical order: the files were first written from JSON maps,
//! which sort their keys, and stay byte for byte the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::labels::RowScores;

/// Scores of one method's labels on one gold split (random tie-breaks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodScores {
    /// Accuracy on every row with gold (an abstain is wrong).
    pub accuracy: f64,
    /// Accuracy on the rows some LF voted on.
    pub covered_accuracy: f64,
    /// Macro-F1 on the rows some LF voted on.
    pub covered_macro_f1: f64,
    /// Macro-F1 on every row with gold.
    pub macro_f1: f64,
    /// Rows with gold.
    pub rows: usize,
}

impl From<&RowScores> for MethodScores {
    fn from(scores: &RowScores) -> Self {
        let RowScores { all, covered } = scores;
        MethodScores {
            accuracy: all.accuracy,
            covered_accuracy: covered.accuracy,
            covered_macro_f1: covered.macro_f1,
            macro_f1: all.macro_f1,
            rows: all.rows,
        }
    }
}

/// The metrics of one gold split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Fraction of rows some LF voted on.
    pub coverage: f64,
    /// The end model's scores, when the project trains one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_model: Option<MethodScores>,
    /// The label model's scores.
    pub label_model: MethodScores,
    /// Majority vote's scores.
    pub majority_vote: MethodScores,
}

/// A method scored by a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Majority vote.
    MajorityVote,
    /// The label model.
    LabelModel,
    /// The end model.
    EndModel,
}

impl Method {
    /// Its name in `metrics.json`.
    pub fn name(self) -> &'static str {
        match self {
            Method::MajorityVote => "majority_vote",
            Method::LabelModel => "label_model",
            Method::EndModel => "end_model",
        }
    }
}

/// A score of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    /// Accuracy on every row with gold.
    Accuracy,
    /// Macro-F1 on every row with gold.
    MacroF1,
}

impl Score {
    /// Its name in `metrics.json`.
    pub fn name(self) -> &'static str {
        match self {
            Score::Accuracy => "accuracy",
            Score::MacroF1 => "macro_f1",
        }
    }
}

impl SplitMetrics {
    /// The scores of `method`, if it was scored.
    pub fn method(&self, method: Method) -> Option<&MethodScores> {
        match method {
            Method::MajorityVote => Some(&self.majority_vote),
            Method::LabelModel => Some(&self.label_model),
            Method::EndModel => self.end_model.as_ref(),
        }
    }

    /// The methods scored, in the order of their names.
    pub fn methods(&self) -> impl Iterator<Item = (Method, &MethodScores)> {
        [Method::EndModel, Method::LabelModel, Method::MajorityVote]
            .into_iter()
            .filter_map(|method| self.method(method).map(|scores| (method, scores)))
    }
}

impl MethodScores {
    /// One score.
    pub fn get(&self, score: Score) -> f64 {
        match score {
            Score::Accuracy => self.accuracy,
            Score::MacroF1 => self.macro_f1,
        }
    }
}

/// The metrics of a run, by gold split (`dev`, `test`).
pub type Metrics = BTreeMap<String, SplitMetrics>;

/// How `auto` chose the label model (`model_selection.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The rule.
    pub by: String,
    /// Every candidate, in the order they were fitted.
    pub candidates: Vec<Candidate>,
    /// The chosen model's kind.
    pub chosen: String,
}

/// A candidate model of `auto` and its dev scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its scores on the dev split.
    pub dev: MethodScores,
    /// Its name in the project file.
    pub model: String,
}

impl Selection {
    /// The candidates, best first: by dev accuracy, then macro-F1.
    pub fn ranked(&self) -> Vec<&Candidate> {
        let mut candidates: Vec<&Candidate> = self.candidates.iter().collect();
        let rank = |candidate: &Candidate| (candidate.dev.accuracy, candidate.dev.macro_f1);
        candidates.sort_by(|x, y| {
            rank(y)
                .partial_cmp(&rank(x))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        candidates
    }
}
