//! The fit stage: the label model from the project's settings, or `auto`'s choice on dev gold.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use super::{Fitted, Matrices};
use crate::labels::score_model;
use crate::matrix::LabelMatrix;
use crate::model::{
    ClassBalance, FitOptions, FittedModel, ModelKind, RecordedOptions, TieBreak, fit, write_model,
};
use crate::patterns::PatternCounts;
use crate::pipeline::cache::key;
use crate::pipeline::config::{ModelChoice, Project};
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::metrics::{Candidate, MethodScores, Selection};
use crate::pipeline::{PipelineError, Runner, stage_error, stage_failure, version};

/// Fit the label model on the train split (or choose one on dev gold with `auto`).
pub(in crate::pipeline) fn fit_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    matrices: &Matrices,
) -> Result<Fitted, PipelineError> {
    let started = Instant::now();
    let settings = &project.settings;
    let options = fit_options(project)?;
    let model_name = settings.label_model.model;
    // The options as the fit will use them (defaults filled in) beside the settings as written,
    // so a labelgen whose defaults changed does not reuse an old fit.
    let dev = matrices.dev();
    let fit_key = key(&json!({
        "kind": "fit", "version": version(), "train": matrices.key("train"),
        "model": model_name, "options": settings.label_model, "seed": settings.project.seed,
        "effective": RecordedOptions::of(&options),
        "dev": dev.map(|split| (matrices.key("dev"), &split.hash, &split.gold_column)),
    }));
    let (entry, hit) = runner.cached("fit", &fit_key, |dir| {
        fit_model(project, matrices, &options, dir)
    })?;
    runner.record(
        "fit",
        started,
        CacheOutcome::of_hit(hit),
        model_name.to_string(),
    );
    runner
        .outputs
        .push(("model.json".to_owned(), entry.file("model.json")));
    if entry.files.contains_key("selection.json") {
        runner.outputs.push((
            "model_selection.json".to_owned(),
            entry.file("selection.json"),
        ));
    }
    Ok(Fitted {
        key: fit_key,
        entry,
        options,
    })
}

/// Fits one kind of model on the train split with the project's balances.
pub(super) struct Fitter {
    train: LabelMatrix,
    stats: PatternCounts,
    options: FitOptions,
    /// The balance labels are computed with, when it replaces the fitted one, and its source.
    label_balance: Option<(ClassBalance, String)>,
}

impl Fitter {
    fn fit(&self, kind: ModelKind) -> Result<FittedModel, PipelineError> {
        let train = &self.train;
        let fitted = fit(
            kind,
            &self.stats,
            train.lf_names(),
            train.classes(),
            &self.options,
            train.fingerprint(),
        )
        .map_err(stage_error("fit"))?;
        // Majority vote has no prior (an `auto` candidate; configured alone, it is refused
        // when the project is read).
        match &self.label_balance {
            Some((balance, source)) if kind != ModelKind::Majority => {
                fitted.with_class_balance(balance, source).map_err(|e| {
                    stage_failure("fit", format!("[label_model] label_class_balance: {e}"))
                })
            }
            _ => Ok(fitted),
        }
    }
}

/// Fit (or choose) the model and write it, with `selection.json` for `auto`, into `dir`.
pub(super) fn fit_model(
    project: &Project,
    matrices: &Matrices,
    options: &FitOptions,
    dir: &Path,
) -> Result<(), PipelineError> {
    let section = &project.settings.label_model;
    let train = matrices.load("train")?;
    let stats = PatternCounts::from_matrix(&train);
    let mut options = options.clone();
    let mut balance_source = None;
    if section.class_balance.as_deref() == Some("dev") {
        let (balance, source) = dev_balance(matrices, "class_balance")?;
        options.class_balance = balance;
        balance_source = Some(source);
    }
    let label_balance = match section.label_class_balance.as_deref() {
        None => None,
        Some("dev") => Some(dev_balance(matrices, "label_class_balance")?),
        Some(text) => balance_setting("label_class_balance", Some(text))?
            .map(|balance| (balance, text.to_owned())),
    };
    let fitter = Fitter {
        train,
        stats,
        options,
        label_balance,
    };
    let mut chosen = match section.model {
        ModelChoice::Auto => select_model(&fitter, matrices, project.settings.project.seed, dir)?,
        ModelChoice::Kind(kind) => fitter.fit(kind)?,
    };
    if let Some(source) = balance_source {
        chosen.record_class_balance_source(source);
    }
    write_model(&dir.join("model.json"), &chosen).map_err(stage_error("fit"))
}

/// The class balance of the dev split's gold labels, for `key = "dev"`, and its source.
pub(super) fn dev_balance(
    matrices: &Matrices,
    key: &str,
) -> Result<(ClassBalance, String), PipelineError> {
    let dev_split = matrices
        .dev()
        .expect("`dev` needs [data.dev] (checked when reading the project)");
    let gold = matrices.gold_of(dev_split)?.expect("dev has gold");
    let balance = ClassBalance::of_gold(&gold, matrices.classes.len()).ok_or_else(|| {
        stage_failure(
            "fit",
            format!(
                "[label_model] {key} = \"dev\": no row of {} has a gold label",
                dev_split.path.display()
            ),
        )
    })?;
    let source = format!(
        "gold labels of the dev split ({}:{})",
        dev_split.path.display(),
        dev_split.gold_column.as_deref().unwrap_or_default()
    );
    Ok((balance, source))
}

/// `auto`: the candidate with the best dev accuracy, then macro-F1; the ranking is written to
/// `selection.json` in `dir`.
pub(super) fn select_model(
    fitter: &Fitter,
    matrices: &Matrices,
    seed: u64,
    dir: &Path,
) -> Result<FittedModel, PipelineError> {
    let dev_split = matrices
        .dev()
        .expect("auto needs dev (checked when reading the project)");
    let dev_matrix = matrices.load("dev")?;
    let gold = matrices.gold_of(dev_split)?.expect("dev has gold");
    let mut candidates = Vec::new();
    let mut best: Option<(FittedModel, (f64, f64))> = None;
    for kind in [
        ModelKind::Majority,
        ModelKind::Generative,
        ModelKind::DawidSkene,
        ModelKind::Snorkel,
    ] {
        let model = fitter.fit(kind)?;
        let scores = score_model(&model, &dev_matrix, &gold, TieBreak::Random, seed);
        candidates.push(Candidate {
            dev: MethodScores::from(&scores),
            model: ModelChoice::Kind(kind).name().to_owned(),
        });
        let rank = (scores.all.accuracy, scores.all.macro_f1);
        if best.as_ref().is_none_or(|(_, best_rank)| rank > *best_rank) {
            best = Some((model, rank));
        }
    }
    let (model, _) = best.expect("four candidates");
    let selection = Selection {
        by: "dev accuracy, then macro-F1 (random tie-break)".to_owned(),
        candidates,
        chosen: format!("{:?}", model.kind()),
    };
    std::fs::write(
        dir.join("selection.json"),
        serde_json::to_vec_pretty(&selection).expect("json"),
    )
    .map_err(stage_error("fit"))?;
    Ok(model)
}

/// A `[label_model]` class balance setting: `auto`, `uniform`, `estimated`, numbers, or `None`
/// for `dev` (the dev split's gold labels, counted in the fit stage) and for no setting.
pub(in crate::pipeline) fn balance_setting(
    key: &str,
    text: Option<&str>,
) -> Result<Option<ClassBalance>, PipelineError> {
    Ok(match text {
        None | Some("dev") => None,
        Some(text) => Some(text.parse().map_err(|_| PipelineError::Stage {
            source: None,
            stage: "fit".to_owned(),
            message: format!(
                "[label_model] {key} = \"{text}\": expected uniform, {}dev or numbers",
                // Only a fit estimates or tests a balance.
                if key == "class_balance" {
                    "auto, estimated, "
                } else {
                    ""
                }
            ),
        })?),
    })
}

pub(super) fn fit_options(project: &Project) -> Result<FitOptions, PipelineError> {
    let section = &project.settings.label_model;
    let defaults = FitOptions::default();
    // "dev" is replaced by the dev split's balance in the fit stage.
    let class_balance =
        balance_setting("class_balance", section.class_balance.as_deref())?.unwrap_or_default();
    Ok(FitOptions {
        class_balance,
        l2: section.l2.unwrap_or(defaults.l2),
        max_iterations: section
            .max_iterations
            .map_or(defaults.max_iterations, |value| value as u64),
        tolerance: section.tolerance.unwrap_or(defaults.tolerance),
        seed: project.settings.project.seed,
    })
}
