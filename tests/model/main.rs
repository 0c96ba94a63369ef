//! Label-model tests on synthetic data with known parameters.

mod class_balance;
mod hyper_reference;
mod properties;
mod recovery;
mod regimes;
mod snorkel_reference;
mod synthetic;
