//! Regular expressions in expressions: `regexp(s, pattern)` and `regexp_extract(s,
//! pattern, group)`, with the `regex` crate's syntax. A pattern is a literal of the
//! pipeline: the compiler checks it (`Pattern::new`), and the job compiles it once, the
//! first time a record needs it.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::JobError;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// `text` compiled, or why it is no pattern (in the `regex` crate's words).
    pub fn new(text: &str) -> Result<Pattern, String> {
        regex::Regex::new(text)
            .map(Pattern)
            .map_err(|e| e.to_string())
    }

    /// How many groups it has, the whole match (group 0) left out.
    pub fn groups(&self) -> usize {
        self.0.captures_len() - 1
    }

    /// Whether it matches anywhere in `s`.
    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }

    /// What group `group` of its first match in `s` matched (0: the whole match), or `""`
    /// when it does not match or the group took no part.
    #[inline]
    pub fn extract<'a>(&self, s: &'a str, group: usize) -> Cow<'a, str> {
        let found = self
            .0
            .captures(s)
            .and_then(|c| c.get(group))
            .map_or("", |m| m.as_str());
        Cow::Borrowed(found)
    }
}

/// The pattern `text`, compiled into `cell` by the first record that needs it (a
/// generated expression keeps one cell per pattern). The compiler has checked `text`; a
/// pattern that still fails to compile (it cannot) is an error at `location`.
#[inline]
pub fn pattern(
    cell: &'static OnceLock<Pattern>,
    text: &str,
    location: &'static str,
) -> Result<&'static Pattern, JobError> {
    if let Some(p) = cell.get() {
        return Ok(p);
    }
    let compiled = Pattern::new(text).map_err(|message| JobError::Eval { location, message })?;
    Ok(cell.get_or_init(|| compiled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_and_extracts_its_groups() {
        let p = Pattern::new(r"order-(\d+)(?:/(\w+))?").unwrap();
        assert_eq!(p.groups(), 2);
        assert!(p.is_match("see order-42 now"));
        assert!(!p.is_match("order-x"));
        assert_eq!(p.extract("see order-42/eu now", 1), "42");
        assert_eq!(p.extract("see order-42/eu now", 2), "eu");
        assert_eq!(p.extract("see order-42 now", 2), "");
        assert_eq!(p.extract("see order-42 now", 0), "order-42");
        assert_eq!(p.extract("nothing", 1), "");
        assert!(Pattern::new("(unclosed").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn a_cell_compiles_once() {
        static CELL: OnceLock<Pattern> = OnceLock::new();
        let a = pattern(&CELL, "a+", "here").unwrap() as *const Pattern;
        let b = pattern(&CELL, "a+", "here").unwrap() as *const Pattern;
        assert_eq!(a, b);
    }
}
