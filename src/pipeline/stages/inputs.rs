//! The first stages: hash the data and LF files, build the plugin crates, load the LFs.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use super::{Inputs, Lfs, Split};
use crate::lf::{LfSet, LfSource};
use crate::pipeline::cache::{Entry, hash_file, key};
use crate::pipeline::config::Project;
use crate::pipeline::manifest::{CacheOutcome, InputRecord};
use crate::pipeline::{PipelineError, Runner, plugins, stage_error, version};

/// Inputs: data files and LF files, hashed.
pub(in crate::pipeline) fn hash_inputs(
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
pub(in crate::pipeline) fn build_plugins(
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
pub(super) fn build_plugin(
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
pub(in crate::pipeline) fn load_lfs(sources: Vec<LfSource>) -> Result<Lfs, PipelineError> {
    let set = LfSet::load(&sources).map_err(stage_error("lfs"))?;
    let classes = set.classes().to_vec();
    let infos = set.lfs().to_vec();
    Ok(Lfs {
        sources,
        classes,
        infos,
    })
}
