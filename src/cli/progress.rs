//! The progress bar (only on a terminal) and the closing summary of `apply`.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use labelgen::LabelMatrix;
use labelgen::apply::Progress;

/// A progress bar on stderr, shown only when stderr is a terminal and not quiet.
pub struct BarProgress {
    bar: Option<ProgressBar>,
}

impl BarProgress {
    pub fn new(quiet: bool) -> Self {
        let show = !quiet && std::io::stderr().is_terminal();
        BarProgress {
            bar: show.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for BarProgress {
    fn start(&self, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}",
            )
            .expect("valid template");
            bar.set_style(style);
        }
    }

    fn update(&self, position: u64, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(format!("{rows} rows"));
        }
    }
}

/// The closing summary: rows, LFs, per-LF coverage, elapsed time and throughput.
pub fn summary(matrix: &LabelMatrix, output: &Path, elapsed: f64) -> String {
    let rows = matrix.n_rows();
    let rate = if elapsed > 0.0 {
        rows as f64 / elapsed
    } else {
        0.0
    };
    let mut text = format!(
        "applied {} LFs to {} rows in {:.2} s ({:.0} rows/s) -> {}\n",
        matrix.n_lfs(),
        rows,
        elapsed,
        rate,
        output.display()
    );
    let width = matrix
        .lf_names()
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(8);
    text.push_str(&format!("  {:<width$}  coverage\n", "LF"));
    for (name, coverage) in matrix.lf_names().iter().zip(matrix.lf_coverage()) {
        text.push_str(&format!("  {name:<width$}  {:>7.2}%\n", coverage * 100.0));
    }
    text.push_str(&format!(
        "  {:<width$}  {:>7.2}%\n",
        "(any LF)",
        matrix.label_coverage() * 100.0
    ));
    text
}
