//! Label-model tests on synthetic data with known parameters.

mod recovery;
mod snorkel_reference;
