//! `labelgen run`, `runs`, `runs diff`, `compare` and `init`: the pipeline of a project file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use labelgen::pipeline::config::{ModelChoice, Project};
use labelgen::pipeline::manifest::{
    Manifest, StageRecord, changes, list_runs, metric, metric_deltas,
};
use labelgen::pipeline::metrics::{Method, Score, Selection};
use labelgen::pipeline::{Events, runs_dir};

/// Arguments of `labelgen run`.
#[derive(Debug, Args)]
pub struct RunArguments {
    /// The project file.
    #[arg(default_value = "labelgen.toml")]
    project: PathBuf,
}

/// Arguments of `labelgen runs`.
#[derive(Debug, Args)]
pub struct RunsArguments {
    /// The project file.
    #[arg(long, default_value = "labelgen.toml")]
    project: PathBuf,
    #[command(subcommand)]
    command: Option<RunsCommand>,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// What differs between two runs: data, LFs, settings, and the metric deltas.
    Diff {
        /// The older run (an id, or a unique prefix of one).
        a: String,
        /// The newer run.
        b: String,
    },
}

/// Arguments of `labelgen compare`.
#[derive(Debug, Args)]
pub struct CompareArguments {
    /// The project file.
    #[arg(default_value = "labelgen.toml")]
    project: PathBuf,
}

/// Arguments of `labelgen init`.
#[derive(Debug, Args)]
pub struct InitArguments {
    /// The folder to create.
    folder: PathBuf,
}

struct Printer;

impl Events for Printer {
    fn stage(&self, record: &StageRecord) {
        super::note!(
            "  {:<14} {:>8.2} s  {:<8} {}",
            record.name,
            record.seconds,
            record.cache,
            record.detail
        );
    }
}

fn read_project(path: &Path) -> anyhow::Result<Project> {
    Ok(Project::read(path)?)
}

fn score_cell(manifest: &Manifest, split: &str, method: Method) -> String {
    match (
        metric(manifest, split, method, Score::Accuracy),
        metric(manifest, split, method, Score::MacroF1),
    ) {
        (Some(accuracy), Some(f1)) => format!("{accuracy:.4} / {f1:.4}"),
        _ => "-".to_owned(),
    }
}

/// The summary table of a run: scores of majority vote, the label model and the end model.
fn summary_table(manifest: &Manifest) -> String {
    let splits: Vec<&str> = ["dev", "test"]
        .into_iter()
        .filter(|split| manifest.metrics.contains_key(*split))
        .collect();
    if splits.is_empty() {
        return "no dev or test split with gold labels: nothing to score\n".to_owned();
    }
    let model = manifest.options["label_model"]["model"]
        .as_str()
        .unwrap_or("?");
    let mut out = format!("{:<28}", "accuracy / macro-F1");
    for split in &splits {
        out.push_str(&format!(" {split:>17}"));
    }
    out.push('\n');
    let mut rows = vec![
        ("majority vote".to_owned(), Method::MajorityVote),
        (format!("label model ({model})"), Method::LabelModel),
    ];
    if manifest
        .options
        .get("end_model")
        .is_some_and(|end| !end.is_null())
    {
        rows.push(("end model (classifier)".to_owned(), Method::EndModel));
    }
    for (title, method) in rows {
        out.push_str(&format!("{title:<28}"));
        for split in &splits {
            out.push_str(&format!(" {:>17}", score_cell(manifest, split, method)));
        }
        out.push('\n');
    }
    out
}

pub fn run(arguments: RunArguments) -> anyhow::Result<()> {
    let project = read_project(&arguments.project)?;
    super::note!("labelgen run: {}", project.file.display());
    let result = labelgen::pipeline::run(&project, &Printer)?;
    let manifest = &result.manifest;
    if manifest.nothing_changed {
        super::outln!("nothing changed: every stage came from the cache (inputs hashed only)")?;
    }
    if manifest.damaged_cache_entries_rebuilt {
        super::outln!("warning: damaged cache entries were found and rebuilt")?;
    }
    super::write_stdout(format_args!("{}", summary_table(manifest)))?;
    super::outln!(
        "run {} in {:.2} s -> {}",
        manifest.run_id,
        manifest.seconds,
        result.dir.display()
    )?;
    Ok(())
}

fn find<'a>(manifests: &'a [Manifest], id: &str) -> anyhow::Result<&'a Manifest> {
    let found: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| m.run_id.starts_with(id))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => anyhow::bail!("no run `{id}`; `labelgen runs` lists them"),
        _ => anyhow::bail!("`{id}` matches {} runs; give more of the id", found.len()),
    }
}

pub fn runs(arguments: RunsArguments) -> anyhow::Result<()> {
    let project = read_project(&arguments.project)?;
    let manifests = list_runs(&runs_dir(&project));
    let text = match arguments.command {
        None if manifests.is_empty() => "no runs yet: `labelgen run` makes one\n".to_owned(),
        None => runs_table(&manifests),
        Some(RunsCommand::Diff { a, b }) => runs_diff(find(&manifests, &a)?, find(&manifests, &b)?),
    };
    super::write_stdout(format_args!("{text}"))?;
    Ok(())
}

/// One line a run: id, start, seconds, test accuracies, and what changed since the one before.
fn runs_table(manifests: &[Manifest]) -> String {
    let mut text = format!(
        "{:<23} {:<20} {:>8} {:>10} {:>10}  changes\n",
        "run", "started", "seconds", "LM test", "end test"
    );
    for (index, manifest) in manifests.iter().enumerate() {
        let what = match index {
            0 => "first run".to_owned(),
            _ => {
                let lines = changes(&manifests[index - 1], manifest);
                if lines.is_empty() {
                    "nothing".to_owned()
                } else {
                    lines.join("; ")
                }
            }
        };
        let cell = |method: Method| {
            metric(manifest, "test", method, Score::Accuracy)
                .map_or("-".to_owned(), |value| format!("{value:.4}"))
        };
        let _ = writeln!(
            text,
            "{:<23} {:<20} {:>8.2} {:>10} {:>10}  {what}",
            manifest.run_id,
            manifest.started,
            manifest.seconds,
            cell(Method::LabelModel),
            cell(Method::EndModel)
        );
    }
    text
}

/// What differs between two runs, and the metric deltas.
fn runs_diff(old: &Manifest, new: &Manifest) -> String {
    let mut text = format!("{} -> {}\n", old.run_id, new.run_id);
    let lines = changes(old, new);
    if lines.is_empty() {
        text.push_str("same data, LFs and settings\n");
    }
    for line in lines {
        let _ = writeln!(text, "  {line}");
    }
    text.push_str("metrics:\n");
    for (name, before, after) in metric_deltas(old, new) {
        let show = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.4}"));
        let delta = match (before, after) {
            (Some(x), Some(y)) => format!("{:+.4}", y - x),
            _ => String::new(),
        };
        let _ = writeln!(
            text,
            "  {name:<32} {:>8} -> {:>8} {delta:>8}",
            show(before),
            show(after)
        );
    }
    text
}

pub fn compare(arguments: CompareArguments) -> anyhow::Result<()> {
    let mut project = read_project(&arguments.project)?;
    anyhow::ensure!(
        project.settings.data.dev.is_some(),
        "`labelgen compare` ranks label models on dev gold labels: add [data.dev] to `{}`",
        project.file.display()
    );
    project.settings.label_model.model = ModelChoice::Auto;
    project.settings.end_model = None;
    let result = labelgen::pipeline::run(&project, &Printer)?;
    let path = result.dir.join("model_selection.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    let selection: Selection =
        serde_json::from_str(&text).with_context(|| format!("reading `{}`", path.display()))?;
    let text = ranking(&selection, &result.manifest.run_id);
    super::write_stdout(format_args!("{text}"))?;
    Ok(())
}

/// The candidate models, best first, with their dev scores.
fn ranking(selection: &Selection, run_id: &str) -> String {
    let mut text = format!(
        "{:<4} {:<12} {:>9} {:>9} {:>12} {:>12}\n",
        "rank", "model", "dev acc", "dev F1", "covered acc", "covered F1"
    );
    for (index, candidate) in selection.ranked().iter().enumerate() {
        let dev = &candidate.dev;
        let _ = writeln!(
            text,
            "{:<4} {:<12} {:>9.4} {:>9.4} {:>12.4} {:>12.4}",
            index + 1,
            candidate.model,
            dev.accuracy,
            dev.macro_f1,
            dev.covered_accuracy,
            dev.covered_macro_f1
        );
    }
    let _ = writeln!(
        text,
        "(fitted on train, scored on dev with random tie-breaks; run {run_id})"
    );
    text
}

pub fn init(arguments: InitArguments) -> anyhow::Result<()> {
    let folder = &arguments.folder;
    anyhow::ensure!(
        !folder.join("labelgen.toml").exists(),
        "`{}` already has a labelgen.toml",
        folder.display()
    );
    let (files, crate_name) = labelgen::pipeline::scaffold::project_files(folder)?;
    for (relative, content) in &files {
        let path = folder.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing `{}`", path.display()))?;
    }
    super::outln!("created {} with:", folder.display())?;
    for (relative, _) in &files {
        super::outln!("  {}", relative.display())?;
    }
    super::outln!(
        "next: cd {} && labelgen run   (the plugin crate `{crate_name}` under plugin/ is listed, commented out, in labelgen.toml)",
        folder.display()
    )?;
    Ok(())
}
