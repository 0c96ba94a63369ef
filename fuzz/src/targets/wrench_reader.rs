//! A WRENCH split, read as a table (what `apply` reads) and as a label matrix (what `fit`,
//! `label`, `score` and `analyze` read): never a panic; a matrix read has votes in range and
//! gold labels in range, one per row.

use labelgen::io::matrix_read::{ReadOptions, read_matrix};

pub fn run(data: &[u8]) {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let path = super::scratch("split.json", bytes);
    if let Ok((names, rows)) = super::read_table(&path, usize::from(control) + 1) {
        assert!(rows.iter().all(|row| row.len() == names.len()));
    }
    let cardinality = usize::from(control % 5) + 1;
    let options = ReadOptions {
        cardinality: Some(cardinality),
        fallback_cardinality: None,
    };
    if let Ok(loaded) = read_matrix(&path, &options) {
        let matrix = loaded.matrix;
        assert!(matrix.cardinality() >= 2);
        let k = matrix.cardinality() as i8;
        assert!(matrix.votes().iter().all(|vote| (-1..k).contains(vote)));
        let gold = loaded.gold.expect("a split has gold labels");
        assert_eq!(gold.len(), matrix.n_rows());
        assert!(gold.iter().all(|label| (-1..i64::from(k)).contains(label)));
    }
}
