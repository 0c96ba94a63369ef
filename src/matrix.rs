//! The label matrix: n rows x m LFs of `i8` votes, `-1` = abstain, with what produced it.

use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;

pub use crate::provenance::Provenance;

/// Version of the label-matrix file format (the metadata layout and column conventions).
pub const MATRIX_FORMAT_VERSION: u32 = 1;

/// The most classes labelgen handles: votes and labels are `i8`, `-1` meaning abstain or no
/// label, so class ids run from 0 to 126. Matrices, model files, label tables, LF files and
/// plugins all refuse more.
pub const MAX_CLASSES: usize = 127;

/// The vote that means "no opinion".
pub const ABSTAIN: i8 = -1;

/// Row keys carried from a column of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowKeys {
    /// Text keys.
    Text(Vec<String>),
    /// Integer keys.
    Int(Vec<i64>),
}

impl RowKeys {
    /// Number of keys.
    pub fn len(&self) -> usize {
        match self {
            RowKeys::Text(keys) => keys.len(),
            RowKeys::Int(keys) => keys.len(),
        }
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys from a table column: integers stay integers, anything else becomes text (numbers
    /// printed, nulls empty).
    pub fn from_column(column: &crate::table::Column) -> RowKeys {
        match column.values() {
            crate::table::Values::Int(values) => RowKeys::Int(values.clone()),
            _ => RowKeys::Text(
                (0..column.len())
                    .map(|row| {
                        column.text(row).map(str::to_owned).unwrap_or_else(|| {
                            column
                                .number(row)
                                .map(|v| v.to_string())
                                .unwrap_or_default()
                        })
                    })
                    .collect(),
            ),
        }
    }
}

/// An n x m matrix of votes with its LF names, classes, optional row keys and provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelMatrix {
    votes: Array2<i8>,
    lf_names: Vec<String>,
    classes: Vec<String>,
    row_keys: Option<(String, RowKeys)>,
    provenance: Option<Provenance>,
}

/// Errors building a label matrix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// Dimensions disagree.
    #[error("{0}")]
    Shape(String),
    /// A vote is outside `-1..k`.
    #[error("LF `{lf}` votes {vote} on row {row} (counting from 0), outside -1..{cardinality}")]
    VoteOutOfRange {
        /// The LF.
        lf: String,
        /// The row.
        row: usize,
        /// The vote.
        vote: i8,
        /// The number of classes.
        cardinality: usize,
    },
    /// Two columns carry one LF name (models and matrices match LFs by name).
    #[error(
        "LF `{lf}` names two columns ({first} and {second}, counting from 0): LF names must be unique, rename one"
    )]
    DuplicateLf {
        /// The name.
        lf: String,
        /// The first column with it.
        first: usize,
        /// The next column with it.
        second: usize,
    },
    /// The row-key column has an LF's name.
    #[error(
        "the row-key column `{0}` has the name of an LF, so the matrix would have two columns \
         `{0}`; rename one"
    )]
    KeyNamedLikeLf(String),
    /// More classes than votes can name.
    #[error(
        "{0} classes is more than labelgen handles: votes are 8-bit integers, so at most \
         {MAX_CLASSES} classes"
    )]
    TooManyClasses(usize),
    /// Two classes carry one name.
    #[error("class `{0}` is named twice: class names must be unique")]
    DuplicateClass(String),
    /// The matrix's LFs are not the ones asked for.
    #[error(
        "the matrix's LFs differ from the model's: missing [{}], not in the model [{}]; fit a model on \
         a matrix of the same LFs",
        missing.join(", "),
        unknown.join(", ")
    )]
    OtherLfs {
        /// LFs asked for that the matrix lacks.
        missing: Vec<String>,
        /// LFs of the matrix not asked for.
        unknown: Vec<String>,
    },
}

impl LabelMatrix {
    /// A matrix from its votes (rows x LFs), LF names and class names; votes are checked.
    pub fn new(
        votes: Array2<i8>,
        lf_names: Vec<String>,
        classes: Vec<String>,
    ) -> Result<Self, MatrixError> {
        if votes.ncols() != lf_names.len() {
            return Err(MatrixError::Shape(format!(
                "the matrix has {} columns but {} LF names",
                votes.ncols(),
                lf_names.len()
            )));
        }
        let mut seen = std::collections::HashMap::with_capacity(lf_names.len());
        for (column, name) in lf_names.iter().enumerate() {
            if let Some(first) = seen.insert(name.as_str(), column) {
                return Err(MatrixError::DuplicateLf {
                    lf: name.clone(),
                    first,
                    second: column,
                });
            }
        }
        if classes.len() > MAX_CLASSES {
            return Err(MatrixError::TooManyClasses(classes.len()));
        }
        let mut class_names = std::collections::HashSet::with_capacity(classes.len());
        if let Some(class) = classes
            .iter()
            .find(|class| !class_names.insert(class.as_str()))
        {
            return Err(MatrixError::DuplicateClass(class.clone()));
        }
        let cardinality = classes.len();
        let in_range = |vote: &i8| *vote >= ABSTAIN && (*vote as i64) < cardinality as i64;
        // Compared as bytes (no widening) and branch-free per block, so it vectorises; blocks in
        // parallel.
        let top = i8::try_from(cardinality).expect("at most MAX_CLASSES classes");
        let block_in_range = |block: &[i8]| {
            block
                .iter()
                .fold(true, |ok, vote| ok & (*vote >= ABSTAIN) & (*vote < top))
        };
        let all_in_range = match votes.as_slice() {
            Some(flat) => flat.par_chunks(1 << 16).all(block_in_range),
            None => votes.iter().all(in_range),
        };
        if !all_in_range {
            let ((row, column), vote) = votes
                .indexed_iter()
                .find(|(_, vote)| !in_range(vote))
                .expect("one is out of range");
            return Err(MatrixError::VoteOutOfRange {
                lf: lf_names[column].clone(),
                row,
                vote: *vote,
                cardinality,
            });
        }
        Ok(LabelMatrix {
            votes,
            lf_names,
            classes,
            row_keys: None,
            provenance: None,
        })
    }

    /// Attach row keys from column `name`.
    pub fn with_row_keys(mut self, name: String, keys: RowKeys) -> Result<Self, MatrixError> {
        if self.lf_names.contains(&name) {
            return Err(MatrixError::KeyNamedLikeLf(name));
        }
        if keys.len() != self.n_rows() {
            return Err(MatrixError::Shape(format!(
                "{} row keys for {} rows",
                keys.len(),
                self.n_rows()
            )));
        }
        self.row_keys = Some((name, keys));
        Ok(self)
    }

    /// Attach provenance.
    pub fn with_provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = Some(provenance);
        self
    }

    /// This matrix with its columns in the order of `lfs` (the same LFs, by name), row keys
    /// kept; an error names the LFs missing from it and those not in `lfs`.
    pub fn in_lf_order(self, lfs: &[String]) -> Result<LabelMatrix, MatrixError> {
        if self.lf_names == lfs {
            return Ok(self);
        }
        let missing: Vec<String> = lfs
            .iter()
            .filter(|lf| !self.lf_names.contains(lf))
            .cloned()
            .collect();
        let unknown: Vec<String> = self
            .lf_names
            .iter()
            .filter(|lf| !lfs.contains(lf))
            .cloned()
            .collect();
        if !missing.is_empty() || !unknown.is_empty() || lfs.len() != self.lf_names.len() {
            return Err(MatrixError::OtherLfs { missing, unknown });
        }
        let order: Vec<usize> = lfs
            .iter()
            .map(|lf| {
                self.lf_names
                    .iter()
                    .position(|name| name == lf)
                    .expect("checked above")
            })
            .collect();
        let votes = self.votes.select(ndarray::Axis(1), &order);
        let mut ordered = LabelMatrix::new(votes, lfs.to_vec(), self.classes.clone())?;
        if let Some((name, keys)) = self.row_keys() {
            ordered = ordered.with_row_keys(name.to_owned(), keys.clone())?;
        }
        Ok(ordered)
    }

    /// The votes, rows x LFs.
    pub fn votes(&self) -> &Array2<i8> {
        &self.votes
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.votes.nrows()
    }

    /// Number of LFs.
    pub fn n_lfs(&self) -> usize {
        self.votes.ncols()
    }

    /// LF names, in column order.
    pub fn lf_names(&self) -> &[String] {
        &self.lf_names
    }

    /// Class names; class id `i` is `classes()[i]`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Number of classes.
    pub fn cardinality(&self) -> usize {
        self.classes.len()
    }

    /// The row-key column name and keys, if any.
    pub fn row_keys(&self) -> Option<(&str, &RowKeys)> {
        self.row_keys
            .as_ref()
            .map(|(name, keys)| (name.as_str(), keys))
    }

    /// What produced the matrix, if known.
    pub fn provenance(&self) -> Option<&Provenance> {
        self.provenance.as_ref()
    }

    /// The votes of LF `lf`.
    pub fn lf_votes(&self, lf: usize) -> ArrayView1<'_, i8> {
        self.votes.column(lf)
    }

    /// BLAKE3 (hex) of the classes, LF names and votes: identifies the matrix a model was fitted
    /// on, whatever file it came from.
    pub fn fingerprint(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"labelgen votes\0");
        for name in self.classes.iter().chain(&self.lf_names) {
            hasher.update(name.as_bytes()).update(b"\0");
        }
        hasher.update(&(self.n_rows() as u64).to_le_bytes());
        match self.votes.as_slice() {
            // The same bytes either way; BLAKE3's tree lets both cores hash a large matrix.
            Some(flat) => {
                hasher.update_rayon(vote_bytes(flat));
            }
            None => {
                for vote in self.votes.iter() {
                    hasher.update(&[*vote as u8]);
                }
            }
        }
        hasher.finalize().to_hex().to_string()
    }

    /// The row-major votes as one slice: borrowed in the usual layout, else copied.
    pub(crate) fn row_major(&self) -> std::borrow::Cow<'_, [i8]> {
        match self.votes.as_slice() {
            Some(flat) => std::borrow::Cow::Borrowed(flat),
            None => std::borrow::Cow::Owned(self.votes.iter().copied().collect()),
        }
    }

    /// Per LF, the fraction of rows where it voted (0 for an empty matrix).
    pub fn lf_coverage(&self) -> Vec<f64> {
        let (rows, n_lfs) = (self.n_rows(), self.n_lfs());
        if rows == 0 || n_lfs == 0 {
            return vec![0.0; n_lfs];
        }
        let flat = self.row_major();
        // Blocks of rows in parallel, each counted row by row in memory order; integer sums, so
        // the split does not matter.
        let voted = flat
            .par_chunks(ROW_BLOCK * n_lfs)
            .map(|block| {
                let mut voted = vec![0usize; n_lfs];
                for row in block.chunks_exact(n_lfs) {
                    for (count, vote) in voted.iter_mut().zip(row) {
                        *count += usize::from(*vote != ABSTAIN);
                    }
                }
                voted
            })
            .reduce(
                || vec![0usize; n_lfs],
                |mut left, right| {
                    left.iter_mut()
                        .zip(right)
                        .for_each(|(left, right)| *left += right);
                    left
                },
            );
        voted
            .into_iter()
            .map(|count| count as f64 / rows as f64)
            .collect()
    }

    /// Per LF, how many votes it cast for each class (`counts[lf][class]`).
    pub fn vote_counts(&self) -> Vec<Vec<usize>> {
        let (n_lfs, k) = (self.n_lfs(), self.cardinality());
        if self.n_rows() == 0 || n_lfs == 0 {
            return vec![vec![0; k]; n_lfs];
        }
        let flat = self.row_major();
        // Integer sums per block of rows, so the split does not matter; one slot per LF for
        // abstains keeps the inner loop free of branches.
        let counts = flat
            .par_chunks(ROW_BLOCK * n_lfs)
            .map(|block| {
                let mut counts = vec![0usize; n_lfs * (k + 1)];
                for row in block.chunks_exact(n_lfs) {
                    for (lf, vote) in row.iter().enumerate() {
                        counts[lf * (k + 1) + (*vote + 1) as usize] += 1;
                    }
                }
                counts
            })
            .reduce(
                || vec![0usize; n_lfs * (k + 1)],
                |mut left, right| {
                    left.iter_mut()
                        .zip(right)
                        .for_each(|(left, right)| *left += right);
                    left
                },
            );
        counts
            .chunks_exact(k + 1)
            .map(|lf| lf[1..].to_vec())
            .collect()
    }

    /// Per row, whether at least one LF voted.
    pub fn covered(&self) -> Vec<bool> {
        let n_lfs = self.n_lfs();
        if n_lfs == 0 {
            return vec![false; self.n_rows()];
        }
        let flat = self.row_major();
        let mut covered = vec![false; self.n_rows()];
        covered
            .par_chunks_mut(ROW_BLOCK)
            .zip(flat.par_chunks(ROW_BLOCK * n_lfs))
            .for_each(|(covered, block)| {
                for (covered, row) in covered.iter_mut().zip(block.chunks_exact(n_lfs)) {
                    *covered = row.iter().any(|vote| *vote != ABSTAIN);
                }
            });
        covered
    }

    /// The fraction of rows where at least one LF voted (0 for an empty matrix).
    pub fn label_coverage(&self) -> f64 {
        let rows = self.n_rows();
        if rows == 0 {
            return 0.0;
        }
        let covered = self
            .covered()
            .into_iter()
            .filter(|covered| *covered)
            .count();
        covered as f64 / rows as f64
    }
}

/// Rows per parallel work item of the whole-matrix passes.
const ROW_BLOCK: usize = 1 << 14;

/// Votes as bytes (each `i8` as its two's-complement `u8`).
pub(crate) fn vote_bytes(votes: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid for
    // both; the length and lifetime are the input's.
    unsafe { std::slice::from_raw_parts(votes.as_ptr().cast::<u8>(), votes.len()) }
}

/// Bit `i` set when `cells[i]` (at most 64 of them) is a vote, not an abstain: eight cells a
/// step, each word's non-abstain bytes found with carry-free byte arithmetic and their flags
/// gathered into one byte by a multiplication.
pub(crate) fn voted_mask(cells: &[i8]) -> u64 {
    debug_assert!(cells.len() <= 64);
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0;
    let mut words = cells.chunks_exact(8);
    for (word_index, word) in (&mut words).enumerate() {
        // An abstain is 0xff: inverted, every vote byte is non-zero and every abstain zero.
        let inverted = !u64::from_le_bytes(vote_bytes(word).try_into().expect("8 bytes"));
        let high = (((inverted & LOW) + LOW) | inverted) & !LOW;
        let packed = (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= packed << (8 * word_index);
    }
    let done = cells.len() - words.remainder().len();
    for (offset, cell) in words.remainder().iter().enumerate() {
        mask |= u64::from(*cell != ABSTAIN) << (done + offset);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The word-at-a-time mask against a cell-by-cell one: vote bytes spanning all 256 values
    /// in shifting positions, half the cells abstains, every length from 0 to 64 (whole words
    /// and remainders).
    #[test]
    fn voted_masks_flag_exactly_the_votes() {
        let naive = |cells: &[i8]| {
            cells.iter().enumerate().fold(0u64, |mask, (i, cell)| {
                mask | (u64::from(*cell != ABSTAIN) << i)
            })
        };
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for length in 0..=64 {
            for round in 0..64 {
                let cells: Vec<i8> = (0..length)
                    .map(|position| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        match (state >> 60) % 4 {
                            0 | 1 => ABSTAIN,
                            // Every byte value turns up somewhere.
                            _ => ((position * 7 + round * 13 + length) % 256) as u8 as i8,
                        }
                    })
                    .collect();
                assert_eq!(voted_mask(&cells), naive(&cells), "{cells:?}");
            }
        }
        assert_eq!(voted_mask(&[ABSTAIN; 64]), 0);
        assert_eq!(voted_mask(&[0; 64]), u64::MAX);
    }

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|index| format!("lf{index}")).collect()
    }

    #[test]
    fn coverage_counts_non_abstains() {
        let votes = array![[0, -1, 1], [-1, -1, -1], [1, -1, -1], [1, 0, -1]];
        let matrix = LabelMatrix::new(votes, names(3), vec!["a".into(), "b".into()]).unwrap();
        assert_eq!(matrix.lf_coverage(), [0.75, 0.25, 0.25]);
        assert_eq!(matrix.label_coverage(), 0.75);
        assert_eq!(matrix.vote_counts(), [vec![1, 2], vec![1, 0], vec![0, 1]]);
    }

    #[test]
    fn votes_outside_the_classes_are_refused() {
        let votes = array![[0, 2]];
        let error = LabelMatrix::new(votes, names(2), vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "LF `lf1` votes 2 on row 0 (counting from 0), outside -1..2"
        );
    }

    /// Models and matrices match LFs by name, so two columns of one name are refused (naming
    /// both places), and so are two classes of one name.
    #[test]
    fn names_are_unique() {
        let lfs = vec!["x".into(), "y".into(), "x".into()];
        let error =
            LabelMatrix::new(array![[0, 1, -1]], lfs, vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "LF `x` names two columns (0 and 2, counting from 0): LF names must be unique, rename one"
        );
        let error =
            LabelMatrix::new(array![[0]], names(1), vec!["a".into(), "a".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "class `a` is named twice: class names must be unique"
        );
    }

    /// A row-key column named like an LF would make two columns of one name in the file.
    #[test]
    fn row_keys_are_not_named_like_an_lf() {
        let matrix =
            LabelMatrix::new(array![[0], [1]], names(1), vec!["a".into(), "b".into()]).unwrap();
        let keys = RowKeys::Int(vec![1, 2]);
        let error = matrix
            .clone()
            .with_row_keys("lf0".into(), keys.clone())
            .unwrap_err();
        assert!(matches!(error, MatrixError::KeyNamedLikeLf(_)), "{error}");
        assert!(matrix.with_row_keys("id".into(), keys).is_ok());
    }

    /// The byte-wise range check at its edges: -2 and k refused, -1 and k - 1 accepted, with
    /// 127 classes (the most labelgen handles); 128 classes are refused whatever the votes.
    #[test]
    fn the_range_check_holds_at_its_edges() {
        let classes = |k: usize| (0..k).map(|class| class.to_string()).collect::<Vec<_>>();
        let matrix = |votes: ndarray::Array2<i8>, k: usize| {
            LabelMatrix::new(votes, names(2), classes(k)).map(|_| ())
        };
        assert!(matrix(array![[-1, 126]], 127).is_ok());
        assert!(matrix(array![[-1, 127]], 127).is_err());
        assert_eq!(
            matrix(array![[-1, 0]], 128).unwrap_err().to_string(),
            "128 classes is more than labelgen handles: votes are 8-bit integers, so at most 127 \
             classes"
        );
        let error = matrix(array![[-1, 0], [5, -2]], 127).unwrap_err();
        assert_eq!(
            error.to_string(),
            "LF `lf1` votes -2 on row 1 (counting from 0), outside -1..127"
        );
        // Past one parallel block (1 << 16 cells), so the blocks are checked, not only the first.
        let mut votes = ndarray::Array2::from_elem((40_000, 2), 1i8);
        votes[[39_999, 0]] = 3;
        assert_eq!(
            matrix(votes, 3).unwrap_err().to_string(),
            "LF `lf0` votes 3 on row 39999 (counting from 0), outside -1..3"
        );
    }

    #[test]
    fn empty_matrix_has_zero_coverage() {
        let matrix = LabelMatrix::new(
            Array2::zeros((0, 2)),
            names(2),
            vec!["a".into(), "b".into()],
        )
        .unwrap();
        assert_eq!(matrix.lf_coverage(), [0.0, 0.0]);
        assert_eq!(matrix.label_coverage(), 0.0);
        assert_eq!(matrix.vote_counts(), [vec![0, 0], vec![0, 0]]);
    }
}
