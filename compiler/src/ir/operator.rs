//! The operators a graph node can be.

use std::fmt;

use serde::Serialize;

use super::{Code, KeySpec, RustFn, TExpr, Type};

/// What a node does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Operator {
    /// Reads records.
    Source(SourceOp),
    /// Keeps the records for which the predicate is true.
    Filter {
        /// A `bool` expression over the input record.
        predicate: Code,
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
    /// A closure from each input record to one output record (inline pipelines).
    RustMap(RustFn),
    /// A closure from each input record to any number of output records (inline
    /// pipelines): it returns something iterable.
    RustFlatMap(RustFn),
    /// Aggregates a keyed stream; bounded inputs emit one record per key at the end.
    Aggregate {
        /// What the input is keyed by.
        key: KeySpec,
        /// The aggregates, in output order after the key fields.
        aggregates: Vec<AggregateField>,
    },
    /// Aggregates each key's records per window; results carry the window's bounds.
    WindowAggregate {
        /// What the input is keyed by.
        key: KeySpec,
        /// Which windows a record belongs to.
        window: WindowKind,
        /// Event time (watermarks) or processing time (the clock).
        time: TimeDomain,
        /// How long after its end a window still takes late records, in ms.
        lateness: i64,
        /// The aggregates, in output order after the key fields (and window bounds).
        aggregates: Vec<AggregateField>,
    },
    /// The records a window operator found too late: its side output.
    LateRecords,
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
            Operator::Map { .. } | Operator::RustMap(_) => "map",
            Operator::FlatMap { .. } | Operator::RustFlatMap(_) => "flat_map",
            Operator::Aggregate { .. } => "aggregate",
            Operator::WindowAggregate { .. } => "window",
            Operator::LateRecords => "late",
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
            Operator::RustMap(r) => write!(f, "map({r})"),
            Operator::RustFlatMap(r) => write!(f, "flat_map({r})"),
            Operator::Aggregate { aggregates, .. } => {
                write!(f, "aggregate {{ {} }}", describe_aggregates(aggregates))
            }
            Operator::WindowAggregate {
                window,
                time,
                lateness,
                aggregates,
                ..
            } => {
                write!(f, "window({window}")?;
                if *time == TimeDomain::ProcessingTime {
                    f.write_str(", processing_time")?;
                }
                if *lateness > 0 {
                    write!(f, ", allowed_lateness {lateness}ms")?;
                }
                write!(
                    f,
                    ") |> aggregate {{ {} }}",
                    describe_aggregates(aggregates)
                )
            }
            Operator::LateRecords => f.write_str("late records"),
            Operator::Union => f.write_str("union"),
            Operator::Sink(s) => write!(f, "sink {} = {}", s.name, s.describe()),
        }
    }
}

fn describe_aggregates(aggregates: &[AggregateField]) -> String {
    aggregates
        .iter()
        .map(|a| match (&a.arg, &a.combine) {
            (Some(e), Some(c)) => format!("{}: {}({e}, {c})", a.name, a.func.name()),
            (Some(e), None) => format!("{}: {}({e})", a.name, a.func.name()),
            (None, _) => format!("{}: {}()", a.name, a.func.name()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which windows a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WindowKind {
    /// Back-to-back windows of `size` ms, aligned to `offset`.
    Tumbling {
        /// Length in ms.
        size: i64,
        /// Alignment in ms.
        offset: i64,
    },
    /// Windows of `size` ms starting every `slide` ms, aligned to `offset`.
    Sliding {
        /// Length in ms.
        size: i64,
        /// Step in ms.
        slide: i64,
        /// Alignment in ms.
        offset: i64,
    },
    /// Sessions: a window closes after `gap` ms without records for its key.
    Session {
        /// Inactivity gap in ms.
        gap: i64,
    },
    /// Every `n` records of a key (a global window with a count trigger).
    Count {
        /// Records per window.
        n: u64,
    },
}

impl WindowKind {
    /// Whether results carry `window_start` and `window_end` (time windows do).
    pub fn has_bounds(self) -> bool {
        !matches!(self, WindowKind::Count { .. })
    }

    /// Whether lengths are positive and an offset is shorter than the window's step.
    pub fn is_valid(self) -> bool {
        match self {
            WindowKind::Tumbling { size, offset } => size > 0 && offset < size,
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => size > 0 && slide > 0 && offset < slide,
            WindowKind::Session { gap } => gap > 0,
            WindowKind::Count { n } => n > 0,
        }
    }

    /// What is wrong with this window in `time`, with lateness or a late side output
    /// (`late_data`), over an input with or without event time (`timed`); both front-ends
    /// ask this.
    pub fn problem(self, time: TimeDomain, late_data: bool, timed: bool) -> Option<WindowProblem> {
        if !self.has_bounds() && (late_data || time == TimeDomain::ProcessingTime) {
            Some(WindowProblem::CountWithTimeOptions)
        } else if time == TimeDomain::ProcessingTime && late_data {
            Some(WindowProblem::LatenessInProcessingTime)
        } else if self.has_bounds() && time == TimeDomain::EventTime && !timed {
            Some(WindowProblem::NoEventTime)
        } else {
            None
        }
    }
}

/// A window whose options do not fit together or with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowProblem {
    /// Lateness or processing time on a count window.
    CountWithTimeOptions,
    /// Lateness or a late side output on a processing-time window.
    LatenessInProcessingTime,
    /// An event-time window over records without event time.
    NoEventTime,
}

impl WindowProblem {
    /// The error message.
    pub fn message(self) -> &'static str {
        match self {
            WindowProblem::CountWithTimeOptions => "count windows take no time options",
            WindowProblem::LatenessInProcessingTime => {
                "allowed lateness and late records apply to event-time windows"
            }
            WindowProblem::NoEventTime => "an event-time window needs records with event time",
        }
    }

    /// What the window's tokens are labelled with.
    pub fn label(self) -> &'static str {
        match self {
            WindowProblem::CountWithTimeOptions => {
                "lateness and processing time apply to time windows"
            }
            WindowProblem::LatenessInProcessingTime => "this window uses processing time",
            WindowProblem::NoEventTime => "the input carries no event time",
        }
    }
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WindowKind::Tumbling { size, offset } => {
                write!(f, "tumbling {size}ms")?;
                if offset != 0 {
                    write!(f, " offset {offset}ms")?;
                }
                Ok(())
            }
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => {
                write!(f, "sliding {size}ms every {slide}ms")?;
                if offset != 0 {
                    write!(f, " offset {offset}ms")?;
                }
                Ok(())
            }
            WindowKind::Session { gap } => write!(f, "session gap {gap}ms"),
            WindowKind::Count { n } => write!(f, "count {n}"),
        }
    }
}

/// Which clock decides a record's windows and when they fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeDomain {
    /// The record's timestamp; windows fire on watermarks.
    EventTime,
    /// The processing clock at arrival; windows fire as the clock passes their end.
    ProcessingTime,
}

/// A source's event time: where timestamps come from and how watermarks follow them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventTime {
    /// The timestamp field's index in the source schema (0 for Rust records).
    pub field: usize,
    /// Its name, or the closure's text.
    pub field_name: String,
    /// For Rust records: the closure that reads the timestamp.
    pub rust: Option<RustFn>,
    /// Watermark strategy.
    pub watermark: WatermarkSpec,
    /// Idleness timeout in ms, if any.
    pub idle: Option<i64>,
}

/// How watermarks follow timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WatermarkSpec {
    /// Out of order by at most this many ms.
    Bounded(i64),
    /// Timestamps never decrease.
    Ascending,
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
    /// Event time, if declared.
    pub event_time: Option<EventTime>,
}

impl SourceOp {
    fn describe(&self) -> String {
        let at = match &self.input {
            InputLocation::Path(p) => format!("{p:?}"),
            InputLocation::Stdin => "stdin".into(),
            InputLocation::Program => String::new(),
        };
        let kind = match &self.format {
            SourceFormat::Iter(r) => format!("iter({r})"),
            SourceFormat::Text => format!("text({at})"),
            SourceFormat::Jsonl => format!("jsonl({at})"),
            SourceFormat::Csv { header, delimiter } => format!(
                "csv({at}, header: {header}, delimiter: {:?})",
                char::from(*delimiter)
            ),
        };
        match &self.event_time {
            None => kind,
            Some(et) => {
                let wm = match et.watermark {
                    WatermarkSpec::Bounded(ms) => format!("bounded {ms}ms"),
                    WatermarkSpec::Ascending => "ascending".into(),
                };
                let idle = et
                    .idle
                    .map(|ms| format!(", idle {ms}ms"))
                    .unwrap_or_default();
                format!(
                    "{kind} with event_time({}), watermark({wm}{idle})",
                    et.field_name
                )
            }
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
    /// The items of a Rust iterator (inline pipelines).
    Iter(RustFn),
}

/// Where a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum InputLocation {
    /// A file, relative to the working directory.
    Path(String),
    /// Standard input.
    Stdin,
    /// A value of the program's (an inline pipeline's iterator).
    Program,
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
        let format = match &self.format {
            SinkFormat::Csv => "csv",
            SinkFormat::Jsonl => "jsonl",
            SinkFormat::Collect => return "collect()".into(),
            SinkFormat::ForEach(r) => return format!("for_each({r})"),
        };
        match &self.output {
            OutputLocation::Path(p) => format!("{format}({p:?})"),
            OutputLocation::Stdout => format!("stdout({format})"),
            OutputLocation::Program => format.into(),
        }
    }
}

/// How a sink encodes records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SinkFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Into a `Vec` the inline job returns.
    Collect,
    /// Into a closure of the program's.
    ForEach(RustFn),
}

/// Where a sink writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OutputLocation {
    /// A file, relative to the working directory.
    Path(String),
    /// Standard output.
    Stdout,
    /// The program itself (`collect()`, `for_each`).
    Program,
}

/// One aggregate of an `aggregate` operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateField {
    /// The output field's name.
    pub name: String,
    /// The function.
    pub func: AggFunc,
    /// Its argument (none for `count()`).
    pub arg: Option<Code>,
    /// For `reduce`: how two values combine, over fields `a` and `b` (or a closure of two
    /// arguments).
    pub combine: Option<Code>,
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
    First,
    Last,
    Reduce,
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
            "first" => AggFunc::First,
            "last" => AggFunc::Last,
            "reduce" => AggFunc::Reduce,
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
            AggFunc::First => "first",
            AggFunc::Last => "last",
            AggFunc::Reduce => "reduce",
        }
    }

    /// Accumulator words (8 bytes each) the function needs.
    pub fn words(self) -> usize {
        match self {
            // sum and count
            AggFunc::Avg => 2,
            // value, its event time, and whether there is one
            AggFunc::First | AggFunc::Last => 3,
            // value, and whether there is one
            AggFunc::Reduce => 2,
            _ => 1,
        }
    }

    /// All names, for suggestions.
    pub const NAMES: &'static [&'static str] = &[
        "count", "sum", "min", "max", "avg", "first", "last", "reduce",
    ];
}
