//! pest pairs to syntax tree, in one place: items and pipelines here, expressions in
//! `build/expressions.rs`, statements in `build/statements.rs`.

mod expressions;
mod statements;

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::Rule;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::iterate::IterateBody;

/// Builds the program, collecting literal errors (such as an integer too large): a bad
/// literal stands as 0, so the rest of the program is still checked. `Err` when an
/// expression nests too deep to be checked at all.
pub(super) fn program(mut pairs: Pairs<'_, Rule>) -> Result<(Program, Diagnostics), Diagnostics> {
    let mut b = Builder {
        diagnostics: Diagnostics::new(),
        too_deep: false,
    };
    let program = pairs.next().expect("the grammar's top rule is `program`");
    let items = program
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| b.item(p))
        .collect();
    if b.too_deep {
        return Err(b.diagnostics);
    }
    Ok((Program { items }, b.diagnostics))
}

struct Builder {
    diagnostics: Diagnostics,
    /// An expression nested past [`MAX_EXPR_DEPTH`]: it stands as a placeholder, which the
    /// checker must not see.
    too_deep: bool,
}

fn span(p: &Pair<'_, Rule>) -> Span {
    p.as_span().start()..p.as_span().end()
}

fn ident(p: Pair<'_, Rule>) -> Ident {
    Ident {
        name: p.as_str().to_string(),
        span: span(&p),
    }
}

/// Skips keyword pairs, which carry no information once matched.
fn significant<'a>(p: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    p.into_inner().filter(|c| {
        !matches!(
            c.as_rule(),
            Rule::kw_schema
                | Rule::kw_source
                | Rule::kw_let
                | Rule::kw_with
                | Rule::kw_sink
                | Rule::kw_window
                | Rule::kw_interval_join
                | Rule::kw_if
                | Rule::kw_then
                | Rule::kw_else
                | Rule::kw_as
                | Rule::semi
                | Rule::pipe
        )
    })
}

impl Builder {
    fn item(&mut self, p: Pair<'_, Rule>) -> Item {
        match p.as_rule() {
            Rule::schema_decl => {
                let mut it = significant(p);
                let name = ident(it.next().expect("schema name"));
                let fields = it
                    .map(|f| {
                        let mut parts = f.into_inner();
                        let n = ident(parts.next().expect("field name"));
                        let t = ident(parts.next().expect("field type"));
                        (n, t)
                    })
                    .collect();
                Item::Schema(SchemaDecl { name, fields })
            }
            Rule::source_decl => {
                let whole = span(&p);
                let mut it = significant(p).peekable();
                let name = ident(it.next().expect("source name"));
                let schema = match it.peek() {
                    Some(n) if n.as_rule() == Rule::ident => {
                        Some(ident(it.next().expect("peeked")))
                    }
                    _ => None,
                };
                let kind = self.call(it.next().expect("source kind"));
                let options = it
                    .next()
                    .map(|w| significant(w).map(|c| self.option(c)).collect())
                    .unwrap_or_default();
                Item::Source(SourceDecl {
                    name,
                    schema,
                    kind,
                    options,
                    span: whole,
                })
            }
            Rule::let_stmt => {
                let mut it = significant(p);
                let name = ident(it.next().expect("let name"));
                let pipeline = self.pipeline(it.next().expect("let pipeline"));
                Item::Let(LetStmt { name, pipeline })
            }
            Rule::pipeline_stmt => {
                Item::Pipeline(self.pipeline(p.into_inner().next().expect("pipeline")))
            }
            r => unreachable!("statement rule {r:?}"),
        }
    }

    /// A source option: a call, or a bare word as the call without arguments.
    fn option(&mut self, p: Pair<'_, Rule>) -> Call {
        if p.as_rule() != Rule::bare_option {
            return self.call(p);
        }
        let whole = span(&p);
        let name = ident(p.into_inner().next().expect("option name"));
        Call {
            name,
            args: Vec::new(),
            span: whole,
        }
    }

    fn call(&mut self, p: Pair<'_, Rule>) -> Call {
        let whole = span(&p);
        let mut it = p.into_inner();
        let name = ident(it.next().expect("call name"));
        let args = it
            .map(|a| {
                let mut parts = a.into_inner().peekable();
                let arg_name = match parts.peek() {
                    Some(n) if n.as_rule() == Rule::ident => {
                        Some(ident(parts.next().expect("peeked")))
                    }
                    _ => None,
                };
                let v = parts.next().expect("argument value");
                let (word, value) = if v.as_rule() == Rule::phrase_arg {
                    let mut it = v.into_inner();
                    let word = ident(it.next().expect("phrase word"));
                    let d = it.next().expect("phrase duration");
                    let value = Expr {
                        span: span(&d),
                        kind: ExprKind::Duration(self.duration(&d)),
                    };
                    (Some(word), value)
                } else {
                    (None, self.expr(v))
                };
                Arg {
                    name: arg_name,
                    word,
                    value,
                }
            })
            .collect();
        Call {
            name,
            args,
            span: whole,
        }
    }

    fn pipeline(&mut self, p: Pair<'_, Rule>) -> Pipeline {
        let whole = span(&p);
        let mut it = significant(p);
        let head = ident(it.next().expect("pipeline head"));
        let ops = it.map(|op| self.op(op)).collect();
        Pipeline {
            head,
            ops,
            span: whole,
        }
    }

    fn op(&mut self, p: Pair<'_, Rule>) -> OpSyntax {
        let whole = span(&p);
        match p.as_rule() {
            Rule::sink_op => {
                let kw = p.clone().into_inner().next().expect("sink keyword");
                let name = Ident {
                    name: "sink".into(),
                    span: span(&kw),
                };
                let mut it = significant(p).peekable();
                let sink_name = match it.peek() {
                    Some(n) if n.as_rule() == Rule::ident => {
                        Some(ident(it.next().expect("peeked")))
                    }
                    _ => None,
                };
                let call = self.call(it.next().expect("sink call"));
                OpSyntax {
                    name,
                    body: OpBody::Sink {
                        name: sink_name,
                        call,
                    },
                    span: whole,
                }
            }
            Rule::window_op => {
                let kw = p.clone().into_inner().next().expect("window keyword");
                let name = Ident {
                    name: kw.as_str().into(),
                    span: span(&kw),
                };
                let phrases = significant(p).map(|ph| self.phrase(ph)).collect();
                OpSyntax {
                    name,
                    body: OpBody::Phrases(phrases),
                    span: whole,
                }
            }
            Rule::iterate_op => {
                let mut it = p.into_inner();
                let kw = it.next().expect("iterate keyword");
                let name = Ident {
                    name: "iterate".into(),
                    span: span(&kw),
                };
                let mut phrases = Vec::new();
                let mut body = IterateBody {
                    decls: Vec::new(),
                    handlers: Vec::new(),
                    until: Vec::new(),
                };
                for item in it {
                    match item.as_rule() {
                        Rule::phrase => phrases.push(self.phrase(item)),
                        Rule::until_clause => {
                            let cond = item
                                .into_inner()
                                .find(|q| q.as_rule() == Rule::expr)
                                .expect("until's condition");
                            body.until.push(self.expr(cond));
                        }
                        _ => self.block_item(item, &mut body.decls, &mut body.handlers),
                    }
                }
                OpSyntax {
                    name,
                    body: OpBody::Iterate(phrases, body),
                    span: whole,
                }
            }
            Rule::process_op => {
                let mut it = p.into_inner();
                let kw = it.next().expect("process keyword");
                let name = Ident {
                    name: "process".into(),
                    span: span(&kw),
                };
                OpSyntax {
                    name,
                    body: OpBody::Process(self.process(it)),
                    span: whole,
                }
            }
            Rule::generic_op => {
                let mut it = p.into_inner();
                let name = ident(it.next().expect("operator name"));
                let body = it.next().expect("operator body");
                let body = match body.as_rule() {
                    Rule::paren_args => {
                        OpBody::Args(body.into_inner().map(|e| self.expr(e)).collect())
                    }
                    _ => OpBody::Record(
                        body.into_inner()
                            .map(|f| {
                                let mut parts = f.into_inner();
                                let name = ident(parts.next().expect("field name"));
                                let value = parts.next().map(|e| self.expr(e));
                                FieldInit { name, value }
                            })
                            .collect(),
                    ),
                };
                OpSyntax {
                    name,
                    body,
                    span: whole,
                }
            }
            r => unreachable!("operator rule {r:?}"),
        }
    }

    /// Words, durations and numbers in a row.
    fn phrase(&mut self, ph: Pair<'_, Rule>) -> Phrase {
        let whole = span(&ph);
        let items = ph
            .into_inner()
            .map(|item| match item.as_rule() {
                Rule::duration => PhraseItem::Duration(self.duration(&item), span(&item)),
                Rule::int => PhraseItem::Int(self.phrase_int(&item), span(&item)),
                Rule::arrow => PhraseItem::Arrow(span(&item)),
                Rule::neg_duration => {
                    let d = item.clone().into_inner().next().expect("duration");
                    PhraseItem::NegDuration(self.duration(&d), span(&item))
                }
                _ => PhraseItem::Word(ident(item)),
            })
            .collect();
        Phrase { items, span: whole }
    }

    /// A whole number in a phrase (`count 100`); one too large is reported and stands as
    /// the largest.
    fn phrase_int(&mut self, p: &Pair<'_, Rule>) -> u64 {
        p.as_str().parse().unwrap_or_else(|_| {
            self.diagnostics.push(Diagnostic::error(
                "integer literal is too large",
                span(p),
                "larger than 18446744073709551615",
            ));
            u64::MAX
        })
    }

    /// A duration literal in milliseconds; one too large is reported.
    fn duration(&mut self, p: &Pair<'_, Rule>) -> u64 {
        let text = p.as_str();
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        // The grammar admits only known units, so the one failure left is size.
        match super::duration::duration_ms(digits, &text[digits.len()..]) {
            Ok(ms) => ms,
            Err(e) => {
                self.diagnostics
                    .push(Diagnostic::error(e.to_string(), span(p), "too long"));
                0
            }
        }
    }

    fn unescape(&mut self, p: Pair<'_, Rule>) -> String {
        let start = p.as_span().start();
        let mut out = String::new();
        let mut chars = p.as_str().char_indices();
        while let Some((_, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((i, other)) => {
                    let at = start + i - 1;
                    self.diagnostics.push(Diagnostic::error(
                        format!("unknown escape `\\{other}` in string"),
                        at..at + 1 + other.len_utf8(),
                        "write \\n, \\t, \\r, \\\" or \\\\",
                    ));
                }
                None => {}
            }
        }
        out
    }
}
