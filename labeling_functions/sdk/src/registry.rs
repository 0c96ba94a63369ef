//! The plugin side of the ABI: builds the descriptor once and runs batches with panics caught.

use std::cell::{Cell, RefCell};
use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Once, OnceLock};

use crate::Plugin;
use crate::abi::{
    ABI_VERSION, ApplyFn, Batch, ColumnSpec, ColumnView, DESCRIPTOR_MAGIC, ErrorBuffer,
    LfDescriptor, PluginDescriptor, STATUS_INVALID, STATUS_OK, STATUS_PANIC, StrRef,
};
use crate::row::Row;

/// The built plugin and the C structures that point into it.
struct Registered {
    plugin: Plugin,
    // These own the arrays the descriptor points to; they are never mutated after building.
    _classes: Vec<StrRef>,
    _columns: Vec<Vec<ColumnSpec>>,
    _lfs: Vec<LfDescriptor>,
    descriptor: PluginDescriptor,
}

// SAFETY: the raw pointers in `Registered` point into data it owns and never mutates, so
// sharing it across threads is as safe as sharing `&Plugin` (whose LFs are `Send + Sync`).
unsafe impl Send for Registered {}
// SAFETY: as above.
unsafe impl Sync for Registered {}

/// Holds one plugin per library. Used through [`crate::export_plugin!`] only.
pub struct Registry {
    cell: OnceLock<Result<Registered, String>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// Where the quiet panic hook leaves the location of the last panic on this thread.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replace this library's panic hook (the plugin has its own copy of std, so the host's hook is
/// untouched) by one that records the location instead of printing: the host reports panics.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|at| format!("{}:{}", at.file(), at.line()));
            PANIC_LOCATION.with(|cell| *cell.borrow_mut() = location);
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    };
    match PANIC_LOCATION.with(|cell| cell.borrow_mut().take()) {
        Some(location) => format!("{text} (at {location})"),
        None => text,
    }
}

fn str_ref(text: &str) -> StrRef {
    StrRef {
        ptr: text.as_ptr(),
        len: text.len(),
    }
}

fn register(plugin: Plugin, apply: ApplyFn) -> Registered {
    let classes: Vec<StrRef> = plugin.classes.iter().map(|class| str_ref(class)).collect();
    let columns: Vec<Vec<ColumnSpec>> = plugin
        .lfs
        .iter()
        .map(|lf| {
            lf.columns
                .iter()
                .map(|(name, dtype)| ColumnSpec {
                    name: str_ref(name),
                    dtype: dtype.code(),
                })
                .collect()
        })
        .collect();
    let lfs: Vec<LfDescriptor> = plugin
        .lfs
        .iter()
        .zip(&columns)
        .map(|(lf, specs)| LfDescriptor {
            name: str_ref(&lf.name),
            columns: specs.as_ptr(),
            n_columns: specs.len(),
        })
        .collect();
    let descriptor = PluginDescriptor {
        magic: DESCRIPTOR_MAGIC,
        abi_version: ABI_VERSION,
        name: str_ref(&plugin.name),
        version: str_ref(&plugin.version),
        classes: classes.as_ptr(),
        n_classes: classes.len(),
        lfs: lfs.as_ptr(),
        n_lfs: lfs.len(),
        apply,
    };
    Registered {
        plugin,
        _classes: classes,
        _columns: columns,
        _lfs: lfs,
        descriptor,
    }
}

impl Registry {
    /// An empty registry, for a `static`.
    pub const fn new() -> Registry {
        Registry {
            cell: OnceLock::new(),
        }
    }

    /// Build the plugin on first use and return its descriptor, or null with `error` filled.
    ///
    /// # Safety
    /// `error` must be null or point to a writable [`ErrorBuffer`].
    pub unsafe fn descriptor(
        &self,
        build: fn() -> Plugin,
        apply: ApplyFn,
        error: *mut ErrorBuffer,
    ) -> *const PluginDescriptor {
        install_quiet_hook();
        let registered = self.cell.get_or_init(|| {
            catch_unwind(build)
                .map(|plugin| register(plugin, apply))
                .map_err(|payload| {
                    format!("building the plugin panicked: {}", panic_message(&*payload))
                })
        });
        match registered {
            Ok(registered) => &registered.descriptor,
            Err(message) => {
                // SAFETY: caller guarantees `error` is null or writable.
                if let Some(error) = unsafe { error.as_mut() } {
                    error.set(u64::MAX, message);
                }
                std::ptr::null()
            }
        }
    }

    /// Run LF `lf_index` over `batch`, writing one vote per row.
    ///
    /// # Safety
    /// `batch`, `votes` and `error` must follow the ABI contract in [`crate::abi`].
    pub unsafe fn apply(
        &self,
        lf_index: usize,
        batch: *const Batch,
        votes: *mut i8,
        error: *mut ErrorBuffer,
    ) -> c_int {
        // SAFETY: the host passes a writable error buffer.
        let error = unsafe { &mut *error };
        let Some(Ok(registered)) = self.cell.get() else {
            error.set(
                u64::MAX,
                "the plugin was called before its descriptor was built",
            );
            return STATUS_INVALID;
        };
        let Some(lf) = registered.plugin.lfs.get(lf_index) else {
            error.set(
                u64::MAX,
                &format!("the plugin has no LF with index {lf_index}"),
            );
            return STATUS_INVALID;
        };
        // SAFETY: the host passes a valid batch.
        let batch = unsafe { &*batch };
        if batch.n_columns != lf.columns.len() {
            let message = format!(
                "LF `{}` declares {} columns but was passed {}",
                lf.name,
                lf.columns.len(),
                batch.n_columns
            );
            error.set(u64::MAX, &message);
            return STATUS_INVALID;
        }
        let columns: &[ColumnView] = if batch.n_columns == 0 {
            &[]
        } else {
            // SAFETY: `n_columns` views (ABI contract).
            unsafe { std::slice::from_raw_parts(batch.columns, batch.n_columns) }
        };
        if let Some(((name, dtype), _)) = lf
            .columns
            .iter()
            .zip(columns)
            .find(|((_, dtype), view)| dtype.code() != view.dtype)
        {
            let message = format!(
                "column `{name}` of LF `{}` was not passed as {}",
                lf.name,
                dtype.name()
            );
            error.set(u64::MAX, &message);
            return STATUS_INVALID;
        }
        let votes: &mut [i8] = if batch.n_rows == 0 {
            &mut []
        } else {
            // SAFETY: `n_rows` writable votes (ABI contract).
            unsafe { std::slice::from_raw_parts_mut(votes, batch.n_rows) }
        };
        let current = Cell::new(0usize);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for (index, vote) in votes.iter_mut().enumerate() {
                current.set(index);
                let row = Row {
                    columns,
                    specs: &lf.columns,
                    index,
                    row_number: batch.first_row + index as u64,
                };
                *vote = match (lf.function)(&row) {
                    Some(class) => class.id() as i8,
                    None => -1,
                };
            }
        }));
        match outcome {
            Ok(()) => STATUS_OK,
            Err(payload) => {
                let row = batch.first_row + current.get() as u64;
                error.set(row, &panic_message(&*payload));
                STATUS_PANIC
            }
        }
    }
}
