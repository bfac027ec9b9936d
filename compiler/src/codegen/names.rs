//! Every identifier generated code makes, in one place: for what the user named (which can
//! be a Rust keyword or clash with generated items), and for the job's own fields, methods
//! and locals. Each kind of generated name has a prefix of its own, so no two kinds can
//! clash: node fields `s{n}_...`, node methods `n{n}_...`, chain methods `chain{c}_...`,
//! closures `f{id}` (types `F{id}`), record locals `r{n}`, and `weir_scratch` (the job's
//! pool of string buffers) with the locals taken from it, `weir_scratch_{offset}`.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, Span};

/// Items that generated code defines itself; a record struct never takes these names.
pub const RESERVED: &[&str] = &["WeirJob", "WeirStr", "SPEC", "run", "main", "weir_runtime"];

/// The identifier for field `name`: itself when it is a valid Rust identifier, a raw
/// identifier for keywords, and `name_` when even that is not allowed (`self`, `_`).
pub fn field_ident(name: &str) -> Ident {
    // A join's qualified field `orders.id` is `orders__id`; the join refuses the rare pair
    // of sides whose names would collide so.
    if let Some((side, field)) = name.split_once('.') {
        return ident(&format!("{side}__{field}"));
    }
    if syn::parse_str::<Ident>(name).is_ok() {
        return Ident::new(name, Span::call_site());
    }
    if syn::parse_str::<Ident>(&format!("r#{name}")).is_ok() {
        return Ident::new_raw(name, Span::call_site());
    }
    Ident::new(&format!("{name}_"), Span::call_site())
}

/// An identifier from generated text known to be valid.
pub fn ident(text: &str) -> Ident {
    Ident::new(text, Span::call_site())
}

/// The variable holding the record node `n` emits.
pub fn record_var(n: usize) -> Ident {
    ident(&format!("r{n}"))
}

/// A field of the job holding state of node `n`: `s{n}_{what}`.
pub fn node_field(n: NodeIndex, what: &str) -> Ident {
    ident(&format!("s{}_{what}", n.index()))
}

/// A method of the job for node `n`: `n{n}_{what}`.
pub fn node_method(n: NodeIndex, what: &str) -> Ident {
    ident(&format!("n{}_{what}", n.index()))
}

/// A local variable of node `n`'s code: `{what}{n}`.
pub fn local(n: NodeIndex, what: &str) -> Ident {
    ident(&format!("{what}{}", n.index()))
}

/// The method of chain `chain` taking the records that arrive on input `port` of its
/// head (for a source's chain, the source's records): `chain{c}_in{port}`.
pub fn chain_input(chain: usize, port: usize) -> Ident {
    ident(&format!("chain{chain}_in{port}"))
}

/// The generated function scanning source `n`'s piece of a slice for its largest event
/// time: `n{n}_slice_max` (a node method's name, as a free function).
pub fn slice_scan(n: NodeIndex) -> Ident {
    ident(&format!("n{}_slice_max", n.index()))
}

/// The locals of the `i`th source read interleaved with others: its reader and its
/// watermark generator, `src_{i}` and `generator_{i}`.
pub fn interleaved_source(i: usize) -> (Ident, Ident) {
    (ident(&format!("src_{i}")), ident(&format!("generator_{i}")))
}

/// The local holding the items an `iter(...)` source of node `n` yields: `items_{n}`.
pub fn iter_items(n: NodeIndex) -> Ident {
    ident(&format!("items_{}", n.index()))
}

/// The job's pool of buffers that `lower`/`upper` write into.
pub const SCRATCH_POOL: &str = "weir_scratch";

/// The local buffer of the `lower`/`upper` whose argument starts at byte `offset` of the
/// pipeline: `weir_scratch_{offset}`.
pub fn scratch(offset: usize) -> Ident {
    ident(&format!("{SCRATCH_POOL}_{offset}"))
}

/// Whether `id` is a [`scratch`] buffer.
pub fn is_scratch(id: &Ident) -> bool {
    id.to_string().starts_with(&format!("{SCRATCH_POOL}_"))
}

/// The method of chain `chain` taking a watermark: `chain{c}_watermark`.
pub fn chain_watermark(chain: usize) -> Ident {
    ident(&format!("chain{chain}_watermark"))
}

/// The method that sends a record over exchange `id` (`send_x{id}`).
pub(crate) fn send_method(id: usize) -> Ident {
    ident(&format!("send_x{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_methods_and_chains_never_share_a_name() {
        let n = NodeIndex::new(1);
        let names = [
            node_field(n, "watermark").to_string(),
            node_method(n, "watermark").to_string(),
            chain_watermark(1).to_string(),
            chain_input(1, 0).to_string(),
            record_var(1).to_string(),
        ];
        let mut unique = names.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn keywords_become_valid_identifiers() {
        assert_eq!(field_ident("price").to_string(), "price");
        assert_eq!(field_ident("type").to_string(), "r#type");
        assert_eq!(field_ident("self").to_string(), "self_");
        assert_eq!(field_ident("_").to_string(), "__");
    }
}
