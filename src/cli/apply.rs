//! `labelgen apply`: LFs over a table, into a label matrix file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use labelgen::apply::{ApplyOptions, apply};
use labelgen::io::matrix_file::{MatrixOutput, files_written};
use labelgen::lf::{LfSet, LfSource};

use super::progress::BarProgress;

/// Arguments of `labelgen apply`.
#[derive(Debug, Args)]
pub struct ApplyArguments {
    /// The rows: .csv, .tsv, .parquet, .ndjson/.jsonl, or a WRENCH split .json.
    data: PathBuf,
    /// A declarative LF file (TOML). Repeatable.
    #[arg(long = "lfs", value_name = "FILE.toml")]
    lf_files: Vec<PathBuf>,
    /// A plugin library built against labelgen-sdk. Repeatable.
    #[arg(long = "plugin", value_name = "LIB.so")]
    plugins: Vec<PathBuf>,
    /// The label matrix to write: .parquet or .csv.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Read the LFs' column LF_COLUMN from the data column DATA_COLUMN. Repeatable.
    #[arg(long = "column", value_name = "LF_COLUMN=DATA_COLUMN", value_parser = super::key_value)]
    columns: Vec<(String, String)>,
    /// Carry this data column into the matrix as the row key.
    #[arg(long, value_name = "COLUMN")]
    id_column: Option<String>,
    /// Rows per input batch (memory holds about two batches plus the matrix; a batch also
    /// ends at 64 MiB of values).
    #[arg(long, default_value_t = 65536, value_name = "ROWS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    batch_rows: usize,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

/// LF columns come in this order: every `--lfs` file in the order given, then every
/// `--plugin` in the order given; within a source, in definition order.
pub fn run(arguments: ApplyArguments) -> anyhow::Result<()> {
    let started = Instant::now();
    let sources: Vec<LfSource> = arguments
        .lf_files
        .iter()
        .cloned()
        .map(LfSource::Declarative)
        .chain(arguments.plugins.iter().cloned().map(LfSource::Plugin))
        .collect();
    if sources.is_empty() {
        anyhow::bail!(
            "no labeling functions: give at least one --lfs FILE.toml or --plugin LIB.so"
        );
    }
    let mut inputs = vec![arguments.data.clone()];
    inputs.extend(arguments.lf_files.iter().chain(&arguments.plugins).cloned());
    super::check_outputs(&files_written(&arguments.output), &inputs)?;
    let set = LfSet::load(&sources)?;
    let output = MatrixOutput::create(&arguments.output)?;
    let options = ApplyOptions {
        column_map: arguments.columns.into_iter().collect(),
        id_column: arguments.id_column,
        format: None,
        batch_rows: arguments.batch_rows,
    };
    let progress = BarProgress::new(arguments.quiet);
    let matrix = apply(&set, &arguments.data, &options, &progress)
        .with_context(|| format!("applying LFs to `{}`", arguments.data.display()))?;
    progress.finish();
    output.write(&matrix)?;
    if !arguments.quiet {
        let elapsed = started.elapsed().as_secs_f64();
        super::write_stdout(format_args!(
            "{}",
            super::progress::summary(&matrix, &arguments.output, elapsed)
        ))?;
    }
    Ok(())
}
