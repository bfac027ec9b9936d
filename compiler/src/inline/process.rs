//! How `stream!` writes a process function: `process(on_record(|r, st, ctx| ...),
//! on_timer(|timer, st, ctx| ...))` on a keyed stream. The closures are passed through
//! typed guards at their own tokens: rustc infers the state's type from the closures'
//! annotations and the emitted records' type from their `ctx.emit(...)` calls, and
//! reports a closure of the wrong shape, or a state that cannot be kept, there.

use quote::quote;
use syn::spanned::Spanned;

use super::front::{Guard, InlineFront};
use super::syntax::Step;
use crate::diagnostics::did_you_mean;
use crate::ir::process::{ProcessClosures, ProcessLogic};
use crate::ir::{KeySpec, RustType};
use crate::lower::ProcessInput;

/// The two handlers a process takes, by name.
const HANDLERS: [&str; 2] = ["on_record", "on_timer"];

/// An example of the whole step, for messages.
const EXAMPLE: &str = "process(on_record(|r: &Txn, st: &mut Flag, ctx| ...), on_timer(|timer, st: &mut Flag, ctx| ...))";

impl InlineFront {
    /// The closures of a `process(...)` step over `input`.
    pub(super) fn process_closures(
        &mut self,
        step: &Step,
        input: &ProcessInput<'_>,
    ) -> Option<ProcessLogic> {
        let call = step.call();
        let KeySpec::Rust(key) = input.key else {
            return self.error(
                call.name.span(),
                "`process` needs a stream keyed by `key_by`",
            );
        };
        let mut on_record = None;
        let mut on_timer = None;
        for arg in self.exprs(call)? {
            let (name, closure) = self.handler(&arg)?;
            let slot = if name == "on_record" {
                &mut on_record
            } else {
                &mut on_timer
            };
            if slot.is_some() {
                return self.error(arg.span(), format!("`{name}` is given twice"));
            }
            *slot = Some(closure);
        }
        let Some(on_record) = on_record else {
            return self.error(
                call.parens,
                format!("`process` needs an `on_record` closure, as in `{EXAMPLE}`"),
            );
        };
        let record = input
            .schema
            .rust
            .clone()
            .unwrap_or_else(|| RustType::path(input.schema.describe()));
        let (state, output) = (self.param('S'), self.param('O'));
        let context = |key: &RustType| {
            RustType::RefMut(Box::new(RustType::Applied(
                "weir_runtime::process::ProcessContext".into(),
                vec![RustType::path("'_"), key.clone(), output.clone()],
            )))
        };
        let state_mut = RustType::RefMut(Box::new(state.clone()));
        let at = on_record.span();
        self.bound(
            at,
            &state,
            quote!(
                weir_runtime::state::StateValue + ::core::default::Default + ::core::cmp::PartialEq
            ),
        );
        let on_record = self.guarded_with(
            &on_record,
            &[&record, &key.output],
            Guard {
                guard: "on_record",
                input: &record,
                inputs: vec![record.by_ref(), state_mut.clone(), context(&key.output)],
                output: RustType::path("()"),
                outs: &[&output, &state],
                requirement: Some("process_state"),
            },
        );
        let on_timer = on_timer.map(|f| {
            self.guarded_with(
                &f,
                &[&key.output, &state, &output],
                Guard {
                    guard: "on_timer",
                    input: &key.output,
                    inputs: vec![
                        RustType::path("weir_runtime::process::Timer"),
                        state_mut.clone(),
                        context(&key.output),
                    ],
                    output: RustType::path("()"),
                    outs: &[],
                    requirement: None,
                },
            )
        });
        Some(ProcessLogic::Closures(Box::new(ProcessClosures {
            on_record,
            on_timer,
            state,
            output,
        })))
    }

    /// `on_record(closure)` or `on_timer(closure)`: the handler's name and its closure.
    fn handler(&mut self, arg: &syn::Expr) -> Option<(&'static str, syn::Expr)> {
        let syn::Expr::Call(c) = arg else {
            return self.error(
                arg.span(),
                format!("expected `on_record(|r, st, ctx| ...)` or `on_timer(|timer, st, ctx| ...)`, as in `{EXAMPLE}`"),
            );
        };
        let written = match &*c.func {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        }
        .unwrap_or_default();
        let Some(name) = HANDLERS.iter().copied().find(|h| *h == written) else {
            let mut message = format!("unknown process handler `{written}`");
            match did_you_mean(&written, HANDLERS) {
                Some(help) => message.push_str(&format!("; {help}")),
                None => message.push_str("; a process takes `on_record(...)` and `on_timer(...)`"),
            }
            return self.error(c.func.span(), message);
        };
        let mut args = c.args.iter();
        match (args.next(), args.next()) {
            (Some(f), None) => Some((name, f.clone())),
            _ => self.error(
                c.span(),
                format!(
                    "`{name}` takes one closure, as in `{name}(|{}, st, ctx| ...)`",
                    if name == "on_record" { "r" } else { "timer" }
                ),
            ),
        }
    }
}
