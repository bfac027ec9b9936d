//! `window(sliding S every P [offset O])`: windows of `S` starting every `P`; a record joins
//! each one that contains it, from the earliest start on, so a late record that re-fires
//! several windows emits them in order of `window_end`.

use proc_macro2::TokenStream;
use quote::quote;

use super::Landing;

/// The code that opens each of the record's windows and lands it there. The key is encoded
/// again per window because landing may emit (which needs the job mutably).
pub(super) fn assign(landing: &Landing, size: i64, slide: i64, offset: i64) -> TokenStream {
    let open = landing.open_fixed();
    quote! {
        // Event times and durations are bounded (`weir_runtime::time`), so none of this
        // overflows.
        const SIZE: i64 = #size;
        let latest = ts - (ts - #offset).rem_euclid(#slide);
        let mut start = latest - ((latest - (ts - SIZE) - 1) / #slide) * #slide;
        while start <= latest {
            #open
            start += #slide;
        }
    }
}
