//! The NDJSON reader: never a panic; what it reads is what serde_json reads line by line (one
//! row per non-blank line, text cells equal); and a file of objects whose values are all
//! strings or null is always read. The first byte picks the batch size.

use serde_json::Value;

pub fn run(data: &[u8]) {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let path = super::scratch("in.ndjson", bytes);
    let ours = super::read_table(&path, usize::from(control) + 1);
    let objects: Option<Vec<serde_json::Map<String, Value>>> = bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| match serde_json::from_slice(line) {
            Ok(Value::Object(object)) => Some(object),
            _ => None,
        })
        .collect();
    let all_text = objects.as_ref().is_some_and(|objects| {
        objects
            .iter()
            .flat_map(|object| object.values())
            .all(|value| value.is_string() || value.is_null())
            && objects
                .first()
                .is_none_or(|first| first.values().all(Value::is_string))
    });
    match (ours, objects) {
        (Ok((names, rows)), Some(objects)) => {
            assert_eq!(rows.len(), objects.len());
            for (row, object) in rows.iter().zip(&objects) {
                for (name, cell) in names.iter().zip(row) {
                    if let Some(Value::String(text)) = object.get(name) {
                        assert_eq!(cell.as_deref(), Some(text.as_str()));
                    }
                }
            }
        }
        (Ok((_, rows)), None) => panic!("read {} rows from lines serde_json refuses", rows.len()),
        (Err(error), Some(_)) if all_text => panic!("refused objects of text: {error}"),
        (Err(_), _) => {}
    }
}
