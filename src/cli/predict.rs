//! `labelgen predict`: class probabilities for texts from a trained classifier.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use labelgen::endmodel::read_classifier;
use labelgen::io::labels_file::write_labels;
use labelgen::io::matrix_file::files_written;
use labelgen::io::open::read_columns;
use labelgen::matrix::RowKeys;

/// Arguments of `labelgen predict`.
#[derive(Debug, Args)]
pub struct PredictArguments {
    /// The classifier (from `labelgen train`).
    model: PathBuf,
    /// The table of texts to classify.
    data: PathBuf,
    /// The text column.
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Where to write predictions: .parquet or .csv.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// A column to carry as the row key.
    #[arg(long)]
    id_column: Option<String>,
    /// Columns of the data to carry over, comma-separated.
    #[arg(long, value_delimiter = ',')]
    keep_columns: Vec<String>,
    /// Seed of the tie-break between equally probable classes (hashed with the row key).
    #[arg(long, default_value_t = 123)]
    seed: u64,
}

pub fn run(arguments: PredictArguments) -> anyhow::Result<()> {
    let started = Instant::now();
    super::check_outputs(
        &files_written(&arguments.output),
        &[arguments.model.clone(), arguments.data.clone()],
    )?;
    let model = read_classifier(&arguments.model)?;
    let mut names = vec![arguments.text_column.clone()];
    names.extend(arguments.id_column.iter().cloned());
    names.extend(arguments.keep_columns.iter().cloned());
    let mut columns = read_columns(&arguments.data, &names)
        .with_context(|| format!("reading `{}`", arguments.data.display()))?
        .into_iter();
    let (_, text_column) = columns.next().expect("text column requested");
    let texts = super::train::text_values(&text_column, &arguments.text_column, &arguments.data)?;
    let keys = match &arguments.id_column {
        Some(name) => {
            let (_, column) = columns.next().expect("id column requested");
            Some((name.as_str(), RowKeys::from_column(&column)))
        }
        None => None,
    };
    let source: Vec<_> = columns.collect();
    let data_hash = blake3::hash(
        &std::fs::read(&arguments.data)
            .with_context(|| format!("hashing `{}`", arguments.data.display()))?,
    );
    let key_column = keys.as_ref().map(|(name, keys)| (*name, keys));
    let seed = arguments.seed;
    let hash = data_hash.to_hex().to_string();
    let predictions = model.predict(&texts, key_column.map(|(_, keys)| keys), seed, hash);
    write_labels(&arguments.output, &predictions.table(key_column, &source))?;
    let elapsed = started.elapsed().as_secs_f64();
    super::outln!(
        "predicted {} rows in {:.2} s ({:.0} rows/s); wrote {}",
        texts.len(),
        elapsed,
        texts.len() as f64 / elapsed.max(1e-9),
        arguments.output.display()
    )?;
    Ok(())
}
