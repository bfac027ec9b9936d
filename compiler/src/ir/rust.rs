//! User Rust code inside a plan: what the `stream!` front-end has where the `.pipe`
//! front-end has typed expressions.
//!
//! The compiler does not look into Rust code. It gives every type the code produces a
//! [`RustType`] (a type rustc infers, a type the user wrote, or a tuple of them), states
//! what each closure must be (`FnMut(&R3) -> bool`), and lets rustc infer and check the
//! rest at the user's own tokens.

use std::fmt;

use proc_macro2::TokenStream;
use serde::Serialize;

use super::TExpr;

/// A closure or expression of the user's, called by the generated job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustFn {
    /// Its index in [`RustCode::code`].
    pub id: usize,
    /// The code as written, for graphs and `explain`.
    pub text: String,
    /// For a closure, the types of its arguments; `None` for an expression (an
    /// `iter(...)` source).
    pub inputs: Option<Vec<RustType>>,
    /// The type it returns (for an expression: the type it is).
    pub output: RustType,
}

/// The type of values in an inline pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum RustType {
    /// A type rustc infers from the user's code; generated code names it by the generic
    /// parameter `{role}{id}` (`R` records, `K` keys, `A` aggregate values, `I` iterables).
    Inferred {
        /// What the type is for.
        role: char,
        /// Its number, unique in the pipeline.
        id: usize,
    },
    /// A type the user wrote or weir fixes (`Bid`, `String`, `i64`, `()`), as Rust text.
    Path(String),
    /// A tuple (an aggregate's result rows).
    Tuple(Vec<RustType>),
    /// A shared reference (what a closure that reads a record takes).
    Ref(Box<RustType>),
    /// An `Option` (a side an outer join can miss).
    Option(Box<RustType>),
    /// A unique reference (the state a `process` closure changes).
    RefMut(Box<RustType>),
    /// A generic type of the runtime's with these arguments (a lifetime argument written
    /// as a `Path`): `weir_runtime::process::ProcessContext<'_, K2, O5>`.
    Applied(String, Vec<RustType>),
}

impl RustType {
    /// The type written `text` by the user or by weir.
    pub fn path(text: impl Into<String>) -> Self {
        RustType::Path(text.into())
    }

    /// `&self`.
    pub fn by_ref(&self) -> Self {
        RustType::Ref(Box::new(self.clone()))
    }

    /// The type with every inferred part replaced by what `resolve` says it stands for.
    pub fn resolved(&self, resolve: &impl Fn(&RustType) -> Option<RustType>) -> RustType {
        match self {
            RustType::Inferred { .. } => match resolve(self) {
                Some(t) => t.resolved(resolve),
                None => self.clone(),
            },
            RustType::Path(_) => self.clone(),
            RustType::Tuple(ts) => {
                RustType::Tuple(ts.iter().map(|t| t.resolved(resolve)).collect())
            }
            RustType::Ref(t) => RustType::Ref(Box::new(t.resolved(resolve))),
            RustType::Option(t) => RustType::Option(Box::new(t.resolved(resolve))),
            RustType::RefMut(t) => RustType::RefMut(Box::new(t.resolved(resolve))),
            RustType::Applied(path, args) => RustType::Applied(
                path.clone(),
                args.iter().map(|t| t.resolved(resolve)).collect(),
            ),
        }
    }
}

impl fmt::Display for RustType {
    /// The type as Rust text: `R0`, `Bid`, `(K3, i64, A4,)`, `&R0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RustType::Inferred { role, id } => write!(f, "{role}{id}"),
            RustType::Path(p) => f.write_str(p),
            RustType::Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{t},")?;
                }
                f.write_str(")")
            }
            RustType::Ref(t) => write!(f, "&{t}"),
            RustType::Option(t) => write!(f, "::core::option::Option<{t}>"),
            RustType::RefMut(t) => write!(f, "&mut {t}"),
            RustType::Applied(path, args) => {
                write!(f, "{path}<")?;
                for (i, t) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

impl RustFn {
    /// The field of the generated job that holds the closure.
    pub fn field_name(&self) -> String {
        format!("f{}", self.id)
    }

    /// The generic parameter of the closure's type.
    pub fn type_param(&self) -> String {
        format!("F{}", self.id)
    }
}

impl fmt::Display for RustFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The Rust side of an inline plan: the user's code and the type parameters that stand for
/// the types rustc will infer.
#[derive(Debug, Clone, Default)]
pub struct RustCode {
    /// Each [`RustFn`]'s tokens, with the user's spans, by id.
    pub code: Vec<TokenStream>,
    /// The inferred types (`R0`, `K3`, ...), in order: the job's generic parameters.
    pub params: Vec<RustType>,
    /// Inferred types found to be another type (the inputs of a `union` carry one type):
    /// generated code writes the other type wherever the first stands.
    pub aliases: Vec<(RustType, RustType)>,
    /// Bounds on them beyond the closures' signatures (`K3: weir_runtime::Layout`), with
    /// the spans of the user's tokens they come from.
    pub bounds: Vec<(RustType, TokenStream, proc_macro2::Span)>,
    /// Bounds naming inferred types in the trait too (`P6: VertexProgramOf<O7>`): the
    /// trait is a type here, so that an alias in it is resolved as in the subject.
    pub trait_bounds: Vec<(RustType, RustType, proc_macro2::Span)>,
    /// Statements that pass each closure through its typed guard
    /// (`weir_runtime::inline_guard`), at the closure's span, binding it to a local of
    /// its [`RustFn::field_name`]; they run before the job is built.
    pub guards: Vec<TokenStream>,
    /// The path of the runtime crate where the pipeline is (`::weir::runtime`).
    pub runtime: String,
}

impl RustCode {
    /// `ty` as generated code writes it: aliases replaced by what they stand for.
    pub fn resolve(&self, ty: &RustType) -> RustType {
        ty.resolved(&|t| {
            self.aliases
                .iter()
                .find(|(alias, _)| alias == t)
                .map(|(_, to)| to.clone())
        })
    }

    /// The job's generic parameters: inferred types that are not aliases.
    pub fn generic_params(&self) -> impl Iterator<Item = &RustType> {
        self.params
            .iter()
            .filter(|p| !self.aliases.iter().any(|(a, _)| a == *p))
    }
}

/// The local holding the iterator of `iter(...)` source node `n` in an inline expansion.
pub fn source_var_name(n: usize) -> String {
    format!("weir_source_{n}")
}

/// A value computed from a record: a typed `.pipe` expression or a Rust closure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Code {
    /// A `.pipe` expression.
    Expr(TExpr),
    /// An inline pipeline's closure.
    Rust(RustFn),
}

impl Code {
    /// The closure, if the code is one.
    pub fn closure(&self) -> Option<&RustFn> {
        match self {
            Code::Expr(_) => None,
            Code::Rust(r) => Some(r),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Expr(e) => e.fmt(f),
            Code::Rust(r) => r.fmt(f),
        }
    }
}

/// What a keyed stream is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KeySpec {
    /// Fields of the input record, by index.
    Fields(Vec<usize>),
    /// The value a closure returns (one key column).
    Rust(RustFn),
}

impl KeySpec {
    /// How many columns the key contributes to a result record.
    pub fn columns(&self) -> usize {
        match self {
            KeySpec::Fields(f) => f.len(),
            KeySpec::Rust(_) => 1,
        }
    }

    /// What a hash partitioning on this key names: the key fields of `input`, or the
    /// closure.
    pub fn partition_names(&self, input: &super::Schema) -> Vec<String> {
        match self {
            KeySpec::Fields(f) => f.iter().map(|&k| input.fields[k].name.clone()).collect(),
            KeySpec::Rust(r) => vec![r.text.clone()],
        }
    }

    /// The key's columns in a result record: the key fields of `input`, or one column of
    /// the closure's type.
    pub fn result_columns(&self, input: &super::Schema) -> Vec<super::Field> {
        match self {
            KeySpec::Fields(f) => f.iter().map(|&k| input.fields[k].clone()).collect(),
            KeySpec::Rust(r) => vec![super::Field {
                name: "key".into(),
                ty: super::Type::Rust(r.output.clone()),
            }],
        }
    }

    /// Bytes the encoded key takes in state, for sizing budgets: exact for fixed-width
    /// fields, with `str_bytes` assumed per string; a Rust key's width only rustc knows, so
    /// it is assumed to be a word and a string.
    pub fn encoded_bytes(&self, input: &super::Schema, str_bytes: usize) -> usize {
        match self {
            KeySpec::Fields(key) => {
                let layout = super::KeyLayout::new(input, key);
                let strings = layout
                    .fields
                    .iter()
                    .filter(|f| f.2 == super::Type::Str)
                    .count();
                layout.fixed_len + strings * str_bytes
            }
            KeySpec::Rust(_) => 8 + str_bytes,
        }
    }

    /// The key closure, if the key is one.
    pub fn closure(&self) -> Option<&RustFn> {
        match self {
            KeySpec::Fields(_) => None,
            KeySpec::Rust(r) => Some(r),
        }
    }
}
