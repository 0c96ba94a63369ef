//! The label stage: the train split's probabilistic labels (with its texts for the end model).

use std::time::Instant;

use serde_json::json;

use super::{Cached, Fitted, Matrices};
use crate::io::labels_file::write_labels;
use crate::io::open::read_columns;
use crate::labels::{LabelOptions, label};
use crate::model::TieBreak;
use crate::pipeline::cache::key;
use crate::pipeline::config::Project;
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::{PipelineError, Runner, stage_error, version};

/// Label the train split (with its texts when an end model follows).
pub(in crate::pipeline) fn label_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    matrices: &Matrices,
    fitted: &Fitted,
) -> Result<Cached, PipelineError> {
    let started = Instant::now();
    let settings = &project.settings;
    let (seed, text_column) = (settings.project.seed, &settings.data.text_column);
    let with_text = settings.end_model.is_some();
    let train = matrices.train();
    let label_key = key(&json!({
        "kind": "label", "version": version(), "model": fitted.key,
        "matrix": matrices.key("train"), "data": train.hash,
        "text": with_text.then_some(text_column), "seed": seed,
    }));
    let (entry, hit) = runner.cached("label", &label_key, |dir| {
        let model = fitted.model()?;
        let matrix = model
            .align(matrices.load("train")?)
            .map_err(stage_error("label"))?;
        let source = match with_text {
            true => read_columns(&train.path, std::slice::from_ref(text_column))
                .map_err(stage_error("label"))?,
            false => Vec::new(),
        };
        let options = LabelOptions {
            tie_break: TieBreak::Random,
            seed,
            filter_uncovered: false,
        };
        let labels = label(&model, &matrix, &options);
        write_labels(&dir.join("labels.parquet"), &labels.table(&matrix, &source))
            .map_err(stage_error("label"))
    })?;
    runner.record("label", started, CacheOutcome::of_hit(hit), String::new());
    runner
        .outputs
        .push(("labels.parquet".to_owned(), entry.file("labels.parquet")));
    Ok(Cached {
        key: label_key,
        entry,
    })
}
