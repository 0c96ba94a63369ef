//! Hard labels from probabilities: the most probable class, ties broken by a policy; random
//! tie-breaks hash the row's key. Below the models, which produce the probabilities, and the
//! label files, which record the policy.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::matrix::RowKeys;

/// How hard labels are drawn from probabilities when classes tie for the highest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TieBreak {
    /// Emit `-1` (no label).
    #[default]
    Abstain,
    /// Pick one of the tied classes by a hash of the row key and the seed.
    Random,
}

/// Hard labels from probabilities: the most probable class, ties broken by `tie_break`.
/// Random tie-breaks hash the row key (the row's position only when the matrix has no keys)
/// with the seed, so a row gets the same label wherever it stands in a file.
pub fn hard_labels(
    probabilities: &Array2<f64>,
    keys: Option<&RowKeys>,
    tie_break: TieBreak,
    seed: u64,
) -> Vec<i8> {
    let label_of = |row: usize, p: &[f64]| -> i8 {
        let best = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let is_tied = |class: &usize| p[*class] >= best - 1e-12;
        let tied = (0..p.len()).filter(is_tied).count();
        let pick = match (tied, tie_break) {
            (1, _) => Some(0),
            (_, TieBreak::Abstain) => None,
            (count, TieBreak::Random) => {
                Some((row_key_hash(keys, row, seed) % count as u64) as usize)
            }
        };
        pick.map_or(-1, |pick| {
            (0..p.len()).filter(is_tied).nth(pick).unwrap_or(0) as i8
        })
    };
    const ROWS: usize = 4096;
    let k = probabilities.ncols();
    let mut labels = vec![-1i8; probabilities.nrows()];
    match probabilities.as_slice() {
        // The usual row-major table: each row a slice, blocks of rows in parallel.
        Some(flat) if k > 0 => labels
            .par_chunks_mut(ROWS)
            .zip(flat.par_chunks(ROWS * k))
            .enumerate()
            .for_each(|(block, (labels, rows))| {
                for (offset, (label, p)) in labels.iter_mut().zip(rows.chunks_exact(k)).enumerate()
                {
                    *label = label_of(block * ROWS + offset, p);
                }
            }),
        _ => labels
            .par_iter_mut()
            .with_min_len(ROWS)
            .enumerate()
            .for_each(|(row, label)| *label = label_of(row, &probabilities.row(row).to_vec())),
    }
    labels
}

/// A seeded 64-bit hash of row `row`'s key (of its position when there are no keys): decides
/// random tie-breaks and samples by what a row is, not where it sits.
pub fn row_key_hash(keys: Option<&RowKeys>, row: usize, seed: u64) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    match keys {
        Some(RowKeys::Text(keys)) => hasher.update(b"t").update(keys[row].as_bytes()),
        Some(RowKeys::Int(keys)) => hasher.update(b"i").update(&keys[row].to_le_bytes()),
        None => hasher.update(b"p").update(&(row as u64).to_le_bytes()),
    };
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hard_labels_take_the_maximum_and_break_ties_as_told() {
        let p = array![[0.2, 0.8], [0.5, 0.5], [0.7, 0.3]];
        assert_eq!(hard_labels(&p, None, TieBreak::Abstain, 1), [1, -1, 0]);
        let keys = RowKeys::Text(vec!["a".into(), "b".into(), "c".into()]);
        let random = hard_labels(&p, Some(&keys), TieBreak::Random, 1);
        assert_eq!((random[0], random[2]), (1, 0));
        assert!(random[1] == 0 || random[1] == 1);
        // The tie-break follows the key, not the position.
        let moved = array![[0.5, 0.5], [0.2, 0.8]];
        let moved_keys = RowKeys::Text(vec!["b".into(), "a".into()]);
        assert_eq!(
            hard_labels(&moved, Some(&moved_keys), TieBreak::Random, 1)[0],
            random[1]
        );
        // Over many keys, both tied classes come up.
        let many = Array2::from_elem((200, 2), 0.5);
        let keys = RowKeys::Int((0..200).collect());
        let labels = hard_labels(&many, Some(&keys), TieBreak::Random, 9);
        let ones = labels.iter().filter(|label| **label == 1).count();
        assert!((60..140).contains(&ones), "{ones} of 200");
    }
}
