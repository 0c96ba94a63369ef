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
pub mod metrics;
pub mod plugins;
pub mod scaffold;
mod stages;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::lf::LfInfo;
use cache::{Cache, CacheError, Entry, ProjectLock, hash_file};
use config::Project;
use manifest::{CacheOutcome, InputRecord, LfRecord, Manifest, OutputRecord, StageRecord};

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
        /// The error behind it, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// A failure of `stage` caused by an error, which it keeps as its source.
fn stage_error<E: std::error::Error + Send + Sync + 'static>(
    stage: &str,
) -> impl Fn(E) -> PipelineError + '_ {
    move |error| PipelineError::Stage {
        stage: stage.to_owned(),
        message: error.to_string(),
        source: Some(Box::new(error)),
    }
}

/// A failure of `stage` that `message` says all of.
fn stage_failure(stage: &str, message: String) -> PipelineError {
    PipelineError::Stage {
        stage: stage.to_owned(),
        message,
        source: None,
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

/// State shared by the stages of one run.
struct Runner<'a> {
    cache: Cache,
    events: &'a dyn Events,
    stages: Vec<StageRecord>,
    outputs: Vec<(String, PathBuf)>,
    damaged: bool,
}

impl Runner<'_> {
    fn record(&mut self, name: &str, started: Instant, cache: CacheOutcome, detail: String) {
        let record = StageRecord {
            name: name.to_owned(),
            seconds: started.elapsed().as_secs_f64(),
            cache,
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

/// The process id in the name of a run folder being written, `.<run-id>.<pid>.partial`.
fn partial_run_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".partial")?;
    rest.rsplit_once('.')?.1.parse().ok()
}

/// Run every stage of `project`.
pub fn run(project: &Project, events: &dyn Events) -> Result<RunResult, PipelineError> {
    let started = timestamp();
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
    let mut inputs = stages::hash_inputs(&mut runner, project)?;
    stages::build_plugins(&mut runner, project, &state, &mut inputs)?;
    let lfs = stages::load_lfs(inputs.sources)?;
    let matrices = stages::build_matrices(&mut runner, project, &lfs, inputs.splits)?;
    let fitted = stages::fit_stage(&mut runner, project, &matrices)?;
    stages::analyze_stage(&mut runner, project, &matrices, &fitted)?;
    let labels = stages::label_stage(&mut runner, project, &matrices, &fitted)?;
    let classifier = stages::train_stage(&mut runner, project, &labels)?;
    let metrics = stages::evaluate_stage(
        &mut runner,
        project,
        &matrices,
        &fitted,
        classifier.as_ref(),
    )?;
    let record = RunRecord {
        id,
        started,
        run_started,
        inputs: inputs.records,
        lfs: &lfs.infos,
        metrics,
    };
    write_run(project, runner, record)
}

/// What a run's manifest records beside its stages and outputs.
struct RunRecord<'a> {
    id: String,
    started: String,
    run_started: Instant,
    inputs: Vec<InputRecord>,
    lfs: &'a [LfInfo],
    metrics: metrics::Metrics,
}

/// The run folder: outputs copied in, the manifest, then renamed into place.
fn write_run(
    project: &Project,
    runner: Runner<'_>,
    record: RunRecord<'_>,
) -> Result<RunResult, PipelineError> {
    let runs = runs_dir(project);
    std::fs::create_dir_all(&runs).map_err(stage_error("run"))?;
    let partial = runs.join(format!(".{}.{}.partial", record.id, std::process::id()));
    std::fs::create_dir_all(&partial).map_err(stage_error("run"))?;
    let mut outputs = Vec::new();
    for (name, path) in &runner.outputs {
        // A copy, never a link: a run folder must not change when the cache or a later run's
        // files do (`std::fs::copy` lets the file system share blocks copy-on-write where it
        // can, as `copy_file_range` does on Btrfs and XFS).
        std::fs::copy(path, partial.join(name)).map_err(stage_error("run"))?;
        outputs.push(OutputRecord {
            path: name.clone(),
            hash: hash_file(path).map_err(stage_error("run"))?,
        });
    }
    let manifest = manifest_of(project, &runner, record, outputs, &runs);
    std::fs::write(
        partial.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )
    .map_err(stage_error("run"))?;
    let dir = runs.join(&manifest.run_id);
    std::fs::rename(&partial, &dir).map_err(stage_error("run"))?;
    Ok(RunResult { dir, manifest })
}

/// The manifest of a run whose outputs are `outputs`, numbered after the runs in `runs`.
fn manifest_of(
    project: &Project,
    runner: &Runner<'_>,
    record: RunRecord<'_>,
    outputs: Vec<OutputRecord>,
    runs: &Path,
) -> Manifest {
    let all_hits = runner
        .stages
        .iter()
        .all(|stage| matches!(stage.cache, CacheOutcome::Hit | CacheOutcome::NotCached));
    // Under the lock, no other run can take the same number.
    let sequence = manifest::list_runs(runs)
        .iter()
        .map(|run| run.sequence)
        .max()
        .map_or(1, |latest| latest + 1);
    let settings = &project.settings;
    Manifest {
        format_version: manifest::MANIFEST_FORMAT_VERSION,
        run_id: record.id,
        sequence,
        started: record.started,
        seconds: record.run_started.elapsed().as_secs_f64(),
        labelgen_version: version().to_owned(),
        project: project.file.display().to_string(),
        seed: settings.project.seed,
        inputs: record.inputs,
        lfs: record
            .lfs
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
        metrics: record.metrics,
        outputs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClassBalance;
    use stages::balance_setting;

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
