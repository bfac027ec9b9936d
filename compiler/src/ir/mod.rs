//! The operator graph every front-end lowers to and every pass and the code generator read.

mod expr;
mod graph;
mod operator;
mod rust;
mod state_layout;
mod types;

pub use expr::{Func, Literal, TExpr, TExprKind};
pub use graph::{Chain, Edge, Node, Partitioning, Plan, StateKind};
pub use operator::{
    AggFunc, AggregateField, EventTime, InputLocation, OnError, Operator, OutputLocation,
    SinkFormat, SinkOp, SourceFormat, SourceOp, TimeDomain, WatermarkSpec, WindowKind,
    WindowProblem,
};
pub use rust::{source_var_name, Code, KeySpec, RustCode, RustFn};
pub use state_layout::{accumulator_offsets, KeyLayout};
pub use types::{Field, Schema, Type};
