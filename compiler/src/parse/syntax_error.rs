//! A pest error as a diagnostic in the user's words: what was expected, named as the
//! language names it ("an expression", "`|>`"), at the place the parse got furthest.

use super::Rule;
use crate::diagnostics::Diagnostic;

/// The diagnostic of `e`, from parsing a whole program.
pub(super) fn syntax_error(e: pest::error::Error<Rule>) -> Diagnostic {
    syntax_error_in(e, "end of file")
}

/// The diagnostic of `e`, from parsing a piece of a program whose end is called `end`
/// (`error recovery` parses one statement or one step at a time).
pub(super) fn syntax_error_in(e: pest::error::Error<Rule>, end: &str) -> Diagnostic {
    let span = match e.location {
        pest::error::InputLocation::Pos(p) => p..p,
        pest::error::InputLocation::Span((a, b)) => a..b,
    };
    let (punctuation, at) = punctuation(&e);
    if at > span.start && !punctuation.is_empty() {
        // Punctuation got further than any rule: that is where the mistake is.
        let message = format!("syntax error: expected {}", listed(&punctuation));
        return Diagnostic::error(message, at..at, "here");
    }
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let starts_expression = positives.iter().any(|r| EXPRESSION_STARTS.contains(r));
            let mut words: Vec<String> = Vec::new();
            for r in positives {
                let w = if EXPRESSION_STARTS.contains(r) {
                    "an expression"
                } else if *r == Rule::EOI {
                    end
                } else {
                    rule_words(*r)
                };
                let covered = starts_expression && *r == Rule::ident;
                if !covered && !words.iter().any(|x| x == w) {
                    words.push(w.to_string());
                }
            }
            if at == span.start {
                // A bracket or comma expected beside the rules (`window(tumbling 10s` ...).
                for p in punctuation {
                    if !words.contains(&p) {
                        words.push(p);
                    }
                }
            }
            format!("expected {}", listed(&words))
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

/// The punctuation a syntax error names: what closes a bracket or separates items.
const CLOSERS: &[&str] = &[",", ")", "}", "]", ";", ":", "="];

/// `words` as a list: `a`, `a or b`, `a, b or c`.
fn listed(words: &[String]) -> String {
    match words {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The punctuation the parse expected where it got furthest, and that place. pest names
/// only rules in its error, and `,`, `)` or `}` are not rules: where one was expected the
/// error names the start of the statement (`schema S { a: u64 b: str }` fails at `b`
/// expecting `,` or `}`), or leaves them out. Known only when the parse tracked its
/// attempts (`pest::set_error_detail`, on while a failed program is read again).
fn punctuation(e: &pest::error::Error<Rule>) -> (Vec<String>, usize) {
    let Some(attempts) = e.parse_attempts() else {
        return (Vec::new(), 0);
    };
    let mut tokens: Vec<String> = attempts
        .expected_tokens()
        .into_iter()
        .map(|t| t.to_string())
        // Closing brackets and separators only: what begins an expression or a name is
        // named better by its rule, and a comment may come anywhere.
        .filter(|t| CLOSERS.contains(&t.as_str()))
        .map(|t| format!("`{t}`"))
        .collect();
    tokens.dedup();
    (tokens, attempts.max_position)
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
        Rule::program | Rule::statement | Rule::statement_alone => "a statement",
        Rule::schema_decl => "a schema declaration",
        Rule::field_decl => "a field declaration `name: type`",
        Rule::source_decl => "a source declaration",
        Rule::with_clause => "`with`",
        Rule::call | Rule::call_expr => "a call `name(...)`",
        Rule::bare_option | Rule::source_option => "an option",
        Rule::arg => "an argument",
        Rule::let_stmt => "`let`",
        Rule::pipeline_stmt | Rule::pipeline => "a pipeline",
        Rule::operator | Rule::generic_op | Rule::operator_alone => "an operator",
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
        Rule::float | Rule::exponent => "a number",
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
        Rule::state_kind => "`state`, `list` or `map` (in an iteration also `vertex`, `message`, `aggregate`)",
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
        Rule::kw_iterate | Rule::iterate_op => "`iterate(...) { ... }`",
        Rule::iterate_item => {
            "a declaration (`vertex`, `message`, `aggregate`, `state`, `map`), a handler (`on round`, `on round_end`, `on end`) or `until`"
        }
        Rule::until_clause | Rule::word_until => "`until condition;`",
        Rule::send_stmt | Rule::word_send => "`send value;`",
        Rule::contribute_stmt | Rule::contribute => "`aggregate <- value;`",
    }
}
