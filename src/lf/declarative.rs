//! Declarative LFs from a TOML file: `keyword`, `regex`, `threshold`, `lookup` and `length`.
//!
//! ```toml
//! classes = ["HAM", "SPAM"]          # class ids are positions: HAM = 0, SPAM = 1
//!
//! [[lf]]
//! name = "keyword_please"            # the label-matrix column
//! kind = "keyword"
//! column = "text"                    # the column it reads
//! keywords = ["please", "plz"]
//! label = "SPAM"                     # the class it votes when it fires
//! case_sensitive = false             # default false
//! match = "substring"                # or "word" (whole words only); default "substring"
//! require = "any"                    # or "all" keywords; default "any"
//! ```
//!
//! The other kinds take `pattern` and `case_sensitive` (default true) for `regex`; `op` (`<`,
//! `<=`, `>`, `>=`, `==`, `!=`) and `value` for `threshold` (a numeric column) and `length`
//! (`unit = "tokens"` (default, whitespace-separated) or `"chars"`); `file` (one entry per line,
//! relative to the TOML file) and/or `values`, `case_sensitive` (default false) and `match =
//! "value"` (the whole cell, default) or `"token"` (an entry occurs as whole words) for `lookup`.
//! Every LF abstains on a missing value.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::matcher::{FusedMatcher, TextRule};
use super::simple::{
    Comparison, LengthEvaluator, LengthUnit, LookupValueEvaluator, ThresholdEvaluator,
};
use super::{BoundEvaluator, Evaluator, LfError, LfInfo, LfOrigin};
use crate::io::table::ColumnType;

/// How keywords must occur.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WordMatch {
    /// Anywhere, even inside a word (Snorkel's `word in text`).
    #[default]
    Substring,
    /// As a whole word: not preceded or followed by a letter, digit or `_`.
    Word,
}

/// How many keywords must occur.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// At least one.
    #[default]
    Any,
    /// Every one.
    All,
}

/// How a lookup matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LookupMatch {
    /// The whole value equals an entry.
    #[default]
    Value,
    /// An entry occurs in the text as whole words.
    Token,
}

fn yes() -> bool {
    true
}

/// A `keyword` LF.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordSpec {
    name: String,
    column: String,
    label: String,
    keywords: Vec<String>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default, rename = "match")]
    word_match: WordMatch,
    #[serde(default)]
    require: Require,
}

/// A `regex` LF.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexSpec {
    name: String,
    column: String,
    label: String,
    pattern: String,
    #[serde(default = "yes")]
    case_sensitive: bool,
}

/// A `threshold` LF.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    name: String,
    column: String,
    label: String,
    op: Comparison,
    value: f64,
}

/// A `lookup` LF.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSpec {
    name: String,
    column: String,
    label: String,
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default, rename = "match")]
    lookup_match: LookupMatch,
}

/// A `length` LF.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthSpec {
    name: String,
    column: String,
    label: String,
    #[serde(default)]
    unit: LengthUnit,
    op: Comparison,
    value: f64,
}

/// One declarative LF, as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LfSpec {
    /// Any (or all) of a list of words.
    Keyword(KeywordSpec),
    /// A regular expression (Rust `regex` syntax).
    Regex(RegexSpec),
    /// A numeric column compared to a value.
    Threshold(ThresholdSpec),
    /// A value or token found in a list.
    Lookup(LookupSpec),
    /// Token or character count compared to a value.
    Length(LengthSpec),
}

impl LfSpec {
    fn common(&self) -> (&str, &str, &str, &'static str) {
        match self {
            LfSpec::Keyword(spec) => (&spec.name, &spec.column, &spec.label, "keyword"),
            LfSpec::Regex(spec) => (&spec.name, &spec.column, &spec.label, "regex"),
            LfSpec::Threshold(spec) => (&spec.name, &spec.column, &spec.label, "threshold"),
            LfSpec::Lookup(spec) => (&spec.name, &spec.column, &spec.label, "lookup"),
            LfSpec::Length(spec) => (&spec.name, &spec.column, &spec.label, "length"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    classes: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    lf: Vec<toml::Spanned<LfSpec>>,
}

/// How a compiled LF computes its vote.
#[derive(Debug)]
pub(crate) enum Rule {
    Text(TextRule),
    Threshold(Comparison, f64),
    Length(LengthUnit, Comparison, f64),
    LookupValue(HashSet<String>, bool),
}

/// A checked declarative LF.
#[derive(Debug)]
pub(crate) struct Definition {
    pub info: LfInfo,
    pub column: String,
    pub class: i8,
    pub rule: Rule,
}

/// A parsed and checked LF file.
#[derive(Debug)]
pub struct LfFile {
    /// The file.
    pub path: PathBuf,
    /// Its class names.
    pub classes: Vec<String>,
    /// Its optional `description`.
    pub description: Option<String>,
    /// Its LFs, in file order.
    pub infos: Vec<LfInfo>,
    pub(crate) definitions: Vec<Definition>,
}

impl LfFile {
    /// Read and check `path`.
    pub fn read(path: &Path) -> Result<LfFile, LfError> {
        let text = std::fs::read_to_string(path).map_err(|source| LfError::Io {
            path: path.to_owned(),
            source,
        })?;
        LfFile::parse(path, &text)
    }

    /// Parse and check `text`, read from `path` (list files are relative to its folder).
    pub fn parse(path: &Path, text: &str) -> Result<LfFile, LfError> {
        let raw: RawFile = toml::from_str(text).map_err(|error| LfError::Toml {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        check_classes(path, &raw.classes)?;
        let mut definitions = Vec::with_capacity(raw.lf.len());
        for spanned in raw.lf {
            let line = text[..spanned.span().start].matches('\n').count() + 1;
            let spec = spanned.into_inner();
            let definition =
                check(path, &raw.classes, &spec).map_err(|message| LfError::Definition {
                    path: path.to_owned(),
                    line,
                    lf: spec.common().0.to_owned(),
                    message,
                })?;
            definitions.push(definition);
        }
        let infos = definitions
            .iter()
            .map(|definition| definition.info.clone())
            .collect();
        Ok(LfFile {
            path: path.to_owned(),
            classes: raw.classes,
            description: raw.description,
            infos,
            definitions,
        })
    }
}

fn check_classes(path: &Path, classes: &[String]) -> Result<(), LfError> {
    let problem = if classes.len() < 2 {
        Some("`classes` must name at least two classes".to_owned())
    } else if classes.len() > 127 {
        Some("`classes` may name at most 127 classes".to_owned())
    } else if let Some(empty) = classes.iter().position(|class| class.trim().is_empty()) {
        Some(format!("class {empty} has an empty name"))
    } else {
        let mut seen = HashSet::new();
        classes
            .iter()
            .find(|class| !seen.insert(class.as_str()))
            .map(|class| format!("class `{class}` is named twice"))
    };
    match problem {
        Some(message) => Err(LfError::Toml {
            path: path.to_owned(),
            message,
        }),
        None => Ok(()),
    }
}

/// Check one LF and compile its rule; `Err` is the message.
fn check(path: &Path, classes: &[String], spec: &LfSpec) -> Result<Definition, String> {
    let (name, column, label, kind) = spec.common();
    if name.trim().is_empty() {
        return Err("`name` is empty".to_owned());
    }
    if column.is_empty() {
        return Err("`column` is empty".to_owned());
    }
    let class = classes
        .iter()
        .position(|class| class == label)
        .ok_or_else(|| {
            format!(
                "votes unknown class `{label}`; the classes are {}",
                classes.join(", ")
            )
        })?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&serde_json::to_vec(spec).expect("specs serialize"));
    let (rule, column_type) = match spec {
        LfSpec::Keyword(spec) => (keyword_rule(spec)?, ColumnType::Text),
        LfSpec::Regex(spec) => (regex_rule(spec)?, ColumnType::Text),
        LfSpec::Threshold(spec) => {
            if !spec.value.is_finite() {
                return Err("`value` must be a finite number".to_owned());
            }
            (Rule::Threshold(spec.op, spec.value), ColumnType::Float)
        }
        LfSpec::Length(spec) => {
            if !spec.value.is_finite() {
                return Err("`value` must be a finite number".to_owned());
            }
            (
                Rule::Length(spec.unit, spec.op, spec.value),
                ColumnType::Text,
            )
        }
        LfSpec::Lookup(spec) => (lookup_rule(path, spec, &mut hasher)?, ColumnType::Text),
    };
    let info = LfInfo {
        name: name.to_owned(),
        origin: LfOrigin::Declarative {
            file: path.to_owned(),
            kind: kind.to_owned(),
        },
        columns: vec![(column.to_owned(), column_type)],
        fingerprint: hasher.finalize().to_hex().to_string(),
    };
    Ok(Definition {
        info,
        column: column.to_owned(),
        class: class as i8,
        rule,
    })
}

fn keyword_rule(spec: &KeywordSpec) -> Result<Rule, String> {
    if spec.keywords.is_empty() {
        return Err("`keywords` is empty".to_owned());
    }
    if spec.keywords.iter().any(String::is_empty) {
        return Err("`keywords` holds an empty string, which would match everything".to_owned());
    }
    Ok(Rule::Text(TextRule::Keywords {
        words: spec.keywords.clone(),
        case_sensitive: spec.case_sensitive,
        whole_word: spec.word_match == WordMatch::Word,
        require_all: spec.require == Require::All,
    }))
}

fn regex_rule(spec: &RegexSpec) -> Result<Rule, String> {
    let rule = TextRule::Regex {
        pattern: spec.pattern.clone(),
        case_sensitive: spec.case_sensitive,
    };
    rule.check_regex()
        .map_err(|error| format!("invalid `pattern`: {error}"))?;
    Ok(Rule::Text(rule))
}

fn lookup_rule(
    path: &Path,
    spec: &LookupSpec,
    hasher: &mut blake3::Hasher,
) -> Result<Rule, String> {
    let mut entries = spec.values.clone();
    if let Some(file) = &spec.file {
        let resolved = path.parent().unwrap_or(Path::new(".")).join(file);
        let contents = std::fs::read_to_string(&resolved)
            .map_err(|error| format!("cannot read list file `{}`: {error}", resolved.display()))?;
        hasher.update(contents.as_bytes());
        entries.extend(
            contents
                .lines()
                .map(|line| line.trim_end_matches('\r'))
                .filter(|line| !line.is_empty())
                .map(str::to_owned),
        );
    }
    if entries.is_empty() {
        return Err(
            "the lookup list is empty: give `file` (one entry per line) or `values`".to_owned(),
        );
    }
    Ok(match spec.lookup_match {
        LookupMatch::Token => Rule::Text(TextRule::Keywords {
            words: entries,
            case_sensitive: spec.case_sensitive,
            whole_word: true,
            require_all: false,
        }),
        LookupMatch::Value => {
            let entries = entries
                .into_iter()
                .map(|entry| {
                    if spec.case_sensitive {
                        entry
                    } else {
                        entry.to_lowercase()
                    }
                })
                .collect();
            Rule::LookupValue(entries, spec.case_sensitive)
        }
    })
}

/// Compile the LFs of every file into evaluators; text rules over the same column are fused.
pub(crate) fn compile(
    files: &[LfFile],
    position: &BTreeMap<&str, usize>,
) -> Result<Vec<BoundEvaluator>, LfError> {
    let mut text_rules: BTreeMap<&str, Vec<(usize, i8, &TextRule)>> = BTreeMap::new();
    let mut evaluators = Vec::new();
    for definition in files.iter().flat_map(|file| &file.definitions) {
        let output = position[definition.info.name.as_str()];
        let column = definition.column.clone();
        let evaluator: Box<dyn Evaluator> = match &definition.rule {
            Rule::Text(rule) => {
                text_rules.entry(&definition.column).or_default().push((
                    output,
                    definition.class,
                    rule,
                ));
                continue;
            }
            Rule::Threshold(op, value) => Box::new(ThresholdEvaluator::new(
                column,
                *op,
                *value,
                definition.class,
            )),
            Rule::Length(unit, op, value) => Box::new(LengthEvaluator::new(
                column,
                *unit,
                *op,
                *value,
                definition.class,
            )),
            Rule::LookupValue(entries, case_sensitive) => Box::new(LookupValueEvaluator::new(
                column,
                entries.clone(),
                *case_sensitive,
                definition.class,
            )),
        };
        evaluators.push(BoundEvaluator {
            evaluator,
            outputs: vec![output],
        });
    }
    for (column, rules) in text_rules {
        let outputs = rules.iter().map(|(output, _, _)| *output).collect();
        let compiled: Vec<(i8, &TextRule)> = rules
            .iter()
            .map(|(_, class, rule)| (*class, *rule))
            .collect();
        let matcher = FusedMatcher::new(column, &compiled).map_err(|message| LfError::Toml {
            path: files
                .first()
                .map(|file| file.path.clone())
                .unwrap_or_default(),
            message,
        })?;
        evaluators.push(BoundEvaluator {
            evaluator: Box::new(matcher),
            outputs,
        });
    }
    Ok(evaluators)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LfFile, LfError> {
        LfFile::parse(Path::new("test.toml"), text)
    }

    const ONE_KEYWORD: &str = r#"
classes = ["HAM", "SPAM"]
[[lf]]
name = "k"
kind = "keyword"
column = "text"
keywords = ["my"]
label = "SPAM"
"#;

    #[test]
    fn the_example_file_declares_seven_lfs_over_text() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("labeling_functions/youtube_spam.toml");
        let file = LfFile::read(&path).unwrap();
        assert_eq!(file.classes, ["HAM", "SPAM"]);
        let names: Vec<&str> = file.infos.iter().map(|info| info.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "keyword_my",
                "keyword_subscribe",
                "keyword_link",
                "keyword_please",
                "keyword_song",
                "regex_check_out",
                "short_comment"
            ]
        );
        assert!(
            file.infos
                .iter()
                .all(|info| info.columns == [("text".to_owned(), ColumnType::Text)])
        );
        let mut fingerprints: Vec<&str> = file
            .infos
            .iter()
            .map(|info| info.fingerprint.as_str())
            .collect();
        fingerprints.sort();
        fingerprints.dedup();
        assert_eq!(fingerprints.len(), 7, "every LF has its own fingerprint");
        let classes: Vec<i8> = file
            .definitions
            .iter()
            .map(|definition| definition.class)
            .collect();
        assert_eq!(classes, [1, 1, 1, 1, 0, 1, 0]);
    }

    #[test]
    fn defaults_follow_the_documentation() {
        let file = parse(ONE_KEYWORD).unwrap();
        let Rule::Text(TextRule::Keywords {
            case_sensitive,
            whole_word,
            require_all,
            ..
        }) = &file.definitions[0].rule
        else {
            panic!("a keyword rule")
        };
        assert!(!case_sensitive && !whole_word && !require_all);
        let regex = ONE_KEYWORD
            .replace("kind = \"keyword\"", "kind = \"regex\"")
            .replace("keywords = [\"my\"]", "pattern = \"a+\"");
        let file = parse(&regex).unwrap();
        let Rule::Text(TextRule::Regex { case_sensitive, .. }) = &file.definitions[0].rule else {
            panic!("a regex rule")
        };
        assert!(
            case_sensitive,
            "regexes are case-sensitive unless told otherwise"
        );
    }

    #[test]
    fn class_lists_are_checked() {
        let one = ONE_KEYWORD.replace("[\"HAM\", \"SPAM\"]", "[\"SPAM\"]");
        assert!(
            parse(&one)
                .unwrap_err()
                .to_string()
                .contains("at least two classes")
        );
        let twice = ONE_KEYWORD.replace("[\"HAM\", \"SPAM\"]", "[\"SPAM\", \"SPAM\"]");
        assert!(
            parse(&twice)
                .unwrap_err()
                .to_string()
                .contains("class `SPAM` is named twice")
        );
    }

    #[test]
    fn empty_keywords_and_infinite_values_are_refused() {
        let empty = ONE_KEYWORD.replace("[\"my\"]", "[]");
        assert!(
            parse(&empty)
                .unwrap_err()
                .to_string()
                .contains("`keywords` is empty")
        );
        let blank = ONE_KEYWORD.replace("[\"my\"]", "[\"my\", \"\"]");
        assert!(
            parse(&blank)
                .unwrap_err()
                .to_string()
                .contains("empty string")
        );
        let infinite = "classes = [\"A\", \"B\"]\n[[lf]]\nname = \"t\"\nkind = \"threshold\"\ncolumn = \"x\"\nop = \">\"\nvalue = inf\nlabel = \"A\"\n";
        let error = parse(infinite).unwrap_err().to_string();
        assert_eq!(
            error,
            "`test.toml` line 2, LF `t`: `value` must be a finite number"
        );
    }

    #[test]
    fn lookup_files_are_relative_to_the_lf_file_and_part_of_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let lfs = dir.path().join("lfs.toml");
        std::fs::write(&lfs, "classes = [\"A\", \"B\"]\n[[lf]]\nname = \"l\"\nkind = \"lookup\"\ncolumn = \"x\"\nfile = \"list.txt\"\nlabel = \"B\"\n").unwrap();
        let missing = LfFile::read(&lfs).unwrap_err().to_string();
        assert!(missing.contains("cannot read list file"), "{missing}");
        std::fs::write(dir.path().join("list.txt"), "Alpha\r\nbeta\n\n").unwrap();
        let first = LfFile::read(&lfs).unwrap();
        let Rule::LookupValue(entries, false) = &first.definitions[0].rule else {
            panic!("a value lookup")
        };
        let mut entries: Vec<&String> = entries.iter().collect();
        entries.sort();
        assert_eq!(entries, ["alpha", "beta"]);
        std::fs::write(dir.path().join("list.txt"), "alpha\nbeta\ngamma\n").unwrap();
        let second = LfFile::read(&lfs).unwrap();
        assert_ne!(first.infos[0].fingerprint, second.infos[0].fingerprint);
    }
}
