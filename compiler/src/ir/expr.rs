//! Typed expressions: what the checker makes of an expression, with every name resolved to a
//! field index and every node's type known.

use std::fmt;

use serde::Serialize;

use super::Type;
use crate::diagnostics::Span;

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TExpr {
    /// What it computes.
    pub kind: TExprKind,
    /// Its type.
    pub ty: Type,
    /// Where it is written.
    pub span: Span,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Literal {
    /// A signed integer (also timestamps).
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A string.
    Str(String),
    /// A bool.
    Bool(bool),
}

/// Built-in scalar functions (`docs/language.md`'s table says what each takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub enum Func {
    Lower,
    Upper,
    Len,
    Split,
    SplitWhitespace,
    Contains,
    StartsWith,
    EndsWith,
    Concat,
    Substring,
    Trim,
    Replace,
    SplitPart,
    Regexp,
    RegexpExtract,
    Abs,
    Sqrt,
    Round,
    Floor,
    Ceil,
    Ln,
    Exp,
    Pow,
    Greatest,
    Least,
    DateTrunc,
    Extract,
    FormatTime,
    ParseTime,
}

impl Func {
    /// Every function by its name (`length` is `len` by another name).
    const TABLE: &'static [(&'static str, Func)] = &[
        ("lower", Func::Lower),
        ("upper", Func::Upper),
        ("len", Func::Len),
        ("length", Func::Len),
        ("split", Func::Split),
        ("split_whitespace", Func::SplitWhitespace),
        ("contains", Func::Contains),
        ("starts_with", Func::StartsWith),
        ("ends_with", Func::EndsWith),
        ("concat", Func::Concat),
        ("substring", Func::Substring),
        ("trim", Func::Trim),
        ("replace", Func::Replace),
        ("split_part", Func::SplitPart),
        ("regexp", Func::Regexp),
        ("regexp_extract", Func::RegexpExtract),
        ("abs", Func::Abs),
        ("sqrt", Func::Sqrt),
        ("round", Func::Round),
        ("floor", Func::Floor),
        ("ceil", Func::Ceil),
        ("ln", Func::Ln),
        ("exp", Func::Exp),
        ("pow", Func::Pow),
        ("greatest", Func::Greatest),
        ("least", Func::Least),
        ("date_trunc", Func::DateTrunc),
        ("extract", Func::Extract),
        ("format_time", Func::FormatTime),
        ("parse_time", Func::ParseTime),
    ];

    /// The function named `name`.
    pub fn from_name(name: &str) -> Option<Func> {
        Self::TABLE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, f)| f)
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        Self::TABLE
            .iter()
            .find(|(_, f)| *f == self)
            .map(|&(n, _)| n)
            .expect("every function is in the table")
    }

    /// All function names, for suggestions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::TABLE.iter().map(|&(n, _)| n)
    }
}

/// The kinds of typed expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TExprKind {
    /// A constant.
    Lit(Literal),
    /// Field number `0` of the input record, named `1`.
    Field(usize, String),
    /// `not x` or `-x`.
    Unary(UnOp, Box<TExpr>),
    /// `a op b`; both sides have the same type, except timestamp arithmetic.
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    /// `if c then a else b`
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    /// `x as ty` (the target is this expression's type).
    Cast(Box<TExpr>),
    /// A built-in function call.
    Call(Func, Vec<TExpr>),
    /// A name of a process function: a state, a local, the event time, ...
    Var(super::process::Var),
    /// `len`, `get` or `contains` of the list or map state named.
    StateCall(super::process::StateFunc, String, Vec<TExpr>),
}

impl TExpr {
    /// Whether `pred` holds for this expression or any expression inside it.
    pub fn any(&self, pred: &impl Fn(&TExpr) -> bool) -> bool {
        pred(self)
            || match &self.kind {
                TExprKind::Lit(_) | TExprKind::Field(..) | TExprKind::Var(_) => false,
                TExprKind::Unary(_, x) | TExprKind::Cast(x) => x.any(pred),
                TExprKind::Binary(_, a, b) => a.any(pred) || b.any(pred),
                TExprKind::If(c, a, b) => c.any(pred) || a.any(pred) || b.any(pred),
                TExprKind::Call(_, args) | TExprKind::StateCall(_, _, args) => {
                    args.iter().any(|a| a.any(pred))
                }
            }
    }
}

impl fmt::Display for TExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TExprKind::Lit(Literal::I64(v)) => write!(f, "{v}"),
            TExprKind::Lit(Literal::U64(v)) => write!(f, "{v}"),
            TExprKind::Lit(Literal::F64(v)) => write!(f, "{v:?}"),
            TExprKind::Lit(Literal::Str(v)) => write!(f, "{v:?}"),
            TExprKind::Lit(Literal::Bool(v)) => write!(f, "{v}"),
            TExprKind::Field(_, name) => f.write_str(name),
            TExprKind::Unary(UnOp::Not, e) => write!(f, "not {e}"),
            TExprKind::Unary(UnOp::Neg, e) => write!(f, "-{e}"),
            TExprKind::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            TExprKind::If(c, a, b) => write!(f, "if {c} then {a} else {b}"),
            TExprKind::Cast(e) => write!(f, "({e} as {})", self.ty),
            TExprKind::Var(v) => f.write_str(&v.written()),
            TExprKind::StateCall(func, state, args) => {
                write!(f, "{}({state}", func.name())?;
                for a in args {
                    write!(f, ", {a}")?;
                }
                f.write_str(")")
            }
            TExprKind::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}
