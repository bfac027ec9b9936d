//! `top(n, desc(e), ...)`: per key, the best `n` records so far, re-emitted as they change
//! (Flink SQL's Top-N, `ROW_NUMBER() OVER (PARTITION BY k ORDER BY ...) <= n`, in its
//! updating form).
//!
//! `.pipe`: `key_by(game) |> top(3, desc(score), asc(ts))`: after the count, what orders
//! the records, each `desc(e)`, `asc(e)` or a bare `e` (ascending); later values break
//! ties of earlier ones, and records still tied keep their arrival order. When a record
//! makes its key's best `n`, every rank from its own down changes hands, and the output
//! is a changelog as a `rolling`'s is (`ops/rolling`): per rank a `-U` row with the record
//! that held it and a `+U` row with the one that holds it now, or `+I` where the rank was
//! empty; each row is `op`, the record's fields and its `rank` (from 1). A record that
//! does not make the top emits nothing. `stream!`: `top(3, desc(|r: &R| r.score))`,
//! emitting `(op, rank, record)`.
//!
//! State: the runtime's `TopRows`: each key's rows with their order as memcomparable
//! bytes, in pool pages, spilling and snapshot by key group.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde::Serialize;
use weir_runtime::memory::MemoryDemand;

use super::api::{Lower, OpInfo, OperatorCode};
use super::keyed::{check_keyed_input, keyed_demand};
use crate::codegen::context::Gen;
use crate::codegen::keys::{encode_key, key_builder_field};
use crate::codegen::names::{ident, node_field};
use crate::diagnostics::Diagnostic;
use crate::ir::OperatorNode;
use crate::ir::{Code, Field, InputDistribution, KeySpec, Operator, Plan, RustFn, RustType, Schema, StateKind, Type};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
use crate::ops::join::sides::{encode_record, side_values};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    /// What the input is keyed by.
    pub key: KeySpec,
    /// How many rows each key keeps.
    pub n: u64,
    /// What orders the rows, each with whether it is descending.
    pub order: Vec<(Code, bool)>,
}

/// The most rows a key may keep: each record rewrites its key's rows.
pub const MOST_ROWS: u64 = 1_000;
/// Weight of a top-N in the division of memory: whole records per key.
const WEIGHT: u32 = 2;
/// Bytes a key's entry holds besides its key and rows.
const ENTRY_WORDS: usize = 4;

impl Lower for Top {
    const INFO: OpInfo = OpInfo {
        state: StateKind::Keyed,
        ..OpInfo::new(
            "top",
            Some("top(n, desc(e), asc(e), ...)"),
            &["top(n, desc(|r| value), asc(|r| value), ...)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let Some(key) = l.require_key(&input, &Self::INFO, step) else {
            return Applied::Broken;
        };
        let schema = l.schema_of(&input);
        let Some((n, order)) = l.fe.top_args(&Self::INFO, step, &schema) else {
            return Applied::Broken;
        };
        let span = F::step_span(step);
        let help = format!("write `{}`", F::form(&Self::INFO));
        if !(1..=MOST_ROWS).contains(&n) {
            return l.report(
                Diagnostic::error(format!("`top` keeps 1 to {MOST_ROWS} rows per key, not {n}"), span, "out of range")
                    .with_help(help),
            );
        }
        if order.is_empty() {
            return l.report(
                Diagnostic::error("`top` needs what orders the rows", span, "no order").with_help(help),
            );
        }
        let op = super::rolling::OP;
        let out = match &schema.rust {
            Some(record) => Schema::rust(RustType::Tuple(vec![
                RustType::path("String"),
                RustType::path("u64"),
                record.clone(),
            ]))
            .into(),
            None => {
                if let Some(taken) = ["rank", op].into_iter().find(|f| schema.index_of(f).is_some()) {
                    return l.report(
                        Diagnostic::error(
                            format!("the records already have a field `{taken}`, which `top` adds"),
                            span,
                            format!("`{taken}` taken"),
                        )
                        .with_help("rename it with a `map` first"),
                    );
                }
                let mut columns = vec![Field {
                    name: op.into(),
                    ty: Type::Str,
                }];
                columns.extend(schema.fields.iter().cloned());
                columns.push(Field {
                    name: "rank".into(),
                    ty: Type::U64,
                });
                l.fe.result_schema(columns)
            }
        };
        let node = l.add_node(Operator::new(Top { key, n, order }), out, &span.clone());
        l.connect(&input, node, 0);
        Applied::Stream(Stream {
            updates: Some(span),
            ..Stream::new(node, input.timed)
        })
    }
}

impl OperatorNode for Top {
    fn input_distribution(&self, _port: usize) -> InputDistribution<'_> {
        InputDistribution::ByKeyGroup(&self.key)
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "top({}", self.n)?;
        for (code, desc) in &self.order {
            let word = if *desc { "desc" } else { "asc" };
            write!(f, ", {word}({code})")?;
        }
        f.write_str(")")
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let input = check_keyed_input(plan, n, &self.key)?;
        let out = &plan.graph[n].schema;
        if out.rust.is_none() && out.fields.len() != input.fields.len() + 2 {
            return Err("its output schema is not `op`, its input's and a rank".into());
        }
        Ok(())
    }

    fn memory(&self, plan: &Plan, n: NodeIndex) -> Option<MemoryDemand> {
        Some(keyed_demand(plan, n, &self.key, ENTRY_WORDS, WEIGHT, 2))
    }

    /// Past the budget every key's rows go to disk (the process state's spilling).
    fn spill(&self, _plan: &Plan, _n: NodeIndex) -> Result<(), &'static str> {
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        let mut all: Vec<&RustFn> = self.key.closure().into_iter().collect();
        all.extend(self.order.iter().filter_map(|(c, _)| match c {
            Code::Rust(r) => Some(r),
            Code::Expr(_) => None,
        }));
        all
    }
}

impl OperatorCode for Top {
    fn fields(&self, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
        let (state, order, changed, record) = names(n);
        let memory = g.operator_memory(n);
        let rows = self.n as usize;
        let mut fields = vec![
            (
                quote!(#state: weir_runtime::state::TopRows),
                quote!(#state: weir_runtime::state::TopRows::new(#memory, #rows)?),
            ),
            (
                quote!(#order: weir_runtime::state::OrderKey),
                quote!(#order: ::core::default::Default::default()),
            ),
            (
                quote!(#changed: weir_runtime::state::RankedRows),
                quote!(#changed: ::core::default::Default::default()),
            ),
            (
                quote!(#record: weir_runtime::layout::RecordBuilder),
                quote!(#record: weir_runtime::layout::RecordBuilder::new()),
            ),
        ];
        fields.extend(key_builder_field(g, n, &self.key));
        fields
    }

    fn push(&self, g: &Gen<'_>, n: NodeIndex, _port: usize, input: &Ident) -> TokenStream {
        let (state, order, changed, builder) = names(n);
        let schema = g.plan.input_schema(n, 0).expect("top has an input");
        let values = self.order.iter().enumerate().map(|(i, (code, desc))| {
            let v = ident(&format!("order{i}"));
            let value = g.code_value(code, input);
            (quote!(let #v = #value;), quote!(.value(&#v, #desc)))
        });
        let (lets, adds): (Vec<_>, Vec<_>) = values.unzip();
        let encode = encode_key(g, n, &self.key, input);
        let record = encode_record(&builder, &schema, input);
        let view = ident("row_view");
        let fields = side_values(g, &schema, Some(&view), false);
        let out = g.var(n);
        let inline = schema.rust.is_some();
        let result = |op: &str| {
            let op = if inline {
                quote!(::std::string::String::from(#op))
            } else {
                quote!(::std::borrow::Cow::Borrowed(#op))
            };
            let values = if inline {
                vec![op, quote!(rank), fields.last().expect("the record").clone()]
            } else {
                let mut all = vec![op];
                all.extend(fields.iter().cloned());
                all.push(quote!(rank));
                all
            };
            g.result_record(n, values)
        };
        let (insert, replaced, replacing) = (result("+I"), result("-U"), result("+U"));
        let emit = g.emit(n, 0, &out);
        quote! {
            #(#lets)*
            self.#order.clear() #(#adds)*;
            #encode
            let record = #record;
            let mut changed = ::std::mem::take(&mut self.#changed);
            if self.#state.offer(key, self.#order.bytes(), record, &mut changed)? {
                for (rank, before, now) in changed.iter() {
                    match before {
                        ::core::option::Option::Some(before) => {
                            {
                                let #view = weir_runtime::layout::RecordView::new(before);
                                let #out = #replaced;
                                #emit
                            }
                            let #view = weir_runtime::layout::RecordView::new(now);
                            let #out = #replacing;
                            #emit
                        }
                        ::core::option::Option::None => {
                            let #view = weir_runtime::layout::RecordView::new(now);
                            let #out = #insert;
                            #emit
                        }
                    }
                }
            }
            self.#changed = changed;
        }
    }
}

/// The node's fields: its state, order key, changed rows and record builder.
fn names(n: NodeIndex) -> (Ident, Ident, Ident, Ident) {
    (
        node_field(n, "state"),
        node_field(n, "order"),
        node_field(n, "changed"),
        node_field(n, "record"),
    )
}
