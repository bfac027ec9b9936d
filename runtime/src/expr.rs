//! Functions that generated expression code calls: string functions and the checked parts of
//! arithmetic and casts. Each is small and inlined; none allocates unless its result is a new
//! string.

use std::borrow::Cow;

use crate::JobError;

/// `lower(s)`: borrows `s` when it has nothing to lower.
#[inline]
pub fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
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
