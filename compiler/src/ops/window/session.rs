//! `window(session gap G)`: a record at `t` opens `[t, t + G)`, which merges with every
//! session of its key that it touches; merging folds the sessions' accumulators together.

use proc_macro2::TokenStream;
use quote::quote;

use super::Landing;

/// The code that finds or merges the record's session and lands it there. With text
/// values (the record's, for the text slots), the state offers them first; when it had to
/// move every session to disk for room, the session is opened again (which brings it back).
pub(super) fn assign(landing: &Landing, merge: &TokenStream, gap: i64) -> TokenStream {
    let Landing {
        state,
        encode,
        init,
        landed,
        // Sessions are never combined: a record may merge sessions across workers.
        combined: _,
        text,
    } = landing;
    let open = quote! {
        self.#state.open_session(key, ts, #gap, wm, |acc| { #init }, |into, from| {
            #merge
            ::core::result::Result::Ok(())
        })?
    };
    if text.is_empty() {
        return quote! {
            #encode
            let opened = #open;
            if let ::core::option::Option::Some(slot) = opened {
                let acc = self.#state.acc_mut(slot);
                #landed
            }
        };
    }
    let offer = landing.offer_text();
    quote! {
        #encode
        loop {
            let opened = #open;
            if let ::core::option::Option::Some(slot) = opened {
                #offer
            }
            break;
        }
    }
}
