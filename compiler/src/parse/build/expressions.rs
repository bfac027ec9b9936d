//! Expressions from pest pairs: operators by precedence (a Pratt parser), primaries, and
//! a nesting too deep to check refused where it starts.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::super::ast::*;
use super::super::Rule;
use super::{ident, significant, span, Builder};
use crate::diagnostics::Diagnostic;

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
    /// An expression, or a placeholder (with `too_deep` set) for one nested past
    /// [`MAX_EXPR_DEPTH`]. A run of prefix operators is measured before the Pratt parser,
    /// which recurses once per prefix; the built tree is measured without recursion.
    pub(super) fn expr(&mut self, p: Pair<'_, Rule>) -> Expr {
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

    pub(super) fn refuse_deep(&mut self, at: Span) -> Expr {
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

    pub(super) fn pratt_expr(&mut self, p: Pair<'_, Rule>) -> Expr {
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

    pub(super) fn primary(&mut self, p: Pair<'_, Rule>) -> Expr {
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
}
