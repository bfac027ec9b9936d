//! The statements only an iteration's handlers have: `send` (a message along each
//! out-edge) and `name <- value` (a value folded into an aggregate), type checked as the
//! process function checker checks the others.

use super::process_scope::Scope;
use super::process_types::ProcessChecker;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::process::{StateVarKind, Stmt, TStmt};
use crate::ir::untyped::{Expr, Ident};
use crate::ir::Schema;

impl ProcessChecker<'_> {
    /// `send value;`: a message of the declared type along each out-edge, the edge's
    /// columns in scope.
    pub(super) fn send(
        &mut self,
        value: &Expr,
        s: &Stmt,
        input: &Schema,
        scope: &mut Scope<'_>,
    ) -> Option<TStmt> {
        let allowed = match &scope.iteration {
            None => Err("`send` belongs to a graph iteration's `on round`"),
            Some(it) => it.send.clone(),
        };
        let (ty, edge) = match allowed {
            Ok(found) => found,
            Err(why) => {
                self.report(Diagnostic::error(
                    "`send` cannot be used here",
                    s.span.clone(),
                    why,
                ));
                return None;
            }
        };
        if let Some(it) = scope.iteration.as_mut() {
            it.edge = Some(edge);
        }
        let t = self.expr(value, Some(&ty), input, scope);
        if let Some(it) = scope.iteration.as_mut() {
            it.edge = None;
        }
        Some(TStmt::Send(t?))
    }

    /// `name <- value;` or `name[key] <- value;`: a value folded into an aggregate.
    pub(super) fn contribute(
        &mut self,
        name: &Ident,
        key: Option<&Expr>,
        value: &Expr,
        s: &Stmt,
        input: &Schema,
        scope: &Scope<'_>,
    ) -> Option<TStmt> {
        let Some(it) = &scope.iteration else {
            self.report(Diagnostic::error(
                "`<-` folds a value into an iteration's aggregate",
                s.span.clone(),
                "a process has no aggregates",
            ));
            return None;
        };
        if let Err(why) = it.contribute {
            self.report(Diagnostic::error(
                format!("`{}` cannot take values here", name.name),
                s.span.clone(),
                why,
            ));
            return None;
        }
        if !it.aggregates.contains(&name.name) {
            let mut d = Diagnostic::error(
                format!("no aggregate is called `{}`", name.name),
                name.span.clone(),
                "not a declared aggregate",
            );
            let names: Vec<&str> = it.aggregates.iter().map(String::as_str).collect();
            d = match did_you_mean(&name.name, names) {
                Some(h) => d.with_help(h),
                None => d.with_help(format!(
                    "declare it first: `aggregate {}: f64 = sum;`",
                    name.name
                )),
            };
            self.report(d);
            return None;
        }
        let state = self.state_named(name, scope)?;
        match (&state.kind, key) {
            (StateVarKind::Scalar(ty, _), None) => {
                let ty = ty.clone();
                let value = self.expr(value, Some(&ty), input, scope)?;
                Some(TStmt::Contribute {
                    aggregate: name.name.clone(),
                    key: None,
                    value,
                })
            }
            (StateVarKind::Map(k, v), Some(key)) => {
                let (k, v) = (k.clone(), v.clone());
                let key = self.expr(key, Some(&k), input, scope);
                let value = self.expr(value, Some(&v), input, scope);
                Some(TStmt::Contribute {
                    aggregate: name.name.clone(),
                    key: Some(key?),
                    value: value?,
                })
            }
            (StateVarKind::Map(..), None) => {
                self.report(
                    Diagnostic::error(
                        format!("`{}` is an aggregate by key", name.name),
                        s.span.clone(),
                        "no key given",
                    )
                    .with_help(format!("write `{}[key] <- value;`", name.name)),
                );
                None
            }
            (_, Some(key)) => {
                self.report(
                    Diagnostic::error(
                        format!("`{}` is one value, not an aggregate by key", name.name),
                        key.span.clone(),
                        "a key given",
                    )
                    .with_help(format!("write `{} <- value;`", name.name)),
                );
                None
            }
            (StateVarKind::List(_), None) => unreachable!("aggregates are values or maps"),
        }
    }
}
