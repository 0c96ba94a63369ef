//! Loading Rust plugin LFs: shared libraries built against `labelgen-sdk`.
//!
//! Trust model: a plugin is native code that runs with the user's rights inside labelgen.
//! labelgen checks its ABI version, its descriptor (names, classes, column types), the columns
//! it asks for, and every vote it returns; it catches panics inside the plugin. It cannot check
//! what the plugin does otherwise: a plugin that crashes, loops or reads files does so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use labelgen_sdk::abi::{
    self, ABI_VERSION, ApplyFn, Batch as AbiBatch, ColumnView, DESCRIPTOR_MAGIC, ErrorBuffer,
    PluginDescriptor, StrRef,
};

use super::{BoundEvaluator, Chunk, EvalError, Evaluator, LfError, LfInfo, LfOrigin, VoteSink};
use crate::matrix::MAX_CLASSES;
use crate::table::{ColumnType, Values};

/// A loaded plugin library and what it declared.
pub struct LoadedPlugin {
    /// Keeps the code behind `apply` mapped while any evaluator may call it.
    library: Arc<libloading::Library>,
    apply: ApplyFn,
    /// The plugin's class names.
    pub classes: Vec<String>,
    /// Its LFs, in declaration order.
    pub infos: Vec<LfInfo>,
}

fn plugin_error(path: &Path, message: impl Into<String>) -> LfError {
    LfError::Plugin {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Copy a string the plugin declared; `what` names it for the error.
///
/// # Safety
/// `text` must point to `len` readable bytes (descriptor contract).
unsafe fn read_str(path: &Path, text: StrRef, what: &str) -> Result<String, LfError> {
    if text.len == 0 {
        return Ok(String::new());
    }
    if text.ptr.is_null() {
        return Err(plugin_error(path, format!("{what} is a null pointer")));
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { std::slice::from_raw_parts(text.ptr, text.len) };
    String::from_utf8(bytes.to_vec())
        .map_err(|_| plugin_error(path, format!("{what} is not valid UTF-8")))
}

/// # Safety
/// `items` must point to `len` readable `T` (descriptor contract).
unsafe fn read_slice<'a, T>(
    path: &Path,
    items: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], LfError> {
    if len == 0 {
        return Ok(&[]);
    }
    if items.is_null() {
        return Err(plugin_error(path, format!("{what} is a null pointer")));
    }
    // SAFETY: guaranteed by the caller.
    Ok(unsafe { std::slice::from_raw_parts(items, len) })
}

fn column_type(code: u32) -> Option<ColumnType> {
    match code {
        abi::DTYPE_TEXT => Some(ColumnType::Text),
        abi::DTYPE_FLOAT => Some(ColumnType::Float),
        abi::DTYPE_INT => Some(ColumnType::Int),
        abi::DTYPE_BOOL => Some(ColumnType::Bool),
        _ => None,
    }
}

fn type_code(column_type: ColumnType) -> u32 {
    match column_type {
        ColumnType::Text => abi::DTYPE_TEXT,
        ColumnType::Float => abi::DTYPE_FLOAT,
        ColumnType::Int => abi::DTYPE_INT,
        ColumnType::Bool => abi::DTYPE_BOOL,
    }
}

impl LoadedPlugin {
    /// Load the plugin at `path` and check its descriptor.
    pub fn load(path: &Path) -> Result<LoadedPlugin, LfError> {
        let bytes = std::fs::read(path).map_err(|source| LfError::Io {
            path: path.to_owned(),
            source,
        })?;
        let library_hash = blake3::hash(&bytes);
        // A bare file name would make the loader search the system paths; anchor it.
        let load_path: PathBuf = if path.components().count() == 1 {
            Path::new(".").join(path)
        } else {
            path.to_owned()
        };
        // SAFETY: loading runs the library's initialisers. This is the trust model: the user
        // chose to run this plugin's native code.
        let library = unsafe { libloading::Library::new(&load_path) }.map_err(|error| {
            // libloading says only "dlopen failed"; the loader's own reason is its source.
            let reason = std::error::Error::source(&error)
                .map_or_else(|| error.to_string(), ToString::to_string);
            plugin_error(
                path,
                format!("cannot load it as a shared library: {reason}"),
            )
        })?;
        // SAFETY: the symbol, when present, has this signature in every ABI version.
        let version_fn = unsafe { library.get::<unsafe extern "C" fn() -> u32>(abi::ABI_VERSION_SYMBOL.as_bytes()) }
            .map_err(|_| {
                plugin_error(
                    path,
                    format!(
                        "not a labelgen plugin (no `{}` symbol); build a cdylib crate against labelgen-sdk and \
                         export it with `labelgen_sdk::export_plugin!`",
                        abi::ABI_VERSION_SYMBOL
                    ),
                )
            })?;
        // SAFETY: as above.
        let version = unsafe { version_fn() };
        if version != ABI_VERSION {
            return Err(plugin_error(
                path,
                format!(
                    "built for plugin ABI version {version}, but this labelgen speaks version {ABI_VERSION}; \
                     rebuild the plugin against labelgen-sdk {}",
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        type DescriptorFn = unsafe extern "C" fn(*mut ErrorBuffer) -> *const PluginDescriptor;
        // SAFETY: ABI version 1 defines this signature.
        let descriptor_fn =
            unsafe { library.get::<DescriptorFn>(abi::DESCRIPTOR_SYMBOL.as_bytes()) }.map_err(
                |_| {
                    plugin_error(
                        path,
                        format!("the `{}` symbol is missing", abi::DESCRIPTOR_SYMBOL),
                    )
                },
            )?;
        let mut error = Box::new(ErrorBuffer::new());
        // SAFETY: we pass a writable error buffer, per the ABI.
        let descriptor = unsafe { descriptor_fn(&mut *error) };
        // SAFETY: a non-null descriptor lives as long as the library (ABI contract).
        let Some(descriptor) = (unsafe { descriptor.as_ref() }) else {
            return Err(plugin_error(
                path,
                format!("it failed to start: {}", error.message()),
            ));
        };
        // SAFETY: a non-null descriptor follows the ABI contract (the plugin's side of it).
        let (classes, infos) = unsafe { check_descriptor(path, descriptor, library_hash)? };
        Ok(LoadedPlugin {
            library: Arc::new(library),
            apply: descriptor.apply,
            classes,
            infos,
        })
    }

    /// One evaluator per LF; `position` gives each LF's matrix column.
    pub(crate) fn into_evaluators(self, position: &BTreeMap<&str, usize>) -> Vec<BoundEvaluator> {
        let library = self.library;
        let apply = self.apply;
        let cardinality = self.classes.len() as i8;
        self.infos
            .into_iter()
            .enumerate()
            .map(|(index, info)| {
                let output = position[info.name.as_str()];
                let evaluator = PluginLf {
                    _library: Arc::clone(&library),
                    apply,
                    index,
                    name: info.name,
                    inputs: info.columns,
                    cardinality,
                };
                BoundEvaluator {
                    evaluator: Box::new(evaluator),
                    outputs: vec![output],
                }
            })
            .collect()
    }
}

/// Check everything the descriptor of the plugin at `path` declares (magic number, ABI
/// version, names, classes, column types) and return its classes and LFs. [`LoadedPlugin::load`]
/// calls it on the descriptor a library returns; it is public so that tests and fuzzers can
/// check descriptors built in memory.
///
/// # Safety
/// Every pointer of `descriptor` with a non-zero length must point to that many readable
/// items (the ABI contract); null pointers and wrong values are errors, not undefined
/// behaviour.
pub unsafe fn check_descriptor(
    path: &Path,
    descriptor: &PluginDescriptor,
    library_hash: blake3::Hash,
) -> Result<(Vec<String>, Vec<LfInfo>), LfError> {
    if descriptor.magic != DESCRIPTOR_MAGIC || descriptor.abi_version != ABI_VERSION {
        return Err(plugin_error(
            path,
            "its descriptor is corrupt (wrong magic number or ABI version)",
        ));
    }
    // SAFETY (whole body): pointers and lengths come from the descriptor (caller's contract).
    let plugin_name = unsafe { read_str(path, descriptor.name, "the plugin name")? };
    let plugin_version = unsafe { read_str(path, descriptor.version, "the plugin version")? };
    let class_refs = unsafe {
        read_slice(
            path,
            descriptor.classes,
            descriptor.n_classes,
            "the class list",
        )?
    };
    let mut classes = Vec::with_capacity(class_refs.len());
    for (index, class) in class_refs.iter().enumerate() {
        classes.push(unsafe { read_str(path, *class, &format!("class {index}"))? });
    }
    if !(2..=MAX_CLASSES).contains(&classes.len()) {
        return Err(plugin_error(
            path,
            format!(
                "it declares {} classes; give between 2 and {MAX_CLASSES}",
                classes.len()
            ),
        ));
    }
    let lfs = unsafe { read_slice(path, descriptor.lfs, descriptor.n_lfs, "the LF list")? };
    let mut infos = Vec::with_capacity(lfs.len());
    for (index, lf) in lfs.iter().enumerate() {
        let name = unsafe { read_str(path, lf.name, &format!("the name of LF {index}"))? };
        if name.trim().is_empty() {
            return Err(plugin_error(path, format!("LF {index} has an empty name")));
        }
        if infos.iter().any(|info: &LfInfo| info.name == name) {
            return Err(plugin_error(path, format!("it declares LF `{name}` twice")));
        }
        let specs = unsafe { read_slice(path, lf.columns, lf.n_columns, "a column list")? };
        let mut columns = Vec::with_capacity(specs.len());
        for spec in specs {
            let column =
                unsafe { read_str(path, spec.name, &format!("a column name of LF `{name}`"))? };
            let Some(column_type) = column_type(spec.dtype) else {
                return Err(plugin_error(
                    path,
                    format!(
                        "LF `{name}` reads column `{column}` with unknown type code {}",
                        spec.dtype
                    ),
                ));
            };
            columns.push((column, column_type));
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(library_hash.as_bytes());
        hasher.update(name.as_bytes());
        infos.push(LfInfo {
            name,
            origin: LfOrigin::Plugin {
                library: path.to_owned(),
                plugin: plugin_name.clone(),
                version: plugin_version.clone(),
            },
            columns,
            fingerprint: hasher.finalize().to_hex().to_string(),
        });
    }
    Ok((classes, infos))
}

/// One LF of a plugin.
struct PluginLf {
    _library: Arc<libloading::Library>,
    apply: ApplyFn,
    index: usize,
    name: String,
    inputs: Vec<(String, ColumnType)>,
    cardinality: i8,
}

// SAFETY: the plugin's LFs are `Send + Sync` (the SDK requires it) and the function pointer and
// library handle are shareable.
unsafe impl Send for PluginLf {}
// SAFETY: as above.
unsafe impl Sync for PluginLf {}

impl PluginLf {
    fn views(&self, chunk: &Chunk<'_>) -> Vec<ColumnView> {
        debug_assert_eq!(
            chunk.start % 8,
            0,
            "chunks start on a byte of the validity bitmap"
        );
        chunk
            .columns
            .iter()
            .map(|column| {
                let start = chunk.start;
                let validity = column
                    .validity()
                    .map_or(std::ptr::null(), |bits| bits[start / 8..].as_ptr());
                let (offsets, values): (*const i64, *const u8) = match column.values() {
                    Values::Text { offsets, bytes } => (offsets[start..].as_ptr(), bytes.as_ptr()),
                    Values::Float(values) => (std::ptr::null(), values[start..].as_ptr().cast()),
                    Values::Int(values) => (std::ptr::null(), values[start..].as_ptr().cast()),
                    Values::Bool(values) => (std::ptr::null(), values[start..].as_ptr()),
                };
                ColumnView {
                    dtype: type_code(column.column_type()),
                    validity,
                    offsets,
                    values,
                }
            })
            .collect()
    }
}

impl Evaluator for PluginLf {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        let views = self.views(chunk);
        let batch = AbiBatch {
            n_rows: chunk.len,
            first_row: chunk.first_row,
            columns: views.as_ptr(),
            n_columns: views.len(),
        };
        let mut votes = vec![-1i8; chunk.len];
        let mut error = Box::new(ErrorBuffer::new());
        // SAFETY: the batch views point into columns that outlive the call and have the
        // declared types (the read plan requested them so); `votes` holds `n_rows` bytes.
        let status = unsafe { (self.apply)(self.index, &batch, votes.as_mut_ptr(), &mut *error) };
        if status != abi::STATUS_OK {
            let row = if error.row == u64::MAX {
                chunk.first_row
            } else {
                error.row
            };
            let what = if status == abi::STATUS_PANIC {
                "panicked"
            } else {
                "refused the batch"
            };
            return Err(EvalError {
                lf: self.name.clone(),
                row,
                message: format!("{what}: {}", error.message()),
            });
        }
        for (row, vote) in votes.into_iter().enumerate() {
            if vote < -1 || vote >= self.cardinality {
                return Err(EvalError {
                    lf: self.name.clone(),
                    row: chunk.first_row + row as u64,
                    message: format!(
                        "voted {vote}, outside -1..{} (abstain or a class id)",
                        self.cardinality
                    ),
                });
            }
            if vote >= 0 {
                sink.set(row, 0, vote);
            }
        }
        Ok(())
    }
}
