//! `window(count N)`: a key's records in groups of `N` (a global window with a count
//! trigger). The count sits in the first accumulator word; the group fires on the record that
//! completes it, and groups still filling at the end of input are emitted as they stand, in
//! first-seen key order. State: `CountGroups`, which spills past its budget.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{Names, Window, COUNT_WORD};
use crate::codegen::accumulators::{
    accumulators, keyed_text_landing, text_slots, KeyedTextState,
};
use crate::codegen::keys::encode_key;
use crate::codegen::context::Gen;

/// Code that adds the record in `input` to its key's current group.
pub(super) fn push(
    g: &Gen<'_>,
    n: NodeIndex,
    w: &Window,
    count: u64,
    input: &Ident,
) -> TokenStream {
    let Names {
        state: s,
        scratch,
        emit,
        ..
    } = Names::of(n);
    let code = accumulators(g, &w.aggregates, input, COUNT_WORD);
    let (args, init, update) = (&code.args, &code.init, &code.update);
    let encode = encode_key(g, n, &w.key, input);
    let fire = quote! {
        let count = weir_runtime::state::acc_get::<u64>(acc, 0) + 1;
        weir_runtime::state::acc_set(acc, 0, count);
        if count == #count {
        let mut scratch = ::std::mem::take(&mut self.#scratch);
        scratch.clear();
        scratch.extend_from_slice(self.#s.key_at(addr));
        let key_len = scratch.len();
        scratch.extend_from_slice(self.#s.block(addr));
        self.#s.copy_text(addr, &mut scratch);
        self.#s.clear_text(addr);
        let acc = self.#s.block_mut(addr);
        weir_runtime::state::acc_set(acc, 0, 0u64);
        #init
        let emitted = self.#emit(0, 0, key_len, &scratch);
        self.#scratch = scratch;
        emitted?;
        }
    };
    if code.text.is_empty() {
        return quote! {
            #args
            #encode
            let addr = self.#s.group(key, |acc| { weir_runtime::state::acc_set(acc, 0, 0u64); #init })?;
            let acc = self.#s.block_mut(addr);
            #update
            #fire
        };
    }
    let keyed = KeyedTextState {
        state: &s,
        find: "group",
        acc: "block_mut",
    };
    let slots = text_slots(&w.aggregates, COUNT_WORD);
    let init = quote!(weir_runtime::state::acc_set(acc, 0, 0u64); #init);
    let land = keyed_text_landing(keyed, &init, &slots, &code.text, &quote!(#update #fire));
    quote! {
        #args
        #encode
        #land
    }
}

/// End of input: every group with records is emitted, in first-seen key order.
pub(super) fn flush(n: NodeIndex) -> TokenStream {
    let Names {
        state: s,
        scratch,
        emit,
        ..
    } = Names::of(n);
    quote! {
        let mut drained = self.#s.finish()?;
        let mut scratch = ::std::mem::take(&mut self.#scratch);
        while let ::core::option::Option::Some((key, acc)) = drained.next()? {
            if weir_runtime::state::acc_get::<u64>(acc, 0) > 0 {
                scratch.clear();
                scratch.extend_from_slice(key);
                scratch.extend_from_slice(acc);
                self.#emit(0, 0, key.len(), &scratch)?;
            }
        }
        self.#scratch = scratch;
    }
}
