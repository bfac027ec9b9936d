//! The loops of `run` that read the sources to their end: one source in a plain loop,
//! several interleaved by event time; on several workers, where an event-time slice's
//! watermark starts (the scans of the slices before it); and the checkpoints taken
//! between records.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::reading::{input_spec, source_code, Pass, SourceCode};
use super::{sources, SourceOp};
use crate::codegen::context::Gen;

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
pub(super) fn slice_scans(g: &Gen<'_>) -> Vec<TokenStream> {
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
