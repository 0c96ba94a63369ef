//! The parallel applier: input batches -> LF votes -> a [`LabelMatrix`], in input order.
//!
//! A reader thread parses the input batch by batch (so memory holds a couple of batches plus
//! the n x m matrix, whatever the file size) while rayon evaluates each batch in fixed-size
//! chunks of rows. Every chunk writes its own rows of the matrix, so the result is the same
//! byte for byte whatever the number of threads; when LFs fail, the error reported is the one
//! on the earliest chunk, so errors do not depend on scheduling either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use crate::provenance::provenance;

use crate::io::open::open_table;
use crate::io::source::{BatchSource, TableError, TableFormat};
use crate::lf::{Chunk, EvalError, LfError, LfSet, ReadPlan, VoteSink};
use crate::matrix::{LabelMatrix, MatrixError, RowKeys};
use crate::table::{Batch, Column, Values};

/// Rows per parallel work item. A multiple of 8 so that chunks start on a byte of a validity
/// bitmap (the plugin ABI passes bitmaps by byte).
pub const CHUNK_ROWS: usize = 4096;

/// How to apply an LF set to a table.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// LF column name -> data column name, for data whose columns are named otherwise.
    pub column_map: BTreeMap<String, String>,
    /// A column carried through as the row key of the matrix.
    pub id_column: Option<String>,
    /// The input format; `None` guesses it from the file extension.
    pub format: Option<TableFormat>,
    /// Rows per input batch (memory holds about two batches).
    pub batch_rows: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            column_map: BTreeMap::new(),
            id_column: None,
            format: None,
            batch_rows: 64 * 1024,
        }
    }
}

/// Receives progress while applying. Called from the applying thread only.
pub trait Progress: Sync {
    /// The input's size in progress units (bytes, or rows for Parquet and WRENCH), if known.
    fn start(&self, _total: Option<u64>) {}

    /// `position` units of the input and `rows` rows are done.
    fn update(&self, _position: u64, _rows: u64) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Errors while applying LFs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The input could not be read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The LF set does not fit the input.
    #[error(transparent)]
    Lf(#[from] LfError),
    /// An LF failed on a row.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The row-key column is unusable.
    #[error("`{path}` row {row} (counting from 0): the id column `{column}` {message}")]
    RowKey {
        /// The input.
        path: PathBuf,
        /// The 0-based row.
        row: u64,
        /// The id column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The matrix could not be assembled.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    /// Batches of no rows would never end.
    #[error("the batch size must be at least 1 row")]
    NoBatchRows,
}

/// Apply every LF of `set` to every row of the table at `data`.
pub fn apply(
    set: &LfSet,
    data: &Path,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<LabelMatrix, ApplyError> {
    if options.batch_rows == 0 {
        return Err(ApplyError::NoBatchRows);
    }
    let format = match options.format {
        Some(format) => format,
        None => TableFormat::from_path(data)?,
    };
    let plan = set.read_plan(&options.column_map, options.id_column.as_deref())?;
    let needed_by = |column: &str| plan.needed_by.get(column).cloned().unwrap_or_default();
    let source = open_table(data, format, &plan.requests, &needed_by, options.batch_rows)?;
    apply_source(set, &plan, source, data, options, progress)
}

/// Apply every LF of `set` to every row of an in-memory Arrow table (record batches, each a
/// struct array of columns: a DataFrame, a Spark partition), exactly as [`apply`] does to a
/// file; `name` is how errors and the matrix's provenance name the input. `options.format` and
/// `options.batch_rows` are not used (the batches are the input's).
pub fn apply_arrow(
    set: &LfSet,
    batches: crate::io::arrow::RecordBatches,
    name: &str,
    options: &ApplyOptions,
) -> Result<LabelMatrix, ApplyError> {
    let plan = set.read_plan(&options.column_map, options.id_column.as_deref())?;
    let source =
        crate::io::arrow::ArrowSource::new(name, batches, &plan.requests, plan.needed_by.clone());
    apply_source(
        set,
        &plan,
        Box::new(source),
        Path::new(name),
        options,
        &NoProgress,
    )
}

/// Apply `set` to every batch of `source`, read on its own thread while the previous batch is
/// evaluated; `data` names the input in errors and in the matrix's provenance.
fn apply_source(
    set: &LfSet,
    plan: &ReadPlan,
    source: Box<dyn BatchSource>,
    data: &Path,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<LabelMatrix, ApplyError> {
    progress.start(source.progress_total());
    let n_lfs = set.lfs().len();
    let mut votes: Vec<i8> = Vec::new();
    let mut keys = options
        .id_column
        .as_ref()
        .map(|name| KeyCollector::new(data, name));
    let data_hash = std::thread::scope(|scope| -> Result<blake3::Hash, ApplyError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(2);
        let reader = scope.spawn(move || read_all(source, sender));
        let mut rows = 0u64;
        for message in &receiver {
            let read = message?;
            apply_parts(set, plan, &read.parts, n_lfs, &mut votes)?;
            for part in &read.parts {
                if let Some(keys) = &mut keys {
                    keys.push(&part.columns[0], part.first_row)?;
                }
                rows += part.n_rows as u64;
            }
            progress.update(read.position, rows);
        }
        drop(receiver);
        let mut source = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok(source.content_hash()?)
    })?;
    let n_rows = votes.len() / n_lfs;
    let votes = ndarray::Array2::from_shape_vec((n_rows, n_lfs), votes).expect("rows x LFs votes");
    let names = set.lfs().iter().map(|info| info.name.clone()).collect();
    let mut matrix = LabelMatrix::new(votes, names, set.classes().to_vec())?;
    if let (Some(name), Some(keys)) = (&options.id_column, keys) {
        matrix = matrix.with_row_keys(name.clone(), keys.finish())?;
    }
    Ok(matrix.with_provenance(provenance(
        set.classes(),
        set.lfs(),
        data,
        data_hash,
        &options.column_map,
    )))
}

/// Apply every LF of `set` to one in-memory batch whose columns are `plan.requests`, in order;
/// returns the votes row-major (`batch.n_rows` x LFs). [`apply`] calls this for each batch it
/// reads; it is public to time the apply step alone (`benches/apply.rs`).
pub fn apply_to_batch(set: &LfSet, plan: &ReadPlan, batch: &Batch) -> Result<Vec<i8>, EvalError> {
    let mut votes = Vec::new();
    apply_parts(
        set,
        plan,
        std::slice::from_ref(batch),
        set.lfs().len(),
        &mut votes,
    )?;
    Ok(votes)
}

/// Send every batch of `source` down `sender`, stopping at the first error or when the
/// receiver hangs up; hand the source back for its content hash.
fn read_all(
    mut source: Box<dyn BatchSource>,
    sender: std::sync::mpsc::SyncSender<Result<crate::io::source::SourceBatch, TableError>>,
) -> Box<dyn BatchSource> {
    loop {
        match source.next_batch() {
            Ok(Some(batch)) => {
                if sender.send(Ok(batch)).is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => {
                let _ = sender.send(Err(error));
                break;
            }
        }
    }
    source
}

/// Evaluate every LF on consecutive `parts`, appending their rows of votes to `votes`
/// (row-major). Parts, and chunks of rows within them, run in parallel.
fn apply_parts(
    set: &LfSet,
    plan: &ReadPlan,
    parts: &[Batch],
    n_lfs: usize,
    votes: &mut Vec<i8>,
) -> Result<(), EvalError> {
    let offset = votes.len();
    let total: usize = parts.iter().map(|part| part.n_rows).sum();
    votes.resize(offset + total * n_lfs, -1);
    let mut blocks = Vec::with_capacity(parts.len());
    let mut rest = &mut votes[offset..];
    for part in parts {
        let (block, tail) = rest.split_at_mut(part.n_rows * n_lfs);
        blocks.push(block);
        rest = tail;
    }
    let results: Vec<Result<(), EvalError>> = parts
        .par_iter()
        .zip(blocks)
        .map(|(part, block)| evaluate_part(set, plan, part, n_lfs, block))
        .collect();
    results.into_iter().collect()
}

/// Evaluate every LF on `batch` into its block of votes, in parallel chunks of rows; the
/// first failing chunk (in row order) gives the error.
fn evaluate_part(
    set: &LfSet,
    plan: &ReadPlan,
    batch: &Batch,
    n_lfs: usize,
    block: &mut [i8],
) -> Result<(), EvalError> {
    let results: Vec<Result<(), EvalError>> = block
        .par_chunks_mut(CHUNK_ROWS * n_lfs)
        .enumerate()
        .map(|(index, chunk_votes)| {
            let start = index * CHUNK_ROWS;
            let len = chunk_votes.len() / n_lfs;
            for (bound, inputs) in set.evaluators.iter().zip(&plan.inputs) {
                let chunk = Chunk {
                    columns: inputs.iter().map(|input| &batch.columns[*input]).collect(),
                    start,
                    len,
                    first_row: batch.first_row + start as u64,
                };
                let mut sink = VoteSink {
                    votes: &mut *chunk_votes,
                    stride: n_lfs,
                    outputs: &bound.outputs,
                };
                bound.evaluator.evaluate(&chunk, &mut sink)?;
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect()
}

/// Gathers the row keys batch by batch.
struct KeyCollector {
    path: PathBuf,
    column: String,
    keys: Option<RowKeys>,
}

impl KeyCollector {
    fn new(path: &Path, column: &str) -> Self {
        KeyCollector {
            path: path.to_owned(),
            column: column.to_owned(),
            keys: None,
        }
    }

    fn push(&mut self, column: &Column, first_row: u64) -> Result<(), ApplyError> {
        let error = |row: usize, message: &str| ApplyError::RowKey {
            path: self.path.clone(),
            row: first_row + row as u64,
            column: self.column.clone(),
            message: message.to_owned(),
        };
        if let Some(row) = (0..column.len()).find(|row| !column.is_valid(*row)) {
            return Err(error(row, "is empty; every row needs a key"));
        }
        match (column.values(), &mut self.keys) {
            (Values::Text { .. }, keys @ None) => *keys = Some(RowKeys::Text(Vec::new())),
            (Values::Int(_), keys @ None) => *keys = Some(RowKeys::Int(Vec::new())),
            _ => {}
        }
        match (column.values(), &mut self.keys) {
            (Values::Text { .. }, Some(RowKeys::Text(keys))) => keys.extend(
                (0..column.len()).map(|row| column.text(row).unwrap_or_default().to_owned()),
            ),
            (Values::Int(values), Some(RowKeys::Int(keys))) => keys.extend_from_slice(values),
            _ => return Err(error(0, "must be text or integers")),
        }
        Ok(())
    }

    fn finish(self) -> RowKeys {
        self.keys.unwrap_or(RowKeys::Text(Vec::new()))
    }
}
