//! `labelgen apply` on good input.

use std::path::Path;

use polars::prelude::{DataType, ParquetReader, SerReader};
use serde_json::Value;

use crate::common::*;

/// The first seven WRENCH weak labels of every row of a split, in file order, keyed by id.
fn wrench_votes(split: &str) -> Vec<(String, Vec<i64>)> {
    let text =
        std::fs::read_to_string(repo_path(&format!("datasets/youtube/{split}.json"))).unwrap();
    let rows: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    rows.into_iter()
        .map(|(id, row)| {
            let votes = row["weak_labels"].as_array().unwrap()[..7]
                .iter()
                .map(|vote| vote.as_i64().unwrap())
                .collect();
            (id, votes)
        })
        .collect()
}

/// Golden test: both forms of the tutorial LFs reproduce, on every row of every split, the
/// votes the WRENCH benchmark stores for them (an independent implementation: Snorkel's Python
/// LFs as run by the WRENCH authors).
#[test]
fn tutorial_lfs_reproduce_the_wrench_votes_on_every_split() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = youtube_plugin();
    for split in ["train", "valid", "test"] {
        let data = repo_path(&format!("datasets/youtube/{split}.json"));
        let from_toml = dir.path().join(format!("{split}_toml.csv"));
        let from_plugin = dir.path().join(format!("{split}_plugin.csv"));
        let common = ["apply", text(&data), "--id-column", "id", "-q"];
        success(&labelgen(
            dir.path(),
            &[
                &common[..],
                &["--lfs", text(&youtube_toml()), "-o", text(&from_toml)],
            ]
            .concat(),
        ));
        success(&labelgen(
            dir.path(),
            &[
                &common[..],
                &["--plugin", text(&plugin), "-o", text(&from_plugin)],
            ]
            .concat(),
        ));
        assert_eq!(
            std::fs::read(&from_toml).unwrap(),
            std::fs::read(&from_plugin).unwrap(),
            "{split}: forms differ"
        );

        let rows = csv_rows(&from_toml);
        assert_eq!(
            rows[0],
            [
                "id",
                "keyword_my",
                "keyword_subscribe",
                "keyword_link",
                "keyword_please",
                "keyword_song",
                "regex_check_out",
                "short_comment"
            ]
        );
        let mut expected: Vec<(String, Vec<i64>)> = wrench_votes(split);
        expected.sort();
        let mut actual: Vec<(String, Vec<i64>)> = rows[1..]
            .iter()
            .map(|row| {
                (
                    row[0].clone(),
                    row[1..].iter().map(|vote| vote.parse().unwrap()).collect(),
                )
            })
            .collect();
        actual.sort();
        assert_eq!(actual.len(), expected.len(), "{split}: row count");
        for (got, want) in actual.iter().zip(&expected) {
            assert_eq!(got, want, "{split}: row {}", got.0);
        }
    }
}

/// Per-LF coverage in the summary equals the coverage of the WRENCH votes.
#[test]
fn summary_reports_rows_lfs_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo_path("datasets/youtube/train.json");
    let out = success(&labelgen(
        dir.path(),
        &[
            "apply",
            text(&data),
            "--lfs",
            text(&youtube_toml()),
            "-o",
            "L.parquet",
        ],
    ));
    let expected = wrench_votes("train");
    assert!(
        out.starts_with(&format!("applied 7 LFs to {} rows in ", expected.len())),
        "{out}"
    );
    let names = [
        "keyword_my",
        "keyword_subscribe",
        "keyword_link",
        "keyword_please",
        "keyword_song",
        "regex_check_out",
        "short_comment",
    ];
    for (index, name) in names.iter().enumerate() {
        let voted = expected
            .iter()
            .filter(|(_, votes)| votes[index] != -1)
            .count();
        let line = format!(
            "{name:<17}  {:>7.2}%",
            100.0 * voted as f64 / expected.len() as f64
        );
        assert!(out.contains(&line), "missing `{line}` in\n{out}");
    }
    assert!(
        !stderr(&labelgen(
            dir.path(),
            &[
                "apply",
                text(&data),
                "--lfs",
                text(&youtube_toml()),
                "-o",
                "L.parquet"
            ]
        ))
        .contains('%'),
        "no progress bar off a terminal"
    );
}

fn read_parquet(path: &Path) -> (polars::prelude::DataFrame, Value) {
    let mut reader = ParquetReader::new(std::fs::File::open(path).unwrap());
    let metadata = reader.get_metadata().unwrap().clone();
    let frame = reader.finish().unwrap();
    let pairs = metadata.key_value_metadata().clone().unwrap_or_default();
    let json = pairs
        .iter()
        .find(|pair| pair.key == "labelgen")
        .and_then(|pair| pair.value.clone())
        .expect("labelgen metadata");
    (frame, serde_json::from_str(&json).unwrap())
}

/// The raw UCI file, whose text column is `CONTENT`, through `--column` with its keys.
#[test]
fn raw_uci_file_with_column_mapping_and_row_keys_to_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let data = psy_csv();
    apply_psy(dir.path(), "L.parquet");
    let (frame, metadata) = read_parquet(&dir.path().join("L.parquet"));
    let records = csv::Reader::from_path(&data).unwrap().records().count();
    assert_eq!(frame.height(), records);
    assert_eq!(frame.width(), 8);
    assert_eq!(frame.get_column_names()[0].as_str(), "COMMENT_ID");
    for column in &frame.columns()[1..] {
        assert_eq!(column.dtype(), &DataType::Int8, "{}", column.name());
    }
    let first_id = frame
        .column("COMMENT_ID")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_owned();
    assert_eq!(
        first_id,
        csv::Reader::from_path(&data)
            .unwrap()
            .records()
            .next()
            .unwrap()
            .unwrap()[0]
    );

    assert_eq!(metadata["kind"], "label_matrix");
    assert_eq!(metadata["format_version"], 1);
    assert_eq!(metadata["cardinality"], 2);
    assert_eq!(metadata["classes"], serde_json::json!(["HAM", "SPAM"]));
    assert_eq!(metadata["row_key"], "COMMENT_ID");
    let provenance = &metadata["provenance"];
    assert_eq!(
        provenance["data_hash"],
        blake3::hash(&std::fs::read(&data).unwrap())
            .to_hex()
            .as_str()
    );
    assert_eq!(
        provenance["column_map"],
        serde_json::json!({"text": "CONTENT"})
    );
    assert_eq!(provenance["lfs"].as_array().unwrap().len(), 7);
    assert_eq!(provenance["lfs"][0]["origin"]["kind"], "keyword");
    assert_eq!(provenance["labelgen_version"], env!("CARGO_PKG_VERSION"));
}

/// Same bytes whatever the thread count, batch size and chunking.
#[test]
fn outputs_are_byte_identical_across_thread_counts_and_batch_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("all.csv");
    let mut all = String::from("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n");
    for name in [
        "Youtube01-Psy",
        "Youtube02-KatyPerry",
        "Youtube03-LMFAO",
        "Youtube04-Eminem",
        "Youtube05-Shakira",
    ] {
        let content =
            std::fs::read_to_string(repo_path(&format!("datasets/youtube/raw/{name}.csv")))
                .unwrap();
        all.push_str(content.split_once('\n').unwrap().1.trim_end_matches('\n'));
        all.push('\n');
    }
    // More rows than one chunk, so several chunks and batches run in parallel.
    let all = all.clone() + &all.split_once('\n').unwrap().1.repeat(3);
    std::fs::write(&data, all).unwrap();
    // Both forms of the LFs at once: the TOML copy's LFs get a prefix to keep names unique.
    let renamed = dir.path().join("renamed.toml");
    let toml = std::fs::read_to_string(youtube_toml())
        .unwrap()
        .replace("name = \"", "name = \"toml_");
    std::fs::write(&renamed, toml).unwrap();
    let plugin = youtube_plugin();
    let mut outputs = Vec::new();
    for (threads, batch_rows) in [("1", "65536"), ("2", "1000"), ("2", "8"), ("1", "777")] {
        let out = dir.path().join(format!("L_{threads}_{batch_rows}.parquet"));
        let args = [
            "apply",
            text(&data),
            "--lfs",
            text(&renamed),
            "--plugin",
            text(&plugin),
            "--column",
            "text=CONTENT",
            "--id-column",
            "COMMENT_ID",
            "--batch-rows",
            batch_rows,
            "-o",
            text(&out),
            "-q",
        ];
        success(&labelgen_with_env(
            dir.path(),
            &args,
            &[("RAYON_NUM_THREADS", threads)],
        ));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert!(
        outputs.windows(2).all(|pair| pair[0] == pair[1]),
        "outputs differ across thread counts / batch sizes"
    );
}

/// Reordering sources permutes the columns and nothing else: same votes per LF, same fingerprint.
#[test]
fn lf_source_order_only_permutes_columns() {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(youtube_toml()).unwrap();
    let split_at = toml.find("[[lf]]\nname = \"keyword_please\"").unwrap();
    let header = "classes = [\"HAM\", \"SPAM\"]\n";
    std::fs::write(dir.path().join("a.toml"), &toml[..split_at]).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        format!("{header}{}", &toml[split_at..]),
    )
    .unwrap();
    let data = repo_path("datasets/youtube/test.json");
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            text(&data),
            "--lfs",
            "a.toml",
            "--lfs",
            "b.toml",
            "-o",
            "ab.csv",
            "-q",
        ],
    ));
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            text(&data),
            "--lfs",
            "b.toml",
            "--lfs",
            "a.toml",
            "-o",
            "ba.csv",
            "-q",
        ],
    ));
    let by_lf = |path: &str| {
        let rows = csv_rows(&dir.path().join(path));
        let mut columns: Vec<(String, Vec<String>)> = (0..rows[0].len())
            .map(|column| {
                (
                    rows[0][column].clone(),
                    rows[1..].iter().map(|row| row[column].clone()).collect(),
                )
            })
            .collect();
        let order: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        columns.sort();
        (order, columns)
    };
    let (ab_order, ab) = by_lf("ab.csv");
    let (ba_order, ba) = by_lf("ba.csv");
    assert_eq!(ab, ba);
    assert_eq!(
        ab_order[..3],
        ["keyword_my", "keyword_subscribe", "keyword_link"]
    );
    assert_eq!(
        ba_order[..4],
        [
            "keyword_please",
            "keyword_song",
            "regex_check_out",
            "short_comment"
        ]
    );
    let fingerprint = |path: &str| {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).unwrap()).unwrap();
        meta["provenance"]["fingerprint"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        fingerprint("ab.csv.meta.json"),
        fingerprint("ba.csv.meta.json")
    );
}

/// CSV, TSV, NDJSON and Parquet inputs holding the same rows give the same matrix.
#[test]
fn every_input_format_gives_the_same_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "Check out my channel!",
        "great song",
        "plz subscribe http://x.y",
        "",
        "a \"quoted\", comma text with more words",
        "ÉTÉ MY SONG",
    ];
    let mut csv_text = String::from("id,text\n");
    let mut tsv_text = String::from("id\ttext\n");
    let mut ndjson = String::new();
    for (index, comment) in texts.iter().enumerate() {
        csv_text.push_str(&format!("{index},\"{}\"\n", comment.replace('"', "\"\"")));
        tsv_text.push_str(&format!("{index}\t{}\n", comment.replace('"', "'")));
        ndjson.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": index.to_string(), "text": comment})
        ));
    }
    std::fs::write(dir.path().join("in.csv"), csv_text).unwrap();
    std::fs::write(dir.path().join("in.ndjson"), ndjson).unwrap();
    let mut frame = polars::prelude::df!(
        "id" => (0..texts.len()).map(|index| index.to_string()).collect::<Vec<_>>(),
        "text" => texts.to_vec()
    )
    .unwrap();
    polars::prelude::ParquetWriter::new(
        std::fs::File::create(dir.path().join("in.parquet")).unwrap(),
    )
    .finish(&mut frame)
    .unwrap();
    let mut outputs = Vec::new();
    for input in ["in.csv", "in.ndjson", "in.parquet"] {
        let out = format!("{input}.L.csv");
        success(&labelgen(
            dir.path(),
            &[
                "apply",
                input,
                "--lfs",
                text(&youtube_toml()),
                "--id-column",
                "id",
                "-o",
                &out,
                "-q",
            ],
        ));
        outputs.push(std::fs::read_to_string(dir.path().join(out)).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    // Hand-checked votes (my, subscribe, link, please, song, check.*out, short).
    let rows = csv_rows(&dir.path().join("in.csv.L.csv"));
    assert_eq!(rows[1][1..], ["1", "-1", "-1", "-1", "-1", "1", "0"]);
    assert_eq!(rows[2][1..], ["-1", "-1", "-1", "-1", "0", "-1", "0"]);
    assert_eq!(rows[3][1..], ["-1", "1", "1", "1", "-1", "-1", "0"]);
    assert_eq!(rows[4][1..], ["-1", "-1", "-1", "-1", "-1", "-1", "0"]);
    assert_eq!(rows[5][1..], ["-1", "-1", "-1", "-1", "-1", "-1", "-1"]);
    assert_eq!(rows[6][1..], ["1", "-1", "-1", "-1", "0", "-1", "0"]);

    std::fs::write(dir.path().join("in.tsv"), tsv_text).unwrap();
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            "in.tsv",
            "--lfs",
            text(&youtube_toml()),
            "--id-column",
            "id",
            "-o",
            "tsv.csv",
            "-q",
        ],
    ));
    assert_eq!(csv_rows(&dir.path().join("tsv.csv")).len(), texts.len() + 1);
}

/// A file with a header and no rows gives a matrix with no rows and every LF column.
#[test]
fn empty_input_gives_an_empty_matrix_with_the_right_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.csv"), "id,text\n").unwrap();
    let out = success(&labelgen(
        dir.path(),
        &[
            "apply",
            "empty.csv",
            "--lfs",
            text(&youtube_toml()),
            "--id-column",
            "id",
            "-o",
            "L.parquet",
        ],
    ));
    assert!(out.starts_with("applied 7 LFs to 0 rows"), "{out}");
    let (frame, _) = read_parquet(&dir.path().join("L.parquet"));
    assert_eq!(frame.height(), 0);
    assert_eq!(frame.width(), 8);
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            "empty.csv",
            "--lfs",
            text(&youtube_toml()),
            "-o",
            "L.csv",
            "-q",
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("L.csv"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

/// Every declarative kind on a small table, against hand-computed votes.
#[test]
fn every_declarative_kind_votes_as_specified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spammers.txt"), "bot army\nSpamKing\n\n").unwrap();
    std::fs::write(
        dir.path().join("lfs.toml"),
        r#"
        classes = ["HAM", "SPAM", "UNSURE"]
        [[lf]]
        name = "free_and_money"
        kind = "keyword"
        column = "text"
        keywords = ["free", "money"]
        require = "all"
        label = "SPAM"
        [[lf]]
        name = "word_win"
        kind = "keyword"
        column = "text"
        keywords = ["win"]
        match = "word"
        label = "SPAM"
        [[lf]]
        name = "case_USA"
        kind = "keyword"
        column = "text"
        keywords = ["USA"]
        case_sensitive = true
        label = "HAM"
        [[lf]]
        name = "digits"
        kind = "regex"
        column = "text"
        pattern = '\d{3,}'
        label = "UNSURE"
        [[lf]]
        name = "high_score"
        kind = "threshold"
        column = "score"
        op = ">="
        value = 0.9
        label = "HAM"
        [[lf]]
        name = "known_spammer"
        kind = "lookup"
        column = "author"
        file = "spammers.txt"
        label = "SPAM"
        [[lf]]
        name = "mentions_spammer"
        kind = "lookup"
        column = "text"
        file = "spammers.txt"
        match = "token"
        label = "SPAM"
        [[lf]]
        name = "long"
        kind = "length"
        column = "text"
        unit = "chars"
        op = ">"
        value = 20
        label = "HAM"
        "#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("in.csv"),
        "author,score,text\n\
         spamking,0.1,FREE MONEY to win\n\
         alice,0.95,made in USA\n\
         bob,,winner 12345 of the bot army\n\
         carol,0.9,usa free\n",
    )
    .unwrap();
    success(&labelgen(
        dir.path(),
        &["apply", "in.csv", "--lfs", "lfs.toml", "-o", "L.csv", "-q"],
    ));
    let rows = csv_rows(&dir.path().join("L.csv"));
    assert_eq!(
        rows[0],
        [
            "free_and_money",
            "word_win",
            "case_USA",
            "digits",
            "high_score",
            "known_spammer",
            "mentions_spammer",
            "long"
        ]
    );
    assert_eq!(rows[1], ["1", "1", "-1", "-1", "-1", "1", "-1", "-1"]);
    assert_eq!(rows[2], ["-1", "-1", "0", "-1", "0", "-1", "-1", "-1"]);
    assert_eq!(rows[3], ["-1", "-1", "-1", "2", "-1", "-1", "1", "0"]);
    assert_eq!(rows[4], ["-1", "-1", "-1", "-1", "0", "-1", "-1", "-1"]);
}

/// A plugin LF reading a float column gets the numbers, with missing values as `None`.
#[test]
fn plugin_reads_float_columns_with_nulls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.csv"),
        "id,score\n1,0.9\n2,\n3,0.2\n4,1e3\n",
    )
    .unwrap();
    let plugin = fixture_plugin("bad_lfs");
    let output = labelgen_with_env(
        dir.path(),
        &[
            "apply",
            "in.csv",
            "--plugin",
            text(&plugin),
            "-o",
            "L.csv",
            "-q",
        ],
        &[("BAD_LFS_MODE", "float")],
    );
    success(&output);
    let rows = csv_rows(&dir.path().join("L.csv"));
    assert_eq!(rows, [["score_high"], ["1"], ["-1"], ["-1"], ["1"]]);
}
