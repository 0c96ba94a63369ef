//! Label-model tests on synthetic data with known parameters.

mod class_balance;
mod properties;
mod recovery;
mod snorkel_reference;
mod synthetic;
