//! Landing a record in its windows: the key encoded, each window the record falls in
//! opened (or found) and its accumulators updated, text values offered first; a late
//! record counted or sent to the side output; in the reading worker's combiner instead
//! when windows are folded before they cross.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{count, session, sliding, tumbling, Names, Window};
use crate::codegen::accumulators::{accumulators, text_slots};
use crate::codegen::context::Gen;
use crate::codegen::keys::encode_key;
use crate::ir::{TimeDomain, WindowKind};

/// What every time-window kind needs to land a record: the state field, the key's encoding,
/// the set-up of a new window's accumulators, and what follows once the record has a window
/// (`slot`).
pub(super) struct Landing {
    pub(super) state: Ident,
    pub(super) encode: TokenStream,
    pub(super) init: TokenStream,
    pub(super) landed: TokenStream,
    /// Landing in the reading worker's combiner (`c`, with the exchange `x`) instead of the
    /// state: see `combiner.rs`.
    pub(super) combined: bool,
    /// The record's values for the text slots (`AccumulatorCode::text`): the state offers
    /// them before the accumulators are updated.
    pub(super) text: Vec<TokenStream>,
}

impl Landing {
    /// The code that lands the record in each of its fixed windows (tumbling or sliding);
    /// `None` for sessions and counts.
    pub(super) fn assign_fixed(&self, window: &WindowKind) -> Option<TokenStream> {
        match *window {
            WindowKind::Tumbling { size, offset } => Some(tumbling::assign(self, size, offset)),
            WindowKind::Sliding {
                size,
                slide,
                offset,
            } => Some(sliding::assign(self, size, slide, offset)),
            WindowKind::Session { .. } | WindowKind::Count { .. } => None,
        }
    }

    /// What lands the record once the state has offered its text values to `slot`:
    /// when the state had to move the window to disk for room, the window is opened again
    /// (a new part of it in memory) and offered them again.
    pub(super) fn offer_text(&self) -> TokenStream {
        let Landing {
            state,
            landed,
            text,
            ..
        } = self;
        quote! {
            let text: &[&[u8]] = &[#(#text),*];
            if self.#state.update_text(slot, text, ts)? == weir_runtime::state::TextOutcome::Moved {
                continue;
            }
            let acc = self.#state.acc_mut(slot);
            #landed
        }
    }

    /// Opens the fixed window `[start, start + SIZE)` of the key and lands the record there.
    pub(super) fn open_fixed(&self) -> TokenStream {
        let Landing {
            state,
            encode,
            init,
            landed,
            combined,
            text,
        } = self;
        if !text.is_empty() {
            let offer = self.offer_text();
            return quote! {
                #encode
                loop {
                    if let ::core::option::Option::Some((slot, _)) = self.#state.open(key, start, start.saturating_add(SIZE), wm, |acc| { #init })? {
                        #offer
                    }
                    break;
                }
            };
        }
        if *combined {
            return quote! {
                if let ::core::option::Option::Some(acc) = c.fold(key, start, start.saturating_add(SIZE), wm, |acc| { #init })? {
                    on_time = true;
                    #landed
                }
            };
        }
        quote! {
            #encode
            if let ::core::option::Option::Some((slot, acc)) = self.#state.open(key, start, start.saturating_add(SIZE), wm, |acc| { #init })? {
                #landed
            }
        }
    }
}

/// Code that adds the record in `input` to its windows.
pub(super) fn push(w: &Window, g: &Gen<'_>, n: NodeIndex, input: &Ident) -> TokenStream {
    let Names {
        state: s,
        watermark,
        late,
        fire,
        refire,
        ..
    } = Names::of(n);
    if let WindowKind::Count { n: count } = w.window {
        return count::push(g, n, w, count, input);
    }
    let code = accumulators(g, &w.aggregates, input, 0);
    let (args, init, update, merge) = (&code.args, &code.init, &code.update, &code.merge);
    let clock = match w.time {
        TimeDomain::EventTime => quote!(let wm = self.#watermark;),
        // A processing-time record belongs to the windows of its arrival; the clock is the
        // watermark, and windows it has passed fire first. (A replayed clock has reached
        // the record's event time.)
        TimeDomain::ProcessingTime => quote! {
            self.clock.follow(ts);
            let ts = self.clock.now();
            let wm = ts.saturating_sub(1);
            self.#fire(wm)?;
        },
    };
    let encode = encode_key(g, n, &w.key, input);
    // `acc` is the landed entry's accumulators: fixed windows hand them over with the
    // slot, sessions look them up (`session.rs`).
    let landed = quote! {
        on_time = true;
        #update
        if let weir_runtime::state::WindowOutcome::Refire(slot) = self.#s.after_update(slot, wm) {
            self.#refire(slot)?;
        }
    };
    let mut init = init.clone();
    // Sessions mark their new blocks' text slots empty themselves.
    if !code.text.is_empty() && !matches!(w.window, WindowKind::Session { .. }) {
        let slots = text_slots(&w.aggregates, 0);
        init.extend(quote!(weir_runtime::state::TextAccumulators::empty(#slots, acc);));
    }
    let landing = Landing {
        state: s,
        encode,
        init,
        landed,
        combined: false,
        text: code.text.clone(),
    };
    let assign = landing
        .assign_fixed(&w.window)
        .unwrap_or_else(|| match w.window {
            WindowKind::Session { gap } => session::assign(&landing, merge, gap),
            _ => unreachable!("count windows are handled above"),
        });
    let on_late = if g.plan.outputs(n, 1).is_empty() {
        quote!(self.#late += 1;)
    } else {
        g.emit(n, 1, input)
    };
    quote! {
        #clock
        #args
        let mut on_time = false;
        #assign
        if !on_time {
            #on_late
        }
    }
}
