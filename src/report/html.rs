//! A self-contained HTML report of an [`Analysis`]: inline CSS and inline SVG charts, no
//! scripts and no network access needed to view it.
//!
//! Charts: coverage (and empirical accuracy with its 95 % interval) per LF; the pairwise
//! conflict heat map; learned against empirical accuracy; class balance (gold, model, votes).
//! Then the per-LF table, the confusion matrices and sampled rows. Every chart is an `<svg>`
//! with class `chart` and an `id`, every mark has a `<title>` tooltip.

use std::fmt::Write as _;

use super::{Samples, top_conflicts};
use crate::analysis::Analysis;

/// What the report says about where it came from.
#[derive(Clone, Debug, Default)]
pub struct ReportContext {
    /// The matrix file.
    pub matrix: String,
    /// The gold labels, if any.
    pub gold: Option<String>,
    /// The model file, if any.
    pub model: Option<String>,
    /// The tool and version that wrote it.
    pub generated_by: String,
    /// The matrix fingerprint.
    pub fingerprint: String,
    /// Sampled rows per LF, shown at the end.
    pub samples: Vec<Samples>,
}

/// HTML-escape `text`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --blue: #2f6fde; --green: #2f9e6e;
  --orange: #e8833a; --red: #c92a2a; --bg: #ffffff; --panel: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); margin: 0 auto; padding: 24px 32px 64px; max-width: 1200px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; }
.meta { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .value { font-size: 22px; font-weight: 600; } .card .label { color: var(--muted); }
svg.chart { display: block; max-width: 100%; height: auto; background: var(--panel); border-radius: 8px; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg .axis { stroke: var(--line); } svg .tick { fill: var(--muted); }
.legend { color: var(--muted); margin: 6px 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: var(--panel); position: sticky; top: 0; }
td.text, th.text { text-align: left; } td.warn { color: var(--red); font-weight: 600; }
.confusions { display: flex; flex-wrap: wrap; gap: 16px; }
.confusions table { width: auto; } .confusions caption { text-align: left; font-weight: 600; }
details { margin: 6px 0; } summary { cursor: pointer; }
.sample { border-left: 3px solid var(--line); padding: 4px 10px; margin: 8px 0; }
.sample .votes { color: var(--muted); } .sample .text { white-space: pre-wrap; }
"#;

/// The whole report as one HTML document.
pub fn render_html(analysis: &Analysis, context: &ReportContext) -> String {
    let summary = &analysis.matrix;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>LF report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&context.matrix)
    );
    let _ = writeln!(out, "<h1>Labeling function report</h1>");
    let mut meta = format!("matrix <code>{}</code>", escape(&context.matrix));
    if let Some(gold) = &context.gold {
        let _ = write!(meta, " &middot; gold <code>{}</code>", escape(gold));
    }
    if let Some(model) = &context.model {
        let _ = write!(meta, " &middot; model <code>{}</code>", escape(model));
    }
    let _ = write!(
        meta,
        "<br>{} &middot; matrix fingerprint <code>{}</code>",
        escape(&context.generated_by),
        escape(&context.fingerprint)
    );
    let _ = writeln!(out, "<p class=\"meta\">{meta}</p>");

    let mut cards = vec![
        ("rows", summary.rows.to_string()),
        ("LFs", summary.lfs.to_string()),
        ("label coverage", percent(summary.label_coverage)),
        ("overlap", percent(summary.label_overlap)),
        ("conflict", percent(summary.label_conflict)),
        ("rows with a tie", percent(summary.tie_fraction)),
    ];
    if let Some(rows) = summary.gold_rows {
        cards.push(("gold rows", rows.to_string()));
    }
    let _ = writeln!(out, "<section id=\"summary\"><div class=\"cards\">");
    for (label, value) in cards {
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>"
        );
    }
    let _ = writeln!(out, "</div></section>");

    coverage_chart(&mut out, analysis);
    heat_map(&mut out, analysis);
    accuracy_chart(&mut out, analysis);
    balance_chart(&mut out, analysis);
    lf_table(&mut out, analysis);
    confusions(&mut out, analysis);
    samples(&mut out, &context.samples);
    out.push_str("</body>\n</html>\n");
    out
}

fn percent(value: f64) -> String {
    format!("{:.1} %", value * 100.0)
}

/// Horizontal bars per LF: coverage, and with gold the empirical accuracy with its interval.
fn coverage_chart(out: &mut String, analysis: &Analysis) {
    let gold = analysis.matrix.gold_rows.is_some();
    let (label_width, plot_width, row_height) = (200.0, 560.0, if gold { 30.0 } else { 20.0 });
    let height = 40.0 + row_height * analysis.lfs.len() as f64;
    let width = label_width + plot_width + 30.0;
    let title = if gold {
        "Coverage and empirical accuracy per LF"
    } else {
        "Coverage per LF"
    };
    let _ = writeln!(out, "<section id=\"coverage\"><h2>{title}</h2>");
    let _ = write!(
        out,
        "<div class=\"legend\"><span class=\"swatch\" style=\"background:var(--blue)\"></span>coverage"
    );
    if gold {
        let _ = write!(
            out,
            "<span class=\"swatch\" style=\"background:var(--green)\"></span>empirical accuracy (line: 95 % interval)"
        );
    }
    let _ = writeln!(out, "</div>");
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"chart-coverage\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{title}\">"
    );
    axis(out, label_width, plot_width, 20.0, height - 20.0);
    for (index, lf) in analysis.lfs.iter().enumerate() {
        let y = 24.0 + row_height * index as f64;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_width - 8.0,
            y + 11.0,
            escape(&truncate(&lf.name, 28))
        );
        let bar = if gold { 10.0 } else { 14.0 };
        let _ = writeln!(
            out,
            "<rect class=\"bar coverage\" x=\"{label_width}\" y=\"{y}\" width=\"{:.2}\" height=\"{bar}\" fill=\"#2f6fde\"><title>{}: coverage {}</title></rect>",
            lf.coverage * plot_width,
            escape(&lf.name),
            percent(lf.coverage)
        );
        if let Some(accuracy) = lf.empirical_accuracy {
            let y = y + 12.0;
            let _ = writeln!(
                out,
                "<rect class=\"bar accuracy\" x=\"{label_width}\" y=\"{y}\" width=\"{:.2}\" height=\"10\" fill=\"#2f9e6e\"><title>{}: empirical accuracy {:.4} ({} right, {} wrong)</title></rect>",
                accuracy * plot_width,
                escape(&lf.name),
                accuracy,
                lf.correct.unwrap_or(0),
                lf.incorrect.unwrap_or(0)
            );
            if let Some([low, high]) = lf.empirical_accuracy_interval {
                let _ = writeln!(
                    out,
                    "<line x1=\"{:.2}\" x2=\"{:.2}\" y1=\"{}\" y2=\"{}\" stroke=\"#1f2933\" stroke-width=\"1.5\"/>",
                    label_width + low * plot_width,
                    label_width + high * plot_width,
                    y + 5.0,
                    y + 5.0
                );
            }
        }
    }
    let _ = writeln!(out, "</svg></section>");
}

/// A 0-1 axis with gridlines at quarters.
fn axis(out: &mut String, left: f64, width: f64, top: f64, bottom: f64) {
    for step in 0..=4 {
        let x = left + width * step as f64 / 4.0;
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{x}\" x2=\"{x}\" y1=\"{top}\" y2=\"{bottom}\"/><text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            bottom + 14.0,
            step as f64 / 4.0
        );
    }
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

/// The m x m conflict rates as coloured cells (darker = more conflict, scaled to the largest
/// pair); the diagonal is grey.
fn heat_map(out: &mut String, analysis: &Analysis) {
    let m = analysis.lfs.len();
    let conflict = &analysis.pairwise.conflict;
    let largest = top_conflicts(analysis, 1)
        .first()
        .map_or(0.0, |(_, _, rate)| *rate);
    let cell = (640.0 / m.max(1) as f64).clamp(6.0, 28.0);
    // Room for the longest (truncated) name, left and above (rotated).
    let longest = analysis
        .lfs
        .iter()
        .map(|lf| lf.name.chars().count().min(26))
        .max()
        .unwrap_or(0);
    let label = (16.0 + 7.0 * longest as f64).min(200.0);
    let size = label + cell * m as f64 + 10.0;
    let _ = writeln!(out, "<section id=\"conflicts\"><h2>Pairwise conflicts</h2>");
    let _ = writeln!(
        out,
        "<div class=\"legend\">fraction of rows where both LFs voted and disagreed; darkest = {:.4} (the largest pair)</div>",
        largest
    );
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"chart-conflicts\" viewBox=\"0 0 {size} {size}\" width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"pairwise conflict heat map\">"
    );
    let show_labels = cell >= 10.0;
    for (index, lf) in analysis.lfs.iter().enumerate() {
        if !show_labels {
            break;
        }
        let centre = label + cell * (index as f64 + 0.5);
        let name = escape(&truncate(&lf.name, 26));
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.2}\" text-anchor=\"end\" dominant-baseline=\"middle\">{name}</text>",
            label - 6.0,
            centre
        );
        let _ = writeln!(
            out,
            "<text transform=\"translate({centre:.2},{}) rotate(-60)\" text-anchor=\"start\">{name}</text>",
            label - 6.0
        );
    }
    let pairs = conflict.iter().zip(&analysis.pairwise.overlap);
    for (a, (conflicts, overlaps)) in pairs.enumerate() {
        for (b, (rate, overlap)) in conflicts.iter().zip(overlaps).enumerate() {
            let (x, y) = (label + cell * b as f64, label + cell * a as f64);
            let fill = if a == b {
                "#d9e2ec".to_owned()
            } else {
                shade(if largest > 0.0 { rate / largest } else { 0.0 })
            };
            let _ = writeln!(
                out,
                "<rect class=\"cell\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{cell:.2}\" height=\"{cell:.2}\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>{} / {}: conflict {:.4}, overlap {:.4}</title></rect>",
                escape(&analysis.lfs[a].name),
                escape(&analysis.lfs[b].name),
                rate,
                overlap
            );
        }
    }
    let _ = writeln!(out, "</svg></section>");
}

/// White to red.
fn shade(level: f64) -> String {
    let level = level.clamp(0.0, 1.0);
    let channel = |from: f64, to: f64| (from + (to - from) * level).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        channel(255.0, 201.0),
        channel(255.0, 42.0),
        channel(255.0, 42.0)
    )
}

/// Learned against empirical accuracy, one point per LF with both; the diagonal is agreement.
fn accuracy_chart(out: &mut String, analysis: &Analysis) {
    let points: Vec<(&str, f64, f64)> = analysis
        .lfs
        .iter()
        .filter_map(|lf| {
            Some((
                lf.name.as_str(),
                lf.empirical_accuracy?,
                lf.learned_accuracy?,
            ))
        })
        .collect();
    if points.is_empty() {
        return;
    }
    let (left, top, side) = (50.0, 20.0, 400.0);
    let size = left + side + 30.0;
    let _ = writeln!(
        out,
        "<section id=\"learned\"><h2>Learned vs empirical accuracy</h2><div class=\"legend\">one point per LF; on the diagonal the model's estimate equals the accuracy on gold</div>"
    );
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"chart-accuracy\" viewBox=\"0 0 {size} {size}\" width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"learned vs empirical accuracy\">"
    );
    let x = |value: f64| left + value * side;
    let y = |value: f64| top + (1.0 - value) * side;
    for step in 0..=4 {
        let value = step as f64 / 4.0;
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{top}\" y2=\"{}\"/><line class=\"axis\" x1=\"{left}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{value}</text><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{value}</text>",
            x(value),
            x(value),
            top + side,
            left + side,
            y(value),
            y(value),
            x(value),
            top + side + 14.0,
            left - 6.0,
            y(value) + 4.0
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#616e7c\" stroke-dasharray=\"4 3\"/>",
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">empirical accuracy</text><text transform=\"translate(12,{}) rotate(-90)\" text-anchor=\"middle\">learned accuracy</text>",
        left + side / 2.0,
        size - 2.0,
        top + side / 2.0
    );
    for (name, empirical, learned) in points {
        let _ = writeln!(
            out,
            "<circle class=\"point\" cx=\"{:.2}\" cy=\"{:.2}\" r=\"5\" fill=\"#e8833a\" fill-opacity=\"0.8\"><title>{}: empirical {:.4}, learned {:.4}</title></circle>",
            x(empirical),
            y(learned),
            escape(name),
            empirical,
            learned
        );
    }
    let _ = writeln!(out, "</svg></section>");
}

/// Per class: the share of votes, of gold labels and the model's class balance.
fn balance_chart(out: &mut String, analysis: &Analysis) {
    let summary = &analysis.matrix;
    let mut series: Vec<(&str, &str, &[f64])> =
        vec![("votes cast", "#2f6fde", &summary.vote_share)];
    if let Some(gold) = &summary.gold_balance {
        series.push(("gold labels", "#2f9e6e", gold));
    }
    if let Some(model) = &summary.model_balance {
        series.push(("model class balance", "#e8833a", model));
    }
    let k = summary.classes.len();
    let group = 24.0 + 18.0 * series.len() as f64;
    let (label_width, plot_width) = (200.0, 560.0);
    let height = 40.0 + group * k as f64;
    let width = label_width + plot_width + 30.0;
    let _ = writeln!(
        out,
        "<section id=\"balance\"><h2>Class balance</h2><div class=\"legend\">"
    );
    for (name, colour, _) in &series {
        let _ = write!(
            out,
            "<span class=\"swatch\" style=\"background:{colour}\"></span>{name}"
        );
    }
    let _ = writeln!(out, "</div>");
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"chart-balance\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"class balance\">"
    );
    axis(out, label_width, plot_width, 20.0, height - 20.0);
    for (class, name) in summary.classes.iter().enumerate() {
        let top = 24.0 + group * class as f64;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_width - 8.0,
            top + 12.0,
            escape(&truncate(name, 28))
        );
        for (index, (series_name, colour, values)) in series.iter().enumerate() {
            let value = values.get(class).copied().unwrap_or(0.0);
            let _ = writeln!(
                out,
                "<rect class=\"bar balance\" x=\"{label_width}\" y=\"{}\" width=\"{:.2}\" height=\"14\" fill=\"{colour}\"><title>{}: {series_name} {}</title></rect>",
                top + 18.0 * index as f64,
                value * plot_width,
                escape(name),
                percent(value)
            );
        }
    }
    let _ = writeln!(out, "</svg></section>");
}

fn lf_table(out: &mut String, analysis: &Analysis) {
    let headers = super::headers(analysis);
    let _ = writeln!(
        out,
        "<section id=\"lfs\"><h2>Per-LF summary</h2><table id=\"lf-summary\"><thead><tr>"
    );
    for (column, header) in headers.iter().enumerate() {
        let class = if column == 1 || column == 2 {
            " class=\"text\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{}</th>", escape(header));
    }
    let _ = writeln!(out, "</tr></thead><tbody>");
    for lf in &analysis.lfs {
        let _ = write!(out, "<tr>");
        for (column, (text, warn)) in super::cells(analysis, lf).into_iter().enumerate() {
            let class = match (column == 1 || column == 2, warn) {
                (true, _) => " class=\"text\"",
                (false, true) => " class=\"warn\"",
                (false, false) => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&text));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    let classes = &analysis.matrix.classes;
    let _ = writeln!(
        out,
        "<details><summary>Coverage per class</summary><table id=\"class-coverage\"><thead><tr><th class=\"text\">LF</th>{}</tr></thead><tbody>",
        classes
            .iter()
            .map(|class| format!("<th>{}</th>", escape(class)))
            .collect::<String>()
    );
    for lf in &analysis.lfs {
        let _ = writeln!(
            out,
            "<tr><td class=\"text\">{}</td>{}</tr>",
            escape(&lf.name),
            lf.class_coverage
                .iter()
                .map(|value| format!("<td>{value:.4}</td>"))
                .collect::<String>()
        );
    }
    let _ = writeln!(out, "</tbody></table></details></section>");
}

fn confusions(out: &mut String, analysis: &Analysis) {
    let Some(confusion) = &analysis.confusion else {
        return;
    };
    let classes = &analysis.matrix.classes;
    let _ = writeln!(
        out,
        "<section id=\"confusion\"><h2>Confusion matrices</h2><details><summary>Per LF: gold class (rows) by vote (columns), counts of gold rows</summary><div class=\"confusions\">"
    );
    for (lf, table) in analysis.lfs.iter().zip(confusion) {
        let _ = write!(
            out,
            "<table><caption>{}</caption><thead><tr><th class=\"text\">gold \\ vote</th><th>abstain</th>",
            escape(&lf.name)
        );
        for class in classes {
            let _ = write!(out, "<th>{}</th>", escape(class));
        }
        let _ = write!(out, "</tr></thead><tbody>");
        for (class, row) in classes.iter().zip(table) {
            let _ = write!(out, "<tr><td class=\"text\">{}</td>", escape(class));
            for count in row {
                let _ = write!(out, "<td>{count}</td>");
            }
            let _ = write!(out, "</tr>");
        }
        let _ = writeln!(out, "</tbody></table>");
    }
    let _ = writeln!(out, "</div></details></section>");
}

fn samples(out: &mut String, samples: &[Samples]) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section id=\"samples\"><h2>Sample rows</h2>");
    for block in samples {
        let what = match block.drill_down.show {
            crate::analysis::Show::Fires => "votes",
            crate::analysis::Show::Conflicts => "conflicts",
            crate::analysis::Show::Errors => "errors",
        };
        let _ = writeln!(
            out,
            "<details><summary>{} &middot; {what}: {} of {} rows</summary>",
            escape(&block.lf),
            block.rows.len(),
            block.drill_down.matching
        );
        for row in &block.rows {
            let mut heading = format!("row {}", row.row);
            if let Some(key) = &row.key {
                let _ = write!(heading, " &middot; key {}", escape(key));
            }
            if let Some(gold) = &row.gold {
                let _ = write!(heading, " &middot; gold <b>{}</b>", escape(gold));
            }
            let votes: Vec<String> = row
                .votes
                .iter()
                .map(|(lf, class)| format!("{}={}", escape(lf), escape(class)))
                .collect();
            let _ = write!(
                out,
                "<div class=\"sample\"><div>{heading}</div><div class=\"votes\">{}</div>",
                votes.join(" ")
            );
            for (column, value) in &row.columns {
                let _ = write!(
                    out,
                    "<div class=\"text\"><b>{}</b>: {}</div>",
                    escape(column),
                    escape(value)
                );
            }
            let _ = writeln!(out, "</div>");
        }
        let _ = writeln!(out, "</details>");
    }
    let _ = writeln!(out, "</section>");
}
