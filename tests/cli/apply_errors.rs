//! `labelgen apply` on bad input: a clear error, exit code 1, and no output file left behind.

use crate::common::*;

const LFS: &str = r#"
classes = ["HAM", "SPAM"]
[[lf]]
name = "keyword_my"
kind = "keyword"
column = "text"
keywords = ["my"]
label = "SPAM"
"#;

/// Run `apply` in a fresh dir holding `files`, expect failure, check nothing was written, and
/// return stderr.
fn apply_fails(files: &[(&str, &str)], args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let before = files_in(dir.path());
    let output = labelgen_with_env(dir.path(), &[&["apply"], args].concat(), env);
    let message = failure(&output);
    assert_eq!(
        files_in(dir.path()),
        before,
        "a failed run left files behind: {message}"
    );
    message
}

/// Apply the LF file `lfs` to a one-row CSV; expect failure and return stderr.
fn toml_fails(lfs: &str) -> String {
    let args = ["in.csv", "--lfs", "lfs.toml", "-o", "L.parquet"];
    apply_fails(&[("lfs.toml", lfs), ("in.csv", "text\nhi\n")], &args, &[])
}

fn has(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` missing from:\n{message}");
    }
}

#[test]
fn missing_data_file() {
    let message = apply_fails(
        &[("lfs.toml", LFS)],
        &["nope.csv", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(&message, &["cannot read `nope.csv`", "No such file"]);
    // The cause is quoted in the message, so it is not repeated as a "caused by" line.
    assert_eq!(message.matches("No such file").count(), 1, "{message}");
}

#[test]
fn unknown_data_format() {
    let message = apply_fails(
        &[("lfs.toml", LFS), ("in.xlsx", "x")],
        &["in.xlsx", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &["cannot tell the format of `in.xlsx`", ".csv", ".parquet"],
    );
}

#[test]
fn missing_column_lists_the_columns_and_the_fix() {
    let files = [
        ("lfs.toml", LFS),
        ("in.csv", "COMMENT_ID,CONTENT\n1,hello\n"),
    ];
    let message = apply_fails(
        &files,
        &["in.csv", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &[
            "`in.csv` has no column `text`",
            "LF `keyword_my`",
            "--column text=NAME",
            "`COMMENT_ID`, `CONTENT`",
        ],
    );
}

#[test]
fn mapped_column_missing_says_it_was_mapped() {
    let files = [
        ("lfs.toml", LFS),
        ("in.csv", "COMMENT_ID,CONTENT\n1,hello\n"),
    ];
    let message = apply_fails(
        &files,
        &[
            "in.csv",
            "--lfs",
            "lfs.toml",
            "--column",
            "text=BODY",
            "-o",
            "L.parquet",
        ],
        &[],
    );
    has(
        &message,
        &["no column `BODY`", "mapped with --column text=BODY"],
    );
}

#[test]
fn mapping_a_column_no_lf_reads() {
    let files = [("lfs.toml", LFS), ("in.csv", "text\nhello\n")];
    let message = apply_fails(
        &files,
        &[
            "in.csv",
            "--lfs",
            "lfs.toml",
            "--column",
            "txt=CONTENT",
            "-o",
            "L.parquet",
        ],
        &[],
    );
    has(
        &message,
        &[
            "--column `txt`=CONTENT",
            "no LF reads a column `txt`",
            "`text`",
        ],
    );
}

const THRESHOLD: &str = r#"
classes = ["HAM", "SPAM"]
[[lf]]
name = "high"
kind = "threshold"
column = "score"
op = ">"
value = 0.5
label = "SPAM"
"#;

#[test]
fn text_in_a_numeric_csv_column_names_line_and_column() {
    let files = [("lfs.toml", THRESHOLD), ("in.csv", "score\n0.7\nhigh\n")];
    let message = apply_fails(
        &files,
        &["in.csv", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &["`in.csv` line 3, column `score`: `high` is not a number"],
    );
}

#[test]
fn wrong_column_type_in_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = polars::prelude::df!("score" => ["0.7", "high"]).unwrap();
    polars::prelude::ParquetWriter::new(
        std::fs::File::create(dir.path().join("in.parquet")).unwrap(),
    )
    .finish(&mut frame)
    .unwrap();
    std::fs::write(dir.path().join("lfs.toml"), THRESHOLD).unwrap();
    let message = failure(&labelgen(
        dir.path(),
        &[
            "apply",
            "in.parquet",
            "--lfs",
            "lfs.toml",
            "-o",
            "L.parquet",
        ],
    ));
    has(
        &message,
        &[
            "column `score` of `in.parquet` is str, but float is needed",
            "LF `high`",
        ],
    );
    assert!(!dir.path().join("L.parquet").exists());
}

#[test]
fn wrong_json_value_type_in_ndjson() {
    let files = [
        ("lfs.toml", LFS),
        ("in.ndjson", "{\"text\": \"my\"}\n\n{\"text\": 42}\n"),
    ];
    let message = apply_fails(
        &files,
        &["in.ndjson", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &["`in.ndjson` line 3, column `text`: text is needed but the value is a number"],
    );
}

#[test]
fn malformed_ndjson_names_the_line() {
    let files = [
        ("lfs.toml", LFS),
        ("in.ndjson", "{\"text\": \"my\"}\n{\"text\": \n"),
    ];
    let message = apply_fails(
        &files,
        &["in.ndjson", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(&message, &["`in.ndjson` line 2: invalid JSON"]);
}

#[test]
fn malformed_csv_names_the_line() {
    let files = [
        ("lfs.toml", LFS),
        ("in.csv", "id,text\n1,fine\n2,too,many\n3,fine\n"),
    ];
    let message = apply_fails(
        &files,
        &["in.csv", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &["`in.csv` line 3: expected 2 fields, as in the header, but found 3"],
    );
}

#[test]
fn invalid_utf8_in_csv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lfs.toml"), LFS).unwrap();
    std::fs::write(dir.path().join("in.csv"), b"text\nok\nbad \xff byte\n").unwrap();
    let message = failure(&labelgen(
        dir.path(),
        &["apply", "in.csv", "--lfs", "lfs.toml", "-o", "L.csv"],
    ));
    has(
        &message,
        &["`in.csv` line 3, column `text`: not valid UTF-8"],
    );
    assert!(!dir.path().join("L.csv").exists());
}

#[test]
fn not_a_wrench_file() {
    let files = [("lfs.toml", LFS), ("in.json", "[1, 2, 3]")];
    let message = apply_fails(
        &files,
        &["in.json", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(&message, &["`in.json` line 1: not a WRENCH split file"]);
}

/// A WRENCH row is named by its key (the file has no line for it; it said "line 0").
#[test]
fn a_wrench_value_of_the_wrong_type_names_its_row() {
    let split = r#"{"3": {"data": {"text": "my song"}}, "7": {"data": {"text": 5}}}"#;
    let files = [("lfs.toml", LFS), ("in.json", split)];
    let message = apply_fails(
        &files,
        &["in.json", "--lfs", "lfs.toml", "-o", "L.parquet"],
        &[],
    );
    has(
        &message,
        &["`in.json` row `7`, field `text`: text is needed but the value is a number"],
    );
    assert!(!message.contains("line 0"), "{message}");
}

/// Found by the `lf_file` fuzz target: a lookup LF with an empty value matched as a token
/// panicked (exit 101, "byte index 1 is not a char boundary", src/lf/matcher.rs) on a text
/// that starts with a non-ASCII character. An empty token is refused when the file is read, as
/// an empty keyword is.
#[test]
fn an_empty_lookup_value_matched_as_a_token() {
    let lfs = r#"
classes = ["HAM", "SPAM"]
[[lf]]
name = "listed"
kind = "lookup"
column = "text"
values = ["", "spam"]
match = "token"
label = "HAM"
"#;
    let files = [("lfs.toml", lfs), ("in.csv", "text\nécole\n")];
    let message = apply_fails(&files, &["in.csv", "--lfs", "lfs.toml", "-o", "L.csv"], &[]);
    has(&message, &["LF `listed`", "empty"]);
}

#[test]
fn invalid_toml_syntax_names_the_line() {
    let bad = "classes = [\"HAM\", \"SPAM\"]\n[[lf]]\nname = \"x\nkind = \"keyword\"\n";
    let message = toml_fails(bad);
    has(&message, &["invalid LF file `lfs.toml`", "line 3"]);
}

#[test]
fn unknown_field_is_named() {
    let bad = LFS.replace("keywords =", "keywrods =");
    let message = toml_fails(&bad);
    // The line is that of the LF's table, which is read on its own.
    has(
        &message,
        &["`lfs.toml` line 3, LF `keyword_my`: unknown field `keywrods`"],
    );
}

#[test]
fn unknown_lf_kind_lists_the_kinds() {
    let bad = LFS.replace("kind = \"keyword\"", "kind = \"keywrd\"");
    let message = toml_fails(&bad);
    has(
        &message,
        &[
            "unknown variant `keywrd`",
            "keyword",
            "regex",
            "threshold",
            "lookup",
            "length",
        ],
    );
}

#[test]
fn unknown_class_names_the_lf_line_and_classes() {
    let bad = LFS.replace("label = \"SPAM\"", "label = \"SPAN\"");
    let message = toml_fails(&bad);
    has(
        &message,
        &[
            "`lfs.toml` line 3, LF `keyword_my`: votes unknown class `SPAN`; the classes are HAM, SPAM",
        ],
    );
}

#[test]
fn bad_regex_names_the_lf() {
    let bad = "classes = [\"A\", \"B\"]\n[[lf]]\nname = \"r\"\nkind = \"regex\"\ncolumn = \"text\"\npattern = \"(unclosed\"\nlabel = \"A\"\n";
    let message = toml_fails(bad);
    has(&message, &["`lfs.toml` line 2, LF `r`: invalid `pattern`"]);
}

#[test]
fn duplicate_lf_names_across_sources() {
    let files = [("a.toml", LFS), ("b.toml", LFS), ("in.csv", "text\nhi\n")];
    let message = apply_fails(
        &files,
        &[
            "in.csv",
            "--lfs",
            "a.toml",
            "--lfs",
            "b.toml",
            "-o",
            "L.parquet",
        ],
        &[],
    );
    has(
        &message,
        &["two LFs are named `keyword_my`: in `a.toml` and in `b.toml`"],
    );
    let plugin = youtube_plugin();
    let message = apply_fails(
        &[("a.toml", LFS), ("in.csv", "text\nhi\n")],
        &[
            "in.csv",
            "--lfs",
            "a.toml",
            "--plugin",
            text(&plugin),
            "-o",
            "L.parquet",
        ],
        &[],
    );
    has(&message, &["two LFs are named `keyword_my`"]);
}

#[test]
fn classes_must_agree_across_sources() {
    let plugin = fixture_plugin("bad_lfs");
    let files = [("a.toml", LFS), ("in.csv", "text\nhi\n")];
    let message = apply_fails(
        &files,
        &[
            "in.csv",
            "--lfs",
            "a.toml",
            "--plugin",
            text(&plugin),
            "-o",
            "L.parquet",
        ],
        &[("BAD_LFS_MODE", "classes")],
    );
    has(
        &message,
        &["declares the classes [A, B, C] but `a.toml` declares [HAM, SPAM]"],
    );
}

#[test]
fn no_lf_source_at_all() {
    let message = apply_fails(
        &[("in.csv", "text\nhi\n")],
        &["in.csv", "-o", "L.parquet"],
        &[],
    );
    has(&message, &["no labeling functions"]);
}

#[test]
fn a_file_that_is_not_a_shared_library() {
    let files = [("libfake.so", "not a library"), ("in.csv", "text\nhi\n")];
    let message = apply_fails(
        &files,
        &["in.csv", "--plugin", "libfake.so", "-o", "L.parquet"],
        &[],
    );
    // The loader's own reason, not libloading's "dlopen failed".
    has(
        &message,
        &["plugin `libfake.so`: cannot load it as a shared library: ./libfake.so: "],
    );
    assert!(!message.contains("dlopen failed"), "{message}");
}

/// Apply the fixture library `library` alone to `data` (as `in.csv`) with `BAD_LFS_MODE` set to
/// `mode`; expect failure and return stderr.
fn plugin_fails(library: &str, data: &str, mode: &str) -> String {
    let plugin = fixture_plugin(library);
    let args = ["in.csv", "--plugin", text(&plugin), "-o", "L.parquet"];
    apply_fails(&[("in.csv", data)], &args, &[("BAD_LFS_MODE", mode)])
}

#[test]
fn a_shared_library_that_is_not_a_plugin() {
    let message = plugin_fails("not_a_plugin", "text\nhi\n", "");
    has(
        &message,
        &[
            "not a labelgen plugin (no `labelgen_plugin_abi_version` symbol)",
            "export_plugin!",
        ],
    );
}

#[test]
fn a_plugin_built_for_another_abi_version() {
    let message = plugin_fails("old_abi", "text\nhi\n", "");
    has(
        &message,
        &[
            "built for plugin ABI version 999, but this labelgen speaks version 1",
            "rebuild the plugin",
        ],
    );
}

#[test]
fn a_plugin_that_fails_to_start() {
    let message = plugin_fails("bad_lfs", "text\nhi\n", "build");
    has(
        &message,
        &["it failed to start: building the plugin panicked: cannot find my word list"],
    );
}

#[test]
fn a_panicking_plugin_lf_is_named_with_its_row() {
    let rows: String = (0..20).map(|index| format!("row {index}\n")).collect();
    let message = plugin_fails("bad_lfs", &format!("text\n{rows}"), "panic");
    has(
        &message,
        &[
            "LF `panics_on_row_3` failed on row 3 (counting from 0): panicked: row three is cursed",
            "lib.rs:",
        ],
    );
}

#[test]
fn a_plugin_vote_outside_the_classes() {
    let message = plugin_fails("bad_lfs", "text\nhi\n", "range");
    has(
        &message,
        &["LF `votes_seven` failed on row 0 (counting from 0): voted 7, outside -1..2"],
    );
}

#[test]
fn an_output_path_that_cannot_be_written() {
    let files = [("lfs.toml", LFS), ("in.csv", "text\nhi\n")];
    let message = apply_fails(
        &files,
        &["in.csv", "--lfs", "lfs.toml", "-o", "no/such/dir/L.parquet"],
        &[],
    );
    has(&message, &["cannot write `no/such/dir/L.parquet`"]);
    let message = apply_fails(&files, &["in.csv", "--lfs", "lfs.toml", "-o", "L.txt"], &[]);
    has(
        &message,
        &[
            "cannot tell the output format of `L.txt`",
            ".parquet or .csv",
        ],
    );
}

#[test]
fn an_existing_output_survives_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("lfs.toml"), LFS).unwrap();
    std::fs::write(path("in.csv"), "text\nmy\n").unwrap();
    success(&labelgen(
        dir.path(),
        &["apply", "in.csv", "--lfs", "lfs.toml", "-o", "L.csv", "-q"],
    ));
    let before = std::fs::read(path("L.csv")).unwrap();
    std::fs::write(path("in.csv"), "text\nmy\na,b\n").unwrap();
    failure(&labelgen(
        dir.path(),
        &["apply", "in.csv", "--lfs", "lfs.toml", "-o", "L.csv"],
    ));
    assert_eq!(std::fs::read(path("L.csv")).unwrap(), before);
    assert!(
        files_in(dir.path())
            .iter()
            .all(|name| !name.ends_with(".partial")),
        "{:?}",
        files_in(dir.path())
    );
}

/// Outputs get the permissions any new file gets (not the private mode of temporary files).
#[cfg(unix)]
#[test]
fn outputs_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lfs.toml"), LFS).unwrap();
    std::fs::write(dir.path().join("in.csv"), "text\nmy\n").unwrap();
    success(&labelgen(
        dir.path(),
        &[
            "apply",
            "in.csv",
            "--lfs",
            "lfs.toml",
            "-o",
            "L.parquet",
            "-q",
        ],
    ));
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("L.parquet")), mode(&reference));
}
