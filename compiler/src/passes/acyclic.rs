//! The first pass: the graph, without its feedback edges, must have an order. No front-end
//! writes a cycle, so one is an internal error, reported with the nodes on it rather than
//! dropped (an ordering that silently left a cycle's nodes out would generate a job
//! missing them).

use super::Pass;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::Plan;

/// Refuses a plan whose stream edges form a cycle.
pub struct AcyclicPass;

impl Pass for AcyclicPass {
    fn name(&self) -> &'static str {
        "acyclic"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Err(cycle) = plan.try_topo_order() {
            let span = cycle
                .nodes
                .first()
                .map_or(0..0, |&n| plan.graph[n].span.clone());
            d.push(
                Diagnostic::error(cycle.to_string(), span, "on the cycle")
                    .with_help("this is a bug in weir, not in the pipeline; please report it with the pipeline"),
            );
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::ir::{Edge, EdgeKind, Partitioning};

    fn plan() -> Plan {
        let file = SourceFile::new(
            "t.pipe",
            "source s = text(\"a\");\ns |> filter(line != \"\") |> map { line } |> sink stdout();",
        );
        crate::logical(&file).expect("checks").0
    }

    fn back_edge(plan: &mut Plan, kind: EdgeKind) {
        // map (node 2) back into filter (node 1).
        let (filter, map) = (
            petgraph::graph::NodeIndex::new(1),
            petgraph::graph::NodeIndex::new(2),
        );
        plan.graph.add_edge(
            map,
            filter,
            Edge {
                kind,
                partitioning: Partitioning::Forward,
                from_port: 0,
                port: 1,
            },
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_its_nodes_not_a_silent_drop() {
        let mut plan = plan();
        assert!(!AcyclicPass.run(&mut plan).has_errors());
        back_edge(&mut plan, EdgeKind::Stream);
        let d = AcyclicPass.run(&mut plan);
        let message = &d.iter().next().expect("an error").message;
        assert!(message.contains("cycle"), "{message}");
        assert!(
            message.contains("filter at t.pipe:2:6 -> map at t.pipe:2:28"),
            "{message}"
        );
        assert!(super::super::optimize(&mut plan).has_errors());
    }

    #[test]
    fn a_feedback_edge_is_left_out_of_the_order() {
        let mut plan = plan();
        let before = plan.topo_order();
        back_edge(&mut plan, EdgeKind::Feedback);
        assert!(!AcyclicPass.run(&mut plan).has_errors());
        assert_eq!(plan.topo_order(), before);
    }
}
