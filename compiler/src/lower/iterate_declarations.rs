//! An iteration's declarations, checked: the model (`state`, `list`, `map`, through the
//! process checker), vertex values (graph iterations; their initial values read
//! `vertex`, `vertices` and `out_degree`), the one message and the aggregates, each a
//! number combined by `sum`, `min` or `max`.

use super::expr_types::{ExprChecker, ListUse};
use super::iterate_scope::{Names, Place};
use super::process_types::ProcessChecker;
use crate::diagnostics::{Diagnostic, Span};
use crate::ir::iterate::{AggregateVar, Combine, MessageVar, VertexValue};
use crate::ir::process::{StateDecl, StateVar, StateVarKind};
use crate::ir::untyped::ExprKind;
use crate::ir::{Schema, TExpr, TExprKind, Type};

/// The declarations, checked.
pub(super) struct Declarations {
    pub model: Vec<StateVar>,
    pub vertex_values: Vec<VertexValue>,
    pub message: Option<MessageVar>,
    pub aggregates: Vec<AggregateVar>,
    /// The model and the aggregates, as the statements read them.
    pub readable: Vec<StateVar>,
}

impl Declarations {
    pub(super) fn check(c: &mut ProcessChecker<'_>, decls: &[StateDecl], graph: bool) -> Self {
        let model_decls: Vec<StateDecl> = decls
            .iter()
            .filter(|d| matches!(d.kind.name.as_str(), "state" | "list" | "map"))
            .cloned()
            .collect();
        let model = c.states(&model_decls);
        let mut out = Declarations {
            model,
            vertex_values: Vec::new(),
            message: None,
            aggregates: Vec::new(),
            readable: Vec::new(),
        };
        let mut seen: Vec<String> = out.model.iter().map(|s| s.name.clone()).collect();
        for d in decls {
            let kind = d.kind.name.as_str();
            if matches!(kind, "state" | "list" | "map") {
                continue;
            }
            if seen.contains(&d.name.name) {
                c.report(Diagnostic::error(
                    format!("`{}` is declared twice", d.name.name),
                    d.name.span.clone(),
                    "declared again",
                ));
                continue;
            }
            seen.push(d.name.name.clone());
            match kind {
                "vertex" => out.vertex(c, d, graph),
                "message" => out.message(c, d, graph),
                _ => out.aggregate(c, d),
            }
        }
        out.readable = out.model.clone();
        out.readable.extend(out.aggregates.iter().map(|a| StateVar {
            name: a.name.clone(),
            kind: match &a.key {
                Some(k) => StateVarKind::Map(k.clone(), a.ty.clone()),
                None => StateVarKind::Scalar(
                    a.ty.clone(),
                    TExpr {
                        kind: TExprKind::Lit(a.combine.identity(&a.ty)),
                        ty: a.ty.clone(),
                        span: Span { start: 0, end: 0 },
                    },
                ),
            },
        }));
        out
    }

    fn vertex(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl, graph: bool) {
        if !graph {
            c.report(
                Diagnostic::error(
                    "`vertex` values belong to a graph iteration",
                    d.kind.span.clone(),
                    "these records are not edges",
                )
                .with_help("read the records as edges: `iterate(graph src -> dst, ...)`"),
            );
            return;
        }
        let Some(ty) = c.type_named(&d.ty) else {
            return;
        };
        if ty == Type::Str || d.value_ty.is_some() {
            c.report(Diagnostic::error(
                "a vertex value is a number or a bool",
                d.span.clone(),
                "written `vertex name: f64 = value;`",
            ));
            return;
        }
        let Some(init) = &d.init else {
            c.report(
                Diagnostic::error(
                    format!("vertex value `{}` needs an initial value", d.name.name),
                    d.span.clone(),
                    "no `= value`",
                )
                .with_help("it may read `vertex`, `vertices` and `out_degree`"),
            );
            return;
        };
        let none = Names::default();
        let mut it = none.base(true, Place::Init);
        it.not_here.clear();
        let scope = Names::scope_of(&[], it);
        let empty = Schema::record(Vec::new());
        let Some(init) = ExprChecker::with_scope(&empty, &scope, c.diagnostics).check(
            init,
            Some(&ty),
            ListUse::Refused,
        ) else {
            c.ok = false;
            return;
        };
        self.vertex_values.push(VertexValue {
            name: d.name.name.clone(),
            ty,
            init,
        });
    }

    fn message(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl, graph: bool) {
        if !graph {
            c.report(
                Diagnostic::error(
                    "messages belong to a graph iteration",
                    d.kind.span.clone(),
                    "these records are not edges",
                )
                .with_help("read the records as edges: `iterate(graph src -> dst, ...)`"),
            );
            return;
        }
        if let Some(first) = &self.message {
            c.report(
                Diagnostic::error(
                    "an iteration sends one kind of message",
                    d.span.clone(),
                    "a second message",
                )
                .with_help(format!("`{}` is declared already", first.name)),
            );
            return;
        }
        let Some((ty, combine)) = combined_value(c, d, "message") else {
            return;
        };
        self.message = Some(MessageVar {
            name: d.name.name.clone(),
            ty,
            combine,
        });
    }

    fn aggregate(&mut self, c: &mut ProcessChecker<'_>, d: &StateDecl) {
        let key = match &d.value_ty {
            None => None,
            Some(_) => {
                let Some(k) = c.type_named(&d.ty) else {
                    return;
                };
                if !matches!(k, Type::U64 | Type::I64 | Type::Bool) {
                    c.report(Diagnostic::error(
                        "an aggregate's key is a u64, an i64 or a bool",
                        d.ty.span.clone(),
                        format!("{k} keys are not kept"),
                    ));
                    return;
                }
                Some(k)
            }
        };
        let Some((ty, combine)) = combined_value(c, d, "aggregate") else {
            return;
        };
        self.aggregates.push(AggregateVar {
            name: d.name.name.clone(),
            key,
            ty,
            combine,
        });
    }
}

/// The number type and combining function of `message name: type = sum;` or `aggregate
/// name: [key ->] type = sum;`.
fn combined_value(
    c: &mut ProcessChecker<'_>,
    d: &StateDecl,
    what: &str,
) -> Option<(Type, Combine)> {
    let ty_ident = d.value_ty.as_ref().unwrap_or(&d.ty);
    let ty = c.type_named(ty_ident)?;
    if !matches!(ty, Type::F64 | Type::U64 | Type::I64 | Type::Timestamp) {
        c.report(Diagnostic::error(
            format!(
                "a{} {what} is a number",
                if what == "aggregate" { "n" } else { "" }
            ),
            ty_ident.span.clone(),
            format!("{ty} cannot be combined"),
        ));
        return None;
    }
    let form = format!("`{what} {}: {} = sum;` (or min, max)", d.name.name, ty);
    let combine = match d.init.as_ref().map(|e| &e.kind) {
        Some(ExprKind::Name(n)) => Combine::from_name(n),
        _ => None,
    };
    match combine {
        Some(combine) => Some((ty, combine)),
        None => {
            c.report(
                Diagnostic::error(
                    format!("how does `{}` combine?", d.name.name),
                    d.init.as_ref().map_or(d.span.clone(), |e| e.span.clone()),
                    "sum, min or max",
                )
                .with_help(format!("write {form}")),
            );
            None
        }
    }
}
