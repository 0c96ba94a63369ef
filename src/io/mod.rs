//! Tables in (CSV, TSV, Parquet, NDJSON, WRENCH JSON) and label matrices out.

pub mod arrow;
pub mod atomic;
mod csv;
pub mod gold;
mod json;
pub mod labels_file;
pub mod matrix_file;
pub mod matrix_read;
pub mod open;
pub mod paired;
mod parquet;
pub mod source;
/// The in-memory columns (moved to [`crate::table`], below `io`; here for old paths).
pub use crate::table;
pub mod wrench;
