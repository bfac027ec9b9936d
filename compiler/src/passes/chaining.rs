//! The chaining pass: fuses operators joined by forward edges into chains, as Flink does.
//!
//! A node joins its input's chain when it has exactly one input, that edge is forward, and
//! the input feeds nothing else from any output port. So a keyed exchange (a hash edge), a
//! fan-out (one stream feeding several, or an operator with a side output) and a merge
//! (several inputs) each start a new chain. So does every [`MAX_CHAIN`]-th operator: a
//! chain is one function of nested code, and rustc's cost (and stack) grows with its depth. Records inside a
//! chain pass as plain values from one operator's code to the next in one loop.

use super::Pass;
use crate::diagnostics::Diagnostics;
use crate::ir::{Chain, Partitioning, Plan};

/// See the module documentation.
pub struct ChainingPass;

/// The most operators fused into one chain.
pub const MAX_CHAIN: usize = 32;

impl Pass for ChainingPass {
    fn name(&self) -> &'static str {
        "chaining"
    }

    fn run(&self, plan: &mut Plan) -> Diagnostics {
        let mut chains: Vec<Chain> = Vec::new();
        for n in plan.topo_order() {
            let inputs = plan.inputs(n);
            let fused = match inputs.as_slice() {
                [(up, edge)] if edge.partitioning == Partitioning::Forward => {
                    let single = plan.all_outputs(*up).len() == 1;
                    let chain = plan.graph[*up].chain;
                    let room = chain.is_some_and(|c| chains[c].nodes.len() < MAX_CHAIN);
                    (single && room).then_some(chain)
                }
                _ => None,
            }
            .flatten();
            let id = match fused {
                Some(id) => {
                    chains[id].nodes.push(n);
                    id
                }
                None => {
                    chains.push(Chain {
                        id: chains.len(),
                        nodes: vec![n],
                    });
                    chains.len() - 1
                }
            };
            plan.graph[n].chain = Some(id);
        }
        plan.chains = chains;
        Diagnostics::new()
    }
}
