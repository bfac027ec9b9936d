//! The generated code of a `stream!` process: the user's `on_record` and `on_timer`
//! closures called with the key's state (the user's type, decoded with its `StateValue`
//! and starting at its `Default`) and a runtime `ProcessContext` for the key, the clocks,
//! timers and emitted records. The state is stored back after each call, and a key whose
//! state is back at its default is cleared, as for `.pipe`.

use petgraph::graph::NodeIndex;
use proc_macro2::TokenStream;
use quote::quote;

use super::codegen::{clock_at_record, fire_method, record_method, Names};
use super::Process;
use crate::codegen::context::Gen;
use crate::codegen::names::node_field;
use crate::ir::process::ProcessClosures;
use crate::ir::KeySpec;

pub(super) fn methods(p: &Process, c: &ProcessClosures, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        watermark,
        blob,
        ..
    } = Names::of(n);
    let KeySpec::Rust(key_fn) = &p.key else {
        unreachable!("a stream! pipeline keys by a closure")
    };
    let input = g
        .plan
        .input_schema(n, 0)
        .expect("the type-check pass saw the process's input");
    let input_ty = g.record_type(&input);
    let (key_ty, state_ty, out_ty) = (
        g.rust_type(&key_fn.output),
        g.rust_type(&c.state),
        g.rust_type(&c.output),
    );
    let builder = node_field(n, "key");
    let key_value = g.call(key_fn, quote!(record));
    let clock = clock_at_record(p, n);
    let out = g.var(n);
    let rest = g.emit(n, 0, &out);
    let location = &g.plan.graph[n].location;
    let load_with = |get: TokenStream| {
        quote! {
            let (mut st, p_stored): (#state_ty, bool) = match #get? {
                ::core::option::Option::Some(mut bytes) => {
                    (weir_runtime::state::StateValue::take(&mut bytes)?, true)
                }
                ::core::option::Option::None => (::core::default::Default::default(), false),
            };
        }
    };
    let load = load_with(quote!(self.#state.get(key)));
    // A key whose hash its value gives (a `String`) is not hashed from the bytes just
    // encoded, as in `.pipe` (`codegen::record_key_lookup`).
    let load_record = load_with(quote! {
        match weir_runtime::Layout::key_hash_hint(&p_key_value) {
            ::core::option::Option::Some(hash) => self.#state.get_hashed(key, hash),
            ::core::option::Option::None => self.#state.get(key),
        }
    });
    let context = |timestamp: TokenStream, emit_ts: TokenStream| {
        quote! {
            weir_runtime::process::ProcessContext::new(weir_runtime::process::ContextParts {
                state: &mut self.#state,
                key_bytes: key,
                key: &p_key_value,
                timestamp: #timestamp,
                emit_ts: #emit_ts,
                watermark: self.#watermark,
                clock: &self.clock,
                out: &mut p_out,
            })
        }
    };
    // A key back at its default is cleared; one that never left it has nothing to clear.
    let store = quote! {
        if st == <#state_ty as ::core::default::Default>::default() {
            if p_stored {
                self.#state.put(key, &[])?;
            }
        } else {
            self.#blob.clear();
            weir_runtime::state::StateValue::put(&st, &mut self.#blob);
            self.#state.put(key, &self.#blob)?;
        }
    };
    let record_ctx = context(quote!(ts), quote!(ts));
    let call_record = g.call(&c.on_record, quote!(record, &mut st, &mut p_ctx));
    // A record a timer emits carries the timer's time (event time), or the watermark
    // (processing time), so that it is not late downstream.
    let timer_ctx = context(
        quote!(p_timer_time),
        quote! {
            match domain {
                weir_runtime::state::TimeDomain::EventTime => p_timer_time,
                weir_runtime::state::TimeDomain::ProcessingTime => self.#watermark,
            }
        },
    );
    let on_timer = c.on_timer.as_ref().map(|t| {
        let call = g.call(
            t,
            quote!(weir_runtime::process::Timer { time: p_timer_time, domain }, &mut st, &mut p_ctx),
        );
        quote! {
            let p_key_value = <#key_ty as weir_runtime::Layout>::decode(key);
            #load
            let mut p_out: ::std::vec::Vec<(#out_ty, i64)> = ::std::vec::Vec::new();
            let mut p_ctx = #timer_ctx;
            #call;
            p_ctx.finish()?;
            #store
            for (#out, ts) in p_out {
                #rest
            }
        }
    });
    let fire_method = fire_method(n, &location.to_string(), quote!(), quote!(#on_timer));
    let record_method = record_method(
        n,
        &location.to_string(),
        quote!(#input_ty),
        quote! {
            #clock
            let p_key_value: #key_ty = #key_value;
            let key = weir_runtime::Layout::encode(&p_key_value, &mut self.#builder);
            #load_record
            let mut p_out: ::std::vec::Vec<(#out_ty, i64)> = ::std::vec::Vec::new();
            let mut p_ctx = #record_ctx;
            #call_record;
            p_ctx.finish()?;
            #store
            for (#out, ts) in p_out {
                #rest
            }
        },
    );
    quote! {
        #record_method

        #fire_method
    }
}
