//! Splitting CSV input into records and fields: a line at a time, with `csv_core` for the
//! rows that need quoting rules.

use std::io::BufRead;

use super::InputReader;

mod line_scan;
mod pass_over;

use line_scan::scan_line;

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads CSV records into reused buffers, so a record costs no allocation.
///
/// Most rows carry no quote: such a row is one line, split on the delimiter where it
/// stands. A line with a quote is read by `csv_core` with RFC 4180's rules instead, on as
/// many lines as its quoted fields span. A record ends at a line feed (`\n` or `\r\n`)
/// outside quotes; a lone carriage return is data, and a field keeps a `\r\n` inside its
/// quotes as written (as Python's csv and the csv crate do). Blank lines are passed over, as the csv crate does; a byte-order mark
/// before the first record is dropped.
#[derive(Debug)]
pub struct CsvRecords {
    /// The input, read through its own buffer: a row that sits whole in that buffer is
    /// split where it stands.
    input: InputReader,
    delimiter: u8,
    /// The record's raw bytes: its line(s) without the final line break.
    raw: Vec<u8>,
    /// Unquoted field bytes, for a record `csv_core` read.
    unquoted: Vec<u8>,
    ends: Vec<usize>,
    /// Each field's `(start, end)` in `raw` (split rows) or `unquoted` (quoted rows).
    bounds: Vec<(usize, usize)>,
    /// Where the current record's fields are.
    place: Place,
    /// Bytes at the start of the reader's buffer that records have taken, consumed once
    /// the buffer holds no whole line past them (or before reading by other means).
    pending: usize,
    /// Where (counted in bytes consumed from the input) the first quote at or after the
    /// records read so far is, or the end of the input's buffer when it holds none:
    /// [`CsvRecords::pass_over_not_later_than`] passes over lines before it.
    clean_to: u64,
    /// A record read so far had a line break inside quotes (or ended the input inside
    /// quotes): a line start is not always a record start ([`CsvRecords::met_quoted_line_break`]).
    quoted_line_break: bool,
    parser: csv_core::Reader,
    /// Lines read so far, and the line the current record starts on (1-based).
    lines: u64,
    record_line: u64,
    /// Bytes read so far.
    position: u64,
    /// Where (in bytes read) the current record starts.
    record_start: u64,
    /// The line of the last record whose quoted field the input ended inside (0: none).
    unterminated_line: u64,
    at_start: bool,
}

/// Which bytes a record's field bounds refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The input's buffer, from its start (records before it included).
    Input,
    /// `raw`: a row that straddled two fills of the input's buffer.
    Raw,
    /// `unquoted`: a row read by `csv_core`.
    Unquoted,
}

/// Where a record's fields are: `bytes[start..end]` for each `(start, end)`.
#[derive(Debug, Clone, Copy)]
pub struct CsvFields<'r> {
    bytes: &'r [u8],
    bounds: &'r [(usize, usize)],
}

impl<'r> CsvFields<'r> {
    /// Field `i`'s bytes (quotes removed).
    #[inline]
    pub fn get(&self, i: usize) -> &'r [u8] {
        let (start, end) = self.bounds[i];
        &self.bytes[start..end]
    }

    /// Field `i`'s bytes, and the bytes from its start to the end of the buffer it sits
    /// in (the field, then what follows it): a number can be read a word at a time.
    #[inline(always)]
    pub fn get_with_rest(&self, i: usize) -> (&'r [u8], &'r [u8]) {
        let (start, end) = self.bounds[i];
        let rest = &self.bytes[start..];
        (&rest[..end - start], rest)
    }

    /// How many fields the record has.
    #[inline]
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'r [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl CsvRecords {
    /// Records of `input`, with fields separated by `delimiter`.
    pub fn new(input: InputReader, delimiter: u8) -> Self {
        CsvRecords {
            input,
            delimiter,
            raw: Vec::with_capacity(256),
            unquoted: vec![0; 256],
            ends: vec![0; 16],
            bounds: Vec::with_capacity(16),
            place: Place::Raw,
            pending: 0,
            clean_to: 0,
            quoted_line_break: false,
            parser: csv_core::ReaderBuilder::new()
                .delimiter(delimiter)
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            lines: 0,
            record_line: 0,
            position: 0,
            record_start: 0,
            unterminated_line: 0,
            at_start: true,
        }
    }

    /// Reads the next record; `false` at the end of the input.
    #[inline(always)]
    pub fn advance(&mut self) -> std::io::Result<bool> {
        loop {
            // Records are split where they sit in the input's buffer, which is consumed
            // only once no whole line is left in it: a `consume` and `fill_buf` per
            // record cost more than the rest of finding its fields.
            let mut buf = self.input.buffer();
            if self.pending >= buf.len() {
                self.input.consume(std::mem::take(&mut self.pending));
                buf = self.input.fill_buf()?;
                if buf.is_empty() {
                    return Ok(false);
                }
            }
            let from = self.pending;
            self.lines += 1;
            self.record_line = self.lines;
            let bom = if self.at_start && buf[from..].starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            self.at_start = false;
            self.bounds.clear();
            let first = from + bom;
            let (end, quote) = scan_line(buf, first, self.delimiter, &mut self.bounds);
            let start = self.bounds.last().map_or(first, |&(_, d)| d + 1);
            let Some(end) = end else {
                self.input.consume(std::mem::take(&mut self.pending));
                self.read_long_line(bom)?;
                if self.raw.is_empty() {
                    continue;
                }
                return Ok(true);
            };
            self.position += (end + 1 - from) as u64;
            self.pending = end + 1;
            let last = if end > start && buf[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            if last == first {
                continue; // a blank line
            }
            if quote {
                // Where it starts is needed only if its quote never closes (`unterminated`).
                self.record_start = self.position - (end + 1 - first) as u64;
                // With its line break: a `\r\n` inside quotes belongs to the field.
                self.raw.clear();
                self.raw.extend_from_slice(&buf[first..=end]);
                self.input.consume(std::mem::take(&mut self.pending));
                self.read_quoted()?;
                return Ok(true);
            }
            self.bounds.push((start, last));
            self.place = Place::Input;
            return Ok(true);
        }
    }

    /// Reads a line that goes past the end of the input's buffer into `raw` and splits it
    /// there (or reads it with quoting rules); `raw` is left empty for a blank line.
    #[cold]
    fn read_long_line(&mut self, bom: usize) -> std::io::Result<()> {
        self.raw.clear();
        self.input.consume(bom);
        let n = self.input.read_until(b'\n', &mut self.raw)?;
        self.record_start = self.position + bom as u64;
        self.position += (n + bom) as u64;
        if memchr::memchr(b'"', &self.raw).is_some() {
            return self.read_quoted();
        }
        if self.raw.last() == Some(&b'\n') {
            self.raw.pop();
            if self.raw.last() == Some(&b'\r') {
                self.raw.pop();
            }
        }
        if self.raw.is_empty() {
            return Ok(());
        }
        self.place = Place::Raw;
        self.bounds.clear();
        let mut start = 0;
        for at in memchr::memchr_iter(self.delimiter, &self.raw) {
            self.bounds.push((start, at));
            start = at + 1;
        }
        self.bounds.push((start, self.raw.len()));
        Ok(())
    }

    /// The current record's fields.
    #[inline(always)]
    pub fn fields(&self) -> CsvFields<'_> {
        CsvFields {
            bytes: match self.place {
                Place::Input => self.input.buffer(),
                Place::Raw => &self.raw,
                Place::Unquoted => &self.unquoted,
            },
            bounds: &self.bounds,
        }
    }

    /// The current record as it was written, without its final line break: what a dead
    /// letter keeps, so it can be replayed.
    pub fn raw(&self) -> &[u8] {
        match self.place {
            Place::Input => {
                let (first, last) = (self.bounds[0].0, self.bounds[self.bounds.len() - 1].1);
                &self.input.buffer()[first..last]
            }
            Place::Raw | Place::Unquoted => &self.raw,
        }
    }

    /// The line of the file the current record starts on (1-based), also when the input
    /// is a worker's slice of the file.
    pub fn line(&self) -> u64 {
        self.input.lines_before() + self.record_line
    }

    /// Bytes of input read so far.
    #[inline]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Lines of input read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Goes back (or on) to byte `offset` of the input, a record start after `lines`
    /// lines, to read on from there; `false` (and nothing changed) when the input cannot
    /// go there (standard input).
    pub fn seek(&mut self, offset: u64, lines: u64) -> std::io::Result<bool> {
        if !self.input.rewind_to(offset)? {
            return Ok(false);
        }
        self.pending = 0;
        self.position = offset;
        self.lines = lines;
        self.record_line = lines;
        self.record_start = offset;
        // Nothing is known of quotes past here yet: nothing is passed over unread.
        self.clean_to = offset;
        self.at_start = offset == 0;
        self.bounds.clear();
        self.place = Place::Raw;
        self.raw.clear();
        Ok(true)
    }

    /// The input, to ask where it stands.
    pub fn input(&self) -> &InputReader {
        &self.input
    }

    /// The input, to poll while it is quiet. The current record is done with by then: its
    /// bytes are consumed first, so that what the input still holds is only what is new.
    pub fn input_mut(&mut self) -> &mut InputReader {
        self.input.consume(std::mem::take(&mut self.pending));
        self.bounds.clear();
        self.place = Place::Raw;
        self.raw.clear();
        &mut self.input
    }

    /// Ends a record whose quoted field the input ended inside: without a closing quote
    /// nothing says where the field should have ended, so the record is its first line
    /// alone, with no fields (its source refuses it, naming the line), and a file is read
    /// again from the line after it. Standard input cannot go back: there the record is
    /// everything to the end.
    #[cold]
    fn unterminated(&mut self) -> std::io::Result<()> {
        self.unterminated_line = self.record_line;
        self.place = Place::Raw;
        self.bounds.clear();
        let Some(first_end) = memchr::memchr(b'\n', &self.raw) else {
            return Ok(());
        };
        let next = self.record_start + first_end as u64 + 1;
        if first_end + 1 < self.raw.len() && self.input.rewind_to(next)? {
            self.pending = 0;
            self.position = next;
            self.lines = self.record_line;
            self.raw.truncate(first_end);
            if self.raw.last() == Some(&b'\r') {
                self.raw.pop();
            }
        } else if self.raw.last() == Some(&b'\n') {
            self.raw.pop();
        }
        Ok(())
    }

    /// The line the current record starts on, if the input ended inside one of its
    /// quoted fields (see [`CsvRecords::unterminated`]).
    pub fn unterminated_at(&self) -> Option<u64> {
        (self.unterminated_line == self.record_line && self.unterminated_line != 0)
            .then(|| self.line())
    }

    /// Reads a record with quotes through `csv_core`, taking more lines while a quoted
    /// field is open; `raw` holds its first line with the line break, if it had one. The
    /// record's raw bytes keep the line breaks inside it.
    #[cold]
    fn read_quoted(&mut self) -> std::io::Result<()> {
        self.place = Place::Unquoted;
        self.parser.reset();
        // The parser sees each line with its break, so a line break outside quotes ends
        // the record.
        if self.raw.last() != Some(&b'\n') {
            self.raw.push(b'\n');
        }
        let (mut fed, mut nout, mut nend) = (0, 0, 0);
        let mut at_end = false;
        let mut ends_record = false;
        loop {
            let input = if at_end { &[][..] } else { &self.raw[fed..] };
            let (result, nin, out, end) =
                self.parser
                    .read_record(input, &mut self.unquoted[nout..], &mut self.ends[nend..]);
            fed += nin;
            nout += out;
            nend += end;
            match result {
                csv_core::ReadRecordResult::Record => {
                    ends_record = true;
                    break;
                }
                csv_core::ReadRecordResult::End => break,
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.unquoted.len() * 2;
                    self.unquoted.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::InputEmpty if at_end => break,
                csv_core::ReadRecordResult::InputEmpty => {
                    // A quoted field is open at the end of the line: it goes on.
                    self.quoted_line_break = true;
                    let n = self.input.read_until(b'\n', &mut self.raw)?;
                    self.position += n as u64;
                    if n == 0 {
                        at_end = true; // the input ends inside a quote
                        continue;
                    }
                    self.lines += 1;
                    if self.raw.last() != Some(&b'\n') {
                        self.raw.push(b'\n');
                    }
                }
            }
        }
        if at_end {
            return self.unterminated();
        }
        if self.raw.last() == Some(&b'\n') {
            self.raw.pop();
            // A `\r` before the line feed that ended the record stood outside quotes (no
            // quote fits between the two), so it is the line break's, not the field's,
            // which the parser (ending records at `\n` alone) gave it to.
            if ends_record && self.raw.last() == Some(&b'\r') {
                self.raw.pop();
                if nend > 0 && nout > 0 && self.unquoted[nout - 1] == b'\r' {
                    self.ends[nend - 1] -= 1;
                }
            }
        }
        self.bounds.clear();
        let mut start = 0;
        for &end in &self.ends[..nend] {
            self.bounds.push((start, end));
            start = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::InputSpec;
    use proptest::prelude::*;

    /// `CsvRecords` over a file holding `text` (kept while the records are read).
    pub(super) fn records_of(text: &[u8]) -> (tempfile::NamedTempFile, CsvRecords) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        let spec = InputSpec::File(file.path().display().to_string());
        let records = CsvRecords::new(
            InputReader::open(&spec, &crate::io::InputStop::new()).unwrap(),
            b',',
        );
        (file, records)
    }

    /// Every record of `text` with its line, read by `CsvRecords`.
    pub(super) fn read_with_lines(text: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
        let (_file, mut records) = records_of(text);
        let mut out = Vec::new();
        while records.advance().unwrap() {
            out.push((
                records.line(),
                records.fields().iter().map(<[u8]>::to_vec).collect(),
            ));
        }
        out
    }

    /// Every record of `text` as its fields, read by `CsvRecords`.
    fn read(text: &[u8]) -> Vec<Vec<Vec<u8>>> {
        read_with_lines(text)
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// The same, read by the csv crate (blank lines skipped, any number of fields).
    fn reference(text: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        reader
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    pub(super) fn write(rows: &[Vec<String>], crlf: bool) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(if crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.into_inner().unwrap()
    }

    proptest! {
        /// Fields with delimiters, quotes, spaces and line breaks read back as the csv crate
        /// reads them, with `\n` or `\r\n` line ends.
        #[test]
        fn reads_what_the_csv_crate_reads(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-c,\" \r\n]{0,6}", 1..5), 0..40),
            crlf in any::<bool>(),
        ) {
            let text = write(&rows, crlf);
            prop_assert_eq!(read(&text), reference(&text));
        }
    }

    #[test]
    fn rows_across_the_end_of_the_read_buffer_and_longer_than_it() {
        let mut rows: Vec<Vec<String>> = (0..30_000)
            .map(|i| vec![i.to_string(), "x".repeat(i % 23), format!("q\"{i}")])
            .collect();
        rows.insert(12_345, vec!["long".into(), "y".repeat(600_000)]);
        rows.insert(20_000, vec!["long, quoted".into(), "z\n".repeat(200_000)]);
        let text = write(&rows, false);
        let got = read(&text);
        assert_eq!(got.len(), rows.len());
        assert_eq!(got, reference(&text));
    }

    #[test]
    fn blank_lines_a_byte_order_mark_and_a_missing_last_line_break() {
        let text = b"\xEF\xBB\xBFa,b\n\n\r\nc,\"d\n\"\n\ne,f";
        let want: Vec<Vec<Vec<u8>>> = vec![
            vec![b"a".to_vec(), b"b".to_vec()],
            vec![b"c".to_vec(), b"d\n".to_vec()],
            vec![b"e".to_vec(), b"f".to_vec()],
        ];
        assert_eq!(read(text), want);
    }

    #[test]
    fn a_quoted_crlf_keeps_its_carriage_return() {
        // As Python's csv reads it; weir's own CSV sink writes `\r\n` inside quotes.
        let text = b"1,\"a\r\nb\"\r\n2,\"c\r\"\n3,\"d\"\r\n4,x\r\n";
        let want: Vec<Vec<Vec<u8>>> = vec![
            vec![b"1".to_vec(), b"a\r\nb".to_vec()],
            vec![b"2".to_vec(), b"c\r".to_vec()],
            vec![b"3".to_vec(), b"d".to_vec()],
            vec![b"4".to_vec(), b"x".to_vec()],
        ];
        assert_eq!(read(text), want);
        assert_eq!(read(text), reference(text));
        let (_file, mut records) = records_of(b"1,\"a\r\nb\"\r\n");
        assert!(records.advance().unwrap());
        assert_eq!(records.raw(), b"1,\"a\r\nb\"");
    }

    /// A quote the input never closes makes its first line a record of its own (with no
    /// fields, so its source refuses it), and a file is read on from the next line, where
    /// the records parse again.
    #[test]
    fn an_unterminated_quote_is_its_first_line_and_reading_goes_on_after_it() {
        // Three quotes: the first two pair up (a field over two lines), the third is open.
        let text = b"a,b\n1,\"x\n2,\"y\r\n3,\"z\r\n4,w\n5,v";
        let (_file, mut records) = records_of(text);
        let mut seen = Vec::new();
        while records.advance().unwrap() {
            let fields: Vec<Vec<u8>> = records.fields().iter().map(<[u8]>::to_vec).collect();
            seen.push((
                records.line(),
                fields,
                records.raw().to_vec(),
                records.unterminated_at(),
            ));
        }
        let f = |v: &[&[u8]]| v.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
        assert_eq!(
            seen,
            [
                (1, f(&[b"a", b"b"]), b"a,b".to_vec(), None),
                (2, f(&[b"1", b"x\n2,y"]), b"1,\"x\n2,\"y".to_vec(), None),
                (4, vec![], b"3,\"z".to_vec(), Some(4)),
                (5, f(&[b"4", b"w"]), b"4,w".to_vec(), None),
                (6, f(&[b"5", b"v"]), b"5,v".to_vec(), None),
            ]
        );
    }

    #[test]
    fn a_record_keeps_its_raw_bytes_and_first_line() {
        let (_file, mut records) = records_of(b"1,2\r\n\n4,\"x,\ny\",bad\n5,6");
        let mut seen = Vec::new();
        while records.advance().unwrap() {
            seen.push((records.line(), records.raw().to_vec()));
        }
        assert_eq!(
            seen,
            [
                (1, b"1,2".to_vec()),
                (3, b"4,\"x,\ny\",bad".to_vec()),
                (5, b"5,6".to_vec())
            ]
        );
    }
}
