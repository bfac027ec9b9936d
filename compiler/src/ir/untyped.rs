//! Expressions as a front-end reads them, before types: names, literals, operators, `if`,
//! casts and calls, each with where it is written. The `.pipe` parser builds them; the
//! shared expression typer (`lower/expr_types.rs`) turns them into typed expressions
//! ([`super::TExpr`]) against a schema, so another front-end writing these gets the same
//! types and messages.

use serde::Serialize;

use super::{BinOp, UnOp};
use crate::diagnostics::Span;

/// A name as written, with where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// How deep an expression may nest (operators, `if`, calls): deeper ones would crash rustc
/// on the generated code, so weir refuses them with a message instead.
pub const MAX_EXPR_DEPTH: usize = 64;

impl Expr {
    /// Its direct sub-expressions, left to right.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_) => Vec::new(),
            ExprKind::Unary(_, a) | ExprKind::Cast(a, _) => vec![a],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::If(c, a, b) => vec![c, a, b],
            ExprKind::Call(_, args) => args.iter().collect(),
        }
    }

    /// The first sub-expression (in reading order) `limit` levels below this one, if any.
    /// Walks with a stack of its own rather than recursing: a tree from hostile input may
    /// be far deeper than the thread's stack allows.
    pub fn nested_below(&self, limit: usize) -> Option<&Expr> {
        let mut stack = vec![(self, 0usize)];
        while let Some((e, depth)) = stack.pop() {
            if depth == limit {
                return Some(e);
            }
            stack.extend(e.children().into_iter().rev().map(|c| (c, depth + 1)));
        }
        None
    }

    /// Drops the tree without recursing (dropping a tree nested 100,000 deep recursively
    /// overflows the stack): each node's children are moved to a work list first.
    pub fn dismantle(self) {
        let mut work = vec![self];
        while let Some(mut e) = work.pop() {
            let leaf = || {
                Box::new(Expr {
                    kind: ExprKind::Bool(false),
                    span: 0..0,
                })
            };
            match &mut e.kind {
                ExprKind::Unary(_, a) | ExprKind::Cast(a, _) => {
                    work.push(*std::mem::replace(a, leaf()));
                }
                ExprKind::Binary(_, a, b) => {
                    work.push(*std::mem::replace(a, leaf()));
                    work.push(*std::mem::replace(b, leaf()));
                }
                ExprKind::If(c, a, b) => {
                    for x in [c, a, b] {
                        work.push(*std::mem::replace(x, leaf()));
                    }
                }
                ExprKind::Call(_, args) => work.append(args),
                _ => {}
            }
        }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// An integer literal (negation is a [`UnOp::Neg`]).
    Int(u64),
    /// A float literal.
    Float(f64),
    /// A duration literal (`500ms`, `10s`, `5m`, `1h`, `1d`), in milliseconds.
    Duration(u64),
    /// A string literal, escapes resolved.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A field (or, in argument position, a bare word such as `skip`).
    Name(String),
    /// `op expr`
    Unary(UnOp, Box<Expr>),
    /// `expr op expr`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if cond then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `expr as type`
    Cast(Box<Expr>, Ident),
    /// `name(args)`
    Call(Ident, Vec<Expr>),
}
