//! Generated code of a rolling aggregate: a record loads its key's block (or starts
//! one), the block before it is kept to emit as the replaced result, the record is added
//! (or, a `-U`/`-D` row of an updating input, taken back out), and the changelog rows are
//! emitted: `+I` for a new key, `-U` then `+U` for a change, `-D` for a key left empty;
//! nothing when the result did not change (its accumulators are the same bytes), as
//! Flink's group aggregate sends no update for an unchanged result.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::Rolling;
use crate::codegen::accumulators::{accumulators, retractions};
use crate::codegen::context::Gen;
use crate::codegen::keys::{encode_key, key_builder_field, key_outputs};
use crate::codegen::names::{field_ident, ident, node_field};

/// The node's fields: its state and the buffers a record's block and key are copied to.
fn names(n: NodeIndex) -> [Ident; 4] {
    [
        node_field(n, "state"),
        node_field(n, "block"),
        node_field(n, "before"),
        node_field(n, "key_bytes"),
    ]
}

pub(super) fn fields(r: &Rolling, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let [state, block, before, key_bytes] = names(n);
    let memory = g.operator_memory(n);
    let mut fields = vec![(
        quote!(#state: weir_runtime::state::ProcessState),
        quote!(#state: weir_runtime::state::ProcessState::new(#memory)?),
    )];
    for buffer in [block, before, key_bytes] {
        fields.push((quote!(#buffer: ::std::vec::Vec<u8>), quote!(#buffer: ::std::vec::Vec::new())));
    }
    fields.extend(key_builder_field(g, n, &r.key));
    fields
}

pub(super) fn push(r: &Rolling, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let [state, block, before, key_bytes] = names(n);
    let code = accumulators(g, &r.aggregates, input, 0);
    let (args, init, update) = (&code.args, &code.init, &code.update);
    let size = r.block();
    let rows_at = size;
    let encode = encode_key(g, n, &r.key, input);
    let inline = g.plan.graph[n].schema.rust.is_some();
    // Whether the record is a row an updating input takes back.
    let taken_back = match (r.retracts, inline) {
        (false, _) => quote!(false),
        (true, true) => quote!(#input.0.starts_with('-')),
        (true, false) => {
            let op = field_ident(super::OP);
            quote!(#input.#op.starts_with('-'))
        }
    };
    let retract = if r.retracts {
        retractions(g, &r.aggregates, 0)
    } else {
        quote!()
    };
    let out = g.var(n);
    let emit = g.emit(n, 0, &out);
    let row = |op: &str, from: &Ident| {
        let op = if inline {
            quote!(::std::string::String::from(#op))
        } else {
            quote!(::std::borrow::Cow::Borrowed(#op))
        };
        let mut values = vec![op];
        values.extend(key_outputs(g, n, &r.key));
        values.extend(code.outputs.iter().cloned());
        let record = g.result_record(n, values);
        quote! {
            {
                let acc: &[u8] = &#from;
                let #out = #record;
                #emit
            }
        }
    };
    let (block_v, before_v) = (ident("block"), ident("before"));
    let (insert, delete, replaced, replacing) = (
        row("+I", &block_v),
        row("-D", &before_v),
        row("-U", &before_v),
        row("+U", &block_v),
    );
    quote! {
        let taken_back = #taken_back;
        #args
        #encode
        let mut block = ::std::mem::take(&mut self.#block);
        let mut before = ::std::mem::take(&mut self.#before);
        let mut key_bytes = ::std::mem::take(&mut self.#key_bytes);
        key_bytes.clear();
        key_bytes.extend_from_slice(key);
        block.clear();
        let existed = match self.#state.get(&key_bytes)? {
            ::core::option::Option::Some(kept) if !kept.is_empty() => {
                block.extend_from_slice(kept);
                true
            }
            _ => {
                block.resize(#size + 8, 0);
                let acc: &mut [u8] = &mut block;
                #init
                false
            }
        };
        before.clear();
        before.extend_from_slice(&block);
        let rows: u64 = weir_runtime::state::acc_get::<u64>(&block, #rows_at);
        // A row taken back from a key that has none came before what it takes back: it is
        // passed over (the updating input's rows of one key come in order).
        if !(taken_back && rows == 0) {
            {
                let acc: &mut [u8] = &mut block;
                if taken_back {
                    #retract
                } else {
                    #update
                }
            }
            let rows = if taken_back { rows - 1 } else { rows + 1 };
            weir_runtime::state::acc_set(&mut block, #rows_at, rows);
            if rows == 0 {
                self.#state.put(&key_bytes, &[])?;
            } else {
                self.#state.put(&key_bytes, &block)?;
            }
            let k = weir_runtime::layout::RecordView::new(&key_bytes);
            if !existed {
                #insert
            } else if rows == 0 {
                #delete
            } else if block[..#size] != before[..#size] {
                #replaced
                #replacing
            }
        }
        self.#block = block;
        self.#before = before;
        self.#key_bytes = key_bytes;
    }
}
