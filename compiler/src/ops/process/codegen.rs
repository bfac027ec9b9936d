//! The generated code of a process function: a state struct per node (its fields the
//! declared state, encoded with the runtime's `StateValue`), a method run for each record
//! and one that fires due timers, each loading the key's state, running the handler's
//! statements, storing the state back (a key whose state is back to its start is cleared),
//! and emitting what the handler emitted, in order.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::Process;
use crate::codegen::context::Gen;
use crate::codegen::expr::{state_field, ExprGen};
use crate::codegen::keys::{decode_fields, encode_key, key_builder_field};
use crate::codegen::names::{field_ident, ident, node_field, node_method};
use crate::codegen::statements::{OperatorStatements, StatementCode};
use crate::ir::process::{ProcessDef, StateVarKind, TStmt, TimerClock};
use crate::ir::{KeySpec, Schema, Type};

/// The names of a process node's fields and methods.
pub(super) struct Names {
    pub state: Ident,
    pub watermark: Ident,
    pub blob: Ident,
    pub timer_key: Ident,
    pub on_record: Ident,
    pub fire: Ident,
}

impl Names {
    pub(super) fn of(n: NodeIndex) -> Self {
        Names {
            state: node_field(n, "state"),
            watermark: node_field(n, "watermark"),
            blob: node_field(n, "blob"),
            timer_key: node_field(n, "timer_key"),
            on_record: node_method(n, "on_record"),
            fire: node_method(n, "fire_timers"),
        }
    }
}

pub(super) fn fields(p: &Process, g: &Gen<'_>, n: NodeIndex) -> Vec<(TokenStream, TokenStream)> {
    let Names {
        state,
        watermark,
        blob,
        timer_key,
        ..
    } = Names::of(n);
    let memory = g.operator_memory(n);
    let mut fields = vec![
        (
            quote!(#state: weir_runtime::state::ProcessState),
            quote!(#state: weir_runtime::state::ProcessState::new(#memory)?),
        ),
        (quote!(#watermark: i64), quote!(#watermark: i64::MIN)),
        (quote!(#blob: Vec<u8>), quote!(#blob: Vec::new())),
        (quote!(#timer_key: Vec<u8>), quote!(#timer_key: Vec::new())),
    ];
    fields.extend(key_builder_field(g, n, &p.key));
    fields
}

pub(super) fn push(n: NodeIndex, input: &Ident) -> TokenStream {
    let on_record = Names::of(n).on_record;
    quote!(self.#on_record(&#input, ts)?;)
}

pub(super) fn on_watermark(p: &Process, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        watermark,
        fire,
        ..
    } = Names::of(n);
    let clock = p.logic.reads_clock().then(|| {
        let due = fire_due_processing_timers(&state, &fire);
        quote! {
            // A replayed clock has reached the watermark; the end of input is not a time.
            if wm < weir_runtime::time::MAX_WATERMARK {
                self.clock.follow(wm);
            }
            #due
        }
    });
    quote! {
        self.#watermark = wm;
        self.#fire(weir_runtime::state::TimeDomain::EventTime, wm)?;
        #clock
    }
}

/// At a record: moves a replayed clock to the record's time and fires the processing-time
/// timers it has passed, so that a record arriving after a timer's time finds it fired.
/// Nothing for a process that never reads the clock.
pub(super) fn clock_at_record(p: &Process, n: NodeIndex) -> TokenStream {
    if !p.logic.reads_clock() {
        return quote!();
    }
    let Names { state, fire, .. } = Names::of(n);
    let due = fire_due_processing_timers(&state, &fire);
    quote! {
        self.clock.follow(ts);
        #due
    }
}

/// Fires the processing-time timers the clock has passed. The clock is read only when one
/// waits (a read per record or watermark would cost a clock call each).
fn fire_due_processing_timers(state: &Ident, fire: &Ident) -> TokenStream {
    quote! {
        if self.#state.next_timer(weir_runtime::state::TimeDomain::ProcessingTime).is_some() {
            let now = self.clock.now();
            self.#fire(weir_runtime::state::TimeDomain::ProcessingTime, now)?;
        }
    }
}

pub(super) fn on_tick(p: &Process, n: NodeIndex) -> TokenStream {
    if !p.logic.reads_clock() {
        return quote!();
    }
    let fire = Names::of(n).fire;
    quote! {
        let now = self.clock.now();
        self.#fire(weir_runtime::state::TimeDomain::ProcessingTime, now)?;
    }
}

pub(super) fn finish(g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        watermark,
        fire,
        ..
    } = Names::of(n);
    let before = format!("process at {}: ", g.plan.graph[n].location);
    // The end of input is the last watermark: every event-time timer fires. `--stats`
    // adds what the state held (each worker's counts summed).
    quote! {
        self.#watermark = i64::MAX;
        self.#fire(weir_runtime::state::TimeDomain::EventTime, i64::MAX)?;
        if ctx.args().stats {
            let keys = self.#state.keys_in_memory() as u64;
            let (set, fired) = self.#state.timer_counts();
            ctx.report_count(#before, keys, " key(s) with state in memory at the end of input", "");
            ctx.report_count(#before, set, " timer(s) set", "");
            ctx.report_count(#before, fired, " timer(s) fired", "");
        }
    }
}

pub(super) fn methods(p: &Process, def: &ProcessDef, g: &Gen<'_>, n: NodeIndex) -> TokenStream {
    let Names {
        state,
        watermark,
        blob,
        ..
    } = Names::of(n);
    let record = ident("record");
    let exprs = ExprGen {
        record: &record,
        locals: false,
        file: &g.plan.file,
        scratch: false,
    };
    let ops = ProcessStatements { g, n };
    let st = StateCode {
        def,
        exprs: &exprs,
        code: StatementCode {
            exprs: &exprs,
            states: &def.states,
            ops: &ops,
        },
    };
    let state_def = st.definition();
    let input = g
        .plan
        .input_schema(n, 0)
        .expect("the type-check pass saw the process's input");
    let input_ty = g.record_type(&input);
    let encode = encode_key(g, n, &p.key, &record);
    let record_body = st.block(&def.on_record);
    let timer_body = st.block(&def.on_timer);
    let out = g.var(n);
    let out_ty = g.record_type(&g.plan.graph[n].schema);
    let rest = g.emit(n, 0, &out);
    let key_fields = match &p.key {
        KeySpec::Fields(idx) => {
            let values = decode_fields(&input, idx, &ident("k"));
            let names = idx
                .iter()
                .map(|&i| ident(&format!("kf_{}", input.fields[i].name)));
            quote!(#(#[allow(unused_variables)] let #names = #values;)*)
        }
        KeySpec::Rust(_) => quote!(),
    };
    let clock = clock_at_record(p, n);
    let location = &g.plan.graph[n].location;
    let load_with = |get: TokenStream| {
        quote! {
            let (mut st, p_stored) = match #get? {
                ::core::option::Option::Some(bytes) => (PState::decode(bytes)?, true),
                ::core::option::Option::None => (PState::initial()?, false),
            };
        }
    };
    let load = load_with(quote!(self.#state.get(key)));
    let load_record = load_with(record_key_lookup(p, &input, &state));
    // A key back at its start is cleared; one that never left it has nothing to clear
    // (most records of most jobs: a second probe of the index each saved).
    let store = quote! {
        if st.is_initial()? {
            if p_stored {
                self.#state.put(key, &[])?;
            }
        } else {
            st.encode(&mut self.#blob);
            self.#state.put(key, &self.#blob)?;
        }
    };
    let fire_method = fire_method(
        n,
        &location.to_string(),
        state_def.clone(),
        quote! {
                let p_timer_kind: &str = match domain {
                    weir_runtime::state::TimeDomain::EventTime => "event_time",
                    weir_runtime::state::TimeDomain::ProcessingTime => "processing_time",
                };
                let k = weir_runtime::layout::RecordView::new(key);
                #key_fields
                #load
                let p_watermark = self.#watermark;
                // A record a timer emits carries the timer's time (event time), or the
                // watermark (processing time), so that it is not late downstream.
                let p_emit_ts = match domain {
                    weir_runtime::state::TimeDomain::EventTime => p_timer_time,
                    weir_runtime::state::TimeDomain::ProcessingTime => p_watermark,
                };
                let mut p_out: ::std::vec::Vec<(#out_ty, i64)> = ::std::vec::Vec::new();
                #timer_body
                #store
                for (#out, ts) in p_out {
                    #rest
                }
        },
    );
    let record_method = record_method(
        n,
        &location.to_string(),
        quote!(#input_ty),
        quote! {
            #clock
            #state_def
            #encode
            #load_record
            let p_watermark = self.#watermark;
            let p_emit_ts = ts;
            let mut p_out: ::std::vec::Vec<(#out_ty, i64)> = ::std::vec::Vec::new();
            #record_body
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

/// The lookup of the record's key in the state: a key of one string field is hashed from
/// the record's text ([`weir_runtime::state::str_key_hash`]), not from the key just built
/// from it, whose words cannot be forwarded from the copy that wrote them.
fn record_key_lookup(p: &Process, input: &Schema, state: &Ident) -> TokenStream {
    match &p.key {
        KeySpec::Fields(idx) if idx.len() == 1 && input.fields[idx[0]].ty == Type::Str => {
            let f = field_ident(&input.fields[idx[0]].name);
            quote! {{
                let text: &str = &record.#f;
                let hash = match weir_runtime::state::str_key_hash(text.as_bytes()) {
                    ::core::option::Option::Some(hash) => hash,
                    ::core::option::Option::None => weir_runtime::state::key_hash(key),
                };
                self.#state.get_hashed(key, hash)
            }}
        }
        _ => quote!(self.#state.get(key)),
    }
}

/// The method run for each record reaching process node `n` (at `location`): `record`
/// (a `&input`) and its event time `ts`, then `body`.
pub(super) fn record_method(
    n: NodeIndex,
    location: &str,
    input: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let on_record = Names::of(n).on_record;
    let doc = format!("A record reaching the process at {location}.");
    quote! {
        #[doc = #doc]
        #[allow(unused_mut, unused_variables, clippy::all)]
        fn #on_record(
            &mut self,
            record: &#input,
            ts: i64,
        ) -> ::core::result::Result<(), weir_runtime::JobError> {
            #body
            ::core::result::Result::Ok(())
        }
    }
}

/// The method firing the due timers of process node `n` (at `location`): the key of each
/// in `key` (a `&[u8]`), its time in `p_timer_time`, then `each` (which loads the key's
/// state, runs the handler and stores it back), after the items `prelude`.
pub(super) fn fire_method(
    n: NodeIndex,
    location: &str,
    prelude: TokenStream,
    each: TokenStream,
) -> TokenStream {
    let Names {
        state,
        timer_key,
        fire,
        ..
    } = Names::of(n);
    let doc = format!("Fires the timers of the process at {location} due at `now`.");
    quote! {
        #[doc = #doc]
        #[allow(unused_mut, unused_variables, clippy::all)]
        fn #fire(
            &mut self,
            domain: weir_runtime::state::TimeDomain,
            now: i64,
        ) -> ::core::result::Result<(), weir_runtime::JobError> {
            #prelude
            if self.#state.next_timer(domain).is_none_or(|t| t > now) {
                return ::core::result::Result::Ok(());
            }
            let mut p_key = ::std::mem::take(&mut self.#timer_key);
            while let ::core::option::Option::Some(p_timer_time) =
                self.#state.pop_due_timer(domain, now, &mut p_key)?
            {
                let key: &[u8] = &p_key;
                #each
            }
            self.#timer_key = p_key;
            ::core::result::Result::Ok(())
        }
    }
}

/// Code for one process node's state and statements.
struct StateCode<'a> {
    def: &'a ProcessDef,
    exprs: &'a ExprGen<'a>,
    code: StatementCode<'a>,
}

/// What a process's statements do to it: emit into `p_out`, set timers on its state.
struct ProcessStatements<'a> {
    g: &'a Gen<'a>,
    n: NodeIndex,
}

impl OperatorStatements for ProcessStatements<'_> {
    fn emit(&self, values: Vec<TokenStream>) -> TokenStream {
        let record = self.g.result_record(self.n, values);
        quote!(p_out.push((#record, p_emit_ts));)
    }

    fn timer(&self, clock: TimerClock, delete: bool, time: TokenStream) -> TokenStream {
        let state = node_field(self.n, "state");
        let domain = match clock {
            TimerClock::Event => quote!(weir_runtime::state::TimeDomain::EventTime),
            TimerClock::Processing => quote!(weir_runtime::state::TimeDomain::ProcessingTime),
        };
        if delete {
            quote!(self.#state.delete_timer(#domain, key, #time)?;)
        } else {
            quote!(self.#state.register_timer(#domain, key, #time)?;)
        }
    }
}

impl StateCode<'_> {
    fn block(&self, stmts: &[TStmt]) -> TokenStream {
        self.code.block(stmts)
    }

    /// The `PState` struct: its fields, the state a key starts with, and its encoding.
    fn definition(&self) -> TokenStream {
        let mut members = Vec::new();
        let mut inits = Vec::new();
        let mut puts = Vec::new();
        let mut takes = Vec::new();
        let mut starts = Vec::new();
        for s in &self.def.states {
            let f = state_field(&s.name);
            starts.push(self.at_start(&f, &s.kind));
            let (ty, init) = self.code.member(s);
            members.push(quote!(#f: #ty));
            inits.push(quote!(#f: #init));
            puts.push(quote!(weir_runtime::state::StateValue::put(&self.#f, out);));
            takes.push(quote!(#f: weir_runtime::state::StateValue::take(&mut bytes)?));
        }
        quote! {
            #[derive(Debug, Clone, PartialEq)]
            struct PState { #(#members,)* }
            impl PState {
                fn initial() -> ::core::result::Result<Self, weir_runtime::JobError> {
                    ::core::result::Result::Ok(PState { #(#inits,)* })
                }
                /// Whether every state is at its start, without building the start state
                /// (a string's start value is not allocated for it at every record).
                fn is_initial(&self) -> ::core::result::Result<bool, weir_runtime::JobError> {
                    #(if !#starts { return ::core::result::Result::Ok(false); })*
                    ::core::result::Result::Ok(true)
                }
                fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                    out.clear();
                    #(#puts)*
                }
                fn decode(mut bytes: &[u8]) -> ::core::result::Result<Self, weir_runtime::JobError> {
                    ::core::result::Result::Ok(PState { #(#takes,)* })
                }
            }
        }
    }

    /// Whether the state in field `f` of `self` is at its start.
    fn at_start(&self, f: &Ident, kind: &StateVarKind) -> TokenStream {
        match kind {
            StateVarKind::Scalar(Type::Str, init) => {
                let v = self.exprs.value(init);
                quote!((*self.#f == *(#v)))
            }
            StateVarKind::Scalar(_, init) => {
                let v = self.exprs.value(init);
                quote!((self.#f == (#v)))
            }
            StateVarKind::List(_) | StateVarKind::Map(..) => quote!(self.#f.is_empty()),
        }
    }
}
