//! The C ABI between labelgen (the host) and a plugin.
//!
//! Plugin authors never touch this module: [`crate::export_plugin!`] generates the exported
//! symbols and the SDK's shims fill these structures. It is public because the host reads it.
//!
//! # Contract (ABI version 1)
//! - The plugin exports `labelgen_plugin_abi_version() -> u32`, whose signature never changes, and
//!   `labelgen_plugin_descriptor(error: *mut ErrorBuffer) -> *const PluginDescriptor`. The host
//!   calls the first, refuses any version but its own, then calls the second once. The descriptor
//!   and everything it points to live as long as the library stays loaded.
//! - A batch crosses as column views in the Arrow layout: UTF-8 text as `len + 1` `i64` offsets
//!   into one byte buffer; `f64` and `i64` values; booleans as one byte per value (0 or 1). Each
//!   column has an optional validity bitmap (bit `i` of byte `i / 8`, least significant bit
//!   first; a null pointer means every value is present). Buffers belong to the host; the plugin
//!   only reads them during the call. The host guarantees text is valid UTF-8.
//! - Votes come back in a host-owned `i8` buffer of `n_rows` values: `-1` abstains, `0..k` is a
//!   class id. The host checks the range.
//! - A panic never unwinds across the boundary: the shim catches it, writes the message and the
//!   row into the host's [`ErrorBuffer`], and returns [`STATUS_PANIC`].

use std::os::raw::c_int;

/// The ABI version this SDK speaks. The host refuses plugins built for another one.
pub const ABI_VERSION: u32 = 1;

/// First field of every descriptor: the bytes `LABELGEN` as a little-endian `u64`.
pub const DESCRIPTOR_MAGIC: u64 = u64::from_le_bytes(*b"LABELGEN");

/// Name of the exported symbol that returns the ABI version.
pub const ABI_VERSION_SYMBOL: &str = "labelgen_plugin_abi_version";

/// Name of the exported symbol that returns the descriptor.
pub const DESCRIPTOR_SYMBOL: &str = "labelgen_plugin_descriptor";

/// The call succeeded.
pub const STATUS_OK: c_int = 0;
/// The labeling function panicked; the error buffer says where and why.
pub const STATUS_PANIC: c_int = 1;
/// The call was malformed (unknown LF index, wrong column count or type); see the error buffer.
pub const STATUS_INVALID: c_int = 2;

/// Column type code: UTF-8 text.
pub const DTYPE_TEXT: u32 = 1;
/// Column type code: 64-bit float (the host casts integer columns to it).
pub const DTYPE_FLOAT: u32 = 2;
/// Column type code: 64-bit signed integer.
pub const DTYPE_INT: u32 = 3;
/// Column type code: boolean, one byte per value.
pub const DTYPE_BOOL: u32 = 4;

/// Capacity of the message in an [`ErrorBuffer`]; longer messages are cut at a char boundary.
pub const ERROR_MESSAGE_CAPACITY: usize = 1024;

/// A borrowed UTF-8 string: pointer and length in bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StrRef {
    /// First byte.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

/// One column a labeling function reads, as declared by the plugin.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ColumnSpec {
    /// Column name, as the LF knows it (the host may map it to another data column).
    pub name: StrRef,
    /// One of the `DTYPE_*` codes.
    pub dtype: u32,
}

/// One labeling function of a plugin.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LfDescriptor {
    /// LF name, unique across every LF source of a run.
    pub name: StrRef,
    /// The columns it reads, in the order the host passes them.
    pub columns: *const ColumnSpec,
    /// Number of columns.
    pub n_columns: usize,
}

/// Signature of the batch function: apply LF `lf_index` to `batch`, writing `batch.n_rows`
/// votes into `votes`.
pub type ApplyFn = unsafe extern "C" fn(
    lf_index: usize,
    batch: *const Batch,
    votes: *mut i8,
    error: *mut ErrorBuffer,
) -> c_int;

/// Everything the host learns about a plugin.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDescriptor {
    /// Always [`DESCRIPTOR_MAGIC`].
    pub magic: u64,
    /// Always [`ABI_VERSION`] for this layout.
    pub abi_version: u32,
    /// Plugin name.
    pub name: StrRef,
    /// Plugin version (the crate's version).
    pub version: StrRef,
    /// Class names; class id `i` is `classes[i]`.
    pub classes: *const StrRef,
    /// Number of classes (the cardinality).
    pub n_classes: usize,
    /// The labeling functions.
    pub lfs: *const LfDescriptor,
    /// Number of labeling functions.
    pub n_lfs: usize,
    /// The batch function shared by all LFs of the plugin.
    pub apply: ApplyFn,
}

/// A view of one column of a batch.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ColumnView {
    /// One of the `DTYPE_*` codes.
    pub dtype: u32,
    /// Validity bitmap, or null when every value is present.
    pub validity: *const u8,
    /// Text only: `n_rows + 1` offsets into `values`; null for other types.
    pub offsets: *const i64,
    /// The values: text bytes, `f64`, `i64` or one byte per boolean.
    pub values: *const u8,
}

/// A batch of rows handed to a labeling function: its declared columns, in declared order.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// Number of rows.
    pub n_rows: usize,
    /// Index of the batch's first row in the whole input, for error messages.
    pub first_row: u64,
    /// Column views, one per declared column.
    pub columns: *const ColumnView,
    /// Number of column views.
    pub n_columns: usize,
}

/// Where a plugin reports an error: owned by the host, filled by the plugin.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct ErrorBuffer {
    /// Row (in the whole input) where the error happened, or `u64::MAX` when not row-specific.
    pub row: u64,
    /// Length of the message in `message`.
    pub message_len: usize,
    /// UTF-8 message bytes.
    pub message: [u8; ERROR_MESSAGE_CAPACITY],
}

impl ErrorBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        ErrorBuffer {
            row: u64::MAX,
            message_len: 0,
            message: [0; ERROR_MESSAGE_CAPACITY],
        }
    }

    /// Store `message` (cut to capacity at a char boundary) and `row`.
    pub fn set(&mut self, row: u64, message: &str) {
        let mut end = message.len().min(ERROR_MESSAGE_CAPACITY);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.message[..end].copy_from_slice(&message.as_bytes()[..end]);
        self.message_len = end;
        self.row = row;
    }

    /// The stored message.
    pub fn message(&self) -> &str {
        let len = self.message_len.min(ERROR_MESSAGE_CAPACITY);
        match std::str::from_utf8(&self.message[..len]) {
            Ok(text) => text,
            Err(error) => {
                // The plugin wrote a cut or broken message: keep its valid prefix.
                std::str::from_utf8(&self.message[..error.valid_up_to()]).unwrap_or_default()
            }
        }
    }
}

impl Default for ErrorBuffer {
    fn default() -> Self {
        Self::new()
    }
}
