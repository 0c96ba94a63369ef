//! `labelgen label`: probabilistic labels from a fitted model and a label matrix.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use labelgen::io::labels_file::write_labels;
use labelgen::io::matrix_file::files_written;
use labelgen::io::matrix_read::files_read;
use labelgen::io::paired::read_paired_columns;
use labelgen::labels::{LabelOptions, label, outside_training_note};
use labelgen::model::TieBreak;

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
    if let Some(note) = outside_training_note(&model, &matrix) {
        super::note!("{note}");
    }
    let options = LabelOptions {
        tie_break: arguments.tie_break.into(),
        seed: arguments.seed,
        filter_uncovered: arguments.filter_uncovered,
    };
    let mut labels = label(&model, &matrix, &options);
    if prior_source.is_some() {
        labels.metadata.class_balance_source = prior_source;
    }
    write_labels(&arguments.output, &labels.table(&matrix, &source))?;
    super::outln!(
        "labelled {} rows ({} without a hard label) -> {}",
        labels.written(),
        labels.without_hard_label(),
        arguments.output.display()
    )?;
    Ok(())
}
