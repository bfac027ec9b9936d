//! String functions of expressions past the basic ones: `substring`, `trim`, `replace`,
//! `split_part`. Positions count characters (Unicode scalar values) from 1, as SQL does;
//! each borrows its input where the result is a piece of it.

use std::borrow::Cow;

/// `substring(s, start, length)`: the characters at positions `start` to
/// `start + length - 1` (from 1) that `s` has, as SQL's `SUBSTRING(s FROM start FOR
/// length)`: a start before 1 counts the positions before the string too
/// (`substring("abc", 0, 2)` is `"a"`); a negative length is empty.
#[inline]
pub fn substring(s: &str, start: i64, length: i64) -> Cow<'_, str> {
    if length <= 0 {
        return Cow::Borrowed("");
    }
    let end = start.saturating_add(length);
    substring_between(s, start, end)
}

/// `substring(s, start)`: from position `start` (from 1) to the end.
#[inline]
pub fn substring_from(s: &str, start: i64) -> Cow<'_, str> {
    substring_between(s, start, i64::MAX)
}

/// The characters at positions `start..end` (from 1) that `s` has.
fn substring_between(s: &str, start: i64, end: i64) -> Cow<'_, str> {
    let first = start.max(1);
    if end <= first {
        return Cow::Borrowed("");
    }
    let byte_at = |position: i64| {
        s.char_indices()
            .nth(count(position - 1))
            .map_or(s.len(), |(at, _)| at)
    };
    let from = byte_at(first);
    let to = if end == i64::MAX {
        s.len()
    } else {
        // Counted from `from`, so that the string is walked once.
        s[from..]
            .char_indices()
            .nth(count(end - first))
            .map_or(s.len(), |(at, _)| from + at)
    };
    Cow::Borrowed(&s[from..to])
}

/// A non-negative count as a `usize` (past it: as far as a string can go).
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `trim(s)`: without white space (Unicode's) at either end.
#[inline]
pub fn trim(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s.trim())
}

/// `replace(s, from, to)`: every `from` in `s` replaced by `to`, left to right without
/// overlaps; an empty `from` replaces nothing (as SQL's `REPLACE`).
#[inline]
pub fn replace<'a>(s: &'a str, from: &str, to: &str) -> Cow<'a, str> {
    if from.is_empty() || !s.contains(from) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace(from, to))
}

/// `split_part(s, separator, n)`: the `n`th piece of `s` split at `separator` (from 1;
/// from the end when negative, `-1` the last), or `""` when there is none, as Postgres's
/// `SPLIT_PART`. An empty separator leaves `s` whole: its one piece.
#[inline]
pub fn split_part<'a>(s: &'a str, separator: &str, n: i64) -> Cow<'a, str> {
    if separator.is_empty() {
        return Cow::Borrowed(if n == 1 || n == -1 { s } else { "" });
    }
    let piece = match n {
        0 => None,
        n if n > 0 => s.split(separator).nth(count(n - 1)),
        n => s.rsplit(separator).nth(count(-(n + 1))),
    };
    Cow::Borrowed(piece.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// SQL's substring, by the definition: the characters whose 1-based position `p` has
    /// `start <= p < start + length`.
    fn substring_reference(s: &str, start: i64, length: Option<i64>) -> String {
        s.chars()
            .enumerate()
            .filter(|(i, _)| {
                let p = *i as i64 + 1;
                let before_end = match length {
                    Some(l) => (p as i128) < start as i128 + l as i128,
                    None => true,
                };
                p >= start && before_end
            })
            .map(|(_, c)| c)
            .collect()
    }

    #[test]
    fn substring_counts_characters_from_one_as_sql_does() {
        assert_eq!(substring("héllo", 2, 3), "éll");
        assert_eq!(substring("abc", 0, 2), "a");
        assert_eq!(substring("abc", -5, 100), "abc");
        assert_eq!(substring("abc", 3, 10), "c");
        assert_eq!(substring("abc", 4, 1), "");
        assert_eq!(substring("abc", 1, -1), "");
        assert_eq!(substring_from("abc", 2), "bc");
        assert_eq!(substring_from("abc", i64::MIN), "abc");
        assert_eq!(substring("abc", i64::MAX, i64::MAX), "");
    }

    proptest! {
        #[test]
        fn substring_matches_its_definition(s in "\\PC{0,12}", start in -4i64..16, length in -2i64..16) {
            prop_assert_eq!(substring(&s, start, length).into_owned(), substring_reference(&s, start, Some(length)));
            prop_assert_eq!(substring_from(&s, start).into_owned(), substring_reference(&s, start, None));
        }

        #[test]
        fn split_part_matches_collected_pieces(s in "[ab,]{0,10}", n in -5i64..6) {
            let pieces: Vec<&str> = s.split(',').collect();
            let want = match n {
                0 => "",
                n if n > 0 => pieces.get(n as usize - 1).copied().unwrap_or(""),
                n => pieces.len().checked_sub((-n) as usize).map_or("", |i| pieces[i]),
            };
            prop_assert_eq!(split_part(&s, ",", n), want);
        }
    }

    #[test]
    fn replace_trim_and_split_part_follow_sql() {
        assert_eq!(replace("a-b-c", "-", "+"), "a+b+c");
        assert_eq!(replace("aaa", "aa", "b"), "ba");
        assert_eq!(replace("abc", "", "x"), "abc");
        assert!(matches!(replace("abc", "z", "x"), Cow::Borrowed(_)));
        assert_eq!(trim("\u{3000} a b \t"), "a b");
        assert_eq!(split_part("a,b,c", ",", 2), "b");
        assert_eq!(split_part("a,b,c", ",", -1), "c");
        assert_eq!(split_part("a,b,c", ",", 4), "");
        assert_eq!(split_part("a::b", "::", 2), "b");
        assert_eq!(split_part("abc", "", 1), "abc");
        assert_eq!(split_part("abc", "", 2), "");
    }
}
