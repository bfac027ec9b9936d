//! Mermaid flowcharts.

use super::{GraphView, GraphWriter, NodeView};

/// Writes a Mermaid flowchart; chains become subgraphs.
pub struct Mermaid;

fn node_line(n: &NodeView, indent: &str) -> String {
    let label = n.drawing_label().join("<br/>").replace('"', "#quot;");
    format!("{indent}n{}[\"{label}\"]\n", n.id)
}

impl GraphWriter for Mermaid {
    fn write(&self, view: &GraphView) -> String {
        let mut out = String::from("flowchart LR\n");
        for c in &view.chains {
            out.push_str(&format!("  subgraph chain{}[\"chain {}\"]\n", c.id, c.id));
            for id in &c.nodes {
                if let Some(n) = view.nodes.iter().find(|n| n.id == *id) {
                    out.push_str(&node_line(n, "    "));
                }
            }
            out.push_str("  end\n");
        }
        for n in view.unchained() {
            out.push_str(&node_line(n, "  "));
        }
        for e in &view.edges {
            let arrow = if e.feedback {
                "-.->"
            } else if e.partitioning == "forward" {
                "-->"
            } else {
                "==>"
            };
            out.push_str(&format!(
                "  n{} {arrow}|\"{}\"| n{}\n",
                e.from,
                e.label(),
                e.to
            ));
        }
        out
    }
}
