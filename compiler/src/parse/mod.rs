//! Text to syntax tree: the pest grammar in `grammar.pest`, and the one place that turns its
//! pairs into the [`ast`].

pub mod ast;
mod build;
pub mod duration;
mod recovery;
mod syntax_error;

use pest::Parser;

use crate::diagnostics::{Diagnostic, Diagnostics};
use ast::Program;
use syntax_error::syntax_error;

mod grammar {
    //! The pest parser generated from `grammar.pest` and its `Rule` enum.
    #![allow(missing_docs)]

    #[derive(pest_derive::Parser)]
    #[grammar = "parse/grammar.pest"]
    pub(crate) struct PipeParser;
}

pub(crate) use grammar::{PipeParser, Rule};

/// Brackets nested deeper than this are refused before parsing, so that no input can
/// exhaust the stack of the recursive-descent parser.
const MAX_NESTING: usize = 128;

/// Parses a `.pipe` program, with the errors of its literals (the program is still whole:
/// a bad literal stands as 0) and its syntax errors: a statement that does not parse
/// stands as [`ast::Item::Broken`], and the rest can still be checked (`recovery.rs`).
/// `Err` only when nothing can be read (brackets nested too deep, an expression nested
/// past the limit).
pub fn parse(text: &str) -> Result<(Program, Diagnostics), Diagnostics> {
    if let Some(d) = nesting_guard(text) {
        let mut ds = Diagnostics::new();
        ds.push(d);
        return Err(ds);
    }
    match PipeParser::parse(Rule::program, text) {
        Ok(pairs) => build::program(pairs),
        Err(e) if is_stack_limit(&e) => {
            let mut ds = Diagnostics::new();
            ds.push(syntax_error(e));
            Err(ds)
        }
        Err(_) => recovery::recover(text),
    }
}

/// Whether pest gave up for its own stack: the program nests too deeply to be read at
/// all, statement by statement too.
fn is_stack_limit(e: &pest::error::Error<Rule>) -> bool {
    let expected_something = matches!(
        &e.variant,
        pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty()
    );
    !expected_something && e.variant.message().contains("stack limit reached")
}

fn nesting_guard(text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '{' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Diagnostic::error(
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                        i..i + 1,
                        "too deep",
                    ));
                }
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_a_diagnostic_not_a_crash() {
        let text = format!("x |> filter({}1{});", "(".repeat(5000), ")".repeat(5000));
        let e = parse(&text).unwrap_err();
        assert!(e.iter().next().unwrap().message.contains("nested"));
    }

    /// Runs in a test thread (2 MiB of stack, less than a user's main thread): each of
    /// these overflowed the stack before the runs were measured and the tree was walked
    /// without recursion.
    #[test]
    fn long_operator_chains_are_a_diagnostic_at_their_place_not_a_crash() {
        let chains = [
            ("-".repeat(60_000) + "a", "-"),
            ("not ".repeat(60_000) + "a", "not"),
            (vec!["a"; 100_000].join(" + "), "a"),
            ("a".to_string() + &" as i64".repeat(100_000), "a"),
            // pest's own stack guard stops this one wherever its stack runs out.
            ("if a then 1 else ".repeat(30_000) + "1", ""),
        ];
        for (expr, starts) in chains {
            let text = format!("s |> map {{ x: {expr} }} |> sink stdout();");
            let e = parse(&text).unwrap_err();
            let d = e.iter().next().unwrap();
            assert!(d.message.contains("nests"), "{starts}...: {}", d.message);
            assert!(
                text[d.span.start..].starts_with(starts),
                "{starts}...: points at {:?}",
                &text[d.span.start..(d.span.start + 10).min(text.len())]
            );
        }
    }

    #[test]
    fn a_chain_at_the_limit_parses() {
        let expr = vec!["a"; crate::parse::ast::MAX_EXPR_DEPTH].join(" + ");
        let neg = "-".repeat(crate::parse::ast::MAX_EXPR_DEPTH - 1) + "a";
        let text = format!("s |> map {{ x: {expr}, y: {neg} }} |> sink stdout();");
        assert!(parse(&text).is_ok());
    }
}
