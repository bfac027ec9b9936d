//! Durations as people write them: `30m`, not `1800000ms`, in every description of a plan
//! (`weir explain`, graphs, state layouts).

use std::fmt;

/// A duration in milliseconds, written as `weir_runtime::time::duration_text` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub i64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&weir_runtime::time::duration_text(self.0))
    }
}
