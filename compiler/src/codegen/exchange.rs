//! Exchanges: what a `.pipe` job does at its hash edges when it runs on several workers.
//!
//! Every hash edge is an exchange, numbered in edge order. Where a chain calls the next
//! chain over one, the generated code asks whether the job has an exchange (it has one
//! when run with `--parallelism` above 1): if not, the call is made as before; if so, the
//! record is written in the row layout and queued for the worker owning its key group
//! (`weir_runtime::parallel::Outbox`). The receiving worker decodes it and calls the same
//! chain method (`receive`). Watermarks take the same turn (`receive_watermark` gets the
//! least over the sending workers). At the end, `finish_step` runs one node's end-of-input
//! code, and `finish_plan` says which exchanges must have ended first and which end after.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::Gen;
use super::keys::{decode_fields, encode_fields};
use super::names::{chain_input, chain_watermark, field_ident, ident};
use crate::ir::{Crossing, KeySpec, Schema};

fn row_builder(id: usize) -> Ident {
    ident(&format!("x{id}_row"))
}

fn key_builder(id: usize) -> Ident {
    ident(&format!("x{id}_key"))
}

use super::names::send_method;

/// The field holding exchange `id`'s `encode` or `decode` function (inline pipelines).
fn layout_field(id: usize, which: &str) -> Ident {
    ident(&format!("x{id}_{which}"))
}

fn combiner_field(id: usize) -> Ident {
    ident(&format!("x{id}_combine"))
}

impl Gen<'_> {
    /// The job's fields for its exchanges: the exchange itself and a row and key builder
    /// per edge.
    pub(crate) fn exchange_fields(&self) -> Vec<(TokenStream, TokenStream)> {
        let mut fields = vec![(
            quote!(exchange: ::core::option::Option<weir_runtime::parallel::Exchange>),
            quote!(exchange: ::core::option::Option::None),
        )];
        for id in 0..self.exchanges.len() {
            if self.time_ordered() == Some(id) {
                continue;
            }
            for b in [row_builder(id), key_builder(id)] {
                fields.push((
                    quote!(#b: weir_runtime::layout::RecordBuilder),
                    quote!(#b: weir_runtime::layout::RecordBuilder::new()),
                ));
            }
            if let Some(ty) = self.exchanged_type(id) {
                let (encode, decode) = (layout_field(id, "encode"), layout_field(id, "decode"));
                fields.push((
                    quote!(#encode: ::core::option::Option<fn(&#ty, &mut weir_runtime::layout::RecordBuilder)>),
                    quote!(#encode: ::core::option::Option::None),
                ));
                fields.push((
                    quote!(#decode: ::core::option::Option<fn(&[u8]) -> #ty>),
                    quote!(#decode: ::core::option::Option::None),
                ));
            }
            if let Some(code) = self.combiner_of(id) {
                let c = combiner_field(id);
                let ty = match code.windows {
                    Some(_) => quote!(weir_runtime::parallel::WindowCombiner),
                    None => quote!(weir_runtime::parallel::Combiner),
                };
                fields.push((
                    quote!(#c: ::core::option::Option<#ty>),
                    quote!(#c: ::core::option::Option::None),
                ));
            }
        }
        fields
    }

    /// `send_x{id}` per exchange: a record written in the row layout and queued for the
    /// worker owning its key, or, with a combiner, folded into this worker's partial
    /// result for its key (counted as received by the node it feeds).
    fn send_methods(&self) -> Vec<TokenStream> {
        self.exchanges
            .iter()
            .enumerate()
            .filter(|&(id, _)| self.time_ordered() != Some(id))
            .map(|(id, x)| {
                let schema = self
                    .plan
                    .input_schema(x.to, x.to_port)
                    .expect("an exchange edge has a schema");
                let rows = row_builder(id);
                let all: Vec<usize> = (0..schema.fields.len()).collect();
                let record = ident("record");
                let key = self.exchange_key(id, &schema, &record);
                let (send, ty) = (send_method(id), self.record_type(&schema));
                let body = match self.combiner_of(id) {
                    Some(c) => {
                        let (args, init, update) = (&c.args, &c.init, &c.update);
                        let field = combiner_field(id);
                        let count = self
                            .record_counters(x.to)
                            .map(|(records_in, _)| quote!(self.#records_in += 1;));
                        let fold = c.windows.map(|w| w.fold).unwrap_or_else(|| {
                            quote! {
                                let acc = c.fold(&mut x.outbox, key, |acc| { #init })?;
                                #update
                            }
                        });
                        quote! {
                            #count
                            #args
                            let key = #key;
                            if let (::core::option::Option::Some(c), ::core::option::Option::Some(x)) =
                                (self.#field.as_mut(), self.exchange.as_mut())
                            {
                                #fold
                            }
                        }
                    }
                    None if schema.rust.is_some() => {
                        let encode = layout_field(id, "encode");
                        quote! {
                            let hash = weir_runtime::parallel::key_hash(#key);
                            let encode = self.#encode.expect("a parallel run sets the layouts of its exchanges");
                            encode(#record, &mut self.#rows);
                            if let ::core::option::Option::Some(x) = self.exchange.as_mut() {
                                x.outbox.row(#id, hash, ts, self.#rows.bytes());
                            }
                        }
                    }
                    None => {
                        let row = encode_fields(&rows, &schema, &all, &record);
                        quote! {
                            let hash = weir_runtime::parallel::key_hash(#key);
                            let row = #row;
                            if let ::core::option::Option::Some(x) = self.exchange.as_mut() {
                                x.outbox.row(#id, hash, ts, row);
                            }
                        }
                    }
                };
                quote! {
                    #[inline(never)]
                    fn #send(&mut self, #record: &#ty, ts: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                        #body
                        ::core::result::Result::Ok(())
                    }
                }
            })
            .collect()
    }

    /// `Pipeline::start_parallel`: each combiner made, with its memory, once the job has
    /// an exchange; `None` when the job makes none.
    pub(crate) fn start_parallel(&self) -> Option<TokenStream> {
        let starts = (0..self.exchanges.len()).filter_map(|id| {
            if self.time_ordered() == Some(id) {
                // No combiner: the worker's own window state is the one that fires, and
                // windows handed over merge after the worker's own records.
                return Some(quote! {
                    if let ::core::option::Option::Some(x) = self.exchange.as_mut() {
                        x.defer_rows(#id);
                    }
                });
            }
            let c = self.combiner_of(id)?;
            let to = self.exchanges[id].to;
            let (field, acc_size) = (combiner_field(id), c.acc_size);
            let node = &self.plan.graph[to];
            let (op, kind, location) = (to.index(), node.op.kind(), &node.location);
            let memory = quote!(ctx.combiner_memory(#op, #kind, #location)?);
            Some(match c.windows {
                Some(w) => {
                    let state = w.state;
                    quote! {
                        let mem = #memory;
                        self.#field = ::core::option::Option::Some(
                            weir_runtime::parallel::WindowCombiner::new(#state, #id),
                        );
                    }
                }
                None => quote! {
                    self.#field = ::core::option::Option::Some(weir_runtime::parallel::Combiner::new(
                        #memory,
                        #acc_size,
                        #id,
                    )?);
                },
            })
        });
        let starts: Vec<TokenStream> = starts.collect();
        (!starts.is_empty()).then(|| {
            quote! {
                fn start_parallel(&mut self, ctx: &mut weir_runtime::JobContext) -> ::core::result::Result<(), weir_runtime::JobError> {
                    #(#starts)*
                    ::core::result::Result::Ok(())
                }
            }
        })
    }

    /// The call of the next chain's watermark method, or, on several workers, the
    /// watermark queued on exchange `id`.
    pub(crate) fn watermark_or_send(&self, id: usize, method: &Ident, port: usize) -> TokenStream {
        if self.time_ordered() == Some(id) {
            // A worker's source ending is the end of its slice, not of event time: the
            // windows still open then are settled by `settle_windows`.
            return quote! {
                if self.exchange.is_none() || wm != weir_runtime::time::MAX_WATERMARK {
                    self.#method(#port, wm)?;
                }
            };
        }
        // Windows held in a combiner that fire at `wm` go out first.
        let flush = self.combiner_of(id).and_then(|c| c.windows).map(|_| {
            let field = combiner_field(id);
            quote! {
                if let ::core::option::Option::Some(c) = self.#field.as_mut() {
                    c.flush_due(&mut x.outbox, wm)?;
                }
            }
        });
        quote! {
            if let ::core::option::Option::Some(x) = self.exchange.as_mut() {
                #flush
                x.outbox.watermark(#id, wm);
            } else {
                self.#method(#port, wm)?;
            }
        }
    }

    /// `impl Exchanging for WeirJob`: receiving rows and watermarks, and the end of input
    /// step by step.
    pub(crate) fn exchanging_impl(&self) -> TokenStream {
        let (receives, watermarks) = self.receive_arms();
        let steps = self.finish_steps();
        let plan = self.finish_plan();
        let release = self.window_release();
        let sends = self.send_methods();
        let (generics, where_clause) = (self.generics(), self.where_clause());
        let layouts = self.layouts_impl();
        let sending = (!sends.is_empty()).then(|| {
            quote! {
                #[allow(clippy::all)]
                impl #generics WeirJob #generics #where_clause {
                    #(#sends)*
                }
            }
        });
        // A job without exchanges receives nothing and waits for nothing at its end: the
        // trait's defaults say so.
        let exchanged = (self.plan.physical().channels() > 0).then(|| {
            quote! {
                fn receive(&mut self, edge: u32, ts: i64, row: &[u8]) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match edge {
                        #(#receives)*
                        _ => unreachable!("the compiler numbers every exchange"),
                    }
                }

                fn receive_watermark(&mut self, edge: u32, wm: i64) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match edge {
                        #(#watermarks)*
                        _ => unreachable!("the compiler numbers every exchange"),
                    }
                }

                fn finish_plan(&self) -> &'static [(&'static [u32], &'static [u32])] {
                    &[#(#plan),*]
                }
            }
        });
        quote! {
            #sending

            #layouts

            #[allow(unused_variables, unreachable_code, clippy::all)]
            impl #generics weir_runtime::parallel::Exchanging for WeirJob #generics #where_clause {
                fn exchange(&mut self) -> ::core::option::Option<&mut weir_runtime::parallel::Exchange> {
                    self.exchange.as_mut()
                }

                fn finish_step(&mut self, step: usize, ctx: &mut weir_runtime::JobContext) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match step {
                        #(#steps)*
                        _ => {}
                    }
                    ::core::result::Result::Ok(())
                }

                #exchanged

                #release
            }
        }
    }

    /// The arms of `receive` (a row decoded and pushed into the chain its exchange feeds, a
    /// combiner's partial results merged, an iteration's rows kept for its round) and of
    /// `receive_watermark`, by exchange.
    fn receive_arms(&self) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let mut receives = Vec::new();
        let mut watermarks = Vec::new();
        for (id, x) in self.exchanges.iter().enumerate() {
            let id = id as u32;
            let chain = self.plan.graph[x.to].chain.expect("chained");
            let method = chain_input(chain, x.to_port);
            let schema = self
                .plan
                .input_schema(x.to, x.to_port)
                .expect("an exchange edge has a schema");
            if schema.rust.is_some() {
                let decode = layout_field(id as usize, "decode");
                receives.push(quote! {
                    #id => {
                        let decode = self.#decode.expect("a parallel run sets the layouts of its exchanges");
                        self.#method(decode(row), ts)
                    }
                });
                let (watermark, port) = (chain_watermark(chain), x.to_port);
                watermarks.push(quote!(#id => self.#watermark(#port, wm),));
                continue;
            }
            let all: Vec<usize> = (0..schema.fields.len()).collect();
            let view = ident("view");
            let name = self.records.name(&schema.fields);
            let inits = schema
                .fields
                .iter()
                .zip(decode_fields(&schema, &all, &view))
                .map(|(f, v)| {
                    let f = field_ident(&f.name);
                    quote!(#f: #v)
                });
            receives.push(match self.combiner_of(id as usize) {
                Some(c) => {
                    let merge = c.merge;
                    quote! {
                        #id => {
                            let (key, partial) = weir_runtime::parallel::partial(row);
                            #merge
                            ::core::result::Result::Ok(())
                        }
                    }
                }
                None => quote! {
                    #id => {
                        let #view = weir_runtime::layout::RecordView::new(row);
                        self.#method(#name { #(#inits,)* }, ts)
                    }
                },
            });
            let watermark = chain_watermark(chain);
            let port = x.to_port;
            watermarks.push(quote!(#id => self.#watermark(#port, wm),));
        }
        for &n in &self.plan.physical().rounds {
            let id = self
                .plan
                .physical()
                .round_channel(n)
                .expect("a round channel") as u32;
            let code = self.code(n).receive_round(self, n);
            receives.push(quote! {
                #id => {
                    #code
                    ::core::result::Result::Ok(())
                }
            });
        }
        (receives, watermarks)
    }

    /// The arms of `finish_step`: each node's end-of-input code, then the partial results
    /// of the combiners it feeds sent.
    fn finish_steps(&self) -> Vec<TokenStream> {
        let steps =
            self.order.iter().enumerate().filter_map(|(step, &n)| {
                let code = self.code(n).finish(self, n);
                // A combiner's partial results go out once the node feeding it is done.
                let flushes = self.exchanges.iter().enumerate().filter(|(id, x)| {
                x.from == n && self.folds_before_crossing(*id)
            }).map(|(id, _)| {
                let field = combiner_field(id);
                quote! {
                    if let (::core::option::Option::Some(c), ::core::option::Option::Some(x)) =
                        (self.#field.as_mut(), self.exchange.as_mut())
                    {
                        c.flush(&mut x.outbox)?;
                    }
                }
            });
                let flushes: Vec<TokenStream> = flushes.collect();
                (!code.is_empty() || !flushes.is_empty())
                    .then(|| quote!(#step => { #code #(#flushes)* }))
            });
        steps.collect()
    }

    /// Per node in order: the exchanges that end before it finishes, and those it ends.
    fn finish_plan(&self) -> Vec<TokenStream> {
        self.order
            .iter()
            .map(|&n| {
                let waits = self
                    .exchanges
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.to == n)
                    .map(|(i, _)| i as u32);
                let ends = self
                    .exchanges
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.from == n)
                    .map(|(i, _)| i as u32);
                quote!((&[#(#waits),*], &[#(#ends),*]))
            })
            .collect()
    }

    /// `hold_windows_through` and `settle_windows`, for windows handed over in time order.
    fn window_release(&self) -> Option<TokenStream> {
        self.time_ordered().and_then(|id| {
            let code = self.combiner_of(id)?.windows?;
            let (hold, settle) = (code.hold, code.settle);
            Some(quote! {
                fn hold_windows_through(&mut self, before: i64) {
                    #hold
                }

                fn settle_windows(&mut self, earlier: ::core::option::Option<usize>) -> ::core::result::Result<(), weir_runtime::JobError> {
                    let id = #id;
                    #settle
                }
            })
        })
    }
}

impl Gen<'_> {
    /// The combiner of exchange `id`, where the physical plan folds records before they
    /// cross it (or fires its window in time order).
    pub(crate) fn combiner_of(&self, id: usize) -> Option<crate::ops::CombinerCode> {
        let x = &self.exchanges[id];
        if x.crossing == Crossing::Records {
            return None;
        }
        let code = self.code(x.to).combiner(self, x.to, &ident("record"));
        assert!(
            code.is_some(),
            "the physical plan folds only into operators with partial results"
        );
        code
    }

    /// Whether records are folded into a combiner before they cross exchange `id`.
    pub(crate) fn folds_before_crossing(&self, id: usize) -> bool {
        self.exchanges[id].folds()
    }

    /// Whether an exchange feeds node `n`.
    pub(crate) fn exchanges_into(&self, n: NodeIndex) -> bool {
        self.exchanges.iter().any(|x| x.to == n)
    }

    /// The Rust type of the records crossing exchange `id`, in an inline pipeline.
    pub(crate) fn exchanged_type(&self, id: usize) -> Option<TokenStream> {
        let x = &self.exchanges[id];
        let schema = self.plan.input_schema(x.to, x.to_port)?;
        schema.rust.as_ref()?;
        Some(self.record_type(&schema))
    }

    /// The expression giving the key bytes of `record` (a reference to a record of
    /// `schema`) that route it over exchange `id`.
    fn exchange_key(&self, id: usize, schema: &Schema, record: &Ident) -> TokenStream {
        let keys = key_builder(id);
        match &self.exchanges[id].key {
            KeySpec::Fields(fields) => encode_fields(&keys, schema, fields, record),
            KeySpec::Rust(r) => {
                let value = self.call(r, quote!(#record));
                quote!(weir_runtime::Layout::encode(&#value, &mut self.#keys))
            }
        }
    }

    /// On several workers of an inline pipeline: the method that sets how the records
    /// crossing each exchange are written and read, in an `impl` of its own, as only a
    /// parallel run asks their types for a [`Layout`](weir_runtime::Layout). The bounds
    /// are higher-ranked so that rustc checks them where the method is called, not where
    /// it is written (a bound on a named type that does not hold would be an error there).
    fn layouts_impl(&self) -> TokenStream {
        if self.plan.rust.is_none() {
            return quote!();
        }
        let (generics, where_clause) = (self.generics(), self.where_clause());
        let mut bounds = Vec::new();
        let mut sets = Vec::new();
        for id in 0..self.exchanges.len() {
            let Some(ty) = self.exchanged_type(id) else {
                continue;
            };
            let (encode, decode) = (layout_field(id, "encode"), layout_field(id, "decode"));
            bounds.push(quote!(for<'weir> #ty: weir_runtime::Layout));
            sets.push(quote! {
                self.#encode = ::core::option::Option::Some(|r: &#ty, out: &mut weir_runtime::layout::RecordBuilder| {
                    weir_runtime::Layout::encode(r, out);
                });
                self.#decode = ::core::option::Option::Some(<#ty as weir_runtime::Layout>::decode);
            });
        }
        quote! {
            #[allow(clippy::all)]
            impl #generics WeirJob #generics #where_clause #(#bounds,)* {
                /// On several workers: how the records crossing each exchange are written
                /// and read.
                fn weir_layouts(&mut self) {
                    #(#sets)*
                }
            }
        }
    }

    /// The fields holding the layouts records of an inline job cross its exchanges in:
    /// set by `weir_layouts` on several workers, so code rather than state.
    pub(crate) fn exchange_layout_fields(&self) -> Vec<Ident> {
        (0..self.exchanges.len())
            .filter(|&id| self.time_ordered() != Some(id) && self.exchanged_type(id).is_some())
            .flat_map(|id| [layout_field(id, "encode"), layout_field(id, "decode")])
            .collect()
    }

    /// The bounds a parallel run puts on the records crossing the exchanges, as
    /// [`Gen::layouts_impl`] writes them.
    pub(crate) fn exchanged_bounds(&self) -> Vec<TokenStream> {
        (0..self.exchanges.len())
            .filter_map(|id| self.exchanged_type(id))
            .map(|ty| quote!(for<'weir> #ty: weir_runtime::Layout))
            .collect()
    }
}
