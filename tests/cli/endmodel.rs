//! `labelgen train`, `predict` and `evaluate` on the bundled YouTube data, and bad input.

use std::path::Path;

use crate::common::{failure, labelgen, repo_path, stderr, success};

fn youtube(split: &str) -> String {
    repo_path(&format!("datasets/youtube/{split}.json"))
        .display()
        .to_string()
}

/// Fit the default label model on the train split and write its labels with the texts.
fn train_labels(dir: &Path) {
    success(&labelgen(
        dir,
        &["fit", &youtube("train"), "-o", "model.json"],
    ));
    success(&labelgen(
        dir,
        &[
            "label",
            "model.json",
            &youtube("train"),
            "-o",
            "labels.parquet",
            "--data",
            &youtube("train"),
            "--keep-columns",
            "text",
        ],
    ));
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// The whole loop without gold labels in training: the classifier trained on the label
/// model's soft labels beats the label model itself on the test split.
#[test]
fn classifier_on_soft_labels_beats_the_label_model() {
    let dir = tempfile::tempdir().unwrap();
    train_labels(dir.path());
    let printed = success(&labelgen(
        dir.path(),
        &["train", "labels.parquet", "-o", "clf.json"],
    ));
    assert!(
        printed.contains("trained on 1391 rows (soft targets; 195 uncovered rows left out)"),
        "{printed}"
    );
    success(&labelgen(
        dir.path(),
        &[
            "predict",
            "clf.json",
            &youtube("test"),
            "-o",
            "predictions.csv",
            "--id-column",
            "id",
        ],
    ));
    let predictions = std::fs::read_to_string(dir.path().join("predictions.csv")).unwrap();
    let mut lines = predictions.lines();
    assert_eq!(lines.next(), Some("id,p_HAM,p_SPAM,label"));
    let mut rows = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let (ham, spam): (f64, f64) = (cells[1].parse().unwrap(), cells[2].parse().unwrap());
        assert!((ham + spam - 1.0).abs() < 1e-9, "{line}");
        assert_eq!(cells[3], if spam > ham { "1" } else { "0" }, "{line}");
        rows += 1;
    }
    assert_eq!(rows, 250);
    let gold = format!("{}:label", youtube("test"));
    let classifier = json(&success(&labelgen(
        dir.path(),
        &["evaluate", "predictions.csv", "--gold", &gold, "--json"],
    )));
    let label_model = json(&success(&labelgen(
        dir.path(),
        &["score", "model.json", &youtube("test"), "--json"],
    )));
    let model_accuracy = label_model[1]["all_rows"]["accuracy"].as_f64().unwrap();
    let accuracy = classifier["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > model_accuracy,
        "classifier {accuracy} vs label model {model_accuracy}"
    );
    // Snorkel's spam tutorial reports 0.944 for its logistic regression on its labels.
    assert!(accuracy >= 0.944, "classifier {accuracy}");
    let model = json(&std::fs::read_to_string(dir.path().join("clf.json")).unwrap());
    assert_eq!(model["features"]["char_ngrams"], serde_json::json!([4, 4]));
    assert_eq!(classifier["rows"], 250);
    let support: u64 = classifier["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["support"].as_u64().unwrap())
        .sum();
    assert_eq!(support, 250);
    // The text report.
    let table = success(&labelgen(
        dir.path(),
        &["evaluate", "predictions.csv", "--gold", &gold],
    ));
    assert!(
        table.starts_with("250 rows with gold: accuracy "),
        "{table}"
    );
    assert!(
        table.contains("class precision    recall        F1  support"),
        "{table}"
    );
}

#[test]
fn validation_selects_and_hard_labels_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    train_labels(dir.path());
    let printed = success(&labelgen(
        dir.path(),
        &[
            "train",
            "labels.parquet",
            "-o",
            "clf.json",
            "--valid",
            &youtube("valid"),
            "--hard",
            "--class-weight",
            "balanced",
            "--char-ngrams",
            "none",
        ],
    ));
    assert!(
        printed.contains("validation (model selection and early stopping):"),
        "{printed}"
    );
    assert_eq!(printed.matches("<- chosen").count(), 1, "{printed}");
    let model = json(&std::fs::read_to_string(dir.path().join("clf.json")).unwrap());
    assert_eq!(model["kind"], "classifier");
    assert_eq!(model["training"]["targets"], "hard");
    assert_eq!(model["training"]["validation"].as_array().unwrap().len(), 3);
    assert_eq!(model["features"]["word_ngrams"], 2);
    assert!(model["features"]["char_ngrams"].is_null());
    assert_eq!(model["training"]["options"]["class_weights"], "balanced");
}

/// No iteration at all is a model at its start, with validation rows as without (it used to
/// panic, exit code 101, when model selection had no round to choose from).
#[test]
fn zero_iterations_train_the_starting_model_with_or_without_validation() {
    let dir = tempfile::tempdir().unwrap();
    train_labels(dir.path());
    let zero = ["train", "labels.parquet", "--max-iterations", "0"];
    let valid = youtube("valid");
    for extra in [
        &["-o", "alone.json"][..],
        &["-o", "valid.json", "--valid", &valid],
    ] {
        let printed = success(&labelgen(dir.path(), &[&zero[..], extra].concat()));
        assert!(printed.contains("; 0 L-BFGS iterations, "), "{printed}");
        assert!(
            printed.contains("\n0 nonzero feature weights; "),
            "{printed}"
        );
    }
    let model = json(&std::fs::read_to_string(dir.path().join("valid.json")).unwrap());
    let candidates = model["training"]["validation"].as_array().unwrap();
    assert_eq!(candidates.len(), 3);
    assert!(
        candidates
            .iter()
            .all(|candidate| candidate["iterations"] == 0)
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    train_labels(dir.path());
    // No such text column.
    let error = failure(&labelgen(
        dir.path(),
        &[
            "train",
            "labels.parquet",
            "-o",
            "clf.json",
            "--text-column",
            "body",
        ],
    ));
    assert!(
        error.contains("`labels.parquet` has no column `body`"),
        "{error}"
    );
    // Character n-gram lengths the wrong way round, or not lengths at all.
    for (value, expected) in [
        ("5-3", "need 1 <= MIN <= MAX, got 5-3 (or `none`)"),
        ("four", "expected MIN-MAX, got `four` (or `none`)"),
    ] {
        let output = labelgen(
            dir.path(),
            &[
                "train",
                "labels.parquet",
                "-o",
                "clf.json",
                "--char-ngrams",
                value,
            ],
        );
        // A usage error: clap's exit code 2, no panic.
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{error}");
        assert!(error.contains(expected), "{error}");
    }
    assert!(!dir.path().join("clf.json").exists());
    // Nothing left once the uncovered rows are left out.
    std::fs::write(
        dir.path().join("uncovered.csv"),
        "text,p_HAM,p_SPAM,label,covered\nhello,0.5,0.5,-1,false\n",
    )
    .unwrap();
    let error = failure(&labelgen(
        dir.path(),
        &["train", "uncovered.csv", "-o", "clf.json"],
    ));
    assert!(
        error.contains("no training rows after leaving out the rows no LF covered"),
        "{error}"
    );
    // Not a labels table.
    let error = failure(&labelgen(
        dir.path(),
        &["train", &youtube("test"), "-o", "clf.json"],
    ));
    assert!(error.contains("is not a label table"), "{error}");
    // Wrong number of class weights.
    let error = failure(&labelgen(
        dir.path(),
        &[
            "train",
            "labels.parquet",
            "-o",
            "clf.json",
            "--class-weight",
            "1,2,3",
        ],
    ));
    assert!(error.contains("3 class weights for 2 classes"), "{error}");
    assert!(
        !dir.path().join("clf.json").exists(),
        "no output after a failure"
    );

    success(&labelgen(
        dir.path(),
        &["train", "labels.parquet", "-o", "clf.json"],
    ));
    // Text that is not UTF-8.
    std::fs::write(dir.path().join("latin1.csv"), b"text\nhello\ncaf\xe9\n").unwrap();
    let error = failure(&labelgen(
        dir.path(),
        &["predict", "clf.json", "latin1.csv", "-o", "p.csv"],
    ));
    assert!(
        error.contains("`latin1.csv` line 3, column `text`: not valid UTF-8"),
        "{error}"
    );
    // A model of another format version.
    let text = std::fs::read_to_string(dir.path().join("clf.json")).unwrap();
    std::fs::write(
        dir.path().join("old.json"),
        text.replacen("\"format_version\": 1", "\"format_version\": 7", 1),
    )
    .unwrap();
    let error = failure(&labelgen(
        dir.path(),
        &["predict", "old.json", &youtube("test"), "-o", "p.csv"],
    ));
    assert!(
        error.contains("is a classifier of format version 7"),
        "{error}"
    );
    // A label model file is not a classifier.
    let error = failure(&labelgen(
        dir.path(),
        &["predict", "model.json", &youtube("test"), "-o", "p.csv"],
    ));
    assert!(error.contains("not a labelgen classifier"), "{error}");
    // Gold of other rows, and gold outside the classes.
    success(&labelgen(
        dir.path(),
        &["predict", "clf.json", &youtube("test"), "-o", "p.csv"],
    ));
    std::fs::write(dir.path().join("short.csv"), "label\n0\n1\n").unwrap();
    let error = failure(&labelgen(
        dir.path(),
        &["evaluate", "p.csv", "--gold", "short.csv:label"],
    ));
    assert!(
        error.contains("2 gold labels (`short.csv:label`) for 250 predictions (`p.csv`)"),
        "{error}"
    );
    let mut classes = String::from("label\n");
    for row in 0..250 {
        classes.push_str(if row == 7 { "EGGS\n" } else { "HAM\n" });
    }
    std::fs::write(dir.path().join("classes.csv"), classes).unwrap();
    let error = failure(&labelgen(
        dir.path(),
        &["evaluate", "p.csv", "--gold", "classes.csv:label"],
    ));
    assert!(
        error.contains("row 7 (counting from 0): `EGGS` is not a class"),
        "{error}"
    );
}
