//! Where the workers' slices of a file meet: the file is cut into as many ranges as there
//! are workers (of as many bytes; for CSV, of about as many records: `record_density`),
//! and each cut moved forward to the next place a record starts, so every record is read
//! by exactly one worker. Both workers beside a cut compute it alike.
//!
//! Lines (text, JSON lines) start after a line break. A CSV record starts after a line
//! break that is not inside a quoted field; where the file holds no quote before the cut,
//! the last line break before it is a record start and the parser runs from there, else it
//! runs from the start of the file (from the line before the first quote), with csv-core,
//! the parser the CSV source itself uses, so a quoted line break is never taken for a cut.
//! (A CSV file read in event-time slices is cut as lines first, and the slice scans check
//! that this was exact: `parallel/slice_scan.rs`.)

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};

use super::record_density::RecordDensity;

/// What a slice's records are, for finding where they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    /// Lines: a record starts after every line break.
    Lines,
    /// CSV with this delimiter: quoted fields may hold line breaks.
    Csv(u8),
    /// CSV, cut at line starts as if no field held a line break (an event-time file's
    /// slices are first cut so, and their scans check it: `parallel/slice_scan.rs`).
    CsvLines,
}

/// What this process has found out about one file (by path, length and modification
/// time): where records start at the cuts asked for so far, and how far it is known to hold
/// no quote. Finding a CSV cut reads the file before it for quotes; the workers beside a
/// cut, each opening of a slice or a piece of one (scan, then read), and each later cut
/// would otherwise read it again: on 20M events, the same 167 MB was read four times.
#[derive(Debug)]
struct KnownFile {
    path: String,
    len: u64,
    modified: Option<std::time::SystemTime>,
    /// `(at, records, start)`: the record start found for a cut at `at`.
    cuts: Vec<(u64, Records, u64)>,
    /// No quote in the bytes before this.
    quote_free: u64,
    /// The first quote, once found.
    first_quote: Option<u64>,
    /// Its records, estimated where a CSV file is first cut.
    density: Option<RecordDensity>,
}

impl KnownFile {
    /// The first quote before byte `at`, reading only what no earlier question read.
    fn first_quote_before(&mut self, file: &mut File, at: u64) -> io::Result<Option<u64>> {
        if let Some(q) = self.first_quote {
            return Ok((q < at).then_some(q));
        }
        if at <= self.quote_free {
            return Ok(None);
        }
        match first_quote(file, self.quote_free, at)? {
            Some(q) => self.first_quote = Some(q),
            None => self.quote_free = at,
        }
        Ok(self.first_quote)
    }
}

static KNOWN_FILES: std::sync::Mutex<Vec<KnownFile>> = std::sync::Mutex::new(Vec::new());

/// Runs `find` on what this process knows of `file` (at `path`, `len` bytes), holding it
/// while `find` runs, so that the workers beside a cut find it once between them.
fn with_known_file<T>(
    path: &str,
    file: &mut File,
    len: u64,
    find: impl FnOnce(&mut KnownFile, &mut File) -> io::Result<T>,
) -> io::Result<T> {
    let modified = file.metadata()?.modified().ok();
    let mut known = KNOWN_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let same = |k: &KnownFile| k.path == path && k.len == len && k.modified == modified;
    let entry = match known.iter().position(same) {
        Some(i) => &mut known[i],
        None => {
            known.push(KnownFile {
                path: path.to_string(),
                len,
                modified,
                cuts: Vec::new(),
                quote_free: 0,
                first_quote: None,
                density: None,
            });
            known.last_mut().expect("just pushed")
        }
    };
    find(entry, file)
}

/// [`KnownFile::record_start`] of `file` (at `path`, `len` bytes), for the tests to ask
/// for a cut at any byte.
#[cfg(test)]
fn record_start(
    path: &str,
    file: &mut File,
    at: u64,
    len: u64,
    records: Records,
) -> io::Result<u64> {
    with_known_file(path, file, len, |known, file| {
        known.record_start(file, at, records)
    })
}

/// Where part `i` of `n` of bytes `from..to` of `file` (at `path`, `len` bytes) starts:
/// the byte `i/n` of the way, or for CSV where `i/n` of the records are estimated to be
/// before it (`record_density`), moved to the first record start at or after it.
pub fn part_start(
    path: &str,
    file: &mut File,
    (from, to): (u64, u64),
    (i, n): (usize, usize),
    len: u64,
    records: Records,
) -> io::Result<u64> {
    with_known_file(path, file, len, |known, file| {
        let at = match records {
            Records::Lines => from + (u128::from(to - from) * i as u128 / n as u128) as u64,
            Records::Csv(_) | Records::CsvLines => {
                if known.density.is_none() {
                    known.density = Some(RecordDensity::sample(file, len)?);
                }
                let density = known.density.as_ref().expect("just sampled");
                density.cut(from, to, i, n)
            }
        };
        known.record_start(file, at, records)
    })
}

impl KnownFile {
    /// The first record start at or after byte `at`: `at` itself when it is 0 or a record
    /// ends just before it, else the end of the record holding byte `at`. Each cut is found
    /// once per process for an unchanged file.
    fn record_start(&mut self, file: &mut File, at: u64, records: Records) -> io::Result<u64> {
        if let Some(&(_, _, start)) = self.cuts.iter().find(|c| c.0 == at && c.1 == records) {
            return Ok(start);
        }
        let len = self.len;
        let start = match records {
            _ if at == 0 || at >= len => at.min(len),
            Records::Lines | Records::CsvLines => line_start(file, at, len)?,
            Records::Csv(delimiter) => {
                let quote = self.first_quote_before(file, at)?;
                csv_record_start(file, at, len, delimiter, quote)?
            }
        };
        self.cuts.push((at, records, start));
        Ok(start)
    }
}

/// The first line start at or after `at` (0 < `at` < `len`).
fn line_start(file: &mut File, at: u64, len: u64) -> io::Result<u64> {
    file.seek(io::SeekFrom::Start(at - 1))?;
    let mut reader = BufReader::with_capacity(64 * 1024, &mut *file);
    let mut skipped = Vec::new();
    let n = reader.read_until(b'\n', &mut skipped)?;
    Ok((at - 1 + n as u64).min(len))
}

/// The first CSV record start at or after `at` (0 < `at` < `len`), given the first quote
/// before `at`, if any.
fn csv_record_start(
    file: &mut File,
    at: u64,
    len: u64,
    delimiter: u8,
    first_quote: Option<u64>,
) -> io::Result<u64> {
    let from = match first_quote {
        // No quote before the cut: every line break before it ends a record.
        None => last_line_start(file, at)?,
        // Line breaks before the first quote end records too.
        Some(quote) => last_line_start(file, quote)?,
    };
    if from == at {
        return Ok(at);
    }
    file.seek(io::SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(256 * 1024, &mut *file);
    let mut parser = csv_core::ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(csv_core::Terminator::Any(b'\n'))
        .build();
    // Only where records end matters: fields are written over the same scratch space.
    let (mut out, mut ends) = (vec![0u8; 64 * 1024], vec![0usize; 1024]);
    let mut position = from;
    loop {
        let input = reader.fill_buf()?;
        let (result, read, _, _) = parser.read_record(input, &mut out, &mut ends);
        let at_end = input.is_empty();
        reader.consume(read);
        position += read as u64;
        match result {
            csv_core::ReadRecordResult::Record if position >= at => return Ok(position.min(len)),
            csv_core::ReadRecordResult::End => return Ok(len),
            _ if at_end && read == 0 && result == csv_core::ReadRecordResult::InputEmpty => {
                return Ok(len)
            }
            _ => {}
        }
    }
}

/// Where the first `"` in bytes `from..at` is, if any.
fn first_quote(file: &mut File, from: u64, at: u64) -> io::Result<Option<u64>> {
    file.seek(io::SeekFrom::Start(from))?;
    let mut prefix = (&mut *file).take(at - from);
    let mut buf = vec![0u8; 256 * 1024];
    let mut offset = from;
    loop {
        let n = prefix.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(i) = memchr::memchr(b'"', &buf[..n]) {
            return Ok(Some(offset + i as u64));
        }
        offset += n as u64;
    }
}

/// The start of the line holding byte `at - 1` (0 when none breaks before it).
fn last_line_start(file: &mut File, at: u64) -> io::Result<u64> {
    const STEP: u64 = 64 * 1024;
    let mut end = at;
    let mut buf = vec![0u8; STEP as usize];
    while end > 0 {
        let start = end.saturating_sub(STEP);
        file.seek(io::SeekFrom::Start(start))?;
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact(chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> (tempfile::NamedTempFile, File) {
        // Each test's file is new: what this process knows of others does not apply.
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        temp.write_all(text.as_bytes()).unwrap();
        let file = File::open(temp.path()).unwrap();
        (temp, file)
    }

    /// The records each of `n` slices reads, by cutting as the workers do.
    fn slices(text: &str, n: u64, records: Records) -> Vec<String> {
        let (temp, mut file) = file_with(text);
        let path = temp.path().display().to_string();
        let len = text.len() as u64;
        let n = n as usize;
        let cuts: Vec<u64> = (0..=n)
            .map(|w| part_start(&path, &mut file, (0, len), (w, n), len, records).unwrap())
            .collect();
        cuts.windows(2)
            .map(|c| text[c[0] as usize..c[1] as usize].to_string())
            .collect()
    }

    #[test]
    fn lines_are_cut_after_line_breaks() {
        let text = "aa\nbbbb\nc\n\ndddddd\n";
        for n in 1..=8 {
            let parts = slices(text, n, Records::Lines);
            assert_eq!(parts.concat(), text, "{n} slices");
            assert!(
                parts.iter().all(|p| p.is_empty() || p.ends_with('\n')),
                "{parts:?}"
            );
        }
    }

    #[test]
    fn csv_is_never_cut_inside_a_quoted_field() {
        let mut text = String::from("id,note\n");
        for i in 0..200 {
            if i % 3 == 0 {
                text.push_str(&format!("{i},\"two\nlines, \"\"quoted\"\"\n\"\n"));
            } else {
                text.push_str(&format!("{i},plain\n"));
            }
        }
        let whole: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
        for n in 1..=7 {
            let parts = slices(&text, n, Records::Csv(b','));
            assert_eq!(parts.concat(), text);
            let mut read = Vec::new();
            for (w, part) in parts.iter().enumerate() {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(w == 0)
                    .from_reader(part.as_bytes());
                read.extend(reader.records().map(Result::unwrap));
            }
            assert_eq!(read, whole, "{n} slices read every record once");
        }
    }

    #[test]
    fn cuts_remembered_in_any_order_are_the_cuts_found_afresh() {
        let mut text = String::from("a,b\n");
        for i in 0..400 {
            if i == 150 || i == 300 {
                text.push_str(&format!("{i},\"q\n{i}\"\n"));
            } else {
                text.push_str(&format!("{i},x\n"));
            }
        }
        let len = text.len() as u64;
        let records = Records::Csv(b',');
        let (temp, mut file) = file_with(&text);
        let path = temp.path().display().to_string();
        // Downwards, upwards, and again: the first quote is found between the cuts.
        let mut down: Vec<u64> = (1..len).step_by(37).collect();
        down.reverse();
        let order = down.into_iter().chain((1..len).step_by(23));
        for at in order.chain((1..len).step_by(37)) {
            let (fresh_temp, mut fresh) = file_with(&text);
            let fresh_path = fresh_temp.path().display().to_string();
            assert_eq!(
                record_start(&path, &mut file, at, len, records).unwrap(),
                record_start(&fresh_path, &mut fresh, at, len, records).unwrap(),
                "cut at {at}"
            );
        }
    }

    #[test]
    fn csv_without_quotes_before_the_cut_starts_near_it() {
        let text = "a,b\n1,2\n3,\"x\ny\"\n5,6\n";
        let (temp, mut file) = file_with(text);
        let path = temp.path().display().to_string();
        let len = text.len() as u64;
        // Byte 9 is inside `3,"x`: its record ends after `y"`.
        assert_eq!(
            record_start(&path, &mut file, 9, len, Records::Csv(b',')).unwrap(),
            text.find("5,6").unwrap() as u64
        );
        assert_eq!(
            record_start(&path, &mut file, 8, len, Records::Csv(b',')).unwrap(),
            8,
            "a record starts at byte 8"
        );
    }
}
