//! Integration tests: the `labelgen` binary run in temporary directories.

mod analyze;
mod apply;
mod apply_errors;
mod common;
mod endmodel;
mod faults;
mod hostile;
mod lf_language;
mod model;
mod pipeline;
mod text_outputs;
