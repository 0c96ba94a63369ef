//! `labelgen stats`: the sufficient statistics of a label matrix (one shard of a dataset), for
//! `labelgen fit part1.stats part2.stats ...`.

use std::path::PathBuf;

use clap::Args;
use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::statistics::Statistics;

/// Arguments of `labelgen stats`.
#[derive(Debug, Args)]
pub struct StatsArguments {
    /// The label matrix: .parquet or .csv from `apply`, another tool's integer votes, or a
    /// WRENCH split .json.
    matrix: PathBuf,
    /// Where to write the statistics (.stats).
    #[arg(short, long, value_name = "FILE.stats")]
    output: PathBuf,
    /// Number of classes, for a matrix without labelgen metadata.
    #[arg(long)]
    cardinality: Option<usize>,
}

pub fn run(arguments: StatsArguments) -> anyhow::Result<()> {
    super::check_outputs(
        std::slice::from_ref(&arguments.output),
        std::slice::from_ref(&arguments.matrix),
    )?;
    let options = ReadOptions {
        cardinality: arguments.cardinality,
        ..ReadOptions::default()
    };
    let matrix = read_matrix(&arguments.matrix, &options)?.matrix;
    let statistics = Statistics::of(&matrix);
    statistics.write(&arguments.output)?;
    super::write_stdout(format_args!(
        "{} rows, {} distinct vote rows, {} LFs -> {}\n",
        statistics.patterns.n_rows(),
        statistics.patterns.len(),
        statistics.lfs.len(),
        arguments.output.display()
    ))
}
