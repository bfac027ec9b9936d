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
use crate::codegen::names::{chain_input, chain_watermark, field_ident, ident, node_method};
use crate::codegen::context::source_var;
use crate::codegen::context::Gen;

use crate::ir::{
    EventTime, InputLocation, OnError, Plan, RustFn, SourceFormat, Type,
    WatermarkSpec,
};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

mod nexmark;

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
    let scans = slice_scans(g);
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

/// Records a source hands on before the run loop picks the next source to read.
const BATCH: usize = 256;

/// The blocks that read every source to its end into the `job`. One source is read in a
/// plain loop. Several are interleaved by event time: the loop reads up to [`BATCH`]
/// records from the source the driver picks (`weir_runtime::job::SourcePick`: the open
/// one whose watermark is lowest; a source without event time counts as lowest, an idle
/// one as highest), then picks again. So a union or a
/// join buffers about a batch and the sources' disorder, not a whole input, and a source
/// that has not started yet cannot hold the others back for long.
pub(crate) fn loops(g: &Gen<'_>) -> Vec<TokenStream> {
    let all: Vec<(NodeIndex, &SourceOp)> = sources(g).collect();
    if let [(n, s)] = all.as_slice() {
        return vec![sequential(g, *n, s)];
    }
    vec![interleaved(g, &all)]
}

/// What reading one source takes: opening it (and its watermark generator), the code that
/// reads and delivers one record (`end` runs at the end of the input), and the methods
/// that take its watermark.
struct SourceCode {
    generator: TokenStream,
    open: TokenStream,
    next: TokenStream,
    watermark: Ident,
    timed: bool,
}

/// One source read to its end.
fn sequential(g: &Gen<'_>, n: NodeIndex, s: &SourceOp) -> TokenStream {
    let SourceCode {
        generator,
        open,
        next,
        watermark,
        ..
    } = source_code(g, n, s, &quote!({ break }), &quote!(continue), Pass::Read);
    let start = if g.reads_event_time_slices() {
        slice_start(n, s, &watermark)
    } else {
        quote!()
    };
    // In the read loop, `src` is a `&mut` to the source.
    let (parts, in_loop) = if s.event_time.is_some() {
        (
            vec![quote!(&mut src), quote!(&mut generator)],
            vec![quote!(&mut *src), quote!(&mut generator)],
        )
    } else {
        (vec![quote!(&mut src)], vec![quote!(&mut *src)])
    };
    let (restore, _, stop) = checkpoint_code(g, &parts, &quote!(&mut job));
    let (_, take, _) = checkpoint_code(g, &in_loop, &quote!(job));
    // While a live input is quiet no record reaches `take`: the live page's figures are
    // published there instead.
    let publish = quote!(checkpoints.publish(job, &mut [#(#in_loop),*]););
    let warning = seconds_warning(s, &quote!(generator));
    quote! {
        {
            #generator
            #start
            #open
            #restore
            weir_runtime::read_to_end!(job, src, { #publish }, {
                #take
                #next
            });
            #stop
            #warning
            src.finish(ctx)?;
            job.#watermark(0, weir_runtime::time::MAX_WATERMARK)?;
        }
    }
}

/// Where a worker's watermark starts when every worker reads a slice of the one
/// event-time source (`InputSplit::EventTimeSlices`): at the largest event time of the
/// slices before its own, where one worker reading every slice in order would have it.
/// Every worker first scans its piece of each slice but the last for its largest valid
/// event time (records that do not decode count for nothing, as they do when read) and
/// tells the other workers; the same scans check the cuts between slices
/// (`runtime/src/parallel/slice_scan.rs`).
fn slice_start(n: NodeIndex, s: &SourceOp, watermark: &Ident) -> TokenStream {
    let (name, spec) = (&s.name, input_spec(s));
    let scan = crate::codegen::names::slice_scan(n);
    quote! {
        let input = ctx.input(#name, #spec);
        let before = weir_runtime::parallel::start_after_earlier_slices(&mut job, ctx, &input, #scan)?;
        if let ::core::option::Option::Some(wm) = generator.on_event(before, 0) {
            job.#watermark(0, wm)?;
        }
    }
}


/// The slice scans of [`slice_start`], each a function of its own and never inlined: a
/// second copy of the source's reading loop inside `run` cost the single-worker path 15%
/// (`run`'s main loop lost registers and inlining to it).
fn slice_scans(g: &Gen<'_>) -> Vec<TokenStream> {
    if !g.reads_event_time_slices() {
        return Vec::new();
    }
    sources(g)
        .map(|(n, s)| {
            let SourceCode { open, next, .. } =
                source_code(g, n, s, &quote!({ break }), &quote!(continue), Pass::Scan);
            let f = crate::codegen::names::slice_scan(n);
            quote! {
                #[inline(never)]
                #[allow(unused_variables)]
                fn #f(
                    job: &WeirJob,
                    ctx: &weir_runtime::JobContext,
                ) -> ::core::result::Result<weir_runtime::parallel::PieceScan, weir_runtime::JobError> {
                    #open
                    let mut slice_max = i64::MIN;
                    loop {
                        #next
                    }
                    ::core::result::Result::Ok(src.scanned(slice_max))
                }
            }
        })
        .collect()
}

/// Every source open at once, read in batches from the one with the lowest watermark.
fn interleaved(g: &Gen<'_>, all: &[(NodeIndex, &SourceOp)]) -> TokenStream {
    let mut opens = Vec::new();
    let mut lows = Vec::new();
    let mut arms = Vec::new();
    // Every source, then its watermark generator if it has one, for the checkpoints.
    let parts: Vec<TokenStream> = all
        .iter()
        .enumerate()
        .flat_map(|(i, (_, s))| {
            let (src, generator) = crate::codegen::names::interleaved_source(i);
            let mut part = vec![quote!(&mut #src)];
            if s.event_time.is_some() {
                part.push(quote!(&mut #generator));
            }
            part
        })
        .collect();
    let (restore, take, stop) = checkpoint_code(g, &parts, &quote!(&mut job));
    for (i, (n, s)) in all.iter().enumerate() {
        // A quiet live input ends its turn: the loop picks again (another source, once this
        // one is idle).
        let code = source_code(
            g,
            *n,
            s,
            &quote!({ ended = true; break; }),
            &quote!(continue),
            Pass::Read,
        );
        let (src, generator) = crate::codegen::names::interleaved_source(i);
        let warning = seconds_warning(s, &quote!(#generator));
        let (make_generator, open, next, watermark) =
            (code.generator, code.open, code.next, code.watermark);
        opens.push(quote! {
            #make_generator
            #open
            let mut #src = ::core::option::Option::Some(src);
        });
        let idle = s.event_time.as_ref().is_some_and(|e| e.idle.is_some());
        let (current, bind) = if code.timed {
            opens.push(quote!(let mut #generator = generator;));
            // An idle source is left out of the combined watermark; it is read last, so a
            // quiet live input does not keep the others waiting.
            let current = if idle {
                quote!(if #generator.is_idle(job.clock.now()) { i64::MAX } else { #generator.current() })
            } else {
                quote!(#generator.current())
            };
            (current, quote!(let generator = &mut #generator;))
        } else {
            (quote!(i64::MIN), quote!())
        };
        lows.push(quote!(pick.offer(#i, #src.is_some(), || #current);));
        arms.push(quote! {
            ::core::option::Option::Some(#i) => {
                let mut ended = false;
                {
                    let src = #src.as_mut().expect("an open source");
                    #bind
                    weir_runtime::read_batch!(job, src, #BATCH, {
                        #next
                    });
                }
                if ended {
                    #stop
                    #warning
                    #src.take().expect("an open source").finish(ctx)?;
                    job.#watermark(0, weir_runtime::time::MAX_WATERMARK)?;
                }
            }
        });
    }
    quote! {
        {
            #(#opens)*
            #restore
            loop {
                #take
                let mut pick = weir_runtime::job::SourcePick::new();
                #(#lows)*
                match pick.chosen() {
                    ::core::option::Option::None => break,
                    #(#arms)*
                    ::core::option::Option::Some(_) => unreachable!("a source index"),
                }
            }
        }
    }
}

/// The code that restores the sources' `parts` (`&mut` to each source, then to its
/// watermark generator) from the checkpoint a run resumes from; that takes a checkpoint
/// of `job` and them when one is due (between two records); and that, where a source has
/// ended, stops the run at a last checkpoint if its followed inputs were stopped
/// (`Checkpoints::stopped`): `run` then returns nothing, an inline job's worker what it
/// collected so far.
fn checkpoint_code(
    g: &Gen<'_>,
    parts: &[TokenStream],
    job: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    let stopped = match g.plan.rust {
        Some(_) => crate::ops::sink::collected(g).0,
        None => quote!(()),
    };
    (
        quote!(checkpoints.restore_sources(&mut [#(#parts),*])?;),
        quote! {
            if checkpoints.due() {
                checkpoints.take(#job, &mut [#(#parts),*])?;
            }
        },
        quote! {
            if checkpoints.stopped(ctx, #job, &mut [#(#parts),*])? {
                return ::core::result::Result::Ok(#stopped);
            }
        },
    )
}

/// The watermark generator of source `s` (node `n`), and the code that hands one decoded
/// `record` to its chain: with event time, its timestamp is checked and the source's
/// watermark follows each record that moves it.
fn delivery(
    g: &Gen<'_>,
    n: NodeIndex,
    s: &SourceOp,
    skip: &TokenStream,
) -> (TokenStream, TokenStream, Ident) {
    let node = &g.plan.graph[n];
    let chain_id = node.chain.expect("the chaining pass ran");
    let chain = chain_input(chain_id, 0);
    let watermark = chain_watermark(chain_id);
    let (generator, deliver) = match &s.event_time {
        None => (
            quote!(),
            quote! {
                job.#chain(record, i64::MIN).map_err(|e| src.locate(e))?;
                weir_runtime::job::pump_if_full(job)?;
            },
        ),
        Some(et) => {
            let timestamp = checked_event_time(g, n, s, et);
            let strategy = match et.watermark {
                WatermarkSpec::Bounded(ms) => {
                    quote!(weir_runtime::time::WatermarkStrategy::Bounded(#ms))
                }
                WatermarkSpec::Ascending => {
                    quote!(weir_runtime::time::WatermarkStrategy::Ascending)
                }
            };
            let (idle, now) = match et.idle {
                Some(ms) => (
                    quote!(::core::option::Option::Some(#ms)),
                    quote!(job.clock.now()),
                ),
                None => (quote!(::core::option::Option::None), quote!(0)),
            };
            (
                quote!(let mut generator = weir_runtime::time::WatermarkGenerator::new(#strategy, #idle, job.clock.now());),
                // A record outside the valid event times is a bad record of the source.
                quote! {
                    let ts = match #timestamp {
                        ::core::result::Result::Ok(ts) => ts,
                        ::core::result::Result::Err(e) => {
                            src.reject_message(&e)?;
                            #skip;
                        }
                    };
                    job.#chain(record, ts).map_err(|e| src.locate(e))?;
                    if let ::core::option::Option::Some(wm) = generator.on_event(ts, #now) {
                        job.#watermark(0, wm)?;
                    }
                    weir_runtime::job::pump_if_full(job)?;
                },
            )
        }
    };
    (generator, deliver, watermark)
}

/// The event time of a decoded `record` of source node `n`, checked: `Ok` in
/// milliseconds, or why it is no valid event time. A `.pipe` source's timestamp fields are
/// in milliseconds once decoded; an inline source's event time is the closure's value, in
/// the source's `time_unit`.
fn checked_event_time(g: &Gen<'_>, n: NodeIndex, s: &SourceOp, et: &EventTime) -> TokenStream {
    match &et.rust {
        Some(r) if !s.time_unit.is_milliseconds() => {
            let f = ident(&r.field_name());
            let unit = time_unit(s.time_unit);
            quote!(weir_runtime::time::valid_timestamp_in((job.#f)(&record), #unit))
        }
        Some(r) => {
            let f = ident(&r.field_name());
            quote!(weir_runtime::time::valid_timestamp((job.#f)(&record)))
        }
        None => {
            let field = field_ident(&g.plan.graph[n].schema.fields[et.field].name);
            quote!(weir_runtime::time::valid_timestamp(record.#field))
        }
    }
}

/// What a decoded JSON `record` goes through before `deliver`: its `timestamp` fields
/// from the source's `time_unit` to milliseconds (a value past the range is a bad
/// record). Nothing in milliseconds, or for Rust records (whose event time is converted).
fn json_in_milliseconds(
    s: &SourceOp,
    fields: &[crate::ir::Field],
    rust: bool,
    deliver: &TokenStream,
) -> TokenStream {
    let stamps: Vec<&crate::ir::Field> = fields.iter().filter(|f| f.ty == Type::Timestamp).collect();
    if s.time_unit.is_milliseconds() || rust || stamps.is_empty() {
        return deliver.clone();
    }
    let unit = time_unit(s.time_unit);
    let converts = stamps.iter().map(|f| {
        let (id, name) = (field_ident(&f.name), &f.name);
        quote!(record.#id = #unit.read(record.#id, #name)?;)
    });
    let names = stamps.iter().map(|f| f.name.as_str());
    quote! {
        let mut record = record;
        // Text was read as milliseconds: in another unit only numbers are taken.
        let converted = match weir_runtime::io::json_timestamp::text_in(line, &[#(#names),*]) {
            ::core::option::Option::Some(why) => ::core::result::Result::Err(weir_runtime::io::FieldError::other(why)),
            ::core::option::Option::None => (|| -> ::core::result::Result<(), weir_runtime::io::FieldError> {
                #(#converts)*
                ::core::result::Result::Ok(())
            })(),
        };
        match converted {
            ::core::result::Result::Ok(()) => { #deliver }
            ::core::result::Result::Err(e) => src.reject(&e.message)?,
        }
    }
}

/// `weir_runtime::time::TimeUnit::Seconds` and so on.
pub(crate) fn time_unit(unit: crate::ir::TimeUnit) -> TokenStream {
    let variant = ident(&unit.runtime_variant());
    quote!(weir_runtime::time::TimeUnit::#variant)
}

/// Where a source that read event times in milliseconds warns, at its end, when they all
/// fall before 1973 (most likely seconds); nothing for a source given its unit.
fn seconds_warning(s: &SourceOp, generator: &TokenStream) -> TokenStream {
    let Some(et) = &s.event_time else {
        return quote!();
    };
    if !s.time_unit.is_milliseconds() {
        return quote!();
    }
    let what = match et.rust {
        Some(_) => format!("event_time `{}`", et.field_name),
        None => format!("column `{}`", et.field_name),
    };
    let name = &s.name;
    quote!(weir_runtime::time::warn_if_seconds(ctx, #generator.largest(), #name, #what);)
}

/// The `InputSpec` source `s` reads unless `--input` says otherwise.
fn input_spec(s: &SourceOp) -> TokenStream {
    match &s.input {
        InputLocation::Path(p) if s.follow => {
            quote!(weir_runtime::io::InputSpec::Follow(#p.to_string()))
        }
        InputLocation::Path(p) => quote!(weir_runtime::io::InputSpec::File(#p.to_string())),
        InputLocation::Stdin | InputLocation::Program | InputLocation::Generated => {
            quote!(weir_runtime::io::InputSpec::Stdin)
        }
    }
}

/// Why a source is read: for its records, or only for the largest event time among them
/// (`slice_start`), with bad records passed over without a word (the read that follows
/// meets them under the source's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Read,
    Scan,
}

/// What reading source `s` (node `n`) takes; `end` runs at the end of its input, `skip`
/// passes over a record (a bad one). Waking up for quiet live input is the driver's
/// (`weir_runtime::job::read_to_end`); a scan reads files only.
fn source_code(
    g: &Gen<'_>,
    n: NodeIndex,
    s: &SourceOp,
    end: &TokenStream,
    skip: &TokenStream,
    pass: Pass,
) -> SourceCode {
    let node = &g.plan.graph[n];
    let (generator, mut deliver, watermark) = delivery(g, n, s, skip);
    let name = &s.name;
    let spec = input_spec(s);
    let policy = match (&s.on_error, pass) {
        (_, Pass::Scan) | (OnError::Skip, _) => quote!(weir_runtime::io::BadRecordPolicy::Skip),
        (OnError::Fail, _) => quote!(weir_runtime::io::BadRecordPolicy::Fail),
        (OnError::DeadLetter(p), _) => {
            quote!(weir_runtime::io::BadRecordPolicy::DeadLetter(#p.to_string()))
        }
    };
    if let (Pass::Scan, Some(et)) = (pass, &s.event_time) {
        let timestamp = checked_event_time(g, n, s, et);
        deliver = quote! {
            if let ::core::result::Result::Ok(ts) = #timestamp {
                slice_max = slice_max.max(ts);
            }
        };
    }
    let fields = &node.schema.fields;
    let rust = node.schema.rust.is_some();
    let ty = g.record_type(&node.schema);
    let (open, next) = match &s.format {
        SourceFormat::Iter(_) => {
            // Named by node: several iterator sources are open at once when interleaved.
            let (items, local) = (source_var(n), crate::codegen::names::iter_items(n));
            (
                quote! {
                    let mut src = weir_runtime::io::IterSource::open(ctx, #name, #policy)?;
                    let mut #local = #items;
                },
                // `None` on every worker but the first: the iterator is the calling thread's.
                quote! {
                    let ::core::option::Option::Some(record) = #local.as_mut().and_then(::core::iter::Iterator::next) else #end;
                    if !src.next_item() {
                        #skip;
                    }
                    #deliver
                },
            )
        }
        SourceFormat::Nexmark(stream) => nexmark::read(g, n, stream, name, end, &deliver),
        SourceFormat::Text => {
            let record = if rust {
                quote!(line.to_owned())
            } else {
                let name = g.records.name(fields);
                let f = field_ident(&fields[0].name);
                quote!(#name { #f: ::std::borrow::Cow::Borrowed(line) })
            };
            (
                quote!(let mut src = weir_runtime::io::LineSource::open(ctx, #name, #spec, #policy, false)?;),
                quote! {
                    let ::core::option::Option::Some(line) = src.next_line()? else #end;
                    let record: #ty = #record;
                    #deliver
                },
            )
        }
        SourceFormat::Jsonl => {
            let decoded = json_in_milliseconds(s, fields, rust, &deliver);
            (
                quote!(let mut src = weir_runtime::io::LineSource::open(ctx, #name, #spec, #policy, true)?;),
                quote! {
                    let ::core::option::Option::Some(line) = src.next_line()? else #end;
                    match weir_runtime::io::decode_json::<#ty>(line) {
                        ::core::result::Result::Ok(record) => { #decoded }
                        ::core::result::Result::Err(e) => src.reject(&e)?,
                    }
                },
            )
        }
        SourceFormat::Csv { header, delimiter } => {
            // Rust records name their columns and decode themselves (`weir::Record`).
            let (names, decode) = if rust {
                (
                    quote!(<#ty as weir_runtime::Record>::FIELDS),
                    quote!(<#ty as weir_runtime::Record>::from_csv),
                )
            } else {
                let names = fields.iter().map(|f| f.name.as_str());
                let decode = decoder(n);
                (quote!(&[#(#names),*]), quote!(#decode))
            };
            // A scan for the largest event time passes over the rows whose event time is
            // no later than the largest so far without decoding them.
            let next_record = match (&s.event_time, pass) {
                // The skim compares the column's raw value: in milliseconds only.
                (Some(et), Pass::Scan)
                    if et.rust.is_none() && !rust && s.time_unit.is_milliseconds() =>
                {
                    let field = et.field;
                    quote!(next_record_later_than(#field, slice_max))
                }
                _ => quote!(next_record()),
            };
            (
                quote!(let mut src = weir_runtime::io::CsvSource::open(ctx, #name, #spec, #policy, #header, #delimiter, #names)?;),
                quote! {
                    let ::core::option::Option::Some(row) = src.#next_record? else #end;
                    match #decode(&row) {
                        ::core::result::Result::Ok(record) => { #deliver }
                        ::core::result::Result::Err(e) => src.reject(e)?,
                    }
                },
            )
        }
    };
    SourceCode {
        timed: s.event_time.is_some(),
        generator,
        open,
        next,
        watermark,
    }
}
