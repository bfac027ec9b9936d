//! Typed expressions to Rust expressions over a record variable.
//!
//! Numbers are Rust numbers; integer arithmetic wraps, as in Java and so in Flink. Strings
//! are produced as `WeirStr` (a `Cow<str>`) and consumed as `&str`. Whatever can fail at run
//! time (integer division by zero, parsing text as a number) returns a `JobError` naming
//! the expression's place in the `.pipe` file, through `?`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::names::field_ident;
use crate::diagnostics::SourceFile;
use crate::ir::process::{StateFunc, Var};
use crate::ir::{BinOp, Func, Literal, TExpr, TExprKind, Type, UnOp};

/// Generates expressions over the record in `record`.
pub struct ExprGen<'a> {
    /// The record variable.
    pub record: &'a Ident,
    /// Fields are local variables of their own name rather than members of `record` (for
    /// `reduce`'s combining expression over `a` and `b`).
    pub locals: bool,
    /// For the places named in run-time errors.
    pub file: &'a SourceFile,
    /// Inside a chain method, which declares a reused buffer for each `lower`/`upper` of a
    /// field ([`scratch_idents`]), so a word that needs lowering costs no allocation.
    pub scratch: bool,
}

/// The scratch buffers `tokens` uses, each once, in order of first use.
pub fn scratch_idents(tokens: &TokenStream) -> Vec<Ident> {
    fn walk(tokens: TokenStream, found: &mut Vec<Ident>) {
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Ident(i)
                    if super::names::is_scratch(&i) && !found.contains(&i) =>
                {
                    found.push(i)
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), found),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    walk(tokens.clone(), &mut found);
    found
}

impl ExprGen<'_> {
    /// The expression's value: a number, a bool, or a `WeirStr` for strings.
    pub fn value(&self, e: &TExpr) -> TokenStream {
        match &e.kind {
            TExprKind::Lit(l) => literal(l),
            TExprKind::Field(_, name) if self.locals => {
                let f = field_ident(name);
                quote!(#f)
            }
            TExprKind::Field(_, name) => {
                let r = self.record;
                let f = field_ident(name);
                if e.ty == Type::Str {
                    quote!(::std::borrow::Cow::Borrowed(&*#r.#f))
                } else {
                    quote!(#r.#f)
                }
            }
            TExprKind::Unary(UnOp::Not, a) => {
                let a = self.value(a);
                quote!((!#a))
            }
            TExprKind::Unary(UnOp::Neg, a) => {
                let a = self.value(a);
                if e.ty == Type::F64 {
                    quote!((-#a))
                } else {
                    quote!(#a.wrapping_neg())
                }
            }
            TExprKind::Binary(op, a, b) => self.binary(*op, a, b, e),
            TExprKind::If(c, a, b) => {
                let (c, a, b) = (self.value(c), self.value(a), self.value(b));
                quote!((if #c { #a } else { #b }))
            }
            TExprKind::Cast(a) => self.cast(a, &e.ty, e),
            TExprKind::Call(f, args) => self.call(*f, args, e),
            TExprKind::Var(v) => {
                let place = process_var(v);
                if e.ty == Type::Str {
                    quote!(::std::borrow::Cow::Borrowed(&*#place))
                } else {
                    quote!(#place)
                }
            }
            TExprKind::StateCall(f, state, args) => self.state_call(*f, state, args, &e.ty),
        }
    }

    /// `len`, `get` or `contains` of a list or map state (a field of the state `st`).
    fn state_call(&self, f: StateFunc, state: &str, args: &[TExpr], ty: &Type) -> TokenStream {
        let s = state_field(state);
        match f {
            StateFunc::Len => quote!((st.#s.len() as u64)),
            StateFunc::Contains => {
                let k = self.map_key(&args[0]);
                quote!(st.#s.contains_key(#k))
            }
            StateFunc::Get => {
                let k = self.map_key(&args[0]);
                let default = self.value(&args[1]);
                if *ty == Type::Str {
                    quote!(match st.#s.get(#k) {
                        ::core::option::Option::Some(v) => ::std::borrow::Cow::<'static, str>::Owned(v.clone()),
                        ::core::option::Option::None => ::std::borrow::Cow::Owned((#default).into_owned()),
                    })
                } else {
                    quote!(st.#s.get(#k).copied().unwrap_or(#default))
                }
            }
        }
    }

    /// A map state's key for a lookup: `&str` for strings, a reference to the value else.
    pub fn map_key(&self, k: &TExpr) -> TokenStream {
        if k.ty == Type::Str {
            self.str_ref(k)
        } else {
            let v = self.value(k);
            quote!(&(#v))
        }
    }

    /// A `&str` for a string expression. Borrows the record for fields, and a temporary
    /// (alive to the end of the enclosing statement) otherwise.
    pub fn str_ref(&self, e: &TExpr) -> TokenStream {
        match &e.kind {
            TExprKind::Lit(Literal::Str(s)) => quote!(#s),
            TExprKind::Field(_, name) => {
                let r = self.record;
                let f = field_ident(name);
                quote!(&*#r.#f)
            }
            TExprKind::Var(v) => {
                let place = process_var(v);
                quote!(&*#place)
            }
            _ => {
                let v = self.value(e);
                quote!(&*#v)
            }
        }
    }

    /// An iterator over the elements of a list expression (for `flat_map`).
    pub fn list(&self, e: &TExpr) -> TokenStream {
        match &e.kind {
            TExprKind::Call(Func::SplitWhitespace, args) => {
                let s = self.str_ref(&args[0]);
                quote!(weir_runtime::expr::split_whitespace(#s))
            }
            TExprKind::Call(Func::Split, args) => {
                let s = self.str_ref(&args[0]);
                let sep = self.str_ref(&args[1]);
                quote!((#s).split(#sep))
            }
            TExprKind::If(c, a, b) => {
                // Both branches become one iterator type by collecting neither: a boxed
                // iterator would be dynamic dispatch, so pick the branch per element source.
                let c = self.value(c);
                let (a, b) = (self.list(a), self.list(b));
                quote!((if #c { weir_runtime::expr::Either::Left(#a) } else { weir_runtime::expr::Either::Right(#b) }))
            }
            _ => unreachable!("the checker only lets list-valued calls and ifs reach flat_map"),
        }
    }

    fn location(&self, e: &TExpr) -> String {
        self.file.location(e.span.start)
    }

    fn binary(&self, op: BinOp, a: &TExpr, b: &TExpr, e: &TExpr) -> TokenStream {
        // Strings compare as `&str` (the checker allows them only comparisons); everything
        // else as values.
        let (x, y) = if a.ty == Type::Str {
            (self.str_ref(a), self.str_ref(b))
        } else {
            (self.value(a), self.value(b))
        };
        let float = a.ty == Type::F64;
        let loc = self.location(e);
        match op {
            BinOp::Or => quote!((#x || #y)),
            BinOp::And => quote!((#x && #y)),
            BinOp::Eq => quote!((#x == #y)),
            BinOp::Ne => quote!((#x != #y)),
            BinOp::Lt => quote!((#x < #y)),
            BinOp::Le => quote!((#x <= #y)),
            BinOp::Gt => quote!((#x > #y)),
            BinOp::Ge => quote!((#x >= #y)),
            BinOp::Add if float => quote!((#x + #y)),
            BinOp::Sub if float => quote!((#x - #y)),
            BinOp::Mul if float => quote!((#x * #y)),
            BinOp::Div if float => quote!((#x / #y)),
            BinOp::Rem if float => quote!((#x % #y)),
            BinOp::Add => quote!(#x.wrapping_add(#y)),
            BinOp::Sub => quote!(#x.wrapping_sub(#y)),
            BinOp::Mul => quote!(#x.wrapping_mul(#y)),
            BinOp::Div if a.ty == Type::U64 => quote!(weir_runtime::expr::div_u64(#x, #y, #loc)?),
            BinOp::Rem if a.ty == Type::U64 => quote!(weir_runtime::expr::rem_u64(#x, #y, #loc)?),
            BinOp::Div => quote!(weir_runtime::expr::div_i64(#x, #y, #loc)?),
            BinOp::Rem => quote!(weir_runtime::expr::rem_i64(#x, #y, #loc)?),
        }
    }

    fn cast(&self, a: &TExpr, to: &Type, e: &TExpr) -> TokenStream {
        if a.ty == *to {
            return self.value(a);
        }
        match (&a.ty, to) {
            (_, Type::Str) => {
                let v = self.value(a);
                if a.ty == Type::F64 {
                    quote!(weir_runtime::expr::f64_to_str(#v))
                } else {
                    quote!(weir_runtime::expr::display_to_str(#v))
                }
            }
            (Type::Str, Type::Timestamp) => {
                let s = self.str_ref(a);
                let loc = self.location(e);
                quote!(weir_runtime::expr::parse_timestamp(#s, #loc)?)
            }
            (Type::Str, _) => {
                let s = self.str_ref(a);
                let ty = super::records::rust_type(to);
                let name = to.to_string();
                let loc = self.location(e);
                quote!(weir_runtime::expr::parse_cast::<#ty>(#s, #name, #loc)?)
            }
            (_, t) => {
                let v = self.value(a);
                let ty = super::records::rust_type(t);
                quote!((#v as #ty))
            }
        }
    }

    fn call(&self, f: Func, args: &[TExpr], e: &TExpr) -> TokenStream {
        let loc = self.location(e);
        match f {
            Func::Lower | Func::Upper => {
                let name = super::names::ident(f.name());
                let s = self.str_ref(&args[0]);
                // A result borrowed from a temporary cannot outlive the statement; own it.
                let borrowable = lives_past_statement(&args[0]);
                if borrowable && self.scratch {
                    let into = super::names::ident(&format!("{}_in", f.name()));
                    let buffer = super::names::scratch(args[0].span.start);
                    quote!(weir_runtime::expr::#into(#s, &mut #buffer))
                } else if borrowable {
                    quote!(weir_runtime::expr::#name(#s))
                } else {
                    quote!(::std::borrow::Cow::<'static, str>::Owned(weir_runtime::expr::#name(#s).into_owned()))
                }
            }
            Func::Len => {
                let s = self.str_ref(&args[0]);
                quote!(weir_runtime::expr::len(#s))
            }
            Func::Contains => {
                let (s, p) = (self.str_ref(&args[0]), self.str_ref(&args[1]));
                quote!((#s).contains(#p))
            }
            Func::StartsWith => {
                let (s, p) = (self.str_ref(&args[0]), self.str_ref(&args[1]));
                quote!((#s).starts_with(#p))
            }
            Func::Concat => {
                let parts = args.iter().map(|a| self.str_ref(a));
                quote!(weir_runtime::expr::concat(&[#(#parts),*]))
            }
            Func::Sqrt => {
                let x = self.value(&args[0]);
                quote!(f64::sqrt(#x))
            }
            // The least i64 has no positive counterpart: it wraps, as `-x` does.
            Func::Abs if args[0].ty == Type::I64 => {
                let x = self.value(&args[0]);
                quote!(i64::wrapping_abs(#x))
            }
            Func::Abs => {
                let x = self.value(&args[0]);
                quote!(f64::abs(#x))
            }
            Func::Split | Func::SplitWhitespace => {
                unreachable!("lists only appear as flat_map's exploded field")
            }
            Func::EndsWith => {
                let (s, p) = (self.str_ref(&args[0]), self.str_ref(&args[1]));
                quote!((#s).ends_with(#p))
            }
            Func::Trim => {
                let s = self.str_ref(&args[0]);
                self.borrowing(&args[0], quote!(weir_runtime::expr::trim(#s)))
            }
            Func::Substring => {
                let (s, start) = (self.str_ref(&args[0]), self.value(&args[1]));
                let call = match args.get(2) {
                    Some(length) => {
                        let length = self.value(length);
                        quote!(weir_runtime::expr::substring(#s, #start, #length))
                    }
                    None => quote!(weir_runtime::expr::substring_from(#s, #start)),
                };
                self.borrowing(&args[0], call)
            }
            Func::Replace => {
                let s = self.str_ref(&args[0]);
                let (from, to) = (self.str_ref(&args[1]), self.str_ref(&args[2]));
                self.borrowing(
                    &args[0],
                    quote!(weir_runtime::expr::replace(#s, #from, #to)),
                )
            }
            Func::SplitPart => {
                let (s, sep, n) = (
                    self.str_ref(&args[0]),
                    self.str_ref(&args[1]),
                    self.value(&args[2]),
                );
                self.borrowing(
                    &args[0],
                    quote!(weir_runtime::expr::split_part(#s, #sep, #n)),
                )
            }
            Func::Regexp => {
                let (s, pattern) = (self.str_ref(&args[0]), compiled_pattern(&args[1], &loc));
                quote!(#pattern.is_match(#s))
            }
            Func::RegexpExtract => {
                let (s, pattern) = (self.str_ref(&args[0]), compiled_pattern(&args[1], &loc));
                let group = match args.get(2).map(|g| &g.kind) {
                    Some(TExprKind::Lit(Literal::I64(g))) => *g as usize,
                    _ => 1,
                };
                self.borrowing(&args[0], quote!(#pattern.extract(#s, #group)))
            }
            Func::Floor | Func::Ceil | Func::Ln | Func::Exp => {
                let name = super::names::ident(f.name());
                let x = self.value(&args[0]);
                quote!(f64::#name(#x))
            }
            Func::Pow => {
                let (x, y) = (self.value(&args[0]), self.value(&args[1]));
                quote!(f64::powf(#x, #y))
            }
            Func::Round => {
                let x = self.value(&args[0]);
                let digits = args.get(1).map_or(quote!(0i64), |d| self.value(d));
                quote!(weir_runtime::expr::round(#x, #digits))
            }
            Func::Greatest | Func::Least => self.extreme(f, args),
            Func::DateTrunc | Func::Extract => {
                let field = time_field(&args[0]);
                let ts = self.value(&args[1]);
                let name = super::names::ident(f.name());
                quote!(weir_runtime::expr::#name(weir_runtime::expr::TimeField::#field, #ts, #loc)?)
            }
            Func::FormatTime => {
                let ts = self.value(&args[0]);
                match args.get(1) {
                    Some(pattern) => {
                        let pattern = self.str_ref(pattern);
                        quote!(weir_runtime::expr::format_time(#ts, #pattern, #loc)?)
                    }
                    None => quote!(weir_runtime::expr::format_rfc3339(#ts, #loc)?),
                }
            }
            Func::ParseTime => {
                let (s, pattern) = (self.str_ref(&args[0]), self.str_ref(&args[1]));
                quote!(weir_runtime::expr::parse_time(#s, #pattern, #loc)?)
            }
        }
    }

    /// `call`, a string function's result that may borrow `arg`: kept borrowed when `arg`
    /// lives past the statement (a field, a literal), owned otherwise (a result borrowed
    /// from a temporary cannot outlive it).
    fn borrowing(&self, arg: &TExpr, call: TokenStream) -> TokenStream {
        if lives_past_statement(arg) {
            call
        } else {
            quote!(::std::borrow::Cow::<'static, str>::Owned((#call).into_owned()))
        }
    }

    /// `greatest`/`least` of one or more values of one type: floats pass over NaN (as
    /// `f64::max`); strings compare as `&str`.
    fn extreme(&self, f: Func, args: &[TExpr]) -> TokenStream {
        let pick = if f == Func::Greatest {
            quote!(::core::cmp::max)
        } else {
            quote!(::core::cmp::min)
        };
        match args[0].ty {
            Type::F64 => {
                let values = args.iter().map(|a| self.value(a));
                let name = super::names::ident(&format!("{}_f64", f.name()));
                quote!(weir_runtime::expr::#name(&[#(#values),*]))
            }
            Type::Str => {
                let refs: Vec<TokenStream> = args.iter().map(|a| self.str_ref(a)).collect();
                let (first, rest) = (&refs[0], &refs[1..]);
                let chosen = quote!({ let m: &str = #first; #(let m: &str = #pick(m, #rest);)* m });
                let borrowable = args.iter().all(lives_past_statement);
                if borrowable {
                    quote!(::std::borrow::Cow::Borrowed(#chosen))
                } else {
                    quote!(::std::borrow::Cow::<'static, str>::Owned(#chosen.to_owned()))
                }
            }
            _ => {
                let values: Vec<TokenStream> = args.iter().map(|a| self.value(a)).collect();
                let (first, rest) = (&values[0], &values[1..]);
                quote!({ let m = #first; #(let m = #pick(m, #rest);)* m })
            }
        }
    }
}

/// Whether a string expression's value lives past the statement (a field of the record,
/// a literal), so a result may borrow it; anything else is a temporary.
fn lives_past_statement(e: &TExpr) -> bool {
    matches!(e.kind, TExprKind::Field(..) | TExprKind::Lit(_))
}

/// The compiled pattern of a `regexp` call: a literal the checker compiled, compiled
/// again once per job into a cell of its own.
fn compiled_pattern(pattern: &TExpr, loc: &str) -> TokenStream {
    let TExprKind::Lit(Literal::Str(text)) = &pattern.kind else {
        unreachable!("the checker takes only a literal pattern")
    };
    quote!({
        static PATTERN: ::std::sync::OnceLock<weir_runtime::expr::Pattern> = ::std::sync::OnceLock::new();
        weir_runtime::expr::pattern(&PATTERN, #text, #loc)?
    })
}

/// The `TimeField` variant of a `date_trunc`/`extract` unit (a literal the checker read).
fn time_field(unit: &TExpr) -> Ident {
    let TExprKind::Lit(Literal::Str(text)) = &unit.kind else {
        unreachable!("the checker takes only a literal unit")
    };
    let field = weir_runtime::expr::TimeField::from_name(text)
        .expect("the checker takes only a unit it knows");
    super::names::ident(field.variant())
}

/// Where a process function's name lives in its generated handler: the state `st`'s
/// fields, locals, the key's fields (inside `on timer`) and the handler's clocks.
pub fn process_var(v: &Var) -> TokenStream {
    match v {
        Var::State(name) => {
            let f = state_field(name);
            quote!(st.#f)
        }
        Var::Local(name) => {
            let l = super::names::ident(&format!("l_{name}"));
            quote!(#l)
        }
        Var::KeyField(name) => {
            let k = super::names::ident(&format!("kf_{name}"));
            quote!(#k)
        }
        Var::EventTime => quote!(ts),
        Var::Watermark => quote!(p_watermark),
        Var::ProcessingTime => quote!(self.clock.now()),
        Var::TimerTime => quote!(p_timer_time),
        Var::TimerKind => quote!(p_timer_kind),
        Var::VertexValue(name) => {
            let v = super::names::ident(&format!("v_{name}"));
            quote!(#v)
        }
        Var::Message(name) => {
            let m = super::names::ident(&format!("m_{name}"));
            quote!(#m)
        }
        Var::EdgeField(name) => {
            let e = super::names::ident(&format!("e_{name}"));
            quote!(#e)
        }
        Var::VertexId => quote!(p_vertex),
        Var::VertexCount => quote!(p_vertices),
        Var::OutDegree => quote!(p_out_degree),
        Var::Round => quote!(p_round),
        Var::Position => quote!(p_position),
        Var::WindowStart => quote!(p_window_start),
        Var::WindowEnd => quote!(p_window_end),
    }
}

/// The field of a process function's state struct holding state `name`.
pub fn state_field(name: &str) -> Ident {
    super::names::ident(&format!("s_{name}"))
}

fn literal(l: &Literal) -> TokenStream {
    match l {
        Literal::I64(v) => quote!(#v),
        Literal::U64(v) => quote!(#v),
        Literal::F64(v) if v.is_infinite() => quote!(f64::INFINITY),
        Literal::F64(v) => quote!(#v),
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => quote!(::std::borrow::Cow::Borrowed(#s)),
    }
}
