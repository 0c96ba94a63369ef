//! Labeling functions: what they are, where they come from, how they are evaluated.
//!
//! An LF has a name, reads some columns, and votes `-1` (abstain) or a class id in `0..k` for
//! each row. LFs come from declarative TOML files ([`declarative`]) and from Rust plugins
//! ([`plugin`]); [`LfSet::load`] gathers them, checks that every source declares the same classes
//! and that names are unique, and compiles them into evaluators. Declarative LFs are compiled
//! together ([`program`]): their conditions share atoms, views are computed once per row, and
//! the keyword, lookup and regex tests over one column or view become one fused matcher
//! ([`matcher`]) that reads each value once for all of them.

pub mod declarative;
pub(crate) mod definition;
mod generate;
mod html_entities;
pub(crate) mod matcher;
pub mod plugin;
pub mod preprocess;
pub(crate) mod program;
pub(crate) mod simple;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::table::{Column, ColumnRequest, ColumnType};

pub use crate::provenance::{LfInfo, LfOrigin};

/// Errors loading labeling functions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LfError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is not valid or does not describe LFs.
    #[error("invalid LF file `{path}`: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and field.
        message: String,
    },
    /// One LF definition is wrong.
    #[error("`{path}` line {line}, LF `{lf}`: {message}")]
    Definition {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the LF starts.
        line: usize,
        /// The LF.
        lf: String,
        /// What is wrong.
        message: String,
    },
    /// A plugin could not be loaded or is not valid.
    #[error("plugin `{path}`: {message}")]
    Plugin {
        /// The library.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Two sources declare different classes.
    #[error(
        "`{path}` declares the classes [{}] but `{first_path}` declares [{}]; every LF source must \
         declare the same classes in the same order",
        .classes.join(", "), .first_classes.join(", ")
    )]
    ClassMismatch {
        /// The later source.
        path: PathBuf,
        /// Its classes.
        classes: Vec<String>,
        /// The first source.
        first_path: PathBuf,
        /// Its classes.
        first_classes: Vec<String>,
    },
    /// Two LFs share a name.
    #[error("two LFs are named `{name}`: in `{first}` and in `{second}`; LF names must be unique")]
    DuplicateName {
        /// The name.
        name: String,
        /// The first source.
        first: PathBuf,
        /// The second source.
        second: PathBuf,
    },
    /// No LF at all.
    #[error(
        "no labeling functions: give at least one LF file (--lfs) or plugin (--plugin) that defines some"
    )]
    Empty,
    /// An LF has the name of the row-key column: the matrix would have two columns of it.
    #[error(
        "LF `{0}` has the name of the row-key column (--id-column `{0}`), and the label matrix \
         would have two columns `{0}`; rename the LF, or carry another column as the key"
    )]
    NamedLikeRowKey(String),
    /// A column mapping names a column no LF reads.
    #[error("--column `{column}`={target}: no LF reads a column `{column}`; the LFs read {}", .read.join(", "))]
    UnusedMapping {
        /// The LF-side column named.
        column: String,
        /// Where it was mapped.
        target: String,
        /// The columns LFs do read, quoted.
        read: Vec<String>,
    },
}

/// A source of LFs, as the user names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LfSource {
    /// A declarative TOML file.
    Declarative(PathBuf),
    /// A plugin shared library.
    Plugin(PathBuf),
}

/// An LF's failure while applying, with the row where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LF `{lf}` failed on row {row} (counting from 0): {message}")]
pub struct EvalError {
    /// The LF.
    pub lf: String,
    /// The 0-based row in the input (header excluded).
    pub row: u64,
    /// What happened.
    pub message: String,
}

/// A contiguous range of a batch, with the input columns one evaluator reads.
pub(crate) struct Chunk<'a> {
    /// Input columns in the evaluator's declared order.
    pub columns: Vec<&'a Column>,
    /// First row of the range within the batch columns (a multiple of 8).
    pub start: usize,
    /// Number of rows.
    pub len: usize,
    /// Index of row `start` in the whole input.
    pub first_row: u64,
}

/// Where an evaluator writes votes: a row-major block of the label matrix.
pub(crate) struct VoteSink<'a> {
    pub votes: &'a mut [i8],
    pub stride: usize,
    /// Matrix column of each of the evaluator's outputs.
    pub outputs: &'a [usize],
}

impl VoteSink<'_> {
    /// Record `vote` for the evaluator's output `output` on chunk row `row`.
    #[inline]
    pub fn set(&mut self, row: usize, output: usize, vote: i8) {
        self.votes[row * self.stride + self.outputs[output]] = vote;
    }
}

/// Computes the votes of one or more LFs over chunks of rows.
pub(crate) trait Evaluator: Send + Sync {
    /// The columns read, as the LFs name them, in the order [`Chunk::columns`] holds them.
    fn inputs(&self) -> &[(String, ColumnType)];

    /// Write votes for every row of `chunk` into `sink` (rows where no LF fires may be left
    /// alone: the sink starts as all-abstain).
    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError>;
}

/// An evaluator and the matrix columns of its outputs.
pub(crate) struct BoundEvaluator {
    pub evaluator: Box<dyn Evaluator>,
    pub outputs: Vec<usize>,
}

/// The LFs of a run, in label-matrix column order, ready to apply.
pub struct LfSet {
    classes: Vec<String>,
    lfs: Vec<LfInfo>,
    pub(crate) evaluators: Vec<BoundEvaluator>,
}

/// How the LF set reads a table: the columns to request and, per evaluator, where its inputs
/// are among them.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    /// The columns to read, in order.
    pub requests: Vec<ColumnRequest>,
    /// Per evaluator, per input, the index into `requests`.
    pub(crate) inputs: Vec<Vec<usize>>,
    /// Per request, who needs it (for error messages).
    pub(crate) needed_by: BTreeMap<String, String>,
}

impl LfSet {
    /// Load every source, in order: the matrix has their LFs as columns in that order (and, in a
    /// source, in definition order).
    pub fn load(sources: &[LfSource]) -> Result<LfSet, LfError> {
        Self::load_filtered(sources, None)
    }

    /// Load only the LFs named in `wanted` (for re-applying just the LFs that changed): TOML
    /// LFs one by one, plugins whole (all of a plugin's LFs change together, with its library).
    /// Column order is as in [`LfSet::load`], with the other LFs left out.
    pub fn load_only(
        sources: &[LfSource],
        wanted: &std::collections::BTreeSet<String>,
    ) -> Result<LfSet, LfError> {
        Self::load_filtered(sources, Some(wanted))
    }

    fn load_filtered(
        sources: &[LfSource],
        wanted: Option<&std::collections::BTreeSet<String>>,
    ) -> Result<LfSet, LfError> {
        let mut classes: Option<(PathBuf, Vec<String>)> = None;
        let mut declared = Vec::new();
        let mut plugins = Vec::new();
        let mut lfs: Vec<LfInfo> = Vec::new();
        for source in sources {
            let (path, source_classes) = match source {
                LfSource::Declarative(path) => {
                    let mut file = declarative::LfFile::read(path)?;
                    if let Some(wanted) = wanted {
                        file.infos.retain(|info| wanted.contains(&info.name));
                        file.definitions
                            .retain(|definition| wanted.contains(&definition.info.name));
                    }
                    let source_classes = file.classes.clone();
                    lfs.extend(file.infos.iter().cloned());
                    declared.push(file);
                    (path, source_classes)
                }
                LfSource::Plugin(path) => {
                    let loaded = plugin::LoadedPlugin::load(path)?;
                    let source_classes = loaded.classes.clone();
                    let needed = wanted.is_none_or(|wanted| {
                        loaded.infos.iter().any(|info| wanted.contains(&info.name))
                    });
                    if needed {
                        lfs.extend(loaded.infos.iter().cloned());
                        plugins.push(loaded);
                    }
                    (path, source_classes)
                }
            };
            match &classes {
                None => classes = Some((path.clone(), source_classes)),
                Some((first_path, first_classes)) if *first_classes != source_classes => {
                    return Err(LfError::ClassMismatch {
                        path: path.clone(),
                        classes: source_classes,
                        first_path: first_path.clone(),
                        first_classes: first_classes.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        check_unique_names(&lfs)?;
        let Some((_, classes)) = classes else {
            return Err(LfError::Empty);
        };
        if lfs.is_empty() {
            return Err(LfError::Empty);
        }
        let position: BTreeMap<&str, usize> = lfs
            .iter()
            .enumerate()
            .map(|(index, info)| (info.name.as_str(), index))
            .collect();
        let mut evaluators = declarative::compile(&declared, &position)?;
        for loaded in plugins {
            evaluators.extend(loaded.into_evaluators(&position));
        }
        Ok(LfSet {
            classes,
            lfs,
            evaluators,
        })
    }

    /// The class names; class id `i` is `classes()[i]`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The LFs, in label-matrix column order.
    pub fn lfs(&self) -> &[LfInfo] {
        &self.lfs
    }

    /// Plan how to read a table: `column_map` maps LF column names to data column names
    /// (unmapped columns keep their name); `id_column` is carried through as the row key.
    pub fn read_plan(
        &self,
        column_map: &BTreeMap<String, String>,
        id_column: Option<&str>,
    ) -> Result<ReadPlan, LfError> {
        if let Some(id) = id_column
            && self.lfs.iter().any(|info| info.name == id)
        {
            return Err(LfError::NamedLikeRowKey(id.to_owned()));
        }
        let read: std::collections::BTreeSet<&str> = self
            .lfs
            .iter()
            .flat_map(|info| info.columns.iter().map(|(name, _)| name.as_str()))
            .collect();
        if let Some((column, target)) = column_map
            .iter()
            .find(|(column, _)| !read.contains(column.as_str()))
        {
            return Err(LfError::UnusedMapping {
                column: column.clone(),
                target: target.clone(),
                read: read.iter().map(|name| format!("`{name}`")).collect(),
            });
        }
        let mut requests: Vec<ColumnRequest> = Vec::new();
        let mut index_of =
            |request: ColumnRequest| match requests.iter().position(|known| *known == request) {
                Some(index) => index,
                None => {
                    requests.push(request);
                    requests.len() - 1
                }
            };
        if let Some(id) = id_column {
            index_of(ColumnRequest::own_type(id));
        }
        let inputs = self
            .evaluators
            .iter()
            .map(|bound| {
                bound
                    .evaluator
                    .inputs()
                    .iter()
                    .map(|(name, column_type)| {
                        let data_name = column_map.get(name).unwrap_or(name);
                        index_of(ColumnRequest {
                            name: data_name.clone(),
                            column_type: Some(*column_type),
                        })
                    })
                    .collect()
            })
            .collect();
        let needed_by = requests
            .iter()
            .map(|request| {
                (
                    request.name.clone(),
                    self.needed_by(&request.name, column_map, id_column),
                )
            })
            .collect();
        Ok(ReadPlan {
            requests,
            inputs,
            needed_by,
        })
    }

    fn needed_by(
        &self,
        data_column: &str,
        column_map: &BTreeMap<String, String>,
        id: Option<&str>,
    ) -> String {
        if id == Some(data_column) {
            return " (the --id-column)".to_owned();
        }
        let lf_column = column_map
            .iter()
            .find(|(_, target)| target.as_str() == data_column)
            .map_or(data_column, |(column, _)| column.as_str());
        let users: Vec<&str> = self
            .lfs
            .iter()
            .filter(|info| info.columns.iter().any(|(name, _)| name == lf_column))
            .map(|info| info.name.as_str())
            .collect();
        let who = match users.as_slice() {
            [] => String::new(),
            [one] => format!("LF `{one}`"),
            [first, rest @ ..] => format!("LF `{first}` and {} more", rest.len()),
        };
        if column_map.contains_key(lf_column) {
            format!(" (needed by {who}, mapped with --column {lf_column}={data_column})")
        } else {
            format!(" (needed by {who}; point it at another column with --column {lf_column}=NAME)")
        }
    }
}

fn check_unique_names(lfs: &[LfInfo]) -> Result<(), LfError> {
    let mut seen: BTreeMap<&str, &LfOrigin> = BTreeMap::new();
    for info in lfs {
        if let Some(first) = seen.insert(&info.name, &info.origin) {
            return Err(LfError::DuplicateName {
                name: info.name.clone(),
                first: origin_path(first).to_owned(),
                second: origin_path(&info.origin).to_owned(),
            });
        }
    }
    Ok(())
}

fn origin_path(origin: &LfOrigin) -> &Path {
    match origin {
        LfOrigin::Declarative { file, .. } => file,
        LfOrigin::Plugin { library, .. } => library,
    }
}
