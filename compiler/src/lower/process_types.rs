//! Type checking of a process function written as statements (`ir::process::ProcessBody`)
//! into a [`ProcessDef`]: its state declarations, its handlers' statements, and the one
//! shape every `emit` must agree on. Expressions are typed by [`ExprChecker`] with the
//! handler's names in scope.

use std::collections::BTreeMap;

use super::expr_types::{ExprChecker, ListUse};
use super::process_scope::{On, Scope};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::ir::process::{
    Handler, Place, ProcessBody, ProcessDef, StateDecl, StateVar, StateVarKind, Stmt, StmtKind,
    TStmt, TimerClock, Var,
};
use crate::ir::untyped::{Expr, Ident};
use crate::ir::{Field, Schema, TExpr, TExprKind, Type};

/// Checks `body`, a process function over records of `input` keyed by `key`, with event
/// time when `timed`.
pub fn check_process(
    body: &ProcessBody,
    input: &Schema,
    key: &[Field],
    timed: bool,
    at: &Span,
    diagnostics: &mut Diagnostics,
) -> Option<ProcessDef> {
    let mut checker = ProcessChecker {
        diagnostics,
        output: None,
        ok: true,
    };
    let states = checker.states(&body.states);
    let mut handlers: BTreeMap<&str, &Handler> = BTreeMap::new();
    for h in &body.handlers {
        match h.on.name.as_str() {
            "record" | "timer" => {
                if handlers.insert(&h.on.name, h).is_some() {
                    checker.report(Diagnostic::error(
                        format!("`on {}` is written twice", h.on.name),
                        h.on.span.clone(),
                        "a second handler",
                    ));
                }
            }
            other => {
                let mut d = Diagnostic::error(
                    format!("unknown handler `on {other}`"),
                    h.on.span.clone(),
                    "not a handler",
                )
                .with_help("a process has `on record { ... }` and `on timer { ... }`");
                if let Some(h) = did_you_mean(other, ["record", "timer"]) {
                    d = d.with_help(h);
                }
                checker.report(d);
            }
        }
    }
    if !handlers.contains_key("record") {
        checker.report(
            Diagnostic::error(
                "a process needs `on record { ... }`",
                at.clone(),
                "this process",
            )
            .with_help("`on record` runs for each record; `on timer`, for each timer"),
        );
    }
    let mut scope = Scope {
        on: On::Record,
        states: &states,
        key,
        locals: Vec::new(),
        timed,
        iteration: None,
    };
    let on_record = match handlers.get("record") {
        Some(h) => checker.block(&h.body, input, &mut scope),
        None => Vec::new(),
    };
    let key_schema = Schema::record(key.to_vec());
    scope.on = On::Timer;
    scope.locals.clear();
    let on_timer = match handlers.get("timer") {
        Some(h) => checker.block(&h.body, &key_schema, &mut scope),
        None => Vec::new(),
    };
    let Some((output, _)) = checker.output.take() else {
        checker.report(
            Diagnostic::error(
                "a process must emit records",
                at.clone(),
                "this process emits nothing",
            )
            .with_help("add `emit { name: expression, ... };` to a handler"),
        );
        return None;
    };
    checker.ok.then_some(ProcessDef {
        states,
        on_record,
        on_timer,
        output,
    })
}

pub(super) struct ProcessChecker<'d> {
    pub diagnostics: &'d mut Diagnostics,
    /// The fields of the first `emit`, and where it is.
    pub output: Option<(Vec<Field>, Span)>,
    pub ok: bool,
}

impl ProcessChecker<'_> {
    pub(super) fn report(&mut self, d: Diagnostic) {
        self.ok = false;
        self.diagnostics.push(d);
    }

    pub(super) fn type_named(&mut self, name: &Ident) -> Option<Type> {
        match Type::from_name(&name.name) {
            Some(t) => Some(t),
            None => {
                self.report(
                    Diagnostic::error(
                        format!("unknown type `{}`", name.name),
                        name.span.clone(),
                        "not a type",
                    )
                    .with_help("the types are bool, i64, u64, f64, str and timestamp"),
                );
                None
            }
        }
    }

    pub(super) fn states(&mut self, decls: &[StateDecl]) -> Vec<StateVar> {
        let mut states: Vec<StateVar> = Vec::new();
        let empty = Schema::record(Vec::new());
        for d in decls {
            if states.iter().any(|s| s.name == d.name.name) {
                self.report(Diagnostic::error(
                    format!("state `{}` is declared twice", d.name.name),
                    d.name.span.clone(),
                    "declared again",
                ));
                continue;
            }
            let Some(ty) = self.type_named(&d.ty) else {
                continue;
            };
            let kind = match (d.kind.name.as_str(), &d.value_ty, &d.init) {
                ("state", None, Some(init)) => {
                    let mut c = ExprChecker::new(&empty, self.diagnostics);
                    match c.check(init, Some(&ty), ListUse::Refused) {
                        Some(t) => StateVarKind::Scalar(ty, t),
                        None => {
                            self.ok = false;
                            continue;
                        }
                    }
                }
                ("state", None, None) => {
                    self.report(
                        Diagnostic::error(
                            format!("state `{}` needs an initial value", d.name.name),
                            d.span.clone(),
                            "no `= value`",
                        )
                        .with_help(format!("e.g. `state {}: {} = ...;`", d.name.name, ty)),
                    );
                    continue;
                }
                ("list", None, None) => StateVarKind::List(ty),
                ("map", Some(v), None) => {
                    let Some(v) = self.type_named(v) else {
                        continue;
                    };
                    if ty == Type::F64 {
                        self.report(Diagnostic::error(
                            "a map's keys cannot be f64",
                            d.ty.span.clone(),
                            "floats have no order to keep keys in",
                        ));
                        continue;
                    }
                    StateVarKind::Map(ty, v)
                }
                ("vertex" | "message" | "aggregate", _, _) => {
                    self.report(Diagnostic::error(
                        format!("`{}` declarations belong to an iteration", d.kind.name),
                        d.kind.span.clone(),
                        "not in a process",
                    ));
                    continue;
                }
                (kind, _, _) => {
                    let form = match kind {
                        "list" => "`list name: type;`",
                        "map" => "`map name: key_type -> value_type;`",
                        _ => "`state name: type = value;`",
                    };
                    self.report(Diagnostic::error(
                        format!("a {kind} declaration is written {form}"),
                        d.span.clone(),
                        "not in that form",
                    ));
                    continue;
                }
            };
            states.push(StateVar {
                name: d.name.name.clone(),
                kind,
            });
        }
        states
    }

    pub(super) fn expr(
        &mut self,
        e: &Expr,
        want: Option<&Type>,
        input: &Schema,
        scope: &Scope<'_>,
    ) -> Option<TExpr> {
        let t = ExprChecker::with_scope(input, scope, self.diagnostics).check(
            e,
            want,
            ListUse::Refused,
        );
        if t.is_none() {
            self.ok = false;
        }
        t
    }

    pub(super) fn block(
        &mut self,
        stmts: &[Stmt],
        input: &Schema,
        scope: &mut Scope<'_>,
    ) -> Vec<TStmt> {
        let depth = scope.locals.len();
        let out = stmts
            .iter()
            .filter_map(|s| self.stmt(s, input, scope))
            .collect();
        scope.locals.truncate(depth);
        out
    }

    fn stmt(&mut self, s: &Stmt, input: &Schema, scope: &mut Scope<'_>) -> Option<TStmt> {
        match &s.kind {
            StmtKind::Let(name, value) => {
                let t = self.expr(value, None, input, scope)?;
                scope.locals.push((name.name.clone(), t.ty.clone()));
                Some(TStmt::Let(name.name.clone(), t))
            }
            StmtKind::Assign(name, value) => self.assign(name, value, input, scope),
            StmtKind::If(cond, then, otherwise) => {
                let c = self.expr(cond, Some(&Type::Bool), input, scope);
                let then = self.block(then, input, scope);
                let otherwise = self.block(otherwise, input, scope);
                Some(TStmt::If(c?, then, otherwise))
            }
            StmtKind::For(vars, over, body) => self.for_each(vars, over, body, input, scope),
            StmtKind::Emit(fields) => self.emit(fields, s, input, scope),
            StmtKind::Timer {
                delete,
                processing,
                after,
                when,
            } => {
                if scope.iteration.is_some() {
                    self.report(Diagnostic::error(
                        "an iteration has no timers",
                        s.span.clone(),
                        "rounds run after the input ends, outside time",
                    ));
                    return None;
                }
                let clock = if *processing {
                    TimerClock::Processing
                } else {
                    TimerClock::Event
                };
                let time = if *after {
                    let d = self.expr(when, Some(&Type::I64), input, scope)?;
                    let span = d.span.clone();
                    TExpr {
                        kind: TExprKind::Binary(
                            crate::ir::BinOp::Add,
                            Box::new(TExpr {
                                kind: TExprKind::Var(Var::ProcessingTime),
                                ty: Type::Timestamp,
                                span: span.clone(),
                            }),
                            Box::new(d),
                        ),
                        ty: Type::Timestamp,
                        span,
                    }
                } else {
                    self.timer_time(when, input, scope)?
                };
                Some(TStmt::Timer {
                    clock,
                    delete: *delete,
                    time,
                })
            }
            StmtKind::Clear(name) => {
                self.state_named(name, scope)?;
                if !self.changeable(name, scope) {
                    return None;
                }
                Some(TStmt::Clear(name.name.clone()))
            }
            StmtKind::Call(name, args) => self.call(name, args, s, input, scope),
            StmtKind::Send(value) => self.send(value, s, input, scope),
            StmtKind::Contribute(name, key, value) => {
                self.contribute(name, key.as_ref(), value, s, input, scope)
            }
        }
    }

    /// Refuses a change of `name` where the iteration keeps it as it is: an aggregate
    /// (which takes values with `<-`), or the model outside `on round_end`.
    pub(super) fn changeable(&mut self, name: &Ident, scope: &Scope<'_>) -> bool {
        let Some(it) = &scope.iteration else {
            return true;
        };
        let why = if it.aggregates.contains(&name.name) {
            Some(format!(
                "an aggregate takes values with `{} <- value;`",
                name.name
            ))
        } else if scope.states.iter().any(|s| s.name == name.name) {
            it.model_fixed.map(str::to_string)
        } else {
            None
        };
        match why {
            Some(why) => {
                self.report(Diagnostic::error(
                    format!("`{}` cannot be changed here", name.name),
                    name.span.clone(),
                    why,
                ));
                false
            }
            None => true,
        }
    }

    /// `timer at T`: `T` must be a timestamp.
    fn timer_time(&mut self, when: &Expr, input: &Schema, scope: &Scope<'_>) -> Option<TExpr> {
        let t = ExprChecker::with_scope(input, scope, self.diagnostics).check(
            when,
            None,
            ListUse::Refused,
        );
        let t = match t {
            Some(t) => t,
            None => {
                self.ok = false;
                return None;
            }
        };
        if t.ty != Type::Timestamp {
            self.report(
                Diagnostic::error(
                    format!("`timer at` takes a timestamp, found {}", t.ty),
                    when.span.clone(),
                    format!("this is {}", t.ty),
                )
                .with_help(
                    "a time such as `ts + 1m` for a timestamp field `ts`; `timer after 1h` sets a processing-time timer an hour from now",
                ),
            );
            return None;
        }
        Some(t)
    }

    pub(super) fn state_named<'s>(
        &mut self,
        name: &Ident,
        scope: &Scope<'s>,
    ) -> Option<&'s StateVar> {
        match scope.states.iter().find(|s| s.name == name.name) {
            Some(s) => Some(s),
            None => {
                let mut d = Diagnostic::error(
                    format!("no state is called `{}`", name.name),
                    name.span.clone(),
                    "not a declared state",
                );
                let names: Vec<&str> = scope.states.iter().map(|s| s.name.as_str()).collect();
                if let Some(h) = did_you_mean(&name.name, names) {
                    d = d.with_help(h);
                } else {
                    d = d.with_help(format!(
                        "declare it first: `state {}: type = value;`",
                        name.name
                    ));
                }
                self.report(d);
                None
            }
        }
    }

    fn assign(
        &mut self,
        name: &Ident,
        value: &Expr,
        input: &Schema,
        scope: &Scope<'_>,
    ) -> Option<TStmt> {
        if let Some((_, ty)) = scope.locals.iter().rev().find(|(n, _)| *n == name.name) {
            let ty = ty.clone();
            let t = self.expr(value, Some(&ty), input, scope)?;
            return Some(TStmt::Assign(Place::Local(name.name.clone()), t));
        }
        let vertex_value = scope.iteration.as_ref().and_then(|it| {
            it.vertex_values
                .iter()
                .find(|(n, _)| *n == name.name)
                .map(|(_, ty)| ty.clone())
        });
        if let Some(ty) = vertex_value {
            let t = self.expr(value, Some(&ty), input, scope)?;
            return Some(TStmt::Assign(Place::Vertex(name.name.clone()), t));
        }
        let state = self.state_named(name, scope)?;
        if !self.changeable(name, scope) {
            return None;
        }
        let StateVarKind::Scalar(ty, _) = &state.kind else {
            self.report(
                Diagnostic::error(
                    format!(
                        "cannot assign to `{}`, a {}",
                        name.name,
                        state.kind.describe()
                    ),
                    name.span.clone(),
                    "not a single value",
                )
                .with_help("change a list with append and clear, a map with put, remove and clear"),
            );
            return None;
        };
        let t = self.expr(value, Some(ty), input, scope)?;
        Some(TStmt::Assign(Place::State(name.name.clone()), t))
    }

    fn emit(
        &mut self,
        fields: &[(Ident, Option<Expr>)],
        s: &Stmt,
        input: &Schema,
        scope: &Scope<'_>,
    ) -> Option<TStmt> {
        let mut values = Vec::new();
        let mut shape = Vec::new();
        for (name, value) in fields {
            if shape.iter().any(|f: &Field| f.name == name.name) {
                self.report(Diagnostic::error(
                    format!("field `{}` is given twice", name.name),
                    name.span.clone(),
                    "duplicate field",
                ));
                return None;
            }
            let e = value.clone().unwrap_or_else(|| Expr {
                kind: crate::ir::untyped::ExprKind::Name(name.name.clone()),
                span: name.span.clone(),
            });
            let t = self.expr(&e, None, input, scope)?;
            shape.push(Field {
                name: name.name.clone(),
                ty: t.ty.clone(),
            });
            values.push(t);
        }
        match &self.output {
            None => self.output = Some((shape, s.span.clone())),
            Some((first, at)) if *first != shape => {
                let describe = |fs: &[Field]| {
                    fs.iter()
                        .map(|f| format!("{}: {}", f.name, f.ty))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let d = Diagnostic::error(
                    "every emit of a process must make records of one shape",
                    s.span.clone(),
                    format!("this emits {{ {} }}", describe(&shape)),
                )
                .with_related(
                    at.clone(),
                    format!("the first emits {{ {} }}", describe(first)),
                );
                self.report(d);
                return None;
            }
            Some(_) => {}
        }
        Some(TStmt::Emit(values))
    }
}
