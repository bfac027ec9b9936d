//! `window(sliding S every P [offset O])`: windows of `S` starting every `P`; a record joins
//! each one that contains it, from the latest start back.

use proc_macro2::TokenStream;
use quote::quote;

use super::Landing;

/// The code that opens each of the record's windows and lands it there. The key is encoded
/// again per window because landing may emit (which needs the job mutably).
pub(super) fn assign(landing: &Landing, size: i64, slide: i64, offset: i64) -> TokenStream {
    let open = landing.open_fixed();
    quote! {
        const SIZE: i64 = #size;
        let mut start = ts.wrapping_sub(ts.wrapping_sub(#offset).rem_euclid(#slide));
        while start > ts.saturating_sub(SIZE) {
            #open
            start = start.saturating_sub(#slide);
        }
    }
}
