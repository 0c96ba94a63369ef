//! A WRENCH split, read as a table (what `apply` reads) and as a label matrix (what `fit`,
//! `label`, `score` and `analyze` read): never a panic; a matrix read has votes in range and
//! gold labels in range, one per row.
//! The body is `labelgen_fuzz::wrench_reader::run` (fuzz/src/targets/wrench_reader.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::wrench_reader::run(data));
