//! `labelgen score`: accuracy, macro-F1 and coverage of a model's hard labels on gold labels.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use labelgen::io::gold::read_gold;
use labelgen::labels::{RowScores, score_probabilities};
use labelgen::metrics::Scores;
use labelgen::model::TieBreak;

/// Arguments of `labelgen score`.
#[derive(Debug, Args)]
pub struct ScoreArguments {
    /// The fitted model.
    model: PathBuf,
    /// The label matrix of the rows to score (a WRENCH split carries its own gold labels).
    matrix: PathBuf,
    /// Gold labels as FILE:COLUMN (class ids or names; -1 or empty = unknown).
    #[arg(long, value_name = "FILE:COLUMN")]
    gold: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Seed of random tie-breaks.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// Number of classes, for a matrix without labelgen metadata.
    #[arg(long)]
    cardinality: Option<usize>,
    #[command(flatten)]
    prior: super::LabelPrior,
}

#[derive(serde::Serialize)]
struct Report {
    tie_break: TieBreak,
    all_rows: Scores,
    covered_rows: Scores,
}

/// The gold labels: --gold, or the WRENCH split's own; one per row of `matrix`.
fn gold_labels(
    arguments: &ScoreArguments,
    file_gold: Option<Vec<i64>>,
    matrix: &labelgen::LabelMatrix,
) -> anyhow::Result<Vec<i64>> {
    let (gold, source) = match (&arguments.gold, file_gold) {
        (Some(spec), _) => (read_gold(spec, matrix.classes())?, format!("`{spec}`")),
        (None, Some(gold)) => (gold, "the split's `label`s".to_owned()),
        (None, None) => anyhow::bail!(
            "no gold labels: `{}` holds none, pass --gold FILE:COLUMN",
            arguments.matrix.display()
        ),
    };
    if gold.len() != matrix.n_rows() {
        anyhow::bail!(
            "{} gold labels ({source}) for {} rows of `{}`; they must be the same rows in the same \
             order",
            gold.len(),
            matrix.n_rows(),
            arguments.matrix.display()
        );
    }
    Ok(gold)
}

pub fn run(arguments: ScoreArguments) -> anyhow::Result<()> {
    let (model, matrix, file_gold) =
        super::model_and_matrix(&arguments.model, &arguments.matrix, arguments.cardinality)?;
    let (model, _) = arguments.prior.apply(model)?;
    let gold = gold_labels(&arguments, file_gold, &matrix)?;
    let probabilities = model.predict_proba(&matrix);
    let reports: Vec<Report> = [TieBreak::Abstain, TieBreak::Random]
        .into_iter()
        .map(|tie_break| {
            let RowScores { all, covered } =
                score_probabilities(&probabilities, &matrix, &gold, tie_break, arguments.seed);
            Report {
                tie_break,
                all_rows: all,
                covered_rows: covered,
            }
        })
        .collect();
    if arguments.json {
        super::outln!("{}", serde_json::to_string_pretty(&reports)?)?;
        return Ok(());
    }
    let mut text = format!(
        "{:<10} {:<8} {:>6} {:>9} {:>9} {:>9}\n",
        "tie-break", "rows", "n", "accuracy", "macro-F1", "coverage"
    );
    for report in &reports {
        for (name, scores) in [("all", &report.all_rows), ("covered", &report.covered_rows)] {
            let tie = format!("{:?}", report.tie_break).to_lowercase();
            let _ = writeln!(
                text,
                "{tie:<10} {name:<8} {:>6} {:>9.4} {:>9.4} {:>9.4}",
                scores.rows, scores.accuracy, scores.macro_f1, scores.coverage
            );
        }
    }
    super::write_stdout(format_args!("{text}"))?;
    Ok(())
}
