//! Filter and map inline: the twin of `dsl-examples/expensive_bids.pipe`.
//!
//!   cargo run --example expensive_bids_inline

/// A bid, as in `dsl-examples/data/bids.csv`.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Bid {
    pub auction: u64,
    pub bidder: u64,
    pub price: u64,
    pub channel: String,
    pub ts: i64,
}

/// What the pipeline writes per expensive bid.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct ExpensiveBid {
    pub auction: u64,
    pub price: u64,
    pub fee: u64,
    pub tier: String,
    pub channel: String,
    pub price_eur: f64,
}

/// Bids over 100 outside test channels, with a fee, a tier and the price in euros.
pub fn pipeline() -> Result<Vec<ExpensiveBid>, weir::JobError> {
    weir::stream! {
        source csv::<Bid>("dsl-examples/data/bids.csv")
        |> filter(|b: &Bid| b.price > 100 && !b.channel.starts_with("test"))
        |> map(|b: Bid| ExpensiveBid {
            auction: b.auction,
            price: b.price,
            fee: b.price * 5 / 100,
            tier: if b.price >= 500 { "premium" } else { "standard" }.to_string(),
            channel: b.channel.to_uppercase(),
            price_eur: b.price as f64 * 0.92,
        })
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for b in pipeline()? {
        println!("{b:?}");
    }
    Ok(())
}
