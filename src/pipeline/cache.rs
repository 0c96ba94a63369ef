//! A content-addressed cache of stage outputs: `<project>/.labelgen/cache/<kind>/<key>/`, where
//! the key is a BLAKE3 hash of exactly what the output depends on.
//!
//! An entry is a folder of files plus `entry.json` with each file's BLAKE3 hash. It is written
//! in a temporary folder and renamed into place, so an interrupted run leaves either no entry
//! or a whole one; reading checks every hash, and an entry that fails (a corrupted or truncated
//! file) is deleted and rebuilt. A project lock keeps two runs from writing at once.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The BLAKE3 (hex) of `value`'s JSON (object keys in sorted order, so equal values hash
/// equal).
pub fn key(value: &serde_json::Value) -> String {
    blake3::hash(value.to_string().as_bytes())
        .to_hex()
        .to_string()
}

/// BLAKE3 (hex) of a file's bytes, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// One cache entry: its folder and files with their hashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's folder.
    #[serde(skip)]
    pub dir: PathBuf,
    /// File name -> BLAKE3 (hex).
    pub files: BTreeMap<String, String>,
}

impl Entry {
    /// The path of one of its files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The cache of one project.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

/// Errors of the cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A file operation failed.
    #[error("cache `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another run holds the lock.
    #[error(
        "another `labelgen run` is using this project (lock `{path}` is held); wait for it to finish"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Remove the files and folders in `folder` whose names pass `chosen` (best effort).
pub(crate) fn remove_all_in(folder: &Path, chosen: impl Fn(&str) -> bool) {
    for item in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if !chosen(&item.file_name().to_string_lossy()) {
            continue;
        }
        let path = item.path();
        let _ = match item.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
    }
}

/// An exclusive lock on a project's cache and runs, released when dropped (or when the process
/// dies: the operating system drops it).
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Take the lock at `path`, or fail at once when another process holds it.
    pub fn take(path: &Path) -> Result<ProjectLock, CacheError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io(path))?;
        match file.try_lock() {
            Ok(()) => Ok(ProjectLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(CacheError::Locked {
                path: path.to_owned(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(CacheError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

impl Cache {
    /// The cache under `root` (created when missing).
    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(root.join("tmp")).map_err(io(root))?;
        Ok(Cache {
            root: root.to_owned(),
        })
    }

    /// Remove what interrupted runs left in the cache's temporary folder. Only a run that holds
    /// the project lock writes there, so while `_lock` is held everything in it is stale.
    pub fn remove_leftovers(&self, _lock: &ProjectLock) {
        remove_all_in(&self.root.join("tmp"), |_| true);
    }

    fn dir(&self, kind: &str, key: &str) -> PathBuf {
        self.root.join(kind).join(key)
    }

    /// The entry `kind/key` when present and intact. A damaged entry is removed (and `None`
    /// returned, so the caller rebuilds it); `damaged` is set when that happened.
    pub fn get(&self, kind: &str, key: &str, damaged: &mut bool) -> Option<Entry> {
        let dir = self.dir(kind, key);
        let text = std::fs::read_to_string(dir.join("entry.json")).ok()?;
        let intact = serde_json::from_str::<Entry>(&text).ok().filter(|entry| {
            entry
                .files
                .iter()
                .all(|(name, hash)| hash_file(&dir.join(name)).is_ok_and(|actual| actual == *hash))
        });
        match intact {
            Some(mut entry) => {
                entry.dir = dir;
                Some(entry)
            }
            None => {
                *damaged = true;
                let _ = std::fs::remove_dir_all(&dir);
                None
            }
        }
    }

    /// Build entry `kind/key`: `produce` writes files into an empty folder; they are hashed and
    /// the folder renamed into place. If another run stored the same entry meanwhile, that one
    /// is kept (it has the same content by construction).
    pub fn put<E: From<CacheError>>(
        &self,
        kind: &str,
        key: &str,
        produce: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<Entry, E> {
        let temp = tempfile::Builder::new()
            .prefix(&format!("{kind}-"))
            .tempdir_in(self.root.join("tmp"))
            .map_err(io(&self.root))?;
        produce(temp.path())?;
        let mut files = BTreeMap::new();
        for item in std::fs::read_dir(temp.path()).map_err(io(temp.path()))? {
            let item = item.map_err(io(temp.path()))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let hash = hash_file(&item.path()).map_err(io(&item.path()))?;
            files.insert(name, hash);
        }
        let entry = Entry {
            dir: PathBuf::new(),
            files,
        };
        let json = serde_json::to_vec_pretty(&entry).expect("entry serialises");
        let manifest = temp.path().join("entry.json");
        std::fs::write(&manifest, json).map_err(io(&manifest))?;
        File::open(&manifest)
            .and_then(|file| file.sync_all())
            .map_err(io(&manifest))?;
        let dir = self.dir(kind, key);
        let parent = dir.parent().expect("kind folder");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let temp = temp.keep();
        if std::fs::rename(&temp, &dir).is_err() {
            // Already there (stored by another run): keep that one.
            let _ = std::fs::remove_dir_all(&temp);
            let mut damaged = false;
            if let Some(existing) = self.get(kind, key, &mut damaged) {
                return Ok(existing);
            }
            return Err(CacheError::Io {
                path: dir,
                source: std::io::Error::other("could not store the cache entry"),
            }
            .into());
        }
        Ok(Entry { dir, ..entry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_detected() {
        let folder = tempfile::tempdir().unwrap();
        let cache = Cache::open(folder.path()).unwrap();
        let mut damaged = false;
        assert!(cache.get("k", "a", &mut damaged).is_none());
        let entry = cache
            .put::<CacheError>("k", "a", |dir| {
                std::fs::write(dir.join("x.bin"), b"hello").unwrap();
                Ok(())
            })
            .unwrap();
        assert_eq!(std::fs::read(entry.file("x.bin")).unwrap(), b"hello");
        assert_eq!(cache.get("k", "a", &mut damaged).unwrap(), entry);
        assert!(!damaged);
        std::fs::write(entry.file("x.bin"), b"hellO").unwrap();
        assert!(cache.get("k", "a", &mut damaged).is_none());
        assert!(damaged, "a changed byte is detected");
        assert!(!entry.dir.exists(), "the damaged entry is removed");
        // A second writer of the same key keeps the first entry.
        let first = cache
            .put::<CacheError>("k", "b", |dir| {
                std::fs::write(dir.join("y"), b"1").unwrap();
                Ok(())
            })
            .unwrap();
        let second = cache
            .put::<CacheError>("k", "b", |dir| {
                std::fs::write(dir.join("y"), b"1").unwrap();
                Ok(())
            })
            .unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn the_lock_is_exclusive() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("lock");
        let held = ProjectLock::take(&path).unwrap();
        assert!(matches!(
            ProjectLock::take(&path),
            Err(CacheError::Locked { .. })
        ));
        drop(held);
        ProjectLock::take(&path).unwrap();
    }

    #[test]
    fn keys_follow_content_not_key_order() {
        let a = serde_json::json!({"x": 1, "y": [1, 2]});
        let b: serde_json::Value = serde_json::from_str(r#"{"y": [1, 2], "x": 1}"#).unwrap();
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&serde_json::json!({"x": 2, "y": [1, 2]})));
    }
}
