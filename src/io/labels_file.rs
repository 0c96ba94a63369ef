//! Probabilistic-label tables: the row key, requested source columns, `p_<class>` per class,
//! the hard `label` (or -1) and whether any LF `covered` the row. Parquet (with key-value
//! metadata saying what made it) or CSV (with a `.meta.json` sidecar), written atomically.

use std::io::Write;
use std::path::Path;

use ndarray::Array2;
use polars::prelude::{
    DataFrame, Float64Chunked, Int8Chunked, IntoColumn, IntoSeries, KeyValueMetadata, NamedFrom,
    ParquetCompression, ParquetWriter, Series,
};
use rayon::prelude::*;
use serde::Serialize;

use super::atomic::{AtomicFile, OutputError};
use super::matrix_file::sidecar_path;
use crate::hard_labels::TieBreak;
use crate::matrix::{MAX_CLASSES, RowKeys};
use crate::table::{Column, Values};

/// Version of the label table format.
pub const LABELS_FORMAT_VERSION: u32 = 1;

/// What a label table says about itself.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelsMetadata {
    /// Always `"labels"`.
    pub kind: String,
    /// [`LABELS_FORMAT_VERSION`].
    pub format_version: u32,
    /// labelgen's version.
    pub labelgen_version: String,
    /// Class names in id order (`p_<name>` columns).
    pub classes: Vec<String>,
    /// The model's kind.
    pub model_kind: String,
    /// The fingerprint of the matrix the model was fitted on.
    pub model_training_fingerprint: String,
    /// The fingerprint of the matrix labelled.
    pub matrix_fingerprint: String,
    /// How ties were broken, and the seed.
    pub tie_break: TieBreak,
    /// The seed of random tie-breaks.
    pub seed: u64,
    /// Whether rows no LF covered were left out.
    pub filter_uncovered: bool,
    /// The class prior the probabilities were computed with (label models only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_balance: Option<Vec<f64>>,
    /// Where that prior came from: `model` (the fitted model's), or what replaced it at
    /// labelling time (`uniform`, `given`, the gold labels it was counted from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_balance_source: Option<String>,
}

/// The content of a label table.
pub struct LabelTable<'a> {
    /// The row-key column, if any.
    pub keys: Option<(&'a str, &'a RowKeys)>,
    /// Source columns carried over, in order.
    pub source: &'a [(String, Column)],
    /// Rows x classes.
    pub probabilities: &'a Array2<f64>,
    /// Hard labels.
    pub labels: &'a [i8],
    /// Whether any LF voted, per row (`None`: no `covered` column, as for predictions).
    pub covered: Option<&'a [bool]>,
    /// Which rows to write.
    pub keep: &'a [bool],
    /// Metadata.
    pub metadata: &'a LabelsMetadata,
}

/// The column names: key, source columns, `p_<class>`, `label`, `covered`. Errors on a clash.
fn column_names(table: &LabelTable<'_>) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = table
        .keys
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    names.extend(table.source.iter().map(|(name, _)| name.clone()));
    names.extend(
        table
            .metadata
            .classes
            .iter()
            .map(|class| format!("p_{class}")),
    );
    names.push("label".to_owned());
    if table.covered.is_some() {
        names.push("covered".to_owned());
    }
    let mut seen = std::collections::BTreeSet::new();
    match names.iter().find(|name| !seen.insert(name.as_str())) {
        Some(name) => Err(format!(
            "two output columns would be named `{name}`; keep fewer or renamed columns"
        )),
        None => Ok(names),
    }
}

/// Write `table` to `path` (`.parquet` or `.csv`), atomically.
pub fn write_labels(path: &Path, table: &LabelTable<'_>) -> Result<(), OutputError> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let parquet = match extension.as_deref() {
        Some("parquet") | Some("pq") => true,
        Some("csv") => false,
        _ => {
            return Err(OutputError::UnknownFormat {
                path: path.to_owned(),
                expected: ".parquet or .csv",
            });
        }
    };
    let mut file = AtomicFile::create(path)?;
    let names = column_names(table).map_err(|message| file.error(message))?;
    let metadata = serde_json::to_string(table.metadata).expect("metadata serializes");
    if parquet {
        let mut frame = frame(table, &names).map_err(|error| file.error(error))?;
        // Probabilities are either few distinct values, which dictionary encoding already packs,
        // or as many as rows, whose mantissas do not compress: compressing them costs time for a
        // few percent of size. Text keys and columns carried over from the source do compress:
        // Snappy then (fast, and read everywhere).
        let text_keys = matches!(table.keys, Some((_, RowKeys::Text(_))));
        let compression = if table.source.is_empty() && !text_keys {
            ParquetCompression::Uncompressed
        } else {
            ParquetCompression::Snappy
        };
        ParquetWriter::new(file.writer())
            .with_compression(compression)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
                "labelgen".to_owned(),
                metadata,
            )])))
            .finish(&mut frame)
            .map_err(|error| file.error(error))?;
    } else {
        let mut sidecar = AtomicFile::create(&sidecar_path(path))?;
        write_csv(table, &names, file.writer()).map_err(|error| file.error(error))?;
        sidecar
            .writer()
            .write_all(metadata.as_bytes())
            .map_err(|error| sidecar.error(error))?;
        sidecar.commit()?;
    }
    file.commit()
}

fn kept<T: Clone>(values: impl Iterator<Item = T>, keep: &[bool]) -> Vec<T> {
    // Room for every row up front: growing by doubling would copy (and fault in) the column
    // several times; pages left unused by dropped rows are never touched.
    let mut kept = Vec::with_capacity(keep.len());
    for (value, keep) in values.zip(keep) {
        if *keep {
            kept.push(value);
        }
    }
    kept
}

fn source_series(name: &str, column: &Column, keep: &[bool]) -> Series {
    let valid = |row: usize| column.is_valid(row);
    let rows = || (0..column.len()).filter(|row| keep[*row]);
    match column.values() {
        Values::Text { .. } => Series::new(
            name.into(),
            rows().map(|row| column.text(row)).collect::<Vec<_>>(),
        ),
        Values::Float(values) => Series::new(
            name.into(),
            rows()
                .map(|row| valid(row).then_some(values[row]))
                .collect::<Vec<_>>(),
        ),
        Values::Int(values) => Series::new(
            name.into(),
            rows()
                .map(|row| valid(row).then_some(values[row]))
                .collect::<Vec<_>>(),
        ),
        Values::Bool(values) => Series::new(
            name.into(),
            rows()
                .map(|row| valid(row).then_some(values[row] != 0))
                .collect::<Vec<_>>(),
        ),
    }
}

fn frame(table: &LabelTable<'_>, names: &[String]) -> polars::prelude::PolarsResult<DataFrame> {
    let keep = table.keep;
    let mut names = names.iter();
    let mut columns = Vec::new();
    if let Some((_, keys)) = table.keys {
        let name = names.next().expect("key name").as_str();
        let series = match keys {
            RowKeys::Text(keys) => Series::new(name.into(), kept(keys.iter().cloned(), keep)),
            RowKeys::Int(keys) => Series::new(name.into(), kept(keys.iter().copied(), keep)),
        };
        columns.push(series.into_column());
    }
    for (name, column) in table.source {
        names.next();
        columns.push(source_series(name, column, keep).into_column());
    }
    // The probability columns in parallel, each vector handed to polars as is (no copy).
    let probabilities: Vec<Vec<f64>> = (0..table.probabilities.ncols())
        .into_par_iter()
        .map(|class| kept(table.probabilities.column(class).iter().copied(), keep))
        .collect();
    for values in probabilities {
        let name = names.next().expect("probability name").as_str();
        columns.push(Float64Chunked::from_vec(name.into(), values).into_column());
    }
    let labels = kept(table.labels.iter().copied(), keep);
    columns.push(
        Int8Chunked::from_vec("label".into(), labels)
            .into_series()
            .into_column(),
    );
    if let Some(covered) = table.covered {
        columns
            .push(Series::new("covered".into(), kept(covered.iter().copied(), keep)).into_column());
    }
    let height = keep.iter().filter(|keep| **keep).count();
    DataFrame::new(height, columns)
}

fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

fn source_text(column: &Column, row: usize) -> String {
    if !column.is_valid(row) {
        return String::new();
    }
    match column.values() {
        Values::Text { .. } => csv_field(column.text(row).unwrap_or_default()).into_owned(),
        Values::Float(values) => values[row].to_string(),
        Values::Int(values) => values[row].to_string(),
        Values::Bool(values) => (values[row] != 0).to_string(),
    }
}

fn write_csv(table: &LabelTable<'_>, names: &[String], out: &mut dyn Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let header: Vec<String> = names
        .iter()
        .map(|name| csv_field(name).into_owned())
        .collect();
    writeln!(out, "{}", header.join(","))?;
    let mut fields = Vec::with_capacity(names.len());
    for row in (0..table.labels.len()).filter(|row| table.keep[*row]) {
        fields.clear();
        match table.keys {
            Some((_, RowKeys::Text(keys))) => fields.push(csv_field(&keys[row]).into_owned()),
            Some((_, RowKeys::Int(keys))) => fields.push(keys[row].to_string()),
            None => {}
        }
        fields.extend(
            table
                .source
                .iter()
                .map(|(_, column)| source_text(column, row)),
        );
        // `{}` prints the shortest decimal that reads back as the same f64.
        fields.extend(table.probabilities.row(row).iter().map(|p| p.to_string()));
        fields.push(table.labels[row].to_string());
        if let Some(covered) = table.covered {
            fields.push(covered[row].to_string());
        }
        writeln!(out, "{}", fields.join(","))?;
    }
    out.flush()
}

/// A label (or prediction) table read back: classes, probabilities, hard labels, coverage,
/// and other requested columns.
#[derive(Clone, Debug)]
pub struct ReadLabels {
    /// Class names, from the `p_<class>` columns.
    pub classes: Vec<String>,
    /// Rows x classes.
    pub probabilities: Array2<f64>,
    /// The `label` column (`-1` for null).
    pub labels: Vec<i64>,
    /// The `covered` column, when there is one.
    pub covered: Option<Vec<bool>>,
    /// The other columns asked for, in order.
    pub columns: Vec<(String, Column)>,
}

/// Errors reading a label table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadLabelsError {
    /// The table could not be read.
    #[error(transparent)]
    Table(#[from] super::source::TableError),
    /// Not laid out as a label table.
    #[error("`{path}` is not a label table: {message}")]
    Layout {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A cell as a number: numeric columns as they are, text (CSV) parsed; `None` when null or
/// not a number.
fn numeric(column: &Column, row: usize) -> Option<f64> {
    column
        .number(row)
        .or_else(|| column.text(row).and_then(|text| text.trim().parse().ok()))
}

/// Read a table written by `labelgen label` or `labelgen predict` (any format labelgen reads):
/// the `p_<class>` columns just before `label` give the classes; `columns` are read too.
pub fn read_labels(path: &Path, columns: &[String]) -> Result<ReadLabels, ReadLabelsError> {
    let layout = |message: String| ReadLabelsError::Layout {
        path: path.to_owned(),
        message,
    };
    let names = super::open::column_names(path)?;
    let label_at = names
        .iter()
        .position(|name| name == "label")
        .ok_or_else(|| {
            layout("it has no `label` column (labelgen label and predict write one)".to_owned())
        })?;
    let first = names[..label_at]
        .iter()
        .rposition(|name| !name.starts_with("p_"))
        .map_or(0, |index| index + 1);
    let probability_names: Vec<String> = names[first..label_at].to_vec();
    if !(2..=MAX_CLASSES).contains(&probability_names.len()) {
        return Err(layout(format!(
            "it needs one `p_<class>` column per class (2 to {MAX_CLASSES}) just before `label`, \
             and has {}",
            probability_names.len()
        )));
    }
    let classes: Vec<String> = probability_names
        .iter()
        .map(|name| name["p_".len()..].to_owned())
        .collect();
    let has_covered = names.iter().any(|name| name == "covered");
    let mut requested: Vec<String> = probability_names.clone();
    requested.push("label".to_owned());
    if has_covered {
        requested.push("covered".to_owned());
    }
    requested.extend(columns.iter().cloned());
    let mut read = super::open::read_columns(path, &requested)?.into_iter();
    let k = classes.len();
    let probability_columns: Vec<Column> = read.by_ref().take(k).map(|(_, c)| c).collect();
    let rows = probability_columns[0].len();
    let mut probabilities = Array2::zeros((rows, k));
    for (class, column) in probability_columns.iter().enumerate() {
        for row in 0..rows {
            probabilities[[row, class]] = numeric(column, row).ok_or_else(|| {
                layout(format!(
                    "column `p_{}` row {row} (counting from 0) is not a number",
                    classes[class]
                ))
            })?;
        }
    }
    let (_, label_column) = read.next().expect("label requested");
    let labels = (0..rows)
        .map(|row| {
            numeric(&label_column, row).map_or(Ok(-1), |value| {
                if value.fract() == 0.0 && value >= -1.0 && value < k as f64 {
                    Ok(value as i64)
                } else {
                    Err(layout(format!(
                        "`label` row {row} (counting from 0) is {value}, not a class id or -1"
                    )))
                }
            })
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let covered = if has_covered {
        let (_, column) = read.next().expect("covered requested");
        Some(
            (0..rows)
                .map(|row| match (column.values(), column.text(row)) {
                    (Values::Bool(values), _) => column.is_valid(row) && values[row] != 0,
                    (_, Some(text)) => text.trim().eq_ignore_ascii_case("true"),
                    _ => column.number(row).is_some_and(|value| value != 0.0),
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(ReadLabels {
        classes,
        probabilities,
        labels,
        covered,
        columns: read.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn metadata() -> LabelsMetadata {
        LabelsMetadata {
            kind: "labels".to_owned(),
            format_version: LABELS_FORMAT_VERSION,
            labelgen_version: "test".to_owned(),
            classes: vec!["HAM".to_owned(), "SPAM".to_owned(), "OTHER".to_owned()],
            model_kind: "majority".to_owned(),
            model_training_fingerprint: "a".to_owned(),
            matrix_fingerprint: "b".to_owned(),
            tie_break: TieBreak::Abstain,
            seed: 1,
            filter_uncovered: true,
            class_balance: None,
            class_balance_source: None,
        }
    }

    /// Writing every row or only the kept ones, to Parquet and CSV, reads back as exactly
    /// those rows, in order, cell for cell.
    #[test]
    fn the_kept_rows_are_written_in_order() {
        let probabilities = array![
            [0.5, 0.25, 0.25],
            [0.1, 0.2, 0.7],
            [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
            [0.0, 1.0, 0.0],
            [0.6, 0.3, 0.1],
        ];
        let labels = [0, 2, -1, 1, 0];
        let covered = [true, true, false, true, false];
        let keys = RowKeys::Int(vec![10, 11, 12, 13, 14]);
        let metadata = metadata();
        let dir = tempfile::tempdir().unwrap();
        for keep in [[true; 5], covered] {
            for extension in ["parquet", "csv"] {
                let path = dir.path().join(format!("labels.{extension}"));
                let table = LabelTable {
                    keys: Some(("id", &keys)),
                    source: &[],
                    probabilities: &probabilities,
                    labels: &labels,
                    covered: Some(&covered),
                    keep: &keep,
                    metadata: &metadata,
                };
                write_labels(&path, &table).unwrap();
                let read = read_labels(&path, &["id".to_owned()]).unwrap();
                let rows: Vec<usize> = (0..5).filter(|row| keep[*row]).collect();
                assert_eq!(read.classes, metadata.classes);
                assert_eq!(read.probabilities.nrows(), rows.len(), "{extension}");
                for (written, row) in rows.iter().enumerate() {
                    assert_eq!(read.labels[written], labels[*row] as i64);
                    assert_eq!(read.covered.as_ref().unwrap()[written], covered[*row]);
                    assert_eq!(
                        numeric(&read.columns[0].1, written),
                        Some(10.0 + *row as f64)
                    );
                    for class in 0..3 {
                        let (got, want) = (
                            read.probabilities[[written, class]],
                            probabilities[[*row, class]],
                        );
                        assert!((got - want).abs() < 1e-15, "{extension} row {row}");
                    }
                }
            }
        }
    }
}
