//! Sources and sinks: where records come from and go to, with the bad-record policy and
//! progress reporting that every file source shares.

pub mod abandoned;
pub(crate) mod bad_records;
mod collect_sink;
pub(crate) mod commit;
mod csv_records;
mod csv_sink;
mod csv_source;
mod decimal;
pub mod files;
mod follow;
mod input;
mod iter_source;
pub mod json_float;
pub mod json_timestamp;
mod jsonl_sink;
mod line_source;
mod live;
mod output;
mod output_path;
mod progress;
mod record_density;
mod replace;
mod sink;
mod sink_target;
mod slices;
pub(crate) mod source;
mod utf8;

pub use bad_records::{BadRecordPolicy, FieldError};
pub use collect_sink::CollectSink;
pub use commit::PendingOutputs;
pub use csv_sink::CsvSink;
pub use csv_source::{CsvRow, CsvSource};
pub use files::{FileRole, FileUse};
pub use follow::InputStop;
pub use input::{InputPart, InputReader, InputSpec};
pub use iter_source::IterSource;
pub use jsonl_sink::JsonlSink;
pub use line_source::{decode_json, LineSource};
pub use output::{names_standard_output, OutputSpec, OutputWriter};
pub use progress::SourceProgress;
pub use sink::{Sink, SinkPosition};
pub use slices::Records;
pub use source::{Source, SourcePosition};
