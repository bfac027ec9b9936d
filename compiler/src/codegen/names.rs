//! Rust identifiers for what the user named. User names can be Rust keywords or clash with
//! the items generated code defines, so every name goes through here.

use proc_macro2::{Ident, Span};

/// Items that generated code defines itself; a record struct never takes these names.
pub const RESERVED: &[&str] = &["WeirJob", "WeirStr", "SPEC", "run", "main", "weir_runtime"];

/// The identifier for field `name`: itself when it is a valid Rust identifier, a raw
/// identifier for keywords, and `name_` when even that is not allowed (`self`, `_`).
pub fn field_ident(name: &str) -> Ident {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_valid_identifiers() {
        assert_eq!(field_ident("price").to_string(), "price");
        assert_eq!(field_ident("type").to_string(), "r#type");
        assert_eq!(field_ident("self").to_string(), "self_");
        assert_eq!(field_ident("_").to_string(), "__");
    }
}
