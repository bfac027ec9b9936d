//! JSON, for tools.

use super::{GraphView, GraphWriter};

/// Writes the view as pretty JSON.
pub struct Json;

impl GraphWriter for Json {
    fn write(&self, view: &GraphView) -> String {
        let mut s = serde_json::to_string_pretty(view).expect("the graph view is plain data");
        s.push('\n');
        s
    }
}
