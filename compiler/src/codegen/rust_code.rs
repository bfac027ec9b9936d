//! What generated code does with an inline pipeline's Rust code: calls its closures, names
//! the types rustc infers, and makes the job generic over both.
//!
//! The job struct of an inline pipeline has a type parameter per closure (`F3`) and per
//! inferred type (`R0`, `K2`, `A4`). Its `impl` states what each closure must be
//! (`F3: FnMut(&R0) -> bool`), so rustc infers the record types from the closures and
//! reports a closure of the wrong shape at the closure itself.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::{rust_tokens, source_var, Gen};
use super::names::ident;
use crate::ir::{RustFn, SourceFormat};
use crate::ops::{sink, source};

impl Gen<'_> {
    /// Every closure of the plan (not the `iter(...)` expressions), in id order, each once:
    /// a keyed stream used by two operators gives both its key closure.
    pub(crate) fn closures(&self) -> Vec<&RustFn> {
        let mut all: Vec<&RustFn> = self
            .plan
            .graph
            .node_weights()
            .flat_map(|n| n.op.def().closures())
            .collect();
        all.sort_by_key(|r| r.id);
        all.dedup_by_key(|r| r.id);
        all
    }

    /// `<R0, K2, F3, ...>`: the job's type parameters (empty for a `.pipe` job).
    pub(crate) fn generics(&self) -> TokenStream {
        let Some(rust) = &self.plan.rust else {
            return quote!();
        };
        let params = rust.generic_params().map(|p| ident(&p.to_string()));
        let closures = self.closures().into_iter().map(|r| ident(&r.type_param()));
        quote!(<#(#params,)* #(#closures,)*>)
    }

    /// The `where` clause of the job's `impl`: each closure's signature, then the bounds
    /// the front-end asked for.
    pub(crate) fn where_clause(&self) -> TokenStream {
        let Some(rust) = &self.plan.rust else {
            return quote!();
        };
        let signatures = self.closures().into_iter().map(|r| {
            let f = ident(&r.type_param());
            let inputs = r.inputs.iter().flatten().map(|t| self.rust_type(t));
            let output = self.rust_type(&r.output);
            quote!(#f: ::core::ops::FnMut(#(#inputs),*) -> #output)
        });
        let bounds = rust.bounds.iter().map(|(ty, bound, span)| {
            let ty = self.rust_type(ty);
            quote::quote_spanned!(*span=> #ty: #bound)
        });
        let trait_bounds = rust.trait_bounds.iter().map(|(ty, bound, span)| {
            let (ty, bound) = (self.rust_type(ty), self.rust_type(bound));
            quote::quote_spanned!(*span=> #ty: #bound)
        });
        quote!(where #(#signatures,)* #(#bounds,)* #(#trait_bounds,)*)
    }

    /// The job's fields holding the closures and marking the inferred types.
    pub(crate) fn closure_fields(&self) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let Some(rust) = &self.plan.rust else {
            return (Vec::new(), Vec::new());
        };
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        for r in self.closures() {
            let (f, t) = (ident(&r.field_name()), ident(&r.type_param()));
            fields.push(quote!(#f: #t));
            inits.push(quote!(#f));
        }
        let params = rust.generic_params().map(|p| ident(&p.to_string()));
        fields.push(quote!(types: ::core::marker::PhantomData<fn() -> (#(#params,)*)>));
        inits.push(quote!(types: ::core::marker::PhantomData));
        (fields, inits)
    }

    /// The parameters of an inline job's `new`: a type witness per source (so that rustc
    /// knows each source's record type before it reads the closures), then the closures.
    pub(crate) fn new_params(&self) -> TokenStream {
        if self.plan.rust.is_none() {
            return quote!();
        }
        let witnesses = source::sources(self).map(|(n, _)| {
            let w = ident(&format!("source_{}", n.index()));
            let t = self.record_type(&self.plan.graph[n].schema);
            quote!(#w: ::core::marker::PhantomData<#t>)
        });
        let closures = self.closures().into_iter().map(|r| {
            let (f, t) = (ident(&r.field_name()), ident(&r.type_param()));
            quote!(#f: #t)
        });
        quote!(#(, #witnesses)* #(, #closures)*)
    }

    /// The arguments `new` is called with: the witnesses, and the user's closures as the
    /// guards bound them.
    pub(crate) fn new_args(&self) -> TokenStream {
        if self.plan.rust.is_none() {
            return quote!();
        }
        let witnesses = source::sources(self).map(|_| quote!(::core::marker::PhantomData));
        let closures = self.closures().into_iter().map(|r| ident(&r.field_name()));
        quote!(#(, #witnesses)* #(, #closures)*)
    }
}

impl Gen<'_> {
    /// The block `stream!` expands to: the job's items; `weir_worker`, which builds one
    /// worker's job with the user's closures, reads the sources and returns what its
    /// `collect()` sinks gathered; `WeirBody`, which holds the closures and iterators and
    /// runs the job on one worker (`InlineBody`) or several (`ParallelBody`); and an
    /// `InlineJob` of it. The iterators of `iter(...)` sources are taken where the macro
    /// is, so they may borrow the user's locals; on several workers, the first (the
    /// calling thread) reads them.
    pub(crate) fn inline_expansion(&self) -> TokenStream {
        let rust = self.plan.rust.as_ref().expect("an inline plan");
        let runtime = rust_tokens(&rust.runtime);
        let job = self.job_items();
        // What a checkpoint's state depends on: the job's fields and code (the closures'
        // bodies are the program's, and may change between runs).
        let spec = self.spec(&super::fingerprint([job.to_string()].into_iter()));
        let iterators = source::sources(self).filter_map(|(n, s)| match &s.format {
            SourceFormat::Iter(r) => {
                let (var, expr) = (source_var(n), &rust.code[r.id]);
                Some(quote!(let #var = ::core::iter::IntoIterator::into_iter(#expr);))
            }
            _ => None,
        });
        let guards = &rust.guards;
        let body = BodyParts::new(self);
        let worker = self.worker_fn(&body);
        let body_items = self.body_items(&body);
        let BodyParts {
            closures, sources, ..
        } = &body;
        let witnesses = source::sources(self).map(|_| quote!(::core::marker::PhantomData));
        quote! {
            {
                use #runtime as weir_runtime;

                #job

                #spec

                #worker

                #body_items

                #(#iterators)*

                #(#guards)*

                weir_runtime::InlineJob::new(
                    &SPEC,
                    WeirBody::new(#(#witnesses,)* #(#closures,)* #(#sources,)*),
                )
            }
        }
    }

    /// `weir_worker`: one worker's run of the job, given its exchange (`None` on one
    /// worker), the method setting the exchanges' layouts, its codec (when the program
    /// asked for checkpoints), its iterators (`None` on all workers but the first) and its
    /// own copy of the closures. As a `.pipe` job's `run`, it opens the checkpoints before
    /// it makes the job (sinks open the parts a resumed run keeps) and restores the job
    /// right after.
    fn worker_fn(&self, b: &BodyParts) -> TokenStream {
        let BodyParts {
            generics,
            where_clause,
            closures,
            closure_types,
            sources,
            source_types,
            output,
            ..
        } = b;
        let job_generics = self.generics();
        let args = self.new_args();
        let loops = source::loops(self);
        let (collected, _) = sink::collected(self);
        quote! {
            #[allow(clippy::too_many_arguments, non_snake_case, unused_mut)]
            fn weir_worker #generics (
                ctx: &mut weir_runtime::JobContext,
                exchange: ::core::option::Option<weir_runtime::parallel::Exchange>,
                layouts: fn(&mut WeirJob #job_generics),
                codec: ::core::option::Option<weir_runtime::checkpoint::JobCodec<WeirJob #job_generics>>,
                #(#sources: ::core::option::Option<#source_types>,)*
                #(#closures: #closure_types,)*
            ) -> ::core::result::Result<#output, weir_runtime::JobError> #where_clause {
                let mut checkpoints = weir_runtime::checkpoint::Checkpoints::open(ctx, &SPEC)?;
                let mut job = WeirJob::new(ctx #args)?;
                layouts(&mut job);
                job.weir_codec = codec;
                weir_runtime::job::attach(&mut job, ctx, exchange)?;
                checkpoints.restore_job(&mut job)?;
                #(#loops)*
                weir_runtime::job::end_of_input_with(&mut job, ctx, &mut checkpoints)?;
                ::core::result::Result::Ok(#collected)
            }
        }
    }

    /// `WeirBody`, its constructor (whose signature lets rustc infer every type of the
    /// pipeline), and how it runs on one worker and on several. Running on several asks
    /// more of the pipeline, so those bounds are higher-ranked: rustc checks them only
    /// where a program asks for workers, and a program that does not may keep closures
    /// that are neither `Clone` nor `Send`.
    fn body_items(&self, b: &BodyParts) -> TokenStream {
        let BodyParts {
            generics,
            where_clause,
            params,
            closures,
            closure_types,
            sources,
            source_types,
            output,
        } = b;
        let job_generics = self.generics();
        let witnesses = source::sources(self).map(|(n, _)| {
            let w = ident(&format!("source_{}", n.index()));
            let t = self.record_type(&self.plan.graph[n].schema);
            quote!(#w: ::core::marker::PhantomData<#t>)
        });
        let exchanged = self.exchanged_bounds();
        let checkpointed = self.checkpointed_body(generics, where_clause);
        quote! {
            /// The pipeline's closures and iterators, not yet run.
            #[allow(non_snake_case)]
            struct WeirBody #generics {
                #(#closures: #closure_types,)*
                #(#sources: #source_types,)*
                types: ::core::marker::PhantomData<fn() -> (#(#params,)*)>,
            }

            #[allow(clippy::all)]
            impl #generics WeirBody #generics #where_clause {
                #[allow(clippy::too_many_arguments)]
                fn new(#(#witnesses,)* #(#closures: #closure_types,)* #(#sources: #source_types,)*) -> Self {
                    WeirBody { #(#closures,)* #(#sources,)* types: ::core::marker::PhantomData }
                }
            }

            #[allow(clippy::all)]
            impl #generics weir_runtime::InlineBody for WeirBody #generics #where_clause {
                type Output = #output;
                type Job = WeirJob #job_generics;

                fn run(
                    self,
                    ctx: &mut weir_runtime::JobContext,
                    codec: ::core::option::Option<weir_runtime::checkpoint::JobCodec<WeirJob #job_generics>>,
                ) -> ::core::result::Result<#output, weir_runtime::JobError> {
                    let WeirBody { #(#closures,)* #(#sources,)* .. } = self;
                    weir_worker(ctx, ::core::option::Option::None, |_| {}, codec, #(::core::option::Option::Some(#sources),)* #(#closures,)*)
                }
            }

            #checkpointed

            #[allow(clippy::all)]
            impl #generics weir_runtime::ParallelBody for WeirBody #generics #where_clause
                #(for<'weir> #closure_types: ::core::clone::Clone + ::core::marker::Send,)*
                #(#exchanged,)*
                for<'weir> #output: ::core::marker::Send,
            {
                fn run_workers(
                    self,
                    ctx: &mut weir_runtime::JobContext,
                    travel: ::core::option::Option<weir_runtime::parallel::Travel<#output>>,
                    codec: ::core::option::Option<weir_runtime::checkpoint::JobCodec<WeirJob #job_generics>>,
                ) -> ::core::result::Result<#output, weir_runtime::JobError> {
                    let WeirBody { #(#closures,)* #(#sources,)* .. } = self;
                    let others: ::std::vec::Vec<_> = (1..ctx.args().cluster.threads)
                        .map(|_| {
                            #(let #closures = ::core::clone::Clone::clone(&#closures);)*
                            move |ctx: &mut weir_runtime::JobContext, exchange: ::core::option::Option<weir_runtime::parallel::Exchange>| {
                                weir_worker(ctx, exchange, WeirJob:: #job_generics ::weir_layouts, codec, #(::core::option::Option::None::<#source_types>,)* #(#closures,)*)
                            }
                        })
                        .collect();
                    // In a cluster, only the first process reads the iterators.
                    let reads = ctx.args().cluster.process == 0;
                    let lead = move |ctx: &mut weir_runtime::JobContext, exchange: ::core::option::Option<weir_runtime::parallel::Exchange>| {
                        weir_worker(ctx, exchange, WeirJob:: #job_generics ::weir_layouts, codec, #(reads.then_some(#sources),)* #(#closures,)*)
                    };
                    let parts = weir_runtime::parallel::run_workers_with(ctx, &SPEC, lead, others, travel)?;
                    ::core::result::Result::Ok(<#output as weir_runtime::Collected>::gather(parts))
                }
            }
        }
    }
}

/// The pieces of `WeirBody` and `weir_worker` that name the pipeline's types: the
/// inferred types, the closures, the iterators of `iter(...)` sources, and the collected
/// output.
struct BodyParts {
    /// `<R0, .., F0, .., S3, ..>`.
    generics: TokenStream,
    /// The job's `where` clause and each iterator's item type.
    where_clause: TokenStream,
    params: Vec<Ident>,
    closures: Vec<Ident>,
    closure_types: Vec<Ident>,
    sources: Vec<Ident>,
    source_types: Vec<Ident>,
    output: TokenStream,
}

impl BodyParts {
    fn new(g: &Gen<'_>) -> Self {
        let rust = g.plan.rust.as_ref().expect("an inline plan");
        let params: Vec<Ident> = rust
            .generic_params()
            .map(|p| ident(&p.to_string()))
            .collect();
        let (closures, closure_types): (Vec<Ident>, Vec<Ident>) = g
            .closures()
            .into_iter()
            .map(|r| (ident(&r.field_name()), ident(&r.type_param())))
            .unzip();
        let mut sources = Vec::new();
        let mut source_types = Vec::new();
        let mut items = Vec::new();
        for (n, s) in source::sources(g) {
            if let SourceFormat::Iter(_) = s.format {
                sources.push(source_var(n));
                source_types.push(ident(&format!("S{}", n.index())));
                items.push(g.record_type(&g.plan.graph[n].schema));
            }
        }
        let job_where = g.where_clause();
        let where_clause = quote! {
            #job_where #(#source_types: ::core::iter::Iterator<Item = #items>,)*
        };
        let (_, output) = sink::collected(g);
        BodyParts {
            generics: quote!(<#(#params,)* #(#closure_types,)* #(#source_types,)*>),
            where_clause,
            params,
            closures,
            closure_types,
            sources,
            source_types,
            output,
        }
    }
}
