//! What generated code does with an inline pipeline's Rust code: calls its closures, names
//! the types rustc infers, and makes the job generic over both.
//!
//! The job struct of an inline pipeline has a type parameter per closure (`F3`) and per
//! inferred type (`R0`, `K2`, `A4`). Its `impl` states what each closure must be
//! (`F3: FnMut(&R0) -> bool`), so rustc infers the record types from the closures and
//! reports a closure of the wrong shape at the closure itself.

use std::str::FromStr;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::expr::ExprGen;
use super::names::ident;
use super::Gen;
use crate::ir::{Code, RustFn, RustType, SourceFormat};
use crate::ops::{sink, source};

/// Tokens for a Rust type as text.
pub(crate) fn rust_tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).expect("Rust types print as valid Rust")
}

impl Gen<'_> {
    /// The tokens of `ty`, with the inferred types the front-end unified written as the
    /// type they stand for.
    pub(crate) fn rust_type(&self, ty: &RustType) -> TokenStream {
        let ty = match &self.plan.rust {
            Some(rust) => rust.resolve(ty),
            None => ty.clone(),
        };
        rust_tokens(&ty.to_string())
    }

    /// `(self.f3)(args)`: a call of the user's closure.
    pub(crate) fn call(&self, r: &RustFn, args: TokenStream) -> TokenStream {
        let f = ident(&r.field_name());
        quote!((self.#f)(#args))
    }

    /// The value of `code` for the record in `input` (closures take it by reference).
    pub(crate) fn code_value(&self, code: &Code, input: &Ident) -> TokenStream {
        match code {
            Code::Expr(e) => ExprGen {
                record: input,
                locals: false,
                file: &self.plan.file,
            }
            .value(e),
            Code::Rust(r) => self.call(r, quote!(&#input)),
        }
    }

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
        quote!(where #(#signatures,)* #(#bounds,)*)
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
    /// The block `stream!` expands to: the job's items, then an `InlineJob` whose body
    /// builds the job with the user's closures, reads the sources and returns what
    /// `collect()` gathered. The iterators of `iter(...)` sources are taken where the
    /// macro is, so they may borrow the user's locals.
    pub(crate) fn inline_expansion(&self) -> TokenStream {
        let rust = self.plan.rust.as_ref().expect("an inline plan");
        let runtime = rust_tokens(&rust.runtime);
        let job = self.job_items();
        let spec = self.spec();
        let iterators = source::sources(self).filter_map(|(n, s)| match &s.format {
            SourceFormat::Iter(r) => {
                let (var, expr) = (source_var(n), &rust.code[r.id]);
                Some(quote!(let #var = ::core::iter::IntoIterator::into_iter(#expr);))
            }
            _ => None,
        });
        let guards = &rust.guards;
        let args = self.new_args();
        let loops = source::loops(self);
        let collected = sink::collected(self);
        quote! {
            {
                use #runtime as weir_runtime;

                #job

                #spec

                #(#iterators)*

                weir_runtime::InlineJob::new(&SPEC, |ctx: &mut weir_runtime::JobContext| {
                    #(#guards)*
                    let mut job = WeirJob::new(ctx #args)?;
                    #(#loops)*
                    job.finish(ctx)?;
                    ::core::result::Result::Ok(#collected)
                })
            }
        }
    }
}

/// The local holding the iterator of source node `n`.
pub(crate) fn source_var(n: petgraph::graph::NodeIndex) -> Ident {
    ident(&crate::ir::source_var_name(n.index()))
}
