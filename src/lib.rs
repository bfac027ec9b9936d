//! weir: a Flink-style stream processor for Rust, built as a compiler.
//!
//! This umbrella crate is what a user depends on. It re-exports the runtime that generated
//! pipelines link against and the `stream!` and `#[derive(Record)]` macros; the `weir`
//! command-line tool lives in `weir-compiler`.

pub use weir_macros::{stream, Record, StateValue};

/// Brings in the pipeline `weir_build::compile` compiled in the crate's `build.rs`, as
/// `mod NAME` (NAME the `.pipe` file's stem): `weir::include_pipeline!("orders");` then
/// `orders::job().input_orders("in.csv").output_totals("out.csv").run()`.
#[macro_export]
macro_rules! include_pipeline {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/weir/", $name, ".rs"));
    };
}
pub use weir_runtime as runtime;
pub use weir_runtime::*;
