//! Tables in (CSV, TSV, Parquet, NDJSON, WRENCH JSON) and label matrices out.

pub mod atomic;
mod csv;
mod json;
pub mod matrix_file;
mod parquet;
pub mod source;
pub mod table;
pub mod wrench;
