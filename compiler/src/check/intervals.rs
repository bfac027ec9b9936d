//! How `.pipe` writes an interval join: `interval_join(paid, between -5s and 10s,
//! exclusive_lower, late_left -> late_orders)`, as phrases. The rules are the operator's
//! (`crate::ops::interval_join`).

use super::PipeFront;
use crate::diagnostics::Diagnostic;
use crate::lower::IntervalSpec;
use crate::parse::ast::{OpSyntax, Phrase, PhraseItem, Span};

const OPTIONS_HELP: &str = "interval join options are `between <duration> and <duration>`, `left`, `right` or `full` (an outer join), `exclusive_lower`, `exclusive_upper`, `late_left -> stream_name` and `late_right -> stream_name`";

impl PipeFront<'_> {
    /// The interval join of `interval_join(phrases)` written as `op`.
    pub(super) fn interval_phrases(
        &mut self,
        op: &OpSyntax,
        phrases: &[Phrase],
    ) -> Option<IntervalSpec<Span>> {
        let (first, rest) = phrases.split_first()?;
        let other = match first.items.as_slice() {
            [PhraseItem::Word(w)] => (w.name.clone(), w.span.clone()),
            _ => {
                return self.report(
                    Diagnostic::error(
                        "`interval_join` starts with the stream to join",
                        first.span.clone(),
                        "not a stream name",
                    )
                    .with_help("write `interval_join(other, between 0s and 10s)`"),
                )
            }
        };
        let mut bounds: Option<(i64, i64, Span)> = None;
        let (mut exclusive_lower, mut exclusive_upper) = (false, false);
        let (mut late_left, mut late_right) = (None, None);
        let mut kind = None;
        let mut ok = true;
        for ph in rest {
            use PhraseItem::{Arrow, Word as W};
            match ph.items.as_slice() {
                [W(b), lo, W(a), hi] if b.name == "between" && a.name == "and" => {
                    match (signed_ms(lo), signed_ms(hi)) {
                        (Some(lo), Some(hi)) => bounds = Some((lo, hi, ph.span.clone())),
                        _ => ok = self.interval_option_error(ph),
                    }
                }
                [W(w)] if w.name == "exclusive_lower" => exclusive_lower = true,
                [W(w)] if w.name == "exclusive_upper" => exclusive_upper = true,
                [W(w)] if matches!(w.name.as_str(), "inner" | "left" | "right" | "full") => {
                    if kind.is_some() {
                        self.diagnostics.push(
                            Diagnostic::error("the kind of join is given twice", w.span.clone(), "a second kind")
                                .with_help("write one of `left`, `right` or `full`; `full` emits both sides' unmatched records"),
                        );
                        ok = false;
                    }
                    kind = Some((w.name.clone(), w.span.clone()))
                }
                [W(w), Arrow(_), W(name)] if w.name == "late_left" => {
                    late_left = Some((name.name.clone(), name.span.clone()))
                }
                [W(w), Arrow(_), W(name)] if w.name == "late_right" => {
                    late_right = Some((name.name.clone(), name.span.clone()))
                }
                _ => ok = self.interval_option_error(ph),
            }
        }
        let Some((lower, upper, bounds_span)) = bounds else {
            if ok {
                self.diagnostics.push(
                    Diagnostic::error(
                        "`interval_join` needs its bounds",
                        op.span.clone(),
                        "no `between ... and ...`",
                    )
                    .with_help("write `interval_join(other, between -5s and 10s)`: a partner's time minus this record's"),
                );
            }
            return None;
        };
        ok.then_some(IntervalSpec {
            other,
            lower: lower + i64::from(exclusive_lower),
            upper: upper - i64::from(exclusive_upper),
            bounds_span,
            late_left,
            late_right,
            kind,
        })
    }

    fn interval_option_error(&mut self, ph: &Phrase) -> bool {
        self.diagnostics.push(
            Diagnostic::error(
                "unknown interval join option",
                ph.span.clone(),
                "not an option",
            )
            .with_help(OPTIONS_HELP),
        );
        false
    }
}

/// A bound's milliseconds: a duration, possibly negative.
fn signed_ms(item: &PhraseItem) -> Option<i64> {
    match item {
        PhraseItem::Duration(ms, _) => Some(*ms as i64),
        PhraseItem::NegDuration(ms, _) => Some(-(*ms as i64)),
        _ => None,
    }
}
