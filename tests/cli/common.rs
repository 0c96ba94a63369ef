//! Helpers shared by the CLI tests: the binary, plugin builds, temp dirs, reading outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn repo_path(relative: &str) -> PathBuf {
    repo().join(relative)
}

/// `labelgen` with `args`, run in `dir`.
pub fn labelgen(dir: &Path, args: &[&str]) -> Output {
    labelgen_with_env(dir, args, &[])
}

/// `labelgen` with `args` and extra environment variables, run in `dir`.
pub fn labelgen_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_labelgen"));
    command.current_dir(dir).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("labelgen runs")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Assert success and return stdout.
pub fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "labelgen failed:\nstdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// Assert failure (exit code 1, no panic) and return stderr.
pub fn failure(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit code 1; stderr: {text}"
    );
    assert!(!text.contains("panicked at"), "labelgen panicked: {text}");
    text
}

fn cargo_build(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(repo())
        .args(args)
        .args(["--quiet", "--target-dir", "target/test-plugins"])
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building test plugins failed: cargo {args:?}"
    );
}

fn plugins_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(&["build", "-p", "youtube_spam"]);
        cargo_build(&[
            "build",
            "--manifest-path",
            "tests/fixtures/plugins/Cargo.toml",
        ]);
        repo_path("target/test-plugins/debug")
    })
}

/// The example plugin, built as a user would (`cargo build -p youtube_spam`).
pub fn youtube_plugin() -> PathBuf {
    plugins_dir().join(format!(
        "{}youtube_spam_lfs{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// A test fixture plugin from tests/fixtures/plugins.
pub fn fixture_plugin(name: &str) -> PathBuf {
    plugins_dir().join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// The declarative twin of the example plugin.
pub fn youtube_toml() -> PathBuf {
    repo_path("labeling_functions/youtube_spam.toml")
}

/// Rows of a CSV file, header first.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("readable CSV");
    reader
        .records()
        .map(|record| {
            record
                .expect("CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The files in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A path as a `&str`.
pub fn text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// The five raw UCI files of datasets/youtube/raw, without `.csv`, in order.
pub const UCI_FILES: [&str; 5] = [
    "Youtube01-Psy",
    "Youtube02-KatyPerry",
    "Youtube03-LMFAO",
    "Youtube04-Eminem",
    "Youtube05-Shakira",
];

/// The raw UCI file Youtube01-Psy.csv.
pub fn psy_csv() -> PathBuf {
    repo_path("datasets/youtube/raw/Youtube01-Psy.csv")
}

/// Apply the tutorial TOML LFs to Youtube01-Psy.csv (text in `CONTENT`, keys `COMMENT_ID`),
/// writing `output` in `dir`.
pub fn apply_psy(dir: &Path, output: &str) {
    let (data, lfs) = (psy_csv(), youtube_toml());
    let args = [
        "apply",
        text(&data),
        "--lfs",
        text(&lfs),
        "--column",
        "text=CONTENT",
        "--id-column",
        "COMMENT_ID",
        "-o",
        output,
        "-q",
    ];
    success(&labelgen(dir, &args));
}
