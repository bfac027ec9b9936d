//! What operators' `check` hooks verify the plan with, and the type-check pass too: a
//! node's input schema, two schemas being one type, a closure taking the input's records,
//! an expression's field references matching the input. In the operator API, below both.

use std::sync::Arc;

use petgraph::graph::NodeIndex;

use crate::ir::{Plan, RustFn, Schema, TExpr, TExprKind};

/// The schema of the records on input `port` of `n`.
pub(crate) fn input_of(plan: &Plan, n: NodeIndex, port: usize) -> Result<Arc<Schema>, String> {
    plan.input_schema(n, port)
        .ok_or_else(|| format!("its input {port} is not connected"))
}

/// Records of `a` and `b` are of one type (for inline records, once the types the
/// front-end unified are resolved).
pub(crate) fn same(plan: &Plan, a: &Schema, b: &Schema) -> Result<(), String> {
    let resolved = |s: &Schema| match (&plan.rust, &s.rust) {
        (Some(code), Some(t)) => Some(code.resolve(t)),
        (_, t) => t.clone(),
    };
    if a.same_fields(b) && resolved(a) == resolved(b) {
        Ok(())
    } else {
        Err(format!(
            "schema {} differs from {}",
            a.describe(),
            b.describe()
        ))
    }
}

/// Closure `r` takes the records of `input` (by reference when `by_ref`).
pub(crate) fn closure_takes(r: &RustFn, input: &Schema, by_ref: bool) -> Result<(), String> {
    let Some(ty) = &input.rust else {
        return Err("a closure reads records that are not Rust values".into());
    };
    let want = if by_ref { ty.by_ref() } else { ty.clone() };
    if r.inputs.as_deref() != Some(std::slice::from_ref(&want)) {
        return Err("its closure does not take the input records".into());
    }
    Ok(())
}

/// Every field reference of `e` names the input field at its index with that field's type.
pub(crate) fn expr_fits(e: &TExpr, input: &Schema) -> Result<(), String> {
    match &e.kind {
        TExprKind::Lit(_) => Ok(()),
        TExprKind::Field(i, name) => match input.fields.get(*i) {
            Some(f) if f.name == *name && f.ty == e.ty => Ok(()),
            _ => Err(format!("field reference `{name}` does not match the input")),
        },
        TExprKind::Unary(_, a) | TExprKind::Cast(a) => expr_fits(a, input),
        TExprKind::Binary(_, a, b) => {
            expr_fits(a, input)?;
            expr_fits(b, input)
        }
        TExprKind::If(c, a, b) => {
            expr_fits(c, input)?;
            expr_fits(a, input)?;
            expr_fits(b, input)
        }
        TExprKind::Call(_, args) | TExprKind::StateCall(_, _, args) => {
            args.iter().try_for_each(|a| expr_fits(a, input))
        }
        // A process function's names are checked by its own rules.
        TExprKind::Var(_) => Ok(()),
    }
}
