//! The operators a graph node can be.

use std::fmt;

use serde::Serialize;

use super::{TExpr, Type};

/// What a node does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Operator {
    /// Reads records.
    Source(SourceOp),
    /// Keeps the records for which the predicate is true.
    Filter {
        /// A `bool` expression over the input record.
        predicate: TExpr,
    },
    /// Builds a new record per input record.
    Map {
        /// Output fields in order.
        fields: Vec<(String, TExpr)>,
    },
    /// Builds one record per element of a list.
    FlatMap {
        /// Output fields in order; the one at `list_field` is a list whose elements become
        /// that field's values.
        fields: Vec<(String, TExpr)>,
        /// The index of the exploded field.
        list_field: usize,
    },
    /// Aggregates a keyed stream; bounded inputs emit one record per key at the end.
    Aggregate {
        /// Key field indexes in the input record.
        key: Vec<usize>,
        /// The aggregates, in output order after the key fields.
        aggregates: Vec<AggregateField>,
    },
    /// Merges streams of the same schema.
    Union,
    /// Writes records.
    Sink(SinkOp),
}

impl Operator {
    /// The operator's kind as written in a pipeline.
    pub fn kind(&self) -> &'static str {
        match self {
            Operator::Source(_) => "source",
            Operator::Filter { .. } => "filter",
            Operator::Map { .. } => "map",
            Operator::FlatMap { .. } => "flat_map",
            Operator::Aggregate { .. } => "aggregate",
            Operator::Union => "union",
            Operator::Sink(_) => "sink",
        }
    }
}

impl fmt::Display for Operator {
    /// A one-line description, for graphs and `weir explain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = |fs: &[(String, TExpr)]| {
            fs.iter()
                .map(|(n, e)| format!("{n}: {e}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Operator::Source(s) => write!(f, "source {} = {}", s.name, s.describe()),
            Operator::Filter { predicate } => write!(f, "filter({predicate})"),
            Operator::Map { fields: fs } => write!(f, "map {{ {} }}", fields(fs)),
            Operator::FlatMap { fields: fs, .. } => write!(f, "flat_map {{ {} }}", fields(fs)),
            Operator::Aggregate { aggregates, .. } => {
                let aggs: Vec<String> = aggregates
                    .iter()
                    .map(|a| match &a.arg {
                        Some(e) => format!("{}: {}({e})", a.name, a.func.name()),
                        None => format!("{}: {}()", a.name, a.func.name()),
                    })
                    .collect();
                write!(f, "aggregate {{ {} }}", aggs.join(", "))
            }
            Operator::Union => f.write_str("union"),
            Operator::Sink(s) => write!(f, "sink {} = {}", s.name, s.describe()),
        }
    }
}

/// A source: a format read from a location, with a bad-record policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceOp {
    /// The stream's name, also the key of `--input NAME=PATH`.
    pub name: String,
    /// How records are encoded.
    pub format: SourceFormat,
    /// Where they are read from.
    pub input: InputLocation,
    /// What to do with a record that does not decode.
    pub on_error: OnError,
}

impl SourceOp {
    fn describe(&self) -> String {
        let at = match &self.input {
            InputLocation::Path(p) => format!("{p:?}"),
            InputLocation::Stdin => "stdin".into(),
        };
        match &self.format {
            SourceFormat::Text => format!("text({at})"),
            SourceFormat::Jsonl => format!("jsonl({at})"),
            SourceFormat::Csv { header, delimiter } => format!(
                "csv({at}, header: {header}, delimiter: {:?})",
                char::from(*delimiter)
            ),
        }
    }
}

/// How a source's records are encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SourceFormat {
    /// One record `{ line: str }` per line.
    Text,
    /// Delimited fields.
    Csv {
        /// Whether the first row names the columns.
        header: bool,
        /// The field delimiter byte.
        delimiter: u8,
    },
    /// One JSON object per line.
    Jsonl,
}

/// Where a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum InputLocation {
    /// A file, relative to the working directory.
    Path(String),
    /// Standard input.
    Stdin,
}

/// A source's bad-record policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OnError {
    /// Stop the job (the default).
    Fail,
    /// Skip and count.
    Skip,
    /// Write to a dead-letter file and count.
    DeadLetter(String),
}

/// A sink: a format written to a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkOp {
    /// The sink's name, the key of `--output NAME=PATH`.
    pub name: String,
    /// How records are encoded.
    pub format: SinkFormat,
    /// Where they go.
    pub output: OutputLocation,
}

impl SinkOp {
    fn describe(&self) -> String {
        let format = match self.format {
            SinkFormat::Csv => "csv",
            SinkFormat::Jsonl => "jsonl",
        };
        match &self.output {
            OutputLocation::Path(p) => format!("{format}({p:?})"),
            OutputLocation::Stdout => format!("stdout({format})"),
        }
    }
}

/// How a sink encodes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SinkFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Where a sink writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OutputLocation {
    /// A file, relative to the working directory.
    Path(String),
    /// Standard output.
    Stdout,
}

/// One aggregate of an `aggregate` operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateField {
    /// The output field's name.
    pub name: String,
    /// The function.
    pub func: AggFunc,
    /// Its argument (none for `count()`).
    pub arg: Option<TExpr>,
    /// The output type.
    pub ty: Type,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub enum AggFunc {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

impl AggFunc {
    /// The function named `name`.
    pub fn from_name(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "avg" => AggFunc::Avg,
            _ => return None,
        })
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Avg => "avg",
        }
    }

    /// Accumulator words (8 bytes each) the function needs.
    pub fn words(self) -> usize {
        match self {
            AggFunc::Avg => 2,
            _ => 1,
        }
    }

    /// All names, for suggestions.
    pub const NAMES: &'static [&'static str] = &["count", "sum", "min", "max", "avg"];
}
