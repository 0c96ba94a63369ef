//! `labelgen fit`, `label` and `score`.

use crate::common::*;

fn youtube(split: &str) -> String {
    repo_path(&format!("datasets/youtube/{split}.json"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// `labelgen fit` on the bundled youtube train split with `args` (at least `-o FILE`), run in
/// `dir`; its standard output.
fn fit_youtube(dir: &std::path::Path, args: &[&str]) -> String {
    let train = youtube("train");
    let mut arguments = vec!["fit", train.as_str()];
    arguments.extend_from_slice(args);
    success(&labelgen(dir, &arguments))
}

/// Majority vote fitted on the bundled youtube train split, written to `output` in `dir`.
fn fit_majority(dir: &std::path::Path, output: &str) {
    fit_youtube(dir, &["--model", "majority", "-o", output]);
}

#[test]
fn fit_label_and_score_on_the_bundled_wrench_splits() {
    let dir = tempfile::tempdir().unwrap();
    let out = fit_youtube(dir.path(), &["-o", "model.json"]);
    assert!(
        out.contains("class balance: HAM 0.500, SPAM 0.500"),
        "{out}"
    );
    assert!(out.contains("converged: true"), "{out}");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("model.json")).unwrap())
            .unwrap();
    assert_eq!(model["kind"], "generative");
    assert_eq!(model["format_version"], 2);
    assert_eq!(model["lfs"].as_array().unwrap().len(), 10);

    success(&labelgen(
        dir.path(),
        &[
            "label",
            "model.json",
            &youtube("test"),
            "-o",
            "labels.csv",
            "--tie-break",
            "random",
        ],
    ));
    let rows = csv_rows(&dir.path().join("labels.csv"));
    assert_eq!(rows[0], ["id", "p_HAM", "p_SPAM", "label", "covered"]);
    assert_eq!(rows.len(), 251);
    for row in &rows[1..] {
        let total: f64 = row[1].parse::<f64>().unwrap() + row[2].parse::<f64>().unwrap();
        assert!((total - 1.0).abs() < 1e-9, "{row:?}");
    }
    let out = success(&labelgen(
        dir.path(),
        &[
            "label",
            "model.json",
            &youtube("test"),
            "-o",
            "kept.parquet",
            "--filter-uncovered",
        ],
    ));
    assert!(out.starts_with("labelled 232 rows"), "{out}");

    let json = success(&labelgen(
        dir.path(),
        &["score", "model.json", &youtube("test"), "--json"],
    ));
    let reports: serde_json::Value = serde_json::from_str(&json).unwrap();
    let random = &reports[1];
    assert_eq!(random["tie_break"], "random");
    assert_eq!(random["all_rows"]["rows"], 250);
    // Majority vote on the same split, as the baseline the default model must not fall below.
    fit_majority(dir.path(), "mv.json");
    let baseline: serde_json::Value = serde_json::from_str(&success(&labelgen(
        dir.path(),
        &["score", "mv.json", &youtube("test"), "--json"],
    )))
    .unwrap();
    for rows in ["all_rows", "covered_rows"] {
        let model = random[rows]["accuracy"].as_f64().unwrap();
        let majority = baseline[1][rows]["accuracy"].as_f64().unwrap();
        assert!(
            model >= majority,
            "{rows}: {model} < majority vote {majority}"
        );
    }
}

#[test]
fn labels_carry_source_columns_and_keys_from_apply() {
    let dir = tempfile::tempdir().unwrap();
    let data = psy_csv();
    apply_psy(dir.path(), "L.parquet");
    success(&labelgen(
        dir.path(),
        &["fit", "L.parquet", "-o", "model.json"],
    ));
    let out = success(&labelgen(
        dir.path(),
        &[
            "label",
            "model.json",
            "L.parquet",
            "-o",
            "labels.csv",
            "--data",
            text(&data),
            "--keep-columns",
            "AUTHOR,CONTENT",
        ],
    ));
    assert!(out.starts_with("labelled 350 rows"), "{out}");
    let rows = csv_rows(&dir.path().join("labels.csv"));
    assert_eq!(
        rows[0],
        [
            "COMMENT_ID",
            "AUTHOR",
            "CONTENT",
            "p_HAM",
            "p_SPAM",
            "label",
            "covered"
        ]
    );
    let source = csv_rows(&data);
    assert_eq!(
        (&rows[1][0], &rows[1][1], &rows[1][2]),
        (&source[1][0], &source[1][1], &source[1][3])
    );
}

#[test]
fn a_matrix_with_other_lfs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fit_youtube(dir.path(), &["-o", "model.json"]);
    std::fs::write(dir.path().join("L.csv"), "lf_0,other\n0,1\n").unwrap();
    let message = failure(&labelgen(
        dir.path(),
        &[
            "label",
            "model.json",
            "L.csv",
            "-o",
            "out.csv",
            "--cardinality",
            "2",
        ],
    ));
    assert!(
        message.contains("the matrix's LFs differ from the model's: missing [lf_1"),
        "{message}"
    );
    assert!(message.contains("not in the model [other]"), "{message}");
    let message = failure(&labelgen(
        dir.path(),
        &[
            "label",
            "model.json",
            "L.csv",
            "-o",
            "out.csv",
            "--cardinality",
            "3",
        ],
    ));
    assert!(
        message.contains(
            "the matrix has the classes [0, 1, 2] but the model was fitted on [HAM, SPAM]"
        ),
        "{message}"
    );
    assert!(!dir.path().join("out.csv").exists());
}

#[test]
fn a_model_file_of_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fit_youtube(dir.path(), &["-o", "model.json"]);
    let json = std::fs::read_to_string(dir.path().join("model.json"))
        .unwrap()
        .replace("\"format_version\": 2", "\"format_version\": 7");
    std::fs::write(dir.path().join("model.json"), json).unwrap();
    let message = failure(&labelgen(
        dir.path(),
        &["label", "model.json", &youtube("test"), "-o", "out.csv"],
    ));
    assert!(
        message.contains("has format version 7, but this labelgen reads version 2; fit it again"),
        "{message}"
    );
}

/// A model file records the options it was fitted with; a file without that record (written
/// before it existed) still reads.
#[test]
fn a_model_records_its_fit_options() {
    let dir = tempfile::tempdir().unwrap();
    fit_youtube(dir.path(), &["-o", "model.json", "--l2", "3"]);
    let text = std::fs::read_to_string(dir.path().join("model.json")).unwrap();
    let mut model: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        model["fit_options"],
        serde_json::json!({
            "class_balance": "auto", "l2": 3.0, "max_iterations": 500,
            "tolerance": 1e-6, "seed": 123
        })
    );
    model.as_object_mut().unwrap().remove("fit_options");
    std::fs::write(dir.path().join("model.json"), model.to_string()).unwrap();
    success(&labelgen(
        dir.path(),
        &["score", "model.json", &youtube("test")],
    ));
}

#[test]
fn an_all_abstain_matrix_cannot_be_fitted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("L.csv"), "a,b\n-1,-1\n-1,-1\n").unwrap();
    let message = failure(&labelgen(
        dir.path(),
        &["fit", "L.csv", "-o", "model.json", "--cardinality", "2"],
    ));
    assert!(
        message.contains("cannot fit a model to `L.csv`"),
        "{message}"
    );
    assert!(message.contains("no LF voted on any row"), "{message}");
    assert!(!dir.path().join("model.json").exists());
}

#[test]
fn gold_labels_must_be_classes_and_match_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("L.csv"), "a,b\n0,-1\n1,1\n-1,0\n").unwrap();
    success(&labelgen(
        dir.path(),
        &["fit", "L.csv", "-o", "model.json", "--cardinality", "2"],
    ));
    let score_with_gold = || {
        let args = [
            "score",
            "model.json",
            "L.csv",
            "--cardinality",
            "2",
            "--gold",
            "gold.csv:label",
        ];
        labelgen(dir.path(), &args)
    };
    std::fs::write(dir.path().join("gold.csv"), "label\n0\n1\n5\n").unwrap();
    let message = failure(&score_with_gold());
    assert!(
        message.contains("`gold.csv` column `label` row 2 (counting from 0): `5` is not a class"),
        "{message}"
    );
    std::fs::write(dir.path().join("gold.csv"), "label\n0\n1\n").unwrap();
    let message = failure(&score_with_gold());
    assert!(
        message.contains("2 gold labels (`gold.csv:label`) for 3 rows of `L.csv`"),
        "{message}"
    );
    let message = failure(&labelgen(
        dir.path(),
        &["score", "model.json", "L.csv", "--cardinality", "2"],
    ));
    assert!(
        message.contains("no gold labels: `L.csv` holds none, pass --gold FILE:COLUMN"),
        "{message}"
    );
    std::fs::write(dir.path().join("gold.csv"), "label\n0\n1\n1\n").unwrap();
    let out = success(&score_with_gold());
    assert!(out.contains("random     all"), "{out}");
}

/// `--class-balance-from FILE:COLUMN` fits with the gold labels' class shares, add-one
/// smoothed (class names or ids; unknown labels skipped); no labelled row, a label outside the
/// classes or `--class-balance` beside it is an error.
#[test]
fn class_balance_from_gold_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("L.csv"), "a,b\n0,-1\n1,1\n-1,0\n1,-1\n").unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "L.csv", "-o", "model.json", "--cardinality", "2"];
        args.extend_from_slice(extra);
        labelgen(dir.path(), &args)
    };
    // Fit with `dev` as the gold labels' file.
    let fit_with_dev = |dev: &str| {
        std::fs::write(dir.path().join("dev.csv"), dev).unwrap();
        fit(&["--class-balance-from", "dev.csv:label"])
    };
    // 4 rows of class 1, 1 of class 0, 2 unknown: (1 + 1, 4 + 1) / (5 + 2).
    let out = success(&fit_with_dev("label\n1\n0\n1\n-1\n1\n\n1\n"));
    assert!(out.contains("class balance: 0 0.286, 1 0.714"), "{out}");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("model.json")).unwrap())
            .unwrap();
    assert_eq!(
        model["class_balance"],
        serde_json::json!([2.0 / 7.0, 5.0 / 7.0])
    );
    assert_eq!(
        model["fit_options"]["class_balance"],
        "gold labels of dev.csv:label"
    );
    let message = failure(&fit_with_dev("label\n-1\n\n"));
    assert!(message.contains("no row has a gold label"), "{message}");
    let message = failure(&fit_with_dev("label\n0\n2\n"));
    assert!(
        message.contains("row 1 (counting from 0): `2` is not a class"),
        "{message}"
    );
    // A usage error: clap's exit code 2.
    let output = fit(&[
        "--class-balance",
        "uniform",
        "--class-balance-from",
        "dev.csv:label",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot be used with"));
}

/// Thread count changes no byte of a model or of the labels.
#[test]
fn thread_count_changes_no_output_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        let model = format!("model_{threads}.json");
        let labels = format!("labels_{threads}.parquet");
        let env = [("RAYON_NUM_THREADS", threads)];
        success(&labelgen_with_env(
            dir.path(),
            &["fit", &youtube("train"), "-o", &model],
            &env,
        ));
        success(&labelgen_with_env(
            dir.path(),
            &[
                "label",
                &model,
                &youtube("test"),
                "-o",
                &labels,
                "--tie-break",
                "random",
            ],
            &env,
        ));
        outputs.push((
            std::fs::read(dir.path().join(&model)).unwrap(),
            std::fs::read(dir.path().join(&labels)).unwrap(),
        ));
    }
    assert!(outputs.windows(2).all(|pair| pair[0] == pair[1]));
}

/// `label --class-balance` relabels with another prior by Bayes' rule: each row's
/// probabilities are the fitted model's (whose balance is uniform) times the new balance,
/// renormalised, and a row no LF covered gets the new balance itself. `--class-balance-from`
/// counts it from gold labels; the labels' metadata says which prior was used; `score` takes
/// the same options. Majority vote (no prior) and `estimated` (only a fit estimates) are errors.
#[test]
fn label_with_another_class_balance() {
    let dir = tempfile::tempdir().unwrap();
    fit_youtube(dir.path(), &["-o", "model.json"]);
    let test = youtube("test");
    let label = |output: &str, extra: &[&str]| {
        let mut args = vec!["label", "model.json", &test, "-o", output];
        args.extend_from_slice(extra);
        labelgen(dir.path(), &args)
    };
    success(&label("fitted.csv", &[]));
    success(&label("shifted.csv", &["--class-balance", "0.8,0.2"]));
    let fitted = csv_rows(&dir.path().join("fitted.csv"));
    let shifted = csv_rows(&dir.path().join("shifted.csv"));
    assert_eq!(fitted.len(), shifted.len());
    let mut uncovered = 0;
    for (before, after) in fitted[1..].iter().zip(&shifted[1..]) {
        let (ham, spam): (f64, f64) = (before[1].parse().unwrap(), before[2].parse().unwrap());
        let expected = 0.8 * ham / (0.8 * ham + 0.2 * spam);
        let got: f64 = after[1].parse().unwrap();
        assert!((got - expected).abs() < 1e-12, "{before:?} -> {after:?}");
        if after[4] == "false" {
            uncovered += 1;
            assert!((got - 0.8).abs() < 1e-12, "{after:?}");
        }
    }
    assert!(uncovered > 0, "the test split has rows no LF covered");
    // The prior a labels file records: (where it came from, the balance).
    let prior = |file: &str| {
        let metadata: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(file)).unwrap()).unwrap();
        (
            metadata["class_balance_source"].clone(),
            metadata["class_balance"].clone(),
        )
    };
    use serde_json::json;
    assert_eq!(
        prior("fitted.csv.meta.json"),
        (json!("model"), json!([0.5, 0.5]))
    );
    assert_eq!(
        prior("shifted.csv.meta.json"),
        (json!("given"), json!([0.8, 0.2]))
    );

    // 3 HAM, 1 SPAM and an unknown: (3 + 1, 1 + 1) / (4 + 2).
    std::fs::write(
        dir.path().join("dev.csv"),
        "label\nHAM\nSPAM\nHAM\n-1\nHAM\n",
    )
    .unwrap();
    success(&label(
        "dev.csv.out.csv",
        &["--class-balance-from", "dev.csv:label"],
    ));
    assert_eq!(
        prior("dev.csv.out.csv.meta.json"),
        (
            json!("gold labels of dev.csv:label"),
            json!([4.0 / 6.0, 2.0 / 6.0])
        )
    );

    // `score` with the shifted prior scores the labels `label` wrote with it.
    let gold: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(youtube("test")).unwrap()).unwrap();
    let right = shifted[1..]
        .iter()
        .filter(|row| gold[&row[0]]["label"].as_i64() == row[3].parse::<i64>().ok())
        .count();
    let out = success(&labelgen(
        dir.path(),
        &[
            "score",
            "model.json",
            &youtube("test"),
            "--json",
            "--class-balance",
            "0.8,0.2",
        ],
    ));
    let scores: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(scores[0]["tie_break"], "abstain");
    let accuracy = scores[0]["all_rows"]["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - right as f64 / 250.0).abs() < 1e-12,
        "{accuracy} vs {right}/250"
    );

    for balance in ["estimated", "auto"] {
        let message = failure(&label("x.csv", &["--class-balance", balance]));
        assert!(
            message.contains(&format!(
                "`{balance}`: a class balance is estimated or tested only when fitting"
            )),
            "{message}"
        );
    }
    let message = failure(&label("x.csv", &["--class-balance", "1,2,3"]));
    assert!(message.contains("needs 2 positive numbers"), "{message}");
    fit_majority(dir.path(), "majority.json");
    let message = failure(&labelgen(
        dir.path(),
        &[
            "label",
            "majority.json",
            &youtube("test"),
            "-o",
            "x.csv",
            "--class-balance",
            "uniform",
        ],
    ));
    assert!(
        message.contains("majority vote has no class prior"),
        "{message}"
    );
    assert!(!dir.path().join("x.csv").exists());
    let output = label(
        "x.csv",
        &[
            "--class-balance",
            "uniform",
            "--class-balance-from",
            "dev.csv:label",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
}

/// A vote for a class its LF never voted in training is not dropped: `label` says so on
/// stderr and counts it as the prior expects an LF (binary: right 75 % of the time), so a row
/// with only that vote gets `[0.25, 0.75]` under the uniform balance, by hand.
#[test]
fn a_vote_for_a_class_never_voted_in_training_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("train.csv"),
        "a,b\n0,-1\n0,1\n-1,1\n0,0\n-1,-1\n0,1\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("new.csv"), "a,b\n1,-1\n0,-1\n").unwrap();
    success(&labelgen(
        dir.path(),
        &["fit", "train.csv", "--cardinality", "2", "-o", "model.json"],
    ));
    let output = labelgen(
        dir.path(),
        &["label", "model.json", "new.csv", "-o", "labels.csv"],
    );
    success(&output);
    let note = stderr(&output);
    assert!(
        note.contains("1 votes name classes their LF never voted")
            && note.contains("`a` 1 x1")
            && note.contains("right 75 % of the time"),
        "{note}"
    );
    let rows = csv_rows(&dir.path().join("labels.csv"));
    assert_eq!(rows[0], ["p_0", "p_1", "label", "covered"]);
    let p: Vec<f64> = rows[1][0..2].iter().map(|p| p.parse().unwrap()).collect();
    assert!(
        (p[0] - 0.25).abs() < 1e-12 && (p[1] - 0.75).abs() < 1e-12,
        "{rows:?}"
    );
    assert_eq!(rows[1][2], "1");
}

/// `fit --gold`: the valid split's labelled rows choose the model by 5-fold cross-validated
/// accuracy, set the class balance (add-one smoothed: youtube's valid split has 64 HAM and 56
/// SPAM rows, so (64 + 1) / 122 and (56 + 1) / 122), and the model file records the choice;
/// labelled rows of other LFs are refused, naming them.
#[test]
fn gold_rows_choose_the_model_and_set_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let gold = format!("{}:label", youtube("valid"));
    let out = fit_youtube(dir.path(), &["-o", "model.json", "--gold", &gold]);
    assert!(
        out.contains("gold labels: 120 rows, 5-fold cross-validated accuracy: generative "),
        "{out}"
    );
    assert!(
        out.contains("class balance: HAM 0.533, SPAM 0.467"),
        "{out}"
    );
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("model.json")).unwrap())
            .unwrap();
    let selection = &model["diagnostics"]["gold_selection"];
    assert_eq!(selection["rows"], 120);
    assert_eq!(selection["scores"].as_array().unwrap().len(), 5);
    assert_eq!(model["kind"], selection["chosen"]);
    let balance = model["class_balance"][0].as_f64().unwrap();
    assert!((balance - 65.0 / 122.0).abs() < 1e-12, "{balance}");

    // Labelled rows of another LF set: the 10 LF columns of a matrix with one renamed.
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            &youtube("valid"),
            "--lfs",
            youtube_toml().to_str().unwrap(),
            "-o",
            "valid.parquet",
        ],
    ));
    let out = labelgen(
        dir.path(),
        &[
            "fit",
            &youtube("train"),
            "-o",
            "m2.json",
            "--gold",
            "valid.parquet:label",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--gold `valid.parquet` must hold votes of the training matrix's LFs"),
        "{stderr}"
    );
}

/// Writes the rows of the bundled youtube train split whose position modulo 3 is (or is not)
/// zero to two WRENCH files in `dir`, with the split's label.json; their names.
fn youtube_train_shards(dir: &std::path::Path) -> [String; 2] {
    let train: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(youtube("train")).unwrap()).unwrap();
    let mut shards = [serde_json::Map::new(), serde_json::Map::new()];
    for (position, (id, row)) in train.into_iter().enumerate() {
        shards[usize::from(position % 3 != 0)].insert(id, row);
    }
    std::fs::copy(youtube("label"), dir.join("label.json")).unwrap();
    let names = ["first.json".to_owned(), "second.json".to_owned()];
    for (shard, name) in shards.iter().zip(&names) {
        std::fs::write(dir.join(name), serde_json::to_string(shard).unwrap()).unwrap();
    }
    names
}

#[test]
fn a_model_fitted_to_the_statistics_of_shards_is_the_model_of_the_whole_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let [first, second] = youtube_train_shards(dir.path());
    let out = success(&labelgen(
        dir.path(),
        &["stats", &first, "-o", "first.stats"],
    ));
    let rows: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(&first)).unwrap()).unwrap();
    let distinct: std::collections::BTreeSet<String> = rows
        .values()
        .map(|row| row["weak_labels"].to_string())
        .collect();
    assert_eq!(
        out,
        format!(
            "{} rows, {} distinct vote rows, 10 LFs -> first.stats\n",
            rows.len(),
            distinct.len()
        )
    );
    assert_eq!(rows.len(), 1586_usize.div_ceil(3));
    success(&labelgen(
        dir.path(),
        &["stats", &second, "-o", "second.stats"],
    ));
    for model in ["generative", "dawid-skene", "majority"] {
        let whole = fit_youtube(dir.path(), &["--model", model, "-o", "whole.json"]);
        let from_shards = success(&labelgen(
            dir.path(),
            &[
                "fit",
                "second.stats",
                "first.stats",
                "--model",
                model,
                "-o",
                "shards.json",
            ],
        ));
        assert_eq!(whole, from_shards, "{model}");
        let read = |name: &str| {
            let mut model: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap())
                    .unwrap();
            model
                .as_object_mut()
                .unwrap()
                .remove("training_fingerprint");
            model
        };
        assert_eq!(read("whole.json"), read("shards.json"), "{model}");
    }
}

#[test]
fn fit_refuses_a_matrix_mixed_with_shard_statistics_and_shards_of_other_lfs() {
    let dir = tempfile::tempdir().unwrap();
    let [first, _] = youtube_train_shards(dir.path());
    success(&labelgen(
        dir.path(),
        &["stats", &first, "-o", "first.stats"],
    ));
    let err = failure(&labelgen(
        dir.path(),
        &["fit", &first, "first.stats", "-o", "model.json"],
    ));
    assert!(
        err.contains("give one label matrix, or the .stats files"),
        "{err}"
    );
    apply_psy(dir.path(), "psy.parquet");
    success(&labelgen(
        dir.path(),
        &["stats", "psy.parquet", "-o", "psy.stats"],
    ));
    let err = failure(&labelgen(
        dir.path(),
        &["fit", "first.stats", "psy.stats", "-o", "model.json"],
    ));
    assert!(!dir.path().join("model.json").exists());
    assert!(
        err.contains("cannot add `psy.stats` to the statistics of `first.stats`")
            && err.contains("same LFs"),
        "{err}"
    );
}
