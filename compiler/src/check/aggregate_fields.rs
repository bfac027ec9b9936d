//! The aggregates of `aggregate { ... }` as `.pipe` writes them (`n: count()`, `total:
//! sum(price)`, ...), each checked against the input's fields.

use super::PipeFront;
use crate::diagnostics::did_you_mean;
use crate::diagnostics::Diagnostic;
use crate::ir::{AggFunc, AggregateField, Code, Field, Schema};
use crate::lower::expr_types::{ExprChecker, ListUse};
use crate::parse::ast::{ExprKind, FieldInit};

impl PipeFront<'_> {
    pub(super) fn aggregate_field(
        &mut self,
        schema: &Schema,
        f: &FieldInit,
    ) -> Option<AggregateField> {
        let call = f.value.as_ref().and_then(|v| match &v.kind {
            ExprKind::Call(name, args) => Some((name, args, v)),
            _ => None,
        });
        let all = AggFunc::NAMES.join(", ");
        let Some((fname, args, whole)) = call else {
            let span = f
                .value
                .as_ref()
                .map_or(f.name.span.clone(), |v| v.span.clone());
            return self.report(
                Diagnostic::error(
                    format!("`{}` must be an aggregate function", f.name.name),
                    span,
                    "not an aggregate",
                )
                .with_help(format!("the aggregate functions are {all}")),
            );
        };
        let Some(func) = AggFunc::from_name(&fname.name) else {
            return self.report(
                Diagnostic::error(
                    format!("unknown aggregate function `{}`", fname.name),
                    fname.span.clone(),
                    "not an aggregate function",
                )
                .with_help(format!("the aggregate functions are {all}"))
                .with_help_opt(did_you_mean(&fname.name, AggFunc::NAMES.iter().copied())),
            );
        };
        let wanted = func.arguments();
        // `collect_list(e, "separator")`: the separator is a string literal (default ",",
        // as SQL's LISTAGG).
        let (args, separator) = match (func, args.as_slice()) {
            (AggFunc::CollectList, [value, sep]) => match &sep.kind {
                ExprKind::Str(text) => (std::slice::from_ref(value), Some(text.clone())),
                _ => {
                    return self.report(
                        Diagnostic::error(
                            "`collect_list`'s separator is a string literal",
                            sep.span.clone(),
                            "not a string literal",
                        )
                        .with_help("write `collect_list(page, \" > \")`"),
                    )
                }
            },
            (AggFunc::CollectList, _) => (args.as_slice(), Some(",".to_string())),
            _ => (args.as_slice(), None),
        };
        if args.len() != wanted {
            return self.report(Diagnostic::error(
                format!(
                    "`{}` takes {wanted} argument(s), found {}",
                    func.name(),
                    args.len()
                ),
                whole.span.clone(),
                "here",
            ));
        }
        let arg = match args.first() {
            Some(a) => Some(ExprChecker::new(schema, &mut self.diagnostics).check(
                a,
                None,
                ListUse::Refused,
            )?),
            None => None,
        };
        if let Some(a) = &arg {
            if let Err((message, label)) = func.accepts(&a.ty) {
                return self.report(Diagnostic::error(message, a.span.clone(), label));
            }
        }
        let mut combine = None;
        if let (Some(a), Some(c)) = (&arg, args.get(1)) {
            // The combining expression sees the running value as `a` and the new one as `b`.
            let pair = Schema::record(vec![
                Field {
                    name: "a".into(),
                    ty: a.ty.clone(),
                },
                Field {
                    name: "b".into(),
                    ty: a.ty.clone(),
                },
            ]);
            combine = Some(ExprChecker::new(&pair, &mut self.diagnostics).check(
                c,
                Some(&a.ty),
                ListUse::Refused,
            )?);
        }
        let ty = func.result_type(arg.as_ref().map(|a| &a.ty));
        Some(AggregateField {
            name: f.name.name.clone(),
            func,
            arg: arg.map(Code::Expr),
            combine: combine.map(Code::Expr),
            ty,
            separator,
        })
    }
}
