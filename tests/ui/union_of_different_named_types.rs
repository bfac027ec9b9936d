// Where both record types are written, weir itself names the two streams and their types.
#[derive(Debug, Clone, weir::Record)]
struct Bid {
    auction: u64,
}

#[derive(Debug, Clone, weir::Record)]
struct Ask {
    auction: u64,
}

fn main() {
    let _job = weir::stream! {
        let bids = source csv::<Bid>("bids.csv");
        let asks = source csv::<Ask>("asks.csv");
        bids |> union(asks) |> collect()
    };
}
