//! `labelgen evaluate`: accuracy, macro-F1 and a per-class table of predictions against gold.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use labelgen::io::gold::read_gold;
use labelgen::io::labels_file::read_labels;
use labelgen::metrics::{Evaluation, evaluate};

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
    let labels: Vec<i8> = table.labels.iter().map(|label| *label as i8).collect();
    let report = evaluate(&labels, &gold, &table.classes);
    if arguments.json {
        super::outln!("{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    super::write_stdout(format_args!("{}", describe(&report)))?;
    Ok(())
}

/// The scores and the per-class table.
fn describe(report: &Evaluation) -> String {
    let mut text = format!(
        "{} rows with gold: accuracy {:.4}, macro-F1 {:.4}, labelled {:.4}\n",
        report.rows, report.accuracy, report.macro_f1, report.coverage
    );
    let width = report
        .classes
        .iter()
        .map(|row| row.class.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        text,
        "{:<width$} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for row in &report.classes {
        let _ = writeln!(
            text,
            "{:<width$} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            row.class, row.precision, row.recall, row.f1, row.support
        );
    }
    text
}
