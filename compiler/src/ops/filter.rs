//! `filter`: keeps the records for which a condition holds.
//!
//! `.pipe`: `filter(price > 100)`; `stream!`: `filter(|b: &Bid| b.price > 100)`. In
//! generated code the condition is an `if` around the rest of the chain.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::context::Gen;
use crate::ir::{Code, Operator, Plan, RustFn, Type};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
use crate::ops::checks::{expr_fits, input_of, same};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    /// A `bool` expression over the input record, or the user's closure.
    pub predicate: Code,
}

impl Lower for Filter {
    const INFO: OpInfo = OpInfo {
        passes_records: true,
        takes_updates: true,
        ..OpInfo::new(
            "filter",
            Some("filter(condition)"),
            &["filter(|r| condition)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        let Some(predicate) = l.fe.predicate(&Self::INFO, step, &schema) else {
            return Applied::Broken;
        };
        let op = Operator::new(Filter { predicate });
        l.one_input(&input, op, schema, &F::step_span(step))
    }
}

impl OperatorNode for Filter {
    fn order_sensitive(&self) -> bool {
        false
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter({})", self.predicate)
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = input_of(plan, n, 0)?;
        same(plan, &plan.graph[n].schema, &input)?;
        if let Code::Expr(e) = &self.predicate {
            expr_fits(e, &input)?;
            if e.ty != Type::Bool {
                return Err("its predicate is not bool".into());
            }
        }
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        self.predicate.closure().into_iter().collect()
    }
}

impl OperatorCode for Filter {
    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let cond = g.code_value(&self.predicate, input);
        let rest = g.emit(n, 0, input);
        quote! {
            if #cond {
                #rest
            }
        }
    }
}
