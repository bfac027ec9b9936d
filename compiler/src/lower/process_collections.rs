//! The statements of a process function over its list and map states: `for x in list`,
//! `for (k, v) in map`, and the calls that change them, `append`, `put` and `remove`.

use super::process_scope::Scope;
use super::process_types::ProcessChecker;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::process::{StateVarKind, Stmt, TStmt};
use crate::ir::untyped::{Expr, Ident};
use crate::ir::Schema;

impl ProcessChecker<'_> {
    pub(super) fn for_each(
        &mut self,
        vars: &[Ident],
        over: &Ident,
        body: &[Stmt],
        input: &Schema,
        scope: &mut Scope<'_>,
    ) -> Option<TStmt> {
        let state = self.state_named(over, scope)?;
        let depth = scope.locals.len();
        let made = match (&state.kind, vars) {
            (StateVarKind::List(t), [var]) => {
                scope.locals.push((var.name.clone(), t.clone()));
                let body = self.block(body, input, scope);
                TStmt::ForList {
                    var: var.name.clone(),
                    list: over.name.clone(),
                    body,
                }
            }
            (StateVarKind::Map(k, v), [key, value]) => {
                scope.locals.push((key.name.clone(), k.clone()));
                scope.locals.push((value.name.clone(), v.clone()));
                let body = self.block(body, input, scope);
                TStmt::ForMap {
                    key: key.name.clone(),
                    value: value.name.clone(),
                    map: over.name.clone(),
                    body,
                }
            }
            (kind, _) => {
                let form = match kind {
                    StateVarKind::List(_) => format!("for x in {} {{ ... }}", over.name),
                    StateVarKind::Map(..) => format!("for k, v in {} {{ ... }}", over.name),
                    StateVarKind::Scalar(..) => String::new(),
                };
                let d = Diagnostic::error(
                    format!("cannot go through `{}`, a {}", over.name, kind.describe()),
                    over.span.clone(),
                    "here",
                );
                self.report(if form.is_empty() {
                    d.with_help("only list and map states can be gone through")
                } else {
                    d.with_help(format!("write `{form}`"))
                });
                return None;
            }
        };
        scope.locals.truncate(depth);
        Some(made)
    }

    pub(super) fn call(
        &mut self,
        name: &Ident,
        args: &[Expr],
        s: &Stmt,
        input: &Schema,
        scope: &Scope<'_>,
    ) -> Option<TStmt> {
        let (want, arity) = match name.name.as_str() {
            "append" => ("list", 2),
            "put" => ("map", 3),
            "remove" => ("map", 2),
            other => {
                let mut d = Diagnostic::error(
                    format!("`{other}(...)` is not a statement"),
                    name.span.clone(),
                    "not a statement",
                )
                .with_help(
                    "the statement calls are append(list, x), put(map, k, v) and remove(map, k)",
                );
                if let Some(h) = did_you_mean(other, ["append", "put", "remove"]) {
                    d = d.with_help(h);
                }
                self.report(d);
                return None;
            }
        };
        if args.len() != arity {
            self.report(Diagnostic::error(
                format!(
                    "`{}` takes {arity} arguments, found {}",
                    name.name,
                    args.len()
                ),
                s.span.clone(),
                "this call",
            ));
            return None;
        }
        let crate::ir::untyped::ExprKind::Name(target) = &args[0].kind else {
            self.report(Diagnostic::error(
                format!("the first argument of `{}` names a {want} state", name.name),
                args[0].span.clone(),
                "not a state's name",
            ));
            return None;
        };
        let target_ident = Ident {
            name: target.clone(),
            span: args[0].span.clone(),
        };
        let state = self.state_named(&target_ident, scope)?;
        if !self.changeable(&target_ident, scope) {
            return None;
        }
        match (&state.kind, name.name.as_str()) {
            (StateVarKind::List(t), "append") => {
                let t = t.clone();
                let x = self.expr(&args[1], Some(&t), input, scope)?;
                Some(TStmt::Append(target.clone(), x))
            }
            (StateVarKind::Map(k, v), "put") => {
                let (k, v) = (k.clone(), v.clone());
                let key = self.expr(&args[1], Some(&k), input, scope);
                let value = self.expr(&args[2], Some(&v), input, scope);
                Some(TStmt::Put(target.clone(), key?, value?))
            }
            (StateVarKind::Map(k, _), "remove") => {
                let k = k.clone();
                let key = self.expr(&args[1], Some(&k), input, scope)?;
                Some(TStmt::Remove(target.clone(), key))
            }
            (kind, op) => {
                self.report(
                    Diagnostic::error(
                        format!(
                            "`{op}` is for a {want} state; `{target}` is a {}",
                            kind.describe()
                        ),
                        args[0].span.clone(),
                        format!("a {}", kind.describe()),
                    )
                    .with_help(match kind {
                        StateVarKind::Scalar(..) => {
                            format!("set a single value by assignment: `{target} = ...;`")
                        }
                        StateVarKind::List(_) => "a list takes append(list, x)".to_string(),
                        StateVarKind::Map(..) => {
                            "a map takes put(map, k, v) and remove(map, k)".to_string()
                        }
                    }),
                );
                None
            }
        }
    }
}
