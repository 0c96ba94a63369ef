//! `labelgen analyze`: per-LF coverage, overlap, conflict and accuracy, in the terminal, as
//! JSON or CSV, as an HTML report, and drill-down into the rows behind the numbers.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use labelgen::analysis::{Show, analyze, drill_down};
use labelgen::io::atomic::AtomicFile;
use labelgen::io::gold::read_gold;
use labelgen::io::matrix_read::{ReadOptions, files_read, read_matrix};
use labelgen::io::paired::read_paired_columns;
use labelgen::model::{FittedModel, read_model};
use labelgen::report::html::{ReportContext, render_html};
use labelgen::report::{
    render_csv, render_json, render_samples, render_table, report_samples, samples,
};

/// Arguments of `labelgen analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArguments {
    /// The label matrix (a WRENCH split brings its own gold labels and texts).
    matrix: PathBuf,
    /// Gold labels as FILE:COLUMN (class ids or names; -1 or empty = unknown).
    #[arg(long, value_name = "FILE:COLUMN")]
    gold: Option<String>,
    /// A fitted model, for each LF's learned accuracy.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the summary to this file instead of the terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The table the matrix was applied to (same rows, same order), for sample rows.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Columns of the data to show, comma-separated (default: the columns the LFs read).
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Show sample rows of this LF instead of the summary.
    #[arg(long, value_name = "NAME")]
    lf: Option<String>,
    /// Which rows of --lf to show.
    #[arg(long, value_enum, default_value = "fires", requires = "lf")]
    show: ShowArg,
    /// How many rows to show (per LF in the HTML report).
    #[arg(long, default_value_t = 10)]
    sample: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// Number of classes, for a matrix without labelgen metadata.
    #[arg(long)]
    cardinality: Option<usize>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    /// An aligned table.
    Table,
    /// Every figure, pairwise matrices and confusion matrices included.
    Json,
    /// The per-LF table.
    Csv,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ShowArg {
    /// Rows where the LF voted.
    Fires,
    /// Rows where another LF voted a different class.
    Conflicts,
    /// Rows where the LF is wrong on gold (needs gold labels).
    Errors,
}

impl From<ShowArg> for Show {
    fn from(value: ShowArg) -> Self {
        match value {
            ShowArg::Fires => Show::Fires,
            ShowArg::Conflicts => Show::Conflicts,
            ShowArg::Errors => Show::Errors,
        }
    }
}

fn is_wrench(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
}

pub fn run(arguments: AnalyzeArguments) -> anyhow::Result<()> {
    let (matrix, gold, model) = read_inputs(&arguments)?;
    let analysis = analyze(&matrix, gold.as_deref(), model.as_ref())
        .with_context(|| format!("analysing `{}`", arguments.matrix.display()))?;
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none()
        && arguments.output.is_none();
    let columns = sample_columns(&arguments, &matrix)?;
    if let Some(name) = &arguments.lf {
        let text = drill_down_text(&arguments, name, &matrix, gold.as_deref(), &columns, colour)?;
        return emit(arguments.output.as_deref(), &text);
    }
    if let Some(path) = &arguments.html {
        let html = html_report(&arguments, &matrix, gold.as_deref(), &analysis, &columns)?;
        write_atomically(path, html.as_bytes())?;
    }
    let text = match arguments.format {
        Format::Table => render_table(&analysis, colour),
        Format::Json => render_json(&analysis),
        Format::Csv => render_csv(&analysis),
    };
    emit(arguments.output.as_deref(), &text)?;
    if let Some(path) = &arguments.html {
        super::note!("wrote {}", path.display());
    }
    Ok(())
}

/// The matrix, its gold labels (--gold, or a WRENCH split's own) and the model, once the
/// outputs are known not to replace them.
fn read_inputs(
    arguments: &AnalyzeArguments,
) -> anyhow::Result<(labelgen::LabelMatrix, Option<Vec<i64>>, Option<FittedModel>)> {
    let mut inputs = files_read(&arguments.matrix);
    inputs.extend(arguments.model.iter().chain(&arguments.data).cloned());
    inputs.extend(super::spec_file(&arguments.gold));
    let outputs: Vec<PathBuf> = arguments
        .output
        .iter()
        .chain(&arguments.html)
        .cloned()
        .collect();
    super::check_outputs(&outputs, &inputs)?;
    let model = arguments.model.as_deref().map(read_model).transpose()?;
    let options = ReadOptions {
        cardinality: arguments.cardinality,
        fallback_cardinality: model.as_ref().map(|model| model.classes.len()),
    };
    let loaded = read_matrix(&arguments.matrix, &options)?;
    let matrix = loaded.matrix;
    let gold = match (&arguments.gold, loaded.gold) {
        (Some(spec), _) => Some(read_gold(spec, matrix.classes())?),
        (None, gold) => gold,
    };
    Ok((matrix, gold, model))
}

/// The sample rows of one LF (--lf), as text or JSON.
fn drill_down_text(
    arguments: &AnalyzeArguments,
    name: &str,
    matrix: &labelgen::LabelMatrix,
    gold: Option<&[i64]>,
    columns: &[(String, labelgen::io::table::Column)],
    colour: bool,
) -> anyhow::Result<String> {
    let (show, sample, seed) = (arguments.show.into(), arguments.sample, arguments.seed);
    let rows = drill_down(matrix, name, show, gold, sample, seed)?;
    let shown = samples(matrix, rows, gold, columns);
    Ok(match arguments.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&shown)?),
        _ => render_samples(&shown, colour),
    })
}

/// The data columns shown beside sample rows (for --lf and --html): --columns or the LFs'
/// columns, from --data or the WRENCH split itself; none otherwise.
fn sample_columns(
    arguments: &AnalyzeArguments,
    matrix: &labelgen::LabelMatrix,
) -> anyhow::Result<Vec<(String, labelgen::io::table::Column)>> {
    let data = arguments
        .data
        .clone()
        .or_else(|| is_wrench(&arguments.matrix).then(|| arguments.matrix.clone()));
    match &data {
        Some(data) if arguments.lf.is_some() || arguments.html.is_some() => {
            let names = if !arguments.columns.is_empty() {
                arguments.columns.clone()
            } else {
                default_columns(matrix)
            };
            read_paired_columns(data, &names, matrix)
                .with_context(|| format!("reading sample columns from `{}`", data.display()))
        }
        _ => Ok(Vec::new()),
    }
}

/// The HTML report, with sample rows when there are columns to show.
fn html_report(
    arguments: &AnalyzeArguments,
    matrix: &labelgen::LabelMatrix,
    gold: Option<&[i64]>,
    analysis: &labelgen::analysis::Analysis,
    columns: &[(String, labelgen::io::table::Column)],
) -> anyhow::Result<String> {
    let blocks = report_samples(matrix, gold, columns, arguments.sample, arguments.seed)?;
    let gold_source = arguments
        .gold
        .clone()
        .or_else(|| gold.map(|_| arguments.matrix.display().to_string()));
    let context = ReportContext {
        matrix: arguments.matrix.display().to_string(),
        gold: gold_source,
        model: arguments
            .model
            .as_ref()
            .map(|path| path.display().to_string()),
        generated_by: format!("labelgen {}", env!("CARGO_PKG_VERSION")),
        fingerprint: matrix.fingerprint(),
        samples: blocks,
    };
    Ok(render_html(analysis, &context))
}

/// The data columns the matrix's LFs read (as named in the data, in LF order), or `text`.
fn default_columns(matrix: &labelgen::LabelMatrix) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(provenance) = matrix.provenance() {
        for lf in &provenance.lfs {
            for (column, _) in &lf.columns {
                let name = provenance
                    .column_map
                    .get(column)
                    .cloned()
                    .unwrap_or_else(|| column.clone());
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    if names.is_empty() {
        names.push("text".to_owned());
    }
    names
}

fn emit(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => super::write_stdout(format_args!("{text}")),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.writer()
        .write_all(bytes)
        .map_err(|error| file.error(error))?;
    file.commit()?;
    Ok(())
}
