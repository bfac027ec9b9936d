//! How `.pipe` writes an iteration's head: `iterate(graph src -> dst undirected, rounds
//! 200)`, as phrases. The rules about fields and types are the shared checker's
//! (`crate::lower::iterate_types`).

use super::PipeFront;
use crate::diagnostics::Diagnostic;
use crate::ir::iterate::{GraphHead, IterateHead};
use crate::parse::ast::{Phrase, PhraseItem};

const HEAD_HELP: &str = "an iteration takes `graph src -> dst` (the records are edges; add `undirected` for edges both ways) and `rounds N` (at most N rounds)";

impl PipeFront<'_> {
    /// The head of `iterate(phrases)`.
    pub(super) fn iterate_head(&mut self, phrases: &[Phrase]) -> Option<IterateHead> {
        let mut head = IterateHead {
            graph: None,
            rounds: None,
        };
        let mut ok = true;
        for ph in phrases {
            use PhraseItem::{Arrow, Int, Word as W};
            let again = match ph.items.as_slice() {
                [W(g), W(src), Arrow(_), W(dst), rest @ ..]
                    if g.name == "graph"
                        && matches!(rest, [] | [W(_)])
                        && rest
                            .iter()
                            .all(|u| matches!(u, W(u) if u.name == "undirected")) =>
                {
                    head.graph
                        .replace(GraphHead {
                            src: src.clone(),
                            dst: dst.clone(),
                            undirected: !rest.is_empty(),
                        })
                        .is_some()
                }
                [W(r), Int(n, span)] if r.name == "rounds" => {
                    head.rounds.replace((*n, span.clone())).is_some()
                }
                _ => {
                    ok = false;
                    self.diagnostics.push(
                        Diagnostic::error(
                            "not an iteration option",
                            ph.span.clone(),
                            "not understood",
                        )
                        .with_help(HEAD_HELP),
                    );
                    false
                }
            };
            if again {
                ok = false;
                self.diagnostics.push(Diagnostic::error(
                    "this option is given twice",
                    ph.span.clone(),
                    "a second time",
                ));
            }
        }
        ok.then_some(head)
    }
}
