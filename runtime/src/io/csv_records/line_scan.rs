//! Where a CSV line's fields end: one pass over the line, sixteen bytes at a time by
//! vector compares where the processor has them, for [`CsvRecords`](super::CsvRecords).

/// Eight copies of `b`.
#[inline(always)]
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each byte of `x` that is zero, and no other bit.
#[inline(always)]
const fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// One pass over the line starting at `buf[from]`: pushes the `(start, end)` of each field
/// before the last delimiter to `bounds`, and gives the line's end (the `\n`, if the
/// buffer holds it) and whether the line has a quote.
///
/// Sixteen bytes at a time by vector compares (SSE2, on every x86_64 processor): a line of
/// a few short fields is one or two blocks, where eight bytes at a time by word
/// arithmetic took three masks of a dozen instructions each per word (a twentieth of the
/// windows job's instructions). The buffer's last bytes, short of a block, go eight
/// bytes then one at a time.
#[inline(always)]
pub(super) fn scan_line(
    buf: &[u8],
    from: usize,
    delimiter: u8,
    bounds: &mut Vec<(usize, usize)>,
) -> (Option<usize>, bool) {
    let (mut i, mut start, mut quote) = (from, from, false);
    #[cfg(target_arch = "x86_64")]
    while let Some(block) = buf.get(i..i + 16) {
        let (line_ends, delimiters, quotes) =
            sixteen_masks(block.try_into().expect("sixteen bytes"), delimiter);
        // Only what comes before the line's end counts.
        let before = match line_ends {
            0 => u32::MAX,
            ends => (1 << ends.trailing_zeros()) - 1,
        };
        let mut fields = delimiters & before;
        while fields != 0 {
            let at = i + fields.trailing_zeros() as usize;
            bounds.push((start, at));
            start = at + 1;
            fields &= fields - 1;
        }
        quote |= quotes & before != 0;
        if line_ends != 0 {
            return (Some(i + line_ends.trailing_zeros() as usize), quote);
        }
        i += 16;
    }
    scan_line_rest(buf, i, start, quote, delimiter, bounds)
}

/// Where `buf[i..i + 16]` holds a line end, the delimiter and a quote, a bit per byte.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sixteen_masks(block: &[u8; 16], delimiter: u8) -> (u32, u32, u32) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86_64 processor; the load reads the sixteen bytes of
    // `block` (unaligned loads allowed).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let mask = |b: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
        (mask(b'\n'), mask(delimiter), mask(b'"'))
    }
}

/// [`scan_line`] from `buf[i]` on, the field being read starting at `start`, eight bytes
/// at a time by word arithmetic, then a byte at a time.
#[inline(always)]
fn scan_line_rest(
    buf: &[u8],
    mut i: usize,
    mut start: usize,
    mut quote: bool,
    delimiter: u8,
    bounds: &mut Vec<(usize, usize)>,
) -> (Option<usize>, bool) {
    let (newline, delimiters, quotes) = (splat(b'\n'), splat(delimiter), splat(b'"'));
    while let Some(word) = buf.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let q = zero_bytes(w ^ quotes);
        let mut hits = zero_bytes(w ^ newline) | zero_bytes(w ^ delimiters);
        while hits != 0 {
            let bit = hits.trailing_zeros();
            let at = i + (bit / 8) as usize;
            if buf[at] == b'\n' {
                // Only the quotes before the line's end count.
                quote |= q & ((1u64 << bit) - 1) != 0;
                return (Some(at), quote);
            }
            bounds.push((start, at));
            start = at + 1;
            hits &= hits - 1;
        }
        quote |= q != 0;
        i += 8;
    }
    for (at, &b) in buf.iter().enumerate().skip(i) {
        if b == b'\n' {
            return (Some(at), quote);
        }
        if b == delimiter {
            bounds.push((start, at));
            start = at + 1;
        }
        quote |= b == b'"';
    }
    (None, quote)
}
