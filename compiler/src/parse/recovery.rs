//! Every syntax error of a program in one run: after the first, parsing goes on at the
//! next statement and at the next `|>` step.
//!
//! pest stops at the first error, so a program that does not parse is cut into its
//! top-level statements (at each `;` outside brackets, strings and comments, and at the
//! `}` that closes a `schema`), and each is parsed on its own. A statement that fails
//! reports pest's error, and every `|>` step after the failing one is parsed on its own
//! too, so a mistake in a later step is reported as well. The statements that parse are
//! then read as a program, with the failed ones blanked out (their bytes become spaces, so
//! every span stays where it was) and standing as [`Item::Broken`]: a stream a failed
//! statement defines is known but broken, so its uses are not reported again, and the
//! checker reports the meaning errors of the rest.

use std::ops::Range;

use pest::Parser;

use super::ast::{BrokenStmt, Ident, Item, Program};
use super::syntax_error::{syntax_error, syntax_error_in};
use super::{build, PipeParser, Rule};
use crate::diagnostics::{Diagnostic, Diagnostics};

/// Reads a program that failed to parse: its syntax errors, and what parses of it.
pub(super) fn recover(text: &str) -> Result<(Program, Diagnostics), Diagnostics> {
    // Tracks what each parse below expected where it got furthest, punctuation included,
    // for the messages (`syntax_error.rs`); the whole program's parse, done once for
    // every program, is not slowed by it.
    pest::set_error_detail(true);
    let result = recover_statements(text);
    pest::set_error_detail(false);
    result
}

fn recover_statements(text: &str) -> Result<(Program, Diagnostics), Diagnostics> {
    let mut errors = Diagnostics::new();
    let mut blanked = text.as_bytes().to_vec();
    let mut broken = Vec::new();
    for chunk in statements(text) {
        let statement = &text[chunk.clone()];
        let Err(e) = PipeParser::parse(Rule::statement_alone, statement) else {
            continue;
        };
        let first = shifted(syntax_error_in(e, STATEMENT_END), chunk.start);
        let at = first.span.start;
        errors.push(with_hint(first, text));
        for step in later_steps(text, chunk.clone(), at) {
            if let Err(e) = PipeParser::parse(Rule::operator_alone, &text[step.clone()]) {
                let d = shifted(syntax_error_in(e, STATEMENT_END), step.start);
                errors.push(with_hint(d, text));
            }
        }
        broken.push(BrokenStmt {
            defines: defined_name(text, chunk.clone(), &["let", "source"]),
            schema: defined_name(text, chunk.clone(), &["schema"]),
            mentions: names_in(text, chunk.clone()),
            span: chunk.clone(),
        });
        for b in &mut blanked[chunk] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    if errors.is_empty() {
        // Cut differently than the grammar reads it (it should not be): the whole
        // program's error is the one to report.
        let e = PipeParser::parse(Rule::program, text).expect_err("the program failed to parse");
        errors.push(syntax_error(e));
        return Err(errors);
    }
    let blanked = String::from_utf8(blanked)
        .expect("only ASCII bytes were replaced, whole characters at a time");
    let Ok(pairs) = PipeParser::parse(Rule::program, &blanked) else {
        return Err(errors);
    };
    let (mut program, literals) = match build::program(pairs) {
        Ok(built) => built,
        Err(too_deep) => {
            errors.extend(too_deep);
            return Err(errors);
        }
    };
    errors.extend(literals);
    for statement in broken {
        let at = program
            .items
            .iter()
            .position(|i| item_start(i) > statement.span.start)
            .unwrap_or(program.items.len());
        program.items.insert(at, Item::Broken(statement));
    }
    Ok((program, errors))
}

/// `d` with a hint for a mistake people make at its place: `=` where `==` compares.
fn with_hint(d: Diagnostic, text: &str) -> Diagnostic {
    let here = &text[d.span.start.min(text.len())..];
    if here.starts_with('=') && !here.starts_with("==") && !here.starts_with("=>") {
        return d.with_help("to compare two values, write `==`");
    }
    d
}

/// What may follow a whole step or statement, where a piece parsed alone expects its end.
const STATEMENT_END: &str = "`|>` or `;`";

fn shifted(mut d: Diagnostic, by: usize) -> Diagnostic {
    d.span = d.span.start + by..d.span.end + by;
    d
}

/// Where an item begins.
fn item_start(item: &Item) -> usize {
    match item {
        Item::Schema(s) => s.name.span.start,
        Item::Source(s) => s.span.start,
        Item::Let(l) => l.name.span.start,
        Item::Pipeline(p) => p.span.start,
        Item::Broken(b) => b.span.start,
    }
}

/// What a piece of text is, at each byte, to the statement cutter.
struct Scan<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl Scan<'_> {
    /// Moves past a string or comment starting at `at`, if one does; whether it did.
    fn skip_quoted(&mut self) -> bool {
        match (self.bytes[self.at], self.bytes.get(self.at + 1)) {
            (b'"', _) => {
                self.at += 1;
                while self.at < self.bytes.len() && !matches!(self.bytes[self.at], b'"' | b'\n') {
                    self.at += if self.bytes[self.at] == b'\\' { 2 } else { 1 };
                }
                self.at = (self.at + 1).min(self.bytes.len());
                true
            }
            (b'/', Some(b'/')) => {
                while self.at < self.bytes.len() && self.bytes[self.at] != b'\n' {
                    self.at += 1;
                }
                true
            }
            _ => false,
        }
    }
}

/// The top-level statements of `text`, each from its first significant character to its
/// `;` outside braces (or a `schema`'s closing `}`, or the end of the text).
fn statements(text: &str) -> Vec<Range<usize>> {
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    // Braces open, and those of them a process block's (whose statements end in `;`):
    // only those hide a `;`, so a record or schema left unclosed, or an unclosed `(`, does
    // not swallow the statements after it.
    let (mut braces, mut process_braces) = (0usize, 0usize);
    let mut last_word = 0..0;
    while scan.at < scan.bytes.len() {
        let b = scan.bytes[scan.at];
        if b.is_ascii_whitespace() || (b == b'/' && scan.bytes.get(scan.at + 1) == Some(&b'/')) {
            if !scan.skip_quoted() {
                scan.at += 1;
            }
            continue;
        }
        let begin = *start.get_or_insert(scan.at);
        if scan.skip_quoted() {
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let word = scan.at;
            while scan.at < scan.bytes.len()
                && (scan.bytes[scan.at].is_ascii_alphanumeric() || scan.bytes[scan.at] == b'_')
            {
                scan.at += 1;
            }
            last_word = word..scan.at;
            continue;
        }
        scan.at += 1;
        match b {
            b'{' => {
                braces += 1;
                if process_braces > 0 || &text[last_word.clone()] == "process" {
                    process_braces += 1;
                }
            }
            b'}' => {
                braces = braces.saturating_sub(1);
                process_braces = process_braces.saturating_sub(1);
                if braces == 0 && text[begin..].starts_with("schema") {
                    out.push(begin..scan.at);
                    start = None;
                }
            }
            b';' if process_braces == 0 => {
                out.push(begin..scan.at);
                (start, braces) = (None, 0);
            }
            _ => {}
        }
        last_word = 0..0;
    }
    if let Some(begin) = start {
        out.push(begin..text.len());
    }
    out
}

/// The `|>` steps of statement `chunk` after the one holding byte `at`, each without the
/// statement's `;`.
fn later_steps(text: &str, chunk: Range<usize>, at: usize) -> Vec<Range<usize>> {
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: chunk.start,
    };
    // A `|>` is never inside brackets, so every one outside strings and comments begins a
    // step (an unclosed bracket does not hide the steps after it).
    let mut pipes = Vec::new();
    while scan.at < chunk.end {
        if scan.skip_quoted() {
            continue;
        }
        if scan.bytes[scan.at] == b'|' && scan.bytes.get(scan.at + 1) == Some(&b'>') {
            pipes.push(scan.at);
        }
        scan.at += 1;
    }
    let mut end = chunk.end;
    if text[..end].ends_with(';') {
        end -= 1;
    }
    let mut steps = Vec::new();
    for (i, &pipe) in pipes.iter().enumerate() {
        let next = pipes.get(i + 1).copied().unwrap_or(end);
        if pipe > at {
            let step = pipe + 2..next;
            // The step's own text, without the white space around it.
            let body = &text[step.clone()];
            let lead = body.len() - body.trim_start().len();
            let trail = body.len() - body.trim_end().len();
            if lead + trail < body.len() {
                steps.push(step.start + lead..step.end - trail);
            }
        }
    }
    steps
}

/// Every name written in statement `chunk` (outside strings and comments).
fn names_in(text: &str, chunk: Range<usize>) -> Vec<String> {
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: chunk.start,
    };
    let mut names = Vec::new();
    while scan.at < chunk.end {
        if scan.skip_quoted() {
            continue;
        }
        let b = scan.bytes[scan.at];
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = scan.at;
            while scan.at < chunk.end
                && (scan.bytes[scan.at].is_ascii_alphanumeric() || scan.bytes[scan.at] == b'_')
            {
                scan.at += 1;
            }
            names.push(text[start..scan.at].to_string());
        } else if b.is_ascii_digit() {
            // A number and its unit (`10s`) name nothing.
            while scan.at < chunk.end && scan.bytes[scan.at].is_ascii_alphanumeric() {
                scan.at += 1;
            }
        } else {
            scan.at += 1;
        }
    }
    names
}

/// The name a statement that begins with one of `keywords` defines (`let name = ...`,
/// `source name ...`, `schema Name ...`), if it names one.
fn defined_name(text: &str, chunk: Range<usize>, keywords: &[&str]) -> Option<Ident> {
    let statement = &text[chunk.clone()];
    let rest = keywords.iter().find_map(|kw| {
        statement
            .strip_prefix(kw)
            .filter(|r| r.starts_with(|c: char| c.is_ascii_whitespace()))
    })?;
    let skipped = statement.len() - rest.len() + (rest.len() - rest.trim_start().len());
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let start = chunk.start + skipped;
    Some(Ident {
        span: start..start + name.len(),
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_top_level_semicolons_and_schema_braces() {
        let text = "schema S { a: u64 }\n// c; d\nsource s: S = csv(\"x;y\");\ns |> process { state n: u64 = 0; on record { n = n + 1; } } |> sink stdout();\ntail";
        let got: Vec<&str> = statements(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "schema S { a: u64 }",
                "source s: S = csv(\"x;y\");",
                "s |> process { state n: u64 = 0; on record { n = n + 1; } } |> sink stdout();",
                "tail",
            ]
        );
    }

    #[test]
    fn the_steps_after_an_error_are_each_one_step() {
        let text = "a |> filter(x >) |> map { y: \"|>\" } |> sink csv(\"o\");";
        let at = text.find('>').unwrap() + 5;
        let got: Vec<&str> = later_steps(text, 0..text.len(), at)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(got, ["map { y: \"|>\" }", "sink csv(\"o\")"]);
    }

    #[test]
    fn the_names_of_a_statement_leave_out_strings_comments_and_units() {
        let text = "let x = bids |> window(tumbling 10s) // late\n |> sink csv(\"a b\");";
        assert_eq!(
            names_in(text, 0..text.len()),
            ["let", "x", "bids", "window", "tumbling", "sink", "csv"]
        );
    }

    #[test]
    fn a_let_or_source_names_its_stream() {
        let text = "x; let  big = a |> oops;";
        let chunk = 3..text.len();
        let name = defined_name(text, chunk, &["let"]).unwrap();
        assert_eq!((name.name.as_str(), &text[name.span]), ("big", "big"));
        assert!(defined_name("a |> b;", 0..7, &["let"]).is_none());
        assert!(defined_name("letter |> b;", 0..12, &["let"]).is_none());
    }
}
