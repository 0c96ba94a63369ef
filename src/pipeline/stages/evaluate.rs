//! The evaluate stage: the label model, majority vote and the end model scored on each gold
//! split.

use std::time::Instant;

use serde_json::json;

use super::{Cached, Fitted, Matrices, Split};
use crate::endmodel::{Classifier, read_classifier};
use crate::io::open::read_columns;
use crate::labels::{score_model, score_probabilities};
use crate::model::{FittedModel, ModelKind, TieBreak, fit};
use crate::patterns::PatternCounts;
use crate::pipeline::cache::key;
use crate::pipeline::config::Project;
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::metrics::{MethodScores, Metrics, SplitMetrics};
use crate::pipeline::{PipelineError, Runner, stage_error, version};

/// Evaluate the label model, majority vote and the end model on the gold splits; returns the
/// metrics.
pub(in crate::pipeline) fn evaluate_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    matrices: &Matrices,
    fitted: &Fitted,
    classifier: Option<&Cached>,
) -> Result<Metrics, PipelineError> {
    let started = Instant::now();
    let settings = &project.settings;
    let gold_splits: Vec<&Split> = matrices
        .splits
        .iter()
        .filter(|split| split.gold_column.is_some())
        .collect();
    let evaluate_key = key(&json!({
        "kind": "evaluate", "version": version(), "model": fitted.key,
        "classifier": classifier.map(|cached| &cached.key),
        "train": matrices.key("train"), "options": settings.label_model,
        "seed": settings.project.seed,
        "splits": gold_splits.iter().map(|split| json!([split.name, matrices.key(split.name), split.hash, split.gold_column])).collect::<Vec<_>>(),
        "text": settings.data.text_column,
    }));
    let (entry, hit) = runner.cached("evaluate", &evaluate_key, |dir| {
        let metrics = if gold_splits.is_empty() {
            b"{}".to_vec()
        } else {
            let metrics = evaluate_splits(project, matrices, fitted, classifier, &gold_splits)?;
            serde_json::to_vec_pretty(&metrics).expect("json")
        };
        std::fs::write(dir.join("metrics.json"), metrics).map_err(stage_error("evaluate"))
    })?;
    let detail = format!("{} gold splits", gold_splits.len());
    runner.record("evaluate", started, CacheOutcome::of_hit(hit), detail);
    runner
        .outputs
        .push(("metrics.json".to_owned(), entry.file("metrics.json")));
    let bytes = std::fs::read(entry.file("metrics.json")).map_err(stage_error("evaluate"))?;
    serde_json::from_slice(&bytes).map_err(stage_error("evaluate"))
}

/// The metrics of every gold split, by split name.
pub(super) fn evaluate_splits(
    project: &Project,
    matrices: &Matrices,
    fitted: &Fitted,
    classifier: Option<&Cached>,
    gold_splits: &[&Split],
) -> Result<Metrics, PipelineError> {
    let model = fitted.model()?;
    let train = matrices.load("train")?;
    let stats = PatternCounts::from_matrix(&train);
    let majority = fit(
        ModelKind::Majority,
        &stats,
        train.lf_names(),
        train.classes(),
        &fitted.options,
        train.fingerprint(),
    )
    .map_err(stage_error("evaluate"))?;
    drop(train);
    let classifier = match classifier {
        Some(cached) => Some(
            read_classifier(&cached.entry.file("classifier.json"))
                .map_err(stage_error("evaluate"))?,
        ),
        None => None,
    };
    let models = [&model, &majority];
    let mut metrics = Metrics::new();
    for split in gold_splits {
        let entry = evaluate_split(project, matrices, models, classifier.as_ref(), split)?;
        metrics.insert(split.name.to_owned(), entry);
    }
    Ok(metrics)
}

/// One gold split's metrics: the label model's and majority vote's (`models`), and the end
/// model's if there is one.
pub(super) fn evaluate_split(
    project: &Project,
    matrices: &Matrices,
    [model, majority]: [&FittedModel; 2],
    classifier: Option<&Classifier>,
    split: &Split,
) -> Result<SplitMetrics, PipelineError> {
    let seed = project.settings.project.seed;
    let matrix = model
        .align(matrices.load(split.name)?)
        .map_err(stage_error("evaluate"))?;
    let gold = matrices.gold_of(split)?.expect("gold split");
    let scores = score_model(model, &matrix, &gold, TieBreak::Random, seed);
    let majority_scores = score_model(majority, &matrix, &gold, TieBreak::Random, seed);
    let mut entry = SplitMetrics {
        coverage: matrix.label_coverage(),
        end_model: None,
        label_model: MethodScores::from(&scores),
        majority_vote: MethodScores::from(&majority_scores),
    };
    if let Some(classifier) = classifier {
        let text_column = &project.settings.data.text_column;
        let columns = read_columns(&split.path, std::slice::from_ref(text_column))
            .map_err(stage_error("evaluate"))?;
        let probabilities = classifier.predict_proba(&columns[0].1.texts());
        let scores = score_probabilities(&probabilities, &matrix, &gold, TieBreak::Random, seed);
        entry.end_model = Some(MethodScores::from(&scores));
    }
    Ok(entry)
}
