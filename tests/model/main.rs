//! Label-model tests on synthetic data with known parameters.

mod properties;
mod recovery;
mod snorkel_reference;
mod synthetic;
