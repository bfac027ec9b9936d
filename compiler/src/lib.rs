//! The weir compiler: `.pipe` text to a typed operator graph, optimized, then generated Rust.

pub mod diagnostics;
pub mod parse;
pub mod ir;
pub mod check;
pub mod passes;
pub mod explain;
pub mod graph;
pub mod codegen;
pub mod build;
pub mod cli;
pub mod compile;

pub use compile::{compile, logical};
pub use diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile};
