//! Functions that generated expression code calls: string functions and the checked parts of
//! arithmetic and casts. Each is small and inlined; none allocates unless its result is a new
//! string. `numbers.rs`, `text.rs`, `pattern.rs` (regular expressions) and `time.rs` (the
//! calendar, jiff's) hold the function library's larger members.

mod numbers;
mod pattern;
mod text;
mod time;

pub use numbers::{greatest_f64, least_f64, round};
pub use pattern::{pattern, Pattern};
pub use text::{replace, split_part, substring, substring_from, trim};
pub use time::{
    check_pattern, date_trunc, extract, format_rfc3339, format_time, parse_time, parse_timestamp,
    TimeField,
};

use std::borrow::Cow;

use crate::JobError;

/// `lower(s)`: borrows `s` when it has nothing to lower.
#[inline]
pub fn lower(s: &str) -> Cow<'_, str> {
    if !has_upper_or_non_ascii(s.as_bytes()) {
        Cow::Borrowed(s)
    } else if s.is_ascii() {
        // Lowering ASCII is a byte at a time; Unicode's tables are for the rest.
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `lower(s)` written into `scratch` (a buffer the generated code keeps between records)
/// when `s` has something to lower, so no record allocates for it; `s` itself otherwise.
#[inline]
pub fn lower_in<'a>(s: &'a str, scratch: &'a mut String) -> Cow<'a, str> {
    if !has_upper_or_non_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    scratch.clear();
    if s.is_ascii() {
        scratch.push_str(s);
        scratch.make_ascii_lowercase();
    } else {
        // str's own rules (a final sigma lowers by its place in the word).
        scratch.push_str(&s.to_lowercase());
    }
    Cow::Borrowed(scratch.as_str())
}

/// `upper(s)` written into `scratch`, as [`lower_in`].
#[inline]
pub fn upper_in<'a>(s: &'a str, scratch: &'a mut String) -> Cow<'a, str> {
    if !s.bytes().any(|b| b.is_ascii_lowercase() || !b.is_ascii()) {
        return Cow::Borrowed(s);
    }
    scratch.clear();
    if s.is_ascii() {
        scratch.push_str(s);
        scratch.make_ascii_uppercase();
    } else {
        scratch.push_str(&s.to_uppercase());
    }
    Cow::Borrowed(scratch.as_str())
}

/// Whether `s` has an ASCII capital or a byte past ASCII, eight bytes at a time (a word is
/// usually one or two such reads: the last one overlaps the one before, or, for fewer than
/// eight bytes, is put together from two overlapping halves).
#[inline]
fn has_upper_or_non_ascii(s: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let flagged = |x: u64| {
        let low = x & !HIGH;
        // A byte's high bit after adding: set from 'A' (0x41) up, and from '[' (0x5B) up.
        let from_a = low + 0x3F3F_3F3F_3F3F_3F3F;
        let past_z = low + 0x2525_2525_2525_2525;
        (from_a & !past_z & HIGH) | (x & HIGH) != 0
    };
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |at: usize| u64::from(u32::from_le_bytes(s[at..at + 4].try_into().expect("4")));
    let n = s.len();
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if flagged(word(at)) {
                return true;
            }
            at += 8;
        }
        flagged(word(n - 8))
    } else if n >= 4 {
        flagged(half(0) | half(n - 4) << 32)
    } else {
        s.iter().any(|b| b.is_ascii_uppercase() || !b.is_ascii())
    }
}

/// `upper(s)`: borrows `s` when it has nothing to raise.
#[inline]
pub fn upper(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_lowercase() || !b.is_ascii()) {
        Cow::Owned(s.to_uppercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `len(s)`: the number of characters (Unicode scalar values), not bytes.
#[inline]
pub fn len(s: &str) -> u64 {
    s.chars().count() as u64
}

/// `concat(a, b, ...)`.
#[inline]
pub fn concat(parts: &[&str]) -> Cow<'static, str> {
    Cow::Owned(parts.concat())
}

/// Integer division that reports a zero divisor at the expression's place in the pipeline.
#[inline]
pub fn div_i64(a: i64, b: i64, location: &'static str) -> Result<i64, JobError> {
    if b == 0 {
        return Err(division_by_zero(location));
    }
    Ok(a.wrapping_div(b))
}

/// Integer remainder that reports a zero divisor.
#[inline]
pub fn rem_i64(a: i64, b: i64, location: &'static str) -> Result<i64, JobError> {
    if b == 0 {
        return Err(division_by_zero(location));
    }
    Ok(a.wrapping_rem(b))
}

/// Unsigned division that reports a zero divisor.
#[inline]
pub fn div_u64(a: u64, b: u64, location: &'static str) -> Result<u64, JobError> {
    a.checked_div(b).ok_or_else(|| division_by_zero(location))
}

/// Unsigned remainder that reports a zero divisor.
#[inline]
pub fn rem_u64(a: u64, b: u64, location: &'static str) -> Result<u64, JobError> {
    a.checked_rem(b).ok_or_else(|| division_by_zero(location))
}

#[cold]
fn division_by_zero(location: &'static str) -> JobError {
    JobError::Eval {
        location,
        message: "division by zero".to_string(),
    }
}

/// `s as T` for a number or bool type: the trimmed text must parse.
#[inline]
pub fn parse_cast<T: std::str::FromStr>(
    s: &str,
    ty: &str,
    location: &'static str,
) -> Result<T, JobError> {
    s.trim().parse().map_err(|_| JobError::Eval {
        location,
        message: format!("cannot convert {s:?} to {ty}"),
    })
}

/// `x as str` for a float: the shortest form that reads back to the same value, as sinks
/// write it.
#[inline]
pub fn f64_to_str(v: f64) -> Cow<'static, str> {
    Cow::Owned(ryu::Buffer::new().format(v).to_string())
}

/// `x as str` for integers and bools.
#[inline]
pub fn display_to_str<T: std::fmt::Display>(v: T) -> Cow<'static, str> {
    Cow::Owned(v.to_string())
}

/// `split_whitespace(s)`: the words of `s` between runs of Unicode white space, as
/// [`str::split_whitespace`] gives them. ASCII text, nearly all of it, is split a byte at a
/// time against a table; at the first byte past ASCII the rest of the text goes to
/// [`str::split_whitespace`] (decoding every character costs about four times as much).
#[inline]
pub fn split_whitespace(s: &str) -> Words<'_> {
    Words {
        text: s,
        at: 0,
        unicode: None,
    }
}

/// The iterator of [`split_whitespace`].
#[derive(Debug, Clone)]
pub struct Words<'a> {
    text: &'a str,
    /// Where the ASCII scan goes on (every byte before it was ASCII).
    at: usize,
    /// The rest of the text, once a byte past ASCII was met.
    unicode: Option<std::str::SplitWhitespace<'a>>,
}

/// The class of each byte for [`Words`]: a word byte, white space (the ASCII members of
/// Unicode's White_Space: tab, line feed, vertical tab, form feed, carriage return and
/// space), or past ASCII.
const WORD: u8 = 0;
const SPACE: u8 = 1;
const PAST_ASCII: u8 = 2;
static BYTE_CLASS: [u8; 256] = {
    let mut t = [WORD; 256];
    let mut b = 0x80;
    while b < 256 {
        t[b] = PAST_ASCII;
        b += 1;
    }
    t[b'\t' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[0x0B] = SPACE;
    t[0x0C] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b' ' as usize] = SPACE;
    t
};

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if let Some(rest) = &mut self.unicode {
            return rest.next();
        }
        let bytes = self.text.as_bytes();
        let mut i = self.at;
        // Past the white space before the word.
        loop {
            match bytes.get(i).map(|&b| BYTE_CLASS[b as usize]) {
                None => {
                    self.at = i;
                    return None;
                }
                Some(SPACE) => i += 1,
                Some(WORD) => break,
                Some(_) => return self.go_unicode(i),
            }
        }
        let start = i;
        // Eight bytes at a time to the first that may end the word: a byte below `!`
        // (white space, or a control character, which is a word byte) or past ASCII.
        while let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            // A byte below 0x21 borrows, which can flag only bytes after it: the lowest
            // flag is a real one.
            let flags = (x.wrapping_sub(0x2121_2121_2121_2121) | x) & 0x8080_8080_8080_8080;
            if flags == 0 {
                i += 8;
                continue;
            }
            i += (flags.trailing_zeros() / 8) as usize;
            if BYTE_CLASS[bytes[i] as usize] != WORD {
                break;
            }
            i += 1; // a control character: part of the word
        }
        loop {
            match bytes.get(i).map(|&b| BYTE_CLASS[b as usize]) {
                Some(WORD) => i += 1,
                Some(PAST_ASCII) => return self.go_unicode(start),
                // White space or the end: every byte of the word is ASCII, so `start` and
                // `i` are character boundaries.
                _ => {
                    self.at = i;
                    return Some(&self.text[start..i]);
                }
            }
        }
    }
}

impl<'a> Words<'a> {
    /// Splits the text from `from` (a character boundary: every byte before it is ASCII)
    /// with Unicode's rules.
    #[cold]
    fn go_unicode(&mut self, from: usize) -> Option<&'a str> {
        let rest = self.unicode.insert(self.text[from..].split_whitespace());
        rest.next()
    }
}

/// One of two iterators, so that `flat_map { x: if c then split(a, ",") else
/// split_whitespace(a) }` iterates either without boxing.
#[derive(Debug, Clone)]
pub enum Either<L, R> {
    /// The `then` branch.
    Left(L),
    /// The `else` branch.
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(l) => l.next(),
            Either::Right(r) => r.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The same words as `str::split_whitespace`, on text mixing ASCII, Unicode white
        /// space (no-break space, em space, U+0085) and letters past ASCII.
        #[test]
        fn split_whitespace_gives_what_std_gives(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(" "), proptest::strategy::Just("\t"),
                    proptest::strategy::Just("\u{0B}"), proptest::strategy::Just("\u{0C}"),
                    proptest::strategy::Just("\r\n"), proptest::strategy::Just("\u{A0}"),
                    proptest::strategy::Just("\u{2003}"), proptest::strategy::Just("\u{85}"),
                    proptest::strategy::Just("\u{1C}"), proptest::strategy::Just("ab"),
                    proptest::strategy::Just("Zé"), proptest::strategy::Just("x"),
                    proptest::strategy::Just("日本"),
                ],
                0..24,
            )
        ) {
            let text: String = parts.concat();
            let got: Vec<&str> = split_whitespace(&text).collect();
            let want: Vec<&str> = text.split_whitespace().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    proptest::proptest! {
        #[test]
        fn capitals_and_bytes_past_ascii_are_found_at_any_length(
            s in proptest::collection::vec(
                proptest::prop_oneof![0x20u8..0x7F, proptest::strategy::Just(0xC3u8)], 0..20),
        ) {
            let want = s.iter().any(|b| b.is_ascii_uppercase() || !b.is_ascii());
            proptest::prop_assert_eq!(has_upper_or_non_ascii(&s), want);
        }
    }

    #[test]
    fn lowering_into_a_buffer_agrees_with_lowering() {
        let mut scratch = String::from("left over");
        for s in ["word", "WoRd", "ÉTÉ", "İstanbul", "", "ΣΑΣ"] {
            assert_eq!(lower_in(s, &mut scratch), s.to_lowercase(), "{s}");
            assert_eq!(upper_in(s, &mut scratch), s.to_uppercase(), "{s}");
        }
        assert!(matches!(
            lower_in("word", &mut scratch),
            Cow::Borrowed("word")
        ));
    }

    #[test]
    fn lower_borrows_when_it_can() {
        assert!(matches!(lower("word"), Cow::Borrowed("word")));
        assert_eq!(lower("WoRd"), "word");
        assert_eq!(lower("ÉTÉ"), "été");
        assert!(matches!(upper("WORD"), Cow::Borrowed("WORD")));
    }

    #[test]
    fn division_by_zero_is_an_error_not_a_panic() {
        assert!(div_i64(1, 0, "x.pipe:1:1").is_err());
        assert!(rem_u64(1, 0, "x.pipe:1:1").is_err());
        assert_eq!(div_i64(i64::MIN, -1, "").unwrap(), i64::MIN);
        assert_eq!(len("héllo"), 5);
    }
}
