//! Rendering an [`Analysis`]: an aligned text table (optionally coloured), CSV, JSON and a
//! self-contained HTML report ([`html`]). Rendering returns strings; the caller decides where
//! they go.

pub mod html;

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::{Analysis, DrillDown, LfSummary};

/// ANSI styles, used only when the caller says the output is a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, text: &str, code: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Column headers of the per-LF table, Snorkel's names first.
fn headers(analysis: &Analysis) -> Vec<&'static str> {
    let mut headers = vec!["j", "LF", "Polarity", "Coverage", "Overlaps", "Conflicts"];
    if analysis.matrix.gold_rows.is_some() {
        headers.extend(["Correct", "Incorrect", "Emp. Acc.", "95% CI"]);
    }
    if analysis.lfs.iter().any(|lf| lf.learned_accuracy.is_some()) {
        headers.push("Learned Acc.");
    }
    headers
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.4}"))
}

/// The cells of one LF's row, as text, with a flag for cells worth a warning colour.
fn cells(analysis: &Analysis, lf: &LfSummary) -> Vec<(String, bool)> {
    let polarity = lf
        .polarity
        .iter()
        .map(|class| analysis.matrix.classes[*class].as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut cells = vec![
        (lf.j.to_string(), false),
        (lf.name.clone(), false),
        (polarity, false),
        (format!("{:.4}", lf.coverage), lf.coverage == 0.0),
        (format!("{:.4}", lf.overlaps), false),
        (format!("{:.4}", lf.conflicts), false),
    ];
    if analysis.matrix.gold_rows.is_some() {
        let interval = lf.empirical_accuracy_interval.map_or_else(
            || "-".to_owned(),
            |[low, high]| format!("{low:.2}-{high:.2}"),
        );
        cells.extend([
            (lf.correct.unwrap_or(0).to_string(), false),
            (lf.incorrect.unwrap_or(0).to_string(), false),
            (
                optional(lf.empirical_accuracy),
                lf.empirical_accuracy.is_some_and(|accuracy| accuracy < 0.5),
            ),
            (interval, false),
        ]);
    }
    if analysis.lfs.iter().any(|lf| lf.learned_accuracy.is_some()) {
        cells.push((
            optional(lf.learned_accuracy),
            lf.learned_accuracy.is_some_and(|accuracy| accuracy < 0.5),
        ));
    }
    cells
}

/// The per-LF table, the matrix-level figures and the most conflicting LF pairs, aligned for
/// a terminal; `colour` adds ANSI colours (bold headers, red for accuracies below 0.5 and for
/// LFs that never vote).
pub fn render_table(analysis: &Analysis, colour: bool) -> String {
    let style = Style { on: colour };
    let headers = headers(analysis);
    let rows: Vec<Vec<(String, bool)>> =
        analysis.lfs.iter().map(|lf| cells(analysis, lf)).collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].0.chars().count())
                .chain([headers[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Text columns (LF name, polarity) are left-aligned, numbers right-aligned.
    let pad = |text: &str, column: usize| {
        let fill = " ".repeat(widths[column] - text.chars().count());
        if column == 1 || column == 2 {
            format!("{text}{fill}")
        } else {
            format!("{fill}{text}")
        }
    };
    let mut out = String::new();
    let header: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(column, name)| pad(name, column))
        .collect();
    let _ = writeln!(out, "{}", style.paint(header.join("  ").trim_end(), "1"));
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(column, (text, warn))| {
                let padded = pad(text, column);
                if *warn {
                    style.paint(&padded, "31")
                } else {
                    padded
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let summary = &analysis.matrix;
    let _ = writeln!(
        out,
        "\n{} rows, {} LFs, classes {}",
        summary.rows,
        summary.lfs,
        summary.classes.join(", ")
    );
    let _ = writeln!(
        out,
        "label coverage {:.4}  overlap {:.4}  conflict {:.4}  ties {:.4}",
        summary.label_coverage, summary.label_overlap, summary.label_conflict, summary.tie_fraction
    );
    let shares: Vec<String> = summary
        .classes
        .iter()
        .zip(&summary.vote_share)
        .map(|(class, share)| format!("{class} {share:.4}"))
        .collect();
    let _ = writeln!(out, "votes per class: {}", shares.join(", "));
    if let (Some(rows), Some(balance)) = (summary.gold_rows, &summary.gold_balance) {
        let balance: Vec<String> = summary
            .classes
            .iter()
            .zip(balance)
            .map(|(class, share)| format!("{class} {share:.4}"))
            .collect();
        let _ = writeln!(
            out,
            "gold: {rows} rows with a label; {}",
            balance.join(", ")
        );
    }
    let pairs = top_conflicts(analysis, 5);
    if !pairs.is_empty() {
        let _ = writeln!(out, "most conflicting pairs (fraction of rows):");
        for (a, b, rate) in pairs {
            let _ = writeln!(
                out,
                "  {:.4}  {} / {}",
                rate, analysis.lfs[a].name, analysis.lfs[b].name
            );
        }
    }
    out
}

/// Up to `count` LF pairs with the highest conflict rate (ties by column order), nonzero only.
pub fn top_conflicts(analysis: &Analysis, count: usize) -> Vec<(usize, usize, f64)> {
    let conflict = &analysis.pairwise.conflict;
    let mut pairs: Vec<(usize, usize, f64)> = (0..conflict.len())
        .flat_map(|a| (a + 1..conflict.len()).map(move |b| (a, b, conflict[a][b])))
        .filter(|(_, _, rate)| *rate > 0.0)
        .collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs.truncate(count);
    pairs
}

/// The per-LF table as CSV (one row per LF, Snorkel's column names; `Polarity` lists class
/// names separated by spaces, empty cells for missing values).
pub fn render_csv(analysis: &Analysis) -> String {
    let mut out = String::new();
    let mut headers: Vec<String> = [
        "j",
        "LF",
        "Polarity",
        "Coverage",
        "Overlaps",
        "Conflicts",
        "Correct",
        "Incorrect",
        "Emp. Acc.",
        "Emp. Acc. 95% low",
        "Emp. Acc. 95% high",
        "Learned Acc.",
    ]
    .iter()
    .map(|header| header.to_string())
    .collect();
    headers.extend(
        analysis
            .matrix
            .classes
            .iter()
            .map(|class| format!("Coverage {class}")),
    );
    let _ = writeln!(out, "{}", csv_line(&headers));
    let number = |value: Option<f64>| value.map(|value| value.to_string()).unwrap_or_default();
    for lf in &analysis.lfs {
        let polarity: Vec<&str> = lf
            .polarity
            .iter()
            .map(|class| analysis.matrix.classes[*class].as_str())
            .collect();
        let interval = lf.empirical_accuracy_interval;
        let mut cells = vec![
            lf.j.to_string(),
            lf.name.clone(),
            polarity.join(" "),
            lf.coverage.to_string(),
            lf.overlaps.to_string(),
            lf.conflicts.to_string(),
            lf.correct
                .map(|count| count.to_string())
                .unwrap_or_default(),
            lf.incorrect
                .map(|count| count.to_string())
                .unwrap_or_default(),
            number(lf.empirical_accuracy),
            number(interval.map(|[low, _]| low)),
            number(interval.map(|[_, high]| high)),
            number(lf.learned_accuracy),
        ];
        cells.extend(lf.class_coverage.iter().map(|value| value.to_string()));
        let _ = writeln!(out, "{}", csv_line(&cells));
    }
    out
}

/// One CSV line, quoting cells that need it.
fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The analysis as pretty JSON (every field of [`Analysis`]).
pub fn render_json(analysis: &Analysis) -> String {
    let mut out = serde_json::to_string_pretty(analysis).expect("analysis serialises");
    out.push('\n');
    out
}

/// One sampled row for display: its index, key, gold label, the votes cast, and text columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleRow {
    /// 0-based row.
    pub row: usize,
    /// The row key, when the matrix has one.
    pub key: Option<String>,
    /// The gold class name, when known.
    pub gold: Option<String>,
    /// `(LF name, class name)` for every LF that voted.
    pub votes: Vec<(String, String)>,
    /// `(column, value)` for each requested data column.
    pub columns: Vec<(String, String)>,
}

/// Sampled rows of one drill-down, ready to show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Samples {
    /// The drill-down they come from.
    pub drill_down: DrillDown,
    /// The LF's name.
    pub lf: String,
    /// The rows.
    pub rows: Vec<SampleRow>,
}

/// A drill-down as text: a heading, then per row its index, key, gold, votes and columns.
pub fn render_samples(samples: &Samples, colour: bool) -> String {
    let style = Style { on: colour };
    let what = match samples.drill_down.show {
        crate::analysis::Show::Fires => "voted",
        crate::analysis::Show::Conflicts => "conflicts with another LF",
        crate::analysis::Show::Errors => "is wrong on gold",
    };
    let mut out = format!(
        "{}\n",
        style.paint(
            &format!(
                "LF `{}` {what} on {} rows; showing {}",
                samples.lf,
                samples.drill_down.matching,
                samples.rows.len()
            ),
            "1"
        )
    );
    for row in &samples.rows {
        let mut heading = format!("row {}", row.row);
        if let Some(key) = &row.key {
            let _ = write!(heading, "  key {key}");
        }
        if let Some(gold) = &row.gold {
            let _ = write!(heading, "  gold {gold}");
        }
        let _ = writeln!(out, "\n{}", style.paint(&heading, "36"));
        let votes: Vec<String> = row
            .votes
            .iter()
            .map(|(lf, class)| {
                let text = format!("{lf}={class}");
                if *lf == samples.lf {
                    style.paint(&text, "1")
                } else {
                    text
                }
            })
            .collect();
        let _ = writeln!(out, "  votes: {}", votes.join(" "));
        for (column, value) in &row.columns {
            let _ = writeln!(out, "  {column}: {}", value.replace('\n', " "));
        }
    }
    out
}

/// The sample rows of an HTML report: for each LF, up to `sample` (at most 5) of its
/// conflicts and, with gold, of its errors, with the values of `columns` (none without
/// columns).
pub fn report_samples(
    matrix: &crate::matrix::LabelMatrix,
    gold: Option<&[i64]>,
    columns: &[(String, crate::table::Column)],
    sample: usize,
    seed: u64,
) -> Result<Vec<Samples>, crate::analysis::DrillDownError> {
    use crate::analysis::{Show, drill_down};
    let mut blocks = Vec::new();
    if columns.is_empty() {
        return Ok(blocks);
    }
    let mut kinds = vec![Show::Conflicts];
    if gold.is_some() {
        kinds.push(Show::Errors);
    }
    for lf in matrix.lf_names() {
        for show in &kinds {
            let rows = drill_down(matrix, lf, *show, gold, sample.min(5), seed)?;
            if !rows.rows.is_empty() {
                blocks.push(samples(matrix, rows, gold, columns));
            }
        }
    }
    Ok(blocks)
}

/// The rows of `drill_down` ready to show: keys, gold classes, votes and the values of
/// `columns` (whole columns of the table the matrix was applied to, same rows).
pub fn samples(
    matrix: &crate::matrix::LabelMatrix,
    drill_down: DrillDown,
    gold: Option<&[i64]>,
    columns: &[(String, crate::table::Column)],
) -> Samples {
    let classes = matrix.classes();
    let names = matrix.lf_names();
    let key = |row: usize| {
        matrix.row_keys().map(|(_, keys)| match keys {
            crate::matrix::RowKeys::Text(keys) => keys[row].clone(),
            crate::matrix::RowKeys::Int(keys) => keys[row].to_string(),
        })
    };
    let rows = drill_down
        .rows
        .iter()
        .map(|row| SampleRow {
            row: *row,
            key: key(*row),
            gold: gold
                .and_then(|gold| usize::try_from(gold[*row]).ok())
                .map(|class| classes[class].clone()),
            votes: matrix
                .votes()
                .row(*row)
                .iter()
                .enumerate()
                .filter(|(_, vote)| **vote >= 0)
                .map(|(lf, vote)| (names[lf].clone(), classes[*vote as usize].clone()))
                .collect(),
            columns: columns
                .iter()
                .map(|(name, column)| (name.clone(), cell_text(column, *row)))
                .collect(),
        })
        .collect();
    Samples {
        lf: names[drill_down.lf].clone(),
        drill_down,
        rows,
    }
}

/// A table cell as text (empty when null).
fn cell_text(column: &crate::table::Column, row: usize) -> String {
    if let Some(text) = column.text(row) {
        return text.to_owned();
    }
    if let Some(number) = column.number(row) {
        return number.to_string();
    }
    match column.values() {
        crate::table::Values::Bool(values) if column.is_valid(row) => {
            (values[row] != 0).to_string()
        }
        _ => String::new(),
    }
}
