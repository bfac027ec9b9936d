//! The compiler as one call: text to an optimized plan.

use crate::check::check;
use crate::diagnostics::{Diagnostics, SourceFile};
use crate::ir::Plan;
use crate::passes::optimize;

/// Checks and optimizes `file`. Returns the optimized plan and any warnings, or every
/// diagnostic when there is an error.
pub fn compile(file: &SourceFile) -> Result<(Plan, Diagnostics), Diagnostics> {
    let (plan, mut diagnostics) = check(file);
    let Some(mut plan) = plan else {
        return Err(diagnostics);
    };
    diagnostics.extend(optimize(&mut plan));
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok((plan, diagnostics))
}

/// Checks `file` without optimizing: the logical plan, or every diagnostic.
pub fn logical(file: &SourceFile) -> Result<(Plan, Diagnostics), Diagnostics> {
    match check(file) {
        (Some(plan), d) => Ok((plan, d)),
        (None, d) => Err(d),
    }
}
