//! CSV (and TSV) input, parsed in parallel with exact line numbers in errors.
//!
//! The file is read in blocks. Each block is cut into pieces at newlines that are outside
//! quotes by quote parity, and the pieces are parsed in parallel by `csv-core` (the engine of the
//! `csv` crate). Parity is only a guess when a quote stands inside an unquoted field, so every cut
//! is verified: a piece whose parse does not end exactly at its cut (it stopped inside a quoted
//! field) is parsed again sequentially, together with what follows, up to the next cut where a
//! record really ends. The result is exactly what one sequential parse would give.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use rayon::prelude::*;

use super::source::{BATCH_BYTES, BatchSource, OpenContext, SourceBatch, TableError, push_parsed};
use crate::table::{Batch, ColumnBuilder, ColumnType};

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads the requested columns of a CSV file with a header row.
pub(crate) struct CsvSource {
    path: PathBuf,
    file: File,
    /// Hash of the file's bytes up to `pending[hashed]`.
    hasher: blake3::Hasher,
    hashed: usize,
    delimiter: u8,
    /// Built `csv-core` parsers, reset and reused: building one compiles its DFA, and cloning
    /// one is broken in csv-core 0.1.13 (`Clone for Dfa` copies only the transition table).
    parsers: std::sync::Mutex<Vec<Reader>>,
    /// Number of fields in the header (every record must have as many).
    n_fields: usize,
    /// Per requested column: its field index, name and type (text when the request keeps the
    /// column's own type: CSV has no types).
    fields: Vec<(usize, String, ColumnType)>,
    /// Bytes read but not parsed yet; they start at a record boundary.
    pending: Vec<u8>,
    /// Line number of `pending[0]`.
    pending_line: u64,
    /// Bytes of the file consumed by parsed records (for progress).
    consumed: u64,
    block_bytes: usize,
    piece_bytes: usize,
    next_row: u64,
    eof: bool,
    total_bytes: u64,
}

/// The rows parsed from one piece of a block.
struct Piece {
    columns: Vec<ColumnBuilder>,
    rows: usize,
    /// Where parsing stopped at the end of a record, if it did (else it stopped inside one).
    clean_end: Option<usize>,
    /// Lines the piece spans (its parse counts lines from 0).
    end_line: u64,
    error: Option<TableError>,
}

/// The record csv-core is reading: its field bytes and field ends, grown as needed.
struct RecordBuffer {
    output: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    n_ends: usize,
}

impl RecordBuffer {
    fn new(bytes: usize, fields: usize) -> Self {
        RecordBuffer {
            output: vec![0; bytes],
            ends: vec![0; fields.max(1) + 1],
            out_len: 0,
            n_ends: 0,
        }
    }

    /// Feed `input` to `reader`; returns its result and the bytes it consumed. When a buffer
    /// was too small it is grown, and the caller calls again with the rest of the input.
    fn read(&mut self, reader: &mut Reader, input: &[u8]) -> (ReadRecordResult, usize) {
        let (result, nin, nout, nend) = reader.read_record(
            input,
            &mut self.output[self.out_len..],
            &mut self.ends[self.n_ends..],
        );
        self.out_len += nout;
        self.n_ends += nend;
        match result {
            ReadRecordResult::OutputFull => self.output.resize(self.output.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
            _ => {}
        }
        (result, nin)
    }

    /// The field bytes and field ends of the record read so far.
    fn record(&self) -> (&[u8], &[usize]) {
        (&self.output[..self.out_len], &self.ends[..self.n_ends])
    }

    /// True when no part of a record is pending.
    fn is_empty(&self) -> bool {
        self.out_len == 0 && self.n_ends == 0
    }

    fn clear(&mut self) {
        (self.out_len, self.n_ends) = (0, 0);
    }
}

impl CsvSource {
    pub fn open(context: &OpenContext<'_>, delimiter: u8) -> Result<CsvSource, TableError> {
        let file = File::open(context.path).map_err(|source| context.io(source))?;
        let total_bytes = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        let block_bytes = block_bytes(context.batch_rows);
        let mut source = CsvSource {
            path: context.path.to_owned(),
            file,
            hasher: blake3::Hasher::new(),
            hashed: 0,
            delimiter,
            parsers: std::sync::Mutex::new(Vec::new()),
            n_fields: 0,
            fields: Vec::new(),
            pending: Vec::new(),
            pending_line: 1,
            consumed: 0,
            block_bytes,
            piece_bytes: (block_bytes / 8).min(1 << 18),
            next_row: 0,
            eof: false,
            total_bytes,
        };
        let names = source.read_header()?;
        source.n_fields = names.len();
        for request in context.requests {
            let mut found = (0..names.len()).filter(|index| names[*index] == request.name);
            let Some(index) = found.next() else {
                return Err(context.missing(&request.name, names));
            };
            if let Some(second) = found.next() {
                return Err(TableError::DuplicateColumn {
                    path: source.path.clone(),
                    column: request.name.clone(),
                    first: index,
                    second,
                });
            }
            let column_type = request.column_type.unwrap_or(ColumnType::Text);
            source
                .fields
                .push((index, request.name.clone(), column_type));
        }
        Ok(source)
    }

    /// Run `work` with a parser in its initial state, starting at line `line`.
    fn with_parser<T>(&self, line: u64, work: impl FnOnce(&mut Reader) -> T) -> T {
        let pooled = self
            .parsers
            .lock()
            .map(|mut pool| pool.pop())
            .unwrap_or(None);
        let mut parser =
            pooled.unwrap_or_else(|| ReaderBuilder::new().delimiter(self.delimiter).build());
        parser.reset();
        parser.set_line(line);
        let result = work(&mut parser);
        if let Ok(mut pool) = self.parsers.lock() {
            pool.push(parser);
        }
        result
    }

    /// Empty builders for the requested fields of a piece of `len` bytes.
    fn piece_builders(&self, len: usize) -> Vec<ColumnBuilder> {
        self.fields
            .iter()
            .map(|(_, _, column_type)| ColumnBuilder::with_text_bytes(*column_type, len / 64, len))
            .collect()
    }

    /// Read until `pending` holds `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> Result<(), TableError> {
        if !self.eof && self.pending.len() < want {
            let missing = (want - self.pending.len()) as u64;
            let count = (&mut self.file)
                .take(missing)
                .read_to_end(&mut self.pending)
                .map_err(|source| TableError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            self.eof = (count as u64) < missing;
        }
        Ok(())
    }

    /// Parse the header row, leaving the rest in `pending`.
    fn read_header(&mut self) -> Result<Vec<String>, TableError> {
        let mut reader = ReaderBuilder::new().delimiter(self.delimiter).build();
        let mut record = RecordBuffer::new(1024, 64);
        let (mut offset, mut want) = (0, 1 << 16);
        loop {
            self.fill(want)?;
            let (result, consumed) = record.read(&mut reader, &self.pending[offset..]);
            offset += consumed;
            match result {
                ReadRecordResult::InputEmpty if !self.eof => want = self.pending.len() * 2,
                ReadRecordResult::Record | ReadRecordResult::End => break,
                _ => {}
            }
        }
        if self.eof
            && offset == self.pending.len()
            && let Some(error) = self.unclosed_quote(strip_bom(&self.pending), 1)
        {
            return Err(error);
        }
        self.hasher.update(&self.pending);
        self.hashed = self.pending.len() - offset;
        self.pending.drain(..offset);
        self.pending_line = reader.line();
        self.consumed = offset as u64;
        let (output, ends) = record.record();
        let mut start = 0;
        Ok(ends
            .iter()
            .map(|end| {
                let name = String::from_utf8_lossy(&output[start..*end]).into_owned();
                start = *end;
                name
            })
            .collect())
    }

    /// Parse records from `bytes`, which starts at a record boundary on line `line`, until the
    /// input runs out or a record ends at one of `stops`. With `finish`, the end of `bytes` is
    /// the end of the file and a last record without a line break is complete.
    fn parse(&self, bytes: &[u8], line: u64, stops: &[usize], finish: bool) -> Piece {
        if stops == [bytes.len()]
            && let Some(piece) = self.parse_fast(bytes, line, finish)
        {
            return piece;
        }
        self.with_parser(line, |reader| self.parse_with(reader, bytes, stops, finish))
    }

    /// The records of `bytes` by a fast path for plain RFC 4180 text: it jumps between
    /// delimiters, quotes and line ends with `memchr` instead of stepping a DFA byte by byte.
    /// Returns `None` on anything it does not handle exactly as csv-core does (a lone CR, text
    /// after a closing quote, a byte-order mark, a record cut off by the end of `bytes`), and
    /// csv-core parses the piece instead. Line numbers follow csv-core's counting.
    fn parse_fast(&self, bytes: &[u8], first_line: u64, finish: bool) -> Option<Piece> {
        if bytes.starts_with(BOM) {
            return None;
        }
        let delimiter = self.delimiter;
        let mut columns = self.piece_builders(bytes.len());
        let (mut record, mut ends) = (
            Vec::with_capacity(256),
            Vec::with_capacity(self.n_fields + 1),
        );
        let (mut position, mut line, mut record_line, mut rows) = (0, first_line, first_line, 0);
        while position < bytes.len() {
            match bytes[position] {
                b'\n' => {
                    (position, line) = (position + 1, line + 1);
                    continue;
                }
                b'\r' if bytes.get(position + 1) == Some(&b'\n') => {
                    (position, line) = (position + 2, line + 1);
                    continue;
                }
                b'\r' => return None,
                _ => {}
            }
            record.clear();
            ends.clear();
            loop {
                if bytes.get(position) == Some(&b'"') {
                    position += 1;
                    loop {
                        let quote = position + memchr::memchr(b'"', &bytes[position..])?;
                        let content = &bytes[position..quote];
                        line += memchr::memchr_iter(b'\n', content).count() as u64;
                        record.extend_from_slice(content);
                        position = quote + 1;
                        if bytes.get(position) != Some(&b'"') {
                            break;
                        }
                        record.push(b'"');
                        position += 1;
                    }
                } else {
                    let end = memchr::memchr3(delimiter, b'\n', b'\r', &bytes[position..])
                        .map_or(bytes.len(), |offset| position + offset);
                    record.extend_from_slice(&bytes[position..end]);
                    position = end;
                }
                ends.push(record.len());
                match bytes.get(position) {
                    Some(byte) if *byte == delimiter => position += 1,
                    Some(b'\n') => {
                        (position, line) = (position + 1, line + 1);
                        break;
                    }
                    Some(b'\r') if bytes.get(position + 1) == Some(&b'\n') => {
                        (position, line) = (position + 2, line + 1);
                        break;
                    }
                    None if finish => break,
                    _ => return None,
                }
            }
            if let Err(error) = self.push_record(&mut columns, &record, &ends, record_line) {
                return Some(Piece {
                    columns,
                    rows,
                    clean_end: None,
                    end_line: line,
                    error: Some(error),
                });
            }
            rows += 1;
            record_line = line;
        }
        Some(Piece {
            columns,
            rows,
            clean_end: Some(position),
            end_line: line,
            error: None,
        })
    }

    fn parse_with(
        &self,
        reader: &mut Reader,
        bytes: &[u8],
        stops: &[usize],
        finish: bool,
    ) -> Piece {
        let mut columns = self.piece_builders(bytes.len());
        let mut record = RecordBuffer::new(4096, self.n_fields);
        let (mut offset, mut rows, mut record_start) = (0, 0, 0);
        let mut record_line = reader.line();
        let mut stops = stops.iter().peekable();
        let piece = |columns, rows, clean_end, reader: &Reader, error| Piece {
            columns,
            rows,
            clean_end,
            end_line: reader.line(),
            error,
        };
        loop {
            let input = &bytes[offset..];
            if input.is_empty() && !finish {
                let clean = record.is_empty().then_some(offset);
                return piece(columns, rows, clean, reader, None);
            }
            // csv-core drops a byte-order mark at the start of what a fresh parser reads, as at
            // the start of a file; a piece starts later in the file, where it is data (as the
            // csv crate reads it): one byte first, which csv-core does not take for a mark.
            let input = match offset {
                0 if input.starts_with(BOM) => &input[..1],
                _ => input,
            };
            let (result, consumed) = record.read(reader, input);
            offset += consumed;
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::End => return piece(columns, rows, Some(offset), reader, None),
                ReadRecordResult::Record => {
                    // csv-core ends a quoted field at the end of the input as if it were closed.
                    if finish
                        && offset == bytes.len()
                        && let Some(error) =
                            self.unclosed_quote(&bytes[record_start..], record_line)
                    {
                        return piece(columns, rows, None, reader, Some(error));
                    }
                    let (fields, ends) = record.record();
                    if let Err(error) = self.push_record(&mut columns, fields, ends, record_line) {
                        return piece(columns, rows, None, reader, Some(error));
                    }
                    rows += 1;
                    record.clear();
                    record_line = reader.line();
                    record_start = offset;
                    while stops.next_if(|stop| **stop < offset).is_some() {}
                    if stops.peek().is_some_and(|stop| **stop == offset) {
                        return piece(columns, rows, Some(offset), reader, None);
                    }
                }
            }
        }
    }

    /// The error for `records` (starting at a record boundary on line `line`) when the input
    /// ends inside a quoted field: it names the line where that field's quote opens.
    fn unclosed_quote(&self, records: &[u8], line: u64) -> Option<TableError> {
        let start = open_quote(records, self.delimiter)?;
        let line = line + memchr::memchr_iter(b'\n', &records[..start]).count() as u64;
        Some(TableError::Malformed {
            path: self.path.clone(),
            line,
            message: "a quoted field opens here and is never closed (the file ends inside it); \
                      close it with `\"`, or write a quote inside a field as `\"\"`"
                .to_owned(),
        })
    }

    /// Append the requested fields of one record.
    fn push_record(
        &self,
        columns: &mut [ColumnBuilder],
        record: &[u8],
        ends: &[usize],
        line: u64,
    ) -> Result<(), TableError> {
        if ends.len() != self.n_fields {
            return Err(TableError::Malformed {
                path: self.path.clone(),
                line,
                message: format!(
                    "expected {} fields, as in the header, but found {}",
                    self.n_fields,
                    ends.len()
                ),
            });
        }
        for ((index, name, column_type), builder) in self.fields.iter().zip(columns.iter_mut()) {
            let start = if *index == 0 { 0 } else { ends[index - 1] };
            let bytes = &record[start..ends[*index]];
            let bad_value = |message: String| TableError::BadValue {
                path: self.path.clone(),
                line,
                column: name.clone(),
                message,
            };
            let text = std::str::from_utf8(bytes).map_err(|_| {
                bad_value("not valid UTF-8; re-encode the file as UTF-8".to_owned())
            })?;
            push_parsed(builder, *column_type, text).map_err(bad_value)?;
        }
        Ok(())
    }

    /// Parse the pieces ending at `cuts` in parallel, then keep them in order as long as each
    /// ends where the next begins; re-parse sequentially from the first that does not.
    /// Pieces count lines from 0; the kept ones are returned with the line each starts on (an
    /// error's line is made absolute here), and how many bytes of `pending` they consumed.
    fn parse_block(&self, cuts: &[usize]) -> (Vec<(Piece, u64)>, usize) {
        let finish = self.eof;
        let last = cuts.len() - 1;
        let parsed: Vec<Piece> = (0..cuts.len())
            .into_par_iter()
            .map(|index| {
                let start = if index == 0 { 0 } else { cuts[index - 1] };
                let stop = cuts[index] - start;
                self.parse(
                    &self.pending[start..cuts[index]],
                    0,
                    &[stop],
                    finish && index == last,
                )
            })
            .collect();
        let mut kept = Vec::with_capacity(parsed.len());
        let mut consumed = 0;
        let mut line = self.pending_line;
        let mut parsed = parsed.into_iter().enumerate();
        while let Some((index, piece)) = parsed.next() {
            let start = consumed;
            let mut piece = if piece.error.is_some() || piece.clean_end == Some(cuts[index] - start)
            {
                piece
            } else {
                // The cut at `cuts[index]` is inside a quoted field: parse on from `start`.
                let stops: Vec<usize> = cuts[index..].iter().map(|cut| cut - start).collect();
                let piece = self.parse(&self.pending[start..cuts[last]], 0, &stops, finish);
                let end = piece.clean_end.map(|end| end + start);
                // Skip the pieces the sequential parse went through.
                while parsed.len() > 0
                    && end.is_some_and(|end| cuts[last - parsed.len() + 1] <= end)
                {
                    parsed.next();
                }
                piece
            };
            if let Some(error) = piece.error.take() {
                piece.error = Some(error.shifted(line));
                kept.push((piece, line));
                break;
            }
            let Some(end) = piece.clean_end else { break };
            consumed = start + end;
            let piece_line = line;
            line += piece.end_line;
            kept.push((piece, piece_line));
        }
        (kept, consumed)
    }
}

/// `bytes` without the byte-order mark csv-core drops at the start of a file.
fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Where the quoted field left open at the end of `records` starts (the offset of its opening
/// quote), or `None` when every quote is closed. Quotes are read as csv-core reads them: a
/// quote opens a field only at the field's start, `""` inside it is a quote, and the field ends
/// at its closing quote (text after that quote belongs to the field, unquoted).
fn open_quote(records: &[u8], delimiter: u8) -> Option<usize> {
    enum State {
        FieldStart,
        Unquoted,
        Quoted(usize),
        AfterQuote(usize),
    }
    let mut state = State::FieldStart;
    for (position, byte) in records.iter().enumerate() {
        let ends_field = *byte == delimiter || *byte == b'\n' || *byte == b'\r';
        state = match state {
            State::Quoted(start) if *byte == b'"' => State::AfterQuote(start),
            quoted @ State::Quoted(_) => quoted,
            State::AfterQuote(start) if *byte == b'"' => State::Quoted(start),
            _ if ends_field => State::FieldStart,
            State::FieldStart if *byte == b'"' => State::Quoted(position),
            _ => State::Unquoted,
        };
    }
    match state {
        State::Quoted(start) => Some(start),
        _ => None,
    }
}

/// Bytes read per block for batches of `batch_rows` rows: about 160 a row, within bounds.
/// Fuzzing builds (`cfg(fuzzing)`, set by cargo-fuzz) read tiny blocks, so that small inputs
/// cross blocks and pieces as large files do.
fn block_bytes(batch_rows: usize) -> usize {
    if cfg!(fuzzing) {
        return batch_rows.clamp(16, 4096);
    }
    batch_rows.saturating_mul(160).clamp(1 << 18, BATCH_BYTES)
}

/// Piece ends at newlines outside quotes (by quote parity), about `piece_bytes` apart; the last
/// piece ends at the last such newline, or at the end of `bytes` when the file ends there.
fn cut_points(bytes: &[u8], piece_bytes: usize, eof: bool) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut start = 0;
    let mut last_newline = None;
    let mut inside_quotes = false;
    for position in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[position] == b'"' {
            inside_quotes = !inside_quotes;
            continue;
        }
        // A record starting with a byte-order mark would lose it to a fresh parser: no cut there.
        if inside_quotes || bytes[position + 1..].starts_with(BOM) {
            continue;
        }
        last_newline = Some(position + 1);
        if position + 1 - start >= piece_bytes {
            cuts.push(position + 1);
            start = position + 1;
        }
    }
    if eof {
        if start < bytes.len() {
            cuts.push(bytes.len());
        }
    } else if let Some(end) = last_newline.filter(|end| *end > start) {
        cuts.push(end);
    }
    cuts
}

impl BatchSource for CsvSource {
    fn next_batch(&mut self) -> Result<Option<SourceBatch>, TableError> {
        let mut want = self.block_bytes;
        let cuts = loop {
            self.fill(want)?;
            if self.pending.is_empty() {
                return Ok(None);
            }
            let cuts = cut_points(&self.pending, self.piece_bytes, self.eof);
            if !cuts.is_empty() {
                break cuts;
            }
            want = self.pending.len() * 2; // one record longer than the block: read more
        };
        // Hash the bytes read since last time while the pieces are parsed.
        let mut hasher = std::mem::replace(&mut self.hasher, blake3::Hasher::new());
        let new_bytes = &self.pending[self.hashed..];
        let (_, (pieces, consumed)) =
            rayon::join(|| hasher.update(new_bytes), || self.parse_block(&cuts));
        self.hasher = hasher;
        self.hashed = self.pending.len();
        if consumed == 0 && pieces.iter().all(|(piece, _)| piece.error.is_none()) {
            // Every cut fell inside a quoted field: read more and try again.
            self.block_bytes = self.pending.len() * 2;
            return self.next_batch();
        }
        let mut parts = Vec::with_capacity(pieces.len());
        for (piece, line) in pieces {
            if let Some(error) = piece.error {
                return Err(error);
            }
            self.pending_line = line + piece.end_line;
            if piece.rows > 0 {
                let columns = piece
                    .columns
                    .into_iter()
                    .map(ColumnBuilder::finish)
                    .collect();
                parts.push(Batch {
                    first_row: self.next_row,
                    n_rows: piece.rows,
                    columns,
                });
                self.next_row += piece.rows as u64;
            }
        }
        self.pending.drain(..consumed);
        self.hashed -= consumed;
        self.consumed += consumed as u64;
        if parts.is_empty() {
            return self.next_batch();
        }
        Ok(Some(SourceBatch {
            parts,
            position: self.consumed,
        }))
    }

    fn progress_total(&self) -> Option<u64> {
        Some(self.total_bytes)
    }

    fn content_hash(&mut self) -> Result<blake3::Hash, TableError> {
        // Normally everything was read and hashed; hash what an early stop left unread.
        self.hasher.update(&self.pending[self.hashed..]);
        self.hashed = self.pending.len();
        let mut rest = Vec::new();
        self.file
            .read_to_end(&mut rest)
            .map_err(|source| TableError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.hasher.update(&rest);
        Ok(self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_after_newlines_outside_quotes() {
        let bytes = b"a,\"x\ny\"\nb,c\nd,e\n";
        assert_eq!(cut_points(bytes, 1, false), [8, 12, 16]);
        assert_eq!(cut_points(b"a,b\nc", 1, false), [4]);
        assert_eq!(cut_points(b"a,b\nc", 1, true), [4, 5]);
        assert_eq!(cut_points(b"a,b\nc,d\n", 100, false), [8]);
        assert_eq!(cut_points(b"no newline", 1, false), Vec::<usize>::new());
    }

    /// Records larger than csv-core's first buffers (a 20,000-byte field, 100 fields, a long
    /// header name) grow them; a lone CR sends the piece through csv-core, not the fast path.
    #[test]
    fn long_records_grow_the_buffers() {
        use crate::io::open::open_table;
        use crate::io::source::TableFormat;
        use crate::table::{ColumnRequest, ColumnType};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.csv");
        let long_name = "n".repeat(3000);
        let mut header: Vec<String> = (0..99).map(|index| format!("c{index}")).collect();
        header.push(long_name.clone());
        let long_field = "x".repeat(20_000);
        let row: Vec<String> = (0..99)
            .map(|index| index.to_string())
            .chain([long_field.clone()])
            .collect();
        std::fs::write(
            &path,
            format!(
                "{}\n{}\r{}\n",
                header.join(","),
                row.join(","),
                row.join(",")
            ),
        )
        .unwrap();
        let requests = [ColumnRequest {
            name: long_name,
            column_type: Some(ColumnType::Text),
        }];
        let mut source = open_table(
            &path,
            TableFormat::Csv { delimiter: b',' },
            &requests,
            &|_| String::new(),
            8,
        )
        .unwrap();
        let texts = crate::io::source::all_texts(source.as_mut(), 0);
        assert_eq!(texts, [long_field.clone(), long_field]);
    }
}
