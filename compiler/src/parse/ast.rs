//! The syntax tree of a `.pipe` program, with a byte span on every node.
//!
//! The tree says what was written, not what it means: names are unresolved and nothing is
//! typed. `check` gives it meaning.

use serde::Serialize;

pub use crate::diagnostics::Span;
pub use crate::ir::untyped::{Expr, ExprKind, Ident, MAX_EXPR_DEPTH};
pub use crate::ir::{BinOp, UnOp};

/// A whole `.pipe` program: its statements in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Program {
    /// Top-level statements.
    pub items: Vec<Item>,
}

/// One top-level statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    /// `schema Name { field: type, ... }`
    Schema(SchemaDecl),
    /// `source name[: Schema] = kind(args) [with option(args), ...];`
    Source(SourceDecl),
    /// `let name = pipeline;`
    Let(LetStmt),
    /// `pipeline;`
    Pipeline(Pipeline),
    /// A statement that does not parse (reported): the stream it defines is known but
    /// broken, and the streams it names count as used.
    Broken(BrokenStmt),
}

/// A statement that does not parse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenStmt {
    /// The stream it defines (`let name = ...`, `source name ...`), if it names one.
    pub defines: Option<Ident>,
    /// The schema it declares (`schema Name ...`), if it names one.
    pub schema: Option<Ident>,
    /// Every name written in it.
    pub mentions: Vec<String>,
    /// The whole statement.
    pub span: Span,
}

/// `schema Name { field: type, ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaDecl {
    /// The schema's name.
    pub name: Ident,
    /// Its fields in order, as `(name, type name)`.
    pub fields: Vec<(Ident, Ident)>,
}

/// `source name[: Schema] = kind(args) [with option(args), ...];`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceDecl {
    /// The stream's name.
    pub name: Ident,
    /// The record schema, when given.
    pub schema: Option<Ident>,
    /// The source kind and its arguments, e.g. `csv("bids.csv", header: false)`.
    pub kind: Call,
    /// Options after `with`.
    pub options: Vec<Call>,
    /// The whole declaration.
    pub span: Span,
}

/// `name(arg, name: arg, ...)` in a source, sink or option position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// What is called.
    pub name: Ident,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// The whole call.
    pub span: Span,
}

/// One argument of a [`Call`], optionally named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    /// `header` in `header: false`.
    pub name: Option<Ident>,
    /// `bounded` in `bounded 2s`: a word qualifying the value.
    pub word: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// `let name = pipeline;`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetStmt {
    /// The new stream's name.
    pub name: Ident,
    /// Its definition.
    pub pipeline: Pipeline,
}

/// `stream |> op |> op ...`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    /// The stream it starts from.
    pub head: Ident,
    /// Operators applied in order.
    pub ops: Vec<OpSyntax>,
    /// The whole pipeline.
    pub span: Span,
}

/// One operator application after `|>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpSyntax {
    /// The operator's name (`filter`, `map`, `sink`, ...).
    pub name: Ident,
    /// What follows the name.
    pub body: OpBody,
    /// The whole operator.
    pub span: Span,
}

/// What follows an operator's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OpBody {
    /// `(expr, ...)`
    Args(Vec<Expr>),
    /// `{ name: expr, name, ... }`
    Record(Vec<FieldInit>),
    /// `window(phrase, ...)`, e.g. `window(sliding 10s every 5s, late -> late_bids)`, or
    /// `interval_join(paid, between -5s and 10s)`.
    Phrases(Vec<Phrase>),
    /// `process { state ...; on record { ... } on timer { ... } }`
    Process(crate::ir::process::ProcessBody),
    /// `iterate(graph src -> dst, rounds 200) { vertex ...; on round { ... } until ...; }`
    Iterate(Vec<Phrase>, crate::ir::iterate::IterateBody),
    /// `sink [name =] kind(args)`
    Sink {
        /// The sink's name, when given.
        name: Option<Ident>,
        /// Its kind and arguments.
        call: Call,
    },
}

/// Words, durations and numbers in a row, as in `tumbling 10s offset 2s`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phrase {
    /// The items in order.
    pub items: Vec<PhraseItem>,
    /// The whole phrase.
    pub span: Span,
}

/// One item of a [`Phrase`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PhraseItem {
    /// A word.
    Word(Ident),
    /// A duration, in milliseconds.
    Duration(u64, Span),
    /// A negative duration (`-5s`), in milliseconds below zero.
    NegDuration(u64, Span),
    /// A whole number.
    Int(u64, Span),
    /// `->`
    Arrow(Span),
}

impl PhraseItem {
    /// Where the item is written.
    pub fn span(&self) -> Span {
        match self {
            PhraseItem::Word(i) => i.span.clone(),
            PhraseItem::Duration(_, s)
            | PhraseItem::NegDuration(_, s)
            | PhraseItem::Int(_, s)
            | PhraseItem::Arrow(s) => s.clone(),
        }
    }
}

/// `name: expr`, or `name` alone (short for `name: name`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldInit {
    /// The field's name.
    pub name: Ident,
    /// Its value; `None` when written as a bare name.
    pub value: Option<Expr>,
}
