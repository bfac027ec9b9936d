//! Passes over the operator graph, in the order [`optimize`] runs them, one file each.

mod chaining;
pub(crate) mod memory;
pub(crate) mod typecheck;

pub use chaining::ChainingPass;
pub use memory::MemoryPass;
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

/// Runs every pass in order: type check, chaining, memory. Stops at the first pass that
/// reports an error.
pub fn optimize(plan: &mut Plan) -> Diagnostics {
    let passes: [&dyn Pass; 3] = [&TypeCheckPass, &ChainingPass, &MemoryPass];
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
