//! The stages of a pipeline run, each a function of the run's state so far: hash the inputs,
//! build plugins, apply and assemble each split's matrix, fit, analyze, label, train and
//! evaluate. [`super::run`] calls them in order; each caches its output (see [`super::cache`]).
//! One file a stage; the state they share is here.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::cache::Entry;
use super::manifest::InputRecord;
use super::{PipelineError, stage_error};
use crate::io::gold::read_gold;
use crate::io::matrix_read::{ReadOptions, read_matrix};
use crate::lf::{LfInfo, LfSource};
use crate::matrix::LabelMatrix;
use crate::model::{FitOptions, FittedModel, read_model};

mod analyze;
mod evaluate;
mod fit;
mod inputs;
mod label;
mod matrices;
mod train;

pub(super) use analyze::analyze_stage;
pub(super) use evaluate::evaluate_stage;
#[cfg(test)]
pub(super) use fit::balance_setting;
pub(super) use fit::fit_stage;
pub(super) use inputs::{build_plugins, hash_inputs, load_lfs};
pub(super) use label::label_stage;
pub(super) use matrices::build_matrices;
pub(super) use train::train_stage;

/// A split of the project's data.
pub(super) struct Split {
    pub(super) name: &'static str,
    pub(super) path: PathBuf,
    pub(super) hash: String,
    pub(super) gold_column: Option<String>,
}

/// A run's inputs: the data splits, the records of every input file, the LF sources.
pub(super) struct Inputs {
    pub(super) splits: Vec<Split>,
    pub(super) records: Vec<InputRecord>,
    pub(super) sources: Vec<LfSource>,
}

/// The LFs of a run: where they come from, the classes, and each LF's name and fingerprint.
pub(super) struct Lfs {
    pub(super) sources: Vec<LfSource>,
    pub(super) classes: Vec<String>,
    pub(super) infos: Vec<LfInfo>,
}

/// One split's matrix, assembled, with its cache key.
struct BuiltMatrix {
    key: String,
    entry: Entry,
}

/// The splits and their matrices; each matrix is read at most once per run (or kept from
/// when it was built).
pub(super) struct Matrices {
    splits: Vec<Split>,
    classes: Vec<String>,
    built: BTreeMap<&'static str, BuiltMatrix>,
    memo: RefCell<BTreeMap<&'static str, LabelMatrix>>,
}

impl Matrices {
    fn key(&self, name: &str) -> &str {
        &self.built[name].key
    }

    fn train(&self) -> &Split {
        &self.splits[0]
    }

    fn dev(&self) -> Option<&Split> {
        self.splits.iter().find(|split| split.name == "dev")
    }

    fn load(&self, name: &'static str) -> Result<LabelMatrix, PipelineError> {
        if let Some(matrix) = self.memo.borrow().get(name) {
            return Ok(matrix.clone());
        }
        let path = self.built[name].entry.file("L.parquet");
        let matrix = read_matrix(&path, &ReadOptions::default())
            .map_err(stage_error("matrix"))?
            .matrix;
        self.memo.borrow_mut().insert(name, matrix.clone());
        Ok(matrix)
    }

    fn gold_of(&self, split: &Split) -> Result<Option<Vec<i64>>, PipelineError> {
        match &split.gold_column {
            Some(column) => {
                let spec = format!("{}:{column}", split.path.display());
                read_gold(&spec, &self.classes)
                    .map(Some)
                    .map_err(stage_error("gold"))
            }
            None => Ok(None),
        }
    }
}

/// The label model of a run: its cache key and entry, and the options it was fitted with.
pub(super) struct Fitted {
    key: String,
    entry: Entry,
    options: FitOptions,
}

impl Fitted {
    fn model(&self) -> Result<FittedModel, PipelineError> {
        read_model(&self.entry.file("model.json")).map_err(stage_error("fit"))
    }
}

/// A cached output: its key and entry.
pub(super) struct Cached {
    key: String,
    entry: Entry,
}
