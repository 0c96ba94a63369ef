//! The parallel CSV reader against the `csv` crate's sequential reader: the same header and
//! records, or both an error. labelgen is stricter in three ways, so the oracle refuses those
//! inputs too: a quoted field the file never closes (the csv crate closes it at the end of
//! the file), a column named twice (ambiguous to read), and text that is not UTF-8. The first
//! byte picks the delimiter and the batch size (under `cfg(fuzzing)` tiny blocks and pieces,
//! so small inputs cross them as large files do).
//! The body is `labelgen_fuzz::csv_reader::run` (fuzz/src/targets/csv_reader.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::csv_reader::run(data));
