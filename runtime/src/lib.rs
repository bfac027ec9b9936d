#![warn(missing_docs)]
//! The runtime that weir-generated pipelines link against.
//!
//! Generated code owns the record path: it reads records from a source here, runs its fused
//! chain of operators on plain Rust values, and hands results to state types and sinks here.
//! Nothing in this crate dispatches dynamically per record.
//!
//! * [`memory`]: pages, the [`SegmentPool`](memory::SegmentPool) and memory division.
//! * [`layout`]: the binary layout of records resting in state.
//! * [`state`]: segment-backed operator state (the keyed aggregation table).
//! * [`io`]: sources, sinks and the bad-record policy.
//! * [`expr`]: functions that generated expressions call.
//! * [`nexmark`]: Nexmark's persons, auctions and bids, generated in the job.
//! * [`job`]: the command line, context and `main` of every generated job.
//! * [`inline_job`], [`record`], [`layout::Layout`], [`process`]: what `stream!` pipelines
//!   add: a job value to run, user types as CSV rows and as keys in state, and what a
//!   `process` step's closures are given.

pub mod checkpoint;
pub mod error;
pub mod expr;
pub mod inline_guard;
pub mod inline_job;
pub mod io;
pub mod iteration;
pub mod job;
pub mod layout;
pub mod memory;
pub mod monitor;
pub mod nexmark;
pub mod parallel;
pub mod process;
pub mod record;
mod signals;
pub mod spill;
pub mod state;
pub mod stats;
pub mod time;

pub use error::JobError;
pub use inline_job::{
    CheckpointChoice, CheckpointedBody, Checkpointing, CodecFor, Collected, InlineBody, InlineJob,
    JobConfig, NoCheckpoints, OneWorker, ParallelBody, Placement, Processes, Runner, Workers,
};
pub use job::{run_main, Identity, InputSplit, JobArgs, JobContext, JobSpec, StatefulOperator};
pub use layout::Layout;
pub use record::{CsvField, Record};

/// Re-exported for generated code, which derives serde traits for its record structs.
pub use serde;
/// Re-exported for generated code, which decodes JSON-lines records.
pub use serde_json;
