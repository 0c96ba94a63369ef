//! The `.stats` reader: never a panic; accepted statistics round-trip, merge, and fit.
//! The body is `labelgen_fuzz::stats_file::run` (fuzz/src/targets/stats_file.rs), which the test
//! suite also replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::stats_file::run(data));
