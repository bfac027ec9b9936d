//! Text to syntax tree: the pest grammar in `grammar.pest`, and the one place that turns its
//! pairs into the [`ast`].

pub mod ast;
mod build;
pub mod duration;

use pest::Parser;

use crate::diagnostics::{Diagnostic, Diagnostics};
use ast::Program;

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
/// a bad literal stands as 0), or returns the syntax error as a diagnostic.
pub fn parse(text: &str) -> Result<(Program, Diagnostics), Diagnostics> {
    if let Some(d) = nesting_guard(text) {
        let mut ds = Diagnostics::new();
        ds.push(d);
        return Err(ds);
    }
    let pairs = PipeParser::parse(Rule::program, text).map_err(|e| {
        let mut ds = Diagnostics::new();
        ds.push(syntax_error(e));
        ds
    })?;
    build::program(pairs)
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

fn syntax_error(e: pest::error::Error<Rule>) -> Diagnostic {
    let span = match e.location {
        pest::error::InputLocation::Pos(p) => p..p,
        pest::error::InputLocation::Span((a, b)) => a..b,
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let starts_expression = positives.iter().any(|r| EXPRESSION_STARTS.contains(r));
            let mut words: Vec<&str> = Vec::new();
            for r in positives {
                let w = if EXPRESSION_STARTS.contains(r) {
                    "an expression"
                } else {
                    rule_words(*r)
                };
                let covered = starts_expression && *r == Rule::ident;
                if !covered && !words.contains(&w) {
                    words.push(w);
                }
            }
            let list = match words.as_slice() {
                [one] => one.to_string(),
                [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
                [] => "something else".to_string(),
            };
            format!("expected {list}")
        }
        // pest's guard of its own stack: the input nests deeper than the parser can go.
        other if other.message().contains("stack limit reached") => {
            return Diagnostic::error(
                "this program nests too deeply to be parsed",
                span,
                "the parser ran out of stack here",
            )
            .with_help("split deeply nested expressions (such as long `else if` chains) over several `map` steps");
        }
        other => other.message().into_owned(),
    };
    Diagnostic::error(format!("syntax error: {message}"), span, "here")
}

/// Rules that can begin an expression; a syntax error expecting any of them says
/// "an expression" once rather than listing them.
const EXPRESSION_STARTS: &[Rule] = &[
    Rule::expr,
    Rule::primary,
    Rule::prefix,
    Rule::not,
    Rule::neg,
    Rule::float,
    Rule::int,
    Rule::duration,
    Rule::string,
    Rule::boolean,
    Rule::if_expr,
    Rule::kw_if,
    Rule::kw_not,
    Rule::call_expr,
];

/// What each grammar rule is called in a syntax error.
fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::program | Rule::statement => "a statement",
        Rule::schema_decl => "a schema declaration",
        Rule::field_decl => "a field declaration `name: type`",
        Rule::source_decl => "a source declaration",
        Rule::with_clause => "`with`",
        Rule::call | Rule::call_expr => "a call `name(...)`",
        Rule::bare_option | Rule::source_option => "an option",
        Rule::arg => "an argument",
        Rule::let_stmt => "`let`",
        Rule::pipeline_stmt | Rule::pipeline => "a pipeline",
        Rule::operator | Rule::generic_op => "an operator",
        Rule::sink_op => "`sink`",
        Rule::paren_args => "`(`",
        Rule::record_body => "`{`",
        Rule::field_init => "a field `name: expression`",
        Rule::expr | Rule::primary => "an expression",
        Rule::infix => "an operator such as `+` or `and`",
        Rule::or => "`or`",
        Rule::and => "`and`",
        Rule::eq => "`==`",
        Rule::ne => "`!=`",
        Rule::le => "`<=`",
        Rule::ge => "`>=`",
        Rule::lt => "`<`",
        Rule::gt => "`>`",
        Rule::add => "`+`",
        Rule::sub => "`-`",
        Rule::mul => "`*`",
        Rule::div => "`/`",
        Rule::rem => "`%`",
        Rule::prefix | Rule::not | Rule::neg => "`not` or `-`",
        Rule::postfix | Rule::cast => "`as`",
        Rule::if_expr => "`if`",
        Rule::float => "a number",
        Rule::int => "an integer",
        Rule::string | Rule::string_inner => "a string",
        Rule::boolean => "`true` or `false`",
        Rule::ident_char | Rule::ident => "a name",
        Rule::qualified => "an expression",
        Rule::keyword => "a keyword",
        Rule::kw_schema => "`schema`",
        Rule::kw_source => "`source`",
        Rule::kw_let => "`let`",
        Rule::kw_with => "`with`",
        Rule::kw_sink => "`sink`",
        Rule::kw_window => "`window`",
        Rule::kw_interval_join => "`interval_join`",
        Rule::neg_duration => "a duration",
        Rule::window_op => "`window(...)`",
        Rule::phrase => "a window description such as `tumbling 10s`",
        Rule::phrase_arg => "a word and a duration, such as `bounded 2s`",
        Rule::arrow => "`->`",
        Rule::duration => "a duration such as 500ms, 10s, 5m or 1h",
        Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_as => "`as`",
        Rule::WHITESPACE | Rule::COMMENT => "white space",
        Rule::semi => "`;`",
        Rule::pipe => "`|>`",
        Rule::kw_process | Rule::process_op => "`process { ... }`",
        Rule::process_item => {
            "a declaration (`state`, `list`, `map`) or a handler (`on record`, `on timer`)"
        }
        Rule::state_decl => "a state declaration such as `state seen: bool = false;`",
        Rule::state_kind => "`state`, `list` or `map`",
        Rule::handler | Rule::word_on => "`on record { ... }` or `on timer { ... }`",
        Rule::block => "`{`",
        Rule::stmt => "a statement",
        Rule::let_local => "`let`",
        Rule::if_stmt => "`if`",
        Rule::for_stmt | Rule::word_for => "`for`",
        Rule::word_in => "`in`",
        Rule::emit_stmt | Rule::word_emit => "`emit { ... };`",
        Rule::timer_stmt | Rule::word_timer => "`timer at ...;` or `timer after ...;`",
        Rule::word_delete => "`delete`",
        Rule::word_processing => "`processing`",
        Rule::timer_word => "`at` or `after`",
        Rule::clear_stmt | Rule::word_clear => "`clear`",
        Rule::call_stmt => "a call such as `append(list, x);`",
        Rule::assign_stmt => "an assignment `name = expression;`",
    }
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
