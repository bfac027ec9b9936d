//! The operator graph every front-end lowers to and every pass and the code generator read.

mod duration;
mod endpoints;
mod expr;
mod graph;
pub mod iterate;
mod operator;
mod operator_node;
mod physical;
pub mod process;
mod rust;
mod state_layout;
mod types;
pub mod untyped;

pub use duration::Millis;
pub use endpoints::{SinkOp, SourceOp, TimeUnit};
pub use expr::{BinOp, Func, Literal, TExpr, TExprKind, UnOp};
pub use graph::{
    input_schema, output_schema, Chain, Edge, EdgeKind, GraphCycle, Node, Partitioning, Plan,
    StateKind,
};
pub(crate) use operator::{csv_delimiter, describe_aggregates};
pub use operator::{
    AggFunc, AggregateField, EventTime, InputLocation, NexmarkStream, OnError, OutputLocation,
    SinkFormat, SourceFormat, TimeDomain, WatermarkSpec, WindowKind, WindowProblem,
};
pub use operator_node::{AsOperator, OpInfo, Operator, OperatorNode};
pub use physical::{
    Crossing, Exchange, InputDistribution, InputSplit, PartialResults, PhysicalPlan,
};
pub use rust::{source_var_name, Code, KeySpec, RustCode, RustFn, RustType};
pub use state_layout::{accumulator_offsets, KeyLayout};
pub use types::{Field, Schema, Type};
