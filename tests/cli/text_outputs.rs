//! Snapshots of the text outputs of `fit`, `score`, `label`, `evaluate` and `runs` on the
//! bundled YouTube splits (their WRENCH weak labels), each also checked against the files it
//! describes, so that a snapshot cannot hold a wrong number unnoticed.

use std::path::Path;

use crate::common::{csv_rows, labelgen, repo_path, success};

fn youtube(split: &str) -> String {
    repo_path(&format!("datasets/youtube/{split}.json"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// `labelgen fit` on the train split into `dir/model.json`: its output and the model file.
fn fit_youtube(dir: &Path) -> (String, serde_json::Value) {
    let printed = success(&labelgen(
        dir,
        &["fit", &youtube("train"), "-o", "model.json"],
    ));
    let model = std::fs::read_to_string(dir.join("model.json")).unwrap();
    (printed, serde_json::from_str(&model).unwrap())
}

/// The fit's table shows the model file's estimated accuracies and class balance.
#[test]
fn fit() {
    let dir = tempfile::tempdir().unwrap();
    let (printed, model) = fit_youtube(dir.path());
    let lines: Vec<&str> = printed.lines().collect();
    let lfs = model["lfs"].as_array().unwrap();
    for (index, lf) in lfs.iter().enumerate() {
        let accuracy = model["lf_accuracy"][index].as_f64().unwrap();
        let line = lines[index + 1];
        assert!(line.contains(lf.as_str().unwrap()), "{line}");
        assert!(
            line.ends_with(&format!("{accuracy:.3}")),
            "{line} {accuracy}"
        );
    }
    let balance = &model["class_balance"];
    let shown = format!(
        "class balance: HAM {:.3}, SPAM {:.3}",
        balance[0].as_f64().unwrap(),
        balance[1].as_f64().unwrap()
    );
    assert_eq!(lines[lfs.len() + 1], shown);
    insta::assert_snapshot!(printed);
}

/// `score` on the test split's own gold labels; `label` and `evaluate` of the same labels
/// agree with it: the abstain rows' accuracy, coverage and the rows left without a label.
#[test]
fn score_label_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    fit_youtube(dir.path());
    let test = youtube("test");
    let scores = success(&labelgen(dir.path(), &["score", "model.json", &test]));
    let labelled = success(&labelgen(
        dir.path(),
        &["label", "model.json", &test, "-o", "labels.csv"],
    ));
    let gold = format!("{test}:label");
    let evaluated = success(&labelgen(
        dir.path(),
        &["evaluate", "labels.csv", "--gold", &gold],
    ));
    // The labels file: 250 rows, the unlabelled ones as `label` says.
    let rows = csv_rows(&dir.path().join("labels.csv"));
    let label_column = rows[0].iter().position(|name| name == "label").unwrap();
    let unlabelled = rows[1..]
        .iter()
        .filter(|row| row[label_column] == "-1")
        .count();
    assert_eq!(
        labelled.trim(),
        format!("labelled 250 rows ({unlabelled} without a hard label) -> labels.csv")
    );
    // Abstain tie-breaks (label's default): all rows' accuracy and coverage as evaluate says,
    // covered rows = rows with a label.
    let abstain_all: Vec<&str> = scores.lines().nth(1).unwrap().split_whitespace().collect();
    let abstain_covered: Vec<&str> = scores.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(abstain_covered[2], (250 - unlabelled).to_string());
    let first = evaluated.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "250 rows with gold: accuracy {}, macro-F1 {}, labelled {}",
            abstain_all[3], abstain_all[4], abstain_all[5]
        )
    );
    let support: usize = evaluated
        .lines()
        .skip(2)
        .map(|line| {
            line.split_whitespace()
                .last()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(support, 250);
    insta::assert_snapshot!("score", scores);
    insta::assert_snapshot!("label", labelled);
    insta::assert_snapshot!("evaluate", evaluated);
}

/// `runs` after two runs of a project (the second changes nothing): ids, times and seconds
/// redacted; the test accuracy is the one in the run's metrics.
#[test]
fn runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_path("labeling_functions/youtube_spam.toml"),
        dir.path().join("lfs.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("labelgen.toml"),
        format!(
            "[project]\nname = \"snapshot\"\n\n[data]\ntrain = \"{}\"\ntest = {{ path = \"{}\", gold = \"label\" }}\nid_column = \"id\"\n\n[lfs]\nfiles = [\"lfs.toml\"]\n",
            youtube("train"),
            youtube("test")
        ),
    )
    .unwrap();
    success(&labelgen(dir.path(), &["run"]));
    success(&labelgen(dir.path(), &["run"]));
    let listing = success(&labelgen(dir.path(), &["runs"]));
    let runs_dir = dir.path().join("runs");
    let mut ids: Vec<String> = std::fs::read_dir(&runs_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    ids.sort();
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs_dir.join(&ids[0]).join("metrics.json")).unwrap(),
    )
    .unwrap();
    let accuracy = metrics["test"]["label_model"]["accuracy"].as_f64().unwrap();
    let time =
        regex::Regex::new(r"\d{8}-\d{6}-[0-9a-f]{6} +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+\.\d\d")
            .unwrap();
    let mut redacted = String::new();
    for line in listing.lines() {
        if time.is_match(line) {
            assert!(line.contains(&format!(" {accuracy:.4} ")), "{line}");
        }
        redacted.push_str(&time.replace(line, "RUN-ID  STARTED  SECONDS"));
        redacted.push('\n');
    }
    insta::assert_snapshot!(redacted);
}
