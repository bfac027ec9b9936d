//! pest pairs to syntax tree, in one place.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::Rule;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::iterate::IterateBody;
use crate::ir::process::{Handler, ProcessBody, StateDecl, Stmt, StmtKind};

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

/// The prefix operator at level [`MAX_EXPR_DEPTH`] + 1 of a run of them, if a run is that
/// long.
fn prefix_past_limit<'a>(pairs: Pairs<'a, Rule>) -> Option<Pair<'a, Rule>> {
    let mut run = 0;
    for p in pairs {
        if matches!(p.as_rule(), Rule::not | Rule::neg) {
            run += 1;
            if run > MAX_EXPR_DEPTH {
                return Some(p);
            }
        } else {
            run = 0;
        }
    }
    None
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::prefix(Rule::not))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::neg))
            .op(Op::postfix(Rule::cast))
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

    /// The declarations and handlers of a `process` block.
    fn process(&mut self, items: Pairs<'_, Rule>) -> ProcessBody {
        let mut body = ProcessBody {
            states: Vec::new(),
            handlers: Vec::new(),
        };
        for item in items {
            self.block_item(item, &mut body.states, &mut body.handlers);
        }
        body
    }

    /// A declaration or a handler of a `process` or `iterate` block.
    fn block_item(
        &mut self,
        item: Pair<'_, Rule>,
        decls: &mut Vec<StateDecl>,
        handlers: &mut Vec<Handler>,
    ) {
        {
            let whole = span(&item);
            let mut it = item.clone().into_inner();
            match item.as_rule() {
                Rule::state_decl => {
                    let kind = ident(it.next().expect("state kind"));
                    let name = ident(it.next().expect("state name"));
                    let ty = ident(it.next().expect("state type"));
                    let mut value_ty = None;
                    let mut init = None;
                    for rest in it {
                        match rest.as_rule() {
                            Rule::ident => value_ty = Some(ident(rest)),
                            Rule::expr => init = Some(self.expr(rest)),
                            _ => {}
                        }
                    }
                    decls.push(StateDecl {
                        kind,
                        name,
                        ty,
                        value_ty,
                        init,
                        span: whole,
                    });
                }
                Rule::handler => {
                    it.next(); // `on`
                    let on = ident(it.next().expect("handler name"));
                    let block = self.block(it.next().expect("handler block"));
                    handlers.push(Handler { on, body: block });
                }
                r => unreachable!("block item rule {r:?}"),
            }
        }
    }

    fn block(&mut self, p: Pair<'_, Rule>) -> Vec<Stmt> {
        p.into_inner().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&mut self, p: Pair<'_, Rule>) -> Stmt {
        let whole = span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner().filter(|q| {
            !matches!(
                q.as_rule(),
                Rule::semi
                    | Rule::kw_let
                    | Rule::kw_if
                    | Rule::kw_else
                    | Rule::word_for
                    | Rule::word_in
                    | Rule::word_emit
                    | Rule::word_clear
                    | Rule::word_send
                    | Rule::contribute
            )
        });
        let kind = match rule {
            Rule::let_local => {
                let name = ident(it.next().expect("let name"));
                StmtKind::Let(name, self.expr(it.next().expect("let value")))
            }
            Rule::assign_stmt => {
                let name = ident(it.next().expect("assigned name"));
                StmtKind::Assign(name, self.expr(it.next().expect("assigned value")))
            }
            Rule::if_stmt => {
                let parts: Vec<Pair<'_, Rule>> = it.collect();
                let arms = parts.len() / 2;
                if arms > MAX_EXPR_DEPTH {
                    self.diagnostics.push(
                        Diagnostic::error(
                            format!("this `if` has more than {MAX_EXPR_DEPTH} `else if` arms"),
                            whole.clone(),
                            "this chain",
                        )
                        .with_help("split it, or look the value up in a map state"),
                    );
                    return Stmt {
                        kind: StmtKind::If(
                            Expr {
                                kind: ExprKind::Bool(false),
                                span: whole.clone(),
                            },
                            Vec::new(),
                            Vec::new(),
                        ),
                        span: whole,
                    };
                }
                let mut otherwise = match parts.len() % 2 {
                    1 => self.block(parts[parts.len() - 1].clone()),
                    _ => Vec::new(),
                };
                // Folded from the last arm, so `else if` is an `if` alone in its else branch.
                for arm in (0..arms).rev() {
                    let cond = self.expr(parts[2 * arm].clone());
                    let then = self.block(parts[2 * arm + 1].clone());
                    let start = parts[2 * arm].as_span().start();
                    let span = Span {
                        start: if arm == 0 { whole.start } else { start },
                        end: whole.end,
                    };
                    let stmt = Stmt {
                        kind: StmtKind::If(cond, then, otherwise),
                        span,
                    };
                    if arm == 0 {
                        return stmt;
                    }
                    otherwise = vec![stmt];
                }
                unreachable!("an if has at least one arm")
            }
            Rule::for_stmt => {
                let mut names: Vec<Ident> = Vec::new();
                let mut body = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::ident => names.push(ident(q)),
                        _ => body = self.block(q),
                    }
                }
                let over = names.pop().expect("the state iterated");
                StmtKind::For(names, over, body)
            }
            Rule::emit_stmt => {
                let record = it.next().expect("emitted record");
                let fields = record
                    .into_inner()
                    .map(|f| {
                        let mut parts = f.into_inner();
                        let name = ident(parts.next().expect("field name"));
                        let value = parts.next().map(|e| self.expr(e));
                        (name, value)
                    })
                    .collect();
                StmtKind::Emit(fields)
            }
            Rule::timer_stmt => {
                let (mut delete, mut processing, mut after) = (false, false, false);
                let mut when = None;
                for q in it {
                    match q.as_rule() {
                        Rule::word_delete => delete = true,
                        Rule::word_processing => processing = true,
                        Rule::timer_word => after = q.as_str() == "after",
                        Rule::expr => when = Some(self.expr(q)),
                        _ => {}
                    }
                }
                StmtKind::Timer {
                    delete,
                    processing: processing || after,
                    after,
                    when: when.expect("the timer's time"),
                }
            }
            Rule::clear_stmt => StmtKind::Clear(ident(it.next().expect("cleared state"))),
            Rule::send_stmt => StmtKind::Send(self.expr(it.next().expect("sent value"))),
            Rule::contribute_stmt => {
                let name = ident(it.next().expect("aggregate name"));
                let mut exprs: Vec<Expr> = it.map(|e| self.expr(e)).collect();
                let value = exprs.pop().expect("contributed value");
                StmtKind::Contribute(name, exprs.pop(), value)
            }
            Rule::call_stmt => {
                let name = ident(it.next().expect("called name"));
                StmtKind::Call(name, it.map(|e| self.expr(e)).collect())
            }
            r => unreachable!("statement rule {r:?}"),
        };
        Stmt { kind, span: whole }
    }

    /// An expression, or a placeholder (with `too_deep` set) for one nested past
    /// [`MAX_EXPR_DEPTH`]. A run of prefix operators is measured before the Pratt parser,
    /// which recurses once per prefix; the built tree is measured without recursion.
    fn expr(&mut self, p: Pair<'_, Rule>) -> Expr {
        let whole = span(&p);
        if let Some(op) = prefix_past_limit(p.clone().into_inner()) {
            return self.refuse_deep(span(&op));
        }
        let built = self.pratt_expr(p);
        match built
            .nested_below(MAX_EXPR_DEPTH)
            .map(|deep| deep.span.clone())
        {
            Some(at) => {
                built.dismantle();
                let placeholder = self.refuse_deep(at);
                Expr {
                    span: whole,
                    ..placeholder
                }
            }
            None => built,
        }
    }

    fn refuse_deep(&mut self, at: Span) -> Expr {
        self.too_deep = true;
        self.diagnostics.push(
            Diagnostic::error(
                format!("this expression nests more than {MAX_EXPR_DEPTH} levels deep"),
                at.clone(),
                format!("level {}", MAX_EXPR_DEPTH + 1),
            )
            .with_help("split it over several `map` steps, or use fewer nested `if`s"),
        );
        Expr {
            kind: ExprKind::Bool(false),
            span: at,
        }
    }

    fn pratt_expr(&mut self, p: Pair<'_, Rule>) -> Expr {
        let cell = std::cell::RefCell::new(self);
        pratt()
            .map_primary(|prim| cell.borrow_mut().primary(prim))
            .map_prefix(|op, rhs| {
                let s = span(&op).start..rhs.span.end;
                let u = if op.as_rule() == Rule::not {
                    UnOp::Not
                } else {
                    UnOp::Neg
                };
                Expr {
                    kind: ExprKind::Unary(u, Box::new(rhs)),
                    span: s,
                }
            })
            .map_postfix(|lhs, op| {
                let s = lhs.span.start..span(&op).end;
                let ty = ident(significant(op).next().expect("cast type"));
                Expr {
                    kind: ExprKind::Cast(Box::new(lhs), ty),
                    span: s,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let s = lhs.span.start..rhs.span.end;
                let b = match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                Expr {
                    kind: ExprKind::Binary(b, Box::new(lhs), Box::new(rhs)),
                    span: s,
                }
            })
            .parse(p.into_inner())
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Expr {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::int => match p.as_str().parse::<u64>() {
                Ok(v) => ExprKind::Int(v),
                Err(_) => {
                    self.diagnostics.push(Diagnostic::error(
                        "integer literal is too large",
                        s.clone(),
                        "larger than 18446744073709551615",
                    ));
                    ExprKind::Int(0)
                }
            },
            Rule::float => ExprKind::Float(p.as_str().parse().unwrap_or(f64::INFINITY)),
            Rule::duration => ExprKind::Duration(self.duration(&p)),
            Rule::boolean => ExprKind::Bool(p.as_str() == "true"),
            Rule::string => {
                let inner = p.into_inner().next().expect("string body");
                ExprKind::Str(self.unescape(inner))
            }
            Rule::ident | Rule::qualified => ExprKind::Name(p.as_str().to_string()),
            Rule::call_expr => {
                let mut it = p.into_inner();
                let name = ident(it.next().expect("function name"));
                ExprKind::Call(name, it.map(|a| self.expr(a)).collect())
            }
            Rule::if_expr => {
                let mut it = significant(p).map(|e| Box::new(self.expr(e)));
                let c = it.next().expect("if condition");
                let a = it.next().expect("then branch");
                let b = it.next().expect("else branch");
                ExprKind::If(c, a, b)
            }
            r => unreachable!("primary rule {r:?}"),
        };
        Expr { kind, span: s }
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
