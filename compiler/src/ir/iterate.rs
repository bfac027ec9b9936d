//! An iteration, as front-ends write it (`IterateBody`, untyped, with spans) and as the
//! checker makes it (`IterateDef`, typed): elements (the records, or the vertices of the
//! graph the records are the edges of) visited once per round, a small model of states
//! changed between rounds, aggregates folded over a round's elements, messages along edges,
//! a condition that ends the rounds, and the records emitted at the end.

use serde::Serialize;

use super::process::{Handler, StateDecl, StateVar, TStmt};
use super::untyped::Expr;
use super::{Field, Literal, RustFn, RustType, TExpr, Type};

/// What an iteration does, as its front-end wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IterateLogic {
    /// `.pipe`: declarations and typed statements.
    Statements(Box<IterateDef>),
    /// `stream!`: a value of the program's type, implementing the runtime's
    /// `VertexProgram` or `RecordsProgram`.
    Program(Box<IterateProgram>),
}

impl IterateLogic {
    /// Whether the elements are a graph's vertices.
    pub fn is_graph(&self) -> bool {
        match self {
            IterateLogic::Statements(def) => def.shape.is_graph(),
            IterateLogic::Program(p) => p.graph.is_some(),
        }
    }

    /// The windows it runs over, each on its own.
    pub fn window(&self) -> Option<&super::WindowKind> {
        match self {
            IterateLogic::Statements(def) => def.window.as_ref(),
            IterateLogic::Program(p) => p.window.as_ref(),
        }
    }
}

/// `iterate(graph(|e| (e.src, e.dst)), rounds(N), program)` or `iterate(rounds(N),
/// program)` in `stream!`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterateProgram {
    /// The records are edges: what the closure makes of each (`G`: `(src, dst)` or
    /// `(src, dst, value)`), and whether each goes both ways.
    pub graph: Option<(RustFn, bool)>,
    /// `rounds(N)`: at most this many rounds.
    pub rounds: u64,
    /// Makes the program (`FnMut() -> P`, a clone of the value written).
    pub program: RustFn,
    /// The program's type (`P`).
    pub program_type: RustType,
    /// The records it emits (`P::Output`).
    pub output: RustType,
    /// The event-time windows it runs over, each on its own, or `None` for the whole
    /// input once it has ended.
    pub window: Option<super::WindowKind>,
}

/// `iterate(...) { declarations handlers until }` as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterateBody {
    /// `state`, `map`, `list`, `vertex`, `message` and `aggregate` declarations, in order.
    pub decls: Vec<StateDecl>,
    /// `on round`, `on round_end` and `on end`.
    pub handlers: Vec<Handler>,
    /// `until condition;` (a second one is an error the checker reports).
    pub until: Vec<Expr>,
}

/// What an iteration's elements are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IterationShape {
    /// Each record is an element, its fields read in `on round`.
    Records {
        /// The records' fields, kept as numbers.
        fields: Vec<Field>,
    },
    /// The records are the edges of a graph whose vertices are the elements.
    Graph {
        /// The field of the edge's source vertex (`u64`).
        src: usize,
        /// The field of its destination vertex (`u64`).
        dst: usize,
        /// The two fields' names.
        ends: (String, String),
        /// Each edge goes both ways.
        undirected: bool,
        /// The edge's other columns, readable in `send`, with their field index.
        columns: Vec<(usize, Field)>,
    },
}

impl IterationShape {
    /// Whether the elements are a graph's vertices.
    pub fn is_graph(&self) -> bool {
        matches!(self, IterationShape::Graph { .. })
    }
}

/// How an aggregate or a vertex's messages combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Combine {
    /// Added up (0 when nothing came).
    Sum,
    /// The least (the type's largest value when nothing came).
    Min,
    /// The greatest (the type's least value when nothing came).
    Max,
}

impl Combine {
    /// The combining function's name in `.pipe`.
    pub fn name(self) -> &'static str {
        match self {
            Combine::Sum => "sum",
            Combine::Min => "min",
            Combine::Max => "max",
        }
    }

    /// By its name in `.pipe`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sum" => Some(Combine::Sum),
            "min" => Some(Combine::Min),
            "max" => Some(Combine::Max),
            _ => None,
        }
    }

    /// The value of no contribution, of a numeric type `ty`.
    pub fn identity(self, ty: &Type) -> Literal {
        match (self, ty) {
            (Combine::Sum, Type::F64) => Literal::F64(0.0),
            (Combine::Sum, Type::U64) => Literal::U64(0),
            (Combine::Sum, _) => Literal::I64(0),
            (Combine::Min, Type::F64) => Literal::F64(f64::INFINITY),
            (Combine::Min, Type::U64) => Literal::U64(u64::MAX),
            (Combine::Min, _) => Literal::I64(i64::MAX),
            (Combine::Max, Type::F64) => Literal::F64(f64::NEG_INFINITY),
            (Combine::Max, Type::U64) => Literal::U64(0),
            (Combine::Max, _) => Literal::I64(i64::MIN),
        }
    }
}

/// `vertex name: type = init;`: a value every vertex has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VertexValue {
    /// Its name.
    pub name: String,
    /// Its type (a number or a bool).
    pub ty: Type,
    /// Its value before the first round, per vertex.
    pub init: TExpr,
}

/// `message name: type = sum;`: what `send` carries, combined per receiving vertex.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageVar {
    /// The name the combined messages are read by in `on round`.
    pub name: String,
    /// Their type (a number).
    pub ty: Type,
    /// How several messages to one vertex combine.
    pub combine: Combine,
}

/// `aggregate name: type = sum;` or `aggregate name: key -> type = sum;`: values folded
/// over a round's elements, read in the rounds after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateVar {
    /// Its name.
    pub name: String,
    /// The key type of an aggregate by key.
    pub key: Option<Type>,
    /// The value type (a number).
    pub ty: Type,
    /// How the values combine.
    pub combine: Combine,
}

/// A checked iteration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterateDef {
    /// What the elements are.
    pub shape: IterationShape,
    /// `rounds N`: at most this many rounds.
    pub rounds: Option<u64>,
    /// The model: `state`, `list` and `map` declarations, changed in `on round_end`.
    pub model: Vec<StateVar>,
    /// Values each vertex has (graph iterations).
    pub vertex_values: Vec<VertexValue>,
    /// What `send` carries (graph iterations).
    pub message: Option<MessageVar>,
    /// The aggregates.
    pub aggregates: Vec<AggregateVar>,
    /// Run for each element in each round.
    pub on_round: Vec<TStmt>,
    /// Run once after each round.
    pub on_round_end: Vec<TStmt>,
    /// Checked after each round: the last round when true.
    pub until: Option<TExpr>,
    /// Run after the last round: for each vertex in a graph iteration, once otherwise.
    pub on_end: Vec<TStmt>,
    /// The fields of the records it emits.
    pub output: Vec<Field>,
    /// The event-time windows it runs over, each on its own (tumbling or sliding), or
    /// `None` for the whole input once it has ended.
    pub window: Option<super::WindowKind>,
}

/// An iteration's arguments as written: `graph src -> dst [undirected]`, `rounds N`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterateHead {
    /// `graph src -> dst`: the records are edges.
    pub graph: Option<GraphHead>,
    /// `rounds N`, with where it is written.
    pub rounds: Option<(u64, crate::diagnostics::Span)>,
}

/// `graph src -> dst [undirected]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphHead {
    /// The source vertex's field.
    pub src: super::untyped::Ident,
    /// The destination vertex's field.
    pub dst: super::untyped::Ident,
    /// `undirected`: each edge goes both ways.
    pub undirected: bool,
}
