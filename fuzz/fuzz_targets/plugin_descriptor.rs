//! The checks of a plugin's descriptor, on descriptors built in memory from the input (no
//! library is loaded): never a panic; a descriptor accepted declares 2 to 127 classes and LFs
//! with unique, non-empty names and known column types. Pointers are valid or null, as the ABI
//! contract has them; lengths are the real ones. The host's reading of a plugin's error
//! message (any length, any bytes) is checked too.
//! The body is `labelgen_fuzz::plugin_descriptor::run` (fuzz/src/targets/plugin_descriptor.rs), which the test suite also
//! replays on the seeds and regressions (tests/fuzz_replay).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labelgen_fuzz::plugin_descriptor::run(data));
