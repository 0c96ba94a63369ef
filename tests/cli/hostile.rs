//! Input a careless or hostile user gives: an output that is an input, a CSV quote left open,
//! data in another order than the matrix, more classes than votes can name, a tampered model
//! file, ambiguous columns, absurd batch sizes. Each gives a clear error (exit code 1) and
//! leaves every file as it was, or the right result.

use std::path::Path;

use crate::common::*;

const LFS: &str = r#"
classes = ["HAM", "SPAM"]
[[lf]]
name = "keyword_my"
kind = "keyword"
column = "text"
keywords = ["my"]
label = "SPAM"

[[lf]]
name = "keyword_song"
kind = "keyword"
column = "text"
keywords = ["song"]
label = "HAM"
"#;

fn has(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` missing from:\n{message}");
    }
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

/// `id,text` rows: ids 0.. and texts that make both LFs vote.
fn comments(rows: usize) -> String {
    let mut text = String::from("id,text\n");
    for row in 0..rows {
        let words = ["check my channel", "nice song", "my song", "hello"][row % 4];
        text.push_str(&format!("{row},{words} {row}\n"));
    }
    text
}

/// A folder with `lfs.toml`, `data.csv` (`rows` comments), the matrix `L.parquet` applied with
/// `--id-column id` and a majority-vote `model.json`.
fn labelled_folder(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lfs.toml", LFS);
    write(dir.path(), "data.csv", &comments(rows));
    let apply = [
        "apply",
        "data.csv",
        "--lfs",
        "lfs.toml",
        "--id-column",
        "id",
        "-o",
        "L.parquet",
        "-q",
    ];
    success(&labelgen(dir.path(), &apply));
    let fit = [
        "fit",
        "L.parquet",
        "--model",
        "majority",
        "-o",
        "model.json",
    ];
    success(&labelgen(dir.path(), &fit));
    dir
}

/// Run `args` in `dir`, expect failure and every file of `dir` unchanged; stderr.
fn fails_changing_nothing(dir: &Path, args: &[&str]) -> String {
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        files_in(dir)
            .into_iter()
            .filter(|name| dir.join(name).is_file())
            .map(|name| {
                let bytes = std::fs::read(dir.join(&name)).unwrap();
                (name, bytes)
            })
            .collect()
    };
    let before = snapshot(dir);
    let message = failure(&labelgen(dir, args));
    assert!(
        snapshot(dir) == before,
        "files changed or appeared: {:?} -> {:?}",
        before.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        files_in(dir)
    );
    message
}

/// Run `args` in `dir`: it must fail naming every one of `parts`, and change no file.
fn refused(dir: &Path, args: &[&str], parts: &[&str]) {
    has(&fails_changing_nothing(dir, args), parts);
}

/// Item 1: no command writes over one of its own inputs, whatever the path spelling (`./`, a
/// hard link).
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = labelled_folder(8);
    let path = dir.path();
    refused(
        path,
        &["apply", "data.csv", "--lfs", "lfs.toml", "-o", "./data.csv"],
        &[
            "`./data.csv` is also an input of this command (`data.csv`)",
            "choose another output path",
        ],
    );
    fails_changing_nothing(
        path,
        &["label", "model.json", "L.parquet", "-o", "L.parquet"],
    );
    std::fs::hard_link(path.join("L.parquet"), path.join("same.parquet")).unwrap();
    refused(
        path,
        &["label", "model.json", "L.parquet", "-o", "same.parquet"],
        &["`same.parquet` is also an input", "(`L.parquet`)"],
    );
    refused(
        path,
        &["fit", "L.parquet", "-o", "L.parquet"],
        &["`L.parquet` is also an input"],
    );
    fails_changing_nothing(
        path,
        &[
            "label",
            "model.json",
            "L.parquet",
            "-o",
            "x.csv",
            "--data",
            "x.csv",
        ],
    );
    fails_changing_nothing(
        path,
        &[
            "analyze",
            "L.parquet",
            "--model",
            "model.json",
            "-o",
            "model.json",
        ],
    );
    refused(
        path,
        &[
            "analyze",
            "L.parquet",
            "-o",
            "report.html",
            "--html",
            "report.html",
        ],
        &["`report.html` is given as two outputs"],
    );
    // A different file of the same name elsewhere is fine.
    std::fs::create_dir(path.join("out")).unwrap();
    success(&labelgen(
        path,
        &[
            "apply",
            "data.csv",
            "--lfs",
            "lfs.toml",
            "-o",
            "out/data.csv",
            "-q",
        ],
    ));
}

/// Item 2: a quote opened on line 4 and never closed swallowed the rest of the file; the
/// error names that line.
#[test]
fn an_unterminated_quote_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lfs.toml", LFS);
    let mut data = comments(1000);
    data = data.replacen("3,hello 3", "3,\"hello 3", 1);
    write(dir.path(), "data.csv", &data);
    refused(
        dir.path(),
        &["apply", "data.csv", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &["`data.csv` line 5: a quoted field opens here and is never closed"],
    );
    // Deep in a large file (several blocks, parsed in parallel), the line is still exact.
    let mut big = comments(200_000);
    let line = 150_001;
    big = big.replacen(
        &format!("\n{},", line - 2),
        &format!("\n{},\"", line - 2),
        1,
    );
    write(dir.path(), "big.csv", &big);
    let message = failure(&labelgen(
        dir.path(),
        &[
            "apply",
            "big.csv",
            "--lfs",
            "lfs.toml",
            "--batch-rows",
            "8",
            "-o",
            "L.parquet",
        ],
    ));
    has(
        &message,
        &[&format!("`big.csv` line {line}: a quoted field opens here")],
    );
}

/// Item 3: `label --data` and `analyze --data` pair rows by the matrix's row keys, not by
/// position alone.
#[test]
fn data_in_another_order_is_refused() {
    let dir = labelled_folder(8);
    let path = dir.path();
    let data = std::fs::read_to_string(path.join("data.csv")).unwrap();
    let mut lines: Vec<&str> = data.lines().collect();
    lines.swap(3, 4);
    write(path, "shuffled.csv", &(lines.join("\n") + "\n"));
    let label_with = |data| {
        [
            "label",
            "model.json",
            "L.parquet",
            "-o",
            "labels.csv",
            "--data",
            data,
            "--keep-columns",
            "text",
        ]
    };
    refused(
        path,
        &label_with("shuffled.csv"),
        &[
            "row 2 (counting from 0) of `shuffled.csv` has `id` `3`, but that row of the label matrix has `2`",
        ],
    );
    let message = failure(&labelgen(
        path,
        &[
            "analyze",
            "L.parquet",
            "--data",
            "shuffled.csv",
            "--lf",
            "keyword_my",
        ],
    ));
    has(
        &message,
        &["row 2 (counting from 0) of `shuffled.csv` has `id` `3`"],
    );
    // The same rows in the same order pair.
    success(&labelgen(path, &label_with("data.csv")));
    let rows = csv_rows(&path.join("labels.csv"));
    assert_eq!(rows[0][..2], ["id", "text"]);
    assert_eq!(rows[3][..2], ["2", "my song 2"]);
}

/// Item 4: more classes than an `i8` vote can name are refused where they enter, with one
/// limit.
#[test]
fn more_classes_than_votes_can_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut votes = String::from("a,b\n");
    for row in 0..20 {
        votes.push_str(&format!("{},{}\n", row * 9 % 120, row % 3));
    }
    write(dir.path(), "L.csv", &votes);
    refused(
        dir.path(),
        &["fit", "L.csv", "--cardinality", "200", "-o", "model.json"],
        &["--cardinality 200: give between 2 and 127 classes (votes are 8-bit integers)"],
    );
    refused(
        dir.path(),
        &["fit", "L.csv", "--cardinality", "128", "-o", "model.json"],
        &["--cardinality 128: give between 2 and 127 classes"],
    );
}

/// An edit of a model file's JSON.
type Tamper = fn(&mut serde_json::Value);

/// Item 6: a model file whose parameters were damaged or edited is refused on load, naming
/// the field, instead of changing the labels.
#[test]
fn a_tampered_model_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let train = repo_path("datasets/youtube/train.json");
    let test = repo_path("datasets/youtube/test.json");
    for model in ["generative", "dawid-skene", "snorkel"] {
        let output = format!("{model}.json");
        success(&labelgen(
            dir.path(),
            &["fit", text(&train), "--model", model, "-o", &output],
        ));
        success(&labelgen(dir.path(), &["score", &output, text(&test)]));
    }
    let model = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    let cases: [(&str, Tamper, &str); 8] = [
        (
            "generative.json",
            |m| m["class_balance"] = serde_json::json!([-0.5, 1.5]),
            "`class_balance[0]` is -0.5, not a probability in [0, 1]",
        ),
        (
            "generative.json",
            |m| m["class_balance"] = serde_json::json!([0.2, 0.3]),
            "`class_balance` sums to 0.5, not 1",
        ),
        (
            "generative.json",
            |m| {
                m["parameters"]["coverage"][3].as_array_mut().unwrap().pop();
            },
            "`parameters.coverage[3]` has 1 entries, not 2",
        ),
        (
            "generative.json",
            |m| m["parameters"]["confusion"][2][1][1] = serde_json::json!(1.5),
            "`parameters.confusion[2][1][1]` is 1.5, not a probability",
        ),
        (
            "dawid-skene.json",
            |m| m["parameters"]["confusion"][0][0][0] = serde_json::json!(0.0),
            "`parameters.confusion[0][0][0]` is 0, not a probability in (0, 1]",
        ),
        (
            "snorkel.json",
            |m| {
                m["parameters"]["mu"].as_array_mut().unwrap().pop();
            },
            "`parameters.mu` has 19 entries, not 20",
        ),
        (
            "snorkel.json",
            |m| m["kind"] = serde_json::json!("majority"),
            "its `kind` is Majority but its parameters are those of Snorkel",
        ),
        (
            "generative.json",
            |m| m["lfs"][1] = m["lfs"][0].clone(),
            "`lfs` names",
        ),
    ];
    for (file, tamper, expected) in cases {
        let mut value = model(file);
        tamper(&mut value);
        write(dir.path(), "tampered.json", &value.to_string());
        let message = failure(&labelgen(
            dir.path(),
            &["label", "tampered.json", text(&test), "-o", "labels.csv"],
        ));
        has(
            &message,
            &["`tampered.json` is not a labelgen model file", expected],
        );
        assert!(!dir.path().join("labels.csv").exists());
    }
}

/// Item 7: smaller silent cases.
#[test]
fn ambiguous_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    write(path, "lfs.toml", LFS);
    // A header naming `text` twice: which one the LFs read is unclear.
    write(path, "twice.csv", "id,text,text\n1,my song,nice\n");
    refused(
        path,
        &["apply", "twice.csv", "--lfs", "lfs.toml", "-o", "L.csv"],
        &["`twice.csv` has two columns named `text` (1 and 2, counting from 0)"],
    );
    // An LF named like the row-key column: the matrix would hold two `id` columns.
    write(path, "data.csv", &comments(4));
    write(path, "id_lf.toml", &LFS.replace("keyword_song", "id"));
    for output in ["L.csv", "L.parquet"] {
        refused(
            path,
            &[
                "apply",
                "data.csv",
                "--lfs",
                "id_lf.toml",
                "--id-column",
                "id",
                "-o",
                output,
            ],
            &["LF `id` has the name of the row-key column (--id-column `id`)"],
        );
    }
    // A zero batch size.
    let output = labelgen(
        path,
        &[
            "apply",
            "data.csv",
            "--lfs",
            "lfs.toml",
            "--batch-rows",
            "0",
            "-o",
            "L.csv",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    has(
        &stderr(&output),
        &["invalid value '0' for '--batch-rows <ROWS>'"],
    );
}

/// A column name given twice reaches the Parquet reader once: a Parquet file is read like a
/// CSV one (it used to panic in polars, exit code 101, on a projection naming a column twice).
#[test]
fn a_column_named_twice_in_a_request_reads_once_from_parquet() {
    let dir = labelled_folder(8);
    let path = dir.path();
    let label = [
        "label",
        "model.json",
        "L.parquet",
        "--data",
        "data.csv",
        "--keep-columns",
        "text",
        "-o",
        "labels.parquet",
    ];
    success(&labelgen(path, &label));
    let apply = ["apply", "labels.parquet", "--lfs", "lfs.toml"];
    // The row key is a column the LFs read too.
    let keyed = [&apply[..], &["--id-column", "text", "-o", "L_text.parquet"]].concat();
    success(&labelgen(path, &keyed));
    // `label` is both the text asked for and the labels table's own column.
    refused(
        path,
        &[
            "train",
            "labels.parquet",
            "--text-column",
            "label",
            "-o",
            "clf.json",
        ],
        &["column `label` of `labels.parquet` is int, not text"],
    );
    refused(
        path,
        &[
            "label",
            "model.json",
            "L.parquet",
            "--data",
            "labels.parquet",
            "--keep-columns",
            "text,text",
            "-o",
            "again.csv",
        ],
        &["two output columns would be named `text`"],
    );
}

/// Item 7: a model of other LFs given to `analyze`, and a matrix whose metadata lists only some
/// of its columns.
#[test]
fn a_model_or_metadata_that_does_not_match_the_matrix_is_refused() {
    let dir = labelled_folder(8);
    let path = dir.path();
    write(
        path,
        "other.toml",
        &LFS.replace("keyword_song", "keyword_nice"),
    );
    success(&labelgen(
        path,
        &[
            "apply",
            "data.csv",
            "--lfs",
            "other.toml",
            "-o",
            "other.parquet",
            "-q",
        ],
    ));
    let message = failure(&labelgen(
        path,
        &["analyze", "other.parquet", "--model", "model.json"],
    ));
    has(
        &message,
        &[
            "the model does not fit the matrix",
            "missing [keyword_song], not in the model [keyword_nice]",
        ],
    );
    // A CSV matrix with ten LF columns whose sidecar lists three.
    let mut header: Vec<String> = (0..10).map(|lf| format!("lf_{lf}")).collect();
    let mut csv = header.join(",") + "\n";
    csv.push_str(&["0"; 10].join(","));
    csv.push('\n');
    write(path, "wide.csv", &csv);
    header.truncate(3);
    let metadata = serde_json::json!({
        "kind": "label_matrix", "format_version": 1, "classes": ["A", "B"], "cardinality": 2,
        "lfs": header, "row_key": null, "provenance": null,
    });
    write(path, "wide.csv.meta.json", &metadata.to_string());
    refused(
        path,
        &["fit", "wide.csv", "-o", "model2.json"],
        &["its labelgen metadata lists 3 LFs but not its columns `lf_3`, `lf_4`"],
    );
}

/// Item 9: a batch size beyond memory is bounded by memory, not trusted.
#[test]
fn huge_batch_sizes_are_bounded_by_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    write(path, "lfs.toml", LFS);
    let mut ndjson = String::new();
    for row in 0..100 {
        ndjson.push_str(&format!("{{\"text\": \"my song {row}\"}}\n"));
    }
    write(path, "data.ndjson", &ndjson);
    let mut outputs = Vec::new();
    for (extension, data) in [
        ("ndjson", "data.ndjson"),
        ("csv", "data.csv"),
        ("json", "split.json"),
    ] {
        if extension == "csv" {
            write(path, data, &comments(100));
        }
        if extension == "json" {
            let rows: serde_json::Map<String, serde_json::Value> = (0..100)
                .map(|row| {
                    (
                        row.to_string(),
                        serde_json::json!({"label": -1, "data": {"text": "my song"}}),
                    )
                })
                .collect();
            write(path, data, &serde_json::Value::Object(rows).to_string());
        }
        for rows in ["18446744073709551615", "10000000000", "1"] {
            let output = format!("L_{extension}_{rows}.csv");
            success(&labelgen(
                path,
                &[
                    "apply",
                    data,
                    "--lfs",
                    "lfs.toml",
                    "--batch-rows",
                    rows,
                    "-o",
                    &output,
                    "-q",
                ],
            ));
            outputs.push(std::fs::read_to_string(path.join(&output)).unwrap());
        }
        assert!(
            outputs
                .windows(2)
                .skip(outputs.len() - 3)
                .all(|pair| pair[0] == pair[1])
        );
    }
}
