//! A keyed aggregation inline: the twin of `dsl-examples/bid_stats.pipe`.
//!
//!   cargo run --example bid_stats_inline

/// A bid, as in `dsl-examples/data/bids.csv`.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Bid {
    pub auction: u64,
    pub bidder: u64,
    pub price: u64,
    pub channel: String,
    pub ts: i64,
}

/// Auction, bids, total, lowest, highest, mean.
pub type AuctionStats = (u64, u64, u64, u64, u64, f64);

/// Per auction: bids, total, lowest, highest and mean price.
pub fn pipeline() -> Result<Vec<AuctionStats>, weir::JobError> {
    weir::stream! {
        source csv::<Bid>("dsl-examples/data/bids.csv")
        |> key_by(|b: &Bid| b.auction)
        |> aggregate(
            count(),
            sum(|b: &Bid| b.price),
            min(|b: &Bid| b.price),
            max(|b: &Bid| b.price),
            avg(|b: &Bid| b.price),
        )
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (auction, bids, total, lowest, highest, mean) in pipeline()? {
        println!("{auction},{bids},{total},{lowest},{highest},{mean}");
    }
    Ok(())
}
