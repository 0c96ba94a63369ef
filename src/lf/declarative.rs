//! Declarative LFs from a TOML file. `docs/lf-reference.md` is the user's reference; in short:
//!
//! ```toml
//! classes = ["HAM", "SPAM"]          # class ids are positions: HAM = 0, SPAM = 1
//!
//! [views.clean]                      # a preprocessed view of a column, computed once per row
//! column = "text"
//! steps = ["decode_html", "nfkc", "lowercase"]
//!
//! [[lf]]
//! name = "keyword_please"            # the label-matrix column
//! kind = "keyword"                   # keyword, regex, threshold, lookup, length, all, any, not
//! column = "text"                    # the column it reads (or `view = "clean"`)
//! keywords = ["please", "plz"]
//! label = "SPAM"                     # the class it votes when its condition holds
//! unless = { kind = "keyword", keywords = ["please like"] }
//!
//! [[generate]]                       # one LF per row: `{value}` or the rows' fields
//! name = "keyword_{value}"
//! kind = "keyword"
//! column = "text"
//! keywords = ["{value}"]
//! label = "SPAM"
//! for_each = ["free", "win"]
//! ```
//!
//! Each `[[lf]]` table is read on its own, so an error names its LF and line. `[[lf]]` and
//! `[[generate]]` blocks define LFs in file order; a generator's LFs follow its rows' order.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

pub(crate) use super::definition::{Condition, Definition, Leaf, Source, Test};
use super::matcher::TextRule;
use super::preprocess::Step;
use super::simple::{Comparison, LengthUnit, ValueList};
use super::{BoundEvaluator, LfError, LfInfo, LfOrigin};
use crate::table::ColumnType;

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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeywordSpec {
    column: Option<String>,
    view: Option<String>,
    keywords: Vec<String>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default, rename = "match")]
    word_match: WordMatch,
    #[serde(default)]
    require: Require,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexSpec {
    column: Option<String>,
    view: Option<String>,
    pattern: String,
    #[serde(default = "yes")]
    case_sensitive: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdSpec {
    column: Option<String>,
    op: Comparison,
    value: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupSpec {
    column: Option<String>,
    view: Option<String>,
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default, rename = "match")]
    lookup_match: LookupMatch,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LengthSpec {
    column: Option<String>,
    view: Option<String>,
    #[serde(default)]
    unit: LengthUnit,
    op: Comparison,
    value: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupSpec {
    column: Option<String>,
    view: Option<String>,
    conditions: Vec<ConditionSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotSpec {
    column: Option<String>,
    view: Option<String>,
    condition: Box<ConditionSpec>,
}

/// A condition, as written: a `kind` and its fields.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum ConditionSpec {
    Keyword(KeywordSpec),
    Regex(RegexSpec),
    Threshold(ThresholdSpec),
    Lookup(LookupSpec),
    Length(LengthSpec),
    All(GroupSpec),
    Any(GroupSpec),
    Not(NotSpec),
}

impl ConditionSpec {
    fn kind(&self) -> &'static str {
        match self {
            ConditionSpec::Keyword(_) => "keyword",
            ConditionSpec::Regex(_) => "regex",
            ConditionSpec::Threshold(_) => "threshold",
            ConditionSpec::Lookup(_) => "lookup",
            ConditionSpec::Length(_) => "length",
            ConditionSpec::All(_) => "all",
            ConditionSpec::Any(_) => "any",
            ConditionSpec::Not(_) => "not",
        }
    }

    /// The `column` and `view` written on this condition.
    fn target(&self) -> (Option<&String>, Option<&String>) {
        match self {
            ConditionSpec::Keyword(spec) => (spec.column.as_ref(), spec.view.as_ref()),
            ConditionSpec::Regex(spec) => (spec.column.as_ref(), spec.view.as_ref()),
            ConditionSpec::Threshold(spec) => (spec.column.as_ref(), None),
            ConditionSpec::Lookup(spec) => (spec.column.as_ref(), spec.view.as_ref()),
            ConditionSpec::Length(spec) => (spec.column.as_ref(), spec.view.as_ref()),
            ConditionSpec::All(spec) | ConditionSpec::Any(spec) => {
                (spec.column.as_ref(), spec.view.as_ref())
            }
            ConditionSpec::Not(spec) => (spec.column.as_ref(), spec.view.as_ref()),
        }
    }
}

/// A view as written under `[views.NAME]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewSpec {
    column: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    classes: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    views: BTreeMap<String, ViewSpec>,
    #[serde(default)]
    lf: Vec<toml::Spanned<Table>>,
    #[serde(default)]
    generate: Vec<toml::Spanned<Table>>,
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

/// What a file's LFs are checked against.
struct Context<'a> {
    path: &'a Path,
    classes: &'a [String],
    views: &'a BTreeMap<String, ViewSpec>,
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
        let toml_error = |message: String| LfError::Toml {
            path: path.to_owned(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|error| toml_error(error.to_string()))?;
        check_classes(&raw.classes).map_err(toml_error)?;
        check_views(&raw.views).map_err(toml_error)?;
        let context = Context {
            path,
            classes: &raw.classes,
            views: &raw.views,
        };
        let mut blocks: Vec<(usize, bool, Table)> = raw
            .lf
            .into_iter()
            .map(|block| (block.span().start, false, block.into_inner()))
            .chain(
                raw.generate
                    .into_iter()
                    .map(|block| (block.span().start, true, block.into_inner())),
            )
            .collect();
        blocks.sort_by_key(|(start, _, _)| *start);
        let mut definitions = Vec::new();
        let mut lf_number = 0;
        for (start, generator, table) in blocks {
            let line = text[..start].matches('\n').count() + 1;
            let at = |lf: String, message: String| LfError::Definition {
                path: path.to_owned(),
                line,
                lf,
                message,
            };
            if generator {
                let template_name = name_of(&table).unwrap_or("[[generate]]").to_owned();
                let expanded = super::generate::expand(path, table)
                    .map_err(|message| at(template_name, message))?;
                for (name, table) in expanded {
                    definitions
                        .push(definition(&context, table).map_err(|message| at(name, message))?);
                }
            } else {
                lf_number += 1;
                let name =
                    name_of(&table).map_or_else(|| format!("number {lf_number}"), str::to_owned);
                definitions.push(definition(&context, table).map_err(|message| at(name, message))?);
            }
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

fn name_of(table: &Table) -> Option<&str> {
    table.get("name").and_then(Value::as_str)
}

fn check_classes(classes: &[String]) -> Result<(), String> {
    if classes.len() < 2 {
        return Err("`classes` must name at least two classes".to_owned());
    }
    if classes.len() > 127 {
        return Err("`classes` may name at most 127 classes".to_owned());
    }
    if let Some(empty) = classes.iter().position(|class| class.trim().is_empty()) {
        return Err(format!("class {empty} has an empty name"));
    }
    let mut seen = HashSet::new();
    match classes.iter().find(|class| !seen.insert(class.as_str())) {
        Some(class) => Err(format!("class `{class}` is named twice")),
        None => Ok(()),
    }
}

fn check_views(views: &BTreeMap<String, ViewSpec>) -> Result<(), String> {
    for (name, view) in views {
        if view.column.is_empty() {
            return Err(format!("view `{name}`: `column` is empty"));
        }
        if view.steps.is_empty() {
            let steps: Vec<&str> = Step::ALL.iter().map(|step| step.name()).collect();
            return Err(format!(
                "view `{name}`: `steps` is empty; give some of {}",
                steps.join(", ")
            ));
        }
    }
    Ok(())
}

/// Check one LF table (`name`, `label`, optional `unless`, and a condition); `Err` is the
/// message.
fn definition(context: &Context<'_>, mut table: Table) -> Result<Definition, String> {
    let fingerprint_source = serde_json::to_vec(&table).expect("TOML tables serialize");
    let name = take_string(&mut table, "name")?;
    if name.trim().is_empty() {
        return Err("`name` is empty".to_owned());
    }
    let label = take_string(&mut table, "label")?;
    let class = context
        .classes
        .iter()
        .position(|class| *class == label)
        .ok_or_else(|| {
            format!(
                "votes unknown class `{label}`; the classes are {}",
                context.classes.join(", ")
            )
        })?;
    let unless = table.remove("unless");
    let spec: ConditionSpec = parse_condition(Value::Table(table))?;
    let mut condition = resolve(context, &spec, (None, None))?;
    if let Some(unless) = unless {
        let unless: ConditionSpec =
            parse_condition(unless).map_err(|message| format!("in `unless`: {message}"))?;
        let inherited = spec.target();
        let unless = resolve(context, &unless, inherited)
            .map_err(|message| format!("in `unless`: {message}"))?;
        condition = Condition::All(vec![condition, Condition::Not(Box::new(unless))]);
    }
    let mut leaves = Vec::new();
    condition.leaves(&mut leaves);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&fingerprint_source);
    let mut columns: Vec<(String, ColumnType)> = Vec::new();
    for leaf in leaves {
        hasher.update(leaf.key.as_bytes());
        let column_type = match leaf.test {
            Test::Threshold(..) => ColumnType::Float,
            _ => ColumnType::Text,
        };
        let column = (leaf.source.column.clone(), column_type);
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    let info = LfInfo {
        name,
        origin: LfOrigin::Declarative {
            file: context.path.to_owned(),
            kind: spec.kind().to_owned(),
        },
        columns,
        fingerprint: hasher.finalize().to_hex().to_string(),
    };
    Ok(Definition {
        info,
        class: class as i8,
        condition,
    })
}

fn take_string(table: &mut Table, field: &str) -> Result<String, String> {
    match table.remove(field) {
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(format!(
            "`{field}` must be a string, not {}",
            other.type_str()
        )),
        None => Err(format!("missing field `{field}`")),
    }
}

fn parse_condition(value: Value) -> Result<ConditionSpec, String> {
    if let Value::Table(table) = &value
        && !table.contains_key("kind")
    {
        return Err(format!(
            "missing field `kind`; the kinds are {}",
            KINDS.join(", ")
        ));
    }
    value
        .try_into()
        .map_err(|error: toml::de::Error| error.message().trim_end().to_owned())
}

/// The condition kinds, for messages.
const KINDS: [&str; 8] = [
    "keyword",
    "regex",
    "threshold",
    "lookup",
    "length",
    "all",
    "any",
    "not",
];

/// The `column` and `view` in force: a condition's own, else its parent's.
type Target<'a> = (Option<&'a String>, Option<&'a String>);

/// Check a condition and the conditions under it.
fn resolve(
    context: &Context<'_>,
    spec: &ConditionSpec,
    inherited: Target<'_>,
) -> Result<Condition, String> {
    let own = spec.target();
    if own.0.is_some() && own.1.is_some() {
        return Err(format!(
            "a `{}` condition gives both `column` and `view`; give one (a view names its column)",
            spec.kind()
        ));
    }
    let target = if own.0.is_some() || own.1.is_some() {
        own
    } else {
        inherited
    };
    let children = |conditions: &[ConditionSpec]| -> Result<Vec<Condition>, String> {
        if conditions.is_empty() {
            return Err(format!("`{}` has no `conditions`", spec.kind()));
        }
        conditions
            .iter()
            .map(|condition| resolve(context, condition, target))
            .collect()
    };
    let test = match spec {
        ConditionSpec::All(group) => return Ok(Condition::All(children(&group.conditions)?)),
        ConditionSpec::Any(group) => return Ok(Condition::Any(children(&group.conditions)?)),
        ConditionSpec::Not(not) => {
            return Ok(Condition::Not(Box::new(resolve(
                context,
                &not.condition,
                target,
            )?)));
        }
        ConditionSpec::Keyword(spec) => keyword_test(spec)?,
        ConditionSpec::Regex(spec) => regex_test(spec)?,
        ConditionSpec::Threshold(spec) => {
            if target.1.is_some() {
                return Err(
                    "a `threshold` reads a numeric column: give `column`, not `view`".to_owned(),
                );
            }
            Test::Threshold(spec.op, finite(spec.value)?)
        }
        ConditionSpec::Length(spec) => Test::Length(spec.unit, spec.op, finite(spec.value)?),
        ConditionSpec::Lookup(spec) => lookup_test(context.path, spec)?,
    };
    let source = source(context, spec.kind(), target)?;
    // The key leaves out where `column` or `view` was written: the resolved source counts.
    let mut written = serde_json::to_value(spec).expect("specs serialize");
    if let Some(fields) = written.as_object_mut() {
        fields.remove("column");
        fields.remove("view");
    }
    let mut key = format!("{written}\0{}\0{:?}", source.column, source.steps);
    if let (Test::Text(TextRule::Keywords { words, .. }), ConditionSpec::Lookup(_)) = (&test, spec)
    {
        // A token lookup's entries may come from a file: the key holds them.
        key.push_str(&words.join("\n"));
    }
    if let Test::LookupValue(list) = &test {
        key.push_str(&list.fingerprint());
    }
    Ok(Condition::Leaf(Leaf { source, test, key }))
}

fn source(context: &Context<'_>, kind: &str, target: Target<'_>) -> Result<Source, String> {
    match target {
        (Some(column), _) if column.is_empty() => Err("`column` is empty".to_owned()),
        (Some(column), _) => Ok(Source {
            column: column.clone(),
            steps: Vec::new(),
        }),
        (None, Some(view)) => match context.views.get(view) {
            Some(spec) => Ok(Source {
                column: spec.column.clone(),
                steps: spec.steps.clone(),
            }),
            None if context.views.is_empty() => Err(format!(
                "view `{view}` is not defined; define it with a [views.{view}] table"
            )),
            None => {
                let known: Vec<String> = context
                    .views
                    .keys()
                    .map(|name| format!("`{name}`"))
                    .collect();
                Err(format!(
                    "view `{view}` is not defined; the views are {}",
                    known.join(", ")
                ))
            }
        },
        (None, None) => Err(format!(
            "the `{kind}` condition reads no column: give `column` (or `view`) on it or on an \
             enclosing condition"
        )),
    }
}

fn finite(value: f64) -> Result<f64, String> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err("`value` must be a finite number".to_owned())
    }
}

fn keyword_test(spec: &KeywordSpec) -> Result<Test, String> {
    if spec.keywords.is_empty() {
        return Err("`keywords` is empty".to_owned());
    }
    if spec.keywords.iter().any(String::is_empty) {
        return Err("`keywords` holds an empty string, which would match everything".to_owned());
    }
    Ok(Test::Text(TextRule::Keywords {
        words: spec.keywords.clone(),
        case_sensitive: spec.case_sensitive,
        whole_word: spec.word_match == WordMatch::Word,
        require_all: spec.require == Require::All,
    }))
}

fn regex_test(spec: &RegexSpec) -> Result<Test, String> {
    let rule = TextRule::Regex {
        pattern: spec.pattern.clone(),
        case_sensitive: spec.case_sensitive,
    };
    rule.check_regex()
        .map_err(|error| format!("invalid `pattern`: {error}"))?;
    Ok(Test::Text(rule))
}

fn lookup_test(path: &Path, spec: &LookupSpec) -> Result<Test, String> {
    let mut entries = spec.values.clone();
    if let Some(file) = &spec.file {
        let resolved = path.parent().unwrap_or(Path::new(".")).join(file);
        let contents = std::fs::read_to_string(&resolved)
            .map_err(|error| format!("cannot read list file `{}`: {error}", resolved.display()))?;
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
    if spec.lookup_match == LookupMatch::Token && entries.iter().any(String::is_empty) {
        return Err(
            "the lookup list holds an empty entry, which as a token would match everything"
                .to_owned(),
        );
    }
    Ok(match spec.lookup_match {
        LookupMatch::Token => Test::Text(TextRule::Keywords {
            words: entries,
            case_sensitive: spec.case_sensitive,
            whole_word: true,
            require_all: false,
        }),
        LookupMatch::Value => Test::LookupValue(ValueList::new(entries, spec.case_sensitive)),
    })
}

/// Compile the LFs of every file into one evaluator (see [`super::program`]).
pub(crate) fn compile(
    files: &[LfFile],
    position: &BTreeMap<&str, usize>,
) -> Result<Vec<BoundEvaluator>, LfError> {
    let definitions: Vec<&Definition> = files.iter().flat_map(|file| &file.definitions).collect();
    if definitions.is_empty() {
        return Ok(Vec::new());
    }
    let outputs = definitions
        .iter()
        .map(|definition| position[definition.info.name.as_str()])
        .collect();
    let program = super::program::Program::new(&definitions).map_err(|message| LfError::Toml {
        path: files
            .first()
            .map(|file| file.path.clone())
            .unwrap_or_default(),
        message,
    })?;
    Ok(vec![BoundEvaluator {
        evaluator: Box::new(program),
        outputs,
    }])
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

    /// The test of the only leaf of the first LF.
    fn first_test(file: &LfFile) -> &Test {
        let Condition::Leaf(leaf) = &file.definitions[0].condition else {
            panic!("a leaf condition")
        };
        &leaf.test
    }

    #[test]
    fn defaults_follow_the_documentation() {
        let file = parse(ONE_KEYWORD).unwrap();
        let Test::Text(TextRule::Keywords {
            case_sensitive,
            whole_word,
            require_all,
            ..
        }) = first_test(&file)
        else {
            panic!("a keyword rule")
        };
        assert!(!case_sensitive && !whole_word && !require_all);
        let regex = ONE_KEYWORD
            .replace("kind = \"keyword\"", "kind = \"regex\"")
            .replace("keywords = [\"my\"]", "pattern = \"a+\"");
        let file = parse(&regex).unwrap();
        let Test::Text(TextRule::Regex { case_sensitive, .. }) = first_test(&file) else {
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
        let Test::LookupValue(list) = first_test(&first) else {
            panic!("a value lookup")
        };
        assert_eq!(list.sorted(), ["alpha", "beta"]);
        std::fs::write(dir.path().join("list.txt"), "alpha\nbeta\ngamma\n").unwrap();
        let second = LfFile::read(&lfs).unwrap();
        assert_ne!(first.infos[0].fingerprint, second.infos[0].fingerprint);
    }
    #[test]
    fn an_invalid_field_names_its_own_lf_and_line() {
        let mut text = String::from("classes = [\"HAM\", \"SPAM\"]\n");
        for name in ["first", "second", "third", "fourth"] {
            let words = if name == "fourth" {
                "keywrods"
            } else {
                "keywords"
            };
            text.push_str(&format!(
                "\n[[lf]]\nname = \"{name}\"\nkind = \"keyword\"\ncolumn = \"text\"\n{words} = [\"x\"]\nlabel = \"SPAM\"\n"
            ));
        }
        let error = parse(&text).unwrap_err().to_string();
        // The fourth `[[lf]]` header is on line 24.
        assert!(
            error.starts_with("`test.toml` line 24, LF `fourth`: unknown field `keywrods`"),
            "{error}"
        );
    }
}
