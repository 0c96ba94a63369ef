//! labelgen: weak supervision at the speed of the machine.
//!
//! Users write labeling functions (LFs): heuristics that vote a class or abstain (`-1`). labelgen
//! loads them from declarative TOML files and from Rust plugins ([`lf`]), applies them in
//! parallel over the rows of a CSV, Parquet, NDJSON or WRENCH file ([`apply`]) into a
//! [`LabelMatrix`] of `n x m` `i8` votes, and writes it as Parquet or CSV with metadata that says
//! what produced it ([`io::matrix_file`]). Every step is a plain function of its inputs: outputs
//! are byte-identical whatever the thread count.
//!
//! ```
//! use labelgen::apply::{ApplyOptions, NoProgress, apply};
//! use labelgen::lf::{LfSet, LfSource};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let folder = tempfile::tempdir()?;
//! let lfs = folder.path().join("spam.toml");
//! std::fs::write(&lfs, r#"
//!     classes = ["HAM", "SPAM"]
//!     [[lf]]
//!     name = "keyword_subscribe"
//!     kind = "keyword"
//!     column = "text"
//!     keywords = ["subscribe"]
//!     label = "SPAM"
//! "#)?;
//! let data = folder.path().join("comments.csv");
//! std::fs::write(&data, "text\nPlease SUBSCRIBE to me\nnice song\n")?;
//!
//! let set = LfSet::load(&[LfSource::Declarative(lfs)])?;
//! let matrix = apply(&set, &data, &ApplyOptions::default(), &NoProgress)?;
//! assert_eq!(matrix.lf_names(), ["keyword_subscribe"]);
//! assert_eq!(matrix.votes().column(0).to_vec(), [1, -1]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod apply;
pub mod endmodel;
pub mod hard_labels;
pub mod io;
pub mod labels;
pub mod lf;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod patterns;
pub mod pipeline;
pub mod provenance;
pub mod report;
pub mod statistics;
pub mod table;
#[cfg(test)]
mod test_support;

pub use apply::{ApplyOptions, apply};
pub use lf::{LfSet, LfSource};
pub use matrix::LabelMatrix;
