//! `labelgen run`: the whole pipeline of a project file, stage by stage, each stage's output
//! cached by the hash of exactly what it depends on.
//!
//! Stages: build plugin crates, apply (one cache entry per LF column and split, so editing one
//! LF re-applies only that LF), assemble the matrices, fit the label model (or pick the best
//! on dev gold with `auto`), analyze, label, train the end model, evaluate. Every output of a
//! run is copied to `<output>/<run-id>/` next to a `manifest.json` that records inputs and
//! their hashes, LF fingerprints, options, timings, cache hits, metrics and output hashes.
//!
//! Keys include labelgen's version, so a new version never reuses an old output. A run is
//! written to `<output>/.<run-id>.<pid>.partial` and renamed when complete, so an interrupted run
//! leaves earlier runs alone; cache entries are renamed into place whole and checked by hash
//! when read (see [`cache`]).

pub mod cache;
pub mod config;
pub mod manifest;
pub mod plugins;
pub mod scaffold;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use serde_json::json;

use crate::analysis::analyze;
use crate::apply::{ApplyOptions, NoProgress, apply, provenance};
use crate::endmodel::{TrainingRows, read_classifier, rows_kept};
use crate::io::gold::read_gold;
use crate::io::labels_file::write_labels;
use crate::io::matrix_file::write_matrix;
use crate::io::matrix_read::{ReadOptions, read_matrix};
use crate::io::source::read_columns;
use crate::labels::{LabelOptions, RowScores, label, score_model, score_probabilities};
use crate::lf::{LfInfo, LfSet, LfSource};
use crate::matrix::{LabelMatrix, RowKeys};
use crate::model::{
    ClassBalance, FitOptions, FittedModel, ModelKind, RecordedOptions, TieBreak, fit, read_model,
    write_model,
};
use crate::stats::PatternCounts;
use cache::{Cache, CacheError, Entry, ProjectLock, hash_file, key};
use config::Project;
use manifest::{InputRecord, LfRecord, Manifest, OutputRecord, StageRecord};

/// Errors of a pipeline run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The project file.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The cache or the lock.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// A plugin crate could not be built.
    #[error(transparent)]
    Plugin(#[from] plugins::BuildError),
    /// A stage failed.
    #[error("stage `{stage}`: {message}")]
    Stage {
        /// The stage.
        stage: String,
        /// What went wrong.
        message: String,
    },
}

fn stage_error(stage: &str) -> impl Fn(&dyn std::fmt::Display) -> PipelineError + '_ {
    move |error| PipelineError::Stage {
        stage: stage.to_owned(),
        message: error.to_string(),
    }
}

/// Receives news of a run as it goes (the CLI prints it; tests ignore it).
pub trait Events {
    /// A stage finished: its name, how its cache fared, seconds.
    fn stage(&self, _record: &StageRecord) {}
}

/// Ignores events.
pub struct Quiet;

impl Events for Quiet {}

/// A finished run.
#[derive(Debug)]
pub struct RunResult {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Where a project keeps its cache and lock.
pub fn state_dir(project: &Project) -> PathBuf {
    project.root.join(".labelgen")
}

/// The runs folder of a project.
pub fn runs_dir(project: &Project) -> PathBuf {
    project.path(&project.settings.project.output)
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A run id: UTC time to the second, then the first 6 hex digits of a hash of the time in
/// nanoseconds and the process id (two runs in one second still differ).
fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let salt = blake3::hash(format!("{}-{}", now.as_nanos(), std::process::id()).as_bytes());
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        &salt.to_hex()[..6]
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The time now as RFC 3339 UTC.
fn timestamp() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A split of the project's data.
struct Split {
    name: &'static str,
    path: PathBuf,
    hash: String,
    gold_column: Option<String>,
}

/// One split's matrix, assembled, with its cache key.
struct BuiltMatrix {
    key: String,
    entry: Entry,
}

/// State shared by the stages of one run.
struct Runner<'a> {
    cache: Cache,
    events: &'a dyn Events,
    stages: Vec<StageRecord>,
    outputs: Vec<(String, PathBuf)>,
    damaged: bool,
}

impl Runner<'_> {
    fn record(&mut self, name: &str, started: Instant, cache: &str, detail: String) {
        let record = StageRecord {
            name: name.to_owned(),
            seconds: started.elapsed().as_secs_f64(),
            cache: cache.to_owned(),
            detail,
        };
        self.events.stage(&record);
        self.stages.push(record);
    }

    /// Get `kind/key` from the cache, or build it with `produce`; returns the entry and
    /// whether it was a hit.
    fn cached(
        &mut self,
        kind: &str,
        key: &str,
        produce: impl FnOnce(&Path) -> Result<(), PipelineError>,
    ) -> Result<(Entry, bool), PipelineError> {
        let mut damaged = false;
        let found = self.cache.get(kind, key, &mut damaged);
        self.damaged |= damaged;
        match found {
            Some(entry) => Ok((entry, true)),
            None => Ok((self.cache.put(kind, key, produce)?, false)),
        }
    }
}

fn model_kind(name: &str) -> ModelKind {
    match name {
        "majority" => ModelKind::Majority,
        "dawid-skene" => ModelKind::DawidSkene,
        "snorkel" => ModelKind::Snorkel,
        "hyper" => ModelKind::Hyper,
        _ => ModelKind::Generative,
    }
}

/// A `[label_model]` class balance setting: `auto`, `uniform`, `estimated`, numbers, or `None`
/// for `dev` (the dev split's gold labels, counted in the fit stage) and for no setting.
fn balance_setting(key: &str, text: Option<&str>) -> Result<Option<ClassBalance>, PipelineError> {
    Ok(match text {
        None | Some("dev") => None,
        Some(text) => Some(text.parse().map_err(|_| PipelineError::Stage {
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

fn fit_options(project: &Project) -> Result<FitOptions, PipelineError> {
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

fn scores_json(scores: &RowScores) -> serde_json::Value {
    let RowScores { all, covered } = scores;
    json!({
        "accuracy": all.accuracy,
        "macro_f1": all.macro_f1,
        "covered_accuracy": covered.accuracy,
        "covered_macro_f1": covered.macro_f1,
        "rows": all.rows,
    })
}

fn read_keys(path: &Path, column: &str) -> Result<RowKeys, PipelineError> {
    let columns = read_columns(path, &[column.to_owned()]).map_err(|e| stage_error("apply")(&e))?;
    Ok(RowKeys::from_column(&columns[0].1))
}

/// The process id in the name of a run folder being written, `.<run-id>.<pid>.partial`.
fn partial_run_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".partial")?;
    rest.rsplit_once('.')?.1.parse().ok()
}

/// Run every stage of `project`.
pub fn run(project: &Project, events: &dyn Events) -> Result<RunResult, PipelineError> {
    let started_at = timestamp();
    let id = run_id();
    let run_started = Instant::now();
    let state = state_dir(project);
    let lock = ProjectLock::take(&state.join("lock"))?;
    let cache = Cache::open(&state.join("cache"))?;
    // What interrupted runs left: cache files being written (only runs holding the lock write
    // them) and run folders of processes that are gone.
    cache.remove_leftovers(&lock);
    cache::remove_all_in(&runs_dir(project), |name| {
        partial_run_owner(name).is_some_and(|pid| !crate::io::atomic::process_is_alive(pid))
    });
    let mut runner = Runner {
        cache,
        events,
        stages: Vec::new(),
        outputs: Vec::new(),
        damaged: false,
    };
    let settings = &project.settings;
    let seed = settings.project.seed;

    // Inputs: data files and LF files, hashed.
    let started = Instant::now();
    let mut splits = vec![Split {
        name: "train",
        path: project.path(&settings.data.train),
        hash: String::new(),
        gold_column: None,
    }];
    for (name, split) in [("dev", &settings.data.dev), ("test", &settings.data.test)] {
        if let Some(split) = split {
            splits.push(Split {
                name,
                path: project.path(&split.path),
                hash: String::new(),
                gold_column: Some(split.gold.clone()),
            });
        }
    }
    let mut inputs = Vec::new();
    for split in &mut splits {
        split.hash = hash_file(&split.path).map_err(|error| PipelineError::Stage {
            stage: "inputs".to_owned(),
            message: format!(
                "cannot read {} data `{}`: {error}",
                split.name,
                split.path.display()
            ),
        })?;
        inputs.push(InputRecord {
            role: format!("data.{}", split.name),
            path: split.path.display().to_string(),
            hash: split.hash.clone(),
        });
    }
    let mut sources = Vec::new();
    for file in &settings.lfs.files {
        let path = project.path(file);
        let hash = hash_file(&path).map_err(|error| PipelineError::Stage {
            stage: "inputs".to_owned(),
            message: format!("cannot read LF file `{}`: {error}", path.display()),
        })?;
        inputs.push(InputRecord {
            role: "lfs.file".to_owned(),
            path: path.display().to_string(),
            hash,
        });
        sources.push(LfSource::Declarative(path));
    }
    runner.record(
        "inputs",
        started,
        "-",
        format!("{} files hashed", inputs.len()),
    );

    // Plugins: built when their sources changed.
    let started = Instant::now();
    let mut built_any = false;
    for crate_dir in &settings.lfs.plugins {
        let crate_dir = project.path(crate_dir);
        let before = plugins::source_hash(&crate_dir)?;
        let plugin_key =
            |source: &str| key(&json!({"kind": "plugin", "version": version(), "source": source}));
        let (entry, hit) = runner.cached("plugin", &plugin_key(&before.all), |dir| {
            let library = plugins::build(&crate_dir, &state.join("cargo-target"))?;
            let name = library.file_name().expect("library file name");
            std::fs::copy(&library, dir.join(name)).map_err(|e| stage_error("plugins")(&e))?;
            Ok(())
        })?;
        built_any |= !hit;
        let mut source_hash = before.all;
        if !hit {
            // cargo writes (or updates) the crate's Cargo.lock when it builds: file the library
            // under the sources as the build left them too, so that the next run, with nothing
            // changed by the user, finds it and records the same input.
            let after = plugins::source_hash(&crate_dir)?;
            if after.all != source_hash && after.without_lock == before.without_lock {
                runner
                    .cache
                    .put::<PipelineError>("plugin", &plugin_key(&after.all), |dir| {
                        for name in entry.files.keys() {
                            std::fs::copy(entry.file(name), dir.join(name))
                                .map_err(|e| stage_error("plugins")(&e))?;
                        }
                        Ok(())
                    })?;
                source_hash = after.all;
            }
        }
        let (name, hash) = entry.files.iter().next().expect("one library");
        inputs.push(InputRecord {
            role: "lfs.plugin".to_owned(),
            path: crate_dir.display().to_string(),
            hash: format!("source {source_hash}, library {hash}"),
        });
        sources.push(LfSource::Plugin(entry.file(name)));
    }
    if !settings.lfs.plugins.is_empty() {
        let cache = if built_any { "miss" } else { "hit" };
        runner.record(
            "plugins",
            started,
            cache,
            format!("{} crates", settings.lfs.plugins.len()),
        );
    }

    let set = LfSet::load(&sources).map_err(|e| stage_error("lfs")(&e))?;
    let classes = set.classes().to_vec();
    let infos: Vec<LfInfo> = set.lfs().to_vec();
    drop(set);

    // Apply: one cache entry per (split, LF).
    let column_map = &settings.data.columns;
    let id_column = settings.data.id_column.clone();
    let mut matrices: BTreeMap<&'static str, BuiltMatrix> = BTreeMap::new();
    let memo: std::cell::RefCell<BTreeMap<&'static str, LabelMatrix>> = Default::default();
    for split in &splits {
        let started = Instant::now();
        let column_keys: Vec<String> = infos
            .iter()
            .map(|info| {
                key(&json!({
                    "kind": "lf-column", "version": version(), "data": split.hash,
                    "lf": info.name, "fingerprint": info.fingerprint,
                    "columns": column_map, "classes": classes,
                }))
            })
            .collect();
        let mut entries: Vec<Option<Entry>> = Vec::with_capacity(infos.len());
        let mut missing = BTreeSet::new();
        for (info, column_key) in infos.iter().zip(&column_keys) {
            let mut damaged = false;
            let found = runner.cache.get("lf-column", column_key, &mut damaged);
            runner.damaged |= damaged;
            if found.is_none() {
                missing.insert(info.name.clone());
            }
            entries.push(found);
        }
        let mut applied_keys: Option<RowKeys> = None;
        if !missing.is_empty() {
            let subset =
                LfSet::load_only(&sources, &missing).map_err(|e| stage_error("apply")(&e))?;
            let options = ApplyOptions {
                column_map: column_map.clone(),
                id_column: id_column.clone(),
                ..ApplyOptions::default()
            };
            let applied = apply(&subset, &split.path, &options, &NoProgress)
                .map_err(|e| stage_error("apply")(&e))?;
            applied_keys = applied.row_keys().map(|(_, keys)| keys.clone());
            for (index, name) in applied.lf_names().iter().enumerate() {
                let position = infos
                    .iter()
                    .position(|info| &info.name == name)
                    .expect("known LF");
                if entries[position].is_some() {
                    continue;
                }
                let column: Vec<u8> = applied
                    .lf_votes(index)
                    .iter()
                    .map(|vote| *vote as u8)
                    .collect();
                let entry = runner.cache.put::<PipelineError>(
                    "lf-column",
                    &column_keys[position],
                    |dir| {
                        std::fs::write(dir.join("votes.i8"), &column)
                            .map_err(|e| stage_error("apply")(&e))
                    },
                )?;
                entries[position] = Some(entry);
            }
        }
        let detail = format!(
            "{}: {} of {} LF columns applied",
            split.name,
            missing.len(),
            infos.len()
        );
        let cache = match missing.len() {
            0 => "hit",
            n if n == infos.len() => "miss",
            _ => "partial",
        };
        runner.record(&format!("apply.{}", split.name), started, cache, detail);

        // Assemble the matrix (cached by its columns).
        let started = Instant::now();
        let matrix_key = key(&json!({
            "kind": "matrix", "version": version(), "columns": column_keys,
            "id": id_column, "data": split.hash,
        }));
        let entries: Vec<Entry> = entries
            .into_iter()
            .map(|entry| entry.expect("every column"))
            .collect();
        let (entry, hit) = runner.cached("matrix", &matrix_key, |dir| {
            let columns: Vec<Vec<u8>> = entries
                .iter()
                .map(|entry| std::fs::read(entry.file("votes.i8")))
                .collect::<Result<_, _>>()
                .map_err(|e| stage_error("matrix")(&e))?;
            let n = columns.first().map_or(0, Vec::len);
            let votes =
                Array2::from_shape_fn((n, columns.len()), |(row, lf)| columns[lf][row] as i8);
            let names = infos.iter().map(|info| info.name.clone()).collect();
            let mut matrix = LabelMatrix::new(votes, names, classes.clone())
                .map_err(|e| stage_error("matrix")(&e))?;
            if let Some(id) = &id_column {
                let keys = match applied_keys.take() {
                    Some(keys) => keys,
                    None => read_keys(&split.path, id)?,
                };
                matrix = matrix
                    .with_row_keys(id.clone(), keys)
                    .map_err(|e| stage_error("matrix")(&e))?;
            }
            let data_hash = blake3::Hash::from_hex(&split.hash).expect("a hex hash");
            let matrix = matrix.with_provenance(provenance(
                &classes,
                &infos,
                &split.path,
                data_hash,
                column_map,
            ));
            write_matrix(&dir.join("L.parquet"), &matrix).map_err(|e| stage_error("matrix")(&e))?;
            memo.borrow_mut().insert(split.name, matrix);
            Ok(())
        })?;
        runner.record(
            &format!("matrix.{}", split.name),
            started,
            if hit { "hit" } else { "miss" },
            String::new(),
        );
        runner
            .outputs
            .push((format!("L_{}.parquet", split.name), entry.file("L.parquet")));
        matrices.insert(
            split.name,
            BuiltMatrix {
                key: matrix_key,
                entry,
            },
        );
    }
    // Each matrix is read at most once per run (or kept from when it was built).
    let load = |name: &'static str| -> Result<LabelMatrix, PipelineError> {
        if let Some(matrix) = memo.borrow().get(name) {
            return Ok(matrix.clone());
        }
        let path = matrices[name].entry.file("L.parquet");
        let matrix = read_matrix(&path, &ReadOptions::default())
            .map_err(|e| stage_error("matrix")(&e))?
            .matrix;
        memo.borrow_mut().insert(name, matrix.clone());
        Ok(matrix)
    };
    let gold_of = |split: &Split| -> Result<Option<Vec<i64>>, PipelineError> {
        match &split.gold_column {
            Some(column) => {
                let spec = format!("{}:{column}", split.path.display());
                read_gold(&spec, &classes)
                    .map(Some)
                    .map_err(|e| stage_error("gold")(&e))
            }
            None => Ok(None),
        }
    };
    let dev = splits.iter().find(|split| split.name == "dev");

    // Fit.
    let started = Instant::now();
    let options = fit_options(project)?;
    let model_name = settings.label_model.model.clone();
    // The options as the fit will use them (defaults filled in) beside the settings as written,
    // so a labelgen whose defaults changed does not reuse an old fit.
    let fit_key = key(&json!({
        "kind": "fit", "version": version(), "train": matrices["train"].key,
        "model": model_name, "options": settings.label_model, "seed": seed,
        "effective": RecordedOptions::of(&options),
        "dev": dev.map(|split| (&matrices["dev"].key, &split.hash, &split.gold_column)),
    }));
    let (fit_entry, hit) = runner.cached("fit", &fit_key, |dir| {
        let train = load("train")?;
        let stats = PatternCounts::from_matrix(&train);
        // The class balance of the dev split's gold labels, for `key = "dev"`, and its source.
        let dev_balance = |key: &str| -> Result<(ClassBalance, String), PipelineError> {
            let dev_split = dev.expect("`dev` needs [data.dev] (checked when reading the project)");
            let gold = gold_of(dev_split)?.expect("dev has gold");
            let balance = ClassBalance::of_gold(&gold, classes.len()).ok_or_else(|| {
                stage_error("fit")(&format!(
                    "[label_model] {key} = \"dev\": no row of {} has a gold label",
                    dev_split.path.display()
                ))
            })?;
            let source = format!(
                "gold labels of the dev split ({}:{})",
                dev_split.path.display(),
                dev_split.gold_column.as_deref().unwrap_or_default()
            );
            Ok((balance, source))
        };
        let mut options = options.clone();
        let mut balance_source = None;
        if settings.label_model.class_balance.as_deref() == Some("dev") {
            let (balance, source) = dev_balance("class_balance")?;
            options.class_balance = balance;
            balance_source = Some(source);
        }
        // The balance labels are computed with, when it replaces the fitted one.
        let label_balance = match settings.label_model.label_class_balance.as_deref() {
            None => None,
            Some("dev") => Some(dev_balance("label_class_balance")?),
            Some(text) => balance_setting("label_class_balance", Some(text))?
                .map(|balance| (balance, text.to_owned())),
        };
        let fit_one = |kind: ModelKind| {
            let fitted =
                fit(kind, &stats, train.lf_names(), train.classes(), &options, train.fingerprint())
                    .map_err(|e| stage_error("fit")(&e))?;
            // Majority vote has no prior (an `auto` candidate; configured alone, it is refused
            // when the project is read).
            match &label_balance {
                Some((balance, source)) if kind != ModelKind::Majority => fitted
                    .with_class_balance(balance, source)
                    .map_err(|e| stage_error("fit")(&format!("[label_model] label_class_balance: {e}"))),
                _ => Ok(fitted),
            }
        };
        let mut chosen = if model_name == "auto" {
            let dev_split = dev.expect("auto needs dev (checked when reading the project)");
            let dev_matrix = load("dev")?;
            let gold = gold_of(dev_split)?.expect("dev has gold");
            let mut candidates = Vec::new();
            let mut best: Option<(FittedModel, (f64, f64))> = None;
            for name in ["majority", "generative", "dawid-skene", "snorkel"] {
                let model = fit_one(model_kind(name))?;
                let scores = score_model(&model, &dev_matrix, &gold, TieBreak::Random, seed);
                candidates.push(json!({"model": name, "dev": scores_json(&scores)}));
                let rank = (scores.all.accuracy, scores.all.macro_f1);
                if best.as_ref().is_none_or(|(_, best_rank)| rank > *best_rank) {
                    best = Some((model, rank));
                }
            }
            let (model, _) = best.expect("four candidates");
            let selection = json!({"chosen": format!("{:?}", model.kind()), "by": "dev accuracy, then macro-F1 (random tie-break)", "candidates": candidates});
            std::fs::write(dir.join("selection.json"), serde_json::to_vec_pretty(&selection).expect("json"))
                .map_err(|e| stage_error("fit")(&e))?;
            model
        } else {
            fit_one(model_kind(&model_name))?
        };
        if let Some(source) = balance_source {
            chosen.record_class_balance_source(source);
        }
        write_model(&dir.join("model.json"), &chosen).map_err(|e| stage_error("fit")(&e))
    })?;
    runner.record(
        "fit",
        started,
        if hit { "hit" } else { "miss" },
        model_name.clone(),
    );
    runner
        .outputs
        .push(("model.json".to_owned(), fit_entry.file("model.json")));
    if fit_entry.files.contains_key("selection.json") {
        runner.outputs.push((
            "model_selection.json".to_owned(),
            fit_entry.file("selection.json"),
        ));
    }
    let model = || read_model(&fit_entry.file("model.json")).map_err(|e| stage_error("fit")(&e));

    // Analyze: the dev split with gold when there is one, else train.
    let started = Instant::now();
    let analyzed = dev.unwrap_or(&splits[0]);
    let analyze_key = key(&json!({
        "kind": "analyze", "version": version(), "matrix": matrices[analyzed.name].key,
        "gold": (&analyzed.hash, &analyzed.gold_column), "model": fit_key,
    }));
    let (analyze_entry, hit) = runner.cached("analyze", &analyze_key, |dir| {
        let matrix = load(analyzed.name)?;
        let gold = gold_of(analyzed)?;
        let fitted = model()?;
        let analysis = analyze(&matrix, gold.as_deref(), Some(&fitted))
            .map_err(|e| stage_error("analyze")(&e))?;
        std::fs::write(
            dir.join("summary.json"),
            crate::report::render_json(&analysis),
        )
        .map_err(|e| stage_error("analyze")(&e))?;
        let context = crate::report::html::ReportContext {
            matrix: format!("{} split ({})", analyzed.name, analyzed.path.display()),
            gold: analyzed.gold_column.clone(),
            model: Some(model_name.clone()),
            generated_by: format!("labelgen {}", version()),
            fingerprint: matrix.fingerprint(),
            samples: Vec::new(),
        };
        std::fs::write(
            dir.join("report.html"),
            crate::report::html::render_html(&analysis, &context),
        )
        .map_err(|e| stage_error("analyze")(&e))
    })?;
    runner.record(
        "analyze",
        started,
        if hit { "hit" } else { "miss" },
        analyzed.name.to_owned(),
    );
    runner.outputs.push((
        "lf_summary.json".to_owned(),
        analyze_entry.file("summary.json"),
    ));
    runner.outputs.push((
        "lf_report.html".to_owned(),
        analyze_entry.file("report.html"),
    ));

    // Label the train split (with its texts when an end model follows).
    let started = Instant::now();
    let end = settings.end_model.clone();
    let text_column = settings.data.text_column.clone();
    let label_key = key(&json!({
        "kind": "label", "version": version(), "model": fit_key,
        "matrix": matrices["train"].key, "data": splits[0].hash,
        "text": end.as_ref().map(|_| &text_column), "seed": seed,
    }));
    let (label_entry, hit) = runner.cached("label", &label_key, |dir| {
        let fitted = model()?;
        let matrix = fitted
            .align(load("train")?)
            .map_err(|e| stage_error("label")(&e))?;
        let source = match &end {
            Some(_) => read_columns(&splits[0].path, std::slice::from_ref(&text_column))
                .map_err(|e| stage_error("label")(&e))?,
            None => Vec::new(),
        };
        let options = LabelOptions {
            tie_break: TieBreak::Random,
            seed,
            filter_uncovered: false,
        };
        let labels = label(&fitted, &matrix, &options);
        write_labels(&dir.join("labels.parquet"), &labels.table(&matrix, &source))
            .map_err(|e| stage_error("label")(&e))
    })?;
    runner.record(
        "label",
        started,
        if hit { "hit" } else { "miss" },
        String::new(),
    );
    runner.outputs.push((
        "labels.parquet".to_owned(),
        label_entry.file("labels.parquet"),
    ));

    // Train the end model.
    let mut train_key = None;
    let mut classifier_entry = None;
    if let Some(end) = &end {
        let started = Instant::now();
        let this_key = key(&json!({
            "kind": "train", "version": version(), "labels": label_key, "options": end, "seed": seed,
        }));
        let (entry, hit) = runner.cached("train", &this_key, |dir| {
            let table = crate::io::labels_file::read_labels(
                &label_entry.file("labels.parquet"),
                std::slice::from_ref(&text_column),
            )
            .map_err(|e| stage_error("train")(&e))?;
            let texts = table.columns[0].1.texts();
            let keep = rows_kept(table.covered.as_deref(), end.include_uncovered, texts.len());
            let options = end.train_options();
            let rows = TrainingRows {
                texts: &texts,
                targets: &table.probabilities,
                keep: &keep,
                hard: end.hard,
            };
            let mut classifier = crate::endmodel::train(&rows, &table.classes, &options, None)
                .map_err(|e| stage_error("train")(&e))?;
            classifier.training.labels_hash = Some(label_entry.files["labels.parquet"].clone());
            classifier
                .write(&dir.join("classifier.json"))
                .map_err(|e| stage_error("train")(&e))
        })?;
        runner.record(
            "train",
            started,
            if hit { "hit" } else { "miss" },
            String::new(),
        );
        runner
            .outputs
            .push(("classifier.json".to_owned(), entry.file("classifier.json")));
        train_key = Some(this_key);
        classifier_entry = Some(entry);
    }

    // Evaluate on the gold splits.
    let started = Instant::now();
    let gold_splits: Vec<&Split> = splits
        .iter()
        .filter(|split| split.gold_column.is_some())
        .collect();
    let evaluate_key = key(&json!({
        "kind": "evaluate", "version": version(), "model": fit_key, "classifier": train_key,
        "train": matrices["train"].key, "options": settings.label_model, "seed": seed,
        "splits": gold_splits.iter().map(|split| json!([split.name, matrices[split.name].key, split.hash, split.gold_column])).collect::<Vec<_>>(),
        "text": text_column,
    }));
    let (evaluate_entry, hit) = runner.cached("evaluate", &evaluate_key, |dir| {
        if gold_splits.is_empty() {
            return std::fs::write(dir.join("metrics.json"), b"{}")
                .map_err(|e| stage_error("evaluate")(&e));
        }
        let fitted = model()?;
        let train = load("train")?;
        let stats = PatternCounts::from_matrix(&train);
        let majority = fit(
            ModelKind::Majority,
            &stats,
            train.lf_names(),
            train.classes(),
            &options,
            train.fingerprint(),
        )
        .map_err(|e| stage_error("evaluate")(&e))?;
        drop(train);
        let classifier = match &classifier_entry {
            Some(entry) => Some(
                read_classifier(&entry.file("classifier.json"))
                    .map_err(|e| stage_error("evaluate")(&e))?,
            ),
            None => None,
        };
        let mut metrics = serde_json::Map::new();
        for split in &gold_splits {
            let matrix = fitted
                .align(load(split.name)?)
                .map_err(|e| stage_error("evaluate")(&e))?;
            let gold = gold_of(split)?.expect("gold split");
            let scores = score_model(&fitted, &matrix, &gold, TieBreak::Random, seed);
            let majority_scores = score_model(&majority, &matrix, &gold, TieBreak::Random, seed);
            let mut entry = json!({
                "label_model": scores_json(&scores),
                "majority_vote": scores_json(&majority_scores),
                "coverage": matrix.label_coverage(),
            });
            if let Some(classifier) = &classifier {
                let columns = read_columns(&split.path, std::slice::from_ref(&text_column))
                    .map_err(|e| stage_error("evaluate")(&e))?;
                let texts = columns[0].1.texts();
                let probabilities = classifier.predict_proba(&texts);
                let scores =
                    score_probabilities(&probabilities, &matrix, &gold, TieBreak::Random, seed);
                entry["end_model"] = scores_json(&scores);
            }
            metrics.insert(split.name.to_owned(), entry);
        }
        std::fs::write(
            dir.join("metrics.json"),
            serde_json::to_vec_pretty(&metrics).expect("json"),
        )
        .map_err(|e| stage_error("evaluate")(&e))
    })?;
    runner.record(
        "evaluate",
        started,
        if hit { "hit" } else { "miss" },
        format!("{} gold splits", gold_splits.len()),
    );
    runner.outputs.push((
        "metrics.json".to_owned(),
        evaluate_entry.file("metrics.json"),
    ));
    let metrics: serde_json::Value = serde_json::from_slice(
        &std::fs::read(evaluate_entry.file("metrics.json"))
            .map_err(|e| stage_error("evaluate")(&e))?,
    )
    .map_err(|e| stage_error("evaluate")(&e))?;

    // The run folder: outputs copied in, the manifest, then renamed into place.
    let runs = runs_dir(project);
    std::fs::create_dir_all(&runs).map_err(|e| stage_error("run")(&e))?;
    let partial = runs.join(format!(".{id}.{}.partial", std::process::id()));
    std::fs::create_dir_all(&partial).map_err(|e| stage_error("run")(&e))?;
    let mut outputs = Vec::new();
    for (name, path) in &runner.outputs {
        // A copy, never a link: a run folder must not change when the cache or a later run's
        // files do (`std::fs::copy` lets the file system share blocks copy-on-write where it
        // can, as `copy_file_range` does on Btrfs and XFS).
        std::fs::copy(path, partial.join(name)).map_err(|e| stage_error("run")(&e))?;
        outputs.push(OutputRecord {
            path: name.clone(),
            hash: hash_file(path).map_err(|e| stage_error("run")(&e))?,
        });
    }
    let all_hits = runner
        .stages
        .iter()
        .all(|stage| stage.cache == "hit" || stage.cache == "-");
    // Under the lock, no other run can take the same number.
    let sequence = manifest::list_runs(&runs)
        .iter()
        .map(|run| run.sequence)
        .max()
        .map_or(1, |latest| latest + 1);
    let manifest = Manifest {
        format_version: manifest::MANIFEST_FORMAT_VERSION,
        run_id: id.clone(),
        sequence,
        started: started_at,
        seconds: run_started.elapsed().as_secs_f64(),
        labelgen_version: version().to_owned(),
        project: project.file.display().to_string(),
        seed,
        inputs,
        lfs: infos
            .iter()
            .map(|info| LfRecord {
                name: info.name.clone(),
                origin: format!("{:?}", info.origin),
                fingerprint: info.fingerprint.clone(),
            })
            .collect(),
        options: serde_json::to_value(settings).expect("settings serialise"),
        stages: runner.stages.clone(),
        nothing_changed: all_hits,
        damaged_cache_entries_rebuilt: runner.damaged,
        metrics,
        outputs,
    };
    std::fs::write(
        partial.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )
    .map_err(|e| stage_error("run")(&e))?;
    let dir = runs.join(&id);
    std::fs::rename(&partial, &dir).map_err(|e| stage_error("run")(&e))?;
    Ok(RunResult { dir, manifest })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings parse to balances; `dev` is left to the fit stage; a bad list names the key
    /// and what it takes (only `class_balance` can be estimated).
    #[test]
    fn class_balance_settings_parse_or_say_what_they_take() {
        let parsed = |key, text| balance_setting(key, Some(text)).map_err(|e| e.to_string());
        assert_eq!(
            parsed("class_balance", " 0.7, 0.3"),
            Ok(Some(ClassBalance::Given(vec![0.7, 0.3])))
        );
        assert_eq!(
            parsed("class_balance", "uniform"),
            Ok(Some(ClassBalance::Uniform))
        );
        assert_eq!(
            parsed("class_balance", "auto"),
            Ok(Some(ClassBalance::Auto))
        );
        assert_eq!(parsed("label_class_balance", "dev"), Ok(None));
        assert_eq!(balance_setting("class_balance", None).unwrap(), None);
        let error = parsed("class_balance", "0.9,x").unwrap_err();
        assert!(
            error.contains(
                "class_balance = \"0.9,x\": expected uniform, auto, estimated, dev or numbers"
            ),
            "{error}"
        );
        let error = parsed("label_class_balance", "0.9,x").unwrap_err();
        assert!(
            error.contains("label_class_balance = \"0.9,x\": expected uniform, dev or numbers"),
            "{error}"
        );
    }
}
