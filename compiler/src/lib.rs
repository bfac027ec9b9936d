#![warn(missing_docs)]
//! The weir compiler: `.pipe` text to a typed operator graph, optimized, then generated Rust.

#[cfg(feature = "cli")]
pub mod build;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod codegen;
pub mod compile;
pub mod diagnostics;
pub mod explain;
pub mod graph;
pub mod inline;
pub mod ir;
pub mod lower;
pub mod ops;
pub mod parse;
pub mod passes;

pub use compile::{compile, logical};
pub use diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile};
