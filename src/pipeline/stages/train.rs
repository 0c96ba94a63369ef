//! The train stage: the end model, trained on the train split's labels.

use std::time::Instant;

use serde_json::json;

use super::Cached;
use crate::endmodel::{TrainingRows, rows_kept};
use crate::io::labels_file::read_labels;
use crate::pipeline::cache::key;
use crate::pipeline::config::Project;
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::{PipelineError, Runner, stage_error, version};

/// Train the end model on the train split's labels, if the project has one.
pub(in crate::pipeline) fn train_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    labels: &Cached,
) -> Result<Option<Cached>, PipelineError> {
    let settings = &project.settings;
    let Some(end) = &settings.end_model else {
        return Ok(None);
    };
    let started = Instant::now();
    let text_column = &settings.data.text_column;
    let train_key = key(&json!({
        "kind": "train", "version": version(), "labels": labels.key, "options": end,
        "seed": settings.project.seed,
    }));
    let (entry, hit) = runner.cached("train", &train_key, |dir| {
        let labels_file = labels.entry.file("labels.parquet");
        let table = read_labels(&labels_file, std::slice::from_ref(text_column))
            .map_err(stage_error("train"))?;
        let texts = table.columns[0].1.texts();
        let keep = rows_kept(table.covered.as_deref(), end.include_uncovered, texts.len());
        let rows = TrainingRows {
            texts: &texts,
            targets: &table.probabilities,
            keep: &keep,
            hard: end.hard,
        };
        let mut classifier =
            crate::endmodel::train(&rows, &table.classes, &end.train_options(), None)
                .map_err(stage_error("train"))?;
        classifier.training.labels_hash = Some(labels.entry.files["labels.parquet"].clone());
        classifier
            .write(&dir.join("classifier.json"))
            .map_err(stage_error("train"))
    })?;
    runner.record("train", started, CacheOutcome::of_hit(hit), String::new());
    runner
        .outputs
        .push(("classifier.json".to_owned(), entry.file("classifier.json")));
    Ok(Some(Cached {
        key: train_key,
        entry,
    }))
}
