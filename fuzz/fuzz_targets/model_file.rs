//! The model-file loader: never a panic, and a model it accepts labels any matrix of its LFs
//! with probabilities that are finite and sum to 1 (so a damaged file cannot give NaN labels),
//! also with its class balance replaced.
//! The body is `labelgen_fuzz::model_file::run` (fuzz/src/targets/model_file.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::model_file::run(data));
