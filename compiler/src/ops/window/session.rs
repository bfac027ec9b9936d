//! `window(session gap G)`: a record at `t` opens `[t, t + G)`, which merges with every
//! session of its key that it touches; merging folds the sessions' accumulators together.

use proc_macro2::TokenStream;
use quote::quote;

use super::Landing;

/// The code that finds or merges the record's session and lands it there.
pub(super) fn assign(landing: &Landing, merge: &TokenStream, gap: i64) -> TokenStream {
    let Landing {
        state,
        encode,
        init,
        landed,
        // Sessions are never combined: a record may merge sessions across workers.
        combined: _,
    } = landing;
    quote! {
        #encode
        let opened = self.#state.open_session(key, ts, #gap, wm, |acc| { #init }, |into, from| {
            #merge
            ::core::result::Result::Ok(())
        })?;
        if let ::core::option::Option::Some(slot) = opened {
            let acc = self.#state.acc_mut(slot);
            #landed
        }
    }
}
