//! The aggregates of `aggregate(...)` as `stream!` writes them: `count()`, `sum(f)`,
//! `min(f)`, `max(f)`, `avg(f)`, `first(f)`, `last(f)`, `reduce(f, |a, b| ...)` and the
//! others, each checked against the input's fields and named `{func}_{i}`.

use quote::quote;
use syn::spanned::Spanned;

use super::front::{Guard, InlineFront};
use super::steps::record_type;
use crate::diagnostics::did_you_mean;
use crate::ir::{AggFunc, AggregateField, Code, Schema, Type};

impl InlineFront {
    /// One aggregate: `count()`, `sum(f)`, `min(f)`, `max(f)`, `avg(f)`, `first(f)`,
    /// `last(f)` or `reduce(f, |a, b| ...)`; its output is named `{func}_{i}`.
    pub(super) fn aggregate_field(
        &mut self,
        input: &Schema,
        i: usize,
        agg: &syn::Expr,
    ) -> Option<AggregateField> {
        let syn::Expr::Call(c) = agg else {
            return self.error(
                agg.span(),
                "expected an aggregate such as `count()` or `sum(|r| r.price)`",
            );
        };
        let name = match &*c.func {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(func) = name.as_deref().and_then(AggFunc::from_name) else {
            let written = quote!(#c.func).to_string();
            let mut message = format!(
                "unknown aggregate `{}`",
                name.as_deref().unwrap_or(&written)
            );
            match name
                .as_deref()
                .and_then(|n| did_you_mean(n, AggFunc::NAMES.iter().copied()))
            {
                Some(help) => message.push_str(&format!("; {help}")),
                None => {
                    message.push_str(&format!("; aggregates are {}", AggFunc::NAMES.join(", ")))
                }
            }
            return self.error(c.func.span(), message);
        };
        if func == AggFunc::CollectList {
            return self.error(
                c.func.span(),
                "`collect_list` joins text in `.pipe` pipelines; it is not built for `stream!` yet",
            );
        }
        let args: Vec<&syn::Expr> = c.args.iter().collect();
        let wanted = func.arguments();
        if args.len() != wanted {
            let example = match func {
                AggFunc::Count => "count()".to_string(),
                AggFunc::Reduce => "reduce(|r| r.x, |a, b| a + b)".to_string(),
                f => format!("{}(|r| r.x)", f.name()),
            };
            return self.error(
                c.span(),
                format!(
                    "`{}` takes {wanted} argument(s), as in `{example}`; found {}",
                    func.name(),
                    args.len()
                ),
            );
        }
        let ty = record_type(input);
        let (arg, combine, out) = match args.as_slice() {
            [] => (None, None, Type::U64),
            [f, rest @ ..] => {
                let value = self.param('A');
                let (bound, guard) = match func {
                    AggFunc::Sum | AggFunc::Min | AggFunc::Max | AggFunc::Avg => {
                        (quote!(weir_runtime::state::AggNumber), "number")
                    }
                    AggFunc::CountDistinct => {
                        (quote!(weir_runtime::state::DistinctValue), "distinct")
                    }
                    AggFunc::Count
                    | AggFunc::First
                    | AggFunc::Last
                    | AggFunc::Reduce
                    | AggFunc::CollectList => (quote!(weir_runtime::state::AccWord), "word"),
                };
                self.bound(f.span(), &value, bound);
                let arg = self.guarded(
                    f,
                    Guard {
                        guard: "value",
                        input: &ty,
                        inputs: vec![ty.by_ref()],
                        output: value.clone(),
                        outs: &[&value],
                        requirement: Some(guard),
                    },
                );
                let combine = rest.first().map(|g| {
                    Code::Rust(self.guarded(
                        g,
                        Guard {
                            guard: "combine",
                            input: &value,
                            inputs: vec![value.clone(), value.clone()],
                            output: value.clone(),
                            outs: &[],
                            requirement: None,
                        },
                    ))
                });
                let out = func.result_type(Some(&Type::Rust(value)));
                (Some(Code::Rust(arg)), combine, out)
            }
        };
        Some(AggregateField {
            name: format!("{}_{i}", func.name()),
            func,
            arg,
            combine,
            ty: out,
            separator: None,
        })
    }
}
