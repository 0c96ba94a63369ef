//! LF generators: a `[[generate]]` block is an `[[lf]]` template expanded once per row of
//! `for_each` (an inline list of strings or of tables) or `for_each_file` (a text file, one value
//! per line, or a CSV/TSV file with a header).
//!
//! In every string of the template, `{field}` becomes the row's field (`{value}` for a list of
//! strings or a text file). A string that is only `{field}` becomes the field's value whatever
//! its type, so `keywords = "{words}"` takes a list from the row. In `name`, substituted values
//! are first made into names: lower case, every run of characters other than letters, digits
//! and `_` replaced by one `_` (`"Check out!"` gives `check_out`), so generated names are
//! predictable. `{` not followed by a known field and `}` stays as written (regex repetitions
//! such as `\d{3}` are left alone).

use std::path::Path;

use toml::{Table, Value};

/// The fields that say what to iterate over.
const ROW_FIELDS: [&str; 2] = ["for_each", "for_each_file"];

/// Expand a generator into (name, `[[lf]]` table) pairs, in row order; `Err` is the message.
pub(crate) fn expand(path: &Path, mut template: Table) -> Result<Vec<(String, Table)>, String> {
    let rows = match (
        template.remove(ROW_FIELDS[0]),
        template.remove(ROW_FIELDS[1]),
    ) {
        (Some(list), None) => inline_rows(list)?,
        (None, Some(Value::String(file))) => file_rows(path, &file)?,
        (None, Some(other)) => {
            return Err(format!(
                "`for_each_file` must be a file name, not {}",
                other.type_str()
            ));
        }
        (Some(_), Some(_)) => {
            return Err("give `for_each` or `for_each_file`, not both".to_owned());
        }
        (None, None) => {
            return Err(
                "a generator needs `for_each` (a list) or `for_each_file` (a file)".to_owned(),
            );
        }
    };
    let Some(Value::String(name)) = template.get("name") else {
        return Err("missing field `name` (a template such as \"keyword_{value}\")".to_owned());
    };
    let fields: Vec<&String> = rows
        .first()
        .map(|row| row.keys().collect())
        .unwrap_or_default();
    if !fields
        .iter()
        .any(|field| name.contains(&format!("{{{field}}}")))
    {
        let names: Vec<String> = fields
            .iter()
            .map(|field| format!("`{{{field}}}`"))
            .collect();
        return Err(format!(
            "`name` = \"{name}\" uses none of the rows' fields ({}), so every generated LF would \
             have the same name",
            names.join(", ")
        ));
    }
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let at_row = |message: String| format!("row {} of the generator: {message}", index + 1);
            let mut table = Table::new();
            for (key, value) in &template {
                let value = if key == "name" {
                    Value::String(fill_name(name, row).map_err(at_row)?)
                } else {
                    fill(value, row).map_err(at_row)?
                };
                table.insert(key.clone(), value);
            }
            let name = table["name"].as_str().unwrap_or_default().to_owned();
            Ok((name, table))
        })
        .collect()
}

fn inline_rows(list: Value) -> Result<Vec<Table>, String> {
    let Value::Array(items) = list else {
        return Err(format!(
            "`for_each` must be a list, not {}",
            list.type_str()
        ));
    };
    if items.is_empty() {
        return Err("`for_each` is empty".to_owned());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(text) => Ok(Table::from_iter([(
                "value".to_owned(),
                Value::String(text),
            )])),
            Value::Table(table) => Ok(table),
            other => Err(format!(
                "`for_each` item {} is {}; give strings (for `{{value}}`) or tables",
                index + 1,
                other.type_str()
            )),
        })
        .collect()
}

/// Rows of a file relative to the LF file: CSV/TSV with a header, else one value per line.
fn file_rows(path: &Path, file: &str) -> Result<Vec<Table>, String> {
    let resolved = path.parent().unwrap_or(Path::new(".")).join(file);
    let unreadable = |error: &dyn std::fmt::Display| {
        format!(
            "cannot read `for_each_file` `{}`: {error}",
            resolved.display()
        )
    };
    let extension = resolved
        .extension()
        .map(|extension| extension.to_string_lossy().to_lowercase());
    let delimiter = match extension.as_deref() {
        Some("csv") => Some(b','),
        Some("tsv") => Some(b'\t'),
        _ => None,
    };
    let rows: Vec<Table> = match delimiter {
        None => std::fs::read_to_string(&resolved)
            .map_err(|error| unreadable(&error))?
            .lines()
            .map(|line| line.trim_end_matches('\r'))
            .filter(|line| !line.is_empty())
            .map(|line| Table::from_iter([("value".to_owned(), Value::String(line.to_owned()))]))
            .collect(),
        Some(delimiter) => {
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .from_path(&resolved)
                .map_err(|error| unreadable(&error))?;
            let header = reader
                .headers()
                .map_err(|error| unreadable(&error))?
                .clone();
            reader
                .records()
                .map(|record| {
                    let record = record.map_err(|error| unreadable(&error))?;
                    Ok(header
                        .iter()
                        .zip(record.iter())
                        .map(|(field, cell)| (field.to_owned(), Value::String(cell.to_owned())))
                        .collect())
                })
                .collect::<Result<_, String>>()?
        }
    };
    if rows.is_empty() {
        return Err(format!(
            "`for_each_file` `{}` has no rows",
            resolved.display()
        ));
    }
    Ok(rows)
}

/// `value` with placeholders filled from `row`, in every string at any depth.
fn fill(value: &Value, row: &Table) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => {
            if let Some(field) = whole_placeholder(text)
                && let Some(found) = row.get(field)
            {
                return Ok(found.clone());
            }
            Value::String(interpolate(text, row, |text| Ok(text.to_owned()))?)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| fill(item, row))
                .collect::<Result<_, _>>()?,
        ),
        Value::Table(table) => Value::Table(
            table
                .iter()
                .map(|(key, item)| Ok((key.clone(), fill(item, row)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The name template filled with the row's values made into names.
fn fill_name(template: &str, row: &Table) -> Result<String, String> {
    let name = interpolate(template, row, |text| Ok(name_part(text)))?;
    if let Some(field) = first_placeholder(&name) {
        let fields: Vec<String> = row.keys().map(|field| format!("`{{{field}}}`")).collect();
        return Err(format!(
            "`name` uses `{{{field}}}`, which the rows do not have; they have {}",
            fields.join(", ")
        ));
    }
    Ok(name)
}

/// The first `{field}` left in `text`.
fn first_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find('}')
            && is_field_name(&after[..end])
        {
            return Some(&after[..end]);
        }
        rest = after;
    }
    None
}

/// `{field}` when `text` is exactly one placeholder.
fn whole_placeholder(text: &str) -> Option<&str> {
    let field = text.strip_prefix('{')?.strip_suffix('}')?;
    is_field_name(field).then_some(field)
}

fn is_field_name(text: &str) -> bool {
    let mut characters = text.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

/// Replace every `{field}` of `row` in `text`, passing each value's text through `transform`.
fn interpolate(
    text: &str,
    row: &Table,
    transform: impl Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let field = after.find('}').map(|end| &after[..end]);
        match field.and_then(|field| row.get(field).map(|value| (field, value))) {
            Some((field, value)) if is_field_name(field) => {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Integer(_) | Value::Float(_) | Value::Boolean(_) => value.to_string(),
                    other => {
                        return Err(format!(
                            "`{{{field}}}` is {} and cannot be part of a longer string; use it \
                             alone, as in `keywords = \"{{{field}}}\"`",
                            other.type_str()
                        ));
                    }
                };
                out.push_str(&transform(&text)?);
                rest = &after[field.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A value made into part of an LF name: lower case, runs of other characters than letters,
/// digits and `_` as one `_`, no `_` at either end.
fn name_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars().flat_map(char::to_lowercase) {
        if character.is_alphanumeric() || character == '_' {
            out.push(character);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    fn names(expanded: &[(String, Table)]) -> Vec<&str> {
        expanded.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn a_list_of_strings_fills_value_and_names_are_made_predictable() {
        let expanded = expand(
            Path::new("lfs.toml"),
            template(
                r#"
                name = "kw_{value}"
                kind = "regex"
                pattern = '\b{value}\d{2}'
                for_each = ["free", "Check out!", "été"]
                "#,
            ),
        )
        .unwrap();
        assert_eq!(names(&expanded), ["kw_free", "kw_check_out", "kw_été"]);
        assert_eq!(
            expanded[1].1["pattern"].as_str(),
            Some(r"\bCheck out!\d{2}")
        );
        assert!(!expanded[0].1.contains_key("for_each"));
    }

    #[test]
    fn table_rows_fill_typed_values_whole() {
        let expanded = expand(
            Path::new("lfs.toml"),
            template(
                r#"
                name = "keywords_{label}"
                kind = "keyword"
                keywords = "{words}"
                label = "{label}"
                for_each = [
                  { label = "SPAM", words = ["free", "win"] },
                  { label = "HAM", words = ["song"] },
                ]
                "#,
            ),
        )
        .unwrap();
        assert_eq!(names(&expanded), ["keywords_spam", "keywords_ham"]);
        let words = expanded[0].1["keywords"].as_array().unwrap();
        assert_eq!(words.len(), 2);
        assert_eq!(expanded[1].1["label"].as_str(), Some("HAM"));
    }

    #[test]
    fn files_give_rows_relative_to_the_lf_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("words.txt"), "free\r\n\nwin\n").unwrap();
        std::fs::write(
            dir.path().join("table.csv"),
            "word,label\nfree,SPAM\nsong,HAM\n",
        )
        .unwrap();
        let lfs = dir.path().join("lfs.toml");
        let lines = expand(
            &lfs,
            template("name = \"w_{value}\"\nfor_each_file = \"words.txt\""),
        )
        .unwrap();
        assert_eq!(names(&lines), ["w_free", "w_win"]);
        let table = expand(
            &lfs,
            template("name = \"w_{word}\"\nlabel = \"{label}\"\nfor_each_file = \"table.csv\""),
        )
        .unwrap();
        assert_eq!(names(&table), ["w_free", "w_song"]);
        assert_eq!(table[1].1["label"].as_str(), Some("HAM"));
        let missing = expand(
            &lfs,
            template("name = \"w_{value}\"\nfor_each_file = \"nope.txt\""),
        )
        .unwrap_err();
        assert!(
            missing.starts_with("cannot read `for_each_file`"),
            "{missing}"
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |text: &str| expand(Path::new("lfs.toml"), template(text)).unwrap_err();
        assert!(error("name = \"same\"\nfor_each = [\"a\", \"b\"]").contains("uses none of"));
        assert!(error("name = \"x_{value}\"").contains("needs `for_each`"));
        assert!(error("name = \"x_{value}\"\nfor_each = []").contains("is empty"));
        assert_eq!(
            error("name = \"x_{value}_{nope}\"\nfor_each = [\"a\"]"),
            "row 1 of the generator: `name` uses `{nope}`, which the rows do not have; they have \
             `{value}`"
        );
        assert!(
            error("name = \"x_{w}\"\nkeywords = \"a {w}\"\nfor_each = [{ w = [\"a\"] }]")
                .contains("cannot be part of a longer string")
        );
    }
}
