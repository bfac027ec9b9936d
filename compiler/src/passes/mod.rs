//! Passes over the operator graph, in the order [`optimize`] runs them, one file each.

mod acyclic;
mod chaining;
pub(crate) mod memory;
mod physical;
pub(crate) mod typecheck;

pub use acyclic::AcyclicPass;
pub use chaining::ChainingPass;
pub use memory::MemoryPass;
pub use physical::PhysicalPlanningPass;
pub use typecheck::TypeCheckPass;

use crate::diagnostics::Diagnostics;
use crate::ir::Plan;

/// A rewrite or annotation of the plan.
pub trait Pass {
    /// The pass's name, for messages.
    fn name(&self) -> &'static str;
    /// Runs the pass; errors mean the plan cannot go on to code generation.
    fn run(&self, plan: &mut Plan) -> Diagnostics;
}

/// Runs every pass in order: acyclic, type check, physical planning, chaining, memory.
/// Stops at the first pass that reports an error.
pub fn optimize(plan: &mut Plan) -> Diagnostics {
    let passes: [&dyn Pass; 5] = [
        &AcyclicPass,
        &TypeCheckPass,
        &PhysicalPlanningPass,
        &ChainingPass,
        &MemoryPass,
    ];
    let mut all = Diagnostics::new();
    for pass in passes {
        let d = pass.run(plan);
        let failed = d.has_errors();
        all.extend(d);
        if failed {
            break;
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::ir::Partitioning;

    fn logical(text: &str) -> Plan {
        let file = SourceFile::new("t.pipe", text);
        crate::logical(&file).expect("checks").0
    }

    const LATE: &str = "schema B { a: u64, ts: timestamp }
        source b: B = csv(\"b.csv\") with event_time(ts), watermark(ascending);
        b |> filter(a > 0) |> key_by(a) |> window(tumbling 1s, late -> l)
          |> aggregate { n: count() } |> map { a, n } |> sink csv(\"o.csv\");
        l |> key_by(a) |> distinct() |> sink csv(\"l.csv\");";

    #[test]
    fn chaining_fuses_forward_edges_and_breaks_at_exchanges_and_side_outputs() {
        let mut plan = logical(LATE);
        assert!(!ChainingPass.run(&mut plan).has_errors());
        let chains: Vec<Vec<&str>> = plan
            .chains
            .iter()
            .map(|c| c.nodes.iter().map(|&n| plan.graph[n].op.kind()).collect())
            .collect();
        // source -> filter fuse; the hash edge starts the window's chain; the window has
        // two outputs, so neither consumer joins it; map -> sink fuse.
        assert_eq!(
            chains,
            [
                vec!["source", "filter"],
                vec!["window"],
                vec!["map", "sink"],
                vec!["distinct", "sink"],
            ]
        );
    }

    #[test]
    fn memory_states_a_demand_for_each_stateful_operator() {
        let mut plan = logical(LATE);
        assert!(!optimize(&mut plan).has_errors());
        let demand = |kind: &str| {
            plan.graph
                .node_weights()
                .find(|n| n.op.kind() == kind)
                .and_then(|n| n.memory)
        };
        let (window, distinct) = (demand("window").unwrap(), demand("distinct").unwrap());
        assert!(window.weight > distinct.weight);
        assert!(
            window.min_pages > distinct.min_pages,
            "windows add timer pages"
        );
        assert_eq!(demand("map"), None);
    }

    #[test]
    fn type_check_reports_a_keyed_operator_fed_without_its_key_as_a_compiler_bug() {
        let mut plan = logical(LATE);
        assert!(!TypeCheckPass.run(&mut plan).has_errors());
        for e in plan.graph.edge_weights_mut() {
            e.partitioning = Partitioning::Forward;
        }
        let d = TypeCheckPass.run(&mut plan);
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("internal compiler error in `window`")
                    && m.contains("not hash-partitioned")),
            "{messages:?}"
        );
    }

    #[test]
    fn type_check_reports_ports_the_operator_does_not_have() {
        let mut plan = logical(LATE);
        for e in plan.graph.edge_weights_mut() {
            if e.from_port == 0 {
                e.from_port = 2;
            }
        }
        let d = TypeCheckPass.run(&mut plan);
        assert!(
            d.iter().any(|d| d.message.contains("no output port 2")),
            "{d:?}"
        );
    }
}
