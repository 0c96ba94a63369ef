//! `labelgen label`: probabilistic labels from a fitted model and a label matrix.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use labelgen::io::labels_file::{LabelTable, LabelsMetadata, write_labels};
use labelgen::io::matrix_file::files_written;
use labelgen::io::matrix_read::files_read;
use labelgen::io::paired::read_paired_columns;
use labelgen::model::{TieBreak, hard_labels};

/// Arguments of `labelgen label`.
#[derive(Debug, Args)]
pub struct LabelArguments {
    /// The fitted model (from `labelgen fit`).
    model: PathBuf,
    /// The label matrix to label (same LFs as the model's).
    matrix: PathBuf,
    /// Where to write the labels: .parquet or .csv.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The source table the matrix was applied to, to carry columns over (same rows, same order).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Columns of --data to carry over, comma-separated.
    #[arg(long, value_delimiter = ',', requires = "data")]
    keep_columns: Vec<String>,
    /// How to label rows whose most probable classes tie.
    #[arg(long, value_enum, default_value = "abstain")]
    tie_break: TieBreakArg,
    /// Seed of random tie-breaks.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// Leave out rows no LF voted on.
    #[arg(long)]
    filter_uncovered: bool,
    /// Number of classes, for a matrix without labelgen metadata.
    #[arg(long)]
    cardinality: Option<usize>,
    #[command(flatten)]
    prior: super::LabelPrior,
}

/// Tie-break policies, as the CLI names them.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TieBreakArg {
    /// Label -1.
    Abstain,
    /// A class among the tied, by a hash of the row key and the seed.
    Random,
}

impl From<TieBreakArg> for TieBreak {
    fn from(value: TieBreakArg) -> Self {
        match value {
            TieBreakArg::Abstain => TieBreak::Abstain,
            TieBreakArg::Random => TieBreak::Random,
        }
    }
}

pub fn run(arguments: LabelArguments) -> anyhow::Result<()> {
    let mut inputs = files_read(&arguments.matrix);
    inputs.push(arguments.model.clone());
    inputs.extend(arguments.data.iter().cloned());
    inputs.extend(super::spec_file(&arguments.prior.class_balance_from));
    super::check_outputs(&files_written(&arguments.output), &inputs)?;
    let (model, matrix, _) =
        super::model_and_matrix(&arguments.model, &arguments.matrix, arguments.cardinality)?;
    let (model, prior_source) = arguments.prior.apply(model)?;
    let source = match &arguments.data {
        Some(data) => read_paired_columns(data, &arguments.keep_columns, &matrix)
            .with_context(|| format!("--data `{}`", data.display()))?,
        None => Vec::new(),
    };
    let outside = model.votes_outside_training(&matrix);
    if !outside.is_empty() {
        let listed: Vec<String> = outside
            .iter()
            .map(|(lf, class, count)| format!("`{lf}` {class} x{count}"))
            .collect();
        super::note!(
            "note: {} votes name classes their LF never voted in the training matrix ({}); the \
             model has no parameter for them and counts each as an LF right {:.0} % of the time",
            outside.iter().map(|(_, _, count)| count).sum::<usize>(),
            listed.join(", "),
            100.0 * labelgen::model::generative::prior_accuracy(model.classes.len())
        );
    }
    let probabilities = model.predict_proba(&matrix);
    let tie_break = TieBreak::from(arguments.tie_break);
    let labels = hard_labels(
        &probabilities,
        matrix.row_keys().map(|(_, keys)| keys),
        tie_break,
        arguments.seed,
    );
    let covered = matrix.covered();
    let keep: Vec<bool> = covered
        .iter()
        .map(|covered| *covered || !arguments.filter_uncovered)
        .collect();
    let mut metadata = LabelsMetadata::of_labels(
        &model,
        &matrix,
        tie_break,
        arguments.seed,
        arguments.filter_uncovered,
    );
    if prior_source.is_some() {
        metadata.class_balance_source = prior_source;
    }
    let table = LabelTable {
        keys: matrix.row_keys(),
        source: &source,
        probabilities: &probabilities,
        labels: &labels,
        covered: Some(&covered),
        keep: &keep,
        metadata: &metadata,
    };
    write_labels(&arguments.output, &table)?;
    let written = keep.iter().filter(|keep| **keep).count();
    let unlabelled = labels
        .iter()
        .zip(&keep)
        .filter(|(label, keep)| **keep && **label < 0)
        .count();
    super::outln!(
        "labelled {written} rows ({unlabelled} without a hard label) -> {}",
        arguments.output.display()
    )?;
    Ok(())
}
