//! The LF-file parser and compiler, through the public API (`LfSet::load`): never a panic; an
//! LF set it accepts applies to a batch of every column type it reads (values drawn from the
//! input) with votes in range. Inputs that could name a list file (`file`, or an escape that
//! could spell it) are skipped, so the target never reads outside its scratch folder.
//!
//! Found: an empty lookup value matched as a token panicked (now refused when the file is read;
//! tests/cli/apply_errors.rs, `an_empty_lookup_value_matched_as_a_token`).
//! The body is `labelgen_fuzz::lf_file::run` (fuzz/src/targets/lf_file.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::lf_file::run(data));
