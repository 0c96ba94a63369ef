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
    /// An output path names a file the same command reads.
    #[error(
        "`{path}` is also an input of this command (`{input}`); writing it would replace that \
         input: choose another output path"
    )]
    IsInput {
        /// The output.
        path: PathBuf,
        /// The input it resolves to, as given.
        input: PathBuf,
    },
    /// Two outputs of one command name the same file.
    #[error("`{path}` is given as two outputs (`{other}` too); give each output its own path")]
    SameOutput {
        /// The output.
        path: PathBuf,
        /// The other output naming the same file.
        other: PathBuf,
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

/// Temporary outputs are named `.labelgen-<pid>-<random>.partial`.
const PARTIAL_PREFIX: &str = ".labelgen-";
const PARTIAL_SUFFIX: &str = ".partial";

/// Remove the temporary outputs in `folder` that a killed labelgen left behind: those whose
/// process is gone and whose file no process holds locked. Another live process's are kept,
/// and so is anything that cannot be told apart (best effort: failures are ignored).
fn remove_stale_partials(folder: &Path) {
    let Ok(items) = std::fs::read_dir(folder) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(PARTIAL_PREFIX))
            .filter(|rest| rest.ends_with(PARTIAL_SUFFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || process_is_alive(pid) {
            continue;
        }
        let path = item.path();
        let unlocked = File::open(&path).is_ok_and(|file| file.try_lock().is_ok());
        if unlocked {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether process `pid` exists: on Linux, whether `/proc` lists it (a process of another
/// user counts); elsewhere it cannot be asked without unsafe system calls, so it is assumed to,
/// and what it left is kept.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Refuse outputs that would replace an input of the same command (the same file once paths
/// are resolved: symbolic links, `..` and hard links included) or each other.
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path]) -> Result<(), OutputError> {
    for (index, output) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(output, input)) {
            return Err(OutputError::IsInput {
                path: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
        if let Some(other) = outputs[..index]
            .iter()
            .find(|other| same_file(output, other))
        {
            return Err(OutputError::SameOutput {
                path: output.to_path_buf(),
                other: other.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Whether `left` and `right` name one file: the same device and inode when both exist (so a
/// hard link is the file it links), else the same resolved path.
fn same_file(left: &Path, right: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(left), Ok(right)) = (std::fs::metadata(left), std::fs::metadata(right)) {
        use std::os::unix::fs::MetadataExt;
        return left.dev() == right.dev() && left.ino() == right.ino();
    }
    resolved(left).is_some_and(|left| resolved(right) == Some(left))
}

/// `path` with its folder resolved (the file itself too when it exists).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(path) = std::fs::canonicalize(path) {
        return Some(path);
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(folder).ok()?.join(path.file_name()?))
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
        remove_stale_partials(folder);
        let prefix = format!("{PARTIAL_PREFIX}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(PARTIAL_SUFFIX);
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
        // Held until the file is renamed or dropped (or the process dies): a file of a live
        // writer is never taken for a stale one. A file system without locks keeps the rule by
        // the process id alone.
        let _ = temp.as_file().try_lock();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An output is refused when it is an input under another spelling or a hard link, and
    /// when two outputs are one file; other files pass.
    #[test]
    fn outputs_that_are_inputs_or_each_other_are_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = |name: &str| folder.path().join(name);
        std::fs::write(path("data.csv"), "text\n").unwrap();
        std::fs::hard_link(path("data.csv"), path("link.csv")).unwrap();
        std::fs::create_dir(path("sub")).unwrap();
        let dotted = folder.path().join("sub/../data.csv");
        for output in [&path("data.csv"), &dotted, &path("link.csv")] {
            let error = check_outputs(&[output], &[&path("data.csv")]).unwrap_err();
            assert!(matches!(error, OutputError::IsInput { .. }), "{error}");
        }
        assert!(check_outputs(&[&path("L.csv")], &[&path("data.csv")]).is_ok());
        let twice = [path("new.json"), folder.path().join("sub/../new.json")];
        let error = check_outputs(&[&twice[0], &twice[1]], &[]).unwrap_err();
        assert!(matches!(error, OutputError::SameOutput { .. }), "{error}");
    }

    /// Creating an output removes the temporary files of writers that are gone, and keeps a
    /// live writer's (named by a live process id, or locked by its writer).
    #[test]
    fn stale_partials_of_dead_writers_are_removed() {
        let folder = tempfile::tempdir().unwrap();
        let path = |name: &str| folder.path().join(name);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = format!(".labelgen-{dead}-a1b2c3.partial");
        let live = format!(".labelgen-{}-d4e5f6.partial", std::process::id());
        let unrelated = ".labelgen-notes.partial";
        for name in [&stale, &live, unrelated] {
            std::fs::write(path(name), "half a file").unwrap();
        }
        let writing = AtomicFile::create(&path("first.csv")).unwrap();
        let names: Vec<String> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|item| item.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.contains(&stale), "{names:?}");
        assert!(names.contains(&live) && names.contains(&unrelated.to_owned()));
        // Another writer in this folder leaves the first one's file alone.
        let second = AtomicFile::create(&path("second.csv")).unwrap();
        assert!(writing.temp.path().exists());
        writing.commit().unwrap();
        second.commit().unwrap();
        assert!(path("first.csv").exists() && path("second.csv").exists());
    }
}
