//! The types of built-in function calls: what each function takes and gives
//! (`docs/language.md`'s table), and the literals some must be given (a pattern, a time
//! unit), checked here so that a mistake is a compile error, not a failed job.

use super::expr_types::{ExprChecker, ListUse};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::untyped::{Expr, Ident};
use crate::ir::{AggFunc, Func, Literal, TExpr, TExprKind, Type};

/// What a function's arguments must be.
enum Params {
    /// These types, in order; the last `optional` may be left out.
    Fixed(&'static [Type], usize),
    /// One or more, all `str`.
    Strings,
    /// One or more, all of one comparable type (a number, timestamp or `str`), which is
    /// the result's too.
    Alike,
}

/// The parameters and result of `func` (`None` where the arguments decide it); `None` for
/// `abs`, whose result is its argument's type.
fn signature(func: Func) -> Option<(Params, Option<Type>)> {
    use Params::Fixed;
    use Type::{Bool, Str, Timestamp, F64, I64, U64};
    const STR: &[Type] = &[Str];
    const STR2: &[Type] = &[Str, Str];
    const F1: &[Type] = &[F64];
    let (params, ret) = match func {
        Func::Lower | Func::Upper | Func::Trim => (Fixed(STR, 0), Str),
        Func::Len => (Fixed(STR, 0), U64),
        Func::Split => (Fixed(STR2, 0), Type::List(Box::new(Str))),
        Func::SplitWhitespace => (Fixed(STR, 0), Type::List(Box::new(Str))),
        Func::Contains | Func::StartsWith | Func::EndsWith => (Fixed(STR2, 0), Bool),
        Func::Concat => (Params::Strings, Str),
        Func::Substring => (Fixed(&[Str, I64, I64], 1), Str),
        Func::Replace => (Fixed(&[Str, Str, Str], 0), Str),
        Func::SplitPart => (Fixed(&[Str, Str, I64], 0), Str),
        Func::Regexp => (Fixed(STR2, 0), Bool),
        Func::RegexpExtract => (Fixed(&[Str, Str, I64], 1), Str),
        Func::Sqrt | Func::Floor | Func::Ceil | Func::Ln | Func::Exp => (Fixed(F1, 0), F64),
        Func::Round => (Fixed(&[F64, I64], 1), F64),
        Func::Pow => (Fixed(&[F64, F64], 0), F64),
        Func::Greatest | Func::Least => return Some((Params::Alike, None)),
        Func::DateTrunc => (Fixed(&[Str, Timestamp], 0), Timestamp),
        Func::Extract => (Fixed(&[Str, Timestamp], 0), I64),
        Func::FormatTime => (Fixed(&[Timestamp, Str], 1), Str),
        Func::ParseTime => (Fixed(STR2, 0), Timestamp),
        Func::Abs => return None,
    };
    Some((params, Some(ret)))
}

/// The argument of `func` that must be a string literal, if one must (its index).
fn literal_argument(func: Func) -> Option<usize> {
    match func {
        Func::Regexp | Func::RegexpExtract | Func::ParseTime | Func::FormatTime => Some(1),
        Func::DateTrunc | Func::Extract => Some(0),
        _ => None,
    }
}

impl ExprChecker<'_> {
    /// `name(args)`, a built-in function's call (`e`).
    pub(super) fn function_call(&mut self, name: &Ident, args: &[Expr], e: &Expr) -> Option<TExpr> {
        let Some(func) = Func::from_name(&name.name) else {
            let mut d = Diagnostic::error(
                format!("unknown function `{}`", name.name),
                name.span.clone(),
                "not a function",
            );
            if AggFunc::from_name(&name.name).is_some() {
                d = d.with_help(format!(
                    "`{}` is an aggregate function: use it inside aggregate {{ name: {}(...) }} after key_by",
                    name.name, name.name
                ));
            } else if let Some(h) = did_you_mean(&name.name, Func::names()) {
                d = d.with_help(h);
            }
            self.error(d);
            return None;
        };
        let Some((params, ret)) = signature(func) else {
            return self.abs(args, e);
        };
        let args = match params {
            Params::Fixed(types, optional) => {
                let (min, max) = (types.len() - optional, types.len());
                if !(min..=max).contains(&args.len()) {
                    let count = if min == max {
                        format!("{min}")
                    } else {
                        format!("{min} or {max}")
                    };
                    return self.arity(func, &count, args.len(), e);
                }
                let checked: Vec<Option<TExpr>> = args
                    .iter()
                    .zip(types)
                    .map(|(a, t)| self.check(a, Some(t), ListUse::Refused))
                    .collect();
                checked.into_iter().collect::<Option<Vec<_>>>()?
            }
            Params::Strings => {
                if args.is_empty() {
                    return self.arity(func, "at least 1", 0, e);
                }
                let checked: Vec<Option<TExpr>> = args
                    .iter()
                    .map(|a| self.check(a, Some(&Type::Str), ListUse::Refused))
                    .collect();
                checked.into_iter().collect::<Option<Vec<_>>>()?
            }
            Params::Alike => self.alike(func, args, e)?,
        };
        self.literals(func, &args)?;
        Some(TExpr {
            ty: ret.unwrap_or_else(|| args[0].ty.clone()),
            kind: TExprKind::Call(func, args),
            span: e.span.clone(),
        })
    }

    fn arity(&mut self, func: Func, count: &str, found: usize, e: &Expr) -> Option<TExpr> {
        self.error(Diagnostic::error(
            format!("`{}` takes {count} argument(s), found {found}", func.name()),
            e.span.clone(),
            "this call",
        ));
        None
    }

    /// `greatest`/`least`: one or more arguments of the first one's type, a number, a
    /// timestamp or a string.
    fn alike(&mut self, func: Func, args: &[Expr], e: &Expr) -> Option<Vec<TExpr>> {
        let Some((first, rest)) = args.split_first() else {
            self.arity(func, "at least 1", 0, e);
            return None;
        };
        let first = self.check(first, None, ListUse::Refused)?;
        if !matches!(
            first.ty,
            Type::U64 | Type::I64 | Type::F64 | Type::Timestamp | Type::Str
        ) {
            self.error(Diagnostic::error(
                format!(
                    "`{}` compares numbers, timestamps or strings, not {}",
                    func.name(),
                    first.ty
                ),
                first.span.clone(),
                format!("this is {}", first.ty),
            ));
            return None;
        }
        let ty = first.ty.clone();
        let mut all = vec![first];
        for a in rest {
            all.push(self.check(a, Some(&ty), ListUse::Refused)?);
        }
        Some(all)
    }

    /// The literal arguments some functions need: a pattern that compiles, a time unit
    /// the function knows, a group the pattern has.
    fn literals(&mut self, func: Func, args: &[TExpr]) -> Option<()> {
        let Some(i) = literal_argument(func) else {
            return Some(());
        };
        let Some(arg) = args.get(i) else {
            return Some(());
        };
        let TExprKind::Lit(Literal::Str(text)) = &arg.kind else {
            let what = match func {
                Func::DateTrunc | Func::Extract => "the time unit, such as \"hour\"",
                Func::Regexp | Func::RegexpExtract => "the pattern",
                _ => "the pattern, such as \"%Y-%m-%d\"",
            };
            self.error(Diagnostic::error(
                format!("`{}` takes {what} as a string literal", func.name()),
                arg.span.clone(),
                "not a string literal",
            ));
            return None;
        };
        let problem = match func {
            Func::Regexp | Func::RegexpExtract => self.pattern(func, text, args),
            Func::DateTrunc | Func::Extract => time_unit(func, text),
            _ => weir_runtime::expr::check_pattern(text)
                .err()
                .map(|e| format!("not a time pattern: {e}")),
        };
        match problem {
            Some(message) => {
                self.error(Diagnostic::error(message, arg.span.clone(), "here"));
                None
            }
            None => Some(()),
        }
    }

    /// What is wrong with regular expression `text`, if anything: it must compile, and
    /// have the group `regexp_extract` asks for (a literal).
    fn pattern(&mut self, func: Func, text: &str, args: &[TExpr]) -> Option<String> {
        let pattern = match weir_runtime::expr::Pattern::new(text) {
            Ok(p) => p,
            Err(e) => return Some(format!("not a regular expression: {e}")),
        };
        if func != Func::RegexpExtract {
            return None;
        }
        let group = match args.get(2).map(|g| &g.kind) {
            None => 1,
            Some(TExprKind::Lit(Literal::I64(g))) => *g,
            Some(_) => {
                return Some("`regexp_extract` takes the group as an integer literal".into())
            }
        };
        match usize::try_from(group) {
            Ok(g) if g <= pattern.groups() => None,
            _ => Some(format!(
                "the pattern has {} group(s), so there is no group {group} to extract (0 is the whole match)",
                pattern.groups()
            )),
        }
    }
}

/// What is wrong with the time unit `text` of `func`, if anything.
fn time_unit(func: Func, text: &str) -> Option<String> {
    use weir_runtime::expr::TimeField;
    let known = TimeField::from_name(text);
    let fits = known.is_some_and(|f| func == Func::Extract || f.truncates());
    if fits {
        return None;
    }
    let names: Vec<&str> = TimeField::ALL
        .iter()
        .filter(|(_, f)| func == Func::Extract || f.truncates())
        .map(|&(n, _)| n)
        .collect();
    Some(format!(
        "`{}` takes one of the units {}, not {text:?}",
        func.name(),
        names.join(", ")
    ))
}

impl ExprChecker<'_> {
    /// `abs(x)`: of an `i64` or `f64`, of the same type.
    fn abs(&mut self, args: &[Expr], e: &Expr) -> Option<TExpr> {
        let [arg] = args else {
            self.error(Diagnostic::error(
                format!("`abs` takes 1 argument(s), found {}", args.len()),
                e.span.clone(),
                "this call",
            ));
            return None;
        };
        let x = self.check(arg, None, ListUse::Refused)?;
        if !matches!(x.ty, Type::I64 | Type::F64) {
            self.error(Diagnostic::error(
                format!("`abs` takes an i64 or f64, not {}", x.ty),
                arg.span.clone(),
                format!("this is {}", x.ty),
            ));
            return None;
        }
        Some(TExpr {
            ty: x.ty.clone(),
            kind: TExprKind::Call(Func::Abs, vec![x]),
            span: e.span.clone(),
        })
    }
}
