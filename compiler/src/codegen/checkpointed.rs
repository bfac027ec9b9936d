//! How the generated job is checkpointed: each field of its state in a section of its own
//! (`weir_runtime::checkpointed_fields!`).
//!
//! A `.pipe` job implements `Checkpointed` directly. An inline job's `collect()` sinks
//! hold the program's records, which a checkpoint can hold only if they have a `Layout`,
//! and a program that collects other records must compile as long as it asks for no
//! checkpoints: so its field-by-field functions sit in an `impl` bounded by that, its
//! `Checkpointed` impl calls them through the `JobCodec` the job is handed when the
//! program asks for checkpoints, and `CheckpointedBody` (bounded the same way, checked
//! only where a program asks) hands it over.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::Gen;
use super::names::ident;
use crate::ir::{SinkFormat, SinkOp};

impl Gen<'_> {
    /// The job's field holding its codec, and its initial value: none for a `.pipe` job.
    pub(crate) fn codec_field(&self) -> Option<(TokenStream, TokenStream)> {
        self.plan.rust.as_ref()?;
        let generics = self.generics();
        Some((
            quote!(weir_codec: ::core::option::Option<weir_runtime::checkpoint::JobCodec<WeirJob #generics>>),
            quote!(weir_codec: ::core::option::Option::None),
        ))
    }

    /// How a checkpoint saves and restores the job: each of `fields` (`name: Type`) that
    /// holds state, by its type's `Checkpointed` impl, so a field whose type has none does
    /// not compile. An inline job's closures, type markers, exchange layouts and codec
    /// are code, not state.
    pub(crate) fn checkpointed_impl(&self, fields: &[TokenStream]) -> TokenStream {
        let code: Vec<Ident> = self.code_fields();
        let names: Vec<Ident> = fields
            .iter()
            .filter_map(|f| {
                // `name: Type`, perhaps after attributes (a `#` and a bracketed group).
                f.clone().into_iter().find_map(|t| match t {
                    proc_macro2::TokenTree::Ident(name) => Some(name),
                    _ => None,
                })
            })
            .filter(|name| !code.contains(name))
            .collect();
        if self.plan.rust.is_none() {
            return quote!(weir_runtime::checkpointed_fields!(WeirJob { #(#names),* }););
        }
        let (generics, where_clause) = (self.generics(), self.where_clause());
        // Higher-ranked, as in `checkpointed_body`: a record type the program names (a
        // `jsonl::<T>` source's) may have no layout, and a job that takes no checkpoints
        // must still compile.
        let collected = self.collected_layouts();
        quote! {
            #[allow(clippy::all)]
            impl #generics WeirJob #generics #where_clause #(#collected,)* {
                weir_runtime::checkpointed_fields!(fn { #(#names),* });
            }

            #[allow(clippy::all)]
            impl #generics weir_runtime::checkpoint::Checkpointed for WeirJob #generics #where_clause {
                fn save(&mut self, out: &mut weir_runtime::checkpoint::StateOut) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match self.weir_codec {
                        ::core::option::Option::Some(codec) => (codec.save)(self, out),
                        ::core::option::Option::None => ::core::result::Result::Err(weir_runtime::checkpoint::missing_codec()),
                    }
                }

                fn load(&mut self, from: &mut weir_runtime::checkpoint::StateIn<'_>) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match self.weir_codec {
                        ::core::option::Option::Some(codec) => (codec.load)(self, from),
                        ::core::option::Option::None => ::core::result::Result::Err(weir_runtime::checkpoint::missing_codec()),
                    }
                }

                fn load_rescaled(
                    &mut self,
                    parts: &mut [weir_runtime::checkpoint::StateIn<'_>],
                    to: &weir_runtime::checkpoint::Rescale,
                ) -> ::core::result::Result<(), weir_runtime::JobError> {
                    match self.weir_codec {
                        ::core::option::Option::Some(codec) => (codec.load_rescaled)(self, parts, to),
                        ::core::option::Option::None => ::core::result::Result::Err(weir_runtime::checkpoint::missing_codec()),
                    }
                }
            }
        }
    }

    /// `CheckpointedBody` for an inline job's `WeirBody`: the codec of its job, for a
    /// program whose collected records have a layout. The bounds are higher-ranked, so
    /// rustc checks them only where a program asks for checkpoints.
    pub(crate) fn checkpointed_body(
        &self,
        generics: &TokenStream,
        where_clause: &TokenStream,
    ) -> TokenStream {
        let job_generics = self.generics();
        let collected = self.collected_layouts();
        quote! {
            #[allow(clippy::all)]
            impl #generics weir_runtime::CheckpointedBody for WeirBody #generics #where_clause
                #(#collected,)*
            {
                fn codec() -> weir_runtime::checkpoint::JobCodec<WeirJob #job_generics> {
                    weir_runtime::checkpoint::JobCodec {
                        save: WeirJob:: #job_generics ::weir_save,
                        load: WeirJob:: #job_generics ::weir_load,
                        load_rescaled: WeirJob:: #job_generics ::weir_load_rescaled,
                    }
                }
            }
        }
    }

    /// `T: Layout` for the records of each `collect()` sink, higher-ranked so that rustc
    /// checks it only where the impl is used.
    fn collected_layouts(&self) -> Vec<TokenStream> {
        self.plan
            .graph
            .node_indices()
            .filter(|&n| {
                let sink = self.plan.graph[n].op.payload::<SinkOp>();
                sink.is_some_and(|s| s.format == SinkFormat::Collect)
            })
            .map(|n| {
                let ty = self.record_type(&self.plan.graph[n].schema);
                quote!(for<'weir> #ty: weir_runtime::Layout)
            })
            .collect()
    }

    /// The fields of an inline job that hold code rather than state.
    fn code_fields(&self) -> Vec<Ident> {
        if self.plan.rust.is_none() {
            return Vec::new();
        }
        let mut code: Vec<Ident> = self
            .closures()
            .into_iter()
            .map(|r| ident(&r.field_name()))
            .collect();
        code.extend(self.exchange_layout_fields());
        code.extend([ident("types"), ident("weir_codec")]);
        code
    }
}
