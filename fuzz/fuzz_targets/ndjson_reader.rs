//! The NDJSON reader: never a panic; what it reads is what serde_json reads line by line (one
//! row per non-blank line, text cells equal); and a file of objects whose values are all
//! strings or null is always read. The first byte picks the batch size.
//! The body is `labelgen_fuzz::ndjson_reader::run` (fuzz/src/targets/ndjson_reader.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::ndjson_reader::run(data));
