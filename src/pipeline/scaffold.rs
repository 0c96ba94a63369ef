//! What `labelgen init` writes: a project file, an LF file, a little sample data and a plugin
//! crate skeleton, so that `labelgen run` works at once and shows every file's place.
//!
//! The plugin crate carries its own copy of the plugin SDK's source (`plugin/labelgen-sdk/`,
//! embedded in the binary at build time), so it builds wherever labelgen is installed, with
//! nothing but cargo and crates.io's `memchr`.

use std::path::PathBuf;

/// Errors preparing a project.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The folder name gives no usable project name.
    #[error(
        "cannot name a project after the folder `{folder}`: give a folder whose name holds a \
         letter or digit"
    )]
    NoName {
        /// The folder, as given.
        folder: PathBuf,
    },
}

/// The files of a new project named after `folder`, as (path relative to it, contents), and the
/// name of the plugin crate.
pub fn project_files(
    folder: &std::path::Path,
) -> Result<(Vec<(PathBuf, String)>, String), ScaffoldError> {
    let name = folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .or_else(|| {
            let resolved = std::fs::canonicalize(folder).ok()?;
            Some(resolved.file_name()?.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "project".to_owned());
    let crate_name = plugin_crate_name(&name).ok_or_else(|| ScaffoldError::NoName {
        folder: folder.to_owned(),
    })?;
    let mut files = vec![
        (PathBuf::from("labelgen.toml"), project_file(&name)),
        (PathBuf::from("lfs.toml"), LF_FILE.to_owned()),
        (PathBuf::from("data/train.csv"), TRAIN.to_owned()),
        (PathBuf::from("data/dev.csv"), DEV.to_owned()),
        (
            PathBuf::from("plugin/Cargo.toml"),
            plugin_manifest(&crate_name),
        ),
        (PathBuf::from("plugin/src/lib.rs"), PLUGIN_SOURCE.to_owned()),
        (
            PathBuf::from(".gitignore"),
            "/runs/\n/.labelgen/\n/plugin/target/\n".to_owned(),
        ),
    ];
    files.push((
        PathBuf::from("plugin/labelgen-sdk/Cargo.toml"),
        SDK_MANIFEST.to_owned(),
    ));
    for (file, source) in SDK_SOURCES {
        files.push((
            PathBuf::from("plugin/labelgen-sdk/src").join(file),
            (*source).to_owned(),
        ));
    }
    Ok((files, crate_name))
}

/// A crate name cargo accepts for a project called `name`: lower case ASCII letters, digits and
/// `_`, `_lfs` at the end, never starting with a digit (`2024-spam` gives `lfs_2024_spam_lfs`
/// rather than the `2024_spam_lfs` cargo refuses). `None` when `name` has no letter or digit.
pub fn plugin_crate_name(name: &str) -> Option<String> {
    let mut stem = String::new();
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            stem.push(character.to_ascii_lowercase());
        } else if !stem.is_empty() && !stem.ends_with('_') {
            stem.push('_');
        }
    }
    let stem = stem.trim_end_matches('_');
    if stem.is_empty() {
        return None;
    }
    let prefix = if stem.starts_with(|c: char| c.is_ascii_digit()) {
        "lfs_"
    } else {
        ""
    };
    Some(format!("{prefix}{stem}_lfs"))
}

/// The SDK's sources, as compiled into this binary.
const SDK_SOURCES: [(&str, &str); 6] = [
    (
        "lib.rs",
        include_str!("../../labeling_functions/sdk/src/lib.rs"),
    ),
    (
        "abi.rs",
        include_str!("../../labeling_functions/sdk/src/abi.rs"),
    ),
    (
        "registry.rs",
        include_str!("../../labeling_functions/sdk/src/registry.rs"),
    ),
    (
        "row.rs",
        include_str!("../../labeling_functions/sdk/src/row.rs"),
    ),
    (
        "testing.rs",
        include_str!("../../labeling_functions/sdk/src/testing.rs"),
    ),
    (
        "text.rs",
        include_str!("../../labeling_functions/sdk/src/text.rs"),
    ),
];

/// The SDK's `Cargo.toml` in a project: the repository's, without workspace inheritance.
const SDK_MANIFEST: &str = r#"# The labelgen plugin SDK, copied here by `labelgen init` so the plugin builds anywhere.
# Do not edit: a newer labelgen's `init` writes a newer copy.
[package]
name = "labelgen-sdk"
version = "0.1.0"
edition = "2024"
license = "MIT OR Apache-2.0"
publish = false

[lib]
name = "labelgen_sdk"

[dependencies]
memchr = "2"
"#;

/// `labelgen.toml` for a project named `name`.
pub fn project_file(name: &str) -> String {
    let name = toml::Value::String(name.to_owned());
    format!(
        r#"# labelgen project: `labelgen run` runs every stage, reusing what is unchanged.
[project]
name = {name}
seed = 123
output = "runs"              # runs/<run-id>/ holds each run's outputs and manifest.json

[data]
train = "data/train.csv"     # unlabeled rows (a gold column, if any, is not used)
dev = {{ path = "data/dev.csv", gold = "label" }}    # gold labels: model choice and scores
# test = {{ path = "data/test.csv", gold = "label" }}
text_column = "text"         # what the end model learns from
id_column = "id"             # carried as the row key
# columns = {{ text = "body" }} # LF column -> data column, when the data names it otherwise

[lfs]
files = ["lfs.toml"]
# plugins = ["plugin"]       # Rust plugin crates, built with `cargo build --release` when changed

[label_model]
model = "generative"         # or majority, dawid-skene, snorkel, auto (best on dev gold)

[end_model]                  # a classifier trained on the probabilistic labels
word_ngrams = 2
char_ngrams = [4, 4]         # lengths [min, max] inside words, or false
"#
    )
}

/// `lfs.toml`: a keyword, a regex, a length and a composite LF.
pub const LF_FILE: &str = r#"# Labeling functions: each votes a class or abstains. Kinds: keyword, regex, threshold,
# lookup, length, and all / any / not of those; views (preprocessing) and generators too.
# Reference: docs/lf-reference.md in labelgen's repository. List what a file defines with
# `labelgen apply --list-lfs --lfs lfs.toml`.
classes = ["HAM", "SPAM"]

[[lf]]
name = "keyword_subscribe"
kind = "keyword"
column = "text"
keywords = ["subscribe", "my channel"]
label = "SPAM"

[[lf]]
name = "keyword_link"
kind = "regex"
column = "text"
pattern = "https?://"
label = "SPAM"

[[lf]]
name = "short_comment"
kind = "length"
column = "text"
unit = "tokens"
op = "<"
value = 5
label = "HAM"

# A composite LF: a short comment about the song, unless it has a link.
[[lf]]
name = "short_about_the_song"
kind = "all"
column = "text"
conditions = [
  { kind = "keyword", keywords = ["song", "melody", "chorus"] },
  { kind = "length", op = "<=", value = 12 },
]
unless = { kind = "regex", pattern = "https?://" }
label = "HAM"
"#;

/// Sample unlabeled data.
pub const TRAIN: &str = "id,text
1,Please subscribe to my channel for more videos
2,This song is amazing
3,check out http://example.com for free stuff
4,love it
5,I have listened to this song every day for a week
6,subscribe and I will subscribe back
7,great video
8,visit https://spam.example now and win
9,the chorus gives me chills every single time
10,nice
";

/// Sample dev data with gold labels.
pub const DEV: &str = "id,text,label
1,subscribe to my channel please,SPAM
2,what a beautiful melody,HAM
3,free gift cards at http://win.example,SPAM
4,so good,HAM
5,this brings back memories of summer,HAM
6,go to my channel and subscribe,SPAM
";

/// The plugin crate's `Cargo.toml`, depending on the SDK copy beside its sources.
pub fn plugin_manifest(crate_name: &str) -> String {
    format!(
        r#"[package]
name = "{crate_name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
# The labelgen plugin SDK (no dependencies but memchr), copied here by `labelgen init`.
labelgen-sdk = {{ path = "labelgen-sdk" }}

[workspace]
"#
    )
}

/// The plugin crate's `src/lib.rs`: one LF.
pub const PLUGIN_SOURCE: &str = r#"//! Labeling functions as a labelgen plugin. Add it to labelgen.toml (`[lfs] plugins =
//! ["plugin"]`): `labelgen run` builds it when its sources change. Test it with `cargo test`.
//! Walk-through: docs/plugins.md in labelgen's repository; API: `cargo doc --open -p
//! labelgen-sdk` here.

use labelgen_sdk::{Class, ColumnType, Plugin, Row};

const SPAM: Class = Class::new(1);

/// Votes SPAM on comments with many exclamation marks.
fn shouting(row: &Row) -> Option<Class> {
    let text = row.text("text")?;
    (text.matches('!').count() >= 3).then_some(SPAM)
}

fn plugin() -> Plugin {
    const TEXT: &[(&str, ColumnType)] = &[("text", ColumnType::Text)];
    Plugin::new("my_plugin", env!("CARGO_PKG_VERSION"), &["HAM", "SPAM"]).lf("shouting", TEXT, shouting)
}

labelgen_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use labelgen_sdk::testing::TestRows;

    #[test]
    fn shouting_votes_spam_on_three_exclamation_marks() {
        let rows = TestRows::new().text("text", [Some("WIN NOW!!!"), Some("nice song!"), None]);
        assert_eq!(plugin().test("shouting", &rows), [Some(SPAM), None, None]);
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_ones_cargo_accepts() {
        assert_eq!(plugin_crate_name("demo").as_deref(), Some("demo_lfs"));
        assert_eq!(
            plugin_crate_name("2024-spam").as_deref(),
            Some("lfs_2024_spam_lfs")
        );
        assert_eq!(
            plugin_crate_name("My Spam--Project!").as_deref(),
            Some("my_spam_project_lfs")
        );
        assert_eq!(plugin_crate_name("données").as_deref(), Some("donn_es_lfs"));
        assert_eq!(plugin_crate_name("--").as_deref(), None);
        assert_eq!(plugin_crate_name("日本").as_deref(), None);
    }

    #[test]
    fn the_sdk_copy_is_the_sdk() {
        let sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labeling_functions/sdk");
        let mut files: Vec<String> = std::fs::read_dir(sdk.join("src"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut copied: Vec<&str> = SDK_SOURCES.iter().map(|(file, _)| *file).collect();
        copied.sort();
        assert_eq!(files, copied, "every SDK source file is copied");
        let manifest = std::fs::read_to_string(sdk.join("Cargo.toml")).unwrap();
        // The SDK takes its dependencies' versions from the workspace; the copy names them.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let workspace: toml::Table =
            toml::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
        let versions = &workspace["workspace"]["dependencies"];
        let dependencies = |text: &str| -> Vec<(String, String)> {
            let table: toml::Table = toml::from_str(text).unwrap();
            table["dependencies"]
                .as_table()
                .unwrap()
                .iter()
                .map(|(name, spec)| {
                    let spec = match spec.get("workspace") {
                        Some(_) => &versions[name],
                        None => spec,
                    };
                    (name.clone(), spec.as_str().unwrap().to_owned())
                })
                .collect()
        };
        assert_eq!(dependencies(&manifest), dependencies(SDK_MANIFEST));
        let version = |text: &str| {
            text.lines()
                .find(|line| line.starts_with("version"))
                .map(str::to_owned)
        };
        assert_eq!(version(&manifest), version(SDK_MANIFEST));
    }

    #[test]
    fn project_names_are_quoted() {
        let file = project_file("a \"quoted\" name");
        let parsed: toml::Table = toml::from_str(&file).unwrap();
        assert_eq!(
            parsed["project"]["name"].as_str(),
            Some("a \"quoted\" name")
        );
    }
}
