//! `labelgen analyze`: the Snorkel reference, snapshots, drill-down, the HTML report rendered
//! in headless Chromium, and bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{failure, labelgen, repo_path, success};

fn youtube_test() -> String {
    repo_path("datasets/youtube/test.json")
        .display()
        .to_string()
}

/// The matrix of Snorkel's `LFAnalysis` docstrings as a labelgen-less CSV, with a gold file.
fn docstring_matrix(dir: &Path) -> (String, String) {
    std::fs::write(
        dir.join("L.csv"),
        "a,b,c\n-1,0,0\n-1,-1,-1\n1,0,-1\n-1,0,-1\n0,0,0\n",
    )
    .unwrap();
    std::fs::write(dir.join("gold.csv"), "label\n0\n1\n1\n0\n-1\n").unwrap();
    ("L.csv".to_owned(), "gold.csv:label".to_owned())
}

fn parse_number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("`{text}` is not a number"))
}

/// Every column of Snorkel 0.10.0's `lf_summary(Y)` on the youtube test split, to 1e-9
/// (tests/fixtures/snorkel/README.md says how the fixture was made).
#[test]
fn matches_snorkel_lf_summary_on_youtube() {
    let dir = tempfile::tempdir().unwrap();
    let json = success(&labelgen(
        dir.path(),
        &["analyze", &youtube_test(), "--format", "json"],
    ));
    let analysis: serde_json::Value = serde_json::from_str(&json).unwrap();
    let lfs = analysis["lfs"].as_array().unwrap();
    let reference = std::fs::read_to_string(repo_path(
        "tests/fixtures/snorkel/youtube_test_lf_summary.csv",
    ))
    .unwrap();
    let mut lines = reference.lines();
    assert_eq!(
        lines.next().unwrap(),
        "j,Polarity,Coverage,Overlaps,Conflicts,Correct,Incorrect,Emp. Acc."
    );
    let mut rows = 0;
    for (line, lf) in lines.zip(lfs) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(lf["j"].as_u64().unwrap(), cells[0].parse::<u64>().unwrap());
        let polarity: Vec<u64> = cells[1]
            .split(' ')
            .map(|class| class.parse().unwrap())
            .collect();
        let ours: Vec<u64> = lf["polarity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|class| class.as_u64().unwrap())
            .collect();
        assert_eq!(ours, polarity, "polarity of {}", lf["name"]);
        for (column, field) in [
            (2, "coverage"),
            (3, "overlaps"),
            (4, "conflicts"),
            (5, "correct"),
            (6, "incorrect"),
            (7, "empirical_accuracy"),
        ] {
            let expected = parse_number(cells[column]);
            let actual = lf[field].as_f64().unwrap();
            assert!(
                (actual - expected).abs() < 1e-9,
                "{field} of {}: {actual} vs Snorkel {expected}",
                lf["name"]
            );
        }
        rows += 1;
    }
    assert_eq!(rows, lfs.len());
    assert_eq!(rows, 10);
}

#[test]
fn terminal_table_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let table = success(&labelgen(dir.path(), &["analyze", &youtube_test()]));
    // Not a terminal: no colour codes.
    assert!(!table.contains('\x1b'));
    insta::assert_snapshot!(table);
}

#[test]
fn json_snapshot_of_the_snorkel_docstring_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let (matrix, gold) = docstring_matrix(dir.path());
    let json = success(&labelgen(
        dir.path(),
        &[
            "analyze",
            &matrix,
            "--cardinality",
            "2",
            "--gold",
            &gold,
            "--format",
            "json",
        ],
    ));
    insta::assert_snapshot!(json);
}

#[test]
fn csv_output_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (matrix, gold) = docstring_matrix(dir.path());
    let printed = success(&labelgen(
        dir.path(),
        &[
            "analyze",
            &matrix,
            "--cardinality",
            "2",
            "--gold",
            &gold,
            "--format",
            "csv",
            "-o",
            "summary.csv",
        ],
    ));
    assert!(printed.is_empty());
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0]
            .starts_with("j,LF,Polarity,Coverage,Overlaps,Conflicts,Correct,Incorrect,Emp. Acc.")
    );
    // LF b: coverage 0.8, overlaps 0.6, conflicts 0.2, 2 right and 1 wrong on gold.
    assert!(
        lines[2].starts_with("1,b,0,0.8,0.6,0.2,2,1,0.6666666666666666,"),
        "{}",
        lines[2]
    );
}

#[test]
fn drill_down_shows_the_rows_with_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let output = success(&labelgen(
        dir.path(),
        &[
            "analyze",
            &youtube_test(),
            "--lf",
            "lf_7",
            "--show",
            "errors",
            "--sample",
            "4",
        ],
    ));
    // lf_7 is wrong on 6 gold rows (Snorkel's Incorrect count).
    assert!(
        output.starts_with("LF `lf_7` is wrong on gold on 6 rows; showing 4"),
        "{output}"
    );
    assert_eq!(output.matches("\nrow ").count(), 4);
    assert_eq!(output.matches("  text: ").count(), 4);
    assert_eq!(output.matches("lf_7=HAM").count(), 4);
    assert_eq!(output.matches("gold SPAM").count(), 4);
    // The same seed gives the same rows; another seed may not.
    let again = success(&labelgen(
        dir.path(),
        &[
            "analyze",
            &youtube_test(),
            "--lf",
            "lf_7",
            "--show",
            "errors",
            "--sample",
            "4",
        ],
    ));
    assert_eq!(output, again);
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (matrix, _) = docstring_matrix(dir.path());
    std::fs::write(dir.path().join("short.csv"), "label\n0\n1\n").unwrap();
    std::fs::write(dir.path().join("classes.csv"), "label\n0\n1\n7\n0\n1\n").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--gold", "short.csv:label"],
            "2 gold labels for 5 matrix rows",
        ),
        (
            &["--gold", "classes.csv:label"],
            "`classes.csv` column `label` row 2 (counting from 0): `7` is not a class",
        ),
        (
            &["--lf", "nope"],
            "no LF named `nope` in the matrix; its LFs are: a, b, c",
        ),
        (
            &["--lf", "a", "--show", "errors"],
            "showing an LF's errors needs gold labels",
        ),
        (&[], "pass --cardinality"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["analyze", matrix.as_str()];
        if !extra.is_empty() {
            args.extend(["--cardinality", "2"]);
        }
        args.extend(extra);
        let error = failure(&labelgen(dir.path(), &args));
        assert!(error.contains(message), "{args:?}: {error}");
    }
    let error = failure(&labelgen(
        dir.path(),
        &[
            "analyze",
            &matrix,
            "--cardinality",
            "2",
            "--html",
            "missing/report.html",
        ],
    ));
    assert!(error.contains("missing/report.html"), "{error}");
}

/// Chromium (Debian's package, which `.ci/run` installs).
fn chromium() -> PathBuf {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "this test renders the HTML report in headless Chromium: install Debian's `chromium` package (.ci/run does)"
    );
}

/// What a script measured in the rendered page: each chart's size and marks, the table rows.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const charts = {};
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    let drawn = 0;
    for (const mark of svg.querySelectorAll('rect, circle')) {
      const r = mark.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) drawn += 1;
    }
    charts[svg.id] = { width: Math.round(box.width), height: Math.round(box.height), drawn };
  }
  const rows = document.querySelectorAll('#lf-summary tbody tr');
  const visible = [...rows].filter(row => row.getBoundingClientRect().height > 0).length;
  const probe = document.createElement('pre');
  probe.id = 'probe';
  probe.textContent = JSON.stringify({ charts, rows: rows.length, visible });
  document.body.appendChild(probe);
});
</script>"#;

#[test]
fn html_report_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    success(&labelgen(
        dir.path(),
        &[
            "fit",
            &repo_path("datasets/youtube/train.json")
                .display()
                .to_string(),
            "-o",
            &model.display().to_string(),
        ],
    ));
    success(&labelgen(
        dir.path(),
        &[
            "analyze",
            &youtube_test(),
            "--model",
            "model.json",
            "--html",
            "report.html",
        ],
    ));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // Self-contained: no scripts, no external resources (sample texts hold URLs, escaped).
    for forbidden in ["<script", "<link", "<img", "<iframe", "<object"] {
        assert!(!html.contains(forbidden), "report contains `{forbidden}`");
    }
    let markup = &html[..html.find("<section id=\"samples\">").unwrap()];
    for forbidden in ["src=", "href=", "url(", "@import"] {
        assert!(!markup.contains(forbidden), "report contains `{forbidden}`");
    }
    // Sample rows come from the WRENCH split's texts.
    assert!(html.contains("id=\"samples\""));
    let probed = html.replace("</body>", &format!("{PROBE}</body>"));
    let page = dir.path().join("probed.html");
    std::fs::write(&page, probed).unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,2000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom.find("<pre id=\"probe\">").unwrap_or_else(|| {
        panic!(
            "the probe did not run; chromium said: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    }) + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let probe: serde_json::Value =
        serde_json::from_str(&dom[start..end].replace("&quot;", "\"")).unwrap();
    let charts = &probe["charts"];
    // Coverage and accuracy: 10 coverage bars + 10 accuracy bars; heat map: 10 x 10 cells;
    // learned vs empirical: one point per LF; class balance: 2 classes x 3 series.
    for (chart, marks) in [
        ("chart-coverage", 20),
        ("chart-conflicts", 100),
        ("chart-accuracy", 10),
        ("chart-balance", 6),
    ] {
        let rendered = &charts[chart];
        assert!(
            rendered["width"].as_f64().unwrap() > 200.0
                && rendered["height"].as_f64().unwrap() > 100.0,
            "{chart} is not laid out: {rendered}"
        );
        assert_eq!(
            rendered["drawn"].as_u64(),
            Some(marks),
            "{chart}: {rendered}"
        );
    }
    assert_eq!(probe["rows"].as_u64(), Some(10));
    assert_eq!(probe["visible"].as_u64(), Some(10));
}
