//! The project-file parser: never a panic; a project it accepts has a known label model and
//! at least one LF source.
//! The body is `labelgen_fuzz::project_file::run` (fuzz/src/targets/project_file.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::project_file::run(data));
