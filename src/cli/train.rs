//! `labelgen train`: a noise-aware text classifier on probabilistic labels.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use labelgen::endmodel::features::FeatureConfig;
use labelgen::endmodel::{
    ClassWeights, Classifier, TrainOptions, TrainingRows, Validation, rows_kept, train,
};
use labelgen::io::gold::read_gold;
use labelgen::io::labels_file::read_labels;
use labelgen::io::open::read_columns;
use labelgen::io::table::Column;

/// Arguments of `labelgen train`.
#[derive(Debug, Args)]
pub struct TrainArguments {
    /// The labels table from `labelgen label` (p_<class> columns, label, covered).
    labels: PathBuf,
    /// The text column to learn from.
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Where to write the classifier (JSON).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Validation rows with gold labels (any table labelgen reads), for model selection and
    /// early stopping.
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    /// Gold column of --valid (class ids or names).
    #[arg(long, default_value = "label", requires = "valid")]
    valid_gold: String,
    /// Text column of --valid (default: --text-column).
    #[arg(long, requires = "valid")]
    valid_text_column: Option<String>,
    /// Train on the most probable class (one-hot) instead of the probabilities.
    #[arg(long)]
    hard: bool,
    /// Keep the rows no LF covered (left out by default).
    #[arg(long)]
    include_uncovered: bool,
    /// Class weights: `balanced`, or one weight per class (comma-separated).
    #[arg(long, value_name = "balanced|W1,W2,..")]
    class_weight: Option<String>,
    /// L2 strength (default 1/n; with --valid the best of 0.1/n, 1/n, 10/n).
    #[arg(long)]
    l2: Option<f64>,
    /// L-BFGS iteration limit.
    #[arg(long, default_value_t = TrainOptions::default().max_iterations)]
    max_iterations: u64,
    /// Feature buckets: 2^BITS.
    #[arg(long, default_value_t = FeatureConfig::default().hash_bits, value_parser = clap::value_parser!(u32).range(8..=24))]
    hash_bits: u32,
    /// Word n-grams from 1 to N.
    #[arg(long, default_value_t = FeatureConfig::default().word_ngrams)]
    word_ngrams: usize,
    /// Character n-grams inside words, as MIN-MAX (for example 3-5), or `none`.
    #[arg(long, value_name = "MIN-MAX|none", default_value = "4-4", value_parser = parse_char_ngrams)]
    char_ngrams: CharNgrams,
    /// Raw term counts instead of 1 + ln(count).
    #[arg(long)]
    raw_tf: bool,
}

/// `--char-ngrams`: a range of lengths, or none.
#[derive(Clone, Copy, Debug)]
struct CharNgrams(Option<(usize, usize)>);

fn parse_char_ngrams(text: &str) -> Result<CharNgrams, String> {
    if text == "none" {
        return Ok(CharNgrams(None));
    }
    parse_range(text)
        .map(|range| CharNgrams(Some(range)))
        .map_err(|error| format!("{error} (or `none`)"))
}

fn parse_range(text: &str) -> Result<(usize, usize), String> {
    let (low, high) = text
        .split_once('-')
        .ok_or_else(|| format!("expected MIN-MAX, got `{text}`"))?;
    let low: usize = low
        .parse()
        .map_err(|_| format!("`{low}` is not a number"))?;
    let high: usize = high
        .parse()
        .map_err(|_| format!("`{high}` is not a number"))?;
    if low == 0 || low > high {
        return Err(format!("need 1 <= MIN <= MAX, got {low}-{high}"));
    }
    Ok((low, high))
}

/// Text of every row of `column` (named `name` in `path`), refusing non-text columns.
pub(crate) fn text_values(
    column: &Column,
    name: &str,
    path: &std::path::Path,
) -> anyhow::Result<Vec<String>> {
    if column.column_type() != labelgen::io::table::ColumnType::Text {
        anyhow::bail!(
            "column `{name}` of `{}` is {}, not text",
            path.display(),
            column.column_type()
        );
    }
    Ok(column.texts())
}

pub fn run(arguments: TrainArguments) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut inputs = vec![arguments.labels.clone()];
    inputs.extend(arguments.valid.iter().cloned());
    super::check_outputs(std::slice::from_ref(&arguments.output), &inputs)?;
    let (labels, text_column) = (&arguments.labels, &arguments.text_column);
    let table = read_labels(labels, std::slice::from_ref(text_column))?;
    let texts = text_values(&table.columns[0].1, text_column, labels)?;
    let covered = table.covered.as_deref();
    let keep = rows_kept(covered, arguments.include_uncovered, texts.len());
    let options = train_options(&arguments)?;
    let validation_data = read_validation(&arguments, &table.classes)?;
    let validation = validation_data.as_ref().map(|(texts, gold)| Validation {
        texts: texts.as_slice(),
        gold: gold.as_slice(),
    });
    let rows = TrainingRows {
        texts: &texts,
        targets: &table.probabilities,
        keep: &keep,
        hard: arguments.hard,
    };
    let mut model = train(&rows, &table.classes, &options, validation.as_ref())
        .with_context(|| format!("training on `{}`", arguments.labels.display()))?;
    let bytes = std::fs::read(&arguments.labels)
        .with_context(|| format!("hashing `{}`", arguments.labels.display()))?;
    model.training.labels_hash = Some(blake3::hash(&bytes).to_hex().to_string());
    model.write(&arguments.output)?;
    let text = describe(
        &model,
        texts.len(),
        started.elapsed().as_secs_f64(),
        &arguments.output,
    );
    super::write_stdout(format_args!("{text}"))?;
    Ok(())
}

/// The training options of the arguments.
fn train_options(arguments: &TrainArguments) -> anyhow::Result<TrainOptions> {
    let class_weights = match arguments.class_weight.as_deref() {
        None => ClassWeights::None,
        Some(text) => text
            .parse()
            .map_err(|error| anyhow::anyhow!("--class-weight: {error}"))?,
    };
    Ok(TrainOptions {
        features: FeatureConfig {
            hash_bits: arguments.hash_bits,
            word_ngrams: arguments.word_ngrams,
            char_ngrams: arguments.char_ngrams.0,
            sublinear_tf: !arguments.raw_tf,
        },
        l2: arguments.l2,
        max_iterations: arguments.max_iterations,
        class_weights,
        ..TrainOptions::default()
    })
}

/// The texts and gold labels of `--valid`, if given.
fn read_validation(
    arguments: &TrainArguments,
    classes: &[String],
) -> anyhow::Result<Option<(Vec<String>, Vec<i64>)>> {
    let Some(path) = &arguments.valid else {
        return Ok(None);
    };
    let column = arguments
        .valid_text_column
        .clone()
        .unwrap_or_else(|| arguments.text_column.clone());
    let read = read_columns(path, std::slice::from_ref(&column))
        .with_context(|| format!("reading --valid `{}`", path.display()))?;
    let valid_texts = text_values(&read[0].1, &column, path)?;
    let spec = format!("{}:{}", path.display(), arguments.valid_gold);
    let gold = read_gold(&spec, classes)?;
    if gold.iter().all(|label| *label < 0) {
        anyhow::bail!("--valid `{}` has no known gold label", path.display());
    }
    Ok(Some((valid_texts, gold)))
}

/// What was trained: rows, the optimiser, the validation rounds, the speed.
fn describe(model: &Classifier, rows: usize, elapsed: f64, output: &Path) -> String {
    let info = &model.training;
    let mut text = format!(
        "trained on {} rows ({} targets; {} uncovered rows left out), classes {}\n",
        info.rows,
        info.targets,
        info.excluded_uncovered,
        model.classes.join(", ")
    );
    let _ = writeln!(
        text,
        "L2 {:.3e}; {} L-BFGS iterations, {}; objective {:.6}",
        info.l2,
        info.report.iterations,
        if info.report.converged {
            "converged"
        } else {
            "stopped at the limit or early"
        },
        info.report.objective
    );
    if !info.validation.is_empty() {
        text.push_str("validation (model selection and early stopping):\n");
        let _ = writeln!(
            text,
            "{:>12} {:>10} {:>9} {:>9}",
            "L2", "iterations", "accuracy", "macro-F1"
        );
        for candidate in &info.validation {
            let chosen = if candidate.l2 == info.l2 {
                "  <- chosen"
            } else {
                ""
            };
            let _ = writeln!(
                text,
                "{:>12.3e} {:>10} {:>9.4} {:>9.4}{chosen}",
                candidate.l2, candidate.iterations, candidate.accuracy, candidate.macro_f1
            );
        }
    }
    let _ = writeln!(
        text,
        "{} nonzero feature weights; {:.2} s ({:.0} rows/s); wrote {}",
        model.weights.len(),
        elapsed,
        rows as f64 / elapsed.max(1e-9),
        output.display()
    );
    text
}
