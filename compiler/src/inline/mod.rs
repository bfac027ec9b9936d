//! The inline front-end: `stream! { ... }` in Rust, parsed with syn, lowered into the same
//! [`Plan`](crate::ir::Plan) as a `.pipe` file, optimized by the same passes and generated
//! by the same code generator ([`crate::codegen::generate_inline`]).
//!
//! The `weir-macros` crate is a thin wrapper over [`expand`]; everything else is here, in
//! the library, so the expansion can be inspected and snapshot without a proc macro.

mod aggregate_fields;
mod front;
mod iterate;
mod process;
mod sources;
mod steps;
mod syntax;
mod time;

use proc_macro2::{Span, TokenStream};

use crate::codegen::generate_inline;
use crate::diagnostics::Diagnostic;
use crate::passes::optimize;

/// The path generated code names the runtime by when the pipeline is in a crate that
/// depends on `weir`.
pub const RUNTIME_PATH: &str = "::weir::runtime";

/// The optimized plan of a `stream!` input, or the errors, each at the user's tokens.
pub fn plan(input: TokenStream, runtime: &str) -> syn::Result<crate::ir::Plan> {
    let pipeline: syntax::Pipeline = syn::parse2(input)?;
    let (mut plan, spans) = front::lower(pipeline, runtime).map_err(combine)?;
    // A pass's diagnostic is at a node's span, which indexes the span table.
    let at =
        |s: &crate::diagnostics::Span| spans.get(s.start).copied().unwrap_or_else(Span::call_site);
    let passes: Vec<Diagnostic<Span>> = optimize(&mut plan)
        .into_vec()
        .into_iter()
        .map(|d| Diagnostic {
            span: at(&d.span),
            related: d.related.iter().map(|(s, l)| (at(s), l.clone())).collect(),
            severity: d.severity,
            message: d.message,
            label: d.label,
            help: d.help,
        })
        .collect();
    if passes.is_empty() {
        Ok(plan)
    } else {
        Err(combine(passes))
    }
}

/// Every diagnostic as one `syn::Error` (each part a `compile_error!` at its tokens).
fn combine(diagnostics: Vec<Diagnostic<Span>>) -> syn::Error {
    let mut errors = diagnostics.iter().map(steps::to_syn_error);
    let mut first = errors
        .next()
        .unwrap_or_else(|| syn::Error::new(Span::call_site(), "stream! failed to compile"));
    for e in errors {
        first.combine(e);
    }
    first
}

/// The expansion of `stream! { input }`: a block evaluating to a
/// [`weir::InlineJob`](weir_runtime::InlineJob), or `compile_error!`s at the user's tokens.
pub fn expand(input: TokenStream, runtime: &str) -> TokenStream {
    match plan(input, runtime) {
        Ok(plan) => generate_inline(&plan),
        // In a block, so several errors are statements and the macro is still an
        // expression.
        Err(e) => {
            let errors = e.to_compile_error();
            quote::quote!({ #errors })
        }
    }
}

/// The expansion pretty-printed, for people and snapshots: `Err` holds the error messages.
pub fn expand_pretty(input: &str) -> Result<String, String> {
    let tokens: TokenStream = input.parse().map_err(|e| format!("{e}"))?;
    let plan = plan(tokens, RUNTIME_PATH).map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let expansion = generate_inline(&plan);
    let file: syn::File = syn::parse2(quote::quote! {
        fn expansion() {
            let job = #expansion;
        }
    })
    .map_err(|e| format!("the expansion does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}
