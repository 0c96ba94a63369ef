//! Label-model tests on synthetic data with known parameters.

mod recovery;
