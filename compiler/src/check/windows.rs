//! How `.pipe` writes a window: `window(tumbling 10s, allowed_lateness 5s, late -> name,
//! processing_time)`, as phrases. The rules for windows are the window operator's
//! (`crate::ops::window`).

use super::PipeFront;
use crate::diagnostics::Diagnostic;
use crate::ir::{TimeDomain, WindowKind};
use crate::lower::PendingWindow;
use crate::parse::ast::{OpSyntax, Phrase, PhraseItem, Span};

impl PipeFront<'_> {
    /// The window of `window(phrases)` written as `op`.
    pub(super) fn window_phrases(
        &mut self,
        op: &OpSyntax,
        phrases: &[Phrase],
    ) -> Option<PendingWindow<Span>> {
        let (first, rest) = phrases.split_first()?;
        let kind = self.window_kind(first)?;
        let mut pending = PendingWindow {
            kind,
            time: TimeDomain::EventTime,
            lateness: 0,
            late: None,
            span: op.span.clone(),
            kind_span: first.span.clone(),
        };
        let mut ok = true;
        // Each option once: a second one would silently win over the first.
        let mut given: Vec<(&str, Span)> = Vec::new();
        for ph in rest {
            let option = match ph.items.first() {
                Some(PhraseItem::Word(w)) => w.name.as_str(),
                _ => "",
            };
            if let Some((_, first)) = given.iter().find(|(o, _)| !o.is_empty() && *o == option) {
                self.diagnostics.push(
                    Diagnostic::error(
                        format!("`{option}` is given twice in this window"),
                        ph.span.clone(),
                        "given again",
                    )
                    .with_related(first.clone(), "first given here")
                    .with_help("keep one of them"),
                );
                ok = false;
                continue;
            }
            given.push((option, ph.span.clone()));
            match ph.items.as_slice() {
                [PhraseItem::Word(w), PhraseItem::Duration(ms, _)]
                    if w.name == "allowed_lateness" =>
                {
                    pending.lateness = *ms as i64;
                }
                [PhraseItem::Word(w), PhraseItem::Arrow(_), PhraseItem::Word(name)]
                    if w.name == "late" =>
                {
                    pending.late = Some((name.name.clone(), name.span.clone()));
                }
                [PhraseItem::Word(w)] if w.name == "processing_time" => {
                    pending.time = TimeDomain::ProcessingTime
                }
                _ => {
                    self.diagnostics.push(Diagnostic::error(
                        "unknown window option",
                        ph.span.clone(),
                        "not an option",
                    ).with_help("window options are `allowed_lateness <duration>`, `late -> stream_name` and `processing_time`"));
                    ok = false;
                }
            }
        }
        ok.then_some(pending)
    }

    fn window_kind(&mut self, ph: &Phrase) -> Option<WindowKind> {
        use PhraseItem::{Duration as D, Int, Word as W};
        let word = |w: &crate::parse::ast::Ident, s: &str| w.name == s;
        let signed = |item: &PhraseItem| match item {
            D(ms, _) => Some(*ms as i64),
            PhraseItem::NegDuration(ms, _) => Some(-(*ms as i64)),
            _ => None,
        };
        let kind = match ph.items.as_slice() {
            [W(t), D(size, _)] if word(t, "tumbling") => WindowKind::Tumbling {
                size: *size as i64,
                offset: 0,
            },
            [W(t), D(size, _), W(o), off]
                if word(t, "tumbling") && word(o, "offset") && signed(off).is_some() =>
            {
                WindowKind::Tumbling {
                    size: *size as i64,
                    offset: signed(off).unwrap_or_default(),
                }
            }
            [W(t), D(size, _), W(e), D(slide, _)] if word(t, "sliding") && word(e, "every") => {
                WindowKind::Sliding {
                    size: *size as i64,
                    slide: *slide as i64,
                    offset: 0,
                }
            }
            [W(t), D(size, _), W(e), D(slide, _), W(o), off]
                if word(t, "sliding")
                    && word(e, "every")
                    && word(o, "offset")
                    && signed(off).is_some() =>
            {
                WindowKind::Sliding {
                    size: *size as i64,
                    slide: *slide as i64,
                    offset: signed(off).unwrap_or_default(),
                }
            }
            [W(t), W(g), D(gap, _)] if word(t, "session") && word(g, "gap") => {
                WindowKind::Session { gap: *gap as i64 }
            }
            [W(t), Int(n, _)] if word(t, "count") => WindowKind::Count { n: *n },
            items => {
                let unitless = items.iter().find_map(|i| match i {
                    Int(_, s) => Some(s.clone()),
                    _ => None,
                });
                let d = match unitless {
                    Some(s) if !matches!(items.first(), Some(W(w)) if w.name == "count") => Diagnostic::error(
                        "a window length needs a unit",
                        s,
                        "a number without a unit",
                    )
                    .with_help("write a duration such as 500ms, 10s, 5m or 1h"),
                    _ => Diagnostic::error("unknown window", ph.span.clone(), "not a window")
                        .with_help("the windows are `tumbling 10s [offset 2s]`, `sliding 10s every 5s [offset 1s]`, `session gap 30s` and `count 100`; an offset may be negative, shorter than the window's step"),
                };
                self.diagnostics.push(d);
                return None;
            }
        };
        Some(kind)
    }
}
