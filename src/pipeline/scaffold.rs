//! What `labelgen init` writes: a project file, an LF file, a little sample data and a plugin
//! crate skeleton, so that `labelgen run` works at once and shows every file's place.

use std::path::Path;

/// `labelgen.toml` for a project named `name`.
pub fn project_file(name: &str) -> String {
    format!(
        r#"# labelgen project: `labelgen run` runs every stage, reusing what is unchanged.
[project]
name = "{name}"
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

/// `lfs.toml`: two keyword LFs and a length LF.
pub const LF_FILE: &str = r#"# Labeling functions: each votes a class or abstains. Kinds: keyword, regex, threshold,
# lookup, length (see labelgen's README).
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

/// The plugin crate's `Cargo.toml`, depending on the SDK at `sdk`.
pub fn plugin_manifest(crate_name: &str, sdk: &Path) -> String {
    format!(
        r#"[package]
name = "{crate_name}_lfs"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
# The labelgen plugin SDK (no dependencies but memchr), from the labelgen sources.
labelgen-sdk = {{ path = "{}" }}

[workspace]
"#,
        sdk.display()
    )
}

/// The plugin crate's `src/lib.rs`: one LF.
pub const PLUGIN_SOURCE: &str = r#"//! Labeling functions as a labelgen plugin. Add it to labelgen.toml (`[lfs] plugins =
//! ["plugin"]`): `labelgen run` builds it when its sources change.

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
"#;
