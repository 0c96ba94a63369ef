//! `labelgen evaluate`: accuracy, macro-F1 and a per-class table of predictions against gold.

use std::path::PathBuf;

use clap::Args;
use labelgen::io::gold::read_gold;
use labelgen::io::labels_file::read_labels;
use labelgen::metrics::score;

/// Arguments of `labelgen evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArguments {
    /// Predictions (from `labelgen predict`) or labels (from `labelgen label`).
    predictions: PathBuf,
    /// Gold labels as FILE:COLUMN (class ids or names; -1 or empty = unknown), same rows.
    #[arg(long, value_name = "FILE:COLUMN")]
    gold: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct ClassRow {
    class: String,
    precision: f64,
    recall: f64,
    f1: f64,
    support: usize,
}

#[derive(serde::Serialize)]
struct Report {
    rows: usize,
    accuracy: f64,
    macro_f1: f64,
    coverage: f64,
    classes: Vec<ClassRow>,
    /// `confusion[gold][predicted + 1]` (column 0: no label).
    confusion: Vec<Vec<usize>>,
}

pub fn run(arguments: EvaluateArguments) -> anyhow::Result<()> {
    let table = read_labels(&arguments.predictions, &[])?;
    let gold = read_gold(&arguments.gold, &table.classes)?;
    if gold.len() != table.labels.len() {
        anyhow::bail!(
            "{} gold labels (`{}`) for {} predictions (`{}`); they must be the same rows in the \
             same order",
            gold.len(),
            arguments.gold,
            table.labels.len(),
            arguments.predictions.display()
        );
    }
    let k = table.classes.len();
    let labels: Vec<i8> = table.labels.iter().map(|label| *label as i8).collect();
    let scores = score(&labels, &gold, k, |_| true);
    let mut confusion = vec![vec![0usize; k + 1]; k];
    for (label, truth) in labels.iter().zip(&gold) {
        if *truth >= 0 {
            confusion[*truth as usize][(i16::from(*label) + 1) as usize] += 1;
        }
    }
    let classes = (0..k)
        .map(|class| {
            let right = confusion[class][class + 1];
            let predicted: usize = confusion.iter().map(|row| row[class + 1]).sum();
            let support: usize = confusion[class].iter().sum();
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let (precision, recall) = (ratio(right, predicted), ratio(right, support));
            ClassRow {
                class: table.classes[class].clone(),
                precision,
                recall,
                f1: if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                },
                support,
            }
        })
        .collect();
    let report = Report {
        rows: scores.rows,
        accuracy: scores.accuracy,
        macro_f1: scores.macro_f1,
        coverage: scores.coverage,
        classes,
        confusion,
    };
    if arguments.json {
        super::outln!("{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    super::outln!(
        "{} rows with gold: accuracy {:.4}, macro-F1 {:.4}, labelled {:.4}",
        report.rows,
        report.accuracy,
        report.macro_f1,
        report.coverage
    )?;
    let width = report
        .classes
        .iter()
        .map(|row| row.class.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    super::outln!(
        "{:<width$} {:>9} {:>9} {:>9} {:>8}",
        "class",
        "precision",
        "recall",
        "F1",
        "support"
    )?;
    for row in &report.classes {
        super::outln!(
            "{:<width$} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            row.class,
            row.precision,
            row.recall,
            row.f1,
            row.support
        )?;
    }
    Ok(())
}
