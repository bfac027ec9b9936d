//! Durations, window phrases and interval join phrases in the inline form. Rust lexes `10s` as the integer `10`
//! with the suffix `s`, so a duration is an integer literal whose suffix is a unit.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, Lit, Token};

use crate::ir::{TimeDomain, WindowKind};
use crate::lower::{IntervalSpec, PendingWindow};
use crate::parse::duration::duration_ms;

/// The milliseconds of a duration literal, or an error at it.
pub(super) fn duration(lit: &Lit) -> syn::Result<i64> {
    let Lit::Int(int) = lit else {
        return Err(syn::Error::new(
            lit.span(),
            "expected a duration: a whole number with a unit, as in `500ms`, `10s`, `5m` or `1h`",
        ));
    };
    duration_ms(int.base10_digits(), int.suffix())
        .map(|ms| ms as i64)
        .map_err(|e| syn::Error::new(int.span(), e.to_string()))
}

fn parse_duration(input: ParseStream<'_>) -> syn::Result<i64> {
    duration(&input.parse::<Lit>()?)
}

fn word(input: ParseStream<'_>, expected: &str) -> syn::Result<()> {
    let w: Ident = input.parse()?;
    if w == expected {
        Ok(())
    } else {
        Err(syn::Error::new(w.span(), format!("expected `{expected}`")))
    }
}

/// `window(...)`'s arguments: the kind, then `allowed_lateness D`, `late -> name` and
/// `processing_time` in any order.
pub(super) fn window_phrases(
    args: TokenStream,
    span: proc_macro2::Span,
) -> syn::Result<PendingWindow<proc_macro2::Span>> {
    let parser = |input: ParseStream<'_>| {
        let kind_word: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a window: `tumbling 10s`, `sliding 10s every 5s`, `session gap 30s` or `count 100`")
        })?;
        let kind = match kind_word.to_string().as_str() {
            "tumbling" => {
                let size = parse_duration(input)?;
                let offset = offset(input)?;
                WindowKind::Tumbling { size, offset }
            }
            "sliding" => {
                let size = parse_duration(input)?;
                word(input, "every")?;
                let slide = parse_duration(input)?;
                let offset = offset(input)?;
                WindowKind::Sliding { size, slide, offset }
            }
            "session" => {
                word(input, "gap")?;
                WindowKind::Session { gap: parse_duration(input)? }
            }
            "count" => {
                let n: syn::LitInt = input.parse()?;
                WindowKind::Count { n: n.base10_parse()? }
            }
            other => {
                return Err(syn::Error::new(
                    kind_word.span(),
                    format!("unknown window `{other}`: windows are `tumbling`, `sliding`, `session` and `count`"),
                ))
            }
        };
        let mut w = PendingWindow {
            kind,
            time: TimeDomain::EventTime,
            lateness: 0,
            late: None,
            span,
            kind_span: kind_word.span(),
        };
        while input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let option: Ident = input.parse()?;
            match option.to_string().as_str() {
                "allowed_lateness" => w.lateness = parse_duration(input)?,
                "processing_time" => w.time = TimeDomain::ProcessingTime,
                "late" => {
                    input.parse::<Token![->]>()?;
                    let name: Ident = input.parse()?;
                    w.late = Some((name.to_string(), name.span()));
                }
                other => {
                    return Err(syn::Error::new(
                        option.span(),
                        format!("unknown window option `{other}`: options are `allowed_lateness D`, `late -> name` and `processing_time`"),
                    ))
                }
            }
        }
        Ok(w)
    };
    parser.parse2(args)
}

fn offset(input: ParseStream<'_>) -> syn::Result<i64> {
    if input.peek(Ident) && input.fork().parse::<Ident>()? == "offset" {
        input.parse::<Ident>()?;
        return signed_duration(input);
    }
    Ok(0)
}

/// A duration, possibly negative (`-5s`).
fn signed_duration(input: ParseStream<'_>) -> syn::Result<i64> {
    if input.peek(Token![-]) {
        input.parse::<Token![-]>()?;
        return Ok(-parse_duration(input)?);
    }
    parse_duration(input)
}

/// `interval_join(...)`'s arguments: the other stream, then `between L and U`, `left`,
/// `right` or `full`, `exclusive_lower`, `exclusive_upper`, `late_left -> name` and
/// `late_right -> name` in any order.
pub(super) fn interval_phrases(
    args: TokenStream,
    span: proc_macro2::Span,
) -> syn::Result<IntervalSpec<proc_macro2::Span>> {
    let parser = |input: ParseStream<'_>| {
        let other: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the stream to join: `interval_join(other, between 0s and 10s)`",
            )
        })?;
        let mut bounds = None;
        let (mut exclusive_lower, mut exclusive_upper) = (false, false);
        let (mut late_left, mut late_right) = (None, None);
        let mut kind = None;
        while input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let option: Ident = input.parse()?;
            match option.to_string().as_str() {
                "between" => {
                    let lower = signed_duration(input)?;
                    word(input, "and")?;
                    let upper = signed_duration(input)?;
                    bounds = Some((lower, upper, option.span()));
                }
                "exclusive_lower" => exclusive_lower = true,
                "exclusive_upper" => exclusive_upper = true,
                which @ ("inner" | "left" | "right" | "full") => {
                    if kind.is_some() {
                        return Err(syn::Error::new(
                            option.span(),
                            "the kind of join is given twice: write one of `left`, `right` or `full`",
                        ));
                    }
                    kind = Some((which.to_string(), option.span()))
                }
                which @ ("late_left" | "late_right") => {
                    input.parse::<Token![->]>()?;
                    let name: Ident = input.parse()?;
                    let late = Some((name.to_string(), name.span()));
                    if which == "late_left" {
                        late_left = late;
                    } else {
                        late_right = late;
                    }
                }
                other => {
                    return Err(syn::Error::new(
                        option.span(),
                        format!("unknown interval join option `{other}`: options are `between L and U`, `left`, `right` or `full` (an outer join), `exclusive_lower`, `exclusive_upper`, `late_left -> name` and `late_right -> name`"),
                    ))
                }
            }
        }
        let Some((lower, upper, bounds_span)) = bounds else {
            return Err(syn::Error::new(
                span,
                "`interval_join` needs its bounds: `interval_join(other, between -5s and 10s)`",
            ));
        };
        Ok(IntervalSpec {
            other: (other.to_string(), other.span()),
            lower: lower + i64::from(exclusive_lower),
            upper: upper - i64::from(exclusive_upper),
            bounds_span,
            late_left,
            late_right,
            kind,
        })
    };
    parser.parse2(args)
}
