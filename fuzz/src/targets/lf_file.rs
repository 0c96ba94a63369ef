//! The LF-file parser and compiler, through the public API (`LfSet::load`): never a panic; an
//! LF set it accepts applies to a batch of every column type it reads (values drawn from the
//! input) with votes in range. Inputs that could name a list file (`file`, or an escape that
//! could spell it) are skipped, so the target never reads outside its scratch folder.
//!
//! Found: an empty lookup value matched as a token panicked (now refused when the file is read;
//! tests/cli/apply_errors.rs, `an_empty_lookup_value_matched_as_a_token`).

use labelgen::apply::apply_to_batch;
use labelgen::io::table::{Batch, ColumnBuilder, ColumnType};
use labelgen::lf::{LfSet, LfSource};

const TEXTS: [&str; 6] = [
    "",
    "Check out my channel!",
    "nice song 10/10",
    "ÉCOLE école",
    "a b  c",
    "ß",
];

fn column(column_type: ColumnType, rows: usize, seed: &[u8]) -> ColumnBuilder {
    let mut builder = ColumnBuilder::new(column_type, rows);
    for row in 0..rows {
        let byte = seed.get(row % seed.len().max(1)).copied().unwrap_or(0);
        if byte % 7 == 0 {
            builder.push_null();
            continue;
        }
        match column_type {
            ColumnType::Text => builder.push_text(TEXTS[usize::from(byte) % TEXTS.len()]),
            ColumnType::Float => {
                builder.push_float([f64::NAN, -1.5, 0.0, 3.0, 1e300][usize::from(byte) % 5])
            }
            ColumnType::Int => builder.push_int(i64::from(byte) - 128),
            ColumnType::Bool => builder.push_bool(byte % 2 == 0),
        }
    }
    builder
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("file") || text.contains("\\u") || text.contains("\\U") {
        return;
    }
    let path = super::scratch("lfs.toml", data);
    let Ok(set) = LfSet::load(&[LfSource::Declarative(path)]) else {
        return;
    };
    let k = set.classes().len();
    assert!((2..=127).contains(&k));
    let Ok(plan) = set.read_plan(&Default::default(), None) else {
        return;
    };
    let rows = 20;
    let columns = plan
        .requests
        .iter()
        .map(|request| column(request.column_type.unwrap_or(ColumnType::Text), rows, data).finish())
        .collect();
    let batch = Batch {
        first_row: 0,
        n_rows: rows,
        columns,
    };
    let votes = apply_to_batch(&set, &plan, &batch).expect("declarative LFs never fail");
    assert_eq!(votes.len(), rows * set.lfs().len());
    assert!(votes.iter().all(|vote| (-1..k as i8).contains(vote)));
}
