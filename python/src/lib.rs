//! The native part of the `labelgen` Python package: a thin PyO3 layer over the labelgen
//! library, the same functions the command line calls. Tables cross as Arrow C streams (in:
//! any object with `__arrow_c_stream__`; out: an [`ArrowStream`] that pyarrow or polars read),
//! vote and probability tables as raw little-endian bytes that NumPy views without a copy; the
//! GIL is released while the library works; errors are `LabelgenError` with the message the
//! command line prints (the error and its causes, joined by ": ").
//!
//! The Python modules `labelgen` and `labelgen.spark` (python/labelgen) wrap these classes in
//! the user-facing API.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::PathBuf;

use labelgen::apply::{ApplyOptions, NoProgress, apply, apply_arrow};
use labelgen::endmodel::features::FeatureConfig;
use labelgen::endmodel::{
    ClassWeights, Classifier, TrainOptions, TrainingRows, Validation, read_classifier, train,
};
use labelgen::io::arrow::RecordBatches;
use labelgen::io::matrix_file::write_matrix;
use labelgen::io::matrix_read::{ReadOptions, read_matrix};
use labelgen::labels::{LabelOptions, Labels, label};
use labelgen::lf::{LfSet, LfSource};
use labelgen::matrix::{LabelMatrix, RowKeys};
use labelgen::model::gold::{GoldRows, fit_with_optional_gold};
use labelgen::model::{
    ClassBalance, FitOptions, FittedModel, ModelKind, TieBreak, UnknownModelKind, model_json,
    parse_model, read_model, write_model,
};
use labelgen::statistics::Statistics;
use ndarray::Array2;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, StructArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader, export_iterator};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};

create_exception!(
    _labelgen,
    LabelgenError,
    PyException,
    "A labelgen error: the message names the file, column, row or LF at fault, as the command line does."
);

/// The error and its causes, as the command line prints them, as a `LabelgenError`.
fn error(error: &dyn std::error::Error) -> PyErr {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = next.source();
    }
    LabelgenError::new_err(message)
}

fn message(text: impl Into<String>) -> PyErr {
    LabelgenError::new_err(text.into())
}

/// The record batches of an object that exports an Arrow C stream (`__arrow_c_stream__`):
/// a pyarrow Table or RecordBatchReader, a polars DataFrame, ...
fn record_batches(data: &Bound<'_, PyAny>) -> PyResult<RecordBatches> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(message(format!(
            "cannot read a {} as a table: give a polars, pandas (through pyarrow) or pyarrow \
             table, or a file path",
            data.get_type().name()?
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.downcast::<PyCapsule>()?;
    let pointer = capsule.pointer() as *mut ArrowArrayStream;
    if pointer.is_null() {
        return Err(message("the Arrow stream capsule is empty"));
    }
    // SAFETY: the capsule holds an ArrowArrayStream (the C stream interface); it is moved out
    // and an empty (released) one left in its place, as the interface prescribes.
    let stream = unsafe { std::ptr::replace(pointer, ArrowArrayStream::empty()) };
    // SAFETY: the stream is a valid, unreleased ArrowArrayStream that we now own.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }
        .map_err(|error| message(format!("cannot read the Arrow stream: {error}")))?;
    // A stream of no batch still has a schema: one empty batch of it, so that a missing or
    // mistyped column is refused for an empty table as for any other.
    let empty = polars_arrow::array::new_empty_array(reader.field().dtype().clone());
    let mut seen = false;
    let batches = std::iter::from_fn(move || {
        // SAFETY: the reader owns its stream and is used from one thread at a time.
        match unsafe { reader.next() } {
            Some(batch) => {
                seen = true;
                Some(batch.map_err(|error| error.to_string()))
            }
            None if !seen => {
                seen = true;
                Some(Ok(empty.clone()))
            }
            None => None,
        }
    });
    Ok(Box::new(batches))
}

/// An Arrow C stream handed to Python: read once by pyarrow (`pa.table(stream)`,
/// `pa.RecordBatchReader.from_stream(stream)`) or polars.
#[pyclass(module = "labelgen._labelgen")]
struct ArrowStream {
    stream: std::sync::Mutex<Option<ArrowArrayStream>>,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule interface: the stream, once.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let stream = self
            .stream
            .lock()
            .map_err(|_| message("this Arrow stream was poisoned"))?
            .take()
            .ok_or_else(|| message("this Arrow stream was already read"))?;
        let name = CString::new("arrow_array_stream").expect("no NUL");
        PyCapsule::new(py, stream, Some(name))
    }
}

/// One record batch of `columns` as a stream.
fn table(columns: Vec<(String, Box<dyn Array>)>) -> ArrowStream {
    let length = columns.first().map_or(0, |(_, array)| array.len());
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(name.as_str().into(), array.dtype().clone(), true))
        .collect();
    let dtype = ArrowDataType::Struct(fields);
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    let batch: Box<dyn Array> = Box::new(StructArray::new(dtype.clone(), length, arrays, None));
    let field = Field::new("".into(), dtype, false);
    ArrowStream {
        stream: std::sync::Mutex::new(Some(export_iterator(
            Box::new(std::iter::once(Ok(batch))),
            field,
        ))),
    }
}

/// Row keys as an Arrow column.
fn key_array(keys: &RowKeys) -> Box<dyn Array> {
    match keys {
        RowKeys::Text(keys) => Box::new(Utf8ViewArray::from_slice_values(keys)),
        RowKeys::Int(keys) => Box::new(PrimitiveArray::<i64>::from_slice(keys)),
    }
}

/// A set of labeling functions: TOML files and Rust plugin libraries.
#[pyclass(name = "LabelingFunctions", module = "labelgen._labelgen", frozen)]
struct PyLfs {
    set: LfSet,
}

#[pymethods]
impl PyLfs {
    /// Load LF files (TOML) and plugin libraries, in that order: the matrix has their LFs as
    /// columns in that order.
    #[staticmethod]
    #[pyo3(signature = (files = Vec::new(), plugins = Vec::new()))]
    fn load(files: Vec<PathBuf>, plugins: Vec<PathBuf>) -> PyResult<PyLfs> {
        let sources: Vec<LfSource> = files
            .into_iter()
            .map(LfSource::Declarative)
            .chain(plugins.into_iter().map(LfSource::Plugin))
            .collect();
        if sources.is_empty() {
            return Err(message(
                "no labeling functions: give at least one LF file or plugin library",
            ));
        }
        let set = LfSet::load(&sources).map_err(|e| error(&e))?;
        Ok(PyLfs { set })
    }

    /// The LF names, in matrix column order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.set
            .lfs()
            .iter()
            .map(|info| info.name.clone())
            .collect()
    }

    /// The class names, in id order.
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.set.classes().to_vec()
    }

    /// The input columns the LFs read.
    #[getter]
    fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = self
            .set
            .lfs()
            .iter()
            .flat_map(|info| info.columns.iter().map(|(name, _)| name.clone()))
            .collect();
        columns.sort();
        columns.dedup();
        columns
    }

    /// Apply the LFs to `data`: a file path (CSV, TSV, Parquet, NDJSON, WRENCH JSON) or a table
    /// exporting an Arrow C stream. `id_column` is kept as the row key; `column_map` points an
    /// LF column at a data column of another name.
    #[pyo3(signature = (data, id_column = None, column_map = None, name = None))]
    fn apply(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        id_column: Option<String>,
        column_map: Option<BTreeMap<String, String>>,
        name: Option<String>,
    ) -> PyResult<PyMatrix> {
        let options = ApplyOptions {
            column_map: column_map.unwrap_or_default(),
            id_column,
            ..ApplyOptions::default()
        };
        let matrix = if let Ok(path) = data.extract::<PathBuf>() {
            py.detach(|| apply(&self.set, &path, &options, &NoProgress))
        } else {
            let batches = record_batches(data)?;
            let name = name.unwrap_or_else(|| "DataFrame".to_owned());
            py.detach(|| apply_arrow(&self.set, batches, &name, &options))
        }
        .map_err(|e| error(&e))?;
        Ok(PyMatrix { matrix })
    }
}

/// A label matrix: rows x LFs votes (-1 = abstain), LF and class names, optional row keys.
#[pyclass(name = "LabelMatrix", module = "labelgen._labelgen", frozen)]
struct PyMatrix {
    matrix: LabelMatrix,
}

#[pymethods]
impl PyMatrix {
    /// A matrix from row-major int8 votes (`rows * len(lfs)` bytes).
    #[staticmethod]
    #[pyo3(signature = (votes, rows, lfs, classes, keys = None, key_name = None))]
    fn from_votes(
        votes: &[u8],
        rows: usize,
        lfs: Vec<String>,
        classes: Vec<String>,
        keys: Option<&Bound<'_, PyAny>>,
        key_name: Option<String>,
    ) -> PyResult<PyMatrix> {
        if votes.len() != rows * lfs.len() {
            return Err(message(format!(
                "{} votes for {rows} rows of {} LFs",
                votes.len(),
                lfs.len()
            )));
        }
        let cells = votes.iter().map(|vote| *vote as i8).collect();
        let array = ndarray::Array2::from_shape_vec((rows, lfs.len()), cells).expect("checked");
        let mut matrix = LabelMatrix::new(array, lfs, classes).map_err(|e| error(&e))?;
        if let Some(keys) = keys {
            // Integer keys stay integers (random tie-breaks hash them as the command line does).
            let keys = match keys.extract::<Vec<i64>>() {
                Ok(keys) => RowKeys::Int(keys),
                Err(_) => RowKeys::Text(keys.extract::<Vec<String>>()?),
            };
            let name = key_name.unwrap_or_else(|| "id".to_owned());
            matrix = matrix.with_row_keys(name, keys).map_err(|e| error(&e))?;
        }
        Ok(PyMatrix { matrix })
    }

    /// Read a matrix file (Parquet or CSV from `apply`, another tool's, or a WRENCH split);
    /// returns the matrix and the gold labels the file holds (a WRENCH split), if any.
    #[staticmethod]
    #[pyo3(signature = (path, cardinality = None))]
    fn read(path: PathBuf, cardinality: Option<usize>) -> PyResult<(PyMatrix, Option<Vec<i64>>)> {
        let options = ReadOptions {
            cardinality,
            ..ReadOptions::default()
        };
        let loaded = read_matrix(&path, &options).map_err(|e| error(&e))?;
        Ok((
            PyMatrix {
                matrix: loaded.matrix,
            },
            loaded.gold,
        ))
    }

    /// Write the matrix to a Parquet or CSV file, as `labelgen apply` does.
    fn write(&self, path: PathBuf) -> PyResult<()> {
        write_matrix(&path, &self.matrix).map_err(|e| error(&e))
    }

    /// (rows, LFs).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.matrix.n_rows(), self.matrix.n_lfs())
    }

    #[getter]
    fn lfs(&self) -> Vec<String> {
        self.matrix.lf_names().to_vec()
    }

    #[getter]
    fn classes(&self) -> Vec<String> {
        self.matrix.classes().to_vec()
    }

    /// The row-key column's name, if the matrix has keys.
    #[getter]
    fn row_key(&self) -> Option<String> {
        self.matrix.row_keys().map(|(name, _)| name.to_owned())
    }

    /// The votes, row-major int8, as bytes.
    fn votes_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes: Vec<u8> = self.matrix.votes().iter().map(|vote| *vote as u8).collect();
        PyBytes::new(py, &bytes)
    }

    /// The matrix as an Arrow table: the row key (if any), then one Int8 column per LF.
    fn to_arrow_stream(&self) -> ArrowStream {
        let mut columns = Vec::with_capacity(self.matrix.n_lfs() + 1);
        if let Some((name, keys)) = self.matrix.row_keys() {
            columns.push((name.to_owned(), key_array(keys)));
        }
        for (lf, name) in self.matrix.lf_names().iter().enumerate() {
            let votes: Vec<i8> = self.matrix.lf_votes(lf).to_vec();
            columns.push((
                name.clone(),
                Box::new(PrimitiveArray::<i8>::from_vec(votes)) as Box<dyn Array>,
            ));
        }
        table(columns)
    }

    /// The matrix's sufficient statistics (mergeable with other shards').
    fn statistics(&self, py: Python<'_>) -> PyStatistics {
        PyStatistics {
            statistics: py.detach(|| Statistics::of(&self.matrix)),
        }
    }
}

/// Sufficient statistics: distinct vote rows and their counts, with LF and class names.
#[pyclass(name = "Statistics", module = "labelgen._labelgen", frozen)]
struct PyStatistics {
    statistics: Statistics,
}

#[pymethods]
impl PyStatistics {
    /// These statistics and `other`'s together (shards of one dataset).
    fn merge(&self, other: &PyStatistics) -> PyResult<PyStatistics> {
        let statistics = self
            .statistics
            .merge(&other.statistics)
            .map_err(|e| error(&e))?;
        Ok(PyStatistics { statistics })
    }

    /// Statistics from dense vote rows (row-major int8 bytes) and their counts: what a
    /// distributed engine's group-by-and-sum returns.
    #[staticmethod]
    fn from_rows(
        lfs: Vec<String>,
        classes: Vec<String>,
        votes: &[u8],
        counts: Vec<u64>,
    ) -> PyResult<PyStatistics> {
        let m = lfs.len();
        if m == 0 || votes.len() != counts.len() * m {
            return Err(message(format!(
                "{} votes for {} rows of {m} LFs",
                votes.len(),
                counts.len()
            )));
        }
        let rows = votes
            .chunks(m)
            .zip(counts)
            .map(|(row, count)| (row.iter().map(|vote| *vote as i8).collect(), count))
            .collect();
        let statistics = Statistics::from_dense_rows(lfs, classes, rows).map_err(message)?;
        Ok(PyStatistics { statistics })
    }

    /// The statistics as the bytes of a `.stats` file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.statistics.to_bytes())
    }

    /// Statistics from the bytes of a `.stats` file.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<PyStatistics> {
        let statistics = Statistics::from_bytes(bytes)
            .map_err(|text| message(format!("not labelgen statistics: {text}")))?;
        Ok(PyStatistics { statistics })
    }

    /// Write a `.stats` file (what `labelgen stats` writes).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.statistics.write(&path).map_err(|e| error(&e))
    }

    /// Read a `.stats` file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyStatistics> {
        let statistics = Statistics::read(&path).map_err(|e| error(&e))?;
        Ok(PyStatistics { statistics })
    }

    #[getter]
    fn lfs(&self) -> Vec<String> {
        self.statistics.lfs.clone()
    }

    #[getter]
    fn classes(&self) -> Vec<String> {
        self.statistics.classes.clone()
    }

    /// Rows counted.
    #[getter]
    fn n_rows(&self) -> u64 {
        self.statistics.patterns.n_rows()
    }

    /// Distinct vote rows.
    #[getter]
    fn n_patterns(&self) -> usize {
        self.statistics.patterns.len()
    }

    fn __eq__(&self, other: &PyStatistics) -> bool {
        self.statistics == other.statistics
    }
}

/// The models, by the names `labelgen fit --model` takes.
fn model_kind(name: &str) -> PyResult<ModelKind> {
    name.parse()
        .map_err(|error: UnknownModelKind| message(error.to_string()))
}

/// Fit a label model to a label matrix or to sufficient statistics; with `gold` (a labelled
/// matrix of the same LFs and its classes, -1 = unknown) the labelled rows choose the model and
/// enter the fit, as `labelgen fit --gold` does.
#[pyfunction]
#[pyo3(signature = (data, model = "generative", class_balance = "auto", l2 = None,
    max_iterations = None, tolerance = None, seed = None, gold = None))]
#[allow(clippy::too_many_arguments)]
fn fit_model(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    model: &str,
    class_balance: &str,
    l2: Option<f64>,
    max_iterations: Option<u64>,
    tolerance: Option<f64>,
    seed: Option<u64>,
    gold: Option<(PyRef<'_, PyMatrix>, Vec<i64>)>,
) -> PyResult<PyModel> {
    let defaults = FitOptions::default();
    let options = FitOptions {
        class_balance: class_balance.parse::<ClassBalance>().map_err(message)?,
        l2: l2.unwrap_or(defaults.l2),
        max_iterations: max_iterations.unwrap_or(defaults.max_iterations),
        tolerance: tolerance.unwrap_or(defaults.tolerance),
        seed: seed.unwrap_or(defaults.seed),
    };
    let statistics = if let Ok(matrix) = data.downcast::<PyMatrix>() {
        let matrix = &matrix.get().matrix;
        py.detach(|| Statistics::of(matrix))
    } else if let Ok(statistics) = data.downcast::<PyStatistics>() {
        statistics.get().statistics.clone()
    } else {
        return Err(message(
            "fit takes a LabelMatrix or Statistics (labelgen.fit converts NumPy arrays and tables)",
        ));
    };
    let kind = model_kind(model)?;
    let fingerprint = statistics.fingerprint();
    let (lfs, classes) = (&statistics.lfs, &statistics.classes);
    let labelled = match &gold {
        Some((labelled, _)) => Some(
            labelled
                .matrix
                .clone()
                .in_lf_order(lfs)
                .map_err(|e| error(&e))?,
        ),
        None => None,
    };
    let rows = labelled
        .as_ref()
        .zip(gold.as_ref())
        .map(|(matrix, (_, classes))| GoldRows {
            matrix,
            classes: classes.as_slice(),
        });
    let fitted = py
        .detach(|| {
            fit_with_optional_gold(
                kind,
                &statistics.patterns,
                rows,
                lfs,
                classes,
                &options,
                fingerprint,
            )
        })
        .map_err(|e| error(&e))?;
    Ok(PyModel { model: fitted })
}

/// A fitted label model.
#[pyclass(name = "Model", module = "labelgen._labelgen", frozen)]
struct PyModel {
    model: FittedModel,
}

impl PyModel {
    fn aligned(&self, matrix: &LabelMatrix) -> PyResult<LabelMatrix> {
        self.model
            .align(matrix.clone())
            .map_err(|error| message(error.to_string()))
    }
}

#[pymethods]
impl PyModel {
    /// Probabilistic labels of `matrix`'s rows: the row key (if any), `p_<class>` per class,
    /// `label` (the hard label, -1 when classes tie and `tie_break` is "abstain") and `covered`,
    /// as an Arrow table.
    #[pyo3(signature = (matrix, tie_break = "abstain", seed = 123))]
    fn label(
        &self,
        py: Python<'_>,
        matrix: &PyMatrix,
        tie_break: &str,
        seed: u64,
    ) -> PyResult<ArrowStream> {
        let tie_break = match tie_break {
            "abstain" => TieBreak::Abstain,
            "random" => TieBreak::Random,
            other => {
                return Err(message(format!(
                    "tie_break `{other}`: give \"abstain\" or \"random\""
                )));
            }
        };
        let matrix = self.aligned(&matrix.matrix)?;
        let options = LabelOptions {
            tie_break,
            seed,
            filter_uncovered: false,
        };
        let Labels {
            probabilities,
            labels,
            covered,
            ..
        } = py.detach(|| label(&self.model, &matrix, &options));
        let mut columns = Vec::new();
        if let Some((name, keys)) = matrix.row_keys() {
            columns.push((name.to_owned(), key_array(keys)));
        }
        for (class, name) in self.model.classes.iter().enumerate() {
            let values: Vec<f64> = probabilities.column(class).to_vec();
            columns.push((
                format!("p_{name}"),
                Box::new(PrimitiveArray::<f64>::from_vec(values)) as Box<dyn Array>,
            ));
        }
        columns.push((
            "label".to_owned(),
            Box::new(PrimitiveArray::<i8>::from_vec(labels)),
        ));
        columns.push((
            "covered".to_owned(),
            Box::new(BooleanArray::from_slice(covered)),
        ));
        Ok(table(columns))
    }

    /// `P(Y | votes)` of every row (rows x classes), row-major float64, as bytes.
    fn predict_proba_bytes<'py>(
        &self,
        py: Python<'py>,
        matrix: &PyMatrix,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let matrix = self.aligned(&matrix.matrix)?;
        let probabilities = py.detach(|| self.model.predict_proba(&matrix));
        let bytes: Vec<u8> = probabilities.iter().flat_map(|p| p.to_le_bytes()).collect();
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the model file (versioned JSON), as `labelgen fit` does.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_model(&path, &self.model).map_err(|e| error(&e))
    }

    /// Read a model file written by `labelgen fit` or `Model.save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyModel> {
        let model = read_model(&path).map_err(|e| error(&e))?;
        Ok(PyModel { model })
    }

    /// The model's kind (generative, majority, dawid-skene, snorkel, hyper).
    #[getter]
    fn kind(&self) -> String {
        serde_json::to_value(self.model.kind())
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[getter]
    fn classes(&self) -> Vec<String> {
        self.model.classes.clone()
    }

    #[getter]
    fn lfs(&self) -> Vec<String> {
        self.model.lfs.clone()
    }

    /// `P(Y = y)`.
    #[getter]
    fn class_balance(&self) -> Vec<f64> {
        self.model.class_balance.clone()
    }

    /// Per LF, the estimated probability that a vote it casts is right (None: never votes).
    #[getter]
    fn lf_accuracy(&self) -> Vec<Option<f64>> {
        self.model.lf_accuracy.clone()
    }

    /// The model file's text (what `save` writes).
    fn to_json(&self) -> String {
        model_json(&self.model)
    }

    /// A model from a model file's text, checked as `load` checks a file.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PyModel> {
        let model =
            parse_model(text, std::path::Path::new("<model JSON>")).map_err(|e| error(&e))?;
        Ok(PyModel { model })
    }
}

/// Train the end model (`labelgen train`): a soft-label logistic regression on hashed word and
/// character n-grams of `texts`, with `targets` the rows' class probabilities (row-major, rows x
/// classes) and `keep` the rows to train on; `valid` = (texts, gold class ids, -1 = unknown)
/// selects the L2 strength and stops early. Options left None take the command line's defaults.
#[pyfunction]
#[pyo3(signature = (texts, targets, classes, keep = None, hard = false, balanced = false,
    class_weights = None, l2 = None, max_iterations = None, hash_bits = None, word_ngrams = None,
    char_ngrams = None, no_char_ngrams = false, raw_tf = false, valid = None))]
#[allow(clippy::too_many_arguments)]
fn train_classifier(
    py: Python<'_>,
    texts: Vec<String>,
    targets: Vec<f64>,
    classes: Vec<String>,
    keep: Option<Vec<bool>>,
    hard: bool,
    balanced: bool,
    class_weights: Option<Vec<f64>>,
    l2: Option<f64>,
    max_iterations: Option<u64>,
    hash_bits: Option<u32>,
    word_ngrams: Option<usize>,
    char_ngrams: Option<(usize, usize)>,
    no_char_ngrams: bool,
    raw_tf: bool,
    valid: Option<(Vec<String>, Vec<i64>)>,
) -> PyResult<PyClassifier> {
    let (rows, k) = (texts.len(), classes.len());
    if k < 2 || targets.len() != rows * k {
        return Err(message(format!(
            "{rows} texts need a {rows} x {k} table of class probabilities (one column per \
             class of {classes:?}); got {} values",
            targets.len()
        )));
    }
    let keep = keep.unwrap_or_else(|| vec![true; rows]);
    if keep.len() != rows {
        return Err(message(format!(
            "{rows} texts and {} `keep` flags",
            keep.len()
        )));
    }
    let defaults = FeatureConfig::default();
    let hash_bits = hash_bits.unwrap_or(defaults.hash_bits);
    if !(8..=24).contains(&hash_bits) {
        return Err(message(format!("hash_bits {hash_bits}: give 8 to 24")));
    }
    if let Some((low, high)) = char_ngrams
        && (low == 0 || low > high)
    {
        return Err(message(format!(
            "char_ngrams ({low}, {high}): need 1 <= min <= max"
        )));
    }
    let class_weights = match (balanced, class_weights) {
        (true, None) => ClassWeights::Balanced,
        (false, None) => ClassWeights::None,
        (false, Some(weights)) => {
            if let Some(bad) = weights.iter().find(|w| !(**w >= 0.0 && w.is_finite())) {
                return Err(message(format!(
                    "class weight {bad} is not a non-negative number"
                )));
            }
            ClassWeights::Given(weights)
        }
        (true, Some(_)) => {
            return Err(message("give class weights or \"balanced\", not both"));
        }
    };
    let options = TrainOptions {
        features: FeatureConfig {
            hash_bits,
            word_ngrams: word_ngrams.unwrap_or(defaults.word_ngrams),
            char_ngrams: if no_char_ngrams {
                None
            } else {
                char_ngrams.or(defaults.char_ngrams)
            },
            sublinear_tf: !raw_tf,
        },
        l2,
        max_iterations: max_iterations.unwrap_or(TrainOptions::default().max_iterations),
        class_weights,
        ..TrainOptions::default()
    };
    if let Some((valid_texts, gold)) = &valid {
        if valid_texts.len() != gold.len() {
            return Err(message(format!(
                "{} validation texts and {} gold labels",
                valid_texts.len(),
                gold.len()
            )));
        }
        if let Some(bad) = gold.iter().find(|g| **g < -1 || **g >= k as i64) {
            return Err(message(format!(
                "validation gold label {bad} is not a class id of {classes:?} (or -1, unknown)"
            )));
        }
        if gold.iter().all(|g| *g < 0) {
            return Err(message("the validation rows have no known gold label"));
        }
    }
    let targets = Array2::from_shape_vec((rows, k), targets).map_err(|e| message(e.to_string()))?;
    let classifier = py
        .detach(|| {
            let rows = TrainingRows {
                texts: &texts,
                targets: &targets,
                keep: &keep,
                hard,
            };
            let validation = valid.as_ref().map(|(texts, gold)| Validation {
                texts: texts.as_slice(),
                gold: gold.as_slice(),
            });
            train(&rows, &classes, &options, validation.as_ref())
        })
        .map_err(|e| error(&e))?;
    Ok(PyClassifier { classifier })
}

/// A trained end model (`labelgen train`'s classifier file).
#[pyclass(name = "Classifier", module = "labelgen._labelgen", frozen)]
struct PyClassifier {
    classifier: Classifier,
}

#[pymethods]
impl PyClassifier {
    /// Class probabilities of `texts` (rows x classes), row-major float64, as bytes.
    fn predict_proba_bytes<'py>(&self, py: Python<'py>, texts: Vec<String>) -> Bound<'py, PyBytes> {
        let probabilities = py.detach(|| self.classifier.predict_proba(&texts));
        let bytes: Vec<u8> = probabilities.iter().flat_map(|p| p.to_le_bytes()).collect();
        PyBytes::new(py, &bytes)
    }

    /// Write the classifier file (JSON), as `labelgen train` does.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.classifier.write(&path).map_err(|e| error(&e))
    }

    /// Read a classifier file written by `labelgen train` or `Classifier.save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyClassifier> {
        let classifier = read_classifier(&path).map_err(|e| error(&e))?;
        Ok(PyClassifier { classifier })
    }

    #[getter]
    fn classes(&self) -> Vec<String> {
        self.classifier.classes.clone()
    }

    /// How it was trained (rows, targets, L2, the optimiser's report, model selection), as
    /// the JSON of the classifier file's `training`.
    fn training_json(&self) -> String {
        serde_json::to_string(&self.classifier.training).unwrap_or_default()
    }
}

/// Per-LF and whole-matrix statistics (`labelgen analyze`), as JSON.
#[pyfunction]
#[pyo3(signature = (matrix, gold = None, model = None))]
fn analyze_json(
    py: Python<'_>,
    matrix: &PyMatrix,
    gold: Option<Vec<i64>>,
    model: Option<PyRef<'_, PyModel>>,
) -> PyResult<String> {
    let model = model.as_ref().map(|model| &model.model);
    let analysis = py
        .detach(|| labelgen::analysis::analyze(&matrix.matrix, gold.as_deref(), model))
        .map_err(|e| error(&e))?;
    Ok(labelgen::report::render_json(&analysis))
}

#[pymodule]
fn _labelgen(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("LabelgenError", module.py().get_type::<LabelgenError>())?;
    module.add_class::<PyLfs>()?;
    module.add_class::<PyMatrix>()?;
    module.add_class::<PyStatistics>()?;
    module.add_class::<PyModel>()?;
    module.add_class::<ArrowStream>()?;
    module.add_class::<PyClassifier>()?;
    module.add_function(wrap_pyfunction!(train_classifier, module)?)?;
    module.add_function(wrap_pyfunction!(fit_model, module)?)?;
    module.add_function(wrap_pyfunction!(analyze_json, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
