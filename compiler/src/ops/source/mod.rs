//! `source`: where records come from. Not a step: a pipeline starts with one.
//!
//! `.pipe`: `source bids: Bid = csv("bids.csv") with event_time(ts), watermark(bounded
//! 2s)`, also `text`, `jsonl` and `stdin`; `stream!`: `source iter(v)`, `text("path")`,
//! `csv::<Bid>("path")`, `jsonl::<Bid>("path")`. Each front-end reads its own source
//! syntax (`check/sources.rs`, `inline/sources.rs`) into a [`SourceOp`].
//!
//! Generated code: a loop in `run` per source that reads records and hands them to the
//! source's chain, with the source's watermark generator; and a CSV decoder per source.
//! Several sources are read interleaved by event time, in batches from the source whose
//! watermark is lowest (see [`loops`]). End of input is when every source is exhausted.

use std::fmt;

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::api::{Lower, OpInfo, OperatorCode};
use crate::ir::OperatorNode;
use crate::codegen::names::{field_ident, ident, node_method};
use crate::codegen::context::Gen;

use crate::ir::{
    InputLocation, OnError, Plan, RustFn, SourceFormat, Type,
    WatermarkSpec,
};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

mod loops;
mod nexmark;
mod reading;

pub(crate) use loops::loops;

pub use crate::ir::SourceOp;

impl SourceOp {
    /// `csv("bids.csv", ...) with event_time(ts), ...`.
    pub(crate) fn summary(&self) -> String {
        let at = match &self.input {
            InputLocation::Path(p) => format!("{p:?}"),
            InputLocation::Stdin => "stdin".into(),
            InputLocation::Program | InputLocation::Generated => String::new(),
        };
        let kind = match &self.format {
            SourceFormat::Iter(r) => format!("iter({r})"),
            SourceFormat::Nexmark(n) => nexmark::summary(n),
            SourceFormat::Text => format!("text({at})"),
            SourceFormat::Jsonl => format!("jsonl({at})"),
            SourceFormat::Csv { header, delimiter } => format!(
                "csv({at}, header: {header}, delimiter: {:?})",
                char::from(*delimiter)
            ),
        };
        let kind = if self.follow {
            format!("{kind} with follow")
        } else {
            kind
        };
        let kind = if self.time_unit.is_milliseconds() {
            kind
        } else {
            let with = if self.follow { "," } else { " with" };
            format!("{kind}{with} time_unit({})", self.time_unit.name())
        };
        // `with follow, event_time(..)` reads as one `with`.
        let with = if self.follow || !self.time_unit.is_milliseconds() {
            ","
        } else {
            " with"
        };
        match &self.event_time {
            None => kind,
            Some(et) => {
                let wm = match et.watermark {
                    WatermarkSpec::Bounded(ms) => format!("bounded {}", crate::ir::Millis(ms)),
                    WatermarkSpec::Ascending => "ascending".into(),
                };
                let idle = et
                    .idle
                    .map(|ms| format!(", idle {}", crate::ir::Millis(ms)))
                    .unwrap_or_default();
                format!(
                    "{kind}{with} event_time({}), watermark({wm}{idle})",
                    et.field_name
                )
            }
        }
    }
}

impl Lower for SourceOp {
    const INFO: OpInfo = OpInfo {
        inputs: (0, 0),
        ..OpInfo::new(
            "source",
            None,
            &[],
        )
    };

    /// Never called: no front-end has a source step (`pipe` and `inline` name none).
    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        _input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let (_, span) = F::step_name(step);
        l.report(crate::diagnostics::Diagnostic::error(
            "a source starts a pipeline; it is not a step",
            span,
            "not a step",
        ))
    }
}

impl OperatorNode for SourceOp {
    fn files(&self) -> Vec<(String, String)> {
        let mut uses = Vec::new();
        if let InputLocation::Path(p) = &self.input {
            uses.push((format!("source `{}`", self.name), p.clone()));
        }
        if let OnError::DeadLetter(p) = &self.on_error {
            uses.push((
                format!("the dead-letter file of source `{}`", self.name),
                p.clone(),
            ));
        }
        uses
    }

    /// With event time, lateness depends on what was read before a record.
    fn order_sensitive(&self) -> bool {
        self.event_time.is_some()
    }

    /// A file read in slices keeps one worker's watermarks when each worker starts from
    /// the largest event time before its slice; an idle timeout is processing time, which
    /// no two runs share.
    fn exact_in_event_time_slices(&self, _plan: &Plan, _n: NodeIndex) -> bool {
        !matches!(self.format, SourceFormat::Iter(_))
            && self.event_time.as_ref().is_none_or(|e| e.idle.is_none())
    }

    fn info(&self) -> &'static OpInfo {
        &Self::INFO
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source {} = {}", self.name, self.summary())
    }

    fn check(&self, plan: &Plan, n: NodeIndex) -> Result<(), String> {
        let schema = &plan.graph[n].schema;
        if let Some(et) = &self.event_time {
            let field_ok = et.rust.is_some()
                || matches!(schema.fields.get(et.field), Some(f) if f.ty == Type::Timestamp);
            if !field_ok {
                return Err("its event-time field is not a timestamp".into());
            }
        }
        Ok(())
    }

    fn closures(&self) -> Vec<&RustFn> {
        self.event_time
            .as_ref()
            .and_then(|e| e.rust.as_ref())
            .into_iter()
            .collect()
    }
}

impl OperatorCode for SourceOp {
    /// Sources have no input port: the run loop hands their records to their chain.
    fn push(&self, _g: &Gen<'_>, _n: NodeIndex, _port: usize, _input: &Ident) -> TokenStream {
        quote!()
    }
}

fn decoder(n: NodeIndex) -> Ident {
    node_method(n, "decode")
}

/// Every source node, in node order.
pub(crate) fn sources<'g>(g: &'g Gen<'_>) -> impl Iterator<Item = (NodeIndex, &'g SourceOp)> + 'g {
    sources_of(g.plan)
}

/// Every source node of `plan`, in node order.
pub(crate) fn sources_of(plan: &Plan) -> impl Iterator<Item = (NodeIndex, &SourceOp)> + '_ {
    plan.graph
        .node_indices()
        .filter_map(move |n| plan.graph[n].op.payload::<SourceOp>().map(|s| (n, s)))
}

/// The decoders of every CSV source: a CSV row to the source's record struct, borrowing
/// strings from the row.
pub(crate) fn decoders(g: &Gen<'_>) -> Vec<TokenStream> {
    sources(g)
        .filter(|(n, s)| {
            matches!(s.format, SourceFormat::Csv { .. }) && g.plan.graph[*n].schema.rust.is_none()
        })
        .map(|(n, s)| {
            let fields = &g.plan.graph[n].schema.fields;
            let ty = g.records.ty_with(fields, &quote!('r));
            let name = g.records.name(fields);
            let inits = fields.iter().enumerate().map(|(i, f)| {
                let id = field_ident(&f.name);
                let fname = &f.name;
                match f.ty {
                    Type::Str => quote!(#id: ::std::borrow::Cow::Borrowed(row.str(#i, #fname)?)),
                    Type::U64 => quote!(#id: row.u64(#i, #fname)?),
                    Type::I64 => quote!(#id: row.i64(#i, #fname)?),
                    Type::F64 => quote!(#id: row.f64(#i, #fname)?),
                    Type::Bool => quote!(#id: row.bool(#i, #fname)?),
                    Type::Timestamp if !s.time_unit.is_milliseconds() => {
                        let unit = time_unit(s.time_unit);
                        quote!(#id: row.timestamp_in(#i, #fname, #unit)?)
                    }
                    Type::Timestamp => quote!(#id: row.timestamp(#i, #fname)?),
                    Type::List(_) | Type::Rust(_) => unreachable!("schemas hold no lists"),
                }
            });
            let f = decoder(n);
            // Always inlined: the slice scan (`slice_scans`) calls it too, and with two
            // callers rustc stopped inlining it into the hot loop.
            quote! {
                #[inline(always)]
                fn #f<'r>(row: &weir_runtime::io::CsvRow<'r>) -> ::core::result::Result<#ty, weir_runtime::io::FieldError> {
                    ::core::result::Result::Ok(#name { #(#inits,)* })
                }
            }
        })
        .collect()
}

/// `run`: builds the job, reads every source to its end, then finishes the job. On one
/// of several workers (`exchange` is `Some`), it reads its slice of each source and
/// finishes step by step with the others (`weir_runtime::parallel::finish`).
pub(crate) fn run_fn(g: &Gen<'_>) -> TokenStream {
    let loops = loops(g);
    let scans = loops::slice_scans(g);
    quote! {
        #(#scans)*

        fn run(
            ctx: &mut weir_runtime::JobContext,
            exchange: ::core::option::Option<weir_runtime::parallel::Exchange>,
        ) -> ::core::result::Result<(), weir_runtime::JobError> {
            // Before the job is made: its sinks open the parts a resumed run keeps.
            let mut checkpoints = weir_runtime::checkpoint::Checkpoints::open(ctx, &SPEC)?;
            let mut job = WeirJob::new(ctx)?;
            weir_runtime::job::attach(&mut job, ctx, exchange)?;
            checkpoints.restore_job(&mut job)?;
            #(#loops)*
            weir_runtime::job::end_of_input_with(&mut job, ctx, &mut checkpoints)
        }
    }
}

/// `weir_runtime::time::TimeUnit::Seconds` and so on.
pub(crate) fn time_unit(unit: crate::ir::TimeUnit) -> TokenStream {
    let variant = ident(&unit.runtime_variant());
    quote!(weir_runtime::time::TimeUnit::#variant)
}
