//! Building plugin crates: `cargo build --release` when their sources changed, and finding
//! the library cargo made.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Errors building a plugin crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The crate folder cannot be read.
    #[error("plugin crate `{path}`: {message}")]
    Crate {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// cargo is not installed.
    #[error(
        "building plugin crate `{path}` needs cargo, which was not found: install Rust (https://rustup.rs) or put cargo on PATH"
    )]
    NoCargo {
        /// The crate.
        path: PathBuf,
    },
    /// The build failed.
    #[error("`cargo build --release` failed for plugin crate `{path}`:\n{output}")]
    Failed {
        /// The crate.
        path: PathBuf,
        /// The end of cargo's error output.
        output: String,
    },
}

/// Hashes of a plugin crate's sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceHashes {
    /// Over every file.
    pub all: String,
    /// Over every file but `Cargo.lock`, which cargo itself writes or updates when it builds.
    pub without_lock: String,
}

/// BLAKE3 (hex) over the crate's files (relative paths and contents, in path order), leaving
/// out `target/` and hidden folders; with and without `Cargo.lock`.
pub fn source_hash(dir: &Path) -> Result<SourceHashes, BuildError> {
    let crate_error = |message: String| BuildError::Crate {
        path: dir.to_owned(),
        message,
    };
    if !dir.join("Cargo.toml").is_file() {
        return Err(crate_error(
            "no Cargo.toml there: [lfs] plugins lists crate folders".to_owned(),
        ));
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let items = std::fs::read_dir(&folder).map_err(|error| crate_error(error.to_string()))?;
        for item in items {
            let item = item.map_err(|error| crate_error(error.to_string()))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let path = item.path();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    pending.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut all, mut without_lock) = (blake3::Hasher::new(), blake3::Hasher::new());
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let bytes = std::fs::read(&file).map_err(|error| crate_error(error.to_string()))?;
        let hashers = if relative == Path::new("Cargo.lock") {
            vec![&mut all]
        } else {
            vec![&mut all, &mut without_lock]
        };
        for hasher in hashers {
            hasher
                .update(relative.to_string_lossy().as_bytes())
                .update(b"\0")
                .update(&(bytes.len() as u64).to_le_bytes())
                .update(&bytes);
        }
    }
    Ok(SourceHashes {
        all: all.finalize().to_hex().to_string(),
        without_lock: without_lock.finalize().to_hex().to_string(),
    })
}

/// Build the crate in `dir` (release, into `target_dir`) and return the path of its `cdylib`.
pub fn build(dir: &Path, target_dir: &Path) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => BuildError::NoCargo {
                path: dir.to_owned(),
            },
            _ => BuildError::Failed {
                path: dir.to_owned(),
                output: error.to_string(),
            },
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(60).collect();
        return Err(BuildError::Failed {
            path: dir.to_owned(),
            output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    let manifest =
        std::fs::canonicalize(dir.join("Cargo.toml")).unwrap_or_else(|_| dir.join("Cargo.toml"));
    let mut library = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_artifact = message["reason"] == "compiler-artifact";
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|kind| kind == "cdylib"));
        let ours = message["manifest_path"]
            .as_str()
            .is_some_and(|path| Path::new(path) == manifest);
        if is_artifact && is_cdylib && ours {
            library = message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str())
                .find(|name| {
                    [".so", ".dylib", ".dll"]
                        .iter()
                        .any(|ext| name.ends_with(ext))
                })
                .map(PathBuf::from);
        }
    }
    library.ok_or_else(|| BuildError::Crate {
        path: dir.to_owned(),
        message: "cargo built no cdylib: set `crate-type = [\"cdylib\"]` under [lib]".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash over every file changes with `Cargo.lock`, the other one only with the rest.
    #[test]
    fn the_lock_file_is_hashed_apart() {
        let folder = tempfile::tempdir().unwrap();
        let path = |name: &str| folder.path().join(name);
        std::fs::write(path("Cargo.toml"), "[package]\nname = \"p\"\n").unwrap();
        std::fs::create_dir(path("src")).unwrap();
        std::fs::write(path("src/lib.rs"), "// LFs\n").unwrap();
        let before = source_hash(folder.path()).unwrap();
        std::fs::write(path("Cargo.lock"), "version = 4\n").unwrap();
        let locked = source_hash(folder.path()).unwrap();
        assert_ne!(locked.all, before.all);
        assert_eq!(locked.without_lock, before.without_lock);
        std::fs::write(path("src/lib.rs"), "// LFs, edited\n").unwrap();
        let edited = source_hash(folder.path()).unwrap();
        assert_ne!(edited.without_lock, locked.without_lock);
        // `target/` and hidden folders are left out.
        std::fs::create_dir_all(path("target/release")).unwrap();
        std::fs::write(path("target/release/libp.so"), "binary").unwrap();
        assert_eq!(source_hash(folder.path()).unwrap(), edited);
    }
}
