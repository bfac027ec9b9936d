//! Tumbling event-time windows inline: the twin of `dsl-examples/bids_per_10s.pipe`.
//!
//!   cargo run --example bids_per_10s_inline

/// A bid with its event time.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Bid {
    pub auction: u64,
    pub bidder: u64,
    pub price: u64,
    pub ts: i64,
}

/// Auction, window start, window end, bids, volume, top, mean.
pub type WindowStats = (u64, i64, i64, u64, u64, u64, f64);

/// Per auction and 10-second window: bids, volume, top and mean price.
pub fn pipeline() -> Result<Vec<WindowStats>, weir::JobError> {
    weir::stream! {
        source csv::<Bid>("dsl-examples/data/bids_timed.csv")
            with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
        |> key_by(|b: &Bid| b.auction)
        |> window(tumbling 10s)
        |> aggregate(
            count(),
            sum(|b: &Bid| b.price),
            max(|b: &Bid| b.price),
            avg(|b: &Bid| b.price),
        )
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for row in pipeline()? {
        println!("{row:?}");
    }
    Ok(())
}
