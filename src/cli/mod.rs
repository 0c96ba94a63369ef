//! Command-line glue: one file per subcommand, each a short `run`.

/// `println!` that returns an error instead of panicking when standard output cannot be
/// written: a closed pipe (`labelgen runs | head -1`) then ends the command quietly with
/// success (see `main`), a full disk is an error message.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics: a note that cannot be shown (standard error closed or full)
/// is not worth failing the command for.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {note, outln};

mod analyze;
mod apply;
mod evaluate;
mod fit;
pub mod huge_pages;
mod label;
mod predict;
mod progress;
mod run;
mod score;
mod stats;
mod train;

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// labelgen: weak-supervision labeling engine.
#[derive(Debug, Parser)]
#[command(name = "labelgen", version, about, propagate_version = true)]
pub struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply labeling functions to a table and write the label matrix.
    Apply(apply::ApplyArguments),
    /// Fit a label model to a label matrix, or to the statistics of its shards.
    Fit(fit::FitArguments),
    /// Write the sufficient statistics of a label matrix (a shard of a dataset) for `fit`.
    Stats(stats::StatsArguments),
    /// Write probabilistic labels for a label matrix with a fitted model.
    Label(label::LabelArguments),
    /// Score a model's labels against gold labels.
    Score(score::ScoreArguments),
    /// Coverage, overlap, conflict and accuracy of each LF: table, JSON, CSV or HTML report.
    Analyze(analyze::AnalyzeArguments),
    /// Train a noise-aware text classifier on probabilistic labels.
    Train(train::TrainArguments),
    /// Classify texts with a trained classifier.
    Predict(predict::PredictArguments),
    /// Score predictions against gold labels: accuracy, macro-F1, per class.
    Evaluate(evaluate::EvaluateArguments),
    /// Run every stage of a project file, reusing what is unchanged.
    Run(run::RunArguments),
    /// List past runs, or diff two of them.
    Runs(run::RunsArguments),
    /// Fit every label model on train and rank them on the dev gold labels.
    Compare(run::CompareArguments),
    /// Create a project: labelgen.toml, an LF file, sample data and a plugin crate.
    Init(run::InitArguments),
}

/// Write to standard output and flush, so that a write error shows here, not at exit.
pub(crate) fn write_stdout(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(text)
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")
}

/// Write to standard error, ignoring failure.
pub(crate) fn write_stderr(text: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// Run the chosen subcommand.
pub fn run(arguments: Arguments) -> anyhow::Result<()> {
    match arguments.command {
        Command::Apply(arguments) => apply::run(arguments),
        Command::Fit(arguments) => fit::run(arguments),
        Command::Stats(arguments) => stats::run(arguments),
        Command::Label(arguments) => label::run(arguments),
        Command::Score(arguments) => score::run(arguments),
        Command::Analyze(arguments) => analyze::run(arguments),
        Command::Train(arguments) => train::run(arguments),
        Command::Predict(arguments) => predict::run(arguments),
        Command::Evaluate(arguments) => evaluate::run(arguments),
        Command::Run(arguments) => run::run(arguments),
        Command::Runs(arguments) => run::runs(arguments),
        Command::Compare(arguments) => run::compare(arguments),
        Command::Init(arguments) => run::init(arguments),
    }
}

/// `--class-balance` and `--class-balance-from` of `label` and `score`: label with another
/// class prior than the one the model was fitted with.
#[derive(Debug, clap::Args)]
pub(crate) struct LabelPrior {
    /// Label with this class balance instead of the model's: `uniform` (each row's label is
    /// the class its votes are likeliest under) or one number per class (for example `0.9,0.1`),
    /// when the rows to label are known to be balanced otherwise than the model assumed. The
    /// LF parameters stay the fitted ones.
    #[arg(long, value_name = "BALANCE", value_parser = str::parse::<labelgen::model::ClassBalance>)]
    class_balance: Option<labelgen::model::ClassBalance>,
    /// Label with the class balance of gold labels, FILE:COLUMN (for example a labelled dev
    /// set's `dev.csv:label`), add-one smoothed, instead of the model's.
    #[arg(long, value_name = "FILE:COLUMN", conflicts_with = "class_balance")]
    class_balance_from: Option<String>,
}

impl LabelPrior {
    /// The model to label with, and where its class balance came from when it is not the
    /// fitted one.
    pub(crate) fn apply(
        &self,
        model: labelgen::model::FittedModel,
    ) -> anyhow::Result<(labelgen::model::FittedModel, Option<String>)> {
        let (balance, source, option) = match (&self.class_balance, &self.class_balance_from) {
            (None, None) => return Ok((model, None)),
            (Some(balance), _) => (
                balance.clone(),
                balance.name().to_owned(),
                "--class-balance",
            ),
            (None, Some(spec)) => (
                fit::balance_of_gold(spec, &model.classes)?,
                format!("gold labels of {spec}"),
                "--class-balance-from",
            ),
        };
        let replaced = model
            .with_class_balance(&balance, &source)
            .map_err(|error| anyhow::anyhow!("{option}: {error}"))?;
        Ok((replaced, Some(source)))
    }
}

/// Refuse `outputs` that would replace one of `inputs`, or each other. A gold-label or class
/// balance spec (`FILE:COLUMN`) counts as its file.
pub(crate) fn check_outputs(
    outputs: &[std::path::PathBuf],
    inputs: &[std::path::PathBuf],
) -> Result<(), labelgen::io::atomic::OutputError> {
    let outputs: Vec<&std::path::Path> = outputs.iter().map(|path| path.as_path()).collect();
    let inputs: Vec<&std::path::Path> = inputs.iter().map(|path| path.as_path()).collect();
    labelgen::io::atomic::check_outputs(&outputs, &inputs)
}

/// The file of a `FILE:COLUMN` spec, for [`check_outputs`].
pub(crate) fn spec_file(spec: &Option<String>) -> Option<std::path::PathBuf> {
    spec.as_deref()
        .and_then(labelgen::io::gold::split_spec)
        .map(|(file, _)| file.to_owned())
}

/// Parse `KEY=VALUE`.
pub(crate) fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() && !value.is_empty() => {
            Ok((key.to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected LF_COLUMN=DATA_COLUMN, got `{text}`")),
    }
}

/// A fitted model and a label matrix aligned to its LFs, with the matrix file's own gold
/// labels (WRENCH splits) if any. A matrix without metadata is read with the model's number
/// of classes unless `cardinality` says otherwise.
pub(crate) fn model_and_matrix(
    model: &std::path::Path,
    matrix: &std::path::Path,
    cardinality: Option<usize>,
) -> anyhow::Result<(
    labelgen::model::FittedModel,
    labelgen::LabelMatrix,
    Option<Vec<i64>>,
)> {
    let fitted = labelgen::model::read_model(model)?;
    let options = labelgen::io::matrix_read::ReadOptions {
        cardinality,
        fallback_cardinality: Some(fitted.classes.len()),
    };
    let loaded = labelgen::io::matrix_read::read_matrix(matrix, &options)?;
    let aligned = fitted.align(loaded.matrix).map_err(|message| {
        anyhow::anyhow!(
            "`{}` does not fit model `{}`: {message}",
            matrix.display(),
            model.display()
        )
    })?;
    Ok((fitted, aligned, loaded.gold))
}
