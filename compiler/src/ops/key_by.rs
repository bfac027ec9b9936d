//! `key_by`: partitions a stream by a key for the keyed operator after it.
//!
//! `.pipe`: `key_by(auction)` or `key_by(auction, bidder)`; `stream!`:
//! `key_by(|b: &Bid| b.auction)`. It makes no node: the edge into the next operator becomes
//! a hash exchange on the key, and that operator keeps its state per key.

use super::api::{Lower, OpInfo};
use crate::lower::{Applied, FrontEnd, Lowering, Stream};

/// See the module documentation.
pub(crate) struct KeyBy;

impl Lower for KeyBy {
    const INFO: OpInfo = OpInfo {
        takes_updates: true,
        ..OpInfo::new(
            "key_by",
            Some("key_by(field, ...)"),
            &["key_by(|r| key)"],
        )
    };

    fn lower<F: FrontEnd>(
        l: &mut Lowering<F>,
        input: Stream<F::Span>,
        step: &F::Step,
    ) -> Applied<F::Span> {
        let schema = l.schema_of(&input);
        match l.fe.key(&Self::INFO, step, &schema) {
            Some(key) => Applied::Stream(Stream {
                key: Some(key),
                name: None,
                ..input
            }),
            None => Applied::Broken,
        }
    }
}
