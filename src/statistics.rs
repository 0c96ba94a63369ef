//! Named sufficient statistics: a label matrix's distinct vote rows and their counts
//! ([`PatternCounts`]) with its LF and class names, mergeable across shards and kept in a
//! small binary file (`labelgen stats`), so that shards of a dataset applied anywhere (another
//! machine, Spark executors, a shell loop over files) fit one model: the statistics of the
//! shards merge to exactly those of the whole, and every label model reads only them.
//!
//! The file (`.stats`), little-endian:
//!
//! ```text
//! b"LGSTATS1"                       magic and format version
//! u32 n, then n bytes of JSON       {"kind": "label_statistics", "lfs": [...], "classes": [...],
//!                                    "patterns": P, "votes": V, "rows": N}
//! P x u32                           each pattern's number of votes
//! V x (u32 LF, u8 class)            the votes, pattern after pattern, LFs increasing
//! P x u64                           each pattern's count (at least 1)
//! 32 bytes                          BLAKE3 of everything before
//! ```
//!
//! Reading checks every field, so a damaged or truncated file is refused with what is wrong,
//! never read as other statistics.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::io::atomic::{AtomicFile, OutputError};
use crate::matrix::{ABSTAIN, LabelMatrix, MAX_CLASSES};
use crate::patterns::PatternCounts;

/// The file's first bytes: what it is and its format version.
const MAGIC: &[u8; 8] = b"LGSTATS1";

/// A label matrix's sufficient statistics with its LF and class names.
#[derive(Clone, Debug, PartialEq)]
pub struct Statistics {
    /// LF names, in column order.
    pub lfs: Vec<String>,
    /// Class names, in id order.
    pub classes: Vec<String>,
    /// The distinct vote rows and their counts.
    pub patterns: PatternCounts,
}

/// Errors combining or reading statistics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatisticsError {
    /// Shards of different LFs or classes.
    #[error(
        "cannot merge statistics of LFs [{left_lfs}] and classes [{left_classes}] with LFs \
         [{right_lfs}] and classes [{right_classes}]: shards must come from the same LFs, in the \
         same order, and the same classes"
    )]
    Mismatch {
        /// The first shard's LFs.
        left_lfs: String,
        /// The first shard's classes.
        left_classes: String,
        /// The other shard's LFs.
        right_lfs: String,
        /// The other shard's classes.
        right_classes: String,
    },
    /// The file could not be read.
    #[error("cannot read statistics `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not statistics, or is damaged.
    #[error("`{path}` is not a labelgen statistics file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No shard was given.
    #[error("no statistics to merge: give at least one")]
    Empty,
    /// The merged shards would count more rows than a 64-bit count holds.
    #[error(
        "cannot merge statistics of {left} and {right} rows: together they count more than \
         {max} rows; one of the files is damaged",
        max = u64::MAX
    )]
    TooManyRows {
        /// The first shard's rows.
        left: u64,
        /// The other shard's rows.
        right: u64,
    },
}

/// `Err` naming the first LF or class name that is empty or repeated.
fn check_names(lfs: &[String], classes: &[String]) -> Result<(), String> {
    for (article, what, names) in [("an", "LF", lfs), ("a", "class", classes)] {
        let mut seen = std::collections::BTreeSet::new();
        for name in names {
            if name.is_empty() {
                return Err(format!("{article} {what} name is empty"));
            }
            if !seen.insert(name) {
                return Err(format!("the {what} name `{name}` is given twice"));
            }
        }
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    kind: String,
    lfs: Vec<String>,
    classes: Vec<String>,
    patterns: u64,
    votes: u64,
    rows: u64,
}

impl Statistics {
    /// The statistics of `matrix`.
    pub fn of(matrix: &LabelMatrix) -> Statistics {
        Statistics {
            lfs: matrix.lf_names().to_vec(),
            classes: matrix.classes().to_vec(),
            patterns: PatternCounts::from_matrix(matrix),
        }
    }

    /// The statistics of these rows and `other`'s together (shards of one dataset: the same
    /// LFs in the same order, and the same classes).
    pub fn merge(&self, other: &Statistics) -> Result<Statistics, StatisticsError> {
        if self.lfs != other.lfs || self.classes != other.classes {
            return Err(StatisticsError::Mismatch {
                left_lfs: self.lfs.join(", "),
                left_classes: self.classes.join(", "),
                right_lfs: other.lfs.join(", "),
                right_classes: other.classes.join(", "),
            });
        }
        let (left, right) = (self.patterns.n_rows(), other.patterns.n_rows());
        if left.checked_add(right).is_none() {
            return Err(StatisticsError::TooManyRows { left, right });
        }
        let patterns = self
            .patterns
            .merge(&other.patterns)
            .expect("same LFs and classes");
        Ok(Statistics {
            lfs: self.lfs.clone(),
            classes: self.classes.clone(),
            patterns,
        })
    }

    /// Statistics from distinct or repeated dense vote rows (`-1` = abstain) and their counts,
    /// as a distributed engine's aggregation returns them; `Err` names the first row that is
    /// not a vote row of these LFs and classes.
    pub fn from_dense_rows(
        lfs: Vec<String>,
        classes: Vec<String>,
        rows: Vec<(Vec<i8>, u64)>,
    ) -> Result<Statistics, String> {
        let (m, k) = (lfs.len(), classes.len());
        if !(2..=MAX_CLASSES).contains(&k) {
            return Err(format!("{k} classes: give 2 to {MAX_CLASSES}"));
        }
        check_names(&lfs, &classes)?;
        rows.iter()
            .try_fold(0u64, |total, (_, count)| total.checked_add(*count))
            .ok_or(format!("the counts add up to more than {} rows", u64::MAX))?;
        for (index, (row, _)) in rows.iter().enumerate() {
            if row.len() != m {
                return Err(format!("row {index} has {} votes for {m} LFs", row.len()));
            }
            if let Some(vote) = row
                .iter()
                .find(|vote| **vote < ABSTAIN || **vote as i64 >= k as i64)
            {
                return Err(format!(
                    "row {index} holds the vote {vote}, outside -1..{k}"
                ));
            }
        }
        Ok(Statistics {
            patterns: PatternCounts::from_dense_rows(
                m,
                k,
                rows.into_iter().filter(|(_, count)| *count > 0).collect(),
            ),
            lfs,
            classes,
        })
    }

    /// All of `shards` merged, in any order (the result does not depend on it).
    pub fn merge_all(shards: &[Statistics]) -> Result<Statistics, StatisticsError> {
        let (first, rest) = shards.split_first().ok_or(StatisticsError::Empty)?;
        rest.iter()
            .try_fold(first.clone(), |merged, shard| merged.merge(shard))
    }

    /// A fingerprint of the statistics: the BLAKE3 of their bytes, the same for a matrix and
    /// for any split of it into shards (the patterns are in a canonical order).
    pub fn fingerprint(&self) -> String {
        blake3::hash(&self.to_bytes()).to_hex().to_string()
    }

    /// The statistics as the bytes of a `.stats` file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let patterns = &self.patterns;
        let votes: usize = (0..patterns.len()).map(|p| patterns.pattern(p).len()).sum();
        let header = Header {
            kind: "label_statistics".to_owned(),
            lfs: self.lfs.clone(),
            classes: self.classes.clone(),
            patterns: patterns.len() as u64,
            votes: votes as u64,
            rows: patterns.n_rows(),
        };
        let header = serde_json::to_vec(&header).expect("headers serialize");
        let mut bytes = Vec::with_capacity(48 + header.len() + patterns.len() * 12 + votes * 5);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        for pattern in 0..patterns.len() {
            bytes.extend_from_slice(&(patterns.pattern(pattern).len() as u32).to_le_bytes());
        }
        for pattern in 0..patterns.len() {
            for vote in patterns.pattern(pattern) {
                bytes.extend_from_slice(&(vote.lf() as u32).to_le_bytes());
                bytes.push(vote.class() as u8);
            }
        }
        for pattern in 0..patterns.len() {
            bytes.extend_from_slice(&patterns.count(pattern).to_le_bytes());
        }
        let checksum = blake3::hash(&bytes);
        bytes.extend_from_slice(checksum.as_bytes());
        bytes
    }

    /// Statistics from the bytes of a `.stats` file; `Err` says what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Statistics, String> {
        let body_len = bytes
            .len()
            .checked_sub(32)
            .filter(|len| *len >= MAGIC.len() + 4)
            .ok_or("it is too short")?;
        let (body, checksum) = bytes.split_at(body_len);
        if &body[..MAGIC.len()] != MAGIC {
            return Err("it does not start with LGSTATS1".to_owned());
        }
        if blake3::hash(body).as_bytes() != checksum {
            return Err("its checksum does not match: the file is damaged or truncated".to_owned());
        }
        let mut reader = Reader {
            bytes: &body[MAGIC.len()..],
        };
        let header_len = reader.u32()? as usize;
        let header: Header = serde_json::from_slice(reader.take(header_len)?)
            .map_err(|error| format!("its header is not valid: {error}"))?;
        let (m, k) = (header.lfs.len(), header.classes.len());
        if header.kind != "label_statistics" {
            return Err(format!("its kind is `{}`", header.kind));
        }
        if !(2..=MAX_CLASSES).contains(&k) || m == 0 {
            return Err(format!(
                "it has {m} LFs and {k} classes (at least 1 LF and 2 to {MAX_CLASSES} classes)"
            ));
        }
        check_names(&header.lfs, &header.classes)?;
        let patterns = usize::try_from(header.patterns).map_err(|_| "too many patterns")?;
        let votes = usize::try_from(header.votes).map_err(|_| "too many votes")?;
        // Every size is checked against the bytes present before anything is allocated.
        let expected = patterns
            .checked_mul(12)
            .and_then(|size| size.checked_add(votes.checked_mul(5)?))
            .ok_or("its sizes overflow")?;
        if expected != reader.bytes.len() {
            return Err(format!(
                "its header announces {patterns} patterns and {votes} votes, which do not fill its \
                 {} bytes",
                reader.bytes.len()
            ));
        }
        let lengths: Vec<usize> = (0..patterns)
            .map(|_| reader.u32().map(|len| len as usize))
            .collect::<Result<_, _>>()?;
        if lengths.iter().sum::<usize>() != votes {
            return Err("its patterns' vote counts do not add up to its votes".to_owned());
        }
        let mut rows = Vec::with_capacity(patterns);
        for (pattern, length) in lengths.iter().enumerate() {
            let mut row = vec![ABSTAIN; m];
            let mut previous = None;
            for _ in 0..*length {
                let lf = reader.u32()? as usize;
                let class = reader.u8()?;
                if lf >= m || usize::from(class) >= k || previous.is_some_and(|p| p >= lf) {
                    return Err(format!(
                        "pattern {pattern} holds a vote of LF {lf} for class {class}, out of \
                         range or out of order"
                    ));
                }
                row[lf] = class as i8;
                previous = Some(lf);
            }
            rows.push((row, 0));
        }
        let mut total = 0u64;
        for (pattern, row) in rows.iter_mut().enumerate() {
            row.1 = reader.u64()?;
            if row.1 == 0 {
                return Err(format!("pattern {pattern} has a count of 0"));
            }
            total = total.checked_add(row.1).ok_or("its counts overflow")?;
        }
        if total != header.rows {
            return Err(format!(
                "its counts add up to {total} rows, its header says {}",
                header.rows
            ));
        }
        Ok(Statistics {
            patterns: PatternCounts::from_dense_rows(m, k, rows),
            lfs: header.lfs,
            classes: header.classes,
        })
    }

    /// Write the statistics to `path` (a `.stats` file), atomically.
    pub fn write(&self, path: &Path) -> Result<(), OutputError> {
        let mut out = AtomicFile::create(path)?;
        out.writer()
            .write_all(&self.to_bytes())
            .map_err(|error| out.error(error))?;
        out.commit()
    }

    /// Read a `.stats` file written by [`Statistics::write`].
    pub fn read(path: &Path) -> Result<Statistics, StatisticsError> {
        let bytes = std::fs::read(path).map_err(|source| StatisticsError::Io {
            path: path.to_owned(),
            source,
        })?;
        Statistics::from_bytes(&bytes).map_err(|message| StatisticsError::Invalid {
            path: path.to_owned(),
            message,
        })
    }
}

/// Little-endian fields read from the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if len > self.bytes.len() {
            return Err("it ends early".to_owned());
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn matrix(votes: ndarray::Array2<i8>) -> LabelMatrix {
        let names = (0..votes.ncols()).map(|lf| format!("lf{lf}")).collect();
        LabelMatrix::new(votes, names, vec!["a".into(), "b".into(), "c".into()]).unwrap()
    }

    /// Shards merge, in either order, to the statistics of the whole, through the file format.
    #[test]
    fn shards_written_and_read_merge_to_the_whole() {
        let whole = Statistics::of(&matrix(array![[0, -1], [2, 1], [0, -1], [-1, -1], [2, 1]]));
        let first = Statistics::of(&matrix(array![[0, -1], [2, 1]]));
        let second = Statistics::of(&matrix(array![[0, -1], [-1, -1], [2, 1]]));
        let read = |s: &Statistics| Statistics::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(read(&first).merge(&read(&second)).unwrap(), whole);
        assert_eq!(
            Statistics::merge_all(&[second.clone(), first.clone()]).unwrap(),
            whole
        );
        assert_eq!(
            whole.fingerprint(),
            first.merge(&second).unwrap().fingerprint()
        );
        assert_eq!(read(&whole), whole);
    }

    /// Shards of other LFs do not merge; the message names both sides.
    #[test]
    fn shards_of_other_lfs_are_refused() {
        let first = Statistics::of(&matrix(array![[0, -1]]));
        let mut other = first.clone();
        other.lfs = vec!["lf0".into(), "other".into()];
        let error = first.merge(&other).unwrap_err().to_string();
        assert!(
            error.contains("[lf0, lf1]") && error.contains("[lf0, other]"),
            "{error}"
        );
    }

    /// Counts whose sum a 64-bit count cannot hold, and repeated or empty names, are refused
    /// instead of wrapping around or reaching a model.
    #[test]
    fn overflowing_counts_and_repeated_names_are_refused() {
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let huge = Statistics::from_dense_rows(
            names(&["a", "b"]),
            names(&["x", "y"]),
            vec![(vec![0, -1], u64::MAX - 1), (vec![1, 1], 1)],
        )
        .unwrap();
        assert_eq!(huge.patterns.n_rows(), u64::MAX);
        let error = huge.merge(&huge).unwrap_err().to_string();
        assert!(
            error.contains("more than 18446744073709551615 rows"),
            "{error}"
        );
        let error = Statistics::from_dense_rows(
            names(&["a", "b"]),
            names(&["x", "y"]),
            vec![(vec![0, -1], u64::MAX), (vec![1, 1], 1)],
        )
        .unwrap_err();
        assert!(error.contains("more than"), "{error}");
        for (lfs, classes, message) in [
            (
                names(&["a", "a"]),
                names(&["x", "y"]),
                "the LF name `a` is given twice",
            ),
            (
                names(&["a", "b"]),
                names(&["x", "x"]),
                "the class name `x` is given twice",
            ),
            (names(&["a", ""]), names(&["x", "y"]), "an LF name is empty"),
        ] {
            let error =
                Statistics::from_dense_rows(lfs.clone(), classes.clone(), vec![]).unwrap_err();
            assert_eq!(error, message);
            // The same names in a file, with a valid checksum.
            let mut file = huge.clone();
            (file.lfs, file.classes) = (lfs, classes);
            let error = Statistics::from_bytes(&file.to_bytes()).unwrap_err();
            assert_eq!(error, message);
        }
    }

    /// Every damaged byte is caught: truncation, a flipped bit (the checksum), and fields that
    /// are consistent with a recomputed checksum but out of range.
    #[test]
    fn damaged_files_are_refused() {
        let bytes = Statistics::of(&matrix(array![[0, -1], [2, 1]])).to_bytes();
        for len in [0, 7, 20, bytes.len() - 1] {
            assert!(
                Statistics::from_bytes(&bytes[..len]).is_err(),
                "length {len}"
            );
        }
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x40;
            assert!(Statistics::from_bytes(&flipped).is_err(), "byte {index}");
        }
        // A vote for class 7 of 3, with a valid checksum.
        let mut body = bytes[..bytes.len() - 32].to_vec();
        let class_byte = body.len() - 2 * 8 - 1;
        body[class_byte] = 7;
        let checksum = blake3::hash(&body);
        body.extend_from_slice(checksum.as_bytes());
        let error = Statistics::from_bytes(&body).unwrap_err();
        assert!(error.contains("out of range"), "{error}");
    }
}
