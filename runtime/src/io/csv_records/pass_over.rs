//! Passing over CSV records unread: the scan of a slice of a file for its largest event
//! time (`JobContext::scan_pieces`) needs one field of each record, and only of the
//! records that could raise the largest so far.
//!
//! The scan goes a buffer at a time: the buffer is searched once for a quote, and the lines
//! before it are passed over while their event-time field is an integer no later than the
//! largest so far. The first record that is not such a line (a quote, a field that is not a
//! plain integer, fewer fields, a line that runs past the buffer) is left to
//! [`CsvRecords::advance`], which reads it by the full rules. A record with a line break
//! inside quotes is therefore always read by `advance`, which notes it
//! ([`CsvRecords::met_quoted_line_break`]).

use super::CsvRecords;
use crate::io::decimal::short_integer;
use std::io::BufRead;

impl CsvRecords {
    /// Passes over, unread, the records ahead whose field `column` is an integer of at most
    /// `ts` (they cannot raise a largest event time of `ts`), as far as the input's buffer
    /// holds whole lines without a quote. The record it stops before, if any, is the next
    /// one [`CsvRecords::advance`] reads. The first record (a header, perhaps behind a
    /// byte-order mark) is never passed over.
    #[inline(always)]
    pub fn pass_over_not_later_than(&mut self, column: usize, ts: i64) -> std::io::Result<()> {
        if self.at_start {
            return Ok(());
        }
        if self.pending >= self.input.buffer().len() {
            self.input.consume(std::mem::take(&mut self.pending));
            self.input.fill_buf()?;
        }
        // Bytes consumed from the input before its buffer: where the buffer starts.
        let base = self.input.consumed();
        let buf = self.input.buffer();
        let from = self.pending;
        if self.clean_to <= base + from as u64 {
            // Searched once per buffer, and again past each quote.
            let quote = memchr::memchr(b'"', &buf[from..]).map_or(buf.len(), |q| from + q);
            self.clean_to = base + quote as u64;
        }
        let clean = ((self.clean_to - base) as usize).min(buf.len());
        let text = &buf[from..clean];
        let (passed, lines) = match FirstFieldLimit::new(column, self.delimiter, ts) {
            Some(limit) => limit.lines_not_later(text),
            None => lines_not_later_than(text, self.delimiter, column, ts),
        };
        if passed == 0 {
            return Ok(());
        }
        self.pending += passed;
        self.position += passed as u64;
        self.lines += lines;
        // The record read last is gone: nothing may refer to its bytes.
        self.place = super::Place::Raw;
        self.raw.clear();
        self.bounds.clear();
        Ok(())
    }

    /// Whether a record read so far had a line break inside quotes (or the input ended
    /// inside quotes). Passing over lines never hides one: a line with a quote is read.
    pub fn met_quoted_line_break(&self) -> bool {
        self.quoted_line_break
    }
}

/// How many bytes and lines at the start of `text` (which holds no quote) are whole lines
/// that are blank or whose field `column` is an integer of at most `ts`.
///
/// Sixty-four bytes at a time: a mask of their line ends and one of their delimiters (by
/// vector compares), then each line end and delimiter in order. Lines of a few short
/// fields would otherwise cost a search call per field and per line.
#[inline(always)]
fn lines_not_later_than(text: &[u8], delimiter: u8, column: usize, ts: i64) -> (usize, u64) {
    let (mut passed, mut lines) = (0, 0);
    // The line being read: how many delimiters it has had, and where field `column`
    // starts and (once a delimiter or the line's end closes it) ends.
    let (mut seen, mut start, mut stop) = (0, 0, None);
    let mut base = 0;
    while base < text.len() {
        let block = &text[base..text.len().min(base + 64)];
        let (line_ends, delimiters) = byte_masks(block, b'\n', delimiter);
        let mut events = line_ends | delimiters;
        while events != 0 {
            let bit = events.trailing_zeros();
            events &= events - 1;
            let pos = base + bit as usize;
            if delimiters >> bit & 1 == 1 {
                if seen == column {
                    stop = Some(pos);
                }
                seen += 1;
                if seen == column {
                    start = pos + 1;
                }
                continue;
            }
            if !passes(text, passed, pos, start, stop, seen >= column, ts) {
                return (passed, lines);
            }
            passed = pos + 1;
            lines += 1;
            (seen, start, stop) = (0, passed, None);
        }
        base += 64;
    }
    (passed, lines)
}

/// The test of [`lines_not_later_than`] when the event time is the first field and the
/// largest so far is not negative (the usual case), a line at a time rather than a field:
/// sixteen bytes from the line's start say where its first field ends and whether it is
/// all digits; then a field shorter than the largest so far's digits is smaller, and one
/// as long compares as text. Anything else (a sign, a longer field, a line near the end
/// of the text) is left to [`passes`].
#[derive(Clone, Copy)]
struct FirstFieldLimit {
    delimiter: u8,
    ts: i64,
    /// How many digits `ts` has.
    digits: u32,
    /// `ts`'s digits as text, read as a big-endian number.
    text: u128,
}

impl FirstFieldLimit {
    /// The limit, where it applies: on x86_64, field 0, `ts` from 0 to 10^16 - 1.
    fn new(column: usize, delimiter: u8, ts: i64) -> Option<Self> {
        // Up to sixteen digits: the field's digits are read from one vector.
        if !cfg!(target_arch = "x86_64") || column != 0 || !(0..10_i64.pow(16)).contains(&ts) {
            return None;
        }
        let (mut digits, mut text, mut rest) = (0u32, 0u128, ts);
        let mut place = 0;
        loop {
            text |= (u128::from(b'0') + (rest % 10) as u128) << place;
            (digits, place, rest) = (digits + 1, place + 8, rest / 10);
            if rest == 0 {
                break;
            }
        }
        Some(FirstFieldLimit {
            delimiter,
            ts,
            digits,
            text,
        })
    }

    /// [`lines_not_later_than`] for this limit's field and largest value.
    #[inline(always)]
    fn lines_not_later(self, text: &[u8]) -> (usize, u64) {
        let (mut passed, mut lines) = (0, 0);
        let mut base = 0;
        while base < text.len() {
            let block = &text[base..text.len().min(base + 64)];
            let mut line_ends = byte_masks(block, b'\n', b'\n').0;
            while line_ends != 0 {
                let end = base + line_ends.trailing_zeros() as usize;
                line_ends &= line_ends - 1;
                if !self.passes(text, passed, end) {
                    return (passed, lines);
                }
                passed = end + 1;
                lines += 1;
            }
            base += 64;
        }
        (passed, lines)
    }

    /// Whether the line `text[from..end]` (its `\n` at `end`) may be passed over.
    #[inline(always)]
    fn passes(self, text: &[u8], from: usize, end: usize) -> bool {
        let Some(sixteen) = text.get(from..from + 16) else {
            return self.passes_slowly(text, from, end);
        };
        let sixteen: &[u8; 16] = sixteen.try_into().expect("sixteen bytes");
        let (stops, digits) = stops_and_digits(sixteen, self.delimiter);
        let len = stops.trailing_zeros();
        let all_digits = (1u32 << len) - 1;
        // A carriage return ends the field only before the line's end.
        let cr_ends_line =
            sixteen.get(len as usize) != Some(&b'\r') || end == from + len as usize + 1;
        // Fifteen digits at most: a sixteenth byte that is not a stop may be followed by more.
        let usual = (1..=self.digits.min(15)).contains(&len) && digits & all_digits == all_digits;
        if !usual || !cr_ends_line {
            return self.passes_slowly(text, from, end);
        }
        if len < self.digits {
            return true;
        }
        // As long as `ts`: compared as text, in one word when it fits one.
        match sixteen.first_chunk::<8>() {
            Some(eight) if len <= 8 => {
                u64::from_be_bytes(*eight) >> (64 - 8 * len) <= self.text as u64
            }
            _ => u128::from_be_bytes(*sixteen) >> (8 * (16 - len)) <= self.text,
        }
    }

    /// [`passes`] for field 0.
    #[cold]
    fn passes_slowly(self, text: &[u8], from: usize, end: usize) -> bool {
        let stop = memchr::memchr(self.delimiter, &text[from..end]).map(|d| from + d);
        passes(text, from, end, from, stop, true, self.ts)
    }
}

/// Bit `i` of the first mask set where `sixteen[i]` ends a field (`delimiter`, a line
/// feed or a carriage return), of the second where it is a decimal digit.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn stops_and_digits(sixteen: &[u8; 16], delimiter: u8) -> (u32, u32) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86_64 processor; the load reads the sixteen bytes of
    // `sixteen` (unaligned loads allowed).
    let (stops, digits) = unsafe {
        let v = _mm_loadu_si128(sixteen.as_ptr().cast::<__m128i>());
        let stops = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(delimiter as i8)),
            _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
            ),
        );
        // Signed compares: bytes of 0x80 and above are negative, so never digits.
        let digits = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
        );
        (_mm_movemask_epi8(stops), _mm_movemask_epi8(digits))
    };
    // The seventeenth bit stops a field that fills all sixteen bytes.
    ((stops as u32) | 1 << 16, digits as u32)
}

/// [`stops_and_digits`] elsewhere: never used, as [`FirstFieldLimit`] applies on x86_64
/// only.
#[cfg(not(target_arch = "x86_64"))]
fn stops_and_digits(_: &[u8; 16], _: u8) -> (u32, u32) {
    (1, 0)
}

/// Whether the line `text[from..end]` (its `\n` at `end`) may be passed over: it is blank
/// (perhaps a carriage return), as `advance` passes over, or its field `column` (starting
/// at `start`, ended by a delimiter at `stop` or else by the line's end; `has_field` when
/// the line has that many fields) is an integer of at most `ts`.
#[inline(always)]
fn passes(
    text: &[u8],
    from: usize,
    end: usize,
    start: usize,
    stop: Option<usize>,
    has_field: bool,
    ts: i64,
) -> bool {
    if end == from || (end == from + 1 && text[from] == b'\r') {
        return true;
    }
    if !has_field {
        // Fewer fields than `column` needs: `advance` reads the line and refuses it.
        return false;
    }
    // The last field of a line ends before its carriage return, if any.
    let stop = stop.unwrap_or(if end > start && text[end - 1] == b'\r' {
        end - 1
    } else {
        end
    });
    // Eight bytes from the field's start, when the text has them: the field's digits are
    // read as one word.
    let word_at = |k: usize| {
        text.get(start + k..start + k + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    short_integer(&text[start..stop], word_at).is_some_and(|t| t <= ts)
}

/// Bit `i` of the first mask set where `block[i]` is `a`, of the second where it is `b`
/// (`block` holds at most 64 bytes).
#[inline(always)]
fn byte_masks(block: &[u8], a: u8, b: u8) -> (u64, u64) {
    match <&[u8; 64]>::try_from(block) {
        Ok(whole) => whole_block_masks(whole, a, b),
        Err(_) => block.iter().enumerate().fold((0, 0), |(ma, mb), (i, &c)| {
            (ma | (u64::from(c == a) << i), mb | (u64::from(c == b) << i))
        }),
    }
}

/// [`byte_masks`] of a whole block, sixteen bytes to a vector compare.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn whole_block_masks(block: &[u8; 64], a: u8, b: u8) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let (mut ma, mut mb) = (0u64, 0u64);
    for (k, sixteen) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 processor; the load reads the sixteen bytes
        // of `sixteen` (unaligned loads allowed).
        let (ea, eb) = unsafe {
            let v = _mm_loadu_si128(sixteen.as_ptr().cast::<__m128i>());
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8))),
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))),
            )
        };
        ma |= u64::from(ea as u16) << (16 * k);
        mb |= u64::from(eb as u16) << (16 * k);
    }
    (ma, mb)
}

/// [`byte_masks`] of a whole block.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn whole_block_masks(block: &[u8; 64], a: u8, b: u8) -> (u64, u64) {
    block.iter().enumerate().fold((0, 0), |(ma, mb), (i, &c)| {
        (ma | (u64::from(c == a) << i), mb | (u64::from(c == b) << i))
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{read_with_lines, records_of, write};
    use proptest::prelude::*;

    /// A record's line and fields.
    type LineRecord = (u64, Vec<Vec<u8>>);

    /// What a scan for the largest value of field `column` reads of `text`: each record
    /// it reads, with its line, having passed over the records before it whose field is an
    /// integer no later than the largest read so far; and whether it met a line break
    /// inside quotes.
    fn scan(text: &[u8], column: usize) -> (Vec<LineRecord>, bool) {
        let (_file, mut records) = records_of(text);
        let mut out = Vec::new();
        let mut max = i64::MIN;
        loop {
            records.pass_over_not_later_than(column, max).unwrap();
            if !records.advance().unwrap() {
                break;
            }
            let fields: Vec<Vec<u8>> = records.fields().iter().map(<[u8]>::to_vec).collect();
            if let Some(v) = fields.get(column).and_then(|f| integer(f)) {
                max = max.max(v);
            }
            out.push((records.line(), fields));
        }
        (out, records.met_quoted_line_break())
    }

    /// The integer a field holds, by the standard library's rules.
    fn integer(field: &[u8]) -> Option<i64> {
        crate::io::utf8::utf8(field).ok()?.parse().ok()
    }

    /// Checks a scan of `rows` (written as CSV) against a full read: the records it reads
    /// are the full read's, with the same lines, in order; every record it passes over is
    /// one whose field is an integer no larger than the largest before it; and it meets a
    /// quoted line break exactly when a field holds a line break.
    fn check(rows: &[Vec<String>], crlf: bool, column: usize) -> Result<(), TestCaseError> {
        let text = write(rows, crlf);
        let whole = read_with_lines(&text);
        let (read, quoted_line_break) = scan(&text, column);
        let mut max = i64::MIN;
        let mut read_rest = read.iter().peekable();
        for (i, record) in whole.iter().enumerate() {
            let value = record.1.get(column).and_then(|f| integer(f));
            if read_rest.peek() == Some(&record) {
                read_rest.next();
            } else {
                prop_assert!(i > 0, "the first record is always read");
                prop_assert!(
                    value.is_some_and(|v| v <= max),
                    "passed over {:?} with the largest so far {}",
                    record,
                    max
                );
            }
            max = max.max(value.unwrap_or(i64::MIN));
        }
        prop_assert!(
            read_rest.next().is_none(),
            "the scan read records the full read does not have"
        );
        let breaks = rows.iter().flatten().any(|f| f.contains('\n'));
        prop_assert_eq!(quoted_line_break, breaks);
        Ok(())
    }

    proptest! {
        /// Passing over records keeps the records that are read, and their lines, as a
        /// full read has them, and passes over only what cannot raise the largest value.
        #[test]
        fn passing_over_keeps_records_lines_and_the_largest_value(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-c,\" \n0-9-]{0,6}|[0-9]{1,18}", 1..5), 0..60),
            crlf in any::<bool>(),
            column in 0usize..3,
        ) {
            check(&rows, crlf, column)?;
        }
    }

    #[test]
    fn passing_over_across_read_buffers_and_lines_longer_than_them() {
        // Rising and falling values over several read buffers, with a line longer than a
        // buffer and a quoted field with line breaks in the middle.
        let mut rows: Vec<Vec<String>> = (0..60_000i64)
            .map(|i| {
                let v = i * 3 - (i * 7919) % 500;
                vec![
                    v.to_string(),
                    format!("k{}", i % 13),
                    "x".repeat((i % 29) as usize),
                ]
            })
            .collect();
        rows.insert(12_345, vec!["99".into(), "y".repeat(600_000)]);
        rows.insert(30_000, vec!["77".into(), "a \"quoted\"\nnote".into()]);
        check(&rows, false, 0).unwrap();
        rows.remove(30_000);
        check(&rows, true, 0).unwrap();
    }
}
