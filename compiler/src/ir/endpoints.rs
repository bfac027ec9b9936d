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
