//! `window(tumbling S [offset O])`: back-to-back windows; a record at `t` joins
//! `[t - (t - O) mod S, ... + S)`.

use proc_macro2::TokenStream;
use quote::quote;

use super::Landing;

/// The code that opens the record's window and lands it there.
pub(super) fn assign(landing: &Landing, size: i64, offset: i64) -> TokenStream {
    let open = landing.open_fixed();
    quote! {
        const SIZE: i64 = #size;
        let start = ts - (ts - #offset).rem_euclid(SIZE);
        #open
    }
}
