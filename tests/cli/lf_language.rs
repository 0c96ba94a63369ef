//! The LF language on the real YouTube comments: every example of `docs/lf-reference.md`
//! parsed and applied, composites, views and generators against an independent implementation
//! written here, `--list-lfs`, and the example LF files.

use std::path::Path;

use crate::common::*;

/// The 1,956 comments of the five raw UCI files as (author, text), in file order.
fn comments() -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for name in UCI_FILES {
        let path = repo_path(&format!("datasets/youtube/raw/{name}.csv"));
        let mut reader = csv::Reader::from_path(path).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            rows.push((record[1].to_owned(), record[3].to_owned()));
        }
    }
    rows
}

/// The share of a text's letters that are capitals (0 without letters).
fn caps_ratio(text: &str) -> f64 {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = text.chars().filter(|c| c.is_uppercase()).count();
    if letters == 0 {
        0.0
    } else {
        capitals as f64 / letters as f64
    }
}

/// Write the comments as `comments.csv` (columns text, author, caps_ratio) into `dir`.
fn write_comments(dir: &Path) -> Vec<(String, String)> {
    let rows = comments();
    let mut writer = csv::Writer::from_path(dir.join("comments.csv")).unwrap();
    writer
        .write_record(["text", "author", "caps_ratio"])
        .unwrap();
    for (author, text) in &rows {
        let ratio = format!("{:.3}", caps_ratio(text));
        writer
            .write_record([text.as_str(), author, &ratio])
            .unwrap();
    }
    writer.flush().unwrap();
    rows
}

/// Apply `lfs.toml` in `dir` to its comments.csv; the header and the votes per row.
fn apply_comments(dir: &Path) -> (Vec<String>, Vec<Vec<i8>>) {
    let args = [
        "apply",
        "comments.csv",
        "--lfs",
        "lfs.toml",
        "-o",
        "L.csv",
        "-q",
    ];
    success(&labelgen(dir, &args));
    let rows = csv_rows(&dir.join("L.csv"));
    let votes = rows[1..]
        .iter()
        .map(|row| row.iter().map(|vote| vote.parse().unwrap()).collect())
        .collect();
    (rows[0].clone(), votes)
}

/// A fenced block of a Markdown file: its info string and its text.
struct Block {
    info: String,
    text: String,
}

fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in markdown.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    blocks
}

fn with_classes(text: &str) -> String {
    if text.lines().any(|line| line.starts_with("classes =")) {
        text.to_owned()
    } else {
        format!("classes = [\"HAM\", \"SPAM\"]\n{text}")
    }
}

/// Every example of the LF reference, applied to the comments: each LF votes on some rows and
/// abstains on others; every documented error is the message labelgen gives.
#[test]
fn every_example_of_the_lf_reference_parses_applies_and_fires() {
    let markdown = std::fs::read_to_string(repo_path("docs/lf-reference.md")).unwrap();
    let blocks = fenced_blocks(&markdown);
    let dir = tempfile::tempdir().unwrap();
    write_comments(dir.path());
    let (mut examples, mut errors) = (0, 0);
    for (index, block) in blocks.iter().enumerate() {
        if let Some(file) = block.info.split_once("file=").map(|(_, file)| file) {
            std::fs::write(dir.path().join(file), &block.text).unwrap();
        } else if block.info == "toml" {
            examples += 1;
            std::fs::write(dir.path().join("lfs.toml"), with_classes(&block.text)).unwrap();
            let (names, votes) = apply_comments(dir.path());
            for (column, name) in names.iter().enumerate() {
                let fired = votes.iter().filter(|row| row[column] != -1).count();
                assert!(
                    fired > 0 && fired < votes.len(),
                    "LF `{name}` of example {examples} votes on {fired} of {} comments:\n{}",
                    votes.len(),
                    block.text
                );
            }
        } else if block.info == "toml error" {
            errors += 1;
            let expected = &blocks[index + 1];
            assert_eq!(
                expected.info, "text",
                "an error example is followed by its message"
            );
            std::fs::write(dir.path().join("lfs.toml"), with_classes(&block.text)).unwrap();
            let args = ["apply", "comments.csv", "--lfs", "lfs.toml", "-o", "L.csv"];
            let message = failure(&labelgen(dir.path(), &args));
            assert_eq!(
                message.trim_end(),
                format!("error: {}", expected.text.trim_end()),
                "{}",
                block.text
            );
        }
    }
    assert!(
        examples >= 15 && errors >= 8,
        "{examples} examples, {errors} errors"
    );
}

/// HTML references decoded by hand: the comments hold only these five (checked below).
fn decode_by_hand(text: &str) -> String {
    text.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

const FEATURES: &str = r#"
classes = ["HAM", "SPAM"]

[views.clean]
column = "text"
steps = ["decode_html", "lowercase"]

[[lf]]
name = "free_offer"
kind = "keyword"
column = "text"
keywords = ["free"]
unless = { kind = "keyword", keywords = ["feel free"] }
label = "SPAM"

[[generate]]
name = "word_{value}"
kind = "keyword"
column = "text"
keywords = ["{value}"]
match = "word"
label = "SPAM"
for_each = ["free", "Gift Card"]

[[lf]]
name = "introduces_itself"
kind = "keyword"
view = "clean"
keywords = ["i'm a"]
label = "SPAM"

[[lf]]
name = "short_subscribe_no_link"
kind = "all"
column = "text"
conditions = [
  { kind = "keyword", keywords = ["subscribe"] },
  { kind = "length", op = "<", value = 15 },
  { kind = "not", condition = { kind = "regex", pattern = "https?://" } },
]
label = "SPAM"

[[lf]]
name = "shouting_or_song"
kind = "any"
conditions = [
  { kind = "all", conditions = [
    { kind = "threshold", column = "caps_ratio", op = ">=", value = 0.5 },
    { kind = "length", column = "text", unit = "chars", op = ">", value = 10 },
  ] },
  { kind = "keyword", view = "clean", keywords = ["song"], case_sensitive = true },
]
label = "HAM"
"#;

/// Composites, exceptions, views and generators on the real comments, against the same rules
/// written here in plain Rust.
#[test]
fn composites_views_and_generators_agree_with_plain_rust_on_the_comments() {
    let dir = tempfile::tempdir().unwrap();
    let comments = write_comments(dir.path());
    let references = regex::Regex::new(r"&#?[A-Za-z0-9]+;").unwrap();
    for (_, text) in &comments {
        for found in references.find_iter(text) {
            assert!(
                ["&#39;", "&quot;", "&lt;", "&gt;", "&amp;"].contains(&found.as_str()),
                "{text}"
            );
        }
    }
    std::fs::write(dir.path().join("lfs.toml"), FEATURES).unwrap();
    let (names, votes) = apply_comments(dir.path());
    assert_eq!(
        names,
        [
            "free_offer",
            "word_free",
            "word_gift_card",
            "introduces_itself",
            "short_subscribe_no_link",
            "shouting_or_song"
        ]
    );
    let link = regex::Regex::new("https?://").unwrap();
    let word = |word: &str| regex::Regex::new(&format!(r"(?i)(^|[^\w]){word}([^\w]|$)")).unwrap();
    let (free, gift_card) = (word("free"), word("gift card"));
    let mut fired = [0usize; 6];
    for ((_, text), row) in comments.iter().zip(&votes) {
        let lower = text.to_lowercase();
        let clean = decode_by_hand(text).to_lowercase();
        let ratio: f64 = format!("{:.3}", caps_ratio(text)).parse().unwrap();
        let expected = [
            lower.contains("free") && !lower.contains("feel free"),
            free.is_match(text),
            gift_card.is_match(text),
            clean.contains("i'm a"),
            lower.contains("subscribe")
                && text.split_whitespace().count() < 15
                && !link.is_match(text),
            (ratio >= 0.5 && text.chars().count() > 10) || clean.contains("song"),
        ];
        let classes = [1, 1, 1, 1, 1, 0];
        for (lf, holds) in expected.iter().enumerate() {
            let want = if *holds { classes[lf] } else { -1 };
            assert_eq!(row[lf], want, "LF `{}` on {text:?}", names[lf]);
            fired[lf] += usize::from(*holds);
        }
    }
    assert!(fired.iter().all(|count| *count > 0), "{fired:?}");
    // Decoding matters on these comments: "I&#39;m a" is most of the matches.
    let raw_matches = comments
        .iter()
        .filter(|(_, text)| text.to_lowercase().contains("i'm a"))
        .count();
    assert!(fired[3] > 3 * raw_matches, "{} vs {raw_matches}", fired[3]);
}

/// Same bytes whatever the thread count and batch size, with views and composites.
#[test]
fn rich_lfs_give_the_same_bytes_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    write_comments(dir.path());
    let lfs = repo_path("examples/youtube/rich/lfs.toml");
    let mut outputs = Vec::new();
    for (threads, batch_rows) in [("1", "65536"), ("2", "100"), ("2", "8")] {
        let args = [
            "apply",
            "comments.csv",
            "--lfs",
            text(&lfs),
            "--batch-rows",
            batch_rows,
            "-o",
            "L.parquet",
            "-q",
        ];
        success(&labelgen_with_env(
            dir.path(),
            &args,
            &[("RAYON_NUM_THREADS", threads)],
        ));
        outputs.push(std::fs::read(dir.path().join("L.parquet")).unwrap());
    }
    assert!(outputs.windows(2).all(|pair| pair[0] == pair[1]));
}

/// `--list-lfs` names every LF, generated ones included, with kinds and columns, reading no
/// data.
#[test]
fn list_lfs_shows_generated_names_kinds_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lfs.toml"), FEATURES).unwrap();
    let plugin = youtube_plugin();
    let listing = success(&labelgen(
        dir.path(),
        &[
            "apply",
            "--list-lfs",
            "--lfs",
            "lfs.toml",
            "--plugin",
            text(&plugin),
        ],
    ));
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], "13 LFs; classes: HAM, SPAM");
    let words: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(words[0], ["lf", "kind", "columns", "source"]);
    assert_eq!(
        words[2],
        ["word_free", "keyword", "text", "(text)", "lfs.toml"]
    );
    assert_eq!(
        words[3],
        ["word_gift_card", "keyword", "text", "(text)", "lfs.toml"]
    );
    assert_eq!(
        words[6],
        [
            "shouting_or_song",
            "any",
            "caps_ratio",
            "(float),",
            "text",
            "(text)",
            "lfs.toml"
        ]
    );
    assert_eq!(
        words[7][..4],
        ["keyword_my", "plugin", "youtube_spam", "text"]
    );
    let with_data = labelgen(
        dir.path(),
        &["apply", "--list-lfs", "--lfs", "lfs.toml", "data.csv"],
    );
    assert!(!with_data.status.success());
    assert!(stderr(&with_data).contains("cannot be used with"));
    let without_list = labelgen(dir.path(), &["apply", "--lfs", "lfs.toml"]);
    assert!(!without_list.status.success());
    assert!(stderr(&without_list).contains("required"));
}

/// The second example project's LFs, on the three bundled splits with their gold labels: each
/// votes, and is right at least 80 % of the time.
#[test]
fn the_rich_example_lfs_are_accurate_on_the_bundled_splits() {
    let dir = tempfile::tempdir().unwrap();
    let lfs = repo_path("examples/youtube/rich/lfs.toml");
    let mut tally: Vec<(String, usize, usize)> = Vec::new();
    for split in ["train", "valid", "test"] {
        let data = repo_path(&format!("datasets/youtube/{split}.json"));
        let args = [
            "apply",
            text(&data),
            "--lfs",
            text(&lfs),
            "--id-column",
            "id",
            "-o",
            "L.csv",
            "-q",
        ];
        success(&labelgen(dir.path(), &args));
        let rows = csv_rows(&dir.path().join("L.csv"));
        let gold: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
        assert_eq!(rows[0][0], "id");
        if tally.is_empty() {
            tally = rows[0][1..]
                .iter()
                .map(|name| (name.clone(), 0, 0))
                .collect();
        }
        for row in &rows[1..] {
            let label = gold[&row[0]]["label"].as_i64().unwrap();
            for (vote, (_, votes, right)) in row[1..].iter().zip(&mut tally) {
                let vote: i64 = vote.parse().unwrap();
                if vote != -1 {
                    *votes += 1;
                    *right += usize::from(vote == label);
                }
            }
        }
    }
    assert_eq!(tally.len(), 14);
    for (name, votes, right) in tally {
        assert!(
            votes > 0 && right * 10 >= votes * 8,
            "LF `{name}`: {right} right of {votes} votes"
        );
    }
}

/// `cargo ARGS` in `dir`, with its own target folder under the repository's; panics with
/// cargo's output on failure.
fn cargo_in(dir: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(dir)
        .args(args)
        .args(["--quiet", "--target-dir"])
        .arg(repo_path("target/test-plugins/walkthrough"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed:\n{}",
        dir.display(),
        stderr(&output)
    );
}

fn library(name: &str) -> std::path::PathBuf {
    repo_path("target/test-plugins/walkthrough/debug").join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// docs/plugins.md followed in an empty folder: `init`, the scaffolded test, the page's plugin
/// with its tests, apply; then the example plugin copied out with the one change the page says.
#[test]
fn the_plugin_walkthrough_works_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let said = success(&labelgen(dir.path(), &["init", "spam-demo"]));
    assert!(said.contains("`spam_demo_lfs`"), "{said}");
    let project = dir.path().join("spam-demo");
    let plugin = project.join("plugin");
    let manifest = std::fs::read_to_string(plugin.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains(env!("CARGO_MANIFEST_DIR")), "{manifest}");
    cargo_in(&plugin, &["test"]);

    let page = std::fs::read_to_string(repo_path("docs/plugins.md")).unwrap();
    let source = fenced_blocks(&page)
        .into_iter()
        .find(|block| block.info == "rust file=plugin/src/lib.rs")
        .expect("the page's plugin source");
    std::fs::write(plugin.join("src/lib.rs"), source.text).unwrap();
    cargo_in(&plugin, &["test"]);
    cargo_in(&plugin, &["build"]);
    let built = library("spam_demo_lfs");
    let listing = success(&labelgen(
        &project,
        &["apply", "--list-lfs", "--plugin", text(&built)],
    ));
    assert!(
        listing.starts_with("4 LFs; classes: HAM, SPAM"),
        "{listing}"
    );
    let args = [
        "apply",
        "data/train.csv",
        "--plugin",
        text(&built),
        "-o",
        "L.csv",
        "-q",
    ];
    success(&labelgen(&project, &args));
    let rows = csv_rows(&project.join("L.csv"));
    assert_eq!(
        rows[0],
        ["shouting", "my_channel", "few_words", "mentions_a_site"]
    );
    // "Please subscribe to my channel for more videos", "This song is amazing".
    assert_eq!(rows[1], ["-1", "1", "-1", "-1"]);
    assert_eq!(rows[2], ["-1", "-1", "0", "-1"]);
    // The page's project settings: the TOML file and the plugin crate together.
    let settings = std::fs::read_to_string(project.join("labelgen.toml")).unwrap();
    let enabled = settings.replace("# plugins = [\"plugin\"]", "plugins = [\"plugin\"]");
    assert_ne!(enabled, settings);
    std::fs::write(project.join("labelgen.toml"), enabled).unwrap();
    success(&labelgen(&project, &["run"]));

    // The example plugin, copied out, with its SDK path pointed at init's copy.
    let copy = dir.path().join("youtube_spam");
    std::fs::create_dir_all(copy.join("src")).unwrap();
    let example = repo_path("labeling_functions/youtube_spam");
    let manifest = std::fs::read_to_string(example.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("path = \"../sdk\""), "{manifest}");
    let manifest = manifest.replace(
        "path = \"../sdk\"",
        "path = \"../spam-demo/plugin/labelgen-sdk\"",
    );
    std::fs::write(copy.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(example.join("src/lib.rs"), copy.join("src/lib.rs")).unwrap();
    cargo_in(&copy, &["build"]);
    let example_library = library("youtube_spam_lfs");
    let args = [
        "apply",
        "spam-demo/data/train.csv",
        "--plugin",
        text(&example_library),
        "-o",
        "L.csv",
        "-q",
    ];
    success(&labelgen(dir.path(), &args));
}

/// A folder name cargo would refuse as a crate name gives one it accepts.
#[test]
fn init_fixes_crate_names_cargo_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let said = success(&labelgen(dir.path(), &["init", "2024-spam"]));
    assert!(said.contains("`lfs_2024_spam_lfs`"), "{said}");
    let plugin = dir.path().join("2024-spam/plugin");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(&plugin)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let error = failure(&labelgen(dir.path(), &["init", "___"]));
    assert!(
        error.contains("cannot name a project after the folder `___`"),
        "{error}"
    );
    assert!(!dir.path().join("___").exists());
}
