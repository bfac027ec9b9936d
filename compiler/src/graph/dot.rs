//! Graphviz DOT.

use super::{GraphView, GraphWriter, NodeView};

/// Writes DOT; chains become `cluster_` subgraphs.
pub struct Dot;

fn node_line(n: &NodeView, indent: &str) -> String {
    let lines: Vec<String> = n.drawing_label().iter().map(|l| escape(l)).collect();
    let mut label = lines.join("\\n");
    if let Some(m) = n.memory {
        label.push_str(&format!(
            "\\nmemory: weight {}, min {} pages",
            m.weight, m.min_pages
        ));
    }
    let shape = if n.state == "keyed" { "box3d" } else { "box" };
    format!("{indent}n{} [label=\"{label}\", shape={shape}];\n", n.id)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl GraphWriter for Dot {
    fn write(&self, view: &GraphView) -> String {
        let mut out = format!("digraph \"{}\" {{\n  rankdir=LR;\n", escape(&view.name));
        for c in &view.chains {
            out.push_str(&format!(
                "  subgraph cluster_chain{} {{\n    label=\"chain {}\";\n    style=dashed;\n",
                c.id, c.id
            ));
            for id in &c.nodes {
                if let Some(n) = view.nodes.iter().find(|n| n.id == *id) {
                    out.push_str(&node_line(n, "    "));
                }
            }
            out.push_str("  }\n");
        }
        for n in view.unchained() {
            out.push_str(&node_line(n, "  "));
        }
        for e in &view.edges {
            let style = if e.feedback {
                // Drawn back upstream without pulling its ends apart.
                "dashed, constraint=false"
            } else if e.partitioning == "forward" {
                "solid"
            } else {
                "bold"
            };
            out.push_str(&format!(
                "  n{} -> n{} [label=\"{}\", style={style}];\n",
                e.from,
                e.to,
                escape(&e.label())
            ));
        }
        out.push_str("}\n");
        out
    }
}
