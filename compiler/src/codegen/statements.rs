//! Checked statements (`ir::process::TStmt`) to Rust: what a process function's handlers
//! and an iteration's share (locals, assignments, branches, loops over list and map state,
//! the state calls). What a statement does to its operator (emitting, timers, messages,
//! aggregates) the operator writes, through [`OperatorStatements`].
//!
//! The places: a state is a field of `st` (`s_{name}`), a local `l_{name}`, a vertex's
//! value `v_{name}` (see `expr::process_var`).

use proc_macro2::TokenStream;
use quote::quote;

use super::expr::{state_field, ExprGen};
use super::names::ident;
use crate::ir::process::{Place, StateVar, StateVarKind, TStmt, TimerClock};
use crate::ir::{TExpr, TExprKind, Type};

/// The statements that belong to one operator.
pub(crate) trait OperatorStatements {
    /// `emit { ... }`: the values in the output's field order, each an owned value or a
    /// borrow of the record ([`StatementCode::emitted`]).
    fn emit(&self, values: Vec<TokenStream>) -> TokenStream;

    /// `[delete] timer at ...` (a process's).
    fn timer(&self, clock: TimerClock, delete: bool, time: TokenStream) -> TokenStream {
        let _ = (clock, delete, time);
        unreachable!("the checker allows timers only in a process")
    }

    /// `send value;` (an iteration's), the value evaluated per edge.
    fn send(&self, code: &StatementCode<'_>, value: &TExpr) -> TokenStream {
        let _ = (code, value);
        unreachable!("the checker allows `send` only in an iteration")
    }

    /// `name <- value;` or `name[key] <- value;` (an iteration's).
    fn contribute(
        &self,
        code: &StatementCode<'_>,
        aggregate: &str,
        key: Option<&TExpr>,
        value: &TExpr,
    ) -> TokenStream {
        let _ = (code, aggregate, key, value);
        unreachable!("the checker allows `<-` only in an iteration")
    }
}

/// Writes statements over the states `states` (fields of `st`).
pub(crate) struct StatementCode<'a> {
    /// Expressions, over the record in scope.
    pub exprs: &'a ExprGen<'a>,
    /// Every state the statements may name.
    pub states: &'a [StateVar],
    /// The operator's own statements.
    pub ops: &'a dyn OperatorStatements,
}

/// The Rust type a state value of `ty` is kept as.
pub(crate) fn owned_type(ty: &Type) -> TokenStream {
    match ty {
        Type::Bool => quote!(bool),
        Type::I64 | Type::Timestamp => quote!(i64),
        Type::U64 => quote!(u64),
        Type::F64 => quote!(f64),
        _ => quote!(::std::string::String),
    }
}

impl StatementCode<'_> {
    /// An owned value of `e`: numbers as they are, strings as a `String`.
    pub fn owned(&self, e: &TExpr) -> TokenStream {
        let v = self.exprs.value(e);
        if e.ty == Type::Str {
            quote!((#v).into_owned())
        } else {
            v
        }
    }

    /// A state's member in a struct of states: its type and its initial value.
    pub fn member(&self, s: &StateVar) -> (TokenStream, TokenStream) {
        match &s.kind {
            StateVarKind::Scalar(t, init) => (owned_type(t), self.owned(init)),
            StateVarKind::List(t) => {
                let t = owned_type(t);
                (quote!(::std::vec::Vec<#t>), quote!(::std::vec::Vec::new()))
            }
            StateVarKind::Map(k, v) => {
                let (k, v) = (owned_type(k), owned_type(v));
                (
                    quote!(::std::collections::BTreeMap<#k, #v>),
                    quote!(::std::collections::BTreeMap::new()),
                )
            }
        }
    }

    /// The values of an `emit`: a record's fields borrowed (the record outlives the
    /// output), numbers as they are, other strings owned (the state and locals change).
    pub fn emitted(&self, values: &[TExpr]) -> Vec<TokenStream> {
        values
            .iter()
            .map(|e| match (&e.kind, &e.ty) {
                (TExprKind::Field(..), _)
                | (_, Type::Bool | Type::I64 | Type::U64 | Type::F64 | Type::Timestamp) => {
                    self.exprs.value(e)
                }
                _ => {
                    let v = self.exprs.value(e);
                    quote!(::std::borrow::Cow::Owned((#v).into_owned()))
                }
            })
            .collect()
    }

    /// The statements in order.
    pub fn block(&self, stmts: &[TStmt]) -> TokenStream {
        let stmts = stmts.iter().map(|s| self.stmt(s));
        quote!(#(#stmts)*)
    }

    fn stmt(&self, s: &TStmt) -> TokenStream {
        match s {
            TStmt::Let(name, e) => {
                let l = ident(&format!("l_{name}"));
                let v = self.owned(e);
                quote!(let mut #l = #v;)
            }
            TStmt::Assign(place, e) => {
                let v = self.owned(e);
                let target = match place {
                    Place::State(name) => {
                        let f = state_field(name);
                        quote!(st.#f)
                    }
                    Place::Local(name) => {
                        let l = ident(&format!("l_{name}"));
                        quote!(#l)
                    }
                    Place::Vertex(name) => {
                        let l = ident(&format!("v_{name}"));
                        quote!(#l)
                    }
                };
                quote!(#target = #v;)
            }
            TStmt::If(c, then, otherwise) => {
                let c = self.exprs.value(c);
                let (then, otherwise) = (self.block(then), self.block(otherwise));
                quote!(if #c { #then } else { #otherwise })
            }
            TStmt::ForList { var, list, body } => {
                let f = state_field(list);
                let l = ident(&format!("l_{var}"));
                let body_code = self.block(body);
                // A body that changes the list goes through a copy of it.
                if changes(body, list) {
                    quote!(for mut #l in st.#f.clone() { #body_code })
                } else {
                    quote!(for mut #l in st.#f.iter().cloned() { #body_code })
                }
            }
            TStmt::ForMap {
                key,
                value,
                map,
                body,
            } => {
                let f = state_field(map);
                let (k, v) = (ident(&format!("l_{key}")), ident(&format!("l_{value}")));
                let body_code = self.block(body);
                if changes(body, map) {
                    quote!(for (mut #k, mut #v) in st.#f.clone() { #body_code })
                } else {
                    quote! {
                        for (mut #k, mut #v) in st.#f.iter().map(|(k, v)| (k.clone(), v.clone())) {
                            #body_code
                        }
                    }
                }
            }
            TStmt::Emit(values) => self.ops.emit(self.emitted(values)),
            TStmt::Timer {
                clock,
                delete,
                time,
            } => self.ops.timer(*clock, *delete, self.exprs.value(time)),
            TStmt::Clear(name) => {
                let f = state_field(name);
                let s = self
                    .states
                    .iter()
                    .find(|s| s.name == *name)
                    .expect("the checker found the state");
                match &s.kind {
                    StateVarKind::Scalar(_, init) => {
                        let v = self.owned(init);
                        quote!(st.#f = #v;)
                    }
                    _ => quote!(st.#f.clear();),
                }
            }
            TStmt::Append(list, x) => {
                let f = state_field(list);
                let v = self.owned(x);
                quote!(st.#f.push(#v);)
            }
            TStmt::Put(map, k, v) => {
                let f = state_field(map);
                let (k, v) = (self.owned(k), self.owned(v));
                quote!(st.#f.insert(#k, #v);)
            }
            TStmt::Remove(map, k) => {
                let f = state_field(map);
                let k = self.exprs.map_key(k);
                quote!(st.#f.remove(#k);)
            }
            TStmt::Send(value) => self.ops.send(self, value),
            TStmt::Contribute {
                aggregate,
                key,
                value,
            } => self.ops.contribute(self, aggregate, key.as_ref(), value),
        }
    }
}

/// Whether `stmts` change the list or map state `name`.
fn changes(stmts: &[TStmt], name: &str) -> bool {
    stmts.iter().any(|s| match s {
        TStmt::Append(n, _) | TStmt::Put(n, _, _) | TStmt::Remove(n, _) | TStmt::Clear(n) => {
            n == name
        }
        TStmt::If(_, a, b) => changes(a, name) || changes(b, name),
        TStmt::ForList { body, .. } | TStmt::ForMap { body, .. } => changes(body, name),
        _ => false,
    })
}
