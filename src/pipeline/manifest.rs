//! The run manifest (`<output>/<run-id>/manifest.json`) and what `labelgen runs` reads of it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::metrics::{Method, Metrics, Score};

/// Version of the manifest format.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// An input file and its hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// What it is (`data.train`, `lfs.file`, `lfs.plugin`, ...).
    pub role: String,
    /// Its path.
    pub path: String,
    /// BLAKE3 (hex) of its content (for plugins: of the sources and of the library).
    pub hash: String,
}

/// One LF of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LfRecord {
    /// Its name.
    pub name: String,
    /// Where it came from.
    pub origin: String,
    /// Its fingerprint (TOML definition, or plugin library and name).
    pub fingerprint: String,
}

/// One stage of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage.
    pub name: String,
    /// Wall seconds.
    pub seconds: f64,
    /// How its cache fared.
    pub cache: CacheOutcome,
    /// More about it.
    pub detail: String,
}

/// How a stage's cache fared (`hit`, `miss`, `partial` or `-` in the manifest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheOutcome {
    /// Every output came from the cache.
    #[serde(rename = "hit")]
    Hit,
    /// Every output was made.
    #[serde(rename = "miss")]
    Miss,
    /// Some outputs came from the cache, some were made.
    #[serde(rename = "partial")]
    Partial,
    /// The stage is not cached.
    #[serde(rename = "-")]
    NotCached,
}

impl CacheOutcome {
    /// [`CacheOutcome::Hit`] if `hit`, else [`CacheOutcome::Miss`].
    pub fn of_hit(hit: bool) -> Self {
        if hit {
            CacheOutcome::Hit
        } else {
            CacheOutcome::Miss
        }
    }

    /// Its name in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Partial => "partial",
            CacheOutcome::NotCached => "-",
        }
    }
}

impl std::fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that widths and alignment apply.
        f.pad(self.name())
    }
}

/// An output of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Its name in the run folder.
    pub path: String,
    /// BLAKE3 (hex).
    pub hash: String,
}

/// Everything about one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT_VERSION`].
    pub format_version: u32,
    /// The run id (also its folder name).
    pub run_id: String,
    /// The run's place among the project's runs: one more than the latest run's when it
    /// started (runs are listed in this order; 0 in manifests written before it was recorded).
    #[serde(default)]
    pub sequence: u64,
    /// When it started (UTC).
    pub started: String,
    /// Wall seconds.
    pub seconds: f64,
    /// labelgen's version.
    pub labelgen_version: String,
    /// The project file.
    pub project: String,
    /// The seed.
    pub seed: u64,
    /// Input files and hashes.
    pub inputs: Vec<InputRecord>,
    /// The LFs and their fingerprints.
    pub lfs: Vec<LfRecord>,
    /// The project settings.
    pub options: serde_json::Value,
    /// Per stage: time and cache.
    pub stages: Vec<StageRecord>,
    /// True when every stage came from the cache.
    pub nothing_changed: bool,
    /// True when a damaged cache entry was found and rebuilt.
    pub damaged_cache_entries_rebuilt: bool,
    /// Scores per gold split (`dev`, `test`): label model, majority vote, end model.
    pub metrics: Metrics,
    /// Output files and hashes.
    pub outputs: Vec<OutputRecord>,
}

/// Every complete run under `runs` (folders with a manifest; partial runs are skipped), oldest
/// first: by sequence number, then (for runs recorded without one) by start time and id.
pub fn list_runs(runs: &Path) -> Vec<Manifest> {
    let mut manifests: Vec<Manifest> = std::fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|item| !item.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|item| std::fs::read(item.path().join("manifest.json")).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect();
    manifests.sort_by(|a, b| {
        (a.sequence, &a.started, &a.run_id).cmp(&(b.sequence, &b.started, &b.run_id))
    });
    manifests
}

/// A score from the metrics of `split` (for example `test`, end model, accuracy).
pub fn metric(manifest: &Manifest, split: &str, method: Method, score: Score) -> Option<f64> {
    Some(manifest.metrics.get(split)?.method(method)?.get(score))
}

/// What differs between two runs, as lines of text.
pub fn changes(old: &Manifest, new: &Manifest) -> Vec<String> {
    let mut lines = Vec::new();
    for input in &new.inputs {
        match old
            .inputs
            .iter()
            .find(|o| o.role == input.role && o.path == input.path)
        {
            None => lines.push(format!("input added: {} `{}`", input.role, input.path)),
            Some(o) if o.hash != input.hash => {
                lines.push(format!("input changed: {} `{}`", input.role, input.path))
            }
            Some(_) => {}
        }
    }
    for input in &old.inputs {
        if !new
            .inputs
            .iter()
            .any(|n| n.role == input.role && n.path == input.path)
        {
            lines.push(format!("input removed: {} `{}`", input.role, input.path));
        }
    }
    for lf in &new.lfs {
        match old.lfs.iter().find(|o| o.name == lf.name) {
            None => lines.push(format!("LF added: {}", lf.name)),
            Some(o) if o.fingerprint != lf.fingerprint => {
                lines.push(format!("LF changed: {}", lf.name))
            }
            Some(_) => {}
        }
    }
    for lf in &old.lfs {
        if !new.lfs.iter().any(|n| n.name == lf.name) {
            lines.push(format!("LF removed: {}", lf.name));
        }
    }
    let (mut old_options, mut new_options) = (Vec::new(), Vec::new());
    flatten("", &old.options, &mut old_options);
    flatten("", &new.options, &mut new_options);
    for (key, value) in &new_options {
        match old_options.iter().find(|(k, _)| k == key) {
            None => lines.push(format!("setting added: {key} = {value}")),
            Some((_, o)) if o != value => {
                lines.push(format!("setting changed: {key}: {o} -> {value}"))
            }
            Some(_) => {}
        }
    }
    for (key, value) in &old_options {
        if !new_options.iter().any(|(k, _)| k == key) {
            lines.push(format!("setting removed: {key} (was {value})"));
        }
    }
    if old.labelgen_version != new.labelgen_version {
        lines.push(format!(
            "labelgen version: {} -> {}",
            old.labelgen_version, new.labelgen_version
        ));
    }
    lines
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, value, out);
            }
        }
        serde_json::Value::Null => {}
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// Metric deltas between two runs: `(split.method.score, old, new)` for every score either has.
pub fn metric_deltas(old: &Manifest, new: &Manifest) -> Vec<(String, Option<f64>, Option<f64>)> {
    let mut names = Vec::new();
    for manifest in [old, new] {
        for (split, metrics) in &manifest.metrics {
            for (method, _) in metrics.methods() {
                for score in [Score::Accuracy, Score::MacroF1] {
                    let entry = (split.clone(), method, score);
                    if !names.contains(&entry) {
                        names.push(entry);
                    }
                }
            }
        }
    }
    names
        .into_iter()
        .map(|(split, method, score)| {
            let name = format!("{split}.{}.{}", method.name(), score.name());
            let (a, b) = (
                metric(old, &split, method, score),
                metric(new, &split, method, score),
            );
            (name, a, b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(run_id: &str, sequence: u64, started: &str) -> Manifest {
        Manifest {
            format_version: MANIFEST_FORMAT_VERSION,
            run_id: run_id.to_owned(),
            sequence,
            started: started.to_owned(),
            seconds: 1.0,
            labelgen_version: "0".to_owned(),
            project: "p".to_owned(),
            seed: 1,
            inputs: Vec::new(),
            lfs: Vec::new(),
            options: serde_json::Value::Null,
            stages: Vec::new(),
            nothing_changed: false,
            damaged_cache_entries_rebuilt: false,
            metrics: Metrics::default(),
            outputs: Vec::new(),
        }
    }

    /// Runs list by sequence number, not by id (ids of one second differ only in a random
    /// part); runs recorded without one (0) come first, by start time.
    #[test]
    fn runs_list_in_the_order_they_ran() {
        let folder = tempfile::tempdir().unwrap();
        let second = "2030-01-01T00:00:00Z";
        for run in [
            manifest("20300101-000000-aaaaaa", 2, second),
            manifest("20300101-000000-ffffff", 1, second),
            manifest("20290101-000000-bbbbbb", 0, "2029-01-01T00:00:00Z"),
            manifest("20280101-000000-cccccc", 0, "2028-01-01T00:00:00Z"),
        ] {
            let dir = folder.path().join(&run.run_id);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&run).unwrap()).unwrap();
        }
        let order: Vec<String> = list_runs(folder.path())
            .into_iter()
            .map(|run| run.run_id)
            .collect();
        assert_eq!(
            order,
            [
                "20280101-000000-cccccc",
                "20290101-000000-bbbbbb",
                "20300101-000000-ffffff",
                "20300101-000000-aaaaaa"
            ]
        );
    }
}
