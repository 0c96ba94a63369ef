//! The stages of a pipeline run, each a function of the run's state so far: hash the inputs,
//! build plugins, apply and assemble each split's matrix, fit, analyze, label, train and
//! evaluate. [`super::run`] calls them in order; each caches its output (see [`super::cache`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use serde_json::json;

use super::cache::{Entry, hash_file, key};
use super::config::{ModelChoice, Project};
use super::manifest::{CacheOutcome, InputRecord};
use super::metrics::{Candidate, MethodScores, Metrics, Selection, SplitMetrics};
use super::{PipelineError, Runner, plugins, stage_error, stage_failure, version};
use crate::analysis::analyze;
use crate::apply::{ApplyOptions, NoProgress, apply};
use crate::endmodel::{Classifier, TrainingRows, read_classifier, rows_kept};
use crate::io::gold::read_gold;
use crate::io::labels_file::{read_labels, write_labels};
use crate::io::matrix_file::write_matrix;
use crate::io::matrix_read::{ReadOptions, read_matrix};
use crate::io::open::read_columns;
use crate::labels::{LabelOptions, label, score_model, score_probabilities};
use crate::lf::{LfInfo, LfSet, LfSource};
use crate::matrix::{LabelMatrix, RowKeys};
use crate::model::{
    ClassBalance, FitOptions, FittedModel, ModelKind, RecordedOptions, TieBreak, fit, read_model,
    write_model,
};
use crate::provenance::provenance;
use crate::stats::PatternCounts;

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

/// Inputs: data files and LF files, hashed.
pub(super) fn hash_inputs(
    runner: &mut Runner<'_>,
    project: &Project,
) -> Result<Inputs, PipelineError> {
    let started = Instant::now();
    let settings = &project.settings;
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
            source: Some(Box::new(error)),
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
            source: Some(Box::new(error)),
        })?;
        inputs.push(InputRecord {
            role: "lfs.file".to_owned(),
            path: path.display().to_string(),
            hash,
        });
        sources.push(LfSource::Declarative(path));
    }
    let detail = format!("{} files hashed", inputs.len());
    runner.record("inputs", started, CacheOutcome::NotCached, detail);
    Ok(Inputs {
        splits,
        records: inputs,
        sources,
    })
}

/// Plugins: each crate built when its sources changed; its library joins `sources`.
pub(super) fn build_plugins(
    runner: &mut Runner<'_>,
    project: &Project,
    state: &Path,
    inputs: &mut Inputs,
) -> Result<(), PipelineError> {
    let started = Instant::now();
    let plugins = &project.settings.lfs.plugins;
    let mut built_any = false;
    for crate_dir in plugins {
        let crate_dir = project.path(crate_dir);
        let (entry, source_hash, hit) = build_plugin(runner, &crate_dir, state)?;
        built_any |= !hit;
        let (name, hash) = entry.files.iter().next().expect("one library");
        inputs.records.push(InputRecord {
            role: "lfs.plugin".to_owned(),
            path: crate_dir.display().to_string(),
            hash: format!("source {source_hash}, library {hash}"),
        });
        inputs.sources.push(LfSource::Plugin(entry.file(name)));
    }
    if !plugins.is_empty() {
        let cache = CacheOutcome::of_hit(!built_any);
        runner.record(
            "plugins",
            started,
            cache,
            format!("{} crates", plugins.len()),
        );
    }
    Ok(())
}

/// One plugin crate's library from the cache or built: its entry, the hash of its sources and
/// whether it was a hit.
fn build_plugin(
    runner: &mut Runner<'_>,
    crate_dir: &Path,
    state: &Path,
) -> Result<(Entry, String, bool), PipelineError> {
    let before = plugins::source_hash(crate_dir)?;
    let plugin_key =
        |source: &str| key(&json!({"kind": "plugin", "version": version(), "source": source}));
    let (entry, hit) = runner.cached("plugin", &plugin_key(&before.all), |dir| {
        let library = plugins::build(crate_dir, &state.join("cargo-target"))?;
        let name = library.file_name().expect("library file name");
        std::fs::copy(&library, dir.join(name)).map_err(stage_error("plugins"))?;
        Ok(())
    })?;
    let mut source_hash = before.all;
    if !hit {
        // cargo writes (or updates) the crate's Cargo.lock when it builds: file the library
        // under the sources as the build left them too, so that the next run, with nothing
        // changed by the user, finds it and records the same input.
        let after = plugins::source_hash(crate_dir)?;
        if after.all != source_hash && after.without_lock == before.without_lock {
            runner
                .cache
                .put::<PipelineError>("plugin", &plugin_key(&after.all), |dir| {
                    for name in entry.files.keys() {
                        std::fs::copy(entry.file(name), dir.join(name))
                            .map_err(stage_error("plugins"))?;
                    }
                    Ok(())
                })?;
            source_hash = after.all;
        }
    }
    Ok((entry, source_hash, hit))
}

/// The LFs of `sources`.
pub(super) fn load_lfs(sources: Vec<LfSource>) -> Result<Lfs, PipelineError> {
    let set = LfSet::load(&sources).map_err(stage_error("lfs"))?;
    let classes = set.classes().to_vec();
    let infos = set.lfs().to_vec();
    Ok(Lfs {
        sources,
        classes,
        infos,
    })
}

/// Every split's matrix: its LF columns applied (or from the cache), then assembled.
pub(super) fn build_matrices(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    splits: Vec<Split>,
) -> Result<Matrices, PipelineError> {
    let mut matrices = Matrices {
        splits: Vec::new(),
        classes: lfs.classes.clone(),
        built: BTreeMap::new(),
        memo: RefCell::default(),
    };
    for split in splits {
        let columns = apply_split(runner, project, lfs, &split)?;
        let built = assemble_matrix(runner, project, lfs, &matrices, &split, columns)?;
        runner.outputs.push((
            format!("L_{}.parquet", split.name),
            built.entry.file("L.parquet"),
        ));
        matrices.built.insert(split.name, built);
        matrices.splits.push(split);
    }
    Ok(matrices)
}

/// A split's LF columns: their cache keys and entries, and the row keys if the LFs were
/// applied now.
struct Columns {
    keys: Vec<String>,
    entries: Vec<Entry>,
    row_keys: Option<RowKeys>,
}

/// Apply: one cache entry per (split, LF); only the LFs missing from the cache are applied.
fn apply_split(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    split: &Split,
) -> Result<Columns, PipelineError> {
    let started = Instant::now();
    let data = &project.settings.data;
    let keys: Vec<String> = lfs
        .infos
        .iter()
        .map(|info| {
            key(&json!({
                "kind": "lf-column", "version": version(), "data": split.hash,
                "lf": info.name, "fingerprint": info.fingerprint,
                "columns": data.columns, "classes": lfs.classes,
            }))
        })
        .collect();
    let mut entries: Vec<Option<Entry>> = Vec::with_capacity(lfs.infos.len());
    let mut missing = BTreeSet::new();
    for (info, column_key) in lfs.infos.iter().zip(&keys) {
        let mut damaged = false;
        let found = runner.cache.get("lf-column", column_key, &mut damaged);
        runner.damaged |= damaged;
        if found.is_none() {
            missing.insert(info.name.clone());
        }
        entries.push(found);
    }
    let mut row_keys = None;
    if !missing.is_empty() {
        row_keys = apply_missing(runner, project, lfs, split, &missing, &keys, &mut entries)?;
    }
    let detail = format!(
        "{}: {} of {} LF columns applied",
        split.name,
        missing.len(),
        lfs.infos.len()
    );
    let cache = match missing.len() {
        0 => CacheOutcome::Hit,
        n if n == lfs.infos.len() => CacheOutcome::Miss,
        _ => CacheOutcome::Partial,
    };
    runner.record(&format!("apply.{}", split.name), started, cache, detail);
    let entries = entries
        .into_iter()
        .map(|entry| entry.expect("every column"))
        .collect();
    Ok(Columns {
        keys,
        entries,
        row_keys,
    })
}

/// Apply the `missing` LFs to `split` and file each one's votes in the cache; returns the
/// row keys read.
fn apply_missing(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    split: &Split,
    missing: &BTreeSet<String>,
    keys: &[String],
    entries: &mut [Option<Entry>],
) -> Result<Option<RowKeys>, PipelineError> {
    let data = &project.settings.data;
    let subset = LfSet::load_only(&lfs.sources, missing).map_err(stage_error("apply"))?;
    let options = ApplyOptions {
        column_map: data.columns.clone(),
        id_column: data.id_column.clone(),
        ..ApplyOptions::default()
    };
    let applied =
        apply(&subset, &split.path, &options, &NoProgress).map_err(stage_error("apply"))?;
    for (index, name) in applied.lf_names().iter().enumerate() {
        let position = lfs
            .infos
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
        let entry = runner
            .cache
            .put::<PipelineError>("lf-column", &keys[position], |dir| {
                std::fs::write(dir.join("votes.i8"), &column).map_err(stage_error("apply"))
            })?;
        entries[position] = Some(entry);
    }
    Ok(applied.row_keys().map(|(_, keys)| keys.clone()))
}

/// Assemble the matrix of `split` from its columns (cached by the columns' keys).
fn assemble_matrix(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    matrices: &Matrices,
    split: &Split,
    columns: Columns,
) -> Result<BuiltMatrix, PipelineError> {
    let started = Instant::now();
    let id_column = &project.settings.data.id_column;
    let matrix_key = key(&json!({
        "kind": "matrix", "version": version(), "columns": columns.keys,
        "id": id_column, "data": split.hash,
    }));
    let mut row_keys = columns.row_keys;
    let (entry, hit) = runner.cached("matrix", &matrix_key, |dir| {
        let matrix = matrix_of(project, lfs, split, &columns.entries, row_keys.take())?;
        write_matrix(&dir.join("L.parquet"), &matrix).map_err(stage_error("matrix"))?;
        matrices.memo.borrow_mut().insert(split.name, matrix);
        Ok(())
    })?;
    runner.record(
        &format!("matrix.{}", split.name),
        started,
        CacheOutcome::of_hit(hit),
        String::new(),
    );
    Ok(BuiltMatrix {
        key: matrix_key,
        entry,
    })
}

/// The label matrix of `split` from its LF columns' cache entries, with its row keys
/// (`row_keys`, or read from the data) and provenance.
fn matrix_of(
    project: &Project,
    lfs: &Lfs,
    split: &Split,
    entries: &[Entry],
    row_keys: Option<RowKeys>,
) -> Result<LabelMatrix, PipelineError> {
    let data = &project.settings.data;
    let columns: Vec<Vec<u8>> = entries
        .iter()
        .map(|entry| std::fs::read(entry.file("votes.i8")))
        .collect::<Result<_, _>>()
        .map_err(stage_error("matrix"))?;
    let n = columns.first().map_or(0, Vec::len);
    let votes = Array2::from_shape_fn((n, columns.len()), |(row, lf)| columns[lf][row] as i8);
    let names = lfs.infos.iter().map(|info| info.name.clone()).collect();
    let mut matrix =
        LabelMatrix::new(votes, names, lfs.classes.clone()).map_err(stage_error("matrix"))?;
    if let Some(id) = &data.id_column {
        let keys = match row_keys {
            Some(keys) => keys,
            None => read_keys(&split.path, id)?,
        };
        matrix = matrix
            .with_row_keys(id.clone(), keys)
            .map_err(stage_error("matrix"))?;
    }
    let data_hash = blake3::Hash::from_hex(&split.hash).expect("a hex hash");
    Ok(matrix.with_provenance(provenance(
        &lfs.classes,
        &lfs.infos,
        &split.path,
        data_hash,
        &data.columns,
    )))
}

fn read_keys(path: &Path, column: &str) -> Result<RowKeys, PipelineError> {
    let columns = read_columns(path, &[column.to_owned()]).map_err(stage_error("apply"))?;
    Ok(RowKeys::from_column(&columns[0].1))
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

/// Fit the label model on the train split (or choose one on dev gold with `auto`).
pub(super) fn fit_stage(
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
struct Fitter {
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
fn fit_model(
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
fn dev_balance(matrices: &Matrices, key: &str) -> Result<(ClassBalance, String), PipelineError> {
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
fn select_model(
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

/// Analyze: the dev split with gold when there is one, else train; a JSON summary and an
/// HTML report.
pub(super) fn analyze_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    matrices: &Matrices,
    fitted: &Fitted,
) -> Result<(), PipelineError> {
    let started = Instant::now();
    let analyzed = matrices.dev().unwrap_or(matrices.train());
    let analyze_key = key(&json!({
        "kind": "analyze", "version": version(), "matrix": matrices.key(analyzed.name),
        "gold": (&analyzed.hash, &analyzed.gold_column), "model": fitted.key,
    }));
    let (entry, hit) = runner.cached("analyze", &analyze_key, |dir| {
        let matrix = matrices.load(analyzed.name)?;
        let gold = matrices.gold_of(analyzed)?;
        let model = fitted.model()?;
        let analysis =
            analyze(&matrix, gold.as_deref(), Some(&model)).map_err(stage_error("analyze"))?;
        std::fs::write(
            dir.join("summary.json"),
            crate::report::render_json(&analysis),
        )
        .map_err(stage_error("analyze"))?;
        let context = crate::report::html::ReportContext {
            matrix: format!("{} split ({})", analyzed.name, analyzed.path.display()),
            gold: analyzed.gold_column.clone(),
            model: Some(project.settings.label_model.model.to_string()),
            generated_by: format!("labelgen {}", version()),
            fingerprint: matrix.fingerprint(),
            samples: Vec::new(),
        };
        std::fs::write(
            dir.join("report.html"),
            crate::report::html::render_html(&analysis, &context),
        )
        .map_err(stage_error("analyze"))
    })?;
    let detail = analyzed.name.to_owned();
    runner.record("analyze", started, CacheOutcome::of_hit(hit), detail);
    runner
        .outputs
        .push(("lf_summary.json".to_owned(), entry.file("summary.json")));
    runner
        .outputs
        .push(("lf_report.html".to_owned(), entry.file("report.html")));
    Ok(())
}

/// A cached output: its key and entry.
pub(super) struct Cached {
    key: String,
    entry: Entry,
}

/// Label the train split (with its texts when an end model follows).
pub(super) fn label_stage(
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

/// Train the end model on the train split's labels, if the project has one.
pub(super) fn train_stage(
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

/// Evaluate the label model, majority vote and the end model on the gold splits; returns the
/// metrics.
pub(super) fn evaluate_stage(
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
fn evaluate_splits(
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
fn evaluate_split(
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

/// A `[label_model]` class balance setting: `auto`, `uniform`, `estimated`, numbers, or `None`
/// for `dev` (the dev split's gold labels, counted in the fit stage) and for no setting.
pub(super) fn balance_setting(
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
