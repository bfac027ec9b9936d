//! User Rust code inside a plan: what the `stream!` front-end has where the `.pipe`
//! front-end has typed expressions.
//!
//! The compiler does not look into Rust code or Rust types. It names every type the code
//! produces (a generic parameter such as `R3`, or a tuple of them), states what each
//! closure must be (`FnMut(&R3) -> bool`), and lets rustc infer and check the rest at the
//! user's own tokens.

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
    /// For a closure, the types of its arguments, as generated code names them; `None` for
    /// an expression (an `iter(...)` source).
    pub inputs: Option<Vec<String>>,
    /// The type it returns (for an expression: the type it is).
    pub output: String,
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
    /// Generic parameters for inferred types (`R0`, `K3`, ...), in order.
    pub params: Vec<String>,
    /// Bounds on them beyond the closures' signatures (`K3: weir_runtime::Layout`), with
    /// the spans of the user's tokens they come from.
    pub bounds: Vec<TokenStream>,
    /// Statements that pass each closure through its typed guard
    /// (`weir_runtime::inline_guard`), at the closure's span, binding it to a local of
    /// its [`RustFn::field_name`]; they run before the job is built.
    pub guards: Vec<TokenStream>,
    /// The path of the runtime crate where the pipeline is (`::weir::runtime`).
    pub runtime: String,
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
}
