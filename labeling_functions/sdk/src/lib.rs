//! Write labelgen labeling functions (LFs) as a small Rust plugin.
//!
//! A plugin is a `cdylib` crate that depends only on this crate. Its author writes plain safe
//! Rust: one function per LF, from a [`Row`] to `Option<Class>` (`None` abstains), a builder that
//! lists them, and one [`export_plugin!`] line. `cargo build --release` produces a shared library
//! that `labelgen apply --plugin target/release/libNAME.so` loads at run time; editing an LF never
//! rebuilds labelgen.
//!
//! ```
//! use labelgen_sdk::{Class, ColumnType, Plugin, Row};
//!
//! const HAM: Class = Class::new(0);
//! const SPAM: Class = Class::new(1);
//!
//! /// Votes SPAM when the comment asks people to subscribe.
//! fn keyword_subscribe(row: &Row) -> Option<Class> {
//!     let text = row.text("text")?;
//!     text.to_lowercase().contains("subscribe").then_some(SPAM)
//! }
//!
//! /// Votes HAM on very short comments.
//! fn short_comment(row: &Row) -> Option<Class> {
//!     (row.text("text")?.split_whitespace().count() < 5).then_some(HAM)
//! }
//!
//! fn plugin() -> Plugin {
//!     Plugin::new("my_spam_lfs", env!("CARGO_PKG_VERSION"), &["HAM", "SPAM"])
//!         .lf("keyword_subscribe", &[("text", ColumnType::Text)], keyword_subscribe)
//!         .lf("short_comment", &[("text", ColumnType::Text)], short_comment)
//! }
//!
//! labelgen_sdk::export_plugin!(plugin);
//! # fn main() {}
//! ```
//!
//! Read-only resources (a word list, a lookup table) are loaded once: build them in the `plugin`
//! function and move them into closures passed to [`Plugin::lf`], or keep them in a
//! `std::sync::LazyLock`. LFs run on several threads at once, so they must be `Send + Sync`.
//!
//! A panic inside an LF is caught in the plugin and reported by labelgen with the LF's name and
//! the row; it never crosses into the host. Build plugins with the default `panic = "unwind"`.
//!
//! Test LFs on a few rows with `cargo test` in the plugin crate: see [`testing`]. The [`text`]
//! module has the helpers labelgen's declarative LFs use (Python's `in text.lower()` and
//! `len(text.split())`), so a plugin can agree with a TOML file exactly. The walk-through is
//! `docs/plugins.md` in labelgen's repository.
#![deny(missing_docs)]

pub mod abi;
mod registry;
mod row;
pub mod testing;
pub mod text;

pub use row::Row;

/// The class an LF votes for: an id in `0..k`, where the plugin's class list has `k` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Class(u8);

impl Class {
    /// The class with id `id`. Ids above 126 are refused (at compile time in a `const`).
    pub const fn new(id: u8) -> Class {
        assert!(id <= 126, "class ids must be at most 126");
        Class(id)
    }

    /// The class id.
    pub const fn id(self) -> u8 {
        self.0
    }
}

/// The type of a column an LF reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// UTF-8 text: read it with [`Row::text`].
    Text,
    /// A number, as `f64` (integer columns are converted): read it with [`Row::float`].
    Float,
    /// A 64-bit integer: read it with [`Row::int`].
    Int,
    /// A boolean: read it with [`Row::bool`].
    Bool,
}

impl ColumnType {
    pub(crate) fn code(self) -> u32 {
        match self {
            ColumnType::Text => abi::DTYPE_TEXT,
            ColumnType::Float => abi::DTYPE_FLOAT,
            ColumnType::Int => abi::DTYPE_INT,
            ColumnType::Bool => abi::DTYPE_BOOL,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Float => "float",
            ColumnType::Int => "int",
            ColumnType::Bool => "bool",
        }
    }
}

type LfFunction = Box<dyn Fn(&Row<'_>) -> Option<Class> + Send + Sync>;

pub(crate) struct LabelingFunction {
    pub(crate) name: String,
    pub(crate) columns: Vec<(String, ColumnType)>,
    pub(crate) function: LfFunction,
}

/// A plugin under construction: its name, version, classes and labeling functions.
pub struct Plugin {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) classes: Vec<String>,
    pub(crate) lfs: Vec<LabelingFunction>,
}

impl Plugin {
    /// A plugin with no LFs yet. `classes` names the classes in id order; every LF source used
    /// in one labelgen run must declare the same classes.
    pub fn new(name: &str, version: &str, classes: &[&str]) -> Plugin {
        Plugin {
            name: name.to_owned(),
            version: version.to_owned(),
            classes: classes.iter().map(|class| (*class).to_owned()).collect(),
            lfs: Vec::new(),
        }
    }

    /// Add the LF `name`, reading `columns` (name and type, in the order the host passes them),
    /// computed by `function` for one row at a time. The output column of the label matrix is
    /// called `name`.
    pub fn lf<F>(mut self, name: &str, columns: &[(&str, ColumnType)], function: F) -> Plugin
    where
        F: Fn(&Row<'_>) -> Option<Class> + Send + Sync + 'static,
    {
        self.lfs.push(LabelingFunction {
            name: name.to_owned(),
            columns: columns
                .iter()
                .map(|(column, dtype)| ((*column).to_owned(), *dtype))
                .collect(),
            function: Box::new(function),
        });
        self
    }
}

/// Export a plugin: pass the path of a function `fn() -> Plugin`. Use it once per crate.
///
/// It defines the two `extern "C"` symbols labelgen looks for. The function runs once, the
/// first time labelgen loads the library.
#[macro_export]
macro_rules! export_plugin {
    ($build:path) => {
        static __LABELGEN_REGISTRY: $crate::__private::Registry =
            $crate::__private::Registry::new();

        /// The ABI version of this plugin; labelgen checks it before anything else.
        #[unsafe(no_mangle)]
        pub extern "C" fn labelgen_plugin_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        /// The plugin's descriptor, built on the first call.
        ///
        /// # Safety
        /// `error` must be null or point to a writable `ErrorBuffer`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn labelgen_plugin_descriptor(
            error: *mut $crate::abi::ErrorBuffer,
        ) -> *const $crate::abi::PluginDescriptor {
            // SAFETY: forwarded contract of this function.
            unsafe { __LABELGEN_REGISTRY.descriptor($build, __labelgen_apply, error) }
        }

        unsafe extern "C" fn __labelgen_apply(
            lf_index: usize,
            batch: *const $crate::abi::Batch,
            votes: *mut i8,
            error: *mut $crate::abi::ErrorBuffer,
        ) -> ::std::os::raw::c_int {
            // SAFETY: the host passes pointers that follow the ABI contract.
            unsafe { __LABELGEN_REGISTRY.apply(lf_index, batch, votes, error) }
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::Registry;
}
