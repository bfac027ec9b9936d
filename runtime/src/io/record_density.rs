//! Where to cut a file so that each worker's slice holds about as many records.
//!
//! Cutting a file into equal byte ranges gives each worker as many bytes, but a job's
//! work is mostly per record (parse, key, fold), and a file's records need not be as long
//! at its end as at its start: the event-time benchmark's timestamps grow from one digit to
//! seven, so half its bytes hold 52% of its records, and the first worker, with the short
//! records, finished 50 ms after the second. So a CSV file is cut by records: the line
//! breaks of a [`WINDOW`] in each of [`SEGMENTS`] equal segments are counted (1 MiB read
//! in all, once per process and file), each segment's records estimated
//! from its window, and a cut placed where the estimated records before it are the share
//! asked for. Only where the cuts go changes: each is still moved to a record start
//! (`slices`), so every record is read exactly once whatever the estimate.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The segments a file is sampled in.
const SEGMENTS: u64 = 64;

/// The bytes read from each segment: its whole when it is no larger.
const WINDOW: u64 = 16 * 1024;

/// A file's records, estimated segment by segment from the line breaks of a window of each.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordDensity {
    len: u64,
    /// Estimated records in each segment (segment `k` is bytes `k*len/SEGMENTS` to
    /// `(k+1)*len/SEGMENTS`).
    records: Vec<f64>,
}

impl RecordDensity {
    /// Samples `file` (`len` bytes).
    pub(crate) fn sample(file: &File, len: u64) -> io::Result<RecordDensity> {
        let mut window = vec![0u8; WINDOW as usize];
        let mut records = Vec::with_capacity(SEGMENTS as usize);
        for k in 0..SEGMENTS {
            let (start, end) = segment(len, k);
            let size = (end - start).min(WINDOW);
            // The window sits in the middle of its segment.
            let at = start + (end - start - size) / 2;
            let bytes = &mut window[..size as usize];
            file.read_exact_at(bytes, at)?;
            let breaks = memchr::memchr_iter(b'\n', bytes).count() as f64;
            records.push(match size {
                0 => 0.0,
                _ => breaks * (end - start) as f64 / size as f64,
            });
        }
        Ok(RecordDensity { len, records })
    }

    /// The estimated records in bytes `0..x`.
    fn before(&self, x: u64) -> f64 {
        let x = x.min(self.len);
        let mut total = 0.0;
        for (k, &records) in (0..).zip(&self.records) {
            let (start, end) = segment(self.len, k);
            if x >= end {
                total += records;
            } else {
                if x > start {
                    total += records * (x - start) as f64 / (end - start) as f64;
                }
                break;
            }
        }
        total
    }

    /// The byte where part `i` of `n` of `from..to` begins: where the estimated records
    /// since `from` are `i/n` of those in `from..to`. `from` for part 0 and `to` for part
    /// `n`; the byte that splits evenly where no record was seen.
    pub(crate) fn cut(&self, from: u64, to: u64, i: usize, n: usize) -> u64 {
        let even = from + (u128::from(to - from) * i as u128 / n as u128) as u64;
        if i == 0 || i >= n {
            return even;
        }
        let (first, last) = (self.before(from), self.before(to));
        if last <= first {
            return even;
        }
        let goal = first + (last - first) * i as f64 / n as f64;
        let mut total = 0.0;
        for (k, &records) in (0..).zip(&self.records) {
            let (start, end) = segment(self.len, k);
            if records > 0.0 && total + records >= goal {
                let into = ((goal - total) / records * (end - start) as f64) as u64;
                return (start + into.min(end - start)).clamp(from, to);
            }
            total += records;
        }
        even
    }
}

/// Segment `k`'s bytes of a file of `len` bytes.
fn segment(len: u64, k: u64) -> (u64, u64) {
    let at = |k: u64| (u128::from(len) * u128::from(k) / u128::from(SEGMENTS)) as u64;
    (at(k), at(k + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn density_of(text: &[u8]) -> RecordDensity {
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        temp.write_all(text).unwrap();
        RecordDensity::sample(temp.as_file(), text.len() as u64).unwrap()
    }

    #[test]
    fn short_records_then_long_ones_are_cut_by_records_not_bytes() {
        // 100,000 records of 4 bytes, then 100,000 of 12: half the records are in the
        // first quarter of the bytes.
        let mut text = Vec::new();
        for _ in 0..100_000 {
            text.extend_from_slice(b"abc\n");
        }
        let short = text.len() as u64;
        for _ in 0..100_000 {
            text.extend_from_slice(b"abcdefghijk\n");
        }
        let len = text.len() as u64;
        let density = density_of(&text);
        let half = density.cut(0, len, 1, 2);
        assert!(half.abs_diff(short) < short / 50, "{half} vs {short}");
        // Pieces of the second slice split its records (all long) evenly, by bytes.
        let piece = density.cut(half, len, 1, 2);
        let even = half + (len - half) / 2;
        assert!(
            piece.abs_diff(even) < (len - half) / 50,
            "{piece} vs {even}"
        );
        assert_eq!(density.cut(0, len, 0, 2), 0);
        assert_eq!(density.cut(0, len, 2, 2), len);
    }

    #[test]
    fn cuts_ascend_and_stay_in_their_range() {
        let mut text = Vec::new();
        let mut n: u64 = 7;
        for _ in 0..50_000 {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.extend(std::iter::repeat_n(b'x', (n >> 58) as usize));
            text.push(b'\n');
        }
        let len = text.len() as u64;
        let density = density_of(&text);
        for parts in 1..=9 {
            let cuts: Vec<u64> = (0..=parts)
                .map(|i| density.cut(100, len - 5, i, parts))
                .collect();
            assert_eq!(cuts[0], 100);
            assert_eq!(cuts[parts], len - 5);
            assert!(cuts.windows(2).all(|c| c[0] <= c[1]), "{cuts:?}");
        }
    }

    #[test]
    fn a_file_without_line_breaks_or_bytes_is_cut_evenly() {
        let density = density_of(&[b'x'; 10_000]);
        assert_eq!(density.cut(0, 10_000, 1, 4), 2_500);
        let empty = density_of(b"");
        assert_eq!(empty.cut(0, 0, 1, 2), 0);
    }
}
