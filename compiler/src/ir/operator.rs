//! What operators are made of: windows and time, sources and sinks, aggregates. The
//! operators themselves, one file each, are in `crate::ops`.

use std::fmt;

use super::Millis;

use serde::Serialize;

use super::{Code, RustFn, Type};

/// `name: func(arg), ...` of an aggregate list.
pub(crate) fn describe_aggregates(aggregates: &[AggregateField]) -> String {
    aggregates
        .iter()
        .map(|a| match (&a.arg, &a.combine, a.separator.as_deref()) {
            (Some(e), Some(c), _) => format!("{}: {}({e}, {c})", a.name, a.func.name()),
            // A list's separator as written, unless it is the default.
            (Some(e), None, Some(sep)) if sep != "," => {
                format!("{}: {}({e}, {sep:?})", a.name, a.func.name())
            }
            (Some(e), None, _) => format!("{}: {}({e})", a.name, a.func.name()),
            (None, ..) => format!("{}: {}()", a.name, a.func.name()),
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

    /// The same windows with the offset in `0..step`: a negative offset, as Flink allows
    /// (`offset -15m` of hourly windows), is the step less its length. Only for a valid
    /// window.
    pub fn with_offset_from_zero(self) -> WindowKind {
        match self {
            WindowKind::Tumbling { size, offset } => WindowKind::Tumbling {
                size,
                offset: offset.rem_euclid(size),
            },
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => WindowKind::Sliding {
                size,
                slide,
                offset: offset.rem_euclid(slide),
            },
            other => other,
        }
    }

    /// Whether lengths are positive and an offset (of either sign) is shorter than the
    /// window's step.
    pub fn is_valid(self) -> bool {
        match self {
            WindowKind::Tumbling { size, offset } => {
                size > 0 && offset.unsigned_abs() < size as u64
            }
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => size > 0 && slide > 0 && offset.unsigned_abs() < slide as u64,
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
                write!(f, "tumbling {}", Millis(size))?;
                if offset != 0 {
                    write!(f, " offset {}", Millis(offset))?;
                }
                Ok(())
            }
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => {
                write!(f, "sliding {} every {}", Millis(size), Millis(slide))?;
                if offset != 0 {
                    write!(f, " offset {}", Millis(offset))?;
                }
                Ok(())
            }
            WindowKind::Session { gap } => write!(f, "session gap {}", Millis(gap)),
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
    /// One of Nexmark's streams, generated in the job (`nexmark(bid, events: 1000000)`).
    Nexmark(NexmarkStream),
}

/// A Nexmark stream: which one, and the run's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NexmarkStream {
    /// Persons, auctions or bids.
    pub kind: weir_runtime::nexmark::EventKind,
    /// The run's settings.
    pub spec: weir_runtime::nexmark::NexmarkSpec,
}

impl serde::Serialize for NexmarkStream {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{} of {:?}", self.kind.name(), self.spec))
    }
}

/// The CSV field delimiter `c` names, or why it cannot be one: it must be one ASCII
/// character, and not a quote or a line break, which CSV gives their own meaning.
pub(crate) fn csv_delimiter(c: char) -> Result<u8, &'static str> {
    match c {
        '"' => Err("the delimiter cannot be a quote: quotes enclose fields"),
        '\n' | '\r' => Err("the delimiter cannot be a line break: line breaks end records"),
        c if c.is_ascii() => Ok(c as u8),
        _ => Err("the delimiter must be one ASCII character"),
    }
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
    /// Made in the job (a Nexmark generator).
    Generated,
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
    /// For `collect_list`: what goes between two values.
    pub separator: Option<String>,
}

impl AggregateField {
    /// Whether it keeps values of any length outside the accumulator block, in the
    /// state's text slots (`first(page)`, `max(name)`, `collect_list(page)`, and
    /// `count_distinct(x)` of any type): words there say where they are.
    pub fn is_text(&self) -> bool {
        let text = matches!(&self.arg, Some(Code::Expr(e)) if e.ty == Type::Str);
        self.func == AggFunc::CountDistinct
            || text
                && matches!(
                    self.func,
                    AggFunc::Min
                        | AggFunc::Max
                        | AggFunc::First
                        | AggFunc::Last
                        | AggFunc::CollectList
                )
    }

    /// Accumulator words (8 bytes each) it takes.
    pub fn words(&self) -> usize {
        match (self.is_text(), self.func) {
            (true, AggFunc::CollectList) => weir_runtime::state::TEXT_LIST_WORDS,
            (true, _) => 3,
            (false, f) => f.words(),
        }
    }
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
    CollectList,
    CountDistinct,
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
            "collect_list" => AggFunc::CollectList,
            "count_distinct" => AggFunc::CountDistinct,
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
            AggFunc::CollectList => "collect_list",
            AggFunc::CountDistinct => "count_distinct",
        }
    }

    /// Accumulator words (8 bytes each) the function needs.
    pub fn words(self) -> usize {
        match self {
            // a 16-byte sum (exact for integers) and a count
            AggFunc::Avg => 3,
            // value, its event time, and whether there is one
            AggFunc::First | AggFunc::Last => 3,
            // value, and whether there is one
            AggFunc::Reduce => 2,
            _ => 1,
        }
    }

    /// How many arguments it takes: none for `count()`, a value and a combining
    /// expression for `reduce`, else a value (`collect_list` may also take its separator).
    pub fn arguments(self) -> usize {
        match self {
            AggFunc::Count => 0,
            AggFunc::Reduce => 2,
            AggFunc::Sum
            | AggFunc::Min
            | AggFunc::Max
            | AggFunc::Avg
            | AggFunc::First
            | AggFunc::Last
            | AggFunc::CollectList
            | AggFunc::CountDistinct => 1,
        }
    }

    /// Whether it takes values of `ty`; if not, the message and the label for the value.
    pub fn accepts(self, ty: &Type) -> Result<(), (String, String)> {
        let ok = match self {
            AggFunc::Sum | AggFunc::Avg => ty.is_numeric(),
            AggFunc::Min | AggFunc::Max => {
                ty.is_numeric() || *ty == Type::Timestamp || *ty == Type::Str
            }
            AggFunc::First | AggFunc::Last | AggFunc::Count | AggFunc::CountDistinct => true,
            AggFunc::Reduce => *ty != Type::Str,
            AggFunc::CollectList => *ty == Type::Str,
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            AggFunc::CollectList => (
                format!("type mismatch: `collect_list` joins text, found {ty}"),
                format!("this is {ty}; `as str` makes it text"),
            ),
            AggFunc::Reduce => (
                format!(
                    "`{}` over str is not supported yet: it takes numbers, bools and timestamps",
                    self.name()
                ),
                "this is str".into(),
            ),
            _ => (
                format!(
                    "type mismatch: `{}` needs a number, found {ty}",
                    self.name()
                ),
                format!("this is {ty}"),
            ),
        })
    }

    /// The type of its result over values of `arg` (none for `count()`).
    pub fn result_type(self, arg: Option<&Type>) -> Type {
        match (arg, self) {
            (None, _) | (Some(_), AggFunc::CountDistinct) => Type::U64,
            (Some(_), AggFunc::Avg) => Type::F64,
            (Some(t), _) => t.clone(),
        }
    }

    /// All names, for suggestions.
    pub const NAMES: &'static [&'static str] = &[
        "count",
        "sum",
        "min",
        "max",
        "avg",
        "first",
        "last",
        "reduce",
        "collect_list",
        "count_distinct",
    ];
}
