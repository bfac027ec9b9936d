//! The memory pass: states what each stateful operator asks of the job's memory.
//!
//! Each stateful operator states its demand in its `memory` hook (`crate::ops`): a weight
//! by kind and a minimum derived from its schema. The division of a concrete `--memory`
//! among them is `weir_runtime::memory::divide_memory`, shared by `weir explain` and the
//! running job so both show the same budgets.
//!
//! The minimum for a keyed aggregation is what its table needs to reach its first index
//! growth: one index page, the data pages holding the entries that fill it to its load
//! limit, and the two pages of the grown index (old and new index live together for a
//! moment while entries are re-placed).

use super::Pass;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::Plan;

/// See the module documentation.
pub struct MemoryPass;

impl Pass for MemoryPass {
    fn name(&self) -> &'static str {
        "memory budget"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        let mut out = Diagnostics::new();
        for n in plan.graph.node_indices() {
            let demand = plan.graph[n].op.def().memory(plan, n);
            let node = &mut plan.graph[n];
            if demand.is_none() && node.state != crate::ir::StateKind::Stateless {
                out.push(Diagnostic::error(
                    format!(
                        "internal compiler error in `{}`: a stateful operator states no memory demand",
                        node.op.kind()
                    ),
                    node.span.clone(),
                    "this operator",
                ));
            }
            node.memory = demand;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::keyed::table_pages;

    #[test]
    fn minimum_grows_with_the_entry() {
        let small = table_pages(40, 32 * 1024);
        let large = table_pages(400, 32 * 1024);
        assert!(small >= 4 && large > small, "{small} {large}");
    }
}
