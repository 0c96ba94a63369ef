//! The fuzz targets' bodies, one module each (`run(data)`), and the helpers they share. The
//! `fuzz_targets/` binaries call them under libFuzzer (scripts/fuzz); the main test suite
//! includes this file and replays every target on its seeds and regression inputs
//! (tests/fuzz_replay), so CI runs the targets' code without a second, instrumented build of
//! polars.

#[path = "targets/csv_reader.rs"]
pub mod csv_reader;
#[path = "targets/lf_file.rs"]
pub mod lf_file;
#[path = "targets/model_file.rs"]
pub mod model_file;
#[path = "targets/ndjson_reader.rs"]
pub mod ndjson_reader;
#[path = "targets/plugin_descriptor.rs"]
pub mod plugin_descriptor;
#[path = "targets/project_file.rs"]
pub mod project_file;
#[path = "targets/stats_file.rs"]
pub mod stats_file;
#[path = "targets/wrench_reader.rs"]
pub mod wrench_reader;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use labelgen::io::open::{column_names, open_table};
use labelgen::io::source::TableFormat;
use labelgen::io::table::{Column, ColumnRequest};

/// `bytes` written to the file `name` in this process's scratch folder (under
/// `$LABELGEN_FUZZ_SCRATCH`, which scripts/fuzz sets and removes, else the temporary folder);
/// the readers under test take paths.
pub fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    let folder = FOLDER.get_or_init(|| {
        let base = std::env::var_os("LABELGEN_FUZZ_SCRATCH")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let folder = base.join(format!("labelgen-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("scratch folder");
        folder
    });
    let path = folder.join(name);
    std::fs::write(&path, bytes).expect("scratch file");
    path
}

/// A table as read: its column names and its rows of cells (`None`: null).
pub type Table = (Vec<String>, Vec<Vec<Option<String>>>);

/// A cell as text: text as is, numbers and booleans printed, null as `None`.
pub fn cell(column: &Column, row: usize) -> Option<String> {
    if !column.is_valid(row) {
        return None;
    }
    Some(match column.values() {
        labelgen::io::table::Values::Text { .. } => column.text(row)?.to_owned(),
        labelgen::io::table::Values::Float(values) => values[row].to_string(),
        labelgen::io::table::Values::Int(values) => values[row].to_string(),
        labelgen::io::table::Values::Bool(values) => (values[row] != 0).to_string(),
    })
}

/// Every column of the table at `path`, each in its own type, read `batch_rows` rows a batch
/// as `apply` reads it: the column names and the rows, or the error.
pub fn read_table(path: &Path, batch_rows: usize) -> Result<Table, String> {
    let names = column_names(path).map_err(|error| error.to_string())?;
    let requests = ColumnRequest::own_types(&names);
    let format = TableFormat::from_path(path).map_err(|error| error.to_string())?;
    let mut source = open_table(path, format, &requests, &|_| String::new(), batch_rows)
        .map_err(|error| error.to_string())?;
    let mut rows = Vec::new();
    let mut next_row = 0;
    while let Some(read) = source.next_batch().map_err(|error| error.to_string())? {
        for part in read.parts {
            assert_eq!(part.first_row, next_row, "batches in order, none skipped");
            next_row += part.n_rows as u64;
            assert!(
                part.columns
                    .iter()
                    .all(|column| column.len() == part.n_rows)
            );
            for row in 0..part.n_rows {
                rows.push(
                    part.columns
                        .iter()
                        .map(|column| cell(column, row))
                        .collect(),
                );
            }
        }
    }
    let hash = source.content_hash().map_err(|error| error.to_string())?;
    let bytes = std::fs::read(path).expect("readable");
    assert_eq!(hash, blake3::hash(&bytes), "the content hash is the file's");
    Ok((names, rows))
}
