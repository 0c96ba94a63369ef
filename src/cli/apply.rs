//! `labelgen apply`: LFs over a table, into a label matrix file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use labelgen::apply::{ApplyOptions, apply};
use labelgen::io::matrix_file::{MatrixOutput, files_written};
use labelgen::lf::{LfOrigin, LfSet, LfSource};

use super::progress::BarProgress;

/// Arguments of `labelgen apply`.
#[derive(Debug, Args)]
pub struct ApplyArguments {
    /// The rows: .csv, .tsv, .parquet, .ndjson/.jsonl, or a WRENCH split .json.
    #[arg(required_unless_present = "list_lfs")]
    data: Option<PathBuf>,
    /// A declarative LF file (TOML). Repeatable.
    #[arg(long = "lfs", value_name = "FILE.toml")]
    lf_files: Vec<PathBuf>,
    /// A plugin library built against labelgen-sdk. Repeatable.
    #[arg(long = "plugin", value_name = "LIB.so")]
    plugins: Vec<PathBuf>,
    /// The label matrix to write: .parquet or .csv.
    #[arg(short, long, value_name = "FILE", required_unless_present = "list_lfs")]
    output: Option<PathBuf>,
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
    /// List the LFs the sources define (name, kind, columns read, source) and exit, reading no
    /// data.
    #[arg(long, conflicts_with_all = ["data", "output"])]
    list_lfs: bool,
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
    let set = LfSet::load(&sources)?;
    let (Some(data), Some(output_path)) = (arguments.data, arguments.output) else {
        super::write_stdout(format_args!("{}", list(&set)))?;
        return Ok(());
    };
    let mut inputs = vec![data.clone()];
    inputs.extend(arguments.lf_files.iter().chain(&arguments.plugins).cloned());
    super::check_outputs(&files_written(&output_path), &inputs)?;
    let output = MatrixOutput::create(&output_path)?;
    let options = ApplyOptions {
        column_map: arguments.columns.into_iter().collect(),
        id_column: arguments.id_column,
        format: None,
        batch_rows: arguments.batch_rows,
    };
    let progress = BarProgress::new(arguments.quiet);
    let matrix = apply(&set, &data, &options, &progress)
        .with_context(|| format!("applying LFs to `{}`", data.display()))?;
    progress.finish();
    output.write(&matrix)?;
    if !arguments.quiet {
        let elapsed = started.elapsed().as_secs_f64();
        super::write_stdout(format_args!(
            "{}",
            super::progress::summary(&matrix, &output_path, elapsed)
        ))?;
    }
    Ok(())
}

/// One line per LF, in label-matrix column order, under a header naming the classes.
fn list(set: &LfSet) -> String {
    let rows: Vec<[String; 4]> = set
        .lfs()
        .iter()
        .map(|info| {
            let (kind, source) = match &info.origin {
                LfOrigin::Declarative { file, kind } => (kind.clone(), file.display().to_string()),
                LfOrigin::Plugin {
                    library, plugin, ..
                } => (format!("plugin {plugin}"), library.display().to_string()),
            };
            let columns: Vec<String> = info
                .columns
                .iter()
                .map(|(name, column_type)| format!("{name} ({column_type})"))
                .collect();
            [info.name.clone(), kind, columns.join(", "), source]
        })
        .collect();
    let header = ["lf", "kind", "columns", "source"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|at| {
            rows.iter()
                .chain([&header])
                .map(|row| row[at].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "{} LFs; classes: {}\n",
        rows.len(),
        set.classes().join(", ")
    );
    for row in std::iter::once(&header).chain(&rows) {
        for (at, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", row[at]));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}
