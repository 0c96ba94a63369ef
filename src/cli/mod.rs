//! Command-line glue: one file per subcommand, each a short `run`.

mod apply;
mod fit;
mod label;
mod progress;
mod score;

use clap::{Parser, Subcommand};

/// labelgen: weak-supervision labeling engine.
#[derive(Debug, Parser)]
#[command(name = "labelgen", version, about, propagate_version = true)]
pub struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply labeling functions to a table and write the label matrix.
    Apply(apply::ApplyArguments),
    /// Fit a label model to a label matrix.
    Fit(fit::FitArguments),
    /// Write probabilistic labels for a label matrix with a fitted model.
    Label(label::LabelArguments),
    /// Score a model's labels against gold labels.
    Score(score::ScoreArguments),
}

/// Run the chosen subcommand.
pub fn run(arguments: Arguments) -> anyhow::Result<()> {
    match arguments.command {
        Command::Apply(arguments) => apply::run(arguments),
        Command::Fit(arguments) => fit::run(arguments),
        Command::Label(arguments) => label::run(arguments),
        Command::Score(arguments) => score::run(arguments),
    }
}

/// Parse `KEY=VALUE`.
pub(crate) fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() && !value.is_empty() => {
            Ok((key.to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected LF_COLUMN=DATA_COLUMN, got `{text}`")),
    }
}
