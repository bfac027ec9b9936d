//! Expression type checking, shared by the front-ends that write expressions: an untyped
//! expression (`ir::untyped`) over a record schema becomes a [`TExpr`], or diagnostics that
//! say which part has which type. (`stream!` pipelines write closures, which rustc types.)

use crate::diagnostics::did_you_mean;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::process::{StateFunc, StateVarKind, Var};
use crate::ir::untyped::{Expr, ExprKind, Ident};
use crate::ir::{BinOp, UnOp};
use crate::ir::{Literal, Schema, TExpr, TExprKind, Type};

/// Checks expressions against one input schema, adding diagnostics as it goes.
pub struct ExprChecker<'a> {
    schema: &'a Schema,
    diagnostics: &'a mut Diagnostics,
    scope: Option<&'a dyn NameScope>,
}

/// Names an expression may read besides the record's fields: a process function's state,
/// locals and clocks. Looked up before the fields.
pub trait NameScope {
    /// What `name` stands for: a value and its type, or why it is not a value here (a
    /// message and a label); `None` when the scope does not know it.
    fn resolve(&self, name: &str) -> Option<Result<(Var, Type), (String, String)>>;
    /// The list or map state called `name`.
    fn container(&self, name: &str) -> Option<&StateVarKind>;
    /// Every name the scope knows, for suggestions.
    fn names(&self) -> Vec<String>;
}

/// Whether a list-valued expression is acceptable where this one stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ListUse {
    /// Only in `flat_map`'s exploded field.
    Allowed,
    /// Anywhere else.
    Refused,
}

impl<'a> ExprChecker<'a> {
    /// A checker over records of `schema`.
    pub fn new(schema: &'a Schema, diagnostics: &'a mut Diagnostics) -> Self {
        ExprChecker {
            schema,
            diagnostics,
            scope: None,
        }
    }

    /// A checker over records of `schema` that reads `scope`'s names first.
    pub fn with_scope(
        schema: &'a Schema,
        scope: &'a dyn NameScope,
        diagnostics: &'a mut Diagnostics,
    ) -> Self {
        ExprChecker {
            schema,
            diagnostics,
            scope: Some(scope),
        }
    }

    /// Checks `e`, which should have type `want` if given. `None` means an error was
    /// reported.
    pub fn check(&mut self, e: &Expr, want: Option<&Type>, lists: ListUse) -> Option<TExpr> {
        let t = self.infer(e, want)?;
        if let Type::List(_) = t.ty {
            if lists == ListUse::Refused {
                self.error(
                    Diagnostic::error(
                        format!("a list ({}) cannot be used here", t.ty),
                        e.span.clone(),
                        "this is a list",
                    )
                    .with_help("lists can only be exploded by flat_map { field: list_expression }"),
                );
                return None;
            }
        }
        match want {
            Some(w) if *w != t.ty => {
                self.error(Diagnostic::error(
                    format!("type mismatch: expected {w}, found {}", t.ty),
                    e.span.clone(),
                    format!("this is {}", t.ty),
                ));
                None
            }
            _ => Some(t),
        }
    }

    pub(super) fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn infer(&mut self, e: &Expr, want: Option<&Type>) -> Option<TExpr> {
        let span = e.span.clone();
        let mk = |kind, ty| {
            Some(TExpr {
                kind,
                ty,
                span: span.clone(),
            })
        };
        match &e.kind {
            ExprKind::Int(v) => self.int_literal(*v, false, want, e),
            // A duration is its number of milliseconds.
            ExprKind::Duration(ms) => self.int_literal(*ms, false, want, e),
            ExprKind::Float(v) => mk(TExprKind::Lit(Literal::F64(*v)), Type::F64),
            ExprKind::Str(s) => mk(TExprKind::Lit(Literal::Str(s.clone())), Type::Str),
            ExprKind::Bool(b) => mk(TExprKind::Lit(Literal::Bool(*b)), Type::Bool),
            ExprKind::Name(n) => self.name(n, e),
            ExprKind::Unary(UnOp::Neg, inner) if matches!(inner.kind, ExprKind::Int(_)) => {
                let ExprKind::Int(v) = inner.kind else {
                    unreachable!()
                };
                self.int_literal(v, true, want, e)
            }
            ExprKind::Unary(UnOp::Neg, inner) => {
                let t = self.infer(inner, want)?;
                if !matches!(t.ty, Type::I64 | Type::F64) {
                    self.error(Diagnostic::error(
                        format!("cannot negate a value of type {}", t.ty),
                        inner.span.clone(),
                        format!("this is {}", t.ty),
                    ));
                    return None;
                }
                let ty = t.ty.clone();
                mk(TExprKind::Unary(UnOp::Neg, Box::new(t)), ty)
            }
            ExprKind::Unary(UnOp::Not, inner) => {
                let t = self.check(inner, Some(&Type::Bool), ListUse::Refused)?;
                mk(TExprKind::Unary(UnOp::Not, Box::new(t)), Type::Bool)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e),
            ExprKind::If(c, a, b) => {
                let c = self.check(c, Some(&Type::Bool), ListUse::Refused);
                let (a, b) = self.pair(a, b, want)?;
                if a.ty != b.ty {
                    self.error(
                        Diagnostic::error(
                            format!(
                                "the branches of `if` have different types: {} and {}",
                                a.ty, b.ty
                            ),
                            b.span.clone(),
                            format!("this is {}", b.ty),
                        )
                        .with_related(a.span.clone(), format!("this is {}", a.ty)),
                    );
                    return None;
                }
                let ty = a.ty.clone();
                mk(TExprKind::If(Box::new(c?), Box::new(a), Box::new(b)), ty)
            }
            ExprKind::Cast(inner, ty_name) => {
                let Some(target) = Type::from_name(&ty_name.name) else {
                    self.error(
                        Diagnostic::error(
                            format!("unknown type `{}`", ty_name.name),
                            ty_name.span.clone(),
                            "not a type",
                        )
                        .with_help("the types are bool, i64, u64, f64, str and timestamp"),
                    );
                    return None;
                };
                let t = self.infer(inner, None)?;
                if !cast_allowed(&t.ty, &target) {
                    self.error(Diagnostic::error(
                        format!("cannot cast {} to {target}", t.ty),
                        e.span.clone(),
                        "this cast",
                    ));
                    return None;
                }
                mk(TExprKind::Cast(Box::new(t)), target)
            }
            ExprKind::Call(name, args) => self.call(name, args, e),
        }
    }

    /// A name: one the scope knows, else a field of the record.
    fn name(&mut self, n: &str, e: &Expr) -> Option<TExpr> {
        let typed = |kind, ty| {
            Some(TExpr {
                kind,
                ty,
                span: e.span.clone(),
            })
        };
        match self.scope.and_then(|s| s.resolve(n)) {
            Some(Ok((var, ty))) => return typed(TExprKind::Var(var), ty),
            Some(Err((message, label))) => {
                self.error(Diagnostic::error(message, e.span.clone(), label));
                return None;
            }
            None => {}
        }
        match self.schema.index_of(n) {
            Some(i) => typed(
                TExprKind::Field(i, n.to_string()),
                self.schema.fields[i].ty.clone(),
            ),
            // The float past every other (a field of that name comes first): what a
            // shortest distance starts from.
            None if n == "infinity" => {
                typed(TExprKind::Lit(Literal::F64(f64::INFINITY)), Type::F64)
            }
            None => {
                let scoped = self.scope.map(|s| s.names()).unwrap_or_default();
                let names = self
                    .schema
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .chain(scoped.iter().map(String::as_str));
                let mut d = Diagnostic::error(
                    format!("unknown field `{n}`"),
                    e.span.clone(),
                    format!("not a field of {}", self.schema.describe()),
                );
                if let Some(h) = did_you_mean(n, names) {
                    d = d.with_help(h);
                }
                self.error(d);
                None
            }
        }
    }

    fn int_literal(
        &mut self,
        v: u64,
        negative: bool,
        want: Option<&Type>,
        e: &Expr,
    ) -> Option<TExpr> {
        let lit = match want {
            Some(Type::U64) if negative && v != 0 => {
                self.error(Diagnostic::error(
                    "a u64 cannot be negative",
                    e.span.clone(),
                    "this is compared or combined with a u64",
                ));
                return None;
            }
            Some(Type::U64) => (Literal::U64(v), Type::U64),
            Some(Type::F64) => {
                let f = v as f64;
                (Literal::F64(if negative { -f } else { f }), Type::F64)
            }
            _ => {
                let limit = if negative {
                    1u64 << 63
                } else {
                    i64::MAX as u64
                };
                if v > limit {
                    if !negative && want.is_none() {
                        return Some(TExpr {
                            kind: TExprKind::Lit(Literal::U64(v)),
                            ty: Type::U64,
                            span: e.span.clone(),
                        });
                    }
                    self.error(Diagnostic::error(
                        "integer literal out of range for i64",
                        e.span.clone(),
                        "too large",
                    ));
                    return None;
                }
                let s = if negative {
                    (v as i64).wrapping_neg()
                } else {
                    v as i64
                };
                let ty = if want == Some(&Type::Timestamp) {
                    Type::Timestamp
                } else {
                    Type::I64
                };
                (Literal::I64(s), ty)
            }
        };
        Some(TExpr {
            kind: TExprKind::Lit(lit.0),
            ty: lit.1,
            span: e.span.clone(),
        })
    }

    /// Checks two operands that should agree, letting an integer literal take the other
    /// side's type.
    fn pair(&mut self, a: &Expr, b: &Expr, want: Option<&Type>) -> Option<(TExpr, TExpr)> {
        let literal = |e: &Expr| match &e.kind {
            ExprKind::Int(_) | ExprKind::Duration(_) => true,
            ExprKind::Unary(UnOp::Neg, i) => matches!(i.kind, ExprKind::Int(_)),
            _ => false,
        };
        if literal(a) && !literal(b) {
            let tb = self.infer(b, want);
            let ta = self.infer(a, tb.as_ref().map(|t| &t.ty).or(want));
            Some((ta?, tb?))
        } else {
            let ta = self.infer(a, want);
            let tb = self.infer(b, ta.as_ref().map(|t| &t.ty).or(want));
            Some((ta?, tb?))
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, e: &Expr) -> Option<TExpr> {
        let span = e.span.clone();
        match op {
            BinOp::And | BinOp::Or => {
                let ta = self.check(a, Some(&Type::Bool), ListUse::Refused);
                let tb = self.check(b, Some(&Type::Bool), ListUse::Refused);
                Some(TExpr {
                    kind: TExprKind::Binary(op, Box::new(ta?), Box::new(tb?)),
                    ty: Type::Bool,
                    span,
                })
            }
            _ => {
                let comparison = matches!(
                    op,
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                );
                let (mut ta, mut tb) = self.pair(a, b, None)?;
                if matches!(op, BinOp::Add | BinOp::Sub) {
                    // A literal added to a timestamp is a number of milliseconds.
                    for t in [&mut ta, &mut tb] {
                        if t.ty == Type::Timestamp && matches!(t.kind, TExprKind::Lit(_)) {
                            t.ty = Type::I64;
                        }
                    }
                }
                let ty = match binary_type(op, &ta.ty, &tb.ty) {
                    Some(ty) => ty,
                    None => {
                        let mut d = Diagnostic::error(
                            format!(
                                "type mismatch: `{}` cannot combine {} and {}",
                                op.symbol(),
                                ta.ty,
                                tb.ty
                            ),
                            tb.span.clone(),
                            format!("this is {}", tb.ty),
                        )
                        .with_related(ta.span.clone(), format!("this is {}", ta.ty));
                        if op == BinOp::Add && ta.ty == Type::Str {
                            d = d.with_help("join strings with concat(a, b)");
                        } else if !comparison && ta.ty.is_numeric() && tb.ty.is_numeric() {
                            d = d.with_help(format!(
                                "convert one side with `as`, e.g. `x as {}`",
                                ta.ty
                            ));
                        }
                        self.error(d);
                        return None;
                    }
                };
                Some(TExpr {
                    kind: TExprKind::Binary(op, Box::new(ta), Box::new(tb)),
                    ty,
                    span,
                })
            }
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], e: &Expr) -> Option<TExpr> {
        if let Some(call) = self.state_call(name, args, e) {
            return call;
        }
        self.function_call(name, args, e)
    }
}

impl ExprChecker<'_> {
    /// `len`, `get` or `contains` of a list or map state; `None` when the call is not one.
    fn state_call(&mut self, name: &Ident, args: &[Expr], e: &Expr) -> Option<Option<TExpr>> {
        let func = match name.name.as_str() {
            "len" => StateFunc::Len,
            "get" => StateFunc::Get,
            "contains" => StateFunc::Contains,
            _ => return None,
        };
        let ExprKind::Name(state) = &args.first()?.kind else {
            return None;
        };
        let kind = self.scope?.container(state)?.clone();
        let (params, ret): (Vec<Type>, Type) = match (func, &kind) {
            (StateFunc::Len, _) => (Vec::new(), Type::U64),
            (StateFunc::Get, StateVarKind::Map(k, v)) => (vec![k.clone(), v.clone()], v.clone()),
            (StateFunc::Contains, StateVarKind::Map(k, _)) => (vec![k.clone()], Type::Bool),
            _ => {
                self.error(
                    Diagnostic::error(
                        format!("`{}` is not defined on a {}", func.name(), kind.describe()),
                        e.span.clone(),
                        format!("`{state}` is a {}", kind.describe()),
                    )
                    .with_help(
                        "a list state has len(list), append(list, x), clear and for x in list",
                    ),
                );
                return Some(None);
            }
        };
        if args.len() != params.len() + 1 {
            self.error(Diagnostic::error(
                format!(
                    "`{}` of a state takes {} argument(s), found {}",
                    func.name(),
                    params.len() + 1,
                    args.len()
                ),
                e.span.clone(),
                "this call",
            ));
            return Some(None);
        }
        let checked: Vec<Option<TExpr>> = args[1..]
            .iter()
            .zip(&params)
            .map(|(a, t)| self.check(a, Some(t), ListUse::Refused))
            .collect();
        let args = checked.into_iter().collect::<Option<Vec<_>>>();
        Some(args.map(|args| TExpr {
            kind: TExprKind::StateCall(func, state.clone(), args),
            ty: ret,
            span: e.span.clone(),
        }))
    }
}

/// The result type of `a op b` for arithmetic and comparison, or `None` if not allowed.
fn binary_type(op: BinOp, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    match op {
        BinOp::Eq | BinOp::Ne => (a == b && !matches!(a, List(_))).then_some(Bool),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            (a == b && !matches!(a, List(_) | Bool)).then_some(Bool)
        }
        BinOp::Add => match (a, b) {
            (Timestamp, I64) | (I64, Timestamp) => Some(Timestamp),
            _ => (a == b && a.is_numeric()).then(|| a.clone()),
        },
        BinOp::Sub => match (a, b) {
            (Timestamp, I64) => Some(Timestamp),
            (Timestamp, Timestamp) => Some(I64),
            _ => (a == b && a.is_numeric()).then(|| a.clone()),
        },
        _ => (a == b && a.is_numeric()).then(|| a.clone()),
    }
}

fn cast_allowed(from: &Type, to: &Type) -> bool {
    use Type::*;
    match (from, to) {
        (List(_), _) | (_, List(_)) => false,
        (_, Str) => true,
        (Str, _) => true,
        (a, b) if a == b => true,
        (I64 | U64 | F64 | Timestamp, I64 | U64 | F64 | Timestamp) => true,
        (Bool, I64 | U64) => true,
        _ => false,
    }
}
