//! The operator graph every front-end lowers to and every pass and the code generator read.

mod expr;
mod graph;
mod operator;
mod state_layout;
mod types;

pub use expr::{Func, Literal, TExpr, TExprKind};
pub use graph::{Chain, Edge, Node, Partitioning, Plan, StateKind};
pub use operator::{
    AggFunc, AggregateField, InputLocation, OnError, Operator, OutputLocation, SinkFormat, SinkOp,
    SourceFormat, SourceOp,
};
pub use state_layout::{accumulator_offsets, KeyLayout};
pub use types::{Field, Schema, Type};
