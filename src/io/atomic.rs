//! Output files written in full or not at all: a temporary file in the target's folder, renamed
//! over the target when complete. An interrupted or failed write leaves no partial file.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Errors writing an output file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The extension names no format labelgen writes.
    #[error("cannot tell the output format of `{path}` from its extension; use {expected}")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The extensions accepted.
        expected: &'static str,
    },
    /// The file could not be created or written.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
}

/// A file being written next to its final path.
pub struct AtomicFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl AtomicFile {
    /// Start writing `path`: fails at once when its folder is missing or not writable.
    pub fn create(path: &Path) -> Result<Self, OutputError> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if path.is_dir() {
            return Err(OutputError::Write {
                path: path.to_owned(),
                message: "it is a directory".to_owned(),
            });
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".labelgen-").suffix(".partial");
        // Temporary files are private (0600) by default; the output should get the usual
        // permissions, as `File::create` gives: 0666 less the user's umask.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(folder)
            .map_err(|error| OutputError::Write {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        Ok(AtomicFile {
            path: path.to_owned(),
            temp,
        })
    }

    /// The file to write into.
    pub fn writer(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// An error about this file.
    pub fn error(&self, cause: impl std::fmt::Display) -> OutputError {
        OutputError::Write {
            path: self.path.clone(),
            message: cause.to_string(),
        }
    }

    /// Flush to disk and move the file into place.
    pub fn commit(self) -> Result<(), OutputError> {
        self.temp
            .as_file()
            .sync_all()
            .map_err(|error| self.error(error))?;
        let path = self.path.clone();
        self.temp
            .persist(&path)
            .map(|_| ())
            .map_err(|error| OutputError::Write {
                path,
                message: error.error.to_string(),
            })
    }
}
