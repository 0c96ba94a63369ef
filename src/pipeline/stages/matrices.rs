//! Each split's label matrix: its LF columns applied (only those missing from the cache), then
//! assembled with its row keys and provenance.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use serde_json::json;

use super::{BuiltMatrix, Lfs, Matrices, Split};
use crate::apply::{ApplyOptions, NoProgress, apply};
use crate::io::matrix_file::write_matrix;
use crate::io::open::read_columns;
use crate::lf::LfSet;
use crate::matrix::{LabelMatrix, RowKeys};
use crate::pipeline::cache::{Entry, key};
use crate::pipeline::config::Project;
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::{PipelineError, Runner, stage_error, version};
use crate::provenance::provenance;

/// Every split's matrix: its LF columns applied (or from the cache), then assembled.
pub(in crate::pipeline) fn build_matrices(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    splits: Vec<Split>,
) -> Result<Matrices, PipelineError> {
    let mut matrices = Matrices {
        splits: Vec::new(),
        classes: lfs.classes.clone(),
        built: BTreeMap::new(),
        memo: RefCell::default(),
    };
    for split in splits {
        let columns = apply_split(runner, project, lfs, &split)?;
        let built = assemble_matrix(runner, project, lfs, &matrices, &split, columns)?;
        runner.outputs.push((
            format!("L_{}.parquet", split.name),
            built.entry.file("L.parquet"),
        ));
        matrices.built.insert(split.name, built);
        matrices.splits.push(split);
    }
    Ok(matrices)
}

/// A split's LF columns: their cache keys and entries, and the row keys if the LFs were
/// applied now.
pub(super) struct Columns {
    keys: Vec<String>,
    entries: Vec<Entry>,
    row_keys: Option<RowKeys>,
}

/// Apply: one cache entry per (split, LF); only the LFs missing from the cache are applied.
pub(super) fn apply_split(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    split: &Split,
) -> Result<Columns, PipelineError> {
    let started = Instant::now();
    let data = &project.settings.data;
    let keys: Vec<String> = lfs
        .infos
        .iter()
        .map(|info| {
            key(&json!({
                "kind": "lf-column", "version": version(), "data": split.hash,
                "lf": info.name, "fingerprint": info.fingerprint,
                "columns": data.columns, "classes": lfs.classes,
            }))
        })
        .collect();
    let mut entries: Vec<Option<Entry>> = Vec::with_capacity(lfs.infos.len());
    let mut missing = BTreeSet::new();
    for (info, column_key) in lfs.infos.iter().zip(&keys) {
        let mut damaged = false;
        let found = runner.cache.get("lf-column", column_key, &mut damaged);
        runner.damaged |= damaged;
        if found.is_none() {
            missing.insert(info.name.clone());
        }
        entries.push(found);
    }
    let mut row_keys = None;
    if !missing.is_empty() {
        row_keys = apply_missing(runner, project, lfs, split, &missing, &keys, &mut entries)?;
    }
    let detail = format!(
        "{}: {} of {} LF columns applied",
        split.name,
        missing.len(),
        lfs.infos.len()
    );
    let cache = match missing.len() {
        0 => CacheOutcome::Hit,
        n if n == lfs.infos.len() => CacheOutcome::Miss,
        _ => CacheOutcome::Partial,
    };
    runner.record(&format!("apply.{}", split.name), started, cache, detail);
    let entries = entries
        .into_iter()
        .map(|entry| entry.expect("every column"))
        .collect();
    Ok(Columns {
        keys,
        entries,
        row_keys,
    })
}

/// Apply the `missing` LFs to `split` and file each one's votes in the cache; returns the
/// row keys read.
pub(super) fn apply_missing(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    split: &Split,
    missing: &BTreeSet<String>,
    keys: &[String],
    entries: &mut [Option<Entry>],
) -> Result<Option<RowKeys>, PipelineError> {
    let data = &project.settings.data;
    let subset = LfSet::load_only(&lfs.sources, missing).map_err(stage_error("apply"))?;
    let options = ApplyOptions {
        column_map: data.columns.clone(),
        id_column: data.id_column.clone(),
        ..ApplyOptions::default()
    };
    let applied =
        apply(&subset, &split.path, &options, &NoProgress).map_err(stage_error("apply"))?;
    for (index, name) in applied.lf_names().iter().enumerate() {
        let position = lfs
            .infos
            .iter()
            .position(|info| &info.name == name)
            .expect("known LF");
        if entries[position].is_some() {
            continue;
        }
        let column: Vec<u8> = applied
            .lf_votes(index)
            .iter()
            .map(|vote| *vote as u8)
            .collect();
        let entry = runner
            .cache
            .put::<PipelineError>("lf-column", &keys[position], |dir| {
                std::fs::write(dir.join("votes.i8"), &column).map_err(stage_error("apply"))
            })?;
        entries[position] = Some(entry);
    }
    Ok(applied.row_keys().map(|(_, keys)| keys.clone()))
}

/// Assemble the matrix of `split` from its columns (cached by the columns' keys).
pub(super) fn assemble_matrix(
    runner: &mut Runner<'_>,
    project: &Project,
    lfs: &Lfs,
    matrices: &Matrices,
    split: &Split,
    columns: Columns,
) -> Result<BuiltMatrix, PipelineError> {
    let started = Instant::now();
    let id_column = &project.settings.data.id_column;
    let matrix_key = key(&json!({
        "kind": "matrix", "version": version(), "columns": columns.keys,
        "id": id_column, "data": split.hash,
    }));
    let mut row_keys = columns.row_keys;
    let (entry, hit) = runner.cached("matrix", &matrix_key, |dir| {
        let matrix = matrix_of(project, lfs, split, &columns.entries, row_keys.take())?;
        write_matrix(&dir.join("L.parquet"), &matrix).map_err(stage_error("matrix"))?;
        matrices.memo.borrow_mut().insert(split.name, matrix);
        Ok(())
    })?;
    runner.record(
        &format!("matrix.{}", split.name),
        started,
        CacheOutcome::of_hit(hit),
        String::new(),
    );
    Ok(BuiltMatrix {
        key: matrix_key,
        entry,
    })
}

/// The label matrix of `split` from its LF columns' cache entries, with its row keys
/// (`row_keys`, or read from the data) and provenance.
pub(super) fn matrix_of(
    project: &Project,
    lfs: &Lfs,
    split: &Split,
    entries: &[Entry],
    row_keys: Option<RowKeys>,
) -> Result<LabelMatrix, PipelineError> {
    let data = &project.settings.data;
    let columns: Vec<Vec<u8>> = entries
        .iter()
        .map(|entry| std::fs::read(entry.file("votes.i8")))
        .collect::<Result<_, _>>()
        .map_err(stage_error("matrix"))?;
    let n = columns.first().map_or(0, Vec::len);
    let votes = Array2::from_shape_fn((n, columns.len()), |(row, lf)| columns[lf][row] as i8);
    let names = lfs.infos.iter().map(|info| info.name.clone()).collect();
    let mut matrix =
        LabelMatrix::new(votes, names, lfs.classes.clone()).map_err(stage_error("matrix"))?;
    if let Some(id) = &data.id_column {
        let keys = match row_keys {
            Some(keys) => keys,
            None => read_keys(&split.path, id)?,
        };
        matrix = matrix
            .with_row_keys(id.clone(), keys)
            .map_err(stage_error("matrix"))?;
    }
    let data_hash = blake3::Hash::from_hex(&split.hash).expect("a hex hash");
    Ok(matrix.with_provenance(provenance(
        &lfs.classes,
        &lfs.infos,
        &split.path,
        data_hash,
        &data.columns,
    )))
}

pub(super) fn read_keys(path: &Path, column: &str) -> Result<RowKeys, PipelineError> {
    let columns = read_columns(path, &[column.to_owned()]).map_err(stage_error("apply"))?;
    Ok(RowKeys::from_column(&columns[0].1))
}
