//! weir: a Flink-style stream processor for Rust, built as a compiler.
//!
//! This umbrella crate is what a user depends on. It re-exports the runtime that generated
//! pipelines link against and the `stream!` and `#[derive(Record)]` macros; the `weir`
//! command-line tool lives in `weir-compiler`.

pub use weir_macros::{stream, Record, StateValue};
pub use weir_runtime as runtime;
pub use weir_runtime::*;
