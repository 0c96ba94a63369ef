//! `labelgen fit`: a label model from a label matrix.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use labelgen::io::gold::read_gold;
use labelgen::io::matrix_read::{ReadOptions, files_read, read_matrix};
use labelgen::matrix::LabelMatrix;
use labelgen::model::gold::{GoldRows, fit_with_optional_gold};
use labelgen::model::{ClassBalance, FitOptions, FittedModel, ModelKind, write_model};
use labelgen::patterns::PatternCounts;
use labelgen::statistics::Statistics;

/// The models, as the CLI names them.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelArg {
    /// Majority vote (the baseline).
    Majority,
    /// Class-conditional generative model (the default).
    Generative,
    /// Dawid-Skene EM with abstain as an outcome.
    DawidSkene,
    /// Snorkel 0.10's LabelModel (matrix completion, SGD for --max-iterations epochs).
    Snorkel,
    /// The Hyper Label Model (Wu et al., ICLR 2023): a pre-trained graph network, one pass.
    Hyper,
}

impl From<ModelArg> for ModelKind {
    fn from(value: ModelArg) -> Self {
        match value {
            ModelArg::Majority => ModelKind::Majority,
            ModelArg::Generative => ModelKind::Generative,
            ModelArg::DawidSkene => ModelKind::DawidSkene,
            ModelArg::Snorkel => ModelKind::Snorkel,
            ModelArg::Hyper => ModelKind::Hyper,
        }
    }
}

/// The fit options of the arguments, the class balance taken from gold with
/// --class-balance-from.
fn fit_options(arguments: &FitArguments, classes: &[String]) -> anyhow::Result<FitOptions> {
    let class_balance = match &arguments.class_balance_from {
        None => arguments.class_balance.clone(),
        Some(spec) => balance_of_gold(spec, classes)?,
    };
    Ok(FitOptions {
        class_balance,
        l2: arguments.l2,
        max_iterations: arguments.max_iterations,
        tolerance: arguments.tolerance,
        seed: arguments.seed,
    })
}

/// Arguments of `labelgen fit`.
#[derive(Debug, Args)]
pub struct FitArguments {
    /// The label matrix: .parquet or .csv from `apply`, another tool's integer votes, or a
    /// WRENCH split .json; or the statistics of its shards, one .stats file each (from
    /// `labelgen stats`), merged into the statistics of the whole.
    #[arg(required = true, num_args = 1.., value_name = "MATRIX | SHARD.stats...")]
    matrices: Vec<PathBuf>,
    /// Where to write the fitted model (JSON).
    #[arg(short, long, value_name = "FILE.json")]
    output: PathBuf,
    /// The label model.
    #[arg(long, value_enum, default_value = "generative")]
    model: ModelArg,
    /// `auto` (uniform unless, with two classes, a likelihood-ratio test on the LFs that vote
    /// both rejects it at 0.1 %; then theirs), `uniform`, `estimated`, or one number per class
    /// (for example `0.7,0.3`).
    #[arg(long, default_value = "auto", value_parser = str::parse::<ClassBalance>)]
    class_balance: ClassBalance,
    /// Take the class balance from gold labels, FILE:COLUMN (a labelled dev set, for example
    /// `dev.csv:label` or a WRENCH `valid.json:label`): each class's share of the labelled rows,
    /// add-one smoothed. Worth it when the classes are imbalanced (see docs/label-models.md).
    #[arg(long, value_name = "FILE:COLUMN", conflicts_with = "class_balance")]
    class_balance_from: Option<String>,
    /// Precision of the prior on the model's logits (0 = maximum likelihood).
    #[arg(long, default_value_t = FitOptions::default().l2)]
    l2: f64,
    /// Iteration limit of the optimiser.
    #[arg(long, default_value_t = FitOptions::default().max_iterations)]
    max_iterations: u64,
    /// Convergence tolerance (gradient norm).
    #[arg(long, default_value_t = FitOptions::default().tolerance)]
    tolerance: f64,
    /// Seed, recorded with the model.
    #[arg(long, default_value_t = FitOptions::default().seed)]
    seed: u64,
    /// Number of classes, for a matrix without labelgen metadata.
    #[arg(long)]
    cardinality: Option<usize>,
    /// Labelled rows, FILE:COLUMN: votes of the same LFs with gold classes (a WRENCH split such
    /// as `valid.json:label`, or a labelgen matrix and the column holding its rows' classes).
    /// They choose the model by cross-validated accuracy among generative, majority,
    /// dawid-skene, snorkel and hyper, set the class balance, and enter the generative model's
    /// fit with their classes observed.
    #[arg(long, value_name = "FILE:COLUMN", conflicts_with = "model")]
    gold: Option<String>,
}

pub fn run(arguments: FitArguments) -> anyhow::Result<()> {
    let mut inputs: Vec<PathBuf> = arguments
        .matrices
        .iter()
        .flat_map(|path| files_read(path))
        .collect();
    inputs.extend(super::spec_file(&arguments.class_balance_from));
    super::check_outputs(std::slice::from_ref(&arguments.output), &inputs)?;
    let training = Training::read(&arguments.matrices, arguments.cardinality)?;
    let stats = training.patterns();
    let (lfs, classes) = (training.lfs().to_vec(), training.classes().to_vec());
    let options = fit_options(&arguments, &classes)?;
    let kind = ModelKind::from(arguments.model);
    // The fit needs only the counts, and leaves a core idle in its single-threaded steps (the
    // M-steps): hash the matrix and count its coverage there meanwhile, then free it.
    let labelled = match &arguments.gold {
        Some(spec) => Some(read_labelled(spec, &lfs, &classes)?),
        None => None,
    };
    let (fitted, (fingerprint, coverage)) = rayon::join(
        || {
            let gold = labelled.as_ref().map(|(votes, gold)| GoldRows {
                matrix: votes,
                classes: gold,
            });
            fit_with_optional_gold(kind, stats, gold, &lfs, &classes, &options, String::new())
        },
        || training.summary(),
    );
    let mut model = fitted.with_context(|| {
        let names: Vec<String> = (arguments.matrices.iter())
            .map(|path| format!("`{}`", path.display()))
            .collect();
        format!("cannot fit a model to {}", names.join(", "))
    })?;
    model.training_fingerprint = fingerprint;
    if let Some(spec) = &arguments.class_balance_from {
        model.record_class_balance_source(format!("gold labels of {spec}"));
    }
    write_model(&arguments.output, &model)?;
    super::write_stdout(format_args!("{}", describe(&model, &coverage, stats.len())))?;
    Ok(())
}

/// What a model is fitted on: a label matrix, or the merged statistics of shards.
enum Training {
    Matrix(Box<LabelMatrix>, PatternCounts),
    Shards(Statistics),
}

impl Training {
    /// One matrix file, or `.stats` files only.
    fn read(paths: &[PathBuf], cardinality: Option<usize>) -> anyhow::Result<Training> {
        let is_stats = |path: &PathBuf| {
            path.extension()
                .is_some_and(|extension| extension == "stats")
        };
        if paths.iter().all(is_stats) {
            let mut merged = Statistics::read(&paths[0])?;
            for path in &paths[1..] {
                merged = merged.merge(&Statistics::read(path)?).with_context(|| {
                    format!(
                        "cannot add `{}` to the statistics of `{}`",
                        path.display(),
                        paths[0].display()
                    )
                })?;
            }
            return Ok(Training::Shards(merged));
        }
        let [path] = paths else {
            anyhow::bail!(
                "give one label matrix, or the .stats files of its shards (from `labelgen stats`)"
            );
        };
        let options = ReadOptions {
            cardinality,
            ..ReadOptions::default()
        };
        let matrix = read_matrix(path, &options)?.matrix;
        let patterns = PatternCounts::from_matrix(&matrix);
        Ok(Training::Matrix(Box::new(matrix), patterns))
    }

    fn patterns(&self) -> &PatternCounts {
        match self {
            Training::Matrix(_, patterns) => patterns,
            Training::Shards(statistics) => &statistics.patterns,
        }
    }

    fn lfs(&self) -> &[String] {
        match self {
            Training::Matrix(matrix, _) => matrix.lf_names(),
            Training::Shards(statistics) => &statistics.lfs,
        }
    }

    fn classes(&self) -> &[String] {
        match self {
            Training::Matrix(matrix, _) => matrix.classes(),
            Training::Shards(statistics) => &statistics.classes,
        }
    }

    /// The fingerprint of what the model is fitted on, and each LF's coverage.
    fn summary(&self) -> (String, Vec<f64>) {
        match self {
            Training::Matrix(matrix, _) => (matrix.fingerprint(), matrix.lf_coverage()),
            Training::Shards(statistics) => {
                let rows = statistics.patterns.n_rows() as f64;
                let coverage = statistics
                    .patterns
                    .vote_counts()
                    .iter()
                    .map(|counts| counts.iter().sum::<u64>() as f64 / rows)
                    .collect();
                (statistics.fingerprint(), coverage)
            }
        }
    }
}

/// The labelled rows of `--gold FILE:COLUMN`: FILE's votes in the training matrix's LF order,
/// and its COLUMN's classes.
fn read_labelled(
    spec: &str,
    lfs: &[String],
    classes: &[String],
) -> anyhow::Result<(LabelMatrix, Vec<i64>)> {
    let file = spec
        .rsplit_once(':')
        .map(|(file, _)| file)
        .filter(|file| !file.is_empty())
        .with_context(|| {
            format!("--gold takes FILE:COLUMN (for example `valid.json:label`), got `{spec}`")
        })?;
    let loaded = read_matrix(
        std::path::Path::new(file),
        &ReadOptions {
            fallback_cardinality: Some(classes.len()),
            ..ReadOptions::default()
        },
    )?;
    if loaded.matrix.cardinality() != classes.len() {
        anyhow::bail!(
            "--gold `{file}` has {} classes, the training matrix {}",
            loaded.matrix.cardinality(),
            classes.len()
        );
    }
    let votes = loaded
        .matrix
        .in_lf_order(lfs)
        .with_context(|| format!("--gold `{file}` must hold votes of the training matrix's LFs"))?;
    let gold = read_gold(spec, classes)?;
    if gold.len() != votes.n_rows() {
        anyhow::bail!(
            "--gold `{spec}`: {} gold labels for {} rows of votes",
            gold.len(),
            votes.n_rows()
        );
    }
    Ok((votes, gold))
}

/// The class balance of the gold labels FILE:COLUMN `spec` (`--class-balance-from`).
pub(crate) fn balance_of_gold(spec: &str, classes: &[String]) -> anyhow::Result<ClassBalance> {
    let gold = read_gold(spec, classes)?;
    ClassBalance::of_gold(&gold, classes.len()).ok_or_else(|| {
        anyhow::anyhow!(
            "--class-balance-from `{spec}`: no row has a gold label (all are -1 or empty), so \
             there is no class balance to take"
        )
    })
}

/// The per-LF table, class balance and diagnostics.
fn describe(model: &FittedModel, coverage: &[f64], patterns: usize) -> String {
    let width = model.lfs.iter().map(String::len).max().unwrap_or(2).max(2);
    let mut text = format!(
        "{:>3}  {:<width$}  {:>8}  {:>13}\n",
        "j", "LF", "coverage", "est. accuracy"
    );
    for (index, name) in model.lfs.iter().enumerate() {
        let accuracy =
            model.lf_accuracy[index].map_or("-".to_owned(), |accuracy| format!("{accuracy:.3}"));
        let _ = writeln!(
            text,
            "{index:>3}  {name:<width$}  {:>8.3}  {accuracy:>13}",
            coverage[index]
        );
    }
    let balance: Vec<String> = model
        .classes
        .iter()
        .zip(&model.class_balance)
        .map(|(class, p)| format!("{class} {p:.3}"))
        .collect();
    let diagnostics = &model.diagnostics;
    let _ = writeln!(text, "class balance: {}", balance.join(", "));
    if let Some(test) = &diagnostics.balance_test {
        if test.lfs == 0 {
            let _ = writeln!(
                text,
                "class balance test: no LF votes two classes or more, so the votes cannot \
                 identify a balance: uniform"
            );
        } else {
            let verdict = if test.estimates() {
                "rejects a uniform balance: estimated"
            } else {
                "keeps it uniform"
            };
            let _ = writeln!(
                text,
                "class balance test (the {} LFs voting two classes or more, {} rows): 2 x \
                 log-likelihood gain of a free balance {:.1} (critical {:.2} at 0.1 %, {} df) \
                 {verdict}",
                test.lfs, test.rows, test.statistic, test.critical, test.degrees
            );
        }
    }
    if let Some(selection) = &diagnostics.gold_selection {
        let scores: Vec<String> = selection
            .scores
            .iter()
            .map(|score| format!("{} {:.3}", model_name(score.model), score.accuracy))
            .collect();
        let _ = writeln!(
            text,
            "gold labels: {} rows, {}-fold cross-validated accuracy: {}; fitted: {}",
            selection.rows,
            selection.folds,
            scores.join(", "),
            model_name(selection.chosen)
        );
    }
    let _ = writeln!(
        text,
        "fit: {} distinct vote patterns, {} iterations, converged: {}, objective {:.6}",
        patterns, diagnostics.iterations, diagnostics.converged, diagnostics.objective
    );
    for warning in &diagnostics.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    text
}

/// A model's name as `--model` takes it.
fn model_name(kind: ModelKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{kind:?}"))
}
