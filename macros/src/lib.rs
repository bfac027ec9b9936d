//! The macros of weir. `stream!` hands its tokens to the compiler library
//! ([`weir_compiler::inline`]), which parses, checks, optimizes and generates the pipeline
//! with the same passes and code generator as the `weir` CLI. `#[derive(Record)]` gives a
//! struct the binary layout and CSV columns a pipeline needs; `#[derive(StateValue)]` makes
//! one a `process` step's per-key state.

mod record;
mod state_value;

use proc_macro::TokenStream;

/// A pipeline inline in Rust. The value is a `weir::InlineJob`; `run()` (or
/// `run_with(config)`) runs it and returns what `collect()` gathered.
///
/// ```ignore
/// let counts = weir::stream! {
///     source iter(lines)
///     |> flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
///     |> key_by(|w: &String| w.clone())
///     |> aggregate(count())
///     |> collect()
/// }
/// .run()?;
/// ```
///
/// See `docs/language.md`, "The inline form", for every operator.
#[proc_macro]
pub fn stream(input: TokenStream) -> TokenStream {
    weir_compiler::inline::expand(input.into(), weir_compiler::inline::RUNTIME_PATH).into()
}

/// Makes a struct a weir record: its fields in the binary layout (so it can be a key in
/// state) and as named CSV columns (so file sources and sinks can read and write it).
/// Fields are numbers, `bool` and `String`.
#[proc_macro_derive(Record)]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(input as syn::DeriveInput);
    record::derive(&item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Makes a struct the per-key state of a `process` step: kept between records as bytes,
/// each field in turn (numbers, `bool`, `String`, `Option`, tuples, `Vec`, `VecDeque`,
/// `BTreeSet`, `BTreeMap` and other `StateValue` structs).
#[proc_macro_derive(StateValue)]
pub fn derive_state_value(input: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(input as syn::DeriveInput);
    state_value::derive(&item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
