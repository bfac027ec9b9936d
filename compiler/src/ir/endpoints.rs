//! The two ends of a pipeline as data: what a source reads and what a sink writes, as
//! the front-ends declare them. Their behaviour as operators is in `crate::ops` (`source.rs`,
//! `sink.rs`).

use serde::Serialize;

use super::{EventTime, InputLocation, OnError, OutputLocation, SinkFormat, SourceFormat};

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
    /// Whether the file is followed as it grows (`with follow`): read whole by one worker
    /// until the job is stopped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub follow: bool,
    /// The unit its `timestamp` fields (inline: its event time) are written in.
    #[serde(skip_serializing_if = "TimeUnit::is_milliseconds")]
    pub time_unit: TimeUnit,
}

/// The unit a source's timestamps are written in (`time_unit(...)`); weir keeps
/// milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub enum TimeUnit {
    Seconds,
    #[default]
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl TimeUnit {
    /// The unit named `name` (`seconds` or `s`, `milliseconds` or `ms`, `microseconds` or
    /// `us`, `nanoseconds` or `ns`).
    pub fn from_name(name: &str) -> Option<TimeUnit> {
        Some(match name {
            "seconds" | "s" => TimeUnit::Seconds,
            "milliseconds" | "ms" => TimeUnit::Milliseconds,
            "microseconds" | "us" => TimeUnit::Microseconds,
            "nanoseconds" | "ns" => TimeUnit::Nanoseconds,
            _ => return None,
        })
    }

    /// The runtime's unit it is.
    pub fn runtime(self) -> weir_runtime::time::TimeUnit {
        match self {
            TimeUnit::Seconds => weir_runtime::time::TimeUnit::Seconds,
            TimeUnit::Milliseconds => weir_runtime::time::TimeUnit::Milliseconds,
            TimeUnit::Microseconds => weir_runtime::time::TimeUnit::Microseconds,
            TimeUnit::Nanoseconds => weir_runtime::time::TimeUnit::Nanoseconds,
        }
    }

    /// Its name, as `time_unit(...)` takes it.
    pub fn name(self) -> &'static str {
        self.runtime().name()
    }

    /// The runtime's name for it, in generated code (`Seconds`).
    pub fn runtime_variant(self) -> String {
        format!("{:?}", self.runtime())
    }

    /// Whether it is weir's own unit, in which nothing is converted.
    pub fn is_milliseconds(&self) -> bool {
        *self == TimeUnit::Milliseconds
    }
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
    /// `timestamps: rfc3339`: timestamp fields written as RFC 3339 text in UTC rather than
    /// milliseconds since the epoch.
    pub rfc3339: bool,
}
