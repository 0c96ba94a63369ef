//! The parallel CSV reader against the `csv` crate's sequential reader: the same header and
//! records, or both an error. labelgen is stricter in three ways, so the oracle refuses those
//! inputs too: a quoted field the file never closes (the csv crate closes it at the end of
//! the file), a column named twice (ambiguous to read), and text that is not UTF-8. The first
//! byte picks the delimiter and the batch size (under `cfg(fuzzing)` tiny blocks and pieces,
//! so small inputs cross them as large files do).

type Records = Vec<Vec<Vec<u8>>>;

/// Every record (header first) as the csv crate reads it, or `None` when it refuses the input
/// (a record with another number of fields than the header).
fn csv_records(bytes: &[u8], delimiter: u8) -> Option<Records> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = Vec::new();
    for record in reader.byte_records() {
        let record = record.ok()?;
        records.push(record.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
    }
    let fields = records.first().map_or(0, Vec::len);
    records
        .iter()
        .all(|record| record.len() == fields)
        .then_some(records)
}

/// What labelgen must read: the header and rows, or `None` for an error.
fn expected(bytes: &[u8], delimiter: u8) -> Option<super::Table> {
    let records = csv_records(bytes, delimiter)?;
    // A quoted field left open at the end reads the same when a closing quote is added; with
    // every field closed, the quote and line break make a difference (a longer field, or one
    // more record).
    let mut closed = bytes.to_vec();
    closed.extend_from_slice(b"\"\n");
    if !bytes.is_empty() && csv_records(&closed, delimiter).as_ref() == Some(&records) {
        return None;
    }
    let mut records = records.into_iter();
    let names: Vec<String> = records
        .next()
        .unwrap_or_default()
        .iter()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    let mut seen = std::collections::HashSet::new();
    if !names.iter().all(|name| seen.insert(name)) {
        return None;
    }
    let mut rows = Vec::new();
    for record in records {
        let row: Option<Vec<Option<String>>> = record
            .into_iter()
            .map(|field| String::from_utf8(field).ok().map(Some))
            .collect();
        rows.push(row?);
    }
    Some((names, rows))
}

pub fn run(data: &[u8]) {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let (delimiter, name) = if control & 1 == 0 {
        (b',', "in.csv")
    } else {
        (b'\t', "in.tsv")
    };
    let batch_rows = usize::from(control >> 1) * 64 + 1;
    let path = super::scratch(name, bytes);
    let ours = super::read_table(&path, batch_rows);
    match (ours, expected(bytes, delimiter)) {
        (Ok(ours), Some(theirs)) => assert_eq!(ours, theirs, "labelgen and the csv crate differ"),
        (Err(_), None) => {}
        (Ok(ours), None) => panic!("labelgen read {ours:?}, which it should refuse"),
        (Err(error), Some(theirs)) => panic!("labelgen refused {theirs:?}: {error}"),
    }
}
